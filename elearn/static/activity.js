// Active learning time: while this page is visible and in use (keyboard, mouse, touch or
// scrolling within the last minute), tell the server every data-beat milliseconds (the
// server's activity.BEAT, 30 seconds). Nothing else is sent.
(function () {
  "use strict";
  var marker = document.getElementById("activity");
  if (!marker || !window.fetch) { return; }
  var url = marker.getAttribute("data-url");
  var token = marker.getAttribute("data-csrf");
  var beat = parseInt(marker.getAttribute("data-beat"), 10) || 30000;
  var lastUse = Date.now();
  ["keydown", "mousemove", "mousedown", "wheel", "scroll", "touchstart", "focus"].forEach(
    function (name) {
      window.addEventListener(name, function () { lastUse = Date.now(); },
        { passive: true, capture: true });
    });
  window.setInterval(function () {
    if (document.visibilityState !== "visible" || Date.now() - lastUse > 60000) { return; }
    window.fetch(url, { method: "POST", credentials: "same-origin",
      headers: { "X-CSRFToken": token } }).catch(function () {});
  }, beat);
})();
