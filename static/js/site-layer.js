/* 违建治理一张图 — the sites of a map page, drawn on one canvas.
 *
 * The page carries the sites as one flat array of integers, four per site (see
 * gis_app/services/map_data.py): [id - previous id, x, y, key + span * disposition], x and y in
 * micro-degrees east and north of an origin. The styles come from layers/palette.yaml through
 * the options (this file holds no colour of its own). Points are drawn in batches, one path per
 * status and disposition, in the palette's z order: overdue and newly found sites on top.
 *
 * After every draw the layer records what it drew in `stats` and on the map container
 * (data-sites-total, data-sites-drawn); `stats.firstDrawnAt` is performance.now() at the end of
 * the first complete draw, which bench/map_bench.py reads as "sites drawn".
 */
(function () {
  'use strict';

  var TWO_PI = Math.PI * 2;
  var MAX_LAT = 85.0511287798;

  function decode(data) {
    var n = data.n, rows = data.rows, stride = data.stride, span = data.span;
    var ids = new Float64Array(n), wx = new Float64Array(n), wy = new Float64Array(n);
    var key = new Uint8Array(n), disp = new Uint8Array(n);
    var id = 0, x0 = data.origin[0], y0 = data.origin[1], scale = data.scale;
    for (var i = 0, j = 0; i < n; i++, j += stride) {
      id += rows[j];
      ids[i] = id;
      var lon = x0 + rows[j + 1] / scale;
      var lat = Math.max(-MAX_LAT, Math.min(MAX_LAT, y0 + rows[j + 2] / scale));
      // Web Mercator, as a share of the world (0..1): pixel = share * 256 * 2^zoom
      var s = Math.sin(lat * Math.PI / 180);
      wx[i] = lon / 360 + 0.5;
      wy[i] = 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI);
      key[i] = rows[j + 3] % span;
      disp[i] = Math.floor(rows[j + 3] / span);
    }
    return {n: n, ids: ids, wx: wx, wy: wy, key: key, disp: disp};
  }

  // draw groups (status x disposition) in ascending z; each holds its sites' indexes
  function groupSites(sites, palette) {
    var nk = palette.statuses.length, nd = palette.dispositions.length;
    var counts = new Uint32Array(nk * nd), g, i;
    for (i = 0; i < sites.n; i++) counts[sites.key[i] * nd + sites.disp[i]]++;
    var groups = [];
    for (var k = 0; k < nk; k++) {
      for (var d = 0; d < nd; d++) {
        groups.push({key: k, disp: d, z: palette.statuses[k].z,
                     members: new Uint32Array(counts[k * nd + d]), fill: 0});
      }
    }
    for (i = 0; i < sites.n; i++) {
      g = groups[sites.key[i] * nd + sites.disp[i]];
      g.members[g.fill++] = i;
    }
    groups.sort(function (a, b) { return a.z - b.z || a.disp - b.disp; });
    return groups;
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  L.GisSiteLayer = L.Layer.extend({
    options: {
      pane: 'overlayPane',
      padding: 0.25,     // share of the view drawn beyond each edge (panning shows no gap)
      hitTolerance: 3,   // pixels around a point that still count as a click on it
      interactive: true,
      popupUrl: '',
      siteUrl: '',
      palette: null
    },

    initialize: function (data, options) {
      L.setOptions(this, options);
      this._sites = decode(data);
      this._groups = groupSites(this._sites, this.options.palette);
      this._shown = {
        status: this.options.palette.statuses.map(function () { return true; }),
        disposition: this.options.palette.dispositions.map(function () { return true; })
      };
      this._px = new Float32Array(this._sites.n);
      this._py = new Float32Array(this._sites.n);
      this._drawnMask = new Uint8Array(this._sites.n);
      this.stats = {total: this._sites.n, drawn: 0, draws: 0, firstDrawnAt: null};
    },

    /* draw these sites instead (the same payload as the page's); the tile mode fetches the
       sites of a view with few enough in it */
    setData: function (data) {
      this._sites = decode(data);
      this._groups = groupSites(this._sites, this.options.palette);
      this._px = new Float32Array(this._sites.n);
      this._py = new Float32Array(this._sites.n);
      this._drawnMask = new Uint8Array(this._sites.n);
      this.stats.total = this._sites.n;
      if (this._map) this._draw();
      return this;
    },

    onAdd: function (map) {
      this._canvas = L.DomUtil.create('canvas', 'gis-site-canvas leaflet-zoom-animated');
      this._ctx = this._canvas.getContext('2d');
      this.getPane().appendChild(this._canvas);
      window.gisMap = map;
      window.gisSites = this;
      // more sites than the page's threshold: drawn from vector tiles (static/js/site-tiles.js)
      if (this.options.tiles && L.gisSiteTiles) {
        this._tiles = L.gisSiteTiles(this, this.options.tiles).addTo(map);
        window.gisTiles = this._tiles;
      }
      this._reset();
    },

    onRemove: function () {
      L.DomUtil.remove(this._canvas);
      this._canvas = null;
    },

    getEvents: function () {
      // moveend also follows every view reset and size change: one draw per change of view
      var events = {moveend: this._reset};
      if (this._map.options.zoomAnimation && L.Browser.any3d) events.zoomanim = this._animateZoom;
      if (this.options.interactive) {
        events.click = this._onClick;
        events.mousemove = this._onMouseMove;
      }
      return events;
    },

    /* show or hide the sites of one status (legend index) or disposition; redraws */
    setShown: function (dimension, index, shown) {
      if (this._shown[dimension][index] === !!shown) return this;
      this._shown[dimension][index] = !!shown;
      if (this._map) this._draw();
      if (this._tiles) this._tiles.redrawAll();
      return this;
    },

    _reset: function () {
      var map = this._map, size = map.getSize();
      var pad = size.multiplyBy(this.options.padding).round();
      this._topLeft = map.containerPointToLayerPoint(pad.multiplyBy(-1)).round();
      this._size = size.add(pad.multiplyBy(2));
      this._zoom = map.getZoom();
      this._center = map.getCenter();
      var ratio = window.devicePixelRatio || 1;
      this._canvas.width = this._size.x * ratio;
      this._canvas.height = this._size.y * ratio;
      this._canvas.style.width = this._size.x + 'px';
      this._canvas.style.height = this._size.y + 'px';
      this._ratio = ratio;
      L.DomUtil.setPosition(this._canvas, this._topLeft);
      this._draw();
    },

    /* during a zoom animation, scale the last picture the way the map pane moves */
    _animateZoom: function (e) {
      var map = this._map, scale = map.getZoomScale(e.zoom, this._zoom);
      var topLeftWorld = this._topLeft.add(map.getPixelOrigin());
      var offset = topLeftWorld.multiplyBy(scale).subtract(map._getNewPixelOrigin(e.center, e.zoom));
      L.DomUtil.setTransform(this._canvas, offset, scale);
    },

    _draw: function () {
      var map = this._map, ctx = this._ctx, s = this._sites, pal = this.options.palette;
      var worldSize = map.options.crs.scale(this._zoom);
      var origin = this._topLeft.add(map.getPixelOrigin());
      var w = this._size.x, h = this._size.y, drawn = 0;
      this._drawnMask.fill(0);
      ctx.setTransform(this._ratio, 0, 0, this._ratio, 0, 0);
      ctx.clearRect(0, 0, w, h);
      for (var gi = 0; gi < this._groups.length; gi++) {
        var g = this._groups[gi];
        if (!g.members.length || !this._shown.status[g.key] || !this._shown.disposition[g.disp]) continue;
        var style = pal.statuses[g.key], r = style.radius, any = false;
        ctx.beginPath();
        for (var m = 0; m < g.members.length; m++) {
          var i = g.members[m];
          var x = s.wx[i] * worldSize - origin.x, y = s.wy[i] * worldSize - origin.y;
          if (x < -r || y < -r || x > w + r || y > h + r) continue;
          ctx.moveTo(x + r, y);
          ctx.arc(x, y, r, 0, TWO_PI);
          this._px[i] = x;
          this._py[i] = y;
          this._drawnMask[i] = 1;
          drawn++;
          any = true;
        }
        if (!any) continue;
        ctx.fillStyle = style.fill;
        ctx.globalAlpha = 0.9;
        ctx.fill();
        ctx.globalAlpha = 1;
        ctx.setLineDash(pal.dispositions[g.disp].dash);
        ctx.lineWidth = 1.5;
        ctx.strokeStyle = style.stroke;
        ctx.stroke();
      }
      ctx.setLineDash([]);
      L.DomUtil.setTransform(this._canvas, this._topLeft, 1);
      this.stats.drawn = drawn;
      this.stats.draws += 1;
      // drawn from tiles, the tile layer says when the first view is complete
      if (this.stats.firstDrawnAt === null && !this._tiles) this.stats.firstDrawnAt = performance.now();
      var box = map.getContainer();
      box.setAttribute('data-sites-total', String(s.n));
      box.setAttribute('data-sites-drawn', String(drawn));
      this.fire('drawn', {drawn: drawn, total: s.n});
    },

    /* the top-most drawn site under a container point, or -1 */
    siteAt: function (containerPoint) {
      var p = this._map.containerPointToLayerPoint(containerPoint).subtract(this._topLeft);
      var best = -1, bestZ = -1, bestD = Infinity, pal = this.options.palette;
      for (var gi = this._groups.length - 1; gi >= 0; gi--) {
        var g = this._groups[gi];
        if (g.z < bestZ) break;
        var r = pal.statuses[g.key].radius + this.options.hitTolerance, r2 = r * r;
        for (var m = 0; m < g.members.length; m++) {
          var i = g.members[m];
          if (!this._drawnMask[i]) continue;
          var dx = this._px[i] - p.x, dy = this._py[i] - p.y, d = dx * dx + dy * dy;
          if (d <= r2 && (g.z > bestZ || d < bestD)) { best = i; bestZ = g.z; bestD = d; }
        }
      }
      return best;
    },

    latLngOf: function (index) {
      var s = this._sites, crs = this._map.options.crs, size = crs.scale(0);
      return crs.pointToLatLng(L.point(s.wx[index] * size, s.wy[index] * size), 0);
    },

    idOf: function (index) { return this._sites.ids[index]; },

    /* the container point of a site (tests click there) */
    containerPointOf: function (index) {
      return this._map.latLngToContainerPoint(this.latLngOf(index));
    },

    _onMouseMove: function (e) {
      if (this._moveQueued) return;
      this._moveQueued = true;
      var self = this, point = e.containerPoint;
      L.Util.requestAnimFrame(function () {
        self._moveQueued = false;
        if (!self._map) return;
        var hit = self.siteAt(point) >= 0;
        L.DomUtil[hit ? 'addClass' : 'removeClass'](self._map.getContainer(), 'gis-over-site');
      });
    },

    _onClick: function (e) {
      var index = this.siteAt(e.containerPoint);
      if (index < 0) return;
      this.openPopupFor(index);
    },

    openPopupFor: function (index) {
      return this.openPopupAt(this.idOf(index), this.latLngOf(index));
    },

    /* the popup of site `id` at `latLng` (also for a site drawn from a tile) */
    openPopupAt: function (id, latLng) {
      var map = this._map, opts = this.options;
      var box = el('div', 'gis-popup');
      box.setAttribute('data-site-id', String(id));
      box.appendChild(el('div', 'gis-popup-loading', '正在读取点位 ' + id + '…'));
      var popup = L.popup({maxWidth: 320, autoPanPadding: [20, 20]})
        .setLatLng(latLng).setContent(box).openOn(map);
      fetch(opts.popupUrl.replace('{id}', id), {headers: {Accept: 'application/json'}})
        .then(function (res) {
          return res.json().then(function (body) { return {ok: res.ok, body: body}; });
        })
        .then(function (r) {
          box.textContent = '';
          if (!r.ok) { box.appendChild(el('div', 'gis-popup-error', r.body.message || '读取失败')); return; }
          fillPopup(box, r.body, opts);
          popup.update();
        })
        .catch(function () {
          box.textContent = '';
          box.appendChild(el('div', 'gis-popup-error', '无法读取点位信息，请稍后重试'));
        });
      return popup;
    }
  });

  function fillPopup(box, site, opts) {
    var title = el('div', 'gis-popup-title');
    title.appendChild(el('span', 'gis-popup-code', site.code));
    var badge = el('span', 'gis-badge gis-badge-' + site.display, site.display_label);
    opts.palette.statuses.forEach(function (st) {
      if (st.key === site.display) { badge.style.background = st.fill; badge.style.borderColor = st.stroke; }
    });
    title.appendChild(badge);
    box.appendChild(title);
    var rows = [
      ['地址', site.address],
      ['街道', site.street],
      ['状态', site.status_label + (site.overdue ? '（逾期）' : '')],
      ['治理方式', site.disposition_label],
      ['期限', site.current_deadline || '未定']
    ];
    var table = el('table', 'gis-popup-table');
    rows.forEach(function (row) {
      var tr = el('tr');
      tr.appendChild(el('th', null, row[0]));
      tr.appendChild(el('td', null, row[1]));
      table.appendChild(tr);
    });
    box.appendChild(table);
    // the server gives the link only to those who may open the site's page
    if (site.url) {
      var link = el('a', 'gis-popup-link', '查看点位详情 »');
      link.href = site.url;
      box.appendChild(link);
    }
  }

  L.gisSiteLayer = function (data, options) { return new L.GisSiteLayer(data, options); };

  /* one entry of the layer control: adding or removing it shows or hides a group of sites */
  L.GisSiteToggle = L.Layer.extend({
    initialize: function (siteLayer, dimension, index, heading) {
      this._siteLayer = siteLayer;
      this._dimension = dimension;
      this._index = index;
      this.gisHeading = heading || '';  // shown above this entry in the layer control
    },
    onAdd: function () { this._siteLayer.setShown(this._dimension, this._index, true); },
    onRemove: function () { this._siteLayer.setShown(this._dimension, this._index, false); }
  });

  L.gisSiteToggle = function (siteLayer, dimension, index, heading) {
    return new L.GisSiteToggle(siteLayer, dimension, index, heading);
  };

  /* group headings (按状态, 按治理方式) in the layer control, above the first toggle of each */
  var addItem = L.Control.Layers.prototype._addItem;
  L.Control.Layers.include({
    _addItem: function (obj) {
      var label = addItem.call(this, obj);
      if (obj.layer && obj.layer.gisHeading && label.parentNode) {
        label.parentNode.insertBefore(el('div', 'gis-lc-head', obj.layer.gisHeading), label);
      }
      return label;
    }
  });
})();
