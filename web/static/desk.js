// The desk's own script: keyboard triage on the queue and the excerpt
// editor on the clipping page.  No inline scripts anywhere (the CSP forbids
// them); htmx does the requests.
"use strict";

(function () {
  function rows() {
    return Array.from(document.querySelectorAll("#queue tbody tr.story"));
  }

  function current() {
    return document.querySelector("#queue tr.story.current");
  }

  function select(row) {
    const old = current();
    if (old) old.classList.remove("current");
    if (!row) return;
    row.classList.add("current");
    row.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    const all = rows();
    if (!all.length) return;
    const at = all.indexOf(current());
    const next = at < 0 ? 0 : Math.min(Math.max(at + step, 0), all.length - 1);
    select(all[next]);
  }

  function typing(target) {
    return target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" ||
      target.tagName === "SELECT" || target.isContentEditable);
  }

  document.addEventListener("keydown", function (event) {
    if (!document.getElementById("queue") || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    const row = current();
    switch (event.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "o":
        if (row) row.querySelector("a.open").click();
        break;
      case "a": {
        const button = row && row.querySelector("button.approve");
        if (button) button.click();
        break;
      }
      case "r": {
        const reason = row && row.querySelector("input.reason");
        if (reason) reason.focus();
        break;
      }
      case "x": {
        const box = row && row.querySelector("input[type=checkbox]");
        if (box) box.checked = !box.checked;
        break;
      }
      default: return;
    }
    event.preventDefault();
  });

  // A row swapped in by htmx keeps the keyboard position.
  let kept = null;
  document.addEventListener("htmx:beforeRequest", function () {
    const row = current();
    kept = row ? row.id : null;
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (kept) select(document.getElementById(kept));
  });

  // Excerpt editor: a passage selected in the article text becomes the excerpt.
  document.addEventListener("mouseup", function () {
    const article = document.getElementById("article");
    const field = document.getElementById("f-excerpt");
    if (!article || !field) return;
    const selection = window.getSelection();
    if (!selection || selection.isCollapsed) return;
    if (!article.contains(selection.anchorNode) || !article.contains(selection.focusNode)) return;
    const text = selection.toString().replace(/\s+/g, " ").trim();
    if (text) field.value = text;
  });
})();
