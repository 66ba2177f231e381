/* 违建治理一张图 — the sites of a map with more sites than its threshold, from vector tiles.
 *
 * The page then carries no site (gis_app/features/maps/pages.py); this layer loads the tiles
 * of the view (/tiles/sites/{z}/{x}/{y}.mvt with the page's filter) and draws them on one
 * canvas per tile: up to the street zoom one circle per street at its label point, from the
 * page's counts per street (no tile fetched); below the point zoom one circle per grid cell,
 * sized by its number of sites and coloured by its most frequent status, with the count
 * (512-px tiles there, each the server's tile of the zoom below: a quarter of the requests);
 * from the point zoom one point per site, styled as on the site layer (512-px tiles again
 * beyond it). No tile is fetched over a zoom-14 square the page says holds no site of its
 * filter. The layer toggles of the site layer apply to both (a cell counts only the statuses
 * and dispositions shown).
 *
 * After every change of view, once its tiles are there and drawn (event `drawn`), it counts
 * the sites shown in view; when they are no more than `viewSites` it fetches those sites
 * (/map/sites.json with the view's bbox) into the site layer, which draws each with its
 * popup, and hides the tiles; above it the tiles show and the site layer is empty. `stats`
 * records the mode, the count in view and when the view was last complete
 * (bench/map_modes_bench.py reads them). Needs mvt.js.
 */
