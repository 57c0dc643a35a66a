"""The room's bad day over HTTP: a session closed mid-round, a double tap, two tablets of one
table, a list nobody sent, and who has not finished."""

from __future__ import annotations

import json
import re

from sqlmodel import Session, select
from starlette.testclient import TestClient

from codesign.models import AuditEvent, Ballot, BallotAnswer, Outcome, Round, User, WorkshopSession
from codesign.services import ballots, rounds, sessions
from tests.conftest import join, post_form, sign_in
from tests.round_helpers import accepted_ids, open_round, shown_outcome

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
KEY = re.compile(r'name="key" value="([^"]+)"')
VERSION = re.compile(r'name="version" value="([^"]*)"')


def field(pattern: re.Pattern[str], page: str) -> str:
    match = pattern.search(page)
    assert match, page[:800]
    return match.group(1)


def counts(session: Session) -> tuple[int, int]:
    return len(session.exec(select(BallotAnswer)).all()), len(session.exec(select(Outcome)).all())


def test_a_session_closed_mid_round_takes_nothing_more(  # type: ignore[no-untyped-def]
        client: TestClient, other_client: TestClient, session: Session, facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 2)
    found = open_round(session, facilitator, workshop, ids)
    code = workshop.join_code
    join(other_client, code, "patient", "Amara")
    question = other_client.get(f"/s/{code}/rounds/{found.id}/q/1").text
    home = other_client.get(f"/s/{code}").text

    sign_in(client, facilitator)
    console = f"/sessions/{workshop.id}"
    closed = post_form(client, f"{console}/close", {}, token_from=console)
    assert closed.status_code == 303
    assert session.get_one(WorkshopSession, workshop.id).status == "closed"
    assert session.get_one(Round, found.id).status == "closed"  # the open round closed with it
    before = counts(session)

    # The page the participant still has open: a tap is refused and said so, never "saved".
    vote = other_client.post(f"/s/{code}/rounds/{found.id}/q/1", data={
        "csrf_token": field(TOKEN, question), "key": field(KEY, question), "value": "8"})
    assert vote.status_code == 409 and "has closed" in vote.text and "saved" not in vote.text.lower().replace(
        "not saved", "")
    idea = other_client.post(f"/s/{code}/proposals", data={"csrf_token": field(TOKEN, home),
                                                          "statement": "An idea after the end"})
    assert idea.status_code == 409 and "Your idea was not saved" in idea.text
    assert counts(session) == before
    assert "This session has closed" in other_client.get(f"/s/{code}").text


def test_close_session_with_unsent_lists_asks_first(  # type: ignore[no-untyped-def]
        client: TestClient, session: Session, facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 3)
    found = open_round(session, facilitator, workshop, ids, method="ranking", top_k="3")
    person = sessions.join_session(session, workshop.id, "carer")
    ballots.set_draft(session, found.id, person.id, {ids[0]: 1})  # type: ignore[arg-type]
    sign_in(client, facilitator)
    console = f"/sessions/{workshop.id}"
    warned = post_form(client, f"{console}/close", {}, token_from=console)
    assert warned.status_code == 409 and "1 list has changes that were never sent" in warned.text
    assert "Close anyway" in warned.text and session.get_one(WorkshopSession, workshop.id).status == "open"
    anyway = post_form(client, f"{console}/close", {"confirm_unsent": "yes"}, token_from=console)
    assert anyway.status_code == 303 and session.get_one(WorkshopSession, workshop.id).status == "closed"


def test_a_double_tap_never_answers_the_next_question(  # type: ignore[no-untyped-def]
        client: TestClient, session: Session, facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 3)
    found = open_round(session, facilitator, workshop, ids)
    code = workshop.join_code
    join(client, code, "patient")
    base = f"/s/{code}/rounds/{found.id}"
    first = client.get(f"{base}/q/1").text
    asked = shown_outcome(session, first)  # each person's own order: question 1 is one of the three
    assert asked in ids
    tap = {"csrf_token": field(TOKEN, first), "key": field(KEY, first), "value": "7"}
    assert client.post(f"{base}/q/1", data=tap).headers["location"].endswith("/q/2#question")
    assert client.post(f"{base}/q/1", data=tap).status_code == 303  # the retry of the same tap: saved once
    again = client.post(f"{base}/q/2", data=tap)  # the same key landing on the next question
    assert again.status_code == 422 and "page was out of date" in again.text
    stored = session.exec(select(BallotAnswer)).all()
    assert [(a.outcome_id, a.value) for a in stored] == [(asked, 7)]
    fresh = field(KEY, again.text)
    assert fresh != tap["key"]  # the page shown again carries a new key: answering it now works
    assert client.post(f"{base}/q/2", data={**tap, "key": fresh}).status_code == 303


