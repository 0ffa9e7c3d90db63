// Haetae console: shows why an HTMX request failed, since HTMX swaps nothing on a 403 or 500.
(function () {
  "use strict";
  function show(message) {
    var banner = document.getElementById("console-error");
    if (!banner) return;
    banner.textContent = message;
    banner.hidden = false;
    banner.scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("htmx:responseError", function (event) {
    var banner = document.getElementById("console-error");
    var message = banner ? banner.dataset.generic : "Request failed";
    var xhr = event.detail.xhr;
    if (xhr && xhr.responseText) {
      // The console answers refusals with a small HTML page; its first paragraph says why.
      var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
      var reason = doc.querySelector("main .card p");
      if (reason && reason.textContent.trim()) message = reason.textContent.trim();
    }
    show(message);
  });
  document.addEventListener("htmx:sendError", function () {
    var banner = document.getElementById("console-error");
    show(banner ? banner.dataset.offline : "Offline");
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var banner = document.getElementById("console-error");
    if (banner && event.detail.successful) banner.hidden = true;
  });
})();
