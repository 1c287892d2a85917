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

/* The emergency tone: while the server says an emergency alarm is open and
 * nobody has taken it ({"sound": true}), a two-tone 880/660 Hz signal made
 * with WebAudio (no sound file fetched from anywhere); it stops as soon as
 * someone takes the alarm or it ends. window.dmTone.playing tells a test. */
(function () {
  const tone = { ctx: null, osc: null, timer: null, playing: false };
  window.dmTone = tone;
  function start() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return false;
    tone.ctx = tone.ctx || new Context();
    if (tone.ctx.state === "suspended") tone.ctx.resume();
    const osc = tone.ctx.createOscillator();
    const gain = tone.ctx.createGain();
    osc.type = "square";
    osc.frequency.value = 880;
    gain.gain.value = 0.15;
    osc.connect(gain).connect(tone.ctx.destination);
    osc.start();
    let high = true;
    tone.timer = window.setInterval(function () {
      high = !high;
      osc.frequency.setValueAtTime(high ? 880 : 660, tone.ctx.currentTime);
    }, 400);
    tone.osc = osc;
    return true;
  }
  function stop() {
    window.clearInterval(tone.timer);
    tone.osc.stop();
    tone.osc.disconnect();
    tone.osc = null;
  }
  window.dash_clientside.desk.tone = function (alarm) {
    const on = Boolean(alarm && alarm.sound);
    if (on && !tone.playing) tone.playing = start();
    if (!on && tone.playing) {
      stop();
      tone.playing = false;
    }
    return tone.playing ? "sounding" : "";
  };
})();
