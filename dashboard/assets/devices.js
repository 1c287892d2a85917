/* Devices tied to no unit (window.dm.map.untiedMarker): a small hollow
 * grey-blue diamond with the initial of the device's format, its tooltip read
 * when it opens so the fix age keeps counting between the rare updates.
 *
 * Dash loads assets in name order, so this file runs before map.js, which
 * assigns a fresh ``window.dm.map``. Rather than depend on that order, the
 * functions below are kept on whatever object is assigned to dm.map later. */
(function () {
  "use strict";

  function esc(text) {
    return String(text == null ? "" : text).replace(/[&<>"']/g, (c) => ({
      "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }

  function untiedTooltip(layer) {
    return function () {
      const p = layer.feature.properties;
      const since = (Date.now() - layer.dmSeenAt) / 1000;
      const age = Math.round(p.fix_age_s + since);
      return "<b>" + esc(p.id) + "</b> · " + esc(p.format) + "<br>" + esc(p.tie) + "<br>" +
        esc(p.fix_label) + " " + esc(p.fix_time) + " (" + esc(age) + " s)" +
        (p.speed_kmh != null ? " · " + esc(p.speed_kmh) + " km/h" : "") +
        (p.acc_m != null ? " · ±" + esc(p.acc_m) + " m" : "");
    };
  }

  const untied = {
    untiedMarker: function (feature, latlng) {
      const p = feature.properties;
      const icon = L.divIcon({
        className: "untied-icon untied-" + esc(p.presence),
        html: '<div class="untied-glyph"><span>' + esc(p.initial) + "</span></div>",
        iconSize: [20, 20], iconAnchor: [10, 10],
      });
      const marker = L.marker(latlng, { icon: icon, keyboard: false, title: p.id });
      marker.feature = feature;
      marker.dmSeenAt = Date.now();  // when fix_age_s was read on the server, near enough
      return marker.bindTooltip(untiedTooltip(marker),
        { direction: "top", offset: [0, -10], className: "untied-tooltip" });
    },
  };

  window.dm = window.dm || {};
  let current = Object.assign(window.dm.map || {}, untied);
  Object.defineProperty(window.dm, "map", {
    configurable: true,
    enumerable: true,
    get: function () { return current; },
    set: function (value) { current = Object.assign(value, untied); },
  });
})();
