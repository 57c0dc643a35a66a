"""Poor venue Wi-Fi: a ballot that does not get through is retried with the same key until it does,
the participant is told, and it counts once. And the voting page asks nothing of any other host."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect
from sqlmodel import Session, col, select

from codesign.models import Ballot, BallotAnswer, BallotSubmission, Outcome, Participant, User, WorkshopSession
from tests.browser.helpers import PHONE, TABLET_PORTRAIT
from tests.round_helpers import accepted_ids, open_round

pytestmark = pytest.mark.browser
KEY = re.compile(r'name="key"\r\n\r\n([0-9a-f]+)\r\n')
RETRYING = "Not saved yet, trying again…"


def _join(guarded: Callable[..., Any], workshop: WorkshopSession, options: dict[str, Any]) -> tuple[Any, Any]:
    device = guarded(**options)
    page = device.context.new_page()
    page.goto(f"/j/{workshop.join_code}")
    page.get_by_role("button", name="Patient", exact=True).tap()
    page.get_by_role("heading", name="What matters most to you?").wait_for()
    return device, page


def test_a_lost_ballot_is_retried_with_its_key_and_counted_once(
        guarded: Callable[..., Any], workshop: WorkshopSession, facilitator: User, session: Session) -> None:
    outcomes = accepted_ids(session, workshop, 3)
    found = open_round(session, facilitator, workshop, outcomes)
    device, page = _join(guarded, workshop, TABLET_PORTRAIT)
    status = page.locator(".app-ballot-status")
    seen: list[tuple[int, str]] = []  # (question, key) of every ballot POST the page sent
    state: dict[str, Any] = {"release": False, "held": None}

    def flaky(route: Any) -> None:
        """Question 1: the first try never reaches the server. Question 2: the first try is saved by
        the server but its answer is lost on the way back. Each retry is held until the test has
        seen the retry message, then let through."""
        request = route.request
        if request.method != "POST":
            route.continue_()
            return
        question = int(request.url.rsplit("/", 1)[1])
        match = KEY.search(request.post_data or "")
        assert match, "the ballot carries its key"
        seen.append((question, match.group(1)))
        tries = [k for q, k in seen if q == question]
        if len(tries) == 1:
            if question == 2:
                route.fetch()  # the server saves it ...
            route.abort("internetdisconnected")  # ... but the page hears nothing back
        elif state["release"]:
            route.continue_()
        else:
            state["held"] = route

    page.route(re.compile(r"/rounds/\d+/q/\d+$"), flaky)
    page.goto(f"/s/{workshop.join_code}/rounds/{found.id}")
    asked: list[int] = []  # which outcome each question showed: each person has their own order
    by_statement = {session.get_one(Outcome, i).statement: i for i in outcomes}
    for question, tap in ((1, "Critical: 9"), (2, "Important but not critical: 4")):
        page.get_by_text(f"Question {question} of 3").wait_for()
        asked.append(by_statement[page.locator("h1").inner_text().strip()])
        state.update(release=False, held=None)
        page.get_by_role("button", name=tap, exact=True).tap()
        expect(status).to_have_text(RETRYING)
        expect(page.get_by_role("button", name=tap, exact=True)).to_be_disabled()  # no double taps meanwhile
        state["release"] = True
        if state["held"] is not None:
            state["held"].continue_()
        page.get_by_text(f"Question {question + 1} of 3").wait_for()  # saved, and on to the next

    # Each question was sent twice with one key (a retry is the same submission) ...
    keys = {q: {k for qq, k in seen if qq == q} for q, _ in seen}
    assert [len([1 for qq, _ in seen if qq == q]) for q in (1, 2)] == [2, 2]
    assert all(len(k) == 1 for k in keys.values()), seen
    assert keys[1] != keys[2]  # ... and each tap a new one
    # ... and counted once.
    participant = session.exec(select(Participant)).one()
    ballot = session.exec(select(Ballot).where(Ballot.round_id == found.id,
                                               Ballot.participant_id == participant.id)).one()
    answers = session.exec(select(BallotAnswer).where(BallotAnswer.ballot_id == ballot.id)).all()
    assert sorted((a.outcome_id, a.value) for a in answers) == sorted([(asked[0], 9), (asked[1], 4)])
    submissions = session.exec(select(BallotSubmission).where(BallotSubmission.round_id == found.id)).all()
    assert sorted(s.client_key for s in submissions) == sorted(k for ks in keys.values() for k in ks)
    assert device.blocked == []


def test_the_voting_page_asks_only_its_own_host(
        guarded: Callable[..., Any], workshop: WorkshopSession, facilitator: User, session: Session,
        live_server: Any) -> None:
    found = open_round(session, facilitator, workshop, accepted_ids(session, workshop, 3))
    device, page = _join(guarded, workshop, PHONE)
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    page.goto(f"/s/{workshop.join_code}/rounds/{found.id}")
    page.get_by_text("Question 1 of 3").wait_for()
    page.get_by_role("button", name="Critical: 7", exact=True).tap()
    page.get_by_text("Question 2 of 3").wait_for()
    assert hosts == {urlsplit(live_server.url).netloc}
    assert device.blocked == []  # nothing was even tried elsewhere (fonts, analytics, CDNs)
    assert session.exec(select(BallotAnswer).where(col(BallotAnswer.value) == 7)).one()


def test_the_guard_stops_and_records_requests_to_other_hosts(guarded: Callable[..., Any]) -> None:
    """The check above means something: a request to another host never leaves the browser, and the
    context lists it. (A page of ours could not even try: its CSP allows only its own origin.)"""
    device = guarded(**PHONE)
    page = device.context.new_page()
    with pytest.raises(PlaywrightError, match=r"ERR_PROXY_CONNECTION_FAILED|ERR_NAME_NOT_RESOLVED|ERR_FAILED"):
        page.goto("http://assets.nhs.uk/fonts/FrutigerLTW01-55Roman.woff2")
    assert device.blocked == ["http://assets.nhs.uk/fonts/FrutigerLTW01-55Roman.woff2"]
