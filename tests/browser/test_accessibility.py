"""axe-core on every page a person can reach, at each viewport, with no rule disabled; no page scrolls
sideways; on participant pages also: no sideways scrolling at 200% zoom, 48x48 px touch targets and
19 px body text.
The projector is checked at 1920x1080: up to 15 outcomes on one screen without scrolling, then pages.

The database holds the demo (a finished workshop and a frozen framework) plus open rounds of every
method (tests/browser/world.py), so pages are populated as they are in real use. One browser context
per viewport visits every page in turn; problems are collected and reported together.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import col, select

from codesign import db
from codesign.config import Settings
from codesign.models import Participant, User
from codesign.services import people
from tests.browser.conftest import Guarded, InThread, LiveServer, axe_violations, screenshot
from tests.browser.helpers import (
    LAPTOP,
    PHONE,
    PROJECTOR,
    TABLET_PORTRAIT,
    layout_problems,
    sideways_scroll,
    sign_in,
)
from tests.browser.world import ADMIN, COMMISSIONER, FACILITATOR, World
from tests.browser.world_fixtures import seeded_world, world_copy, world_template  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

# A phone, a tablet held upright and a laptop. (A landscape tablet, 1024 px, sits between the last
# two: it added 80 s to every run and never found what they did not.)
VIEWPORTS = {"360": PHONE, "768": TABLET_PORTRAIT, "1280": LAPTOP}
GROUP_FOR = {"360": "Patient", "768": "Carer", "1280": "Commissioner"}


class Sweep:
    """Visits pages in one context and records what is wrong with each."""

    def __init__(self, page: Any, label: str) -> None:
        self.page = page
        self.label = label
        self.problems: list[str] = []
        self.checked: list[str] = []

    def check(self, name: str, *, participant: bool = False, shot: bool | str = False) -> None:
        self.checked.append(name)
        for v in axe_violations(self.page):
            self.problems.append(f"{name} ({self.page.url}): axe {v['id']} [{v['impact']}] {v['help']} at {v['nodes']}")
        found = layout_problems(self.page) if participant else sideways_scroll(self.page)
        self.problems += [f"{name} ({self.page.url}): {p}" for p in found]
        # Screenshots cost time: the participant pages at 768 px, staff pages at 1280, the projector.
        if shot and ((shot is True and self.label in ("768", "1920")) or shot == self.label):
            screenshot(self.page, f"a11y-{name}-{self.label}")

    def visit(self, name: str, url: str, *, status: int = 200, **kwargs: Any) -> None:
        response = self.page.goto(url)
        assert response is not None and response.status == status, f"{url}: {response and response.status}"
        self.check(name, **kwargs)

    def submit(self, name: str, button: Any, *, status: int, **kwargs: Any) -> None:
        """Press a form's button; the answer must have this status (a 422 form with errors, a 403...)."""
        with self.page.expect_navigation() as navigation:
            button.click()
        response = navigation.value
        assert response is not None and response.status == status, f"{name}: {response and response.status}"
        self.check(name, **kwargs)

    def report(self) -> str:
        return f"{len(self.problems)} problems on {len(self.checked)} pages at {self.label}px:\n" + "\n".join(
            self.problems)


