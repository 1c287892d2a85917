/* The desk's incident queue (window.dash_clientside.desk): the rows are drawn
 * by the server only when an incident, its status or its units change; the
 * waiting times, which move every tick, are set here from the tick's
 * {incident id: text} map. Redrawing the whole table every tick replaced the
 * row buttons under the pointer, and a click between press and release was
 * lost. */
(function () {
  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.desk = {
    queueWaiting: function (waiting, cells) {
      const known = waiting || {};
      return (cells || []).map(function (id) {
        const text = known[String(id.incident)];
        return text === undefined ? window.dash_clientside.no_update : text;
      });
    },
  };
})();

/* The suggestion table's figures (ETA, distances, fix age, coverage), set in
 * place from the server's {"unit|column": text} map: its rows, with their
 * Dispatch buttons, are drawn again only when the units or their order
 * change, so a click is not held back behind a redraw and then lost. */
(function () {
  window.dash_clientside.desk.cells = function (figures, cells) {
    const known = figures || {};
    return (cells || []).map(function (id) {
      const text = known[id.cell];
      return text === undefined ? window.dash_clientside.no_update : text;
    });
  };
})();