def test_two_tablets_of_one_table(  # type: ignore[no-untyped-def]
        client: TestClient, other_client: TestClient, session: Session, facilitator: User, workshop) -> None:
    a, b, c = accepted_ids(session, workshop, 3)
    found = open_round(session, facilitator, workshop, [a, b, c], method="ranking", table_based="yes")
    code = workshop.join_code
    join(client, code, "patient", "", "3")
    join(other_client, code, "clinician", "", "3")
    page = f"/s/{code}/rounds/{found.id}"
    left, right = client.get(page).text, other_client.get(page).text
    add = client.post(f"{page}/draft", data={"csrf_token": field(TOKEN, left), "version": field(VERSION, left),
                                             "order": str(a)})
    assert add.status_code == 303
    stale = other_client.post(f"{page}/draft", data={"csrf_token": field(TOKEN, right),
                                                    "version": field(VERSION, right), "order": str(b)})
    assert stale.status_code == 409
    assert "Table 3’s list changed on another tablet" in stale.text
    ranked = re.search(r"My list \((\d) of", stale.text)
    assert ranked and ranked.group(1) == "1" and f'id="ranked-{a}"' in stale.text  # the list as it is now
    ballot = session.exec(select(Ballot)).one()
    assert json.loads(ballot.draft_json) == {str(a): 1}
    # Sending from the stale page is refused too; from the current one it counts.
    send = other_client.post(f"{page}/submit", data={"csrf_token": field(TOKEN, right), "key": "stale-send-0001",
                                                    "version": field(VERSION, right)})
    assert send.status_code == 409 and session.exec(select(BallotAnswer)).all() == []
    current = other_client.get(page).text
    assert other_client.post(f"{page}/submit", data={"csrf_token": field(TOKEN, current), "key": "fresh-send-0001",
                                                     "version": field(VERSION, current)}).status_code == 303

    sign_in(client, facilitator)
    console = client.get(f"/sessions/{workshop.id}/rounds/{found.id}").text
    assert re.search(r"Table 3</td>\s*<td[^>]*>2</td>\s*<td[^>]*>1</td>\s*<td[^>]*>Sent</td>", console)


def test_an_unsent_list_is_hard_to_miss_and_the_console_counts_it(  # type: ignore[no-untyped-def]
        client: TestClient, other_client: TestClient, session: Session, facilitator: User, workshop) -> None:
    a, b, c = accepted_ids(session, workshop, 3)
    found = open_round(session, facilitator, workshop, [a, b, c], method="points", budget="5")
    code = workshop.join_code
    join(other_client, code, "carer")
    page = f"/s/{code}/rounds/{found.id}"
    shown = other_client.get(page).text
    assert "data-unsent-list" not in shown  # nothing to send yet
    other_client.post(f"{page}/draft", data={"csrf_token": field(TOKEN, shown), "version": field(VERSION, shown),
                                             "alloc": "", "set": f"{a}:2"})
    unsent = other_client.get(page).text
    assert "data-unsent-list" in unsent and "app-send--unsent" in unsent and "not sent yet" in unsent

    sign_in(client, facilitator)
    round_page = f"/sessions/{workshop.id}/rounds/{found.id}"
    assert "1 list is not sent" in client.get(round_page).text
    warned = post_form(client, f"{round_page}/close", {}, token_from=round_page)
    assert warned.status_code == 409 and "Close anyway" in warned.text
    assert session.get_one(Round, found.id).status == "open"
    closed = post_form(client, f"{round_page}/close", {"confirm_unsent": "yes"}, token_from=round_page)
    assert closed.status_code == 303 and session.get_one(Round, found.id).status == "closed"
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "round.closed")).one()
    assert json.loads(event.details)["unsent_lists"] == 1 and "1 unsent lists were not counted" in event.summary


