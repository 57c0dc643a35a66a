// codesign page behaviour. Everything here is an enhancement: every page works without it.
import { initAll } from "../vendor/nhsuk-frontend-10.6.1/nhsuk-frontend.min.js";

initAll();

// Re-initialise NHS.UK components (character counts, error summaries) inside swapped-in HTML.
document.addEventListener("htmx:afterSettle", (event) => {
  const target = event.detail && event.detail.elt;
  if (target instanceof Element) initAll({ scope: target });
});

// A swap that replaces the focused control (Accept on the console, or a poll bringing news) must
// not drop keyboard focus to the top of the page: focus the same control in the new content if it
// is still there, otherwise the region's [data-swap-focus] heading, so people carry on from there.
let swapFocus = null;
const focusKey = (el) => el.id || el.getAttribute("href")
  || (el.form ? `${el.form.getAttribute("action")}|${el.textContent.trim()}` : null);
document.addEventListener("htmx:beforeSwap", (event) => {
  const target = event.detail && event.detail.target;
  const active = document.activeElement;
  swapFocus = target instanceof Element && target.id && active && active !== document.body && target.contains(active)
    ? { region: target.id, key: focusKey(active) } : null;
});
document.addEventListener("htmx:afterSettle", () => {
  if (!swapFocus) return;
  const { region: id, key } = swapFocus;
  swapFocus = null;
  const region = document.getElementById(id);
  if (!region || (document.activeElement && document.activeElement !== document.body)) return;
  const same = key ? Array.from(region.querySelectorAll("a, button, input, select, textarea, summary"))
    .find((el) => focusKey(el) === key) : null;
  const heading = region.querySelector("[data-swap-focus]") || region.querySelector("h2, h1");
  const next = same || heading;
  if (!next) return;
  if (!same && !next.hasAttribute("tabindex")) next.setAttribute("tabindex", "-1");
  next.focus();
});

