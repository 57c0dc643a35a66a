"""Issue 11, items 1, 2 and 9, in a real browser: saving over bad Wi-Fi is visible where the person
is looking, ranking and points lists change in place (no page load, the tapped control keeps focus
and stays in view, the counter and a status region say what changed), and the participants' "on
the list so far" section is left alone while unchanged or while someone is reading it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, select

from codesign.models import Ballot, BallotAnswer, BallotSubmission, Outcome, Participant, User, WorkshopSession
from codesign.services import ballots, proposals, round_control, rounds
from tests.browser.helpers import TABLET_PORTRAIT
from tests.browser.test_network import KEY, RETRYING, _join
from tests.round_helpers import accepted_ids, open_round

pytestmark = pytest.mark.browser
NARROW = {"viewport": {"width": 320, "height": 640}, "has_touch": True, "is_mobile": True}
# In the viewport and not hidden behind anything (the sticky send bar, the status bar at the top):
# the element itself is what is drawn at its centre.
IN_VIEW = """(el) => { const box = el.getBoundingClientRect();
  if (!(box.top >= 0 && box.bottom <= window.innerHeight && box.left >= 0 && box.right <= window.innerWidth && box.height > 0)) return false;
  const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
  return hit !== null && (hit === el || el.contains(hit)); }"""
FOCUSED_ID = "() => document.activeElement && document.activeElement.id"


def _larger_text(page: Any) -> None:
    page.get_by_role("button", name="Larger text").tap()
    page.get_by_role("button", name="Standard text size").wait_for()


def _count_loads(page: Any) -> list[str]:
    """Every main-frame navigation from now on (a tap that swaps in place makes none)."""
    loads: list[str] = []
    page.on("framenavigated", lambda frame: loads.append(frame.url) if frame == page.main_frame else None)
    page.evaluate("() => { window.__stillHere = true; }")
    return loads


def test_a_slow_save_shows_pending_and_retrying_in_view_then_saved_in_place(
        guarded: Callable[..., Any], workshop: WorkshopSession, facilitator: User, session: Session) -> None:
    outcomes = accepted_ids(session, workshop, 3)
    found = open_round(session, facilitator, workshop, outcomes)
    _device, page = _join(guarded, workshop, TABLET_PORTRAIT)
    _larger_text(page)
    posts: list[str] = []
    held: dict[str, Any] = {}

    def flaky(route: Any) -> None:
        """The first try of the answer fails on the network; the retry is held until released."""
        if route.request.method != "POST":
            route.continue_()
            return
        posts.append(route.request.post_data or "")
        if len(posts) == 1:
            route.abort("internetdisconnected")
        else:
            held["post"] = route

    def next_page(route: Any) -> None:
        held["next"] = route  # question 2: held, so the test sees what question 1 says once saved

    page.route(re.compile(r"/rounds/\d+/q/1$"), flaky)
    page.route(re.compile(r"/rounds/\d+/q/2(#.*)?$"), next_page)
    page.goto(f"/s/{workshop.join_code}/rounds/{found.id}")
    page.get_by_text("Question 1 of 3").wait_for()
    status = page.locator(".app-ballot-status")
    assert status.count() == 1 and status.get_attribute("role") == "status"  # in the page before any tap
    asked = session.exec(select(Outcome).where(Outcome.statement == page.locator("h1").inner_text().strip())).one()
    # "I cannot score this" sits at the very bottom of the screen, as after scrolling down to it.
    unable = page.get_by_role("button", name="I cannot score this")
    unable.evaluate("(el) => el.scrollIntoView({block: 'end'})")
    unable.tap()

    expect(status).to_have_text(RETRYING)
    assert status.evaluate(IN_VIEW), "the retry message is below the fold"
    assert unable.evaluate(IN_VIEW)
    expect(unable).to_have_attribute("aria-pressed", "true")  # chosen ...
    expect(unable).to_have_class(re.compile(r"\bapp-pending\b"))  # ... and pending
    expect(unable).to_be_disabled()  # (aria-disabled: it keeps focus, but is not sent again)
    for other in ("Critical: 9", "Not important: 1"):
        expect(page.get_by_role("button", name=other, exact=True)).to_be_disabled()
    unable.click(force=True)  # tapping again while it is being saved sends nothing more
    page.get_by_role("button", name="Critical: 9", exact=True).dispatch_event("click")
    held_post = _wait_for(page, held, "post")
    keys = [KEY.search(p) for p in posts]
    assert len(posts) == 2 and all(keys)  # one retry (the taps meanwhile sent nothing) ...
    assert keys[0].group(1) == keys[1].group(1)  # type: ignore[union-attr]  # ... of the same submission

    held_post.continue_()
    expect(status).to_have_text("Saved")  # said in place, before the next question opens
    assert status.evaluate(IN_VIEW)
    expect(unable).to_have_class(re.compile(r"\bapp-scale__button--chosen\b"))
    expect(unable).not_to_have_class(re.compile(r"\bapp-pending\b"))
    expect(unable).to_be_disabled()  # saved: not sent again while the next question opens
    unable.click(force=True)
    assert "/q/1" in page.url and page.evaluate("() => document.querySelector('h1').innerText") == asked.statement
    _wait_for(page, held, "next").continue_()
    page.get_by_text("Question 2 of 3").wait_for()

    ballot = session.exec(select(Ballot).where(Ballot.round_id == found.id)).one()
    answers = session.exec(select(BallotAnswer).where(BallotAnswer.ballot_id == ballot.id)).all()
    assert [(a.outcome_id, a.value) for a in answers] == [(asked.id, None)]  # stored once, as "cannot score"
    assert len(session.exec(select(BallotSubmission).where(BallotSubmission.round_id == found.id)).all()) == 1
    assert len(posts) == 2  # the tap after "Saved" sent nothing either


def test_a_slow_pair_shows_the_choice_pending_and_the_retry_in_view(
        guarded: Callable[..., Any], workshop: WorkshopSession, facilitator: User, session: Session) -> None:
    found = open_round(session, facilitator, workshop, accepted_ids(session, workshop, 4), method="pairwise")
    _device, page = _join(guarded, workshop, TABLET_PORTRAIT)
    _larger_text(page)
    held: dict[str, Any] = {}
    tries: list[int] = []

    def flaky(route: Any) -> None:
        tries.append(1)
        if len(tries) == 1:
            route.abort("internetdisconnected")
        else:
            held["post"] = route

    page.route(re.compile(r"/rounds/\d+/pair$"), flaky)
    page.goto(f"/s/{workshop.join_code}/rounds/{found.id}")
    page.get_by_text("0 answered").wait_for()
    right = page.locator("#choice-right")
    right.evaluate("(el) => el.scrollIntoView({block: 'end'})")
    right.tap()
    status = page.locator(".app-ballot-status")
    expect(status).to_have_text(RETRYING)
    assert status.evaluate(IN_VIEW) and right.evaluate(IN_VIEW)
    expect(right).to_have_class(re.compile(r"\bapp-pending\b"))
    expect(page.locator("#choice-left")).to_be_disabled()
    expect(page.get_by_role("button", name="I can’t decide")).to_be_disabled()
    _wait_for(page, held, "post").continue_()
    page.get_by_text("1 answered").wait_for()
    assert len(tries) == 2


def _wait_for(page: Any, held: dict[str, Any], key: str) -> Any:
    """Let the page run until the routed request `key` has arrived (no sleeping: polls the page's loop)."""
    for _ in range(200):
        if key in held:
            return held[key]
        page.wait_for_timeout(50)
    raise AssertionError(f"the {key} request never came")


def test_points_plus_on_the_last_outcome_keeps_it_in_view_and_focused(
        guarded: Callable[..., Any], workshop: WorkshopSession, facilitator: User, session: Session) -> None:
    ids = accepted_ids(session, workshop, 8)
    found = open_round(session, facilitator, workshop, ids, method="points", budget="10")
    _device, page = _join(guarded, workshop, NARROW)
    _larger_text(page)
    page.goto(f"/s/{workshop.join_code}/rounds/{found.id}")
    page.get_by_text("10 dots left to give").wait_for()
    loads = _count_loads(page)
    last = page.locator(".app-rank-list .app-rank-item").last
    last_id = int((last.get_attribute("id") or "").removeprefix("o-"))
    statement = session.get_one(Outcome, last_id).statement
    plus = page.locator(f"#more-{last_id}")
    plus.scroll_into_view_if_needed()
    # The first try is lost on the way: nothing changes, the list is usable again, and it says so.
    failed: list[str] = []
    page.route(re.compile(r"/draft\?"), lambda route: (failed.append(route.request.url), route.abort("internetdisconnected")))
    plus.tap()
    expect(page.locator("#list-news")).to_have_text("That change was not saved. Check the connection and tap again.")
    page.unroute(re.compile(r"/draft\?"))
    assert len(failed) == 1 and page.get_by_text("10 dots left to give").is_visible()
    expect(plus).to_be_enabled()
    plus.tap()
    page.get_by_text("9 dots left to give").wait_for()
    expect(page.locator("#list-news")).to_have_text(f"1 dot on {statement}, 9 left")
    plus = page.locator(f"#more-{last_id}")
    assert page.evaluate(FOCUSED_ID) == f"more-{last_id}"
    assert plus.evaluate(IN_VIEW), "the tapped + is out of view (or under the send bar)"
    plus.tap()
    page.get_by_text("8 dots left to give").wait_for()
    expect(page.locator("#list-news")).to_have_text(f"2 dots on {statement}, 8 left")
    assert page.evaluate(FOCUSED_ID) == f"more-{last_id}" and page.locator(f"#more-{last_id}").evaluate(IN_VIEW)
    assert loads == [] and page.evaluate("() => window.__stillHere === true")  # no page load
    # The list counts once sent: the send bar is there, and it sends the list as changed in place.
    page.get_by_role("button", name="Send my dots").tap()
    page.get_by_text("Thank you, your answers are saved").wait_for()
    assert [(a.outcome_id, a.value) for a in session.exec(select(BallotAnswer)).all()] == [(last_id, 2)]


def test_ranking_add_and_move_on_the_last_outcome_keep_it_in_view_and_focused(
        guarded: Callable[..., Any], workshop: WorkshopSession, facilitator: User, session: Session) -> None:
    ids = accepted_ids(session, workshop, 8)
    found = open_round(session, facilitator, workshop, ids, method="ranking", top_k="3")
    _device, page = _join(guarded, workshop, NARROW)
    _larger_text(page)
    person = session.exec(select(Participant)).one()
    page.goto(f"/s/{workshop.join_code}/rounds/{found.id}")
    others = page.locator(".app-rank-list--others .app-rank-item")
    first_two = [int((others.nth(i).get_attribute("id") or "").removeprefix("other-")) for i in (0, 1)]
    ballots.set_draft(session, found.id or 0, person.id or 0, {first_two[0]: 1, first_two[1]: 2})
    page.reload()
    page.get_by_role("heading", name="My list (2 of 3)").wait_for()
    loads = _count_loads(page)
    last = others.last
    last_id = int((last.get_attribute("id") or "").removeprefix("other-"))
    statement = session.get_one(Outcome, last_id).statement

    add = page.locator(f"#add-{last_id}")
    add.scroll_into_view_if_needed()
    add.tap()  # the last outcome, far down: it joins the list at number 3
    page.get_by_role("heading", name="My list (3 of 3)").wait_for()
    expect(page.locator("#list-news")).to_have_text(f"Added {statement} to your list at position 3")
    assert page.evaluate(FOCUSED_ID) == f"up-{last_id}"  # its row in the list, where it went
    assert page.locator(f"#up-{last_id}").evaluate(IN_VIEW)

    page.locator(f"#up-{last_id}").tap()
    expect(page.locator("#list-news")).to_have_text(f"Moved {statement} to position 2")
    assert page.evaluate(FOCUSED_ID) == f"up-{last_id}" and page.locator(f"#up-{last_id}").evaluate(IN_VIEW)
    page.locator(f"#down-{last_id}").tap()
    expect(page.locator("#list-news")).to_have_text(f"Moved {statement} to position 3")
    # It is last again, so it has no "Move down": focus stays in its row, on "Move up".
    assert page.evaluate(FOCUSED_ID) == f"up-{last_id}" and page.locator(f"#up-{last_id}").evaluate(IN_VIEW)
    assert re.findall(r"\d+", ",".join(page.locator("ol.app-rank-list .app-rank-item").evaluate_all(
        "(items) => items.map((li) => li.id)"))) == [str(first_two[0]), str(first_two[1]), str(last_id)]
    assert loads == [] and page.evaluate("() => window.__stillHere === true")


def test_the_list_so_far_is_left_alone_unless_it_changed_and_while_it_is_read(
        guarded: Callable[..., Any], workshop: WorkshopSession, facilitator: User, session: Session) -> None:
    _device, page = _join(guarded, workshop, TABLET_PORTRAIT)
    page.clock.install()
    page.reload()
    accepted = page.locator("#accepted")
    accepted.wait_for()
    accepted.evaluate("(el) => { el.__marker = 'first'; }")
    polls: list[int] = []
    page.on("response", lambda r: polls.append(r.status) if "part=accepted" in r.url else None)

    def poll() -> None:
        before = len(polls)
        page.clock.run_for(10_500)
        for _ in range(100):
            if len(polls) > before:
                return
            page.wait_for_timeout(50)

    poll()
    poll()
    assert polls == [204, 204]  # asked twice, unchanged both times ...
    assert accepted.evaluate("(el) => el.__marker") == "first"  # ... and left as it was

    person = session.exec(select(Participant)).one()
    idea = proposals.propose_outcome(session, workshop.id or 0, person.id or 0, "Nobody asks me twice")
    proposals.accept_outcome(session, facilitator, workshop.id or 0, idea.id or 0)
    # Someone is reading it (their selection, or focus, is inside): it is not replaced.
    accepted.locator("h2").evaluate("""(el) => { const range = document.createRange(); range.selectNodeContents(el);
      const selection = window.getSelection(); selection.removeAllRanges(); selection.addRange(range); }""")
    page.clock.run_for(10_500)
    page.clock.run_for(10_500)
    assert accepted.evaluate("(el) => el.__marker") == "first"
    assert "Nobody asks me twice" not in accepted.inner_text()
    accepted.evaluate("(el) => { window.getSelection().removeAllRanges(); const h = el.querySelector('h2');"
                      " h.setAttribute('tabindex', '-1'); h.focus(); }")
    page.clock.run_for(10_500)
    assert accepted.evaluate("(el) => el.__marker") == "first"
    # Once they have moved on, the next poll brings the change.
    page.evaluate("() => document.activeElement.blur()")
    poll()
    expect(page.locator("#accepted")).to_contain_text("Nobody asks me twice")
    assert page.locator("#accepted").evaluate("(el) => el.__marker") is None


# Where the first answer button is on the page as it loads and after each change of the status
# region (read at once: getBoundingClientRect lays the page out as it is then).
_WATCH_ANSWERS = """window.__tops = [];
document.addEventListener("DOMContentLoaded", () => {
  const region = document.querySelector("[data-live-status]"), first = document.getElementById("value-1");
  if (!region || !first) return;
  const where = () => window.__tops.push(first.getBoundingClientRect().top + window.scrollY);
  where();
  new MutationObserver(where).observe(region, {childList: true, characterData: true, subtree: true});
});"""
_SAID_SAVED = """() => { const region = document.querySelector("[data-live-status]");
  const heading = document.getElementById("question");
  return region.textContent.trim() === "Saved" && !(heading.getAttribute("aria-describedby") || "").includes("live-status"); }"""


def test_the_next_question_holds_still_while_saved_is_said_again(
        guarded: Callable[..., Any], workshop: WorkshopSession, facilitator: User, session: Session) -> None:
    # The next question arrives with "Saved" at the top; the script empties it and says it again a
    # moment later, so screen readers announce it. The space it takes must not come and go: the
    # answers would jump by a line under a quick finger, which then taps the wrong number or none.
    outcomes = accepted_ids(session, workshop, 3)
    found = open_round(session, facilitator, workshop, outcomes)
    _device, page = _join(guarded, workshop, NARROW)
    page.add_init_script(script=_WATCH_ANSWERS)
    page.goto(f"/s/{workshop.join_code}/rounds/{found.id}")
    page.get_by_text("Question 1 of 3").wait_for()
    page.get_by_role("button", name="Critical: 8").tap()
    page.get_by_text("Question 2 of 3").wait_for()
    page.wait_for_function(_SAID_SAVED)  # emptied, then said again
    tops = page.evaluate("() => window.__tops")
    assert len(tops) >= 2 and len(set(tops)) == 1, tops  # as loaded (emptied by then) and said again
    nine = page.get_by_role("button", name="Critical: 9")
    expect(nine).to_have_attribute("aria-pressed", "false")
    nine.tap()
    page.get_by_text("Question 3 of 3").wait_for()
    assert session.exec(select(BallotAnswer.value).where(BallotAnswer.value == 9)).all() == [9]
_START = 1_800_000_000  # any fixed moment


def test_saved_said_late_never_hides_the_room_closing(
        guarded: Callable[..., Any], workshop: WorkshopSession, facilitator: User, session: Session) -> None:
    # "Saved" is said a moment after the next question arrives. If the facilitator closes the round
    # in that moment, the person must be told it closed: the late "Saved" may not write over it
    # (found in CI: a phone mid-answer showed "Saved", never "has closed", and no way on).
    outcomes = accepted_ids(session, workshop, 3)
    found = open_round(session, facilitator, workshop, outcomes, title="Close in a moment")
    _device, page = _join(guarded, workshop, NARROW)
    page.clock.install(time=_START)  # and paused: the late "Saved" is said only when the test says
    page.clock.pause_at(_START + 1)
    page.goto(f"/s/{workshop.join_code}/rounds/{found.id}")
    page.get_by_text("Question 1 of 3").wait_for()
    page.get_by_role("button", name="Critical: 8").tap()
    expect(page.locator(".app-ballot-status")).to_have_text("Saved")  # said where they tapped ...
    page.clock.run_for(1_000)  # ... for a moment, then on to the next question
    page.get_by_text("Question 2 of 3").wait_for()
    status = page.locator("[data-live-status]")
    page.wait_for_function("() => document.querySelector('[data-live-status]').textContent === '\\u00a0'", polling=50)
    page.clock.run_for(100)
    assert status.text_content() == "\u00a0"  # emptied by the script; "Saved" still to come
    assert workshop.id is not None and found.id is not None
    rounds.close_round(session, facilitator, workshop.id, found.id)
    closed = "Voting in Round 1: Close in a moment has closed"
    status.get_by_text(closed).wait_for()
    page.clock.run_for(2_000)  # the late "Saved" would have been said by now
    expect(status).to_contain_text(closed)
    expect(status).to_contain_text("Saved")  # the answer was saved, and that is said too
    expect(status).to_contain_text("The answers you gave are saved.")
    expect(page.get_by_role("link", name="Go there now")).to_be_visible()
    # The answers on this page can no longer count, so none can be tapped (a trial's tap was refused).
    expect(page.get_by_role("button", name="Critical: 9")).to_be_disabled()
    # The facilitator clicked Close by mistake and reopens it: the answers can be tapped again.
    round_control.reopen_round(session, facilitator, workshop.id, found.id, "Closed by mistake")
    status.get_by_text("Voting is open").wait_for()
    expect(page.get_by_role("button", name="Critical: 9")).to_be_enabled()
    expect(page.get_by_role("link", name="Go there now")).to_be_hidden()
