/* The live units layer (window.dm.live): applies the server's deltas
 * (dashboard/live.py) to a Leaflet layer kept by unit id. A unit that moved is
 * moved (setLatLng), its look is redone only when kind, status, presence or
 * call sign changed, new units are added, and units absent from a full load
 * are dropped. Nothing is rebuilt, so open tooltips, the zoom and the pan
 * survive every update and markers do not flicker.
 *
 * How the layer is reached: the page puts an empty dl.LayerGroup with an id
 * and eventHandlers {add: dm.live.attach}; dash-leaflet calls a handler with
 * (event, {map, ...props}), so attach gets the L.LayerGroup (event.target),
 * its map and its Dash id, and keeps them here. A clientside callback calls
 * dm.live.apply(id, delta) with each delta the server stores; the units are
 * held by id even before the group is on the map, and drawn when it is.
 *
 * Thinning: with more than ICON_LIMIT units in view every unit is a dot on the
 * map's canvas (no DOM element per unit: 5,000 move in one redraw), filled with
 * its presence colour and ringed with its status colour, so the room still
 * sees every unit's presence. With fewer in view, those in (and just around)
 * the view get the full icon with call sign (dm.map.unitMarker), the rest stay
 * dots. Looks come from map.js; this file only decides and moves. */
(function () {
  "use strict";
  const ICON_LIMIT = 300;
  // Icons reach a quarter screen past each edge, so a short pan shows them drawn.
  const VIEW_PAD = 0.25;
  const LOG_SIZE = 20;
  const layers = {};

  function noUpdate() {
    return window.dash_clientside ? window.dash_clientside.no_update : undefined;
  }

  function lookOf(p) {
    return [p.kind, p.status, p.presence, p.call_sign].join("|");
  }

  /* Which units get icons: only the ones in the (padded) view, and only when
   * few units are in view. Returns whether that choice changed. */
  function rethink(layer) {
    const bounds = layer.map.getBounds();
    let shown = 0;
    layer.units.forEach(function (u) {
      if (bounds.contains(u.latlng)) shown += 1;
    });
    const view = shown <= ICON_LIMIT ? bounds.pad(VIEW_PAD) : null;
    const changed = view === null ? layer.view !== null
      : layer.view === null || !layer.view.equals(view);
    layer.view = view;
    return changed;
  }

  function create(layer, u, form) {
    const m = window.dm.map;
    u.marker = form === "icon" ? m.unitMarker(u.feature, u.latlng) : m.unitDot(u.feature, u.latlng);
    u.marker.feature = u.feature;
    u.marker.dmSeenAt = u.seenAt;
    m.unitTooltip(u.feature, u.marker);
    u.form = form;
    u.look = lookOf(u.feature.properties);
    layer.group.addLayer(u.marker);
  }

  /* Bring one unit's marker in line with its feature: as little as possible. */
  function place(layer, u) {
    const form = layer.view !== null && layer.view.contains(u.latlng) ? "icon" : "dot";
    if (u.marker === null || u.form !== form) {
      const open = u.marker !== null && u.marker.isTooltipOpen();
      if (u.marker !== null) layer.group.removeLayer(u.marker);
      create(layer, u, form);
      if (open) u.marker.openTooltip();
      return;
    }
    const marker = u.marker;
    if (!marker.getLatLng().equals(u.latlng)) marker.setLatLng(u.latlng);
    const look = lookOf(u.feature.properties);
    if (look !== u.look) {
      const p = u.feature.properties;
      if (form === "icon") {
        marker.options.title = p.call_sign;
        marker.setIcon(window.dm.map.unitIcon(p));
      } else {
        marker.setStyle(window.dm.map.unitDotStyle(p));
      }
      u.look = look;
    }
    marker.feature = u.feature;
    marker.dmSeenAt = u.seenAt;
    if (marker.isTooltipOpen()) marker.getTooltip().update();
  }

  function drop(layer, unitId) {
    const u = layer.units.get(unitId);
    if (u && u.marker !== null) layer.group.removeLayer(u.marker);
    layer.units.delete(unitId);
  }

  /* Store the delta's features by unit id; the units it touched. */
  function take(layer, delta) {
    const seenAt = Date.now();
    const touched = [];
    const listed = delta.full ? new Set() : null;
    delta.units.features.forEach(function (f) {
      const p = f.properties;
      let u = layer.units.get(p.id);
      if (!u) {
        u = { marker: null, form: null, look: null };
        layer.units.set(p.id, u);
      }
      u.feature = f;
      u.latlng = L.latLng(f.geometry.coordinates[1], f.geometry.coordinates[0]);
      u.seenAt = seenAt;
      touched.push(u);
      if (listed) listed.add(p.id);
    });
    if (listed) {
      Array.from(layer.units.keys()).forEach(function (unitId) {
        if (!listed.has(unitId)) drop(layer, unitId);
      });
    }
    return touched;
  }

  function record(layerId, started, delta, touched, layer) {
    const entry = {
      layer: layerId, full: !!delta.full, units: touched, held: layer.units.size,
      icons: layer.view !== null, apply_ms: performance.now() - started, paint_ms: null,
    };
    const log = window.dm.live.log;
    log.push(entry);
    if (log.length > LOG_SIZE) log.shift();
    // Leaflet redraws its canvas on the next animation frame: when this runs,
    // the frame after the apply has been drawn.
    requestAnimationFrame(function () {
      entry.paint_ms = performance.now() - started;
    });
  }

  function held(layerId) {
    if (!layers[layerId]) {
      layers[layerId] = { group: null, map: null, onMove: null, units: new Map(), view: null };
    }
    return layers[layerId];
  }

  function reconsider(layer) {
    if (rethink(layer)) layer.units.forEach(function (u) { place(layer, u); });
  }

  window.dm = window.dm || {};
  window.dm.live = {
    ICON_LIMIT: ICON_LIMIT,
    log: [],

    /* eventHandlers.add of the page's units dl.LayerGroup: from now on the
     * units held for ``ctx.id`` are drawn on it. Added again (an overlay
     * switched back on) it keeps its markers. */
    attach: function (event, ctx) {
      const group = event.target;
      const layer = held(ctx.id);
      if (layer.group === group) return;
      if (layer.map) layer.map.off("moveend", layer.onMove);
      if (layer.group) layer.group.clearLayers();
      layer.group = group;
      layer.map = group._map || ctx.map;
      layer.view = null;
      layer.units.forEach(function (u) { u.marker = null; });  // they were on the old group
      layer.onMove = function () { reconsider(layer); };  // a zoom ends with moveend too
      layer.map.on("moveend", layer.onMove);
      rethink(layer);
      layer.units.forEach(function (u) { place(layer, u); });
    },

    /* Apply one delta to the units held for ``layerId`` (drawn once its
     * layer is attached); the version to ask from next time, or null (ask for
     * everything) when the count shows a unit held here is gone on the server. */
    apply: function (layerId, delta) {
      if (!delta) return noUpdate();
      const layer = held(layerId);
      const started = performance.now();
      const touched = take(layer, delta);
      if (layer.group !== null) {
        if (rethink(layer)) layer.units.forEach(function (u) { place(layer, u); });
        else touched.forEach(function (u) { place(layer, u); });
      }
      record(layerId, started, delta, touched.length, layer);
      return layer.units.size === delta.count ? delta.version : null;
    },

    /* The marker of a unit on layer ``layerId`` (tests and benchmarks). */
    marker: function (layerId, unitId) {
      const u = layers[layerId] && layers[layerId].units.get(unitId);
      return u ? u.marker : null;
    },
  };
})();
