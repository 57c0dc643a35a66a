"""Devices follow the room, with the app served as deployed: `codesign serve` with two worker
processes (so a device's event stream and the facilitator's click are often on different workers),
on SQLite and again on PostgreSQL.

A facilitator (laptop) and six participants (three tablets, three phones). After joining, no
participant page is ever reloaded or sent anywhere by the test: each device moves by itself when the
round opens, closes and is revealed, and when a second round opens. Someone mid-answer is not taken
away: they get a message with "Go there now". Every wait is on something a page shows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlmodel import Session

from codesign.models import Role, User
from codesign.services import rounds
from tests.browser.conftest import Guarded, axe_violations, screenshot
from tests.browser.helpers import LAPTOP, PHONE, PROJECTOR, TABLET_LANDSCAPE, TABLET_PORTRAIT, sign_in
from tests.conftest import PASSWORD, SECRET, make_user
from tests.live_server import ServedApp
from tests.round_helpers import accepted_ids, round_form

pytestmark = pytest.mark.browser

DEVICES = [(TABLET_PORTRAIT, "Patient"), (PHONE, "Carer"), (TABLET_LANDSCAPE, "Clinician"),
           (PHONE, "Commissioner"), (TABLET_PORTRAIT, "Patient"), (PHONE, "Carer")]


@pytest.fixture
def served(database_url: str) -> Iterator[ServedApp]:
    with ServedApp(database_url, SECRET, workers=2, CODESIGN_ROOM_CHECK_MS="500",
                   CODESIGN_POLL_INTERVAL_MS="500") as app:
        yield app


def _status(page: Any) -> Any:
    return page.locator("[data-live-status]")


def _answer_all(page: Any, total: int) -> None:
    for n in range(1, total + 1):
        page.get_by_text(f"Question {n} of {total}").wait_for()
        page.get_by_role("button", name=re.compile(r"^Critical: 8$")).tap()
    page.get_by_role("heading", name="Thank you, your answers are saved").wait_for()


def test_devices_follow_the_room_without_reloading(  # type: ignore[no-untyped-def]
        browser: Any, served: ServedApp, session: Session, workshop) -> None:
    facilitator: User = make_user(session, Role.facilitator, "lead@example.nhs.uk")
    code, sid = workshop.join_code, workshop.id
    ids = accepted_ids(session, workshop, 3)
    first = rounds.create_round(session, facilitator, sid, round_form(ids, title="How important is each?",
                                                                      min_group_size="1"))
    second = rounds.create_round(session, facilitator, sid, round_form(ids, title="A second look",
                                                                       min_group_size="1"))
    contexts: list[Guarded] = []
    try:
        laptop_context = Guarded(browser, served.url, **LAPTOP)
        contexts.append(laptop_context)
        laptop = laptop_context.context.new_page()
        laptop.on("dialog", lambda dialog: dialog.accept())  # "Open the round?", "Close the round?"
        sign_in(laptop, facilitator.email, PASSWORD)
        screen_context = Guarded(browser, served.url, **PROJECTOR)
        contexts.append(screen_context)
        screen = screen_context.context.new_page()
        sign_in(screen, facilitator.email, PASSWORD)
        screen.goto(f"/sessions/{sid}/present")  # put on the projector once; never touched again
        screen.get_by_text("0 people joined").wait_for()

        people = []
        for options, group in DEVICES:
            device = Guarded(browser, served.url, **options)
            contexts.append(device)
            page = device.context.new_page()
            page.goto(f"/j/{code}")  # the QR link; from here on the test never navigates this page
            page.get_by_role("button", name=group, exact=True).tap()
            page.get_by_role("heading", name="What matters most to you?").wait_for()
            people.append(page)

        # --- The facilitator opens round 1: every device goes to its first question by itself.
        laptop.goto(f"/sessions/{sid}/rounds/{first.id}")
        laptop.get_by_role("button", name="Open round for voting").click()
        laptop.get_by_text("Open", exact=True).wait_for()
        for page in people:
            page.get_by_text("Question 1 of 3").wait_for()
            assert re.search(r"/rounds/\d+/q/1$", page.url)
            _status(page).get_by_text("Voting is open: Round 1: How important is each?").wait_for()
        screenshot(people[1], "live-followed-to-question-360")
        screen.get_by_role("heading", name="Round 1: How important is each?").wait_for()
        screen.get_by_text("Voting is open.").wait_for()
        assert screen.locator(".app-present__corner").is_visible()  # late arrivals can still join

        # Five answer everything; the sixth is mid-answer (question 2 of 3) when the round closes.
        for page in people[:5]:
            _answer_all(page, 3)
        slow = people[5]
        slow.get_by_role("button", name=re.compile(r"^Critical: 8$")).tap()
        slow.get_by_text("Question 2 of 3").wait_for()

        # --- Close: the five on "Thank you" move to "This round has closed"; the sixth is told, not moved.
        laptop.get_by_role("button", name="Close round").click()
        laptop.get_by_role("button", name="Reveal results to everyone").wait_for()
        for page in people[:5]:
            page.get_by_role("heading", name="This round has closed").wait_for()
        _status(slow).get_by_text("Voting in Round 1: How important is each? has closed").wait_for()
        assert "The answers you gave are saved." in _status(slow).inner_text()
        assert slow.get_by_role("button", name=re.compile(r"^Critical: 8$")).is_disabled()  # nothing more can count
        screen.get_by_text("Voting has closed. Results soon.").wait_for()
        go = slow.get_by_role("link", name="Go there now")
        go.wait_for()
        assert slow.get_by_text("Question 2 of 3").is_visible()  # still where they were
        assert axe_violations(slow) == []
        screenshot(slow, "live-mid-answer-told-360")

        # --- Reveal: everyone who follows sees the results; the sixth follows by choice.
        laptop.get_by_role("button", name="Reveal results to everyone").click()
        laptop.get_by_text("Results revealed").wait_for()
        for page in people[:5]:
            page.get_by_role("heading", name="Results", exact=True).wait_for()
            _status(page).get_by_text("The results of Round 1: How important is each? are ready.").wait_for()
        # The message updated to the newest move, and "Go there now" leads to it.
        _status(slow).get_by_text("are ready").wait_for()
        go.tap()
        slow.get_by_role("heading", name="Results", exact=True).wait_for()
        assert axe_violations(people[0]) == []
        screenshot(people[0], "live-followed-to-results-768")
        screen.locator(".app-projector-table tbody tr").first.wait_for()
        assert axe_violations(screen) == []
        screenshot(screen, "live-presenter-results-1920")
        blank = screen.locator("[data-present-blank]")
        screen.keyboard.press("b")  # blank the screen, as presentation software does
        blank.wait_for(state="visible")
        screen.keyboard.press("b")
        blank.wait_for(state="hidden")

        # --- A second round: every device, results page included, moves to its first question.
        laptop.goto(f"/sessions/{sid}/rounds/{second.id}")
        laptop.get_by_role("button", name="Open round for voting").click()
        laptop.get_by_text("Open", exact=True).wait_for()
        for page in people:
            page.get_by_text("Question 1 of 3").wait_for()
            assert f"/rounds/{second.id}/q/1" in page.url
        screen.get_by_role("heading", name="Round 2: A second look").wait_for()
        assert all(device.blocked == [] for device in contexts)
    finally:
        for device in contexts:
            device.close()