def _participant_pages(s: Sweep, w: World, group: str, remove_newest: Callable[[], None]) -> None:
    page, code = s.page, w.code
    page.on("dialog", lambda dialog: dialog.accept())  # "Not you?" asks first
    s.visit("join", "/join", participant=True, shot=True)
    page.get_by_label("Enter the code on the screen").fill("NOT A CODE")
    s.submit("join-error-422", page.get_by_role("button", name="Continue"), status=422, participant=True)

    page.get_by_label("Enter the code on the screen").fill(code)
    s.submit("choose-group", page.get_by_role("button", name="Continue"), status=200, participant=True, shot=True)
    page.get_by_label("Table number (optional)").fill("table nine")
    s.submit("choose-group-error-422", page.get_by_role("button", name=group, exact=True), status=422, participant=True)
    page.get_by_label("Table number (optional)").fill("3")
    page.get_by_role("button", name=group, exact=True).click()
    page.get_by_role("heading", name="What matters most to you?").wait_for()
    s.check("home", participant=True, shot=True)

    s.submit("home-error-422", page.get_by_role("button", name="Send my idea"), status=422, participant=True)
    page.get_by_label("Your idea").fill("I can get a same-week appointment when my feet hurt")
    page.get_by_role("button", name="Send my idea").click()
    page.get_by_text("Your idea has been sent").wait_for()
    s.check("home-after-proposing", participant=True)

    # Rating with round-1 feedback (Delphi round 2): answer every question, reach the thank-you page.
    s.visit("rating-question", f"/s/{code}/rounds/{w.rating_feedback}", participant=True, shot=True)
    for n in range(1, 6):
        page.get_by_text(f"Question {n} of 5").wait_for()
        page.get_by_role("button", name=re.compile(r"^Critical: 8$")).click()
    page.get_by_role("heading", name="Thank you, your answers are saved").wait_for()
    s.check("done", participant=True, shot=True)

    s.visit("ranking", f"/s/{code}/rounds/{w.ranking_open}", participant=True, shot=True)
    page.get_by_role("button", name=re.compile("^Add ")).first.click()
    page.get_by_role("button", name=re.compile("^Add ")).first.click()
    page.get_by_role("heading", name="My list (2 of 3)").wait_for()
    s.check("ranking-with-list", participant=True)
    page.get_by_role("button", name="Send my ranking").click()
    page.get_by_role("heading", name="Thank you, your answers are saved").wait_for()

    s.visit("points", f"/s/{code}/rounds/{w.points_open}", participant=True, shot=True)
    page.get_by_role("button", name=re.compile("^\\+ one dot to ")).first.click()
    page.get_by_text("9 dots left to give").wait_for()
    page.get_by_role("button", name="Send my dots").click()
    page.get_by_role("heading", name="Thank you, your answers are saved").wait_for()

    s.visit("pairwise", f"/s/{code}/rounds/{w.pairwise_open}", participant=True, shot=True)
    page.locator("#choice-left").click()
    page.get_by_text("1 answered").wait_for()
    s.check("pairwise-second", participant=True)

    s.visit("results-rating", f"/s/{code}/rounds/{w.rating_closed}", participant=True, shot=True)
    s.visit("results-ranking", f"/s/{code}/rounds/{w.ranking_closed}", participant=True)
    s.visit("public-you-said-we-did", f"/p/{w.public_token}", participant=True, shot=True)

    # Larger text, remembered on this device: the pages still fit and every rule still holds.
    page.goto(f"/s/{code}")
    page.get_by_role("button", name="Larger text").click()
    page.get_by_role("button", name="Standard text size").wait_for()
    s.check("home-larger-text", participant=True, shot=True)
    s.visit("rating-larger-text", f"/s/{code}/rounds/{w.rating_feedback}/q/2", participant=True, shot=True)
    s.visit("ranking-larger-text", f"/s/{code}/rounds/{w.ranking_open}", participant=True)
    page.get_by_role("button", name="Standard text size").click()
    page.get_by_role("button", name="Larger text").wait_for()

    page.goto(f"/s/{code}")
    page.get_by_role("button", name="Not you? Hand this device to the next person").click()
    page.get_by_role("heading", name="Which group are you in?").wait_for()
    s.check("after-handing-over", participant=True)

    # The next person joins, and the facilitator removes them: the device says so plainly.
    page.get_by_role("button", name=group, exact=True).click()
    page.get_by_role("heading", name="What matters most to you?").wait_for()
    remove_newest()
    s.visit("removed-from-session", f"/s/{code}", status=403, participant=True, shot=True)


