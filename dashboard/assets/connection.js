/* Says plainly when the page is not live, and what happens next.
 *
 * - The server cannot be reached: polls /healthz (the server also checks its
 *   database there) and shows a banner until it answers again; Dash's own
 *   interval callbacks resume by themselves.
 * - Nobody is signed in any more (a session that ended, a wall token that
 *   was revoked): the server refuses the page's callbacks with the header
 *   X-DM-Signed-Out. The page says so and goes to the sign-in page, instead
 *   of standing still looking live and being refused every second. */
(function () {
  "use strict";
  const PERIOD_MS = 2000;
  const SIGN_IN_AFTER_MS = 3000;
  const SIGNED_OUT_HEADER = "X-DM-Signed-Out";
  let failures = 0;
  let leaving = false;

  function banner(text) {
    let el = document.getElementById("dm-connection");
    if (!el) {
      el = document.createElement("div");
      el.id = "dm-connection";
      el.setAttribute("role", "alert");
      document.body.appendChild(el);
    }
    el.textContent = text;
    return el;
  }

  function check() {
    if (leaving) { return; }
    fetch("/healthz", { cache: "no-store" }).then(function (r) {
      if (!r.ok) { throw new Error(String(r.status)); }
      failures = 0;
      const el = document.getElementById("dm-connection");
      if (el && !leaving) { el.remove(); }
    }).catch(function () {
      failures += 1;
      if (failures >= 2) {
        banner("Connection to the dispatchmap server lost: the map is not live. Retrying…");
      }
    }).finally(function () { setTimeout(check, PERIOD_MS); });
  }

  function signedOut() {
    if (leaving) { return; }
    leaving = true;
    banner("Signed out, or this screen's access was revoked: the map is not live. " +
           "Opening the sign-in page…");
    setTimeout(function () {
      window.location.assign("/login?next=" + window.location.pathname);  // a path, as the server sends it
    }, SIGN_IN_AFTER_MS);
  }

  const originalFetch = window.fetch.bind(window);
  window.fetch = function (input, init) {
    return originalFetch(input, init).then(function (response) {
      if (response.status === 403 && response.headers.get(SIGNED_OUT_HEADER) === "1") {
        signedOut();
      }
      return response;
    });
  };

  setTimeout(check, PERIOD_MS);
})();
