"""Keyboard only (Tab, Shift+Tab, Enter, Space; no mouse, no taps): a participant joins by code,
chooses a group, answers every rating question and reaches the thank-you page; a facilitator
accepts a proposal on the console. At every key press the focused element must show a focus
indicator (a visible outline or box-shadow: NHS.UK's yellow and black focus state)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import Session, col, select

from codesign.models import Outcome, OutcomeStatus, User, WorkshopSession
from codesign.services import proposals, sessions
from tests.browser.helpers import focused
from tests.conftest import PASSWORD
from tests.round_helpers import accepted_ids, open_round

pytestmark = pytest.mark.browser
KEYBOARD_TABLET = {"viewport": {"width": 1024, "height": 768}}  # a tablet with a keyboard case


def tab_to(page: Any, name: str | re.Pattern[str], *, back: bool = False, limit: int = 80) -> dict[str, Any]:
    """Press Tab (or Shift+Tab) until the focused element's text, id or label matches `name`;
    every element passed on the way must show where focus is."""
    trail: list[str] = []
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        info = focused(page)
        trail.append(f"{info['tag']} {info.get('text', '')!r}")
        assert info["visible"], f"focus is not visible on {info} (after {trail})"
        label = " ".join(" ".join(str(info.get(k) or "").split()) for k in ("text", "id", "label"))
        if (name.search(label) if isinstance(name, re.Pattern) else name in label):
            return info
    raise AssertionError(f"never reached {name!r} by keyboard; focus went {trail}")


def test_a_participant_votes_with_the_keyboard_alone(
        guarded: Callable[..., Any], workshop: WorkshopSession, facilitator: User, session: Session) -> None:
    open_round(session, facilitator, workshop, accepted_ids(session, workshop, 3))
    device = guarded(**KEYBOARD_TABLET)
    page = device.context.new_page()

    page.goto("/join")  # typed into the address bar
    tab_to(page, "code")
    page.keyboard.type(workshop.join_code.lower())
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Which group are you in?").wait_for()

    tab_to(page, "first_name")
    page.keyboard.type("Ann")
    tab_to(page, re.compile(r"^Carer\b"))
    tab_to(page, re.compile(r"^Patient\b"), back=True)  # one back with Shift+Tab
    page.keyboard.press("Space")
    page.get_by_role("heading", name="What matters most to you?").wait_for()

    tab_to(page, re.compile("^Vote now"))
    page.keyboard.press("Enter")
    asked: list[str] = []  # each person meets the outcomes in their own order: note which came first
    for n, (key, value) in enumerate((("Enter", "Critical: 8"), ("Space", "Important but not critical: 5"),
                                      ("Enter", "Not important: 2")), start=1):
        page.get_by_text(f"Question {n} of 3").wait_for()
        asked.append(page.locator("h1").inner_text().strip())
        tab_to(page, value)
        page.keyboard.press(key)
    page.get_by_role("heading", name="Thank you, your answers are saved").wait_for()
    statements = {o.statement for o in session.exec(select(Outcome).where(
        col(Outcome.id).in_(accepted_ids(session, workshop, 3))))}
    assert sorted(asked) == sorted(statements)  # every outcome once
    # "Change my answers" is reachable too, and its first link is question 1, showing the answer given.
    tab_to(page, re.compile("^" + re.escape(asked[0])))
    page.keyboard.press("Enter")
    page.get_by_text("Question 1 of 3").wait_for()
    assert page.get_by_role("button", name="Critical: 8").get_attribute("aria-pressed") == "true"
    assert device.blocked == []


def test_a_facilitator_accepts_a_proposal_with_the_keyboard(
        guarded: Callable[..., Any], workshop: WorkshopSession, facilitator: User, session: Session) -> None:
    assert workshop.id is not None
    person = sessions.join_session(session, workshop.id, "carer")
    assert person.id is not None
    idea = proposals.propose_outcome(session, workshop.id, person.id, "Carers get a proper break", "")
    device = guarded(viewport={"width": 1280, "height": 800})
    page = device.context.new_page()

    page.goto("/signin")
    tab_to(page, "email")
    page.keyboard.type(facilitator.email)
    tab_to(page, "password")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Sign out").wait_for()

    page.goto(f"/sessions/{workshop.id}")
    page.get_by_role("heading", name="New proposals (1)").wait_for()
    tab_to(page, "Accept “Carers get a proper break”")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="New proposals (0)").wait_for()
    assert session.exec(select(Outcome).where(Outcome.id == idea.id)).one().status == OutcomeStatus.accepted
    # Focus is not dropped to the top of the page by the swap: it lands on the proposals heading,
    # and the keyboard carries on from there to the outcome just accepted.
    page.wait_for_function("() => document.activeElement.textContent.trim() === 'New proposals (0)'")
    tab_to(page, re.compile("Carers get a proper break"))
    assert device.blocked == []


# Seen by the page before its own script runs (an init script is not subject to the page's CSP):
# every text the status region takes after the page has loaded, which is what a screen reader
# announces (a live region's first content, present as the page loads, is not announced).
_WATCH_STATUS = """() => {
  window.__statusSaid = [];
  document.addEventListener("DOMContentLoaded", () => {
    const region = document.querySelector("[data-live-status]");
    if (!region) return;
    new MutationObserver(() => window.__statusSaid.push(region.textContent.trim()))
      .observe(region, {childList: true, characterData: true, subtree: true});
  });
}"""


def _join_by_keyboard(page: Any, code: str) -> None:
    page.goto("/join")
    tab_to(page, "code")
    page.keyboard.type(code.lower())
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Which group are you in?").wait_for()
    tab_to(page, re.compile(r"^Patient\b"))
    page.keyboard.press("Space")
    page.get_by_role("heading", name="What matters most to you?").wait_for()


def _tabs_to(page: Any, name: str, limit: int = 12) -> int:
    """How many Tab presses from where focus is now to the control named `name`."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        info = focused(page)
        assert info["visible"], f"focus is not visible on {info}"
        if name in " ".join(" ".join(str(info.get(k) or "").split()) for k in ("text", "id", "label")):
            return presses
    raise AssertionError(f"{name!r} not reached in {limit} Tab presses")


