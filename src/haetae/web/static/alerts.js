// Haetae console, integrations pages: copy buttons and a confirmation before rotating a token.
// Without JavaScript (or without clipboard access) the text stays in a <pre> to select by hand.
(function () {
  "use strict";
  if (navigator.clipboard && window.isSecureContext) {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      button.hidden = false;
    });
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy]");
    if (!button) return;
    var source = document.getElementById(button.dataset.copy);
    if (!source) return;
    navigator.clipboard.writeText(source.textContent).then(
      function () {
        button.textContent = button.dataset.copied;
      },
      function () {
        button.textContent = button.dataset.failed;
      }
    );
  });
  document.addEventListener("submit", function (event) {
    var message = event.target.dataset ? event.target.dataset.confirm : "";
    if (message && !window.confirm(message)) event.preventDefault();
  });
})();
