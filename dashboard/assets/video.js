// Live camera pictures: every <video data-hls="/video/CAM/index.m3u8"> the
// server puts on a page gets an hls.js player (assets/vendor, no CDN); the
// stream comes through the server's proxy, never from the camera itself.
// A player whose element left the page is destroyed.
(function () {
  "use strict";
  const players = new Map();

  function attach(video) {
    const src = video.getAttribute("data-hls");
    if (!src || players.has(video)) return;
    video.muted = true;
    video.playsInline = true;
    if (window.Hls && window.Hls.isSupported()) {
      // No worker: it would be started from a blob: URL the page's policy refuses.
      const hls = new window.Hls({ enableWorker: false, liveSyncDurationCount: 2 });
      hls.on(window.Hls.Events.ERROR, function (_e, data) {
        if (data.fatal) video.closest(".video-tile")?.classList.add("video-dark");
      });
      hls.loadSource(src);
      hls.attachMedia(video);
      players.set(video, hls);
    } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
      video.src = src; // Safari plays HLS natively
      players.set(video, null);
    }
    video.play().catch(function () {}); // muted autoplay; a refusal leaves the controls
  }

  function sweep() {
    document.querySelectorAll("video[data-hls]").forEach(attach);
    players.forEach(function (hls, video) {
      if (!document.body.contains(video)) {
        if (hls) hls.destroy();
        players.delete(video);
      }
    });
  }

  new MutationObserver(sweep).observe(document.documentElement, { childList: true, subtree: true });
  document.addEventListener("DOMContentLoaded", sweep);
})();

// Escape-route cameras on the desk map (dashboard/layout/video.py): the
// ring's colour says within which minute a fleeing car or person could pass.
(function () {
  "use strict";
  const BAND = { 60: "#e74c3c", 120: "#e67e22", 180: "#f1c40f" };
  function clock(s) {
    if (s === null || s === undefined) return "–";
    const whole = Math.floor(s);
    return Math.floor(whole / 60) + ":" + String(whole % 60).padStart(2, "0");
  }
  window.dm = window.dm || {};
  window.dm.map = window.dm.map || {};
  window.dm.map.escapeCameraMarker = function (feature, latlng) {
    const p = feature.properties;
    const text = document.createElement("span");
    text.textContent = p.name + " · car " + clock(p.car_s) + " · foot " + clock(p.foot_s);
    // A DOM marker, not a circle: the desk map draws vectors on a canvas.
    const ring = '<div class="escape-ring" style="border-color:' +
      (BAND[p.band_s] || "#f1c40f") + '"></div>';
    return L.marker(latlng, {
      icon: L.divIcon({ className: "escape-camera", html: ring, iconSize: [20, 20] }),
      keyboard: false,
    }).bindTooltip(text);
  };
})();