(function () {
  'use strict';

  var TWO_PI = Math.PI * 2;
  /* tiles drawn at most at twice their CSS size: a phone of ratio 3 would make 1,536-px
     canvases of 9 MB for the 512-px tiles (a view of 6-9 of them), for circles that look the
     same at 2 */
  var MAX_RATIO = 2;
  var EMPTY = {n: 0, origin: [0, 0], scale: 1, stride: 4, span: 8, rows: []};

  /* ---- the points of a tile (decoded by mvt.js, shared with the vector basemap) ---- */
  function decodeTile(buffer) {
    var out = [];
    GisMvt.decode(buffer, true).forEach(function (layer) {
      var features = layer.features, extent = layer.extent;
      for (var i = 0; i < features.length; i++) {
        var f = features[i];
        f.x /= extent;  // share of the tile (0..1; beyond it: the buffer)
        f.y /= extent;
        out.push(f);
      }
    });
    return out;
  }

  /* ---- the layer ---- */
  L.GisSiteTiles = L.GridLayer.extend({
    options: {tileSize: 256, updateWhenZooming: false, keepBuffer: 1, pane: 'overlayPane',
              hitTolerance: 3},

    initialize: function (siteLayer, opts) {
      L.GridLayer.prototype.initialize.call(this, {});
      this._siteLayer = siteLayer;
      this._opts = opts;  // tileUrl, sitesUrl, threshold, viewSites, streetZoom, squares
      this._palette = siteLayer.options.palette;
      var keyIndex = {}, dispIndex = {};
      this._palette.statuses.forEach(function (s, i) { keyIndex[s.key] = i; });
      this._palette.dispositions.forEach(function (d, i) { dispIndex[d.key] = i; });
      this._keyIndex = keyIndex;
      this._dispIndex = dispIndex;
      this._seq = 0;
      this.stats = {mode: null, inView: null, settles: 0, settledAt: null, drawnAt: null,
                    tilesLoaded: 0, tilesAborted: 0};
    },

    onAdd: function (map) {
      L.GridLayer.prototype.onAdd.call(this, map);
      this.on('load', this._settle, this);
      this.on('tileunload', this._abortTile, this);
      map.on('moveend', this._maybeSettle, this);
      map.on('click', this._onClick, this);
    },

    onRemove: function (map) {
      map.off('moveend', this._maybeSettle, this);
      map.off('click', this._onClick, this);
      this.off('load', this._settle, this);
      this.off('tileunload', this._abortTile, this);
      L.GridLayer.prototype.onRemove.call(this, map);
    },

    /* 512 px above the street zoom: the tile of the zoom below, drawn twice as large (8 cells
       across become 64 px; from the server's point zoom on, the points of the zoom below): a
       view asks a quarter of the tiles (each request costs the server and the tab a few ms
       whatever it holds) */
    getTileSize: function () {
      var z = this._tileZoom;
      var big = z !== undefined && z > Math.max(this._opts.streetZoom, 0);
      return L.point(big ? 512 : 256, big ? 512 : 256);
    },

    /* shown at once, not faded in: Leaflet fades each new tile for 200 ms, a frame of the
       whole page every 16 ms while any tile fades (a traced tour of 30 views: 193-206 frames
       against 117-126, about 2 s more of the tab's main thread; docs/operations/performance.md).
       The old zoom's tiles then go at the next frame instead of 250 ms later. */
    _tileReady: function (coords, err, tile) {
      var map = this._map, fade = map && map._fadeAnimated;
      if (map) map._fadeAnimated = false;
      try {
        L.GridLayer.prototype._tileReady.call(this, coords, err, tile);
      } finally {
        if (map) map._fadeAnimated = fade;
      }
    },

    _abortTile: function (e) {
      var tile = e.tile;
      if (tile && tile._abort && tile._features === null) {
        tile._abort.abort();
        this.stats.tilesAborted += 1;
      }
    },

    /* the server's tile under `coords` (of the zoom below for a 512-px tile) */
    _served: function (coords) {
      if (this.getTileSize().x === 256) return coords;
      return {x: coords.x, y: coords.y, z: coords.z - 1};
    },

    createTile: function (coords, done) {
      var tile = L.DomUtil.create('canvas', 'gis-site-tile');
      var size = this.getTileSize(), self = this;
      var ratio = Math.min(window.devicePixelRatio || 1, MAX_RATIO);
      tile.width = size.x * ratio;
      tile.height = size.y * ratio;
      tile._ratio = ratio;
      tile._size = size;
      tile._features = null;
      var known = coords.z <= this._opts.streetZoom ? this._streetFeatures(coords)
        : (this._empty(this._served(coords)) ? [] : null);
      if (known) {
        // the lowest zooms: one circle per street from the page's counts; a tile over no
        // square with sites: empty; neither is fetched
        var features = this._prepare(known);
        setTimeout(function () {
          tile._features = features;
          self.stats.tilesLoaded += 1;
          self._drawTile(tile);
          done(null, tile);
        }, 0);
        return tile;
      }
      // a tile the map drops before it came (a quick pan or zoom) is not waited for: its
      // request is cancelled, and the server's work with it where it has not begun
      var abort = window.AbortController ? new AbortController() : null;
      tile._abort = abort;
      fetch(L.Util.template(this._opts.tileUrl, this._served(coords)),
            {credentials: 'same-origin', signal: abort ? abort.signal : undefined})
        .then(function (res) {
          if (res.status === 204) return null;
          if (!res.ok) throw new Error('瓦片读取失败 ' + res.status);
          return res.arrayBuffer();
        })
        .then(function (buffer) {
          tile._features = buffer ? self._prepare(decodeTile(buffer)) : [];
          self.stats.tilesLoaded += 1;
          self._drawTile(tile);
          done(null, tile);
        })
        .catch(function (err) {
          if (err && err.name === 'AbortError') return;  // dropped by the map: nothing to show
          tile._features = [];
          done(err, tile);
        });
      return tile;
    },

    /* no site of the page's filter under tile `coords` (its zoom-14 squares, and their
       neighbours from zoom 14 on: a point near the edge is drawn on both tiles) */
    _empty: function (coords) {
      var sq = this._opts.squares, base = this._opts.squareZoom;
      if (!sq) return false;
      if (!this._occupied) {
        var levels = {};
        for (var z = 0; z <= base; z++) levels[z] = new Set();
        for (var i = 0; i < sq.length; i += 2) {
          for (var l = 0; l <= base; l++) {
            var k = base - l;
            levels[l].add((sq[i] >> k) + ':' + (sq[i + 1] >> k));
          }
        }
        this._occupied = levels;
      }
      if (coords.z < base) return !this._occupied[coords.z].has(coords.x + ':' + coords.y);
      var shift = coords.z - base, x = coords.x >> shift, y = coords.y >> shift;
      var own = this._occupied[base];
      for (var dx = -1; dx <= 1; dx++) {
        for (var dy = -1; dy <= 1; dy++) {
          if (own.has((x + dx) + ':' + (y + dy))) return false;
        }
      }
      return true;
    },

    /* the streets whose label point lies on tile `coords` or near enough to be drawn on it:
       features like a tile's cells (x, y: share of the tile; props n and c) */
    _streetFeatures: function (coords) {
      var out = [], size = this.getTileSize(), map = this._map;
      var margin = 30 / size.x;  // a street circle's radius at most: drawn on both tiles
      (this._opts.streets || []).forEach(function (street) {
        var p = map.project([street.lat, street.lon], coords.z);
        var fx = p.x / size.x - coords.x, fy = p.y / size.y - coords.y;
        if (fx < -margin || fx > 1 + margin || fy < -margin || fy > 1 + margin) return;
        var n = 0;
        street.c.split(',').forEach(function (part) { n += Number(part.split(':')[2]); });
        out.push({x: fx, y: fy, street: street.name, props: {n: n, c: street.c}});
      });
      return out;
    },

    /* cells get their counts by status and disposition ([key, disposition, n], …) */
    _prepare: function (features) {
      var keyIndex = this._keyIndex, dispIndex = this._dispIndex;
      features.forEach(function (f) {
        if (f.props.n === undefined) {
          f.key = keyIndex[f.props.k] || 0;
          f.disp = dispIndex[f.props.d] || 0;
          return;
        }
        f.parts = String(f.props.c || '').split(',').filter(Boolean).map(function (part) {
          var bits = part.split(':');
          return [keyIndex[bits[0]] || 0, dispIndex[bits[1]] || 0, Number(bits[2])];
        });
      });
      return features;
    },

    /* how many of a feature's sites the layer toggles show, and the key most of them have */
    _shownOf: function (f) {
      var shown = this._siteLayer._shown;
      if (!f.parts) {
        return {n: shown.status[f.key] && shown.disposition[f.disp] ? 1 : 0, key: f.key};
      }
      var byKey = {}, n = 0, best = -1, bestN = 0;
      for (var i = 0; i < f.parts.length; i++) {
        var p = f.parts[i];
        if (!shown.status[p[0]] || !shown.disposition[p[1]]) continue;
        byKey[p[0]] = (byKey[p[0]] || 0) + p[2];
        n += p[2];
      }
      for (var k in byKey) {
        if (byKey[k] > bestN || (byKey[k] === bestN && Number(k) < best)) { best = Number(k); bestN = byKey[k]; }
      }
      return {n: n, key: best, byKey: byKey};
    },

    _drawTile: function (tile) {
      var features = tile._features || [];
      // an empty tile never drawn keeps no bitmap (its canvas is allocated on first use)
      if (!features.length && !tile._drawn) return;
      tile._drawn = true;
      var ctx = tile.getContext('2d'), size = tile._size, pal = this._palette;
      ctx.setTransform(tile._ratio, 0, 0, tile._ratio, 0, 0);
      ctx.clearRect(0, 0, size.x, size.y);
      // points in the palette's z order (overdue and new on top); cells biggest first
      var order = features.slice().sort(function (a, b) {
        if (a.parts || b.parts) return (b.props.n || 0) - (a.props.n || 0);
        return pal.statuses[a.key].z - pal.statuses[b.key].z;
      });
      for (var i = 0; i < order.length; i++) {
        var f = order[i], s = this._shownOf(f);
        f.px = f.x * size.x;
        f.py = f.y * size.y;
        f.r = 0;
        if (!s.n) continue;
        var style = pal.statuses[s.key];
        f.r = f.parts ? Math.min(26, 5 + 4.5 * Math.log10(s.n)) : style.radius;
        ctx.beginPath();
        ctx.arc(f.px, f.py, f.r, 0, TWO_PI);
        ctx.globalAlpha = f.parts ? 0.85 : 0.9;
        ctx.fillStyle = style.fill;
        ctx.fill();
        ctx.globalAlpha = 1;
        ctx.setLineDash(f.parts ? [] : pal.dispositions[f.disp].dash);
        ctx.lineWidth = 1.5;
        ctx.strokeStyle = style.stroke;
        ctx.stroke();
        if (f.parts && f.r >= 9) {
          ctx.fillStyle = '#fff';
          ctx.font = 'bold 11px sans-serif';
          ctx.textAlign = 'center';
          ctx.textBaseline = 'middle';
          ctx.fillText(s.n >= 10000 ? Math.round(s.n / 1000) + 'k' : String(s.n), f.px, f.py);
        }
      }
      ctx.setLineDash([]);
    },

    redrawAll: function () {
      for (var key in this._tiles) {
        if (this._tiles[key].el._features) this._drawTile(this._tiles[key].el);
      }
      this._maybeSettle();
    },

    /* the tiles of the current zoom, with their pixel origin at that zoom */
    _currentTiles: function () {
      var out = [], size = this.getTileSize();
      for (var key in this._tiles) {
        var t = this._tiles[key];
        if (t.coords.z !== this._tileZoom || !t.el._features) continue;
        out.push({el: t.el, coords: t.coords, ox: t.coords.x * size.x, oy: t.coords.y * size.y});
      }
      return out;
    },

    /* the sites shown in view: cells by their centre, points on their own tile (not in the
       neighbours' buffers); with `ids`, the ids of the points */
    countInView: function (ids) {
      var map = this._map, z = this._tileZoom, bounds = map.getBounds();
      var nw = map.project(bounds.getNorthWest(), z), se = map.project(bounds.getSouthEast(), z);
      var size = this.getTileSize(), n = 0, byKey = {};
      this._currentTiles().forEach(function (t) {
        t.el._features.forEach(function (f) {
          if (f.x < 0 || f.x >= 1 || f.y < 0 || f.y >= 1) return;
          var x = t.ox + f.x * size.x, y = t.oy + f.y * size.y;
          if (x < nw.x || x > se.x || y < nw.y || y > se.y) return;
          var s = this._shownOf(f);
          if (!s.n) return;
          n += s.n;
          if (f.parts) {
            for (var k in s.byKey) byKey[k] = (byKey[k] || 0) + s.byKey[k];
          } else {
            byKey[s.key] = (byKey[s.key] || 0) + 1;
            if (ids) ids.push(f.id);
          }
        }, this);
      }, this);
      var keys = {};
      for (var k in byKey) keys[this._palette.statuses[k].key] = byKey[k];
      return {n: n, byKey: keys};
    },

    _maybeSettle: function () {
      if (this._map && this._tileZoom !== undefined) this._settle();
    },

    /* every tile of the view is there (not merely none asked for yet) */
    _complete: function () {
      if (!this._noTilesToLoad()) return false;
      var range = this._pxBoundsToTileRange(this._getTiledPixelBounds(this._map.getCenter()));
      for (var x = range.min.x; x <= range.max.x; x++) {
        for (var y = range.min.y; y <= range.max.y; y++) {
          var t = this._tiles[x + ':' + y + ':' + this._tileZoom];
          if (!t || !t.el._features) return false;
        }
      }
      return true;
    },

    /* the view is complete: sites (few enough in view) or tiles */
    _settle: function () {
      var map = this._map;
      if (!map || !this._complete()) return;
      var seq = ++this._seq, self = this, count = this.countInView().n;
      this.stats.inView = count;
      // every site of the view is drawn now (points or counts): what the tour times
      this.stats.drawnAt = performance.now();
      this.fire('drawn', {inView: count});
      var limit = this._opts.viewSites === undefined ? this._opts.threshold : this._opts.viewSites;
      if (count > limit) {
        if (this._siteLayer.stats.total) this._siteLayer.setData(EMPTY);
        this.setOpacity(1);
        this._done(seq, 'tiles');
        return;
      }
      if (count === 0) {  // nothing shown in view: no sites to fetch
        if (this._siteLayer.stats.total) this._siteLayer.setData(EMPTY);
        this.setOpacity(0);
        this._done(seq, 'sites');
        return;
      }
      var b = map.getBounds().pad(0.25);
      var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) {
        return v.toFixed(6);
      }).join(',');
      var url = this._opts.sitesUrl + (this._opts.sitesUrl.indexOf('?') < 0 ? '?' : '&') + 'bbox=' + bbox;
      fetch(url, {credentials: 'same-origin', headers: {Accept: 'application/json'}})
        .then(function (res) {
          if (!res.ok) throw new Error('点位读取失败 ' + res.status);
          return res.json();
        })
        .then(function (data) {
          if (seq !== self._seq || !self._map) return;
          self._siteLayer.setData(data);
          self.setOpacity(0);
          self._done(seq, 'sites');
        });
    },

    _done: function (seq, mode) {
      if (seq !== this._seq) return;
      this.stats.mode = mode;
      this.stats.settles += 1;
      this.stats.settledAt = performance.now();
      var sites = this._siteLayer.stats;
      if (sites.firstDrawnAt === null) sites.firstDrawnAt = this.stats.settledAt;
      this._map.getContainer().setAttribute('data-map-mode', mode);
      this.fire('settled', {mode: mode, inView: this.stats.inView});
    },

    /* the feature under a click: a site (its popup) or a cell (its counts by status) */
    _onClick: function (e) {
      if (this.stats.mode !== 'tiles') return;
      var z = this._tileZoom, p = this._map.project(e.latlng, z), size = this.getTileSize();
      var best = null, bestD = Infinity, tol = this.options.hitTolerance;
      this._currentTiles().forEach(function (t) {
        t.el._features.forEach(function (f) {
          if (!f.r) return;
          var dx = t.ox + f.px - p.x, dy = t.oy + f.py - p.y, d = dx * dx + dy * dy;
          var r = f.r + tol;
          if (d <= r * r && d < bestD) { best = {f: f, t: t}; bestD = d; }
        });
      });
      if (!best) return;
      var f = best.f;
      var at = this._map.unproject([best.t.ox + f.x * size.x, best.t.oy + f.y * size.y], z);
      if (!f.parts) { this._siteLayer.openPopupAt(f.id, at); return; }
      this._cellPopup(f, at);
    },

    _cellPopup: function (f, at) {
      var s = this._shownOf(f), box = document.createElement('div'), pal = this._palette;
      box.className = 'gis-popup gis-cell-popup';
      var title = document.createElement('div');
      title.className = 'gis-popup-title';
      title.textContent = (f.street ? f.street + ' ' : '此处 ') + s.n + ' 个点位';
      box.appendChild(title);
      var table = document.createElement('table');
      table.className = 'gis-popup-table';
      pal.statuses.forEach(function (st, i) {
        if (!s.byKey[i]) return;
        var tr = document.createElement('tr'), th = document.createElement('th'), td = document.createElement('td');
        th.textContent = st.label;
        td.textContent = String(s.byKey[i]);
        td.setAttribute('data-count', st.key);
        tr.appendChild(th);
        tr.appendChild(td);
        table.appendChild(tr);
      });
      box.appendChild(table);
      var hint = document.createElement('div');
      hint.className = 'muted small';
      hint.textContent = '放大地图查看各点位';
      box.appendChild(hint);
      L.popup({maxWidth: 260}).setLatLng(at).setContent(box).openOn(this._map);
    }
  });

  L.gisSiteTiles = function (siteLayer, opts) { return new L.GisSiteTiles(siteLayer, opts); };
}());
