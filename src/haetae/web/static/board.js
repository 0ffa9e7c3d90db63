// Haetae console, the follow-up board: drag and drop of action item cards (SortableJS). A drop
// posts the move; a refusal (a WIP limit) puts the card back and says why. Without JavaScript
// each card's "Move to ..." buttons do the same as plain forms.
(function () {
  "use strict";
  var board = document.getElementById("board");
  var message = document.getElementById("board-message");
  if (!board || !window.Sortable || !board.dataset.csrf) return;

  function say(text) {
    message.textContent = text;
    message.hidden = !text;
  }

  function recount(list) {
    var column = list.closest(".board-col");
    var count = column && column.querySelector("[data-count]");
    if (count) count.textContent = String(list.querySelectorAll(":scope > .bcard").length);
  }

  function putBack(event) {
    var card = event.item;
    card.remove();
    var siblings = event.from.querySelectorAll(":scope > .bcard");
    event.from.insertBefore(card, siblings[event.oldIndex] || null);
    recount(event.from);
    recount(event.to);
  }

  function showButtons(card, column) {
    card.querySelectorAll(".bcard-moves button[name=column]").forEach(function (button) {
      button.hidden = button.value === column;
    });
  }

  function dropped(event) {
    if (event.from === event.to && event.oldIndex === event.newIndex) return;
    var card = event.item;
    var column = event.to.dataset.column;
    var body = new FormData();
    body.append("column", column);
    var next = card.nextElementSibling;
    var previous = card.previousElementSibling;
    if (next && next.dataset.code) body.append("before", next.dataset.code);
    else if (previous && previous.dataset.code) body.append("after", previous.dataset.code);
    recount(event.from);
    recount(event.to);
    board.setAttribute("aria-busy", "true");
    fetch("/board/items/" + encodeURIComponent(card.dataset.code) + "/move", {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRF-Token": board.dataset.csrf, Accept: "application/json" },
    })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return {};
          })
          .then(function (data) {
            if (response.ok) {
              say("");
              showButtons(card, column);
              card.dataset.column = column;
              return;
            }
            putBack(event);
            say((data.error && data.error.message) || board.dataset.failed);
          });
      })
      .catch(function () {
        putBack(event);
        say(board.dataset.failed);
      })
      .finally(function () {
        board.removeAttribute("aria-busy");
      });
  }

  board.querySelectorAll('.board-cards[data-lane="action_items"]').forEach(function (list) {
    window.Sortable.create(list, {
      group: "action-items",
      animation: 120,
      // Pointer events rather than the browser's native drag and drop: the same on every
      // browser and on touch screens.
      forceFallback: true,
      draggable: ".bcard",
      filter: "button, a, input",
      preventOnFilter: false,
      onEnd: dropped,
    });
  });
})();
