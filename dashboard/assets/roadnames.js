/* Road names on the city's own basemap at high zoom (window.dm.map.roadNames).
 *
 * Wired as the roads GeoJSON layer's "layeradd" event handler. The loaded city's
 * edges are split at every junction and path crossing (about 15 m each), too
 * short to carry a name, so the edges of one name are first chained end to
 * end; then, after every move at zoom >= MIN_ZOOM, each name gets at most one
 * label, on the stretch of its chain nearest the middle of the view that is
 * straight and long enough for the text, rotated along it, skipping any that
 * would overlap a label already placed. Major roads are placed first. */
(function () {
  "use strict";
  const MIN_ZOOM = 17;
  // Named classes worth a label, most important first (footways, service
  // roads and links are left out: short, many, and their names rarely help).
  const RANK = { trunk: 0, primary: 1, secondary: 2, tertiary: 3, residential: 4,
    unclassified: 4, living_street: 5, pedestrian: 5 };
  const FONT = '600 13px "Noto Sans", "DejaVu Sans", sans-serif';
  const PAD_PX = 14;          // room kept on both ends of the text along the road
  const BEND_PX = 3;          // how far the road may stray from the text's line
  const EDGE_PX = 8;          // labels stay this far inside the map
  const LINE_PX = 16;         // label height for the overlap test
  const PANE = "roadNames";

  let measure = null;
  function textWidth(text) {
    measure = measure || document.createElement("canvas").getContext("2d");
    measure.font = FONT;
    return measure.measureText(text).width;
  }

  function esc(text) {
    return String(text).replace(/[&<>"']/g, (c) => ({
      "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }

  /* Chain a name's edges ([[lon, lat], ...] each) into as few lines as their
   * shared end points allow. */
  function chainEdges(edges) {
    const key = (c) => c[0] + "," + c[1];
    const at = new Map();
    edges.forEach((e, i) => [key(e[0]), key(e[e.length - 1])].forEach((k) => {
      if (!at.has(k)) at.set(k, []);
      at.get(k).push(i);
    }));
    const used = new Array(edges.length).fill(false);
    function grow(line) {
      for (;;) {
        const end = key(line[line.length - 1]);
        const next = (at.get(end) || []).find((i) => !used[i]);
        if (next === undefined) return line;
        used[next] = true;
        const e = edges[next];
        line = line.concat((key(e[0]) === end ? e : e.slice().reverse()).slice(1));
      }
    }
    const lines = [];
    edges.forEach((e, i) => {
      if (used[i]) return;
      used[i] = true;
      const forward = grow(e.slice());
      lines.push(grow(forward.reverse()));
    });
    return lines;
  }

  /* The named roads of the layer: [{name, rank, width, lines: [{latlngs, bounds}]}]. */
  function namedRoads(layer) {
    const byName = new Map();
    layer.eachLayer((sub) => {
      const f = sub.feature;
      const p = f && f.properties;
      if (!p || !p.name || !(p.highway in RANK) || f.geometry.type !== "LineString") return;
      if (!byName.has(p.name)) byName.set(p.name, { rank: RANK[p.highway], edges: [] });
      const entry = byName.get(p.name);
      entry.rank = Math.min(entry.rank, RANK[p.highway]);
      entry.edges.push(f.geometry.coordinates);
    });
    const roads = [];
    byName.forEach((entry, name) => roads.push({
      name: name, rank: entry.rank, width: textWidth(name) + 2 * PAD_PX,
      lines: chainEdges(entry.edges).map((line) => {
        const latlngs = line.map((c) => L.latLng(c[1], c[0]));
        return { latlngs: latlngs, bounds: L.latLngBounds(latlngs) };
      }),
    }));
    return roads.sort((a, b) => a.rank - b.rank || b.width - a.width);
  }

  function inside(p, size) {
    return p.x >= EDGE_PX && p.y >= EDGE_PX && p.x <= size.x - EDGE_PX && p.y <= size.y - EDGE_PX;
  }

  function straight(pts, i, j) {
    const a = pts[i], b = pts[j], len = a.distanceTo(b);
    for (let k = i + 1; k < j; k++) {
      const cross = (b.x - a.x) * (pts[k].y - a.y) - (b.y - a.y) * (pts[k].x - a.x);
      if (Math.abs(cross) / len > BEND_PX) return false;
    }
    return true;
  }

  /* Stretches of one line (screen points) long and straight enough for
   * ``width`` px of text and inside the map: [{a, b, mid}]. */
  function stretches(pts, width, size) {
    const found = [];
    let j = 0, along = 0;  // along: path length from pts[i] to pts[j]
    for (let i = 0; i < pts.length - 1; i++) {
      if (j < i) { j = i; along = 0; }
      while (j < pts.length - 1 && along < width) { along += pts[j].distanceTo(pts[j + 1]); j++; }
      if (along < width) break;
      const a = pts[i], b = pts[j];
      if (a.distanceTo(b) >= width && inside(a, size) && inside(b, size) && straight(pts, i, j)) {
        found.push({ a: a, b: b, mid: a.add(b).divideBy(2) });
      }
      along -= pts[i].distanceTo(pts[i + 1]);
    }
    return found;
  }

  function box(mid, angle, width) {
    const c = Math.abs(Math.cos(angle)), s = Math.abs(Math.sin(angle));
    const hx = (c * width + s * LINE_PX) / 2, hy = (s * width + c * LINE_PX) / 2;
    return [mid.x - hx, mid.y - hy, mid.x + hx, mid.y + hy];
  }

  function overlaps(r, placed) {
    return placed.some((q) => r[0] < q[2] && q[0] < r[2] && r[1] < q[3] && q[1] < r[3]);
  }

  function label(map, road, spot) {
    let deg = Math.atan2(spot.b.y - spot.a.y, spot.b.x - spot.a.x) * 180 / Math.PI;
    if (deg > 90) deg -= 180;
    if (deg < -90) deg += 180;  // never upside down
    const html = '<span style="transform:translate(-50%,-50%) rotate(' + deg.toFixed(1) +
      'deg)">' + esc(road.name) + "</span>";
    return L.marker(map.containerPointToLatLng(spot.mid), {
      icon: L.divIcon({ className: "road-name", html: html, iconSize: [0, 0] }),
      interactive: false, keyboard: false, pane: PANE,
    });
  }

  /* Redraw the labels for the current view. */
  function draw(state) {
    const map = state.map;
    state.group.clearLayers();
    if (map.getZoom() < MIN_ZOOM) return;
    if (state.dirty) { state.roads = namedRoads(state.layer); state.dirty = false; }
    const view = map.getBounds(), size = map.getSize(), centre = size.divideBy(2);
    const placed = [];
    state.roads.forEach((road) => {
      const spots = [];
      road.lines.forEach((line) => {
        if (!view.intersects(line.bounds)) return;
        const pts = line.latlngs.map((ll) => map.latLngToContainerPoint(ll));
        spots.push(...stretches(pts, road.width, size));
      });
      spots.sort((s, t) => s.mid.distanceTo(centre) - t.mid.distanceTo(centre));
      const spot = spots.find((s) => !overlaps(
        box(s.mid, Math.atan2(s.b.y - s.a.y, s.b.x - s.a.x), road.width), placed));
      if (!spot) return;
      placed.push(box(spot.mid, Math.atan2(spot.b.y - spot.a.y, spot.b.x - spot.a.x), road.width));
      state.group.addLayer(label(map, road, spot));
    });
  }

  function install(layer, map) {
    if (!map.getPane(PANE)) {
      const pane = map.createPane(PANE);
      pane.style.zIndex = 390;  // above the roads (250), under beats, cameras and units
      pane.style.pointerEvents = "none";
    }
    const state = { map: map, layer: layer, group: L.layerGroup().addTo(map), dirty: true,
      roads: [], pending: null };
    state.later = () => {
      clearTimeout(state.pending);
      state.pending = setTimeout(() => draw(state), 50);
    };
    map.on("moveend", state.later);
    layer.once("remove", () => {
      clearTimeout(state.pending);
      map.off("moveend", state.later);
      map.removeLayer(state.group);
      delete layer._dmRoadNames;
    });
    return state;
  }

  window.dm = window.dm || {};
  window.dm.map = window.dm.map || {};
  /* The roads layer's "layeradd" handler (one call per road as the data is
   * added, after the layer is on its map: dash-leaflet attaches handlers too
   * late for "add"). Labels then follow the map until the layer goes. */
  window.dm.map.roadNames = function (event) {
    const layer = event.target, map = layer._map;
    if (!map) return;
    const state = layer._dmRoadNames || (layer._dmRoadNames = install(layer, map));
    state.dirty = true;
    state.later();
  };
})();