def _staff_pages(s: Sweep, w: World) -> None:
    page, sid, gid = s.page, w.session_id, w.group_id
    page.on("dialog", lambda dialog: dialog.accept())  # "Close the round?" asks first
    page.context.clear_cookies()
    s.visit("welcome", "/")
    s.visit("sign-in", "/signin")
    page.get_by_label("Email address").fill(FACILITATOR)
    page.get_by_label("Password").fill("not the password")
    s.submit("sign-in-error-422", page.get_by_role("button", name="Sign in"), status=422)

    sign_in(page, FACILITATOR)
    s.visit("dashboard", "/", shot="1280")
    s.visit("population-group", f"/groups/{gid}")
    s.visit("new-population-group", "/groups/new")
    s.submit("new-population-group-error-422", page.get_by_role("button", name="Create population group"), status=422)
    s.visit("session-console", f"/sessions/{sid}", shot="1280")
    s.visit("new-session", f"/groups/{gid}/sessions/new")
    s.visit("round-console-results", f"/sessions/{sid}/rounds/{w.rating_closed}", shot="1280")
    s.visit("round-console-ranking", f"/sessions/{sid}/rounds/{w.ranking_closed}")
    s.visit("round-console-open", f"/sessions/{sid}/rounds/{w.rating_feedback}")
    s.visit("round-console-unsent-list", f"/sessions/{sid}/rounds/{w.ranking_open}")
    s.submit("round-close-unsent-409", page.get_by_role("button", name="Close round"), status=409)
    s.visit("round-console-small-groups", f"/sessions/{sid}/rounds/{w.draft_round}", shot="1280")
    page.get_by_label("Smallest group to show in this round").fill("two")
    s.submit("round-open-error-422", page.get_by_role("button", name="Open round for voting"), status=422)
    # Undoing mistakes: edit a draft, reopen a closed round, copy a round, un-merge (each form's error
    # too; none of them changes anything, so the pages after are as before).
    s.visit("edit-round", f"/sessions/{sid}/rounds/{w.draft_round}/edit")
    page.get_by_label("Title").fill("")
    s.submit("edit-round-error-422", page.get_by_role("button", name="Save changes"), status=422)
    s.visit("round-console-closed-undo", f"/sessions/{sid}/rounds/{w.full_round}")
    s.submit("round-reopen-error-422", page.get_by_role("button", name="Reopen round"), status=422)
    s.submit("round-copy-error-422", page.get_by_role("button", name="Copy round"), status=422)
    s.visit("outcome-merged", f"/sessions/{sid}/outcomes/{w.merged_outcome}")
    s.submit("outcome-unmerge-error-422", page.get_by_role("button", name="Un-merge outcome"), status=422)
    s.visit("new-round", f"/sessions/{sid}/rounds/new")
    s.submit("new-round-after-move-down", page.get_by_role("button", name=re.compile("^Move down “")).first, status=200)
    s.visit("new-round-with-feedback", f"/sessions/{sid}/rounds/new?feedback={w.rating_closed}")
    s.visit("outcome-moderation", f"/sessions/{sid}/outcomes/{w.pending_outcome}")
    s.submit("outcome-moderation-error-422", page.get_by_role("button", name="Save new wording"), status=422)
    s.visit("session-audit-log", f"/sessions/{sid}/audit")
    s.visit("people", f"/sessions/{sid}/people", shot="1280")
    s.visit("person", f"/sessions/{sid}/people/{w.person}", shot="1280")
    s.submit("person-remove-error-422", page.get_by_role("button", name="Remove Ola"), status=422, shot="1280")
    s.visit("group-audit-log", f"/groups/{gid}/audit")

    page.context.clear_cookies()
    sign_in(page, COMMISSIONER)
    s.visit("framework-versions", f"/groups/{gid}/framework")
    s.visit("framework-draft", f"/frameworks/{w.draft_version}", shot="1280")
    s.visit("framework-frozen", f"/frameworks/{w.frozen_version}", shot="1280")
    s.visit("definition", f"/frameworks/{w.draft_version}/outcomes/{w.draft_item}")
    s.visit("definition-measurability-gap", f"/frameworks/{w.draft_version}/outcomes/{w.gap_item}")
    page.get_by_label("Baseline value").fill("not a number")
    s.submit("definition-error-422", page.get_by_role("button", name="Save definition"), status=422)
    s.visit("payment", f"/frameworks/{w.draft_version}/payment")
    s.visit("compare", f"/frameworks/{w.draft_version}/compare?with={w.frozen_version}")

    s.visit("change-password", "/account/password")
    s.submit("change-password-error-422", page.get_by_role("button", name="Change password"), status=422)

    page.context.clear_cookies()
    sign_in(page, ADMIN)
    s.visit("accounts", "/users")

    # Error pages: not found, and the CSRF refusal (403) a stale form gets.
    s.visit("not-found-404", "/no-such-page", status=404)
    page.goto("/join")
    page.locator("main input[name=csrf_token]").evaluate("field => { field.value = 'out-of-date'; }")
    page.get_by_label("Enter the code on the screen").fill(w.code)
    s.submit("csrf-refused-403", page.get_by_role("button", name="Continue"), status=403)
    page.get_by_role("heading", name="You cannot do that here").wait_for()