def test_the_console_names_who_has_not_finished(  # type: ignore[no-untyped-def]
        client: TestClient, other_client: TestClient, session: Session, facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 2)
    found = open_round(session, facilitator, workshop, ids)
    code = workshop.join_code
    join(other_client, code, "patient", "Amara", "4")
    nameless = sessions.join_session(session, workshop.id, "carer")
    sign_in(client, facilitator)
    page = f"/sessions/{workshop.id}/rounds/{found.id}"
    waiting = re.sub(r"\s+", " ", client.get(page).text)
    assert "Not finished yet (2)" in waiting
    assert "Amara, Patients, table 4: not started" in waiting
    assert f"Participant {nameless.number}, Carers: not started" in waiting
    base = f"/s/{code}/rounds/{found.id}"
    for n in (1, 2):
        q = other_client.get(f"{base}/q/{n}").text
        other_client.post(f"{base}/q/{n}", data={"csrf_token": field(TOKEN, q), "key": field(KEY, q), "value": "5"})
    after = re.sub(r"\s+", " ", client.get(page).text)
    assert "Not finished yet (1)" in after and "Amara" not in after
    # The round's progress table: joined, started, finished.
    assert re.search(r"Patients</td>\s*<td[^>]*>1</td>\s*<td[^>]*>1</td>\s*<td[^>]*>1</td>",
                     client.get(page).text)


def test_opening_a_round_with_small_groups_needs_the_facilitator_to_know(  # type: ignore[no-untyped-def]
        client: TestClient, session: Session, facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 2)
    made = rounds.create_round(session, facilitator, workshop.id, {  # type: ignore[arg-type]
        "title": "First impressions", "method": "rating", "outcomes": ",".join(map(str, ids))})
    for group in ("patient", "patient", "carer"):
        sessions.join_session(session, workshop.id, group)
    sign_in(client, facilitator)
    page = f"/sessions/{workshop.id}/rounds/{made.id}"
    shown = re.sub(r"\s+", " ", client.get(page).text)
    assert "Some groups are too small to show" in shown and "Patients (2 people), Carers (1 person)" in shown
    assert "where they count towards an outcome" in shown
    sessions.join_session(session, workshop.id, "patient")  # three patients: only the carer is too few
    shown = re.sub(r"\s+", " ", client.get(page).text)
    assert "Carers (1 person) is under" in shown and "where it counts towards an outcome" in shown
    refused = post_form(client, f"{page}/open", {"min_group_size": "2"}, token_from=page)
    assert refused.status_code == 422 and "Tick the box" in refused.text and 'value="2"' in refused.text
    assert session.get_one(Round, made.id).status == "draft"
    opened = post_form(client, f"{page}/open", {"min_group_size": "2", "acknowledge_small": "yes"}, token_from=page)
    assert opened.status_code == 303
    assert json.loads(session.get_one(Round, made.id).rule_json)["min_group_size"] == 2


def test_a_round_2_from_an_unrevealed_round_says_what_it_will_show(  # type: ignore[no-untyped-def]
        client: TestClient, session: Session, facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 2)
    first = open_round(session, facilitator, workshop, ids)
    people = [sessions.join_session(session, workshop.id, g) for g in ["patient"] * 5 + ["carer"] * 2]
    for n, person in enumerate(people):
        ballots.answer_rating(session, first.id, person.id, ids[0], "8", f"round-one-key-{n:03d}")  # type: ignore[arg-type]
        ballots.answer_rating(session, first.id, person.id, ids[1], "3", f"round-one-kez-{n:03d}",  # type: ignore[arg-type]
                              "Not for me")
    rounds.close_round(session, facilitator, workshop.id, first.id)  # type: ignore[arg-type]
    sign_in(client, facilitator)
    page = re.sub(r"\s+", " ", client.get(f"/sessions/{workshop.id}/rounds/new?feedback={first.id}").text)
    assert "its results have not been revealed, so people will see only their own earlier answer" in page
    assert "Carers (too few people)" in page
    rounds.set_revealed(session, facilitator, workshop.id, first.id, True)  # type: ignore[arg-type]
    page = re.sub(r"\s+", " ", client.get(f"/sessions/{workshop.id}/rounds/new?feedback={first.id}").text)
    assert "each group’s spread" in page and "not been revealed" not in page
    # The reasons people gave are the facilitator's to read, and in the downloads, with no names.
    console = client.get(f"/sessions/{workshop.id}/rounds/{first.id}").text
    assert "Why people answered as they did (7)" in console and "Not for me" in console
    document = client.get(f"/sessions/{workshop.id}/rounds/{first.id}/results.json").json()
    assert len(document["reasons"]) == 7 and document["reasons"][0]["reason"] == "Not for me"
    csv_bytes = client.get(f"/sessions/{workshop.id}/rounds/{first.id}/reasons.csv").content
    assert csv_bytes.startswith("\ufeff".encode())  # UTF-8 with a byte order mark, as Excel wants
    csv_text = csv_bytes.decode("utf-8-sig")
    assert csv_text.splitlines()[0] == "outcome_id,outcome,group,before,after,changed,reason"
    assert csv_text.count("Not for me") == 7