def _arrived(page: Any, heading_id: str, text: str, *, script: bool) -> None:
    """Focus is on the page's heading, and "Saved" is in the status region: announced as a change
    with JavaScript, or present from the start and named by the focused heading without it."""
    page.wait_for_function("(id) => document.activeElement && document.activeElement.id === id", arg=heading_id)
    info = page.evaluate("""() => ({tag: document.activeElement.tagName.toLowerCase(), id: document.activeElement.id,
        text: document.activeElement.textContent.trim(), describedby: document.activeElement.getAttribute("aria-describedby") || "",
        status: document.querySelector("[data-live-status]").textContent.trim(),
        role: document.querySelector("[data-live-status]").getAttribute("role")})""")
    assert (info["tag"], info["id"], info["text"]) == ("h1", heading_id, text), info
    assert info["role"] == "status"
    if script:
        page.wait_for_function("() => (window.__statusSaid || []).includes('Saved')")
        assert "live-status" not in info["describedby"].split()  # said once, by the live region
    else:
        assert info["status"] == "Saved" and "live-status" in info["describedby"].split()


@pytest.mark.parametrize("script", [True, False], ids=["with-javascript", "without-javascript"])
def test_after_each_rating_focus_is_on_the_next_question_and_saved_is_said(
        guarded: Callable[..., Any], workshop: WorkshopSession, facilitator: User, session: Session,
        script: bool) -> None:
    ids = accepted_ids(session, workshop, 3)
    statements = [session.exec(select(Outcome).where(Outcome.id == i)).one().statement for i in ids]
    open_round(session, facilitator, workshop, ids, order="facilitator")  # the next heading is the next id
    device = guarded(java_script_enabled=script, **KEYBOARD_TABLET)
    page = device.context.new_page()
    page.add_init_script(script=_WATCH_STATUS[len("() => {"):-1])
    _join_by_keyboard(page, workshop.join_code)
    tab_to(page, re.compile("^Vote now"))
    page.keyboard.press("Enter")
    page.get_by_text("Question 1 of 3").wait_for()
    tab_to(page, "Critical: 8")
    page.keyboard.press("Enter")
    for n, value in ((2, "Important but not critical: 5"), (3, "Not important: 2")):
        page.get_by_text(f"Question {n} of 3").wait_for()
        _arrived(page, "question", statements[n - 1], script=script)
        # From the heading, one Tab reaches the first answer button (it was 10-12 from the top).
        assert _tabs_to(page, "Not important: 1") == 1
        tab_to(page, value)
        page.keyboard.press("Enter" if n == 2 else "Space")
    page.get_by_role("heading", name="Thank you, your answers are saved").wait_for()
    _arrived(page, "done", "Thank you, your answers are saved", script=script)
    assert device.blocked == []


@pytest.mark.parametrize("script", [True, False], ids=["with-javascript", "without-javascript"])
def test_after_each_pair_focus_is_on_the_next_pair_and_saved_is_said(
        guarded: Callable[..., Any], workshop: WorkshopSession, facilitator: User, session: Session,
        script: bool) -> None:
    ids = accepted_ids(session, workshop, 3)
    open_round(session, facilitator, workshop, ids, method="pairwise")
    device = guarded(java_script_enabled=script, **KEYBOARD_TABLET)
    page = device.context.new_page()
    page.add_init_script(script=_WATCH_STATUS[len("() => {"):-1])
    _join_by_keyboard(page, workshop.join_code)
    tab_to(page, re.compile("^Vote now"))
    page.keyboard.press("Enter")
    page.get_by_text("0 answered").wait_for()
    tab_to(page, "choice-left")
    page.keyboard.press("Enter")
    for answered in (1, 2):
        # The next pair is the same address: with JavaScript the page reloads it, and focus still
        # lands on the heading, not the top of the page.
        page.get_by_text(f"{answered} answered").wait_for()
        _arrived(page, "question", "Which matters more to you?", script=script)
        assert _tabs_to(page, "choice-left") == 1
        page.keyboard.press("Enter")
    page.get_by_text("3 answered").wait_for()
    _arrived(page, "question", "You have answered every pair", script=script)
    assert _tabs_to(page, "I have finished") <= 3
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Thank you, your answers are saved").wait_for()
    _arrived(page, "done", "Thank you, your answers are saved", script=script)
    assert device.blocked == []
