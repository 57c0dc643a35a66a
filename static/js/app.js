// codesign page behaviour. Everything here is an enhancement: every page works without it.
import { initAll } from "../vendor/nhsuk-frontend-10.6.1/nhsuk-frontend.min.js";

initAll();

// Re-initialise NHS.UK components (character counts, error summaries) inside swapped-in HTML.
document.addEventListener("htmx:afterSettle", (event) => {
  const target = event.detail && event.detail.elt;
  if (target instanceof Element) initAll({ scope: target });
});

// Destructive actions ask first: <button data-confirm="Withdraw this outcome?">.
document.addEventListener("submit", (event) => {
  const button = event.submitter || event.target.querySelector("[data-confirm]");
  const message = button && button.getAttribute && button.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);
