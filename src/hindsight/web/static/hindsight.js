// The page's few behaviours, as a file: the Content-Security-Policy allows no inline script
// (no onclick attributes either), so buttons say what they do in data attributes.
// One listener on the document also covers parts HTMX swaps in later.

// "/" jumps to the search box, as on GitHub and Gmail, unless the person is typing somewhere.
document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
  const active = document.activeElement;
  if (active && (active.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(active.tagName))) return;
  const box = document.getElementById("search-query") || document.querySelector("[data-search-box]");
  if (!box) return;
  event.preventDefault();
  box.focus();
  box.select();
});

document.addEventListener("click", (event) => {
  const target = event.target instanceof Element ? event.target : null;
  if (!target) return;
  const opener = target.closest("[data-opens]");
  if (opener) {
    const dialog = document.getElementById(opener.getAttribute("data-opens"));
    // Reopening starts clean: the form's defaults, and no preview of the last file.
    const stale = opener.getAttribute("data-resets");
    if (stale) {
      dialog?.querySelector("form")?.reset();
      document.getElementById(stale)?.replaceChildren();
    }
    if (dialog && typeof dialog.showModal === "function") dialog.showModal();
    return;
  }
  const closer = target.closest("[data-closes-dialog]");
  if (closer) {
    const dialog = closer.closest("dialog");
    if (dialog) dialog.close();
    return;
  }
  if (target.closest("[data-prints]")) {
    event.preventDefault();
    window.print();
  }
});
