/* Says plainly when the server cannot be reached, and clears when it can:
 * polls /healthz (the server also checks its database there). Dash's own
 * interval callbacks resume by themselves once the server answers again. */
(function () {
  "use strict";
  const PERIOD_MS = 2000;
  let failures = 0;
  function banner() {
    let el = document.getElementById("dm-connection");
    if (!el) {
      el = document.createElement("div");
      el.id = "dm-connection";
      el.setAttribute("role", "alert");
      el.textContent = "Connection to the dispatchmap server lost: the map is not live. Retrying…";
      document.body.appendChild(el);
    }
    return el;
  }
  function check() {
    fetch("/healthz", { cache: "no-store" }).then(function (r) {
      if (!r.ok) { throw new Error(String(r.status)); }
      failures = 0;
      const el = document.getElementById("dm-connection");
      if (el) { el.remove(); }
    }).catch(function () {
      failures += 1;
      if (failures >= 2) { banner(); }
    }).finally(function () { setTimeout(check, PERIOD_MS); });
  }
  setTimeout(check, PERIOD_MS);
})();
