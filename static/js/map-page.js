/* 违建治理一张图 — the map pages on small screens.
 *
 * Below 900 px the side panel (counts, filters) is a drawer over the map (static/css/map.css):
 * the 筛选 button opens it, × or Escape closes it. The layer control starts folded to its
 * button there; a tap on the button unfolds it, a tap elsewhere folds it.
 */
(function () {
  'use strict';

  var SMALL = window.matchMedia('(max-width: 900px)');

  function setOpen(layout, open) {
    layout.classList.toggle('drawer-open', open);
    var side = document.getElementById('map-side');
    if (side) side.setAttribute('aria-hidden', SMALL.matches && !open ? 'true' : 'false');
  }

  function foldLayerControl() {
    var control = document.querySelector('.map-main .leaflet-control-layers');
    if (!control || control.dataset.foldable) return;
    control.dataset.foldable = '1';
    if (SMALL.matches) control.classList.remove('leaflet-control-layers-expanded');
    var toggle = control.querySelector('.leaflet-control-layers-toggle');
    if (toggle) {
      // before Leaflet's own handler (which only unfolds), and instead of it
      toggle.addEventListener('click', function (e) {
        e.preventDefault();
        e.stopImmediatePropagation();
        control.classList.toggle('leaflet-control-layers-expanded');
      }, true);
    }
    // a tap elsewhere folds it again
    document.addEventListener('click', function (e) {
      if (SMALL.matches && !control.contains(e.target)) {
        control.classList.remove('leaflet-control-layers-expanded');
      }
    });
  }

  function init() {
    var layout = document.getElementById('map-layout');
    if (!layout) return;
    setOpen(layout, layout.classList.contains('drawer-open'));
    Array.prototype.forEach.call(document.querySelectorAll('[data-drawer]'), function (button) {
      button.addEventListener('click', function () {
        setOpen(layout, button.getAttribute('data-drawer') === 'open');
      });
    });
    document.addEventListener('keydown', function (e) {
      if (e.key === 'Escape') setOpen(layout, false);
    });
    foldLayerControl();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
}());
