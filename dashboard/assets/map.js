/* Map styling and behaviour for dash-leaflet, referenced from Python as
 * {"variable": "dm.map.<name>"}: the server sends data, the browser styles it. */
(function () {
  "use strict";
  const ROAD = {
    primary: ["#8a9bb0", 4], primary_link: ["#8a9bb0", 3], trunk: ["#9fb0c4", 5],
    secondary: ["#74869b", 3.5], secondary_link: ["#74869b", 2.5], tertiary: ["#66778c", 3],
    residential: ["#56667a", 2.5], unclassified: ["#56667a", 2.5], living_street: ["#4d5c6e", 2],
    service: ["#465466", 1.5], pedestrian: ["#3d4a5a", 1.5],
  };
  const PRESENCE = { online: "#2ecc71", stale: "#f1c40f", offline: "#7f8c8d", no_fix: "#7f8c8d" };
  const STATUS = {
    available: null, dispatched: "#3498db", acknowledged: "#3498db", enroute: "#9b59b6",
    onscene: "#e74c3c", busy: "#e67e22", out_of_service: "#7f8c8d", off_duty: "#7f8c8d",
  };
  const GLYPH = { car: "▲", motorbike: "◆", foot: "●" };
  const DOT_RADIUS = { car: 6, motorbike: 5, foot: 4 };

  function unitColours(p) {
    const fill = PRESENCE[p.presence] || "#7f8c8d";
    return { fill: fill, ring: STATUS[p.status] || fill };
  }

  function esc(text) {
    return String(text == null ? "" : text).replace(/[&<>"']/g, (c) => ({
      "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }

  window.dm = window.dm || {};
  window.dm.map = {
    roadStyle: function (feature) {
      const p = feature.properties;
      const s = ROAD[p.highway] || (p.car ? ["#56667a", 2] : ["#333d4a", 1]);
      return { color: s[0], weight: s[1], opacity: 0.9 };
    },
    beatStyle: function () {
      return { color: "#5dade2", weight: 2, dashArray: "6 6", fillOpacity: 0.03 };
    },
    beatLabel: function (feature, layer) {
      layer.bindTooltip(esc(feature.properties.name),
        { permanent: true, direction: "center", className: "beat-label" });
    },
    coneStyle: function () {
      return { color: "#f5b041", weight: 1, fillOpacity: 0.15 };
    },
    cameraMarker: function (feature, latlng) {
      const p = feature.properties;
      // Health from the server's background check (feeds/camera_health.py).
      const colour = { online: "#f5b041", no_signal: "#e74c3c", unreachable: "#e74c3c" };
      const label = { online: "online", no_signal: "no signal", unreachable: "unreachable" };
      return L.circleMarker(latlng, {
        radius: 4, color: colour[p.health] || "#95a5a6", weight: 1, fillOpacity: 0.9,
        className: "camera camera-" + esc(p.health),
      }).bindTooltip(esc(p.name) + "<br>" + esc(label[p.health] || "not checked"));
    },
    stationMarker: function (feature, latlng) {
      const icon = L.divIcon({ className: "station-icon", html: "★", iconSize: [28, 28] });
      return L.marker(latlng, { icon: icon, keyboard: false })
        .bindTooltip(esc(feature.properties.name) + "<br>" + esc(feature.properties.phone));
    },
    unitIcon: function (p) {
      const c = unitColours(p);
      const html = '<div class="unit-glyph" style="color:' + c.fill + ";border-color:" + c.ring +
        '">' + (GLYPH[p.kind] || "●") + '</div><div class="unit-callsign">' + esc(p.call_sign) +
        "</div>";
      return L.divIcon({ className: "unit-icon unit-" + esc(p.presence), html: html,
                         iconSize: [26, 26], iconAnchor: [13, 13] });
    },
    unitMarker: function (feature, latlng) {
      const p = feature.properties;
      return L.marker(latlng, { icon: window.dm.map.unitIcon(p), keyboard: false,
                                title: p.call_sign });
    },
    /* The same unit as a dot on the map's canvas (no DOM element of its own),
     * for when thousands are in view: presence fills it, status rings it. */
    unitDotStyle: function (p) {
      const c = unitColours(p);
      return { radius: DOT_RADIUS[p.kind] || 4, color: c.ring, weight: 2, fillColor: c.fill,
               fillOpacity: 0.95, opacity: 1 };
    },
    unitDot: function (feature, latlng) {
      return L.circleMarker(latlng, window.dm.map.unitDotStyle(feature.properties));
    },
    /* The tooltip reads the layer's feature when it opens, so a live layer that
     * swaps ``layer.feature`` shows the latest; ``layer.dmSeenAt`` (ms, when the
     * fix age was read) lets the age keep counting between updates. */
    unitTooltip: function (feature, layer) {
      layer.bindTooltip(function (source) {
        const p = (source.feature || feature).properties;
        const since = source.dmSeenAt ? (Date.now() - source.dmSeenAt) / 1000 : 0;
        const age = p.fix_age_s == null ? null : Math.round(p.fix_age_s + since);
        return "<b>" + esc(p.call_sign) + "</b> · " + esc(p.kind) + "<br>" +
          "status: " + esc(p.status) + " · " + esc(p.presence) + "<br>" +
          "talkgroup " + esc(p.talkgroup) + " · " + esc(p.phone) + "<br>" +
          "last fix " + esc(p.fix_time) + " (" + esc(age) + " s ago)" +
          (p.speed_kmh != null ? " · " + esc(p.speed_kmh) + " km/h" : "") +
          (p.incident_id != null ? "<br>on incident #" + esc(p.incident_id) : "");
      }, { direction: "top", offset: [0, -12] });
    },
  };
})();
/* Incidents: a square by priority; an unassigned P1 pulses so it catches the eye. */
(function () {
  "use strict";
  const COLOR = { 1: "#ff3b30", 2: "#ff9500", 3: "#ffcc00", 4: "#8e8e93" };
  window.dm.map.incidentMarker = function (feature, latlng) {
    const p = feature.properties;
    const cls = "incident-icon" + (p.unassigned && p.priority === 1 ? " incident-alarm" : "");
    const html = '<div class="incident-glyph" style="background:' + (COLOR[p.priority] || "#888") +
      '">P' + p.priority + "</div>";
    return L.marker(latlng, { icon: L.divIcon({ className: cls, html: html, iconSize: [30, 22],
      iconAnchor: [15, 11] }), title: "#" + p.id + " " + p.type, zIndexOffset: 1000 })
      .bindTooltip("#" + p.id + " " + p.type + " · " + p.status);
  };
})();
/* Road covered within the target time: a soft green band under the units. */
(function () {
  "use strict";
  window.dm.map.coverageStyle = function () {
    return { color: "#2ecc71", weight: 7, opacity: 0.35, lineCap: "round" };
  };
})();
