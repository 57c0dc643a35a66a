"""A frail patient on an old iPad (issue 11, items 3, 6, 7 and 8), in a real browser:

- "Larger text" never loses what was typed on the join, group and proposal pages, with JavaScript
  (it switches in place: no page load) and without (the page's own form carries the text through);
- every target a participant taps or clicks on the main participant pages measures at least 48x48
  CSS px by bounding box (the README promises 48; WCAG 2.5.5's AAA size), links in sentences
  included, and the facilitator's moderation buttons at least 44x44;
- the focused rating button (and every other custom control) shows NHS.UK's focus style: yellow
  behind dark text with a dark bar beneath that contrasts at least 3:1 with the page around it;
- titles differ per question, and the summary page's title says when answers are missing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import Session

from codesign.models import User, WorkshopSession
from codesign.services import proposals, rounds, sessions
from tests.browser.helpers import PHONE, TABLET_PORTRAIT, sign_in
from tests.conftest import PASSWORD
from tests.round_helpers import accepted_ids, open_round

pytestmark = pytest.mark.browser

PARTICIPANT_TARGET = 48  # README: "Participant pages have 19 px body text, 48 px touch targets"
STAFF_TARGET = 44  # the facilitator's moderation buttons

# Everything a person can tap, click or tab to, measured by its bounding box. No inline exception:
# "Back to the start", "Carry on" and the change-answer links are what a shaky finger aims at.
_SMALL_TARGETS_JS = """
({minimum, scope}) => {
  const found = [];
  const roots = scope ? Array.from(document.querySelectorAll(scope)) : [document];
  if (!roots.length) return ["nothing matches " + scope];
  for (const el of roots.flatMap((root) => Array.from(root.querySelectorAll("a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex='-1'])")))) {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (!box.width || !box.height || style.visibility === "hidden" || el.closest(".nhsuk-u-visually-hidden, [hidden], .nhsuk-skip-link")) continue;
    if (box.width < minimum - 0.5 || box.height < minimum - 0.5) {
      const text = (el.innerText || el.value || el.getAttribute("aria-label") || el.id || "").trim().replace(/\\s+/g, " ").slice(0, 50);
      found.push(`<${el.tagName.toLowerCase()}> "${text}" is ${Math.round(box.width)}x${Math.round(box.height)}`);
    }
  }
  return found;
}
"""

# The focused element's focus style, and the colour of the page behind it (its nearest ancestor
# with a background of its own).
_FOCUS_JS = """
() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  let behind = "rgb(255, 255, 255)";
  for (let node = el.parentElement; node; node = node.parentElement) {
    const bg = getComputedStyle(node).backgroundColor;
    if (bg && bg !== "rgba(0, 0, 0, 0)" && bg !== "transparent") { behind = bg; break; }
  }
  return {text: (el.innerText || "").trim().slice(0, 60), background: style.backgroundColor, color: style.color,
          shadow: style.boxShadow, outlineStyle: style.outlineStyle, outlineColor: style.outlineColor, behind};
}
"""

YELLOW = (255, 235, 59)  # NHS.UK focus colour #ffeb3b
DARK = (33, 43, 50)  # NHS.UK text colour #212b32, the focus bar


def _rgb(css: str) -> tuple[int, int, int]:
    parts = re.findall(r"\d+(?:\.\d+)?", css)
    return int(float(parts[0])), int(float(parts[1])), int(float(parts[2]))


def _luminance(rgb: tuple[int, int, int]) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def assert_nhs_focus(page: Any, where: str) -> None:
    """NHS.UK's focus state on the focused element: yellow behind dark text, and a dark bar beneath
    (a box-shadow at least 4px down) that stands out 3:1 from the page around the control."""
    info = page.evaluate(_FOCUS_JS)
    assert _rgb(info["background"]) == YELLOW, f"{where}: focus background {info}"
    assert contrast(_rgb(info["color"]), YELLOW) >= 4.5, f"{where}: text on yellow {info}"
    bar = re.search(r"rgb\((\d+), (\d+), (\d+)\) 0px (\d+)px", info["shadow"])
    assert bar and int(bar.group(4)) >= 4, f"{where}: no dark bar beneath {info}"
    bar_colour = (int(bar.group(1)), int(bar.group(2)), int(bar.group(3)))
    assert contrast(bar_colour, _rgb(info["behind"])) >= 3, f"{where}: bar {bar_colour} on {info['behind']}"
    assert contrast(bar_colour, YELLOW) >= 3, f"{where}: bar {bar_colour} against the yellow"
    # Nothing painted over the bar: any outline is transparent (shown only in forced colours).
    assert info["outlineStyle"] == "none" or info["outlineColor"] in ("rgba(0, 0, 0, 0)", "transparent"), info


def small_targets(page: Any, minimum: int = PARTICIPANT_TARGET, scope: str | None = None) -> list[str]:
    found: list[str] = page.evaluate(_SMALL_TARGETS_JS, {"minimum": minimum, "scope": scope})
    return found


def _join(page: Any, code: str, group: str = "Patient") -> None:
    page.goto(f"/j/{code}")
    page.get_by_role("heading", name="Which group are you in?").wait_for()
    page.get_by_role("button", name=group, exact=True).click()
    page.get_by_role("heading", name="What matters most to you?").wait_for()


def _large(page: Any) -> bool:
    return bool(page.evaluate("() => document.documentElement.classList.contains('app-large-text')"))


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_larger_text_keeps_what_was_typed(guarded: Callable[..., Any], workshop: WorkshopSession,
                                          javascript: bool) -> None:
    page = guarded(java_script_enabled=javascript, **TABLET_PORTRAIT).context.new_page()
    code = workshop.join_code

    def switch(to: str) -> None:
        """Press the switch; with JavaScript the page must not load again (a marker survives)."""
        if javascript:
            page.evaluate("() => { window.__samePage = true; }")
        page.get_by_role("button", name="Standard text size" if to == "normal" else "Larger text").click()
        page.get_by_role("button", name="Larger text" if to == "normal" else "Standard text size").wait_for()
        assert _large(page) == (to == "large")
        if javascript:
            assert page.evaluate("() => window.__samePage === true"), "the page loaded again"

    page.goto("/join")
    page.get_by_label("Enter the code on the screen").fill(code[:5])
    switch("large")
    assert page.get_by_label("Enter the code on the screen").input_value() == code[:5]
    assert page.get_by_role("heading", name="Enter the code on the screen").is_visible()  # no error shown
    page.reload()
    assert _large(page)  # remembered on this device
    page.get_by_label("Enter the code on the screen").fill(code)
    page.get_by_label("Enter the code on the screen").press("Enter")  # Enter still sends the code

    page.get_by_role("heading", name="Which group are you in?").wait_for()
    page.get_by_label("Your first name (optional)").fill("Ann")
    page.get_by_label("Table number (optional)").fill("4")
    switch("normal")
    assert page.get_by_label("Your first name (optional)").input_value() == "Ann"
    assert page.get_by_label("Table number (optional)").input_value() == "4"
    assert page.get_by_role("heading", name="Which group are you in?").is_visible()  # not joined yet
    page.get_by_role("button", name="Patient", exact=True).click()

    page.get_by_role("heading", name="What matters most to you?").wait_for()
    page.get_by_label("Your idea").fill("I can see the same nurse each time")
    page.get_by_label("Anything you want to add (optional)").fill("Half written, and")
    switch("large")
    assert page.get_by_label("Your idea").input_value() == "I can see the same nurse each time"
    assert page.get_by_label("Anything you want to add (optional)").input_value() == "Half written, and"
    assert page.get_by_text("Your idea has been sent").count() == 0  # nothing was sent
    switch("normal")
    assert page.get_by_label("Your idea").input_value() == "I can see the same nurse each time"


def _participant_world(session: Session, facilitator: User, workshop: WorkshopSession) -> dict[str, int]:
    assert workshop.id is not None
    ids = accepted_ids(session, workshop, 4)
    closed = open_round(session, facilitator, workshop, ids, title="Earlier")
    assert closed.id is not None
    rounds.close_round(session, facilitator, workshop.id, closed.id)
    rounds.set_revealed(session, facilitator, workshop.id, closed.id, True)
    made = {"closed": closed.id}
    for method in ("rating", "pairwise", "ranking", "points"):
        found = open_round(session, facilitator, workshop, ids, method=method, top_k="3", title=method.capitalize())
        assert found.id is not None
        made[method] = found.id
    return made


@pytest.mark.parametrize("device", [TABLET_PORTRAIT, PHONE], ids=["ipad-portrait", "phone"])
def test_every_participant_target_is_48px(guarded: Callable[..., Any], session: Session, facilitator: User,
                                          workshop: WorkshopSession, device: dict[str, Any]) -> None:
    made = _participant_world(session, facilitator, workshop)
    page = guarded(**device).context.new_page()
    code = workshop.join_code
    problems: dict[str, list[str]] = {}

    def measure(name: str) -> None:
        found = small_targets(page)
        if found:
            problems[name] = found

    page.goto("/join")
    measure("join")
    page.get_by_label("Enter the code on the screen").fill(code)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="Which group are you in?").wait_for()
    measure("choose group")
    page.get_by_role("button", name="Patient", exact=True).click()
    page.get_by_role("heading", name="What matters most to you?").wait_for()
    page.get_by_role("link", name="see the results").wait_for()
    measure("home and proposals")

    rating = f"/s/{code}/rounds/{made['rating']}"
    page.goto(rating)
    page.get_by_text("Question 1 of 4").wait_for()
    measure("rating, question 1")
    page.get_by_role("button", name="Critical: 8").click()
    page.get_by_text("Question 2 of 4").wait_for()
    measure("rating, question 2")
    page.goto(f"{rating}/done")
    page.get_by_role("link", name="Carry on").wait_for()
    measure("done, answers missing")
    page.goto(f"/s/{code}/rounds/{made['pairwise']}")
    measure("pairwise")
    page.goto(f"/s/{code}/rounds/{made['ranking']}")
    page.get_by_role("button", name=re.compile("^Add ")).first.click()
    page.get_by_role("button", name=re.compile("^Add ")).first.click()
    page.get_by_role("heading", name="My list (2 of 3)").wait_for()
    measure("ranking, with a list")
    page.goto(f"/s/{code}/rounds/{made['points']}")
    page.get_by_role("button", name=re.compile("^\\+ one dot to ")).first.click()
    page.get_by_text("9 dots left to give").wait_for()
    measure("points")
    page.goto(f"/s/{code}/rounds/{made['closed']}")
    measure("results")
    assert not problems, problems


def test_the_facilitators_moderation_buttons_are_44px(guarded: Callable[..., Any], session: Session,
                                                      facilitator: User, workshop: WorkshopSession) -> None:
    assert workshop.id is not None
    person = sessions.join_session(session, workshop.id, "patient")
    assert person.id is not None
    proposals.propose_outcome(session, workshop.id, person.id, "I can get my feet checked near home")
    page = guarded(viewport={"width": 1280, "height": 800}).context.new_page()
    sign_in(page, facilitator.email, PASSWORD)
    page.goto(f"/sessions/{workshop.id}")
    page.get_by_role("button", name=re.compile("^Accept")).wait_for()
    # Accept, Reword, Merge and Withdraw under each proposal (the outcome names above them are links
    # in a list, not buttons).
    assert page.locator("#console-live .app-button-row .nhsuk-button").count() >= 4
    assert small_targets(page, STAFF_TARGET, "#console-live .app-button-row") == []


def test_focus_is_nhs_yellow_with_a_dark_bar_on_every_custom_control(
        guarded: Callable[..., Any], session: Session, facilitator: User, workshop: WorkshopSession) -> None:
    made = _participant_world(session, facilitator, workshop)
    page = guarded(**TABLET_PORTRAIT).context.new_page()
    code = workshop.join_code
    _join(page, code)

    page.goto(f"/s/{code}/rounds/{made['rating']}/q/1")
    page.locator("#question").focus()
    for _ in range(12):  # Tab from the question to the first answer button, as a keyboard user does
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.id") == "value-1":
            break
    assert_nhs_focus(page, "rating button 1")
    page.keyboard.press("Tab")
    assert_nhs_focus(page, "rating button 2")
    page.get_by_role("button", name="Important but not critical: 5").click()  # chosen, then focused again
    page.get_by_text("Question 2 of 4").wait_for()
    page.goto(f"/s/{code}/rounds/{made['rating']}/q/1")
    page.locator("#value-5").focus()
    assert_nhs_focus(page, "the chosen rating button")
    page.get_by_role("button", name="I cannot score this").focus()
    assert_nhs_focus(page, "I cannot score this")
    page.get_by_role("link", name="See all my answers").focus()
    assert_nhs_focus(page, "question navigation link")

    page.goto(f"/s/{code}/rounds/{made['pairwise']}")
    page.locator("#choice-left").focus()
    assert_nhs_focus(page, "pairwise choice")
    page.goto(f"/s/{code}/rounds/{made['ranking']}")
    page.get_by_role("button", name=re.compile("^Add ")).first.focus()
    assert_nhs_focus(page, "ranking Add")
    page.goto(f"/s/{code}/rounds/{made['points']}")
    page.get_by_role("button", name=re.compile("^\\+ one dot to ")).first.focus()
    assert_nhs_focus(page, "points +")
    page.goto(f"/s/{code}/rounds/{made['rating']}/done")
    page.get_by_role("link", name="Back to the start").focus()
    assert_nhs_focus(page, "Back to the start")
    page.goto(f"/s/{code}")
    page.get_by_role("button", name="Not you? Hand this device to the next person").focus()
    assert_nhs_focus(page, "Not you? link-button")


def test_titles_differ_per_question_and_say_when_answers_are_missing(
        guarded: Callable[..., Any], session: Session, facilitator: User, workshop: WorkshopSession) -> None:
    made = _participant_world(session, facilitator, workshop)
    page = guarded(**TABLET_PORTRAIT).context.new_page()
    code = workshop.join_code
    _join(page, code)
    titles = []
    for n in range(1, 5):
        page.goto(f"/s/{code}/rounds/{made['rating']}/q/{n}")
        statement = page.locator("#question").inner_text().strip()
        assert page.title() == f"Question {n} of 4: {statement} – Round 2: Rating – codesign"
        titles.append(page.title())
    assert len(set(titles)) == 4
    page.goto(f"/s/{code}/rounds/{made['rating']}/done")
    assert page.title() == "Your answers so far: 0 of 4 answered – Round 2: Rating – codesign"
    assert "Thank you" not in page.title()
