/* The offline basemap imported with `gis-app basemap import` (raster tiles served by the app)
   under every Leaflet map of the page: the maps are folium's (global L.Map objects made by
   the page's inline script); the layer goes beneath the street outlines. Vector tiles are
   served and taken along but not drawn here (Leaflet has no vector-tile renderer). */
(function () {
  "use strict";
  var me = document.currentScript;
  var template = me && me.getAttribute("data-tiles");
  if (!template || !window.L) return;
  var minZoom = parseInt(me.getAttribute("data-minzoom") || "0", 10);
  var maxNative = parseInt(me.getAttribute("data-maxzoom") || "18", 10);
  Object.keys(window).forEach(function (name) {
    var map;
    try { map = window[name]; } catch (e) { return; }
    if (!(map instanceof L.Map) || map.__gisBasemap) return;
    map.__gisBasemap = true;
    L.tileLayer(template, {
      minZoom: minZoom, maxNativeZoom: maxNative, maxZoom: 20,
      attribution: "离线底图", className: "gis-basemap", zIndex: 0,
    }).addTo(map).bringToBack();
  });
})();
