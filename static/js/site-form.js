// The site form's map: click to place the site, drag the marker to move it; the street of the
// point is asked from the server (which also converts between the basemap's datum and WGS84)
// and shown before saving. Typed coordinates move the marker too.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("site-form-data").textContent);
  var lonInput = document.getElementById("lon");
  var latInput = document.getElementById("lat");
  var shown = document.getElementById("street-derived");
  var map = L.map("site-form-map", { zoomControl: true });
  window.gisSiteFormMap = map; // found by basemap.js (the offline basemap under it)
  data.tiles.forEach(function (t) {
    L.tileLayer(t.url, { subdomains: t.subdomains || "abc", maxZoom: t.max_zoom, attribution: t.attribution }).addTo(map);
  });
  var streets = L.geoJSON(data.streets, {
    style: function () { return { color: "#555", weight: 1.5, fill: true, fillOpacity: 0.04 }; },
    interactive: false
  }).addTo(map);
  if (data.bounds) {
    map.fitBounds([[data.bounds[1], data.bounds[0]], [data.bounds[3], data.bounds[2]]]);
  } else {
    map.fitBounds(streets.getBounds());
  }
  var marker = null;

  function place(latlng) {
    if (!marker) {
      marker = L.marker(latlng, { draggable: true, title: "点位位置（可拖动）" }).addTo(map);
      marker.on("dragend", function () { ask(marker.getLatLng(), true); });
    } else {
      marker.setLatLng(latlng);
    }
  }

  function show(answer) {
    shown.textContent = "";
    if (answer.street_name) {
      shown.appendChild(document.createTextNode("所属街道："));
      var strong = document.createElement("strong");
      strong.textContent = answer.street_name;
      shown.appendChild(strong);
    }
    if (answer.message) {
      var warn = document.createElement("span");
      warn.className = "field-error";
      warn.setAttribute("data-role", "street-warning");
      warn.textContent = (answer.street_name ? "　" : "") + answer.message;
      shown.appendChild(warn);
    }
    shown.setAttribute("data-street", answer.street_code || "");
    shown.setAttribute("data-allowed", answer.allowed ? "yes" : "no");
  }

  function ask(latlng, fromMap) {
    var params = new URLSearchParams({ lon: latlng.lng, lat: latlng.lat, map: fromMap ? "1" : "0" });
    fetch(data.street_url + "?" + params.toString(), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (answer) {
        if (answer.lon === undefined) { show({ message: answer.message || "位置无效" }); return; }
        if (fromMap) {
          lonInput.value = answer.lon.toFixed(7);
          latInput.value = answer.lat.toFixed(7);
        } else {
          place(L.latLng(answer.map_lat, answer.map_lon));
        }
        show(answer);
      });
  }

  if (data.marker) {
    place(L.latLng(data.marker[1], data.marker[0]));
    map.setView(marker.getLatLng(), 16);
  }
  map.on("click", function (e) { place(e.latlng); ask(e.latlng, true); });
  function typed() {
    var lon = parseFloat(lonInput.value), lat = parseFloat(latInput.value);
    if (isFinite(lon) && isFinite(lat)) { ask(L.latLng(lat, lon), false); }
  }
  lonInput.addEventListener("change", typed);
  latInput.addEventListener("change", typed);
})();
