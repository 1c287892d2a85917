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