// A section someone may be reading (data-hold-while-reading: the participants' "on the list so far")
// is not refreshed while focus, a text selection or the pointer is inside it: its poll is skipped
// (the next one catches up), and an answer that arrives meanwhile is not swapped in.
const beingRead = (el) => {
  if (!(el instanceof Element) || !el.hasAttribute("data-hold-while-reading")) return false;
  const selection = window.getSelection ? window.getSelection() : null;
  const selected = selection && !selection.isCollapsed && selection.anchorNode && el.contains(selection.anchorNode);
  return el.contains(document.activeElement) || Boolean(selected) || el.matches(":hover");
};
document.addEventListener("htmx:beforeRequest", (event) => {
  if (beingRead(event.detail && event.detail.elt)) event.preventDefault();
});
document.addEventListener("htmx:beforeSwap", (event) => {
  if (beingRead(event.detail && event.detail.target)) event.detail.shouldSwap = false;
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

// A wide table scrolls inside its own box on a narrow screen: a box that scrolls can be reached
// (and scrolled) with the keyboard; one that fits is not an extra tab stop.
function focusableScrollers() {
  document.querySelectorAll(".app-table-scroll").forEach((box) => {
    if (box.scrollWidth > box.clientWidth + 1) box.setAttribute("tabindex", "0");
    else box.removeAttribute("tabindex");
  });
}
focusableScrollers();
window.addEventListener("resize", focusableScrollers);
document.addEventListener("htmx:afterSettle", focusableScrollers);

// Long checkbox lists (the outcomes in a new round) get "Tick all" and "Untick all" buttons.
document.querySelectorAll("[data-tick-all]").forEach((row) => {
  const name = row.getAttribute("data-tick-all");
  const form = row.closest("form");
  if (!form) return;
  row.hidden = false;
  row.addEventListener("click", (event) => {
    const button = event.target instanceof Element ? event.target.closest("[data-tick]") : null;
    if (!button) return;
    const checked = button.getAttribute("data-tick") === "all";
    form.querySelectorAll(`input[type=checkbox][name="${name}"]`).forEach((box) => { box.checked = checked; });
  });
});

// A ranking or points list that is changed but not sent does not count: leaving the page asks
// first. Sending it, or any change to it (a form on this page), is not leaving. Asked when leaving,
// not when the page loads: a tap swaps in a new list, which can make it unsent.
if (document.querySelector("[data-list-area]")) {
  let submitting = false;
  document.addEventListener("submit", (event) => { if (!event.defaultPrevented) submitting = true; });
  window.addEventListener("beforeunload", (event) => {
    if (submitting || !document.querySelector("[data-unsent-list]")) return;
    event.preventDefault();
    event.returnValue = "";
  });
}

// A tap on a ranking or points list (Add, Move up, +: templates/macros/lists.html) swaps in only
// the new list, so the page does not move. Focus goes back to the tapped button (found by its id in
// the new list) or, when it is gone or disabled (the outcome moved to the other list, the last dot
// given), to the first usable button of the same outcome's row; focusing it keeps it in view.
// The status region outside the list says what happened (hx-swap-oob from the server).
// While the change is on its way the list is busy: its other buttons are disabled (a second tap
// would carry the list as it was) and the tapped one is aria-disabled, so it keeps focus.
let tappedInList = null;
document.addEventListener("htmx:beforeRequest", (event) => {
  const elt = event.detail && event.detail.elt;
  const area = elt instanceof Element ? elt.closest("[data-list-area]") : null;
  if (!area || event.defaultPrevented) return;
  tappedInList = { id: elt.id, row: elt.getAttribute("data-list-row") };
  area.setAttribute("aria-busy", "true");
  area.querySelectorAll("button").forEach((b) => {
    if (b === elt) b.setAttribute("aria-disabled", "true");
    else if (!b.disabled) { b.disabled = true; b.dataset.busyDisabled = "yes"; }
  });
});
// Not through (no network, a server error): the list as it was, usable again, and say so.
document.addEventListener("htmx:afterRequest", (event) => {
  const elt = event.detail && event.detail.elt;
  const area = elt instanceof Element ? elt.closest("[data-list-area]") : null;
  if (!area || !document.body.contains(area) || (event.detail.successful && !event.detail.failed)) return;
  if (event.detail.xhr && [409, 422].includes(event.detail.xhr.status)) return; // swapped in with the reason
  tappedInList = null;
  area.removeAttribute("aria-busy");
  area.querySelectorAll("button").forEach((b) => {
    b.removeAttribute("aria-disabled");
    if (b.dataset.busyDisabled === "yes") { b.disabled = false; delete b.dataset.busyDisabled; }
  });
  const news = document.getElementById("list-news");
  if (news) news.textContent = "That change was not saved. Check the connection and tap again.";
});
document.addEventListener("htmx:afterSwap", () => {
  const was = tappedInList;
  tappedInList = null;
  const area = document.querySelector("[data-list-area]");
  if (!was || !area || area.querySelector(".nhsuk-error-summary")) return; // an error summary takes focus
  const usable = (el) => el instanceof HTMLButtonElement && !el.disabled && area.contains(el);
  let next = document.getElementById(was.id);
  if (!usable(next)) {
    next = Array.from(area.querySelectorAll("button[data-list-row]"))
      .find((el) => el.getAttribute("data-list-row") === was.row && usable(el)) || null;
  }
  if (next) {
    next.focus({ preventScroll: true });
    keepInView(next, area.querySelector(".app-send--unsent"));
  }
});

// Scroll `el` into view if it is not, and out from under the sticky bars (the unsent list's send
// bar at the bottom, the room's status bar at the top), which would otherwise hide it.
function keepInView(el, bottomBar) {
  el.scrollIntoView({ block: "nearest" });
  const box = el.getBoundingClientRect();
  const topBar = document.querySelector(".app-live");
  const top = topBar ? Math.max(0, topBar.getBoundingClientRect().bottom) + 8 : 8;
  const bottom = Math.min(window.innerHeight, bottomBar ? bottomBar.getBoundingClientRect().top : window.innerHeight) - 8;
  if (box.bottom > bottom) window.scrollBy(0, box.bottom - bottom);
  else if (box.top < top) window.scrollBy(0, box.top - top);
}

// Ballots survive poor venue Wi-Fi. A <form data-ballot> is sent with fetch; if the network
// fails, the participant is told "Not saved yet, trying again" and the same request (same
// device-made key, so it can never count twice) is retried until the server acknowledges it.
// Meanwhile the tapped answer shows as chosen and pending, the other answers are disabled (a tap
// on them does nothing), and the form's status line, a live region next to the buttons and in the
// page from the start, is scrolled into view if it is not. Once saved it says "Saved" in place, on
// the tapped answer and in the status line, for a moment before the next question opens.
const RETRY_MS = [1000, 2000, 4000, 8000, 10000];
const SAVED_PAUSE_MS = 600;
const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function say(form, text, state) {
  const status = form.querySelector(".app-ballot-status");
  if (!status) return;
  status.textContent = text;
  status.dataset.state = state;
  const box = status.getBoundingClientRect();
  if (box.top < 0 || box.bottom > window.innerHeight) status.scrollIntoView({ block: "nearest" });
}

// The tapped answer: chosen (aria-pressed where the buttons have it) and marked pending; it stays
// focusable (aria-disabled, not disabled) so a keyboard user's focus does not fall to the page.
function showPending(form, submitter) {
  form.dataset.sending = "yes";
  form.querySelectorAll("button").forEach((b) => {
    const tapped = b === submitter;
    if (b.hasAttribute("aria-pressed")) b.setAttribute("aria-pressed", tapped ? "true" : "false");
    if (!tapped) b.classList.remove("app-scale__button--chosen");
    b.classList.toggle("app-pending", tapped);
    if (tapped) b.setAttribute("aria-disabled", "true");
    else b.disabled = true;
  });
}

// Saved: the tapped answer is shown chosen, no longer pending; nothing on the form can be sent
// again while the next question opens. Refused: everything back as it was, for the server's page.
function showSettled(form, submitter, saved) {
  form.querySelectorAll("button").forEach((b) => b.classList.remove("app-pending"));
  if (saved) {
    if (submitter && submitter.hasAttribute("aria-pressed")) submitter.classList.add("app-scale__button--chosen");
    return;
  }
  delete form.dataset.sending;
  form.querySelectorAll("button").forEach((b) => {
    b.removeAttribute("aria-disabled");
    b.disabled = false;
  });
}

function newKey() {
  const bytes = new Uint8Array(16);
  window.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// Where a saved answer leads: the next question (…/q/3#question), the next pair or the thank-you
// page. The next pair is often this very URL, and assigning a URL that differs only by its fragment
// would only scroll, so that one is reloaded instead.
function goNext(url) {
  const next = new URL(url, window.location.href);
  if (next.pathname === window.location.pathname && next.search === window.location.search) {
    window.history.replaceState(window.history.state, "", next.href);
    window.location.reload();
    return;
  }
  window.location.assign(next.href);
}

async function sendBallot(form, submitter) {
  // Each tap is a new submission with its own key (going back and choosing again must count);
  // the retries below resend this same key, so a repeat is recognised and never counts twice.
  const keyField = form.querySelector("input[name=key]");
  if (keyField && window.crypto && window.crypto.getRandomValues) keyField.value = newKey();
  // FormData(form, submitter) is too new for older iPads: add the pressed button by hand.
  const body = new FormData(form);
  if (submitter && submitter.name && !body.has(submitter.name)) body.append(submitter.name, submitter.value);
  showPending(form, submitter);
  say(form, "Saving…", "saving");
  for (let attempt = 0; ; attempt += 1) {
    let response = null;
    try {
      // HX-Request: the server answers a saved ballot with 204 and HX-Redirect (where to go next),
      // so the next page is fetched once, by the navigation below, not twice on a slow network.
      const token = form.querySelector("input[name=csrf_token]");
      const headers = { "HX-Request": "true" };
      if (token) headers["X-CSRF-Token"] = token.value;
      response = await fetch(form.action, { method: "POST", body, headers, credentials: "same-origin" });
    } catch (error) {
      response = null; // the network failed: retry below
    }
    if (response && response.ok) {
      showSettled(form, submitter, true);
      say(form, "Saved", "saved");
      await wait(SAVED_PAUSE_MS); // seen (and heard) here, where the person tapped, before the page moves on
      goNext(response.headers.get("HX-Redirect") || response.url);
      return;
    }
    if (response && response.status < 500) {
      // The server answered (a closed round, a form error): show its page the ordinary way.
      showSettled(form, submitter, false);
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

// After an answer the next page opens at its heading (#question, #done: a heading with tabindex="-1"
// and data-arrival), so the keyboard carries on from there rather than from the top of the page.
// Browsers focus such a fragment target when they navigate to it; this covers a reload (the next
// pair) and any browser that only scrolls.
const arrival = window.location.hash.length > 1 ? document.getElementById(window.location.hash.slice(1)) : null;
if (arrival && arrival.hasAttribute("data-arrival") && document.activeElement !== arrival) {
  arrival.focus();
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-ballot")) return;
  if (form.dataset.sending === "yes") { // a tap while one is being saved: nothing more is sent
    event.preventDefault();
    return;
  }
  if (event.defaultPrevented || form.dataset.native === "yes" || !window.fetch) return;
  event.preventDefault();
  sendBallot(form, event.submitter || null);
});

// The QR link (/j/<code>) shows the code form already filled in: send it once by itself, so people
// who scan land on "Which group are you in?" (without JavaScript they tap Continue). Only once per
// tab and code, so going Back to the form does not bounce forward again.
const autoJoin = document.querySelector("form[data-autosubmit]");
if (autoJoin) {
  const key = `codesign-joined-form-${autoJoin.getAttribute("data-autosubmit")}`;
  let sent = false;
  try {
    sent = window.sessionStorage.getItem(key) === "yes";
    window.sessionStorage.setItem(key, "yes");
  } catch (error) {
    sent = false; // storage refused (private browsing on an old iPad): send it anyway
  }
  if (!sent) autoJoin.submit();
}

// Devices follow the room. The server sends an event when the facilitator opens, closes or reveals a
// round, takes ideas or closes the session (web/room_events.py); this device goes there by itself,
// and the next page says why in a status message. Someone mid-answer (a question or list not
// finished, or a half-written idea) is not taken away: they get a message with "Go there" and
// "Stay here". Without EventSource (or JavaScript) the session page's links do the same job.
const live = document.querySelector("[data-live-events]");
const LIVE_MESSAGE = "codesign-live-message";
if (live && live.hasAttribute("data-live-presenter")) {
  // The presenter screen: when the room moves, show the new screen (from its first page).
  let shown = Number(live.getAttribute("data-live-seq") || "0");
  const listen = () => {
    const source = new EventSource(`${live.getAttribute("data-live-events")}?seq=${shown}`);
    source.addEventListener("room", (event) => {
      try {
        const move = JSON.parse(event.data);
        if (move.seq > shown) {
          shown = move.seq;
          window.location.replace(window.location.pathname);
        }
      } catch (error) { /* a malformed event: ignore it */ }
    });
    // Refused (signed out elsewhere, 401): EventSource gives up, so try again now and then; once
    // someone signs in again in this browser the screen follows the room again by itself.
    source.addEventListener("error", () => {
      if (source.readyState === EventSource.CLOSED) window.setTimeout(listen, 10000);
    });
    window.addEventListener("pagehide", () => source.close());
  };
  if (window.EventSource) listen();
  // Keys, as presentation software: arrows, space and Page Up/Down page through results; B (or .)
  // blanks the screen and brings it back; Escape brings it back.
  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const blank = document.querySelector("[data-present-blank]");
    if (blank && (event.key === "b" || event.key === "B" || event.key === ".")) {
      blank.hidden = !blank.hidden;
      event.preventDefault();
      return;
    }
    if (blank && event.key === "Escape") { blank.hidden = true; return; }
    const forward = ["ArrowRight", "ArrowDown", "PageDown", " "].includes(event.key);
    const back = ["ArrowLeft", "ArrowUp", "PageUp"].includes(event.key);
    if (!forward && !back) return;
    const link = document.querySelector(`.app-projector__pages a[rel=${forward ? "next" : "prev"}]`);
    if (link) {
      event.preventDefault();
      link.click();
    }
  });
} else if (live) {
  const status = live.querySelector("[data-live-status]");
  const actions = live.querySelector("[data-live-actions]");
  const go = live.querySelector("[data-live-go]");
  let known = Number(live.getAttribute("data-live-seq") || "0");
  let dirty = false;
  document.addEventListener("input", (event) => {
    if (event.target instanceof Element && event.target.closest("main form")) dirty = true;
  });
  document.addEventListener("submit", () => { dirty = false; });
  const tell = (text) => { if (status) status.textContent = text; };

  // What the previous page was told before it moved here, and "Saved" when this page follows a
  // saved answer (the server renders it into the region, for pages without JavaScript): said once,
  // after the page has settled, so screen readers announce it as a change to the status region.
  // The heading focused on arrival stops naming the region then, or "Saved" would be read twice.
  // Emptied to a no-break space, not to nothing: an empty region takes no room (CSS :empty), and
  // the answers would jump down by a line when "Saved" came back, under a finger about to tap one.
  const saved = status ? status.getAttribute("data-saved") || "" : "";
  if (saved && status) {
    status.textContent = "\u00a0";
    document.querySelectorAll("[aria-describedby~='live-status']").forEach((el) => {
      const rest = el.getAttribute("aria-describedby").split(/\s+/).filter((id) => id && id !== "live-status");
      if (rest.length) el.setAttribute("aria-describedby", rest.join(" "));
      else el.removeAttribute("aria-describedby");
    });
  }
  let said = "";
  try {
    said = window.sessionStorage.getItem(LIVE_MESSAGE) || "";
    if (said) window.sessionStorage.removeItem(LIVE_MESSAGE);
  } catch (error) { /* storage refused: the page itself says where the person is */ }
  const news = saved && said ? `${saved}. ${said}` : saved || said;
  // A move of the room in that moment is said at once and the late news dropped, but for "Saved":
  // said late, it would write over "Voting has closed" and leave the person none the wiser.
  let late = news ? window.setTimeout(() => { late = 0; tell(news); }, 250) : 0;
  const tellMove = (text) => {
    if (late) {
      window.clearTimeout(late);
      late = 0;
      tell(saved ? `${saved}. ${text}` : text);
      return;
    }
    tell(text);
  };

  const here = window.location.pathname;
  const pageRound = live.getAttribute("data-live-round") || "";
  let stopped = null; // the buttons put out of reach when this page's round closed under them
  const follow = (move) => {
    if (!(move.seq > known)) return; // an event this page already reflects (a reconnect)
    known = move.seq;
    const sameRound = move.round !== null && String(move.round) === pageRound;
    if (sameRound && move.busy_ok) { // voting in this very round: carry on
      if (stopped) { // it closed under them and opened again: their answers can be sent again
        stopped.forEach((b) => { b.disabled = false; });
        stopped = null;
        if (actions) actions.hidden = true;
        tellMove(move.message);
      }
      return;
    }
    if (move.url === here && !live.hasAttribute("data-live-busy") && !dirty) {
      try { window.sessionStorage.setItem(LIVE_MESSAGE, move.message); } catch (error) { /* ignore */ }
      window.location.reload();
      return;
    }
    if (live.hasAttribute("data-live-busy") || dirty) {
      if (sameRound) {
        // This very round closed under them: its answers can no longer be sent, and what they
        // gave already counts. Say so, and put the answers out of reach of a tap that cannot count.
        stopped = stopped || [...document.querySelectorAll("main form button:not([disabled])")];
        stopped.forEach((b) => { b.disabled = true; });
        tellMove(`${move.message} The answers you gave are saved.`);
      } else {
        tellMove(move.message);
      }
      if (go && actions) {
        go.setAttribute("href", move.url);
        actions.hidden = false;
      }
      return;
    }
    try { window.sessionStorage.setItem(LIVE_MESSAGE, move.message); } catch (error) { /* ignore */ }
    window.location.assign(move.url);
  };
  live.querySelector("[data-live-stay]")?.addEventListener("click", () => {
    if (actions) actions.hidden = true;
    tell("");
  });
  if (window.EventSource) {
    const source = new EventSource(`${live.getAttribute("data-live-events")}?seq=${known}`);
    source.addEventListener("room", (event) => {
      try { follow(JSON.parse(event.data)); } catch (error) { /* a malformed event: ignore it */ }
    });
    window.addEventListener("pagehide", () => source.close());
  }
}

// A round's countdown (the presenter screen and question pages): counts down from the seconds
// the server said were left, so a device whose clock is wrong still shows the right time.
const timers = document.querySelectorAll("[data-countdown-left]");
if (timers.length) {
  const started = Date.now();
  const tick = () => {
    timers.forEach((timer) => {
      const left = Math.max(0, Number(timer.getAttribute("data-countdown-left")) - Math.floor((Date.now() - started) / 1000));
      timer.textContent = left > 0 ? `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")} left` : "Time is up";
    });
  };
  window.setInterval(tick, 1000);
}

// A screen that refreshes itself (console, presenter, projector) whose user signed out in another
// tab gets 401 instead of a sign-in form in place of the screen: say so, and carry on by itself
// when a refresh works again (someone signed in again in this browser).
document.addEventListener("htmx:responseError", (event) => {
  const xhr = event.detail && event.detail.xhr;
  if (!xhr || xhr.status !== 401 || document.querySelector(".app-signed-out")) return;
  const note = document.createElement("p");
  note.className = "app-signed-out";
  note.setAttribute("role", "status");
  note.textContent = "You are signed out, so this screen has stopped updating. Sign in again in this browser and it carries on by itself.";
  (document.querySelector("main") || document.body).prepend(note);
});
document.addEventListener("htmx:afterRequest", (event) => {
  if (event.detail && event.detail.successful) document.querySelector(".app-signed-out")?.remove();
});
