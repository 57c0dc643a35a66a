// "Larger text" without a page load, so nothing typed is lost (web/text_size.py). The choice is sent
// in the background and remembered on the device as before; the page changes size in place and the
// button says what it will do next. Without this script the button posts its form (and on pages with
// something to type, a switch inside the page's own form keeps it: participate/_text_size.html).
const LABELS = { large: "Larger text", normal: "Standard text size" };

document.addEventListener("click", async (event) => {
  const button = event.target instanceof Element ? event.target.closest("[data-text-size]") : null;
  if (!button || !window.fetch) return;
  event.preventDefault();
  const size = button.getAttribute("value") === "large" ? "large" : "normal";
  const body = new FormData();
  body.append("csrf_token", button.getAttribute("data-csrf") || "");
  body.append("text_size", size);
  try {
    await fetch(button.getAttribute("data-text-size-url"), {
      method: "POST", body, credentials: "same-origin",
      headers: { "HX-Request": "true", "X-CSRF-Token": button.getAttribute("data-csrf") || "" },
    });
  } catch (error) {
    // Offline: this page still changes as asked; the next page shows the size the device remembers.
  }
  document.documentElement.classList.toggle("app-large-text", size === "large");
  const next = size === "large" ? "normal" : "large";
  button.setAttribute("value", next);
  button.textContent = LABELS[next];
});
