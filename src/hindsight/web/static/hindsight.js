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

// An in-place form whose save is refused keeps what was typed and says why, in the form
// (web/form_errors.py). When the browser signed in again since the page loaded, the answer
// carries the new session's CSRF token: the page takes it and sends the same form once more.
function refreshCsrf(token) {
  document.body.setAttribute("hx-headers", JSON.stringify({ "X-CSRF-Token": token }));
  for (const input of document.querySelectorAll('input[name="csrf_token"]')) input.value = token;
}

function showProblem(form, message) {
  let box = form.querySelector(":scope > .save-problem");
  if (!box) {
    box = document.createElement("div");
    box.className = "problem save-problem";
    box.setAttribute("role", "alert");
    form.prepend(box);
  }
  box.textContent = message;
  box.scrollIntoView({ block: "nearest" });
}

function formOf(event) {
  const element = event.detail && event.detail.elt;
  return element instanceof Element ? element.closest("form") : null;
}

document.addEventListener("htmx:responseError", (event) => {
  const form = formOf(event);
  if (!form) return;
  const xhr = event.detail.xhr;
  const fresh = xhr.getResponseHeader("X-CSRF-Refresh");
  if (xhr.status === 403 && fresh && !form.dataset.resent) {
    form.dataset.resent = "1";
    refreshCsrf(fresh);
    window.htmx.trigger(form, "submit");
    return;
  }
  delete form.dataset.resent;
  showProblem(
    form,
    xhr.getResponseHeader("X-Hindsight-Message") ||
      `Not saved: Hindsight answered ${xhr.status}. What you typed is still here; try again.`,
  );
});

document.addEventListener("htmx:sendError", (event) => {
  const form = formOf(event);
  if (form) {
    showProblem(form, "Not saved: Hindsight did not answer. What you typed is still here; try again.");
  }
});

document.addEventListener("htmx:afterRequest", (event) => {
  const form = formOf(event);
  if (form && event.detail.successful) delete form.dataset.resent;

});
