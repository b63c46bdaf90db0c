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
