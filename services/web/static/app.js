// Jejak's own script. The pages work without it; it moves focus after a partial update so that
// keyboard and screen-reader users land where the change is.
document.addEventListener("htmx:afterSwap", (event) => {
  const target = event.detail.target;
  if (!(target instanceof HTMLElement)) return;
  const invalid = target.querySelector("[aria-invalid='true']");
  const alert = target.querySelector("[role='alert']");
  const focusable = invalid || alert;
  if (focusable instanceof HTMLElement) {
    if (!focusable.hasAttribute("tabindex") && focusable === alert) {
      focusable.setAttribute("tabindex", "-1");
    }
    focusable.focus();
  }
});

// Uploads: the form's progress bar follows the bytes sent.
document.addEventListener("htmx:xhr:progress", (event) => {
  const form = event.target; // the form's own request, not a part of it refreshing
  const bar = form instanceof HTMLFormElement ? form.querySelector("progress.upload") : null;
  if (!bar || !event.detail.lengthComputable || !event.detail.total) return;
  bar.hidden = false;
  bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
});
