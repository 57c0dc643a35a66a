"""The rating hot path (services.ballots.record_rating) through HTTP: one tap, one transaction."""

from __future__ import annotations

import re

from sqlmodel import Session, select
from starlette.testclient import TestClient

from codesign.models import BallotAnswer, BallotSubmission
from codesign.services import rounds
from tests.conftest import join
from tests.round_helpers import accepted_ids, open_round, shown_outcome

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def _tap(client: TestClient, url: str, value: str, key: str, token_from: str | None = None) -> object:
    page = client.get(token_from or url)
    csrf = TOKEN.search(page.text)
    assert csrf, page.text[:300]
    return client.post(url, data={"csrf_token": csrf.group(1), "value": value, "key": key})


def test_one_tap_saves_once_and_moves_on(client: TestClient, session: Session, facilitator, workshop) -> None:  # type: ignore[no-untyped-def]
    ids = accepted_ids(session, workshop, 3)
    found = open_round(session, facilitator, workshop, ids)
    join(client, workshop.join_code, "patient")
    base = f"/s/{workshop.join_code}/rounds/{found.id}"
    asked = shown_outcome(session, client.get(f"{base}/q/1").text)  # question 1 in this person's own order
    assert asked in ids
    first = _tap(client, f"{base}/q/1", "8", "tap-key-0001")
    assert first.status_code == 303 and first.headers["location"].endswith(f"{base}/q/2#question")  # type: ignore[attr-defined]
    # A retry with the same key changes nothing and goes to the same place.
    again = _tap(client, f"{base}/q/1", "2", "tap-key-0001")
    assert again.headers["location"].endswith(f"{base}/q/2#question")  # type: ignore[attr-defined]
    answers = session.exec(select(BallotAnswer)).all()
    assert [(a.outcome_id, a.value) for a in answers] == [(asked, 8)]
    assert len(session.exec(select(BallotSubmission)).all()) == 1
    # A new key replaces the answer (going back and choosing again).
    _tap(client, f"{base}/q/1", "unable", "tap-key-0002")
    assert [(a.outcome_id, a.value) for a in session.exec(select(BallotAnswer))] == [(asked, None)]
    # Skipping question 2: answering 3 leads back... to the end, since nothing after 3 is left.
    third = _tap(client, f"{base}/q/3", "5", "tap-key-0003")
    assert third.headers["location"].endswith(f"{base}/done#done")  # type: ignore[attr-defined]
    second = _tap(client, f"{base}/q/2", "6", "tap-key-0004")
    assert second.headers["location"].endswith(f"{base}/done#done")  # type: ignore[attr-defined]
    assert len(session.exec(select(BallotAnswer)).all()) == 3


def test_refusals_render_the_page_and_change_nothing(client: TestClient, other_client: TestClient,  # type: ignore[no-untyped-def]
                                                     session: Session, facilitator, workshop) -> None:
    ids = accepted_ids(session, workshop, 2)
    found = open_round(session, facilitator, workshop, ids)
    base = f"/s/{workshop.join_code}/rounds/{found.id}"
    # Not joined on this device: off to join, nothing saved.
    stranger = other_client.post(f"{base}/q/1", data={"csrf_token": TOKEN.search(other_client.get("/join").text).group(1),  # type: ignore[union-attr]
                                                       "value": "9", "key": "stranger-0001"})
    assert stranger.status_code == 303 and f"/j/{workshop.join_code}" in stranger.headers["location"]
    join(client, workshop.join_code, "carer")
    bad = _tap(client, f"{base}/q/1", "12", "tap-key-0101")
    assert bad.status_code == 422 and "Choose a number from 1 to 9" in bad.text  # type: ignore[attr-defined]
    stale = _tap(client, f"{base}/q/1", "4", "bad key!")
    assert stale.status_code == 422 and "out of date" in stale.text  # type: ignore[attr-defined]
    assert _tap(client, f"{base}/q/9", "4", "tap-key-0102", token_from=f"{base}/q/1").status_code == 404  # type: ignore[attr-defined]
    rounds.close_round(session, facilitator, workshop.id, found.id)
    late = _tap(client, f"{base}/q/1", "4", "tap-key-0103")
    assert late.status_code == 409 and "this answer was not saved" in late.text  # type: ignore[attr-defined]
    assert session.exec(select(BallotAnswer)).all() == []


def test_table_round_needs_a_table_number(client: TestClient, session: Session, facilitator, workshop) -> None:  # type: ignore[no-untyped-def]
    ids = accepted_ids(session, workshop, 2)
    found = open_round(session, facilitator, workshop, ids)
    found.table_based = True  # a rating round voted by tables (the form allows ranking only; the path must cope)
    session.add(found)
    session.commit()
    join(client, workshop.join_code, "patient")
    refused = _tap(client, f"/s/{workshop.join_code}/rounds/{found.id}/q/1", "7", "tap-key-0201")
    assert refused.status_code == 409 and "table number" in refused.text  # type: ignore[attr-defined]


def test_after_a_close_my_answers_say_what_counts_and_ask_for_no_more(  # type: ignore[no-untyped-def]
        client: TestClient, session: Session, facilitator, workshop) -> None:
    # Found in a user trial: closed after 3 of 20, "See all my answers" still said "Carry on" and
    # "when everyone has voted, the facilitator closes the round".
    ids = accepted_ids(session, workshop, 3)
    found = open_round(session, facilitator, workshop, ids)
    join(client, workshop.join_code, "carer")
    base = f"/s/{workshop.join_code}/rounds/{found.id}"
    assert _tap(client, f"{base}/q/1", "8", "tap-key-0201").status_code == 303  # type: ignore[attr-defined]
    before = client.get(f"{base}/done").text
    assert "You have answered 1 of 3" in before and "Carry on" in before  # open: carry on
    rounds.close_round(session, facilitator, workshop.id, found.id)
    after = client.get(f"{base}/done")
    assert after.status_code == 200
    assert "<title>This round has closed" in after.text
    assert "You answered 1 of 3 before it closed. Those answers are saved and count." in after.text
    for gone in ("Carry on", "When everyone has voted", "I have finished", "Change my answers"):
        assert gone not in after.text, gone
