/* Patrol pages: the planning form (draw a polygon, pick a circle's centre, use the map view,
   the phone's position as the start) and the finding form (the phone's position as the
   default point). Served by the app (no CDN); Leaflet's map object comes from folium. */
(function () {
  "use strict";

  function fix(x) { return Math.round(x * 1e7) / 1e7; }

  function locate(onPoint, onStatus) {
    if (!navigator.geolocation) { if (onStatus) onStatus("本机不支持定位，请手动填写"); return; }
    if (onStatus) onStatus("正在定位…");
    navigator.geolocation.getCurrentPosition(function (pos) {
      onPoint(fix(pos.coords.longitude), fix(pos.coords.latitude));
      if (onStatus) onStatus("已定位（精度约 " + Math.round(pos.coords.accuracy) + " 米）");
    }, function () { if (onStatus) onStatus("无法定位，请手动填写"); },
    { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
  }

  // ---------------------------------------------------------------- the finding form
  var finding = document.getElementById("finding-form");
  if (finding) {
    var lon = document.getElementById("lon"), lat = document.getElementById("lat");
    var status = document.getElementById("gps-status");
    var fill = function (x, y) { lon.value = x; lat.value = y; };
    var say = function (t) { if (status) status.textContent = t; };
    if (!lon.value && !lat.value) locate(fill, say);
    document.getElementById("use-gps").addEventListener("click", function () { locate(fill, say); });
  }

  // ---------------------------------------------------------------- the planning form
  var form = document.getElementById("plan-form");
  if (!form) return;
  var map = window[form.dataset.map];
  var kinds = form.querySelectorAll("input[name=area_kind]");
  var vertices = [], polygon = null, circle = null;

  function kind() {
    for (var i = 0; i < kinds.length; i++) if (kinds[i].checked) return kinds[i].value;
    return "street";
  }
  function showKind() {
    var k = kind();
    form.querySelectorAll("[data-kind]").forEach(function (el) {
      el.hidden = el.getAttribute("data-kind") !== k;
    });
  }
  kinds.forEach(function (el) { el.addEventListener("change", showKind); });
  showKind();

  function drawPolygon() {
    if (polygon) { map.removeLayer(polygon); polygon = null; }
    if (vertices.length) polygon = L.polygon(vertices, { color: "#1f5fbf", weight: 2 }).addTo(map);
    var field = document.getElementById("area_geometry");
    if (vertices.length >= 3) {
      var ring = vertices.map(function (p) { return [fix(p.lng), fix(p.lat)]; });
      ring.push(ring[0]);
      field.value = JSON.stringify({ type: "Polygon", coordinates: [ring] });
    } else {
      field.value = "";
    }
  }
  var radius = document.getElementById("radius_m");
  function drawCircle() {
    var x = parseFloat(document.getElementById("center_lon").value);
    var y = parseFloat(document.getElementById("center_lat").value);
    var r = parseFloat(radius.value);
    if (circle) { map.removeLayer(circle); circle = null; }
    if (isFinite(x) && isFinite(y) && r > 0) {
      circle = L.circle([y, x], { radius: r, color: "#1f5fbf", weight: 2 }).addTo(map);
    }
  }
  radius.addEventListener("input", drawCircle);

  if (map) {
    map.on("click", function (e) {
      var k = kind();
      if (k === "polygon") { vertices.push(e.latlng); drawPolygon(); }
      else if (k === "circle") {
        document.getElementById("center_lon").value = fix(e.latlng.lng);
        document.getElementById("center_lat").value = fix(e.latlng.lat);
        drawCircle();
      }
    });
  }
  document.getElementById("poly-undo").addEventListener("click", function () {
    vertices.pop(); drawPolygon();
  });
  document.getElementById("poly-clear").addEventListener("click", function () {
    vertices = []; drawPolygon();
  });

  var startMode = form.querySelectorAll("input[name=start_mode]");
  var startLon = document.getElementById("start_lon"), startLat = document.getElementById("start_lat");
  function pointMode() {
    for (var i = 0; i < startMode.length; i++) if (startMode[i].checked) return startMode[i].value === "point";
    return false;
  }
  function fillStart(x, y) {
    startLon.value = x; startLat.value = y;
    startMode.forEach(function (el) { el.checked = el.value === "point"; });
  }
  startMode.forEach(function (el) {
    el.addEventListener("change", function () {
      if (pointMode() && !startLon.value) locate(fillStart);
    });
  });
  document.getElementById("use-gps").addEventListener("click", function () { locate(fillStart); });

  form.addEventListener("submit", function () {
    if (kind() === "bbox" && map) {
      var b = map.getBounds();
      document.getElementById("bbox").value = [fix(b.getWest()), fix(b.getSouth()),
        fix(b.getEast()), fix(b.getNorth())].join(",");
    }
  });
})();
