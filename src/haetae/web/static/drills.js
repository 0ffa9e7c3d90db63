// Haetae console, drill pages: the chaos experiment's template fields show only when the new
// drill's kind is a chaos experiment. Without JavaScript they stay visible (and are ignored
// for the other kinds).
(function () {
  "use strict";
  var kind = document.getElementById("drill-kind");
  var chaos = document.getElementById("chaos-fields");
  if (!kind || !chaos) return;
  function show() {
    chaos.hidden = kind.value !== "chaos";
  }
  kind.addEventListener("change", show);
  show();
})();
