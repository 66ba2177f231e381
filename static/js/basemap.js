/* The offline basemap imported with `gis-app basemap import` under every Leaflet map of the
   page: the maps are folium's (global L.Map objects made by the page's inline script) or
   published as a global by the page's own script (the site form); the layer goes beneath
   the street outlines.

   Raster tiles are an L.tileLayer. Vector tiles (Mapbox Vector Tiles, any schema) are drawn
   here on one canvas per tile (L.GridLayer): decoded by mvt.js, styled by the name of their
   layer (water, green, buildings, roads, boundaries, place names; common names of the
   OpenMapTiles, Protomaps, Mapbox and surveying-bureau schemas), and by geometry type for
   any other layer name, so that an unknown schema still shows. Beyond the tile set's highest
   zoom the tile of that zoom is drawn enlarged (sharp, not a stretched picture). A tile kept
   gzip-compressed is unpacked in the browser. */
(function () {
  "use strict";
  var me = document.currentScript;
  var template = me && me.getAttribute("data-tiles");
  if (!template || !window.L) return;
  var kind = me.getAttribute("data-kind") || "raster";
  var minNative = parseInt(me.getAttribute("data-minzoom") || "0", 10);
  var maxNative = parseInt(me.getAttribute("data-maxzoom") || "18", 10);
  var box = (me.getAttribute("data-bounds") || "").split(",").map(Number);
  var bounds = box.length === 4 && box.every(isFinite)
    ? L.latLngBounds([box[1], box[0]], [box[3], box[2]]) : null;

  /* ---- the default style: by layer name, else by geometry type ---- */
  var STYLES = [
    { name: "water", test: /water|ocean|sea|lake|river|canal|wetland|水/i, z: 2,
      fill: "#a9cfe8", line: "#7fb0d6", width: 1.5 },
    { name: "green", test: /landuse|landcover|land_cover|park|green|wood|forest|grass|vegetation|farm|绿|植被|用地/i,
      z: 1, fill: "#d5e8c4", line: null, width: 0 },
    { name: "building", test: /building|house|建筑|房屋/i, z: 3,
      fill: "#d9cbbb", line: "#bba893", width: 0.8 },
    { name: "road", test: /road|transport|highway|street|path|bridge|tunnel|rail|道路|交通/i, z: 4,
      fill: "#f6cf8e", line: "#e9a23b", width: 2.5 },
    { name: "boundary", test: /boundary|boundaries|admin|border|境界|行政/i, z: 5,
      fill: null, line: "#9277ad", width: 1.2, dash: [5, 3] },
    { name: "label", test: /place|poi|label|name|注记|地名/i, z: 6,
      fill: null, line: null, width: 0, text: "#3d3d3d" },
  ];
  var OTHER = { name: "other", z: 0.5, fill: "#e4e0d8", line: "#8f8f8f", width: 1, point: "#6f6f6f" };
  var MAJOR = /motorway|trunk|primary|highway|expressway|高速|主干|国道|省道/i;

  function styleOf(layerName) {
    for (var i = 0; i < STYLES.length; i++) if (STYLES[i].test.test(layerName)) return STYLES[i];
    return OTHER;
  }
  function labelOf(props) {
    return props["name:zh"] || props.name_zh || props["name:zh-Hans"] || props.name || props.NAME || props["名称"] || "";
  }

  /* ---- tiles: fetched once each (siblings beyond the highest zoom share their parent) ---- */
  var decoded = {}, order = [];
  function tileData(z, x, y) {
    var key = z + "/" + x + "/" + y;
    if (decoded[key]) return decoded[key];
    var url = L.Util.template(template, { z: z, x: x, y: y });
    decoded[key] = fetch(url, { credentials: "same-origin" }).then(function (res) {
      if (res.status === 204) return [];
      if (!res.ok) throw new Error("底图瓦片读取失败 " + res.status);
      return res.arrayBuffer().then(GisMvt.inflate).then(GisMvt.decode);
    });
    decoded[key].catch(function () { delete decoded[key]; });
    order.push(key);
    if (order.length > 96) delete decoded[order.shift()];
    return decoded[key];
  }

  function trace(ctx, ring, k, ox, oy, close) {
    ctx.moveTo(ring[0] * k - ox, ring[1] * k - oy);
    for (var i = 2; i < ring.length; i += 2) ctx.lineTo(ring[i] * k - ox, ring[i + 1] * k - oy);
    if (close) ctx.closePath();
  }

  /* draws the layers of a tile (z order of their style, then their order in the tile);
     `scale` and (ox, oy): the part of the parent tile this tile shows, in pixels */
  function draw(ctx, layers, size, scale, ox, oy, zoom) {
    var items = layers.map(function (layer, i) { return { layer: layer, style: styleOf(layer.name), i: i }; });
    items.sort(function (a, b) { return a.style.z - b.style.z || a.i - b.i; });
    var grow = zoom >= 16 ? 1.6 : zoom >= 14 ? 1.2 : 1, drawn = 0;
    items.forEach(function (item) {
      var s = item.style, k = size * scale / item.layer.extent;
      item.layer.features.forEach(function (f) {
        if (!f.rings.length) return;
        drawn += 1;
        if (f.type === 3) {
          ctx.beginPath();
          f.rings.forEach(function (ring) { trace(ctx, ring, k, ox, oy, true); });
          ctx.fillStyle = s.fill || OTHER.fill;
          ctx.fill("evenodd");
          if (s.line && s.width) { ctx.lineWidth = s.width; ctx.strokeStyle = s.line; ctx.stroke(); }
        } else if (f.type === 2) {
          ctx.beginPath();
          f.rings.forEach(function (ring) { trace(ctx, ring, k, ox, oy, false); });
          var major = MAJOR.test(String(f.props["class"] || f.props.kind || f.props.highway || f.props.type || ""));
          ctx.lineWidth = Math.max(1, (s.width || 1) * grow * (s.name === "road" && major ? 1.6 : 1));
          ctx.strokeStyle = s.line || s.text || OTHER.line;
          ctx.setLineDash(s.dash || []);
          ctx.lineCap = "round";
          ctx.lineJoin = "round";
          ctx.stroke();
          ctx.setLineDash([]);
        } else if (f.type === 1) {
          var text = s.text ? labelOf(f.props) : "";
          f.rings.forEach(function (ring) {
            var px = ring[0] * k - ox, py = ring[1] * k - oy;
            if (text) {
              ctx.font = "12px sans-serif";
              ctx.textAlign = "center";
              ctx.textBaseline = "middle";
              ctx.lineWidth = 3;
              ctx.strokeStyle = "rgba(255,255,255,0.9)";
              ctx.strokeText(text, px, py);
              ctx.fillStyle = s.text;
              ctx.fillText(text, px, py);
            } else {
              ctx.beginPath();
              ctx.arc(px, py, 2.5, 0, Math.PI * 2);
              ctx.fillStyle = s.text || s.line || OTHER.point;
              ctx.fill();
            }
          });
        }
      });
    });
    return drawn;
  }

  var VectorBasemap = L.GridLayer.extend({
    createTile: function (coords, done) {
      var tile = L.DomUtil.create("canvas", "gis-basemap-tile");
      var size = this.getTileSize().x, ratio = window.devicePixelRatio || 1;
      tile.width = tile.height = size * ratio;
      tile.setAttribute("data-tile", coords.z + "/" + coords.x + "/" + coords.y);
      if (coords.z < minNative) { setTimeout(function () { done(null, tile); }, 0); return tile; }
      var nz = Math.min(coords.z, maxNative), shift = coords.z - nz, scale = 1 << shift;
      var px = coords.x >> shift, py = coords.y >> shift;
      tileData(nz, px, py).then(function (layers) {
        var ctx = tile.getContext("2d");
        ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
        var ox = (coords.x - px * scale) * size, oy = (coords.y - py * scale) * size;
        tile.setAttribute("data-drawn", String(draw(ctx, layers, size, scale, ox, oy, coords.z)));
        done(null, tile);
      }).catch(function (err) { done(err, tile); });
      return tile;
    },
  });

  /* a raster tile set asks nothing below its lowest zoom (a transparent pixel instead), so a
     map without a minimum zoom of its own can still be zoomed out past it */
  var EMPTY_TILE = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7";
  var RasterBasemap = L.TileLayer.extend({
    getTileUrl: function (coords) {
      return coords.z < minNative ? EMPTY_TILE : L.TileLayer.prototype.getTileUrl.call(this, coords);
    },
  });

  function add(map) {
    if (!(map instanceof L.Map) || map.__gisBasemap) return;
    map.__gisBasemap = true;
    var options = { minZoom: minNative, maxZoom: 20, attribution: "离线底图", className: "gis-basemap", zIndex: 0 };
    if (bounds) options.bounds = bounds;
    var layer;
    if (kind === "vector") {
      if (!window.GisMvt) return;
      options.minZoom = 0;  // nothing drawn below the tile set's lowest zoom, the map not held
      layer = new VectorBasemap(options);
    } else {
      options.maxNativeZoom = maxNative;
      options.minZoom = 0;  // below the tile set's lowest zoom: an empty tile, the map not held
      layer = new RasterBasemap(template, options);
    }
    layer.addTo(map).bringToBack();
  }

  Object.keys(window).forEach(function (name) {
    var map;
    try { map = window[name]; } catch (e) { return; }
    add(map);
  });
  window.GisBasemap = { add: add };
})();
