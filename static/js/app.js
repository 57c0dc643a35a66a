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

// Ballots survive poor venue Wi-Fi. A <form data-ballot> is sent with fetch; if the network
// fails, the participant is told "Not saved yet, trying again" and the same request (same
// device-made key, so it can never count twice) is retried until the server acknowledges it.
const RETRY_MS = [1000, 2000, 4000, 8000, 10000];
const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function say(form, text, state) {
  const status = form.querySelector(".app-ballot-status");
  if (!status) return;
  status.textContent = text;
  status.dataset.state = state;
}

async function sendBallot(form, submitter) {
  // FormData(form, submitter) is too new for older iPads: add the pressed button by hand.
  const body = new FormData(form);
  if (submitter && submitter.name && !body.has(submitter.name)) body.append(submitter.name, submitter.value);
  const buttons = form.querySelectorAll("button");
  buttons.forEach((b) => { b.disabled = true; });
  say(form, "Saving…", "saving");
  for (let attempt = 0; ; attempt += 1) {
    let response = null;
    try {
      response = await fetch(form.action, { method: "POST", body, credentials: "same-origin" });
    } catch (error) {
      response = null; // the network failed: retry below
    }
    if (response && response.ok) {
      say(form, "Saved", "saved");
      window.location.assign(response.url);
      return;
    }
    if (response && response.status < 500) {
      // The server answered (a closed round, a form error): show its page the ordinary way.
      buttons.forEach((b) => { b.disabled = false; });
      form.dataset.native = "yes";
      if (submitter && submitter.name) {
        const pressed = document.createElement("input");
        pressed.type = "hidden";
        pressed.name = submitter.name;
        pressed.value = submitter.value;
        form.appendChild(pressed);
      }
      form.submit();
      return;
    }
    say(form, "Not saved yet, trying again…", "retrying");
    await wait(RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)]);
  }
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-ballot")) return;
  if (event.defaultPrevented || form.dataset.native === "yes" || !window.fetch) return;
  event.preventDefault();
  sendBallot(form, event.submitter || null);
});
