/* 违建治理一张图 — Mapbox Vector Tiles (protobuf, spec 2.1) read in the browser.
 *
 * Shared by site-tiles.js (the sites of a large map: points) and basemap.js (an imported
 * vector basemap: points, lines and polygons). Hand-written, no dependency.
 *
 *   GisMvt.decode(buffer) -> [{name, extent, features: [{id, type, props, rings}]}]
 *     type: 1 point, 2 line, 3 polygon; rings: one flat array [x0, y0, x1, y1, …] per
 *     MoveTo (a point of a multipoint, a line of a multiline, a ring of a polygon), in the
 *     tile's own units (0..extent; beyond it: the tile's buffer).
 *   GisMvt.decode(buffer, true): the same without rings, each feature's x, y being where its
 *     geometry ends (a point's position), several times faster for tiles of many points.
 *   GisMvt.inflate(buffer) -> Promise of the buffer, gunzipped when it starts with the gzip
 *     magic (a tile kept compressed, e.g. a stored copy whose encoding was not undone).
 */
(function () {
  'use strict';
  if (window.GisMvt) return;

  function Reader(buffer) { this.b = new Uint8Array(buffer); this.p = 0; this.view = new DataView(buffer); }
  Reader.prototype.varint = function () {
    var result = 0, shift = 1, byte;
    do {
      byte = this.b[this.p++];
      result += (byte & 0x7f) * shift;
      shift *= 128;
    } while (byte & 0x80);
    return result;
  };
  Reader.prototype.skip = function (wire) {
    if (wire === 0) this.varint();
    else if (wire === 1) this.p += 8;
    else if (wire === 2) { var len = this.varint(); this.p += len; }
    else if (wire === 5) this.p += 4;
    else throw new Error('vector tile: wire type ' + wire);
  };
  Reader.prototype.string = function () {
    var len = this.varint(), text = new TextDecoder().decode(this.b.subarray(this.p, this.p + len));
    this.p += len;
    return text;
  };
  function zigzag(n) { return n % 2 ? -(n + 1) / 2 : n / 2; }

  function readValue(r) {
    var len = r.varint(), end = r.p + len, value = null;
    while (r.p < end) {
      var tag = r.varint(), field = Math.floor(tag / 8), wire = tag % 8;
      if (field === 1) value = r.string();
      else if (field === 2) { value = r.view.getFloat32(r.p, true); r.p += 4; }
      else if (field === 3) { value = r.view.getFloat64(r.p, true); r.p += 8; }
      else if (field === 4 || field === 5) value = r.varint();
      else if (field === 6) value = zigzag(r.varint());
      else if (field === 7) value = r.varint() !== 0;
      else r.skip(wire);
    }
    return value;
  }

  /* the geometry commands: MoveTo (1) starts a ring, LineTo (2) extends it, ClosePath (7)
     closes it (the renderer closes polygon rings itself) */
  function readGeometry(r, stop) {
    var rings = [], ring = null, x = 0, y = 0;
    while (r.p < stop) {
      var command = r.varint(), id = command & 7, count = command >> 3;
      if (id === 7) continue;
      for (var i = 0; i < count; i++) {
        x += zigzag(r.varint());
        y += zigzag(r.varint());
        if (id === 1) { ring = [x, y]; rings.push(ring); } else if (ring) ring.push(x, y);
      }
    }
    return rings;
  }

  /* only where the geometry ends (the cursor after the last command): a point's position,
     without building rings (site-tiles.js reads tens of thousands of points per tile) */
  function readEnd(r, stop, feature) {
    var x = 0, y = 0;
    while (r.p < stop) {
      var command = r.varint(), count = (command & 7) === 7 ? 0 : command >> 3;
      for (var i = 0; i < count; i++) { x += zigzag(r.varint()); y += zigzag(r.varint()); }
    }
    feature.x = x;
    feature.y = y;
  }

  function readFeature(r, end, keys, values, pointsOnly) {
    // two shapes of object, each always the same (a point-only feature stays small and fast)
    var feature = pointsOnly ? {id: null, props: {}, x: 0, y: 0, type: 0}
      : {id: null, type: 0, props: {}, rings: []};
    while (r.p < end) {
      var tag = r.varint(), field = Math.floor(tag / 8), wire = tag % 8, stop;
      if (field === 1) feature.id = r.varint();
      else if (field === 2) {
        stop = r.varint() + r.p;
        while (r.p < stop) { var k = r.varint(); feature.props[keys[k]] = values[r.varint()]; }
      } else if (field === 3) feature.type = r.varint();
      else if (field === 4) {
        stop = r.varint() + r.p;
        if (pointsOnly) readEnd(r, stop, feature);
        else feature.rings = readGeometry(r, stop);
      } else r.skip(wire);
    }
    return feature;
  }

  function decode(buffer, pointsOnly) {
    var r = new Reader(buffer), layers = [];
    while (r.p < r.b.length) {
      var tag = r.varint();
      if (Math.floor(tag / 8) !== 3 || tag % 8 !== 2) { r.skip(tag % 8); continue; }
      var size = r.varint(), end = r.p + size, keys = [], values = [], spans = [];
      var layer = {name: '', extent: 4096, features: []};
      while (r.p < end) {
        var t = r.varint(), field = Math.floor(t / 8), wire = t % 8;
        if (field === 1) layer.name = r.string();
        else if (field === 2) { var len = r.varint(); spans.push([r.p, r.p + len]); r.p += len; }
        else if (field === 3) keys.push(r.string());
        else if (field === 4) values.push(readValue(r));
        else if (field === 5) layer.extent = r.varint();
        else r.skip(wire);
      }
      for (var i = 0; i < spans.length; i++) {
        r.p = spans[i][0];
        layer.features.push(readFeature(r, spans[i][1], keys, values, pointsOnly));
      }
      r.p = end;
      layers.push(layer);
    }
    return layers;
  }

  function inflate(buffer) {
    var head = new Uint8Array(buffer, 0, Math.min(2, buffer.byteLength));
    if (head.length < 2 || head[0] !== 0x1f || head[1] !== 0x8b) return Promise.resolve(buffer);
    if (!window.DecompressionStream) return Promise.reject(new Error('无法解压矢量瓦片'));
    var stream = new Blob([buffer]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Response(stream).arrayBuffer();
  }

  window.GisMvt = {decode: decode, inflate: inflate};
}());