@pytest.mark.parametrize("width", list(VIEWPORTS))
def test_every_page_passes_axe_and_fits(width: str, guarded: Callable[..., Any], world: World,
                                        live_server: LiveServer, settings: Settings) -> None:
    def remove_newest() -> None:
        """What the facilitator's Remove does, to the person who joined last (this device)."""
        engine = db.make_engine(settings)
        try:
            with db.write_session(engine) as s:
                newest = s.exec(select(Participant).where(Participant.session_id == world.session_id)
                                .order_by(col(Participant.id).desc())).first()
                actor = s.exec(select(User).where(User.email == FACILITATOR)).one()
                assert newest is not None and newest.id is not None
                people.remove_person(s, actor, world.session_id, newest.id, "Joined the wrong workshop", "keep")
        finally:
            engine.dispose()

    def staff(browser: Any) -> tuple[Sweep, list[str]]:
        device = Guarded(browser, live_server.url, **VIEWPORTS[width])
        try:
            sweep = Sweep(device.context.new_page(), width)
            _staff_pages(sweep, world)
            return sweep, device.blocked
        finally:
            device.close()

    # Staff pages in a second browser thread while the participant pages run here: both cores busy.
    staff_run = InThread(staff)
    device = guarded(**VIEWPORTS[width])
    participant = Sweep(device.context.new_page(), width)
    try:
        _participant_pages(participant, world, GROUP_FOR[width], remove_newest)
    finally:
        staff_run.join()  # never leave it running against a server being shut down
    staff_sweep, staff_blocked = staff_run.result()
    assert participant.problems + staff_sweep.problems == [], participant.report() + "\n" + staff_sweep.report()
    assert device.blocked == staff_blocked == []


def _fits(page: Any) -> tuple[int, int]:
    return page.evaluate("() => [document.documentElement.scrollHeight, window.innerHeight]")


def test_projector_views(guarded: Callable[..., Any], world: World) -> None:
    """1920x1080: lobby and round views pass axe; 15 outcomes fit without scrolling; 20 make two screens."""
    browser = guarded(**PROJECTOR)
    sweep = Sweep(browser.context.new_page(), "1920")
    page, sid = sweep.page, world.session_id
    sign_in(page, FACILITATOR)
    rows = page.locator(".app-projector-table tbody tr")

    sweep.visit("projector-lobby", f"/sessions/{sid}/projector", shot=True)
    sweep.visit("projector-voting-open", f"/sessions/{sid}/rounds/{world.rating_feedback}/projector", shot=True)
    sweep.visit("projector-15", f"/sessions/{sid}/rounds/{world.full_round}/projector", shot=True)
    assert rows.count() == 15
    assert page.locator(".app-projector__pages").count() == 0
    height, window = _fits(page)
    assert height <= window, f"15 outcomes need {height}px of a {window}px screen"

    sweep.visit("projector-20-first", f"/sessions/{sid}/rounds/{world.big_round}/projector", shot=True)
    assert rows.count() == 15
    assert rows.first.locator("td").first.inner_text() == "1"
    page.get_by_text("Screen 1 of 2").wait_for()
    height, window = _fits(page)
    assert height <= window, f"the first 15 of 20 need {height}px of a {window}px screen"
    page.get_by_role("link", name="Next screen").click()
    page.get_by_text("Screen 2 of 2").wait_for()
    assert rows.count() == 5
    assert rows.first.locator("td").first.inner_text() == "16"
    sweep.check("projector-20-second", shot=True)

    sweep.visit("projector-demo-rating", f"/sessions/{sid}/rounds/{world.rating_closed}/projector", shot=True)
    height, window = _fits(page)
    assert height <= window, f"the demo's 10 outcomes need {height}px of a {window}px screen"
    sweep.visit("projector-demo-ranking", f"/sessions/{sid}/rounds/{world.ranking_closed}/projector")

    # A 1280x720 projector: the same 15 outcomes on one screen, text no smaller than 16 px.
    page.set_viewport_size({"width": 1280, "height": 720})
    sweep.visit("projector-15-720p", f"/sessions/{sid}/rounds/{world.full_round}/projector", shot=True)
    height, window = _fits(page)
    assert height <= window, f"15 outcomes need {height}px of a {window}px screen at 1280x720"
    smallest = page.evaluate("""() => Math.min(...[...document.querySelectorAll('.app-projector-table td')]
        .map((cell) => parseFloat(getComputedStyle(cell).fontSize)))""")
    assert smallest >= 16, f"table text {smallest}px at 1280x720"
    assert sweep.problems == [], sweep.report()
    assert browser.blocked == []
