// Haetae console: the Copy button beside a runbook command (templates/runbooks/_command.html).
// Delegated from the document, so commands that HTMX swaps in later work too.
(function () {
  "use strict";
  function flash(button, label) {
    var original = button.dataset.label || button.textContent;
    button.dataset.label = original;
    button.textContent = label;
    window.setTimeout(function () { button.textContent = original; }, 1500);
  }
  function selectText(node) {
    var range = document.createRange();
    range.selectNodeContents(node);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button.copy-command") : null;
    if (!button) return;
    var box = button.closest(".runbook-command");
    var code = box ? box.querySelector("pre") : null;
    if (!code) return;
    var text = code.textContent;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () { flash(button, button.dataset.copied); },
        function () { selectText(code); flash(button, button.dataset.failed); }
      );
    } else {
      // Plain HTTP has no clipboard API: select the command so Ctrl+C copies it.
      selectText(code);
      var copied = false;
      try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
      flash(button, copied ? button.dataset.copied : button.dataset.failed);
    }
  });
})();
