"""Who joined, where it is said (a user trial: after importing 5,000 voters' paper ballots the
console said "5,003 people joined" of a room of 3). The console, the lobby on the projector and
the presenter, a round's progress on the console and the big screen count the people who joined;
imported ballots are said apart, plainly; the results still count every ballot."""

from __future__ import annotations

import html
import re

from sqlalchemy import event
from sqlmodel import Session
from starlette.testclient import TestClient

from codesign import queries
from codesign.models import Ballot, Participant, Round, User, WorkshopSession
from codesign.services import ballots, round_import, rounds, sessions
from tests.conftest import sign_in
from tests.round_helpers import accepted_ids, open_round


def room_and_import(session: Session, facilitator: User, workshop: WorkshopSession) -> Round:
    """Ann (patient, table 1) has finished the open round, Bob (carer, no table) has not started;
    a ballot file brings 5 voters (3 patients, 2 carers), each answering every question."""
    ids = accepted_ids(session, workshop, 2)
    found = open_round(session, facilitator, workshop, ids, min_group_size="1")
    ann = sessions.join_session(session, workshop.id or 0, "patient", "Ann", "1")
    sessions.join_session(session, workshop.id or 0, "carer", "Bob")
    for n, outcome in enumerate(ids):
        ballots.answer_rating(session, found.id or 0, ann.id or 0, outcome, "8", f"ann-key-{n:04d}-0123456789abcdef")
    text = "participant,group,outcome,value\n" + "".join(
        f"P-{i},{'patient' if i < 3 else 'carer'},{o},{7 + i % 3}\n" for i in range(5) for o in ids)
    assert round_import.import_ballots(session, facilitator, workshop.id or 0, found.id or 0, text, "paper.csv").voters == 5
    return found


def plain(text: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


def test_the_console_counts_who_joined_and_says_imported_voters_apart(  # type: ignore[no-untyped-def]
        client: TestClient, session: Session, facilitator: User, workshop) -> None:
    room_and_import(session, facilitator, workshop)
    sign_in(client, facilitator)
    console = client.get(f"/sessions/{workshop.id}")
    assert console.status_code == 200
    assert "<strong>2 people</strong> joined so far." in console.text
    assert re.search(r"<dt>Patients</dt><dd>1</dd>", console.text) and re.search(r"<dt>Carers</dt><dd>1</dd>",
                                                                               console.text)
    said = plain(console.text)
    assert "Not counted above: 5 voters imported from a ballot file (paper or another survey tool)." in said
    assert f'/sessions/{workshop.id}/people?who=imported#people">Imported voters</a>' in console.text
    live = client.get(f"/sessions/{workshop.id}", headers={"HX-Request": "true"})  # the refreshed part says the same
    assert "<strong>2 people</strong> joined so far." in live.text and "5 voters imported" in live.text


def test_a_console_without_imports_says_nothing_about_them(  # type: ignore[no-untyped-def]
        client: TestClient, session: Session, facilitator: User, workshop) -> None:
    sessions.join_session(session, workshop.id, "patient", "Ann")
    sign_in(client, facilitator)
    console = client.get(f"/sessions/{workshop.id}").text
    assert "<strong>1 person</strong> joined so far." in console and "imported" not in plain(console).lower()


def test_the_lobby_on_the_big_screen_counts_who_joined(  # type: ignore[no-untyped-def]
        client: TestClient, session: Session, facilitator: User, workshop) -> None:
    room_and_import(session, facilitator, workshop)
    sign_in(client, facilitator)
    lobby = plain(client.get(f"/sessions/{workshop.id}/projector").text)
    assert "2 people joined" in lobby and "7 people" not in lobby
    assert re.search(r"\b1 Patients 1 Carers\b", lobby), lobby


def test_a_rounds_progress_is_the_room_and_imported_ballots_are_said_apart(  # type: ignore[no-untyped-def]
        client: TestClient, session: Session, facilitator: User, workshop) -> None:
    found = room_and_import(session, facilitator, workshop)
    progress = queries.round_progress(session, found)
    assert [(g.group.key, g.joined, g.started, g.finished, g.imported) for g in progress.groups][:2] == [
        ("patient", 1, 1, 1, 3), ("carer", 1, 0, 0, 2)]
    assert progress.imported == 5 and [w.label for w in progress.waiting] == ["Bob"]
    sign_in(client, facilitator)
    console = client.get(f"/sessions/{workshop.id}/rounds/{found.id}")
    assert console.status_code == 200
    said = plain(console.text)
    assert "Group Joined Started Finished Imported ballots Patients 1 1 1 3 Carers 1 0 0 2" in said
    assert "Imported ballots: 5 voters named in a ballot file imported into this round" in said
    for big_screen in (f"/sessions/{workshop.id}/rounds/{found.id}/projector", f"/sessions/{workshop.id}/present"):
        shown = plain(client.get(big_screen).text)
        assert "1 of 2 people have finished" in shown, big_screen
        assert "5 ballots from paper or another survey also count." in shown, big_screen


def test_the_results_still_count_every_ballot(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop) -> None:
    found = room_and_import(session, facilitator, workshop)
    rounds.close_round(session, facilitator, workshop.id, found.id or 0)
    results = queries.round_results(session, workshop.id, found.id or 0).results
    assert results is not None
    assert {key: g.n for key, g in results.groups.items()} == {"patient": 4, "carer": 2}  # Ann + 3; Bob answered nothing


def test_a_table_round_does_not_ask_imported_voters_for_a_table(  # type: ignore[no-untyped-def]
        client: TestClient, session: Session, facilitator: User, workshop) -> None:
    room_and_import(session, facilitator, workshop)
    tables = open_round(session, facilitator, workshop, accepted_ids(session, workshop, 3), method="ranking",
                        table_based="yes", top_k="2")
    assert queries.round_progress(session, tables).no_table == 1  # Bob, not the 5 voters from the file
    sign_in(client, facilitator)
    said = plain(client.get(f"/sessions/{workshop.id}/rounds/{tables.id}").text)
    assert "1 person has not given a table number" in said


def test_a_rounds_progress_counts_imported_ballots_without_reading_them(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop) -> None:
    """The console and the big screen poll a round's progress: after an import of 20,000 it read
    every imported voter and ballot (1.7 s a refresh). Now the database counts them per group: the
    rows read are the room's, whatever the size of the import."""
    found = room_and_import(session, facilitator, workshop)
    ids = accepted_ids(session, workshop, 2)
    text = "participant,group,outcome,value\n" + "".join(f"Q-{i},clinician,{ids[0]},5\n" for i in range(40))
    round_import.import_ballots(session, facilitator, workshop.id or 0, found.id or 0, text, "more.csv")
    session.expire_all()
    loaded: list[object] = []

    def count(target: object, _context: object) -> None:
        loaded.append(target)

    for model in (Participant, Ballot):
        event.listen(model, "load", count)
    try:
        progress = queries.round_progress(session, found)
    finally:
        for model in (Participant, Ballot):
            event.remove(model, "load", count)
    assert sum(isinstance(x, Participant) for x in loaded) == 2  # Ann and Bob
    assert sum(isinstance(x, Ballot) for x in loaded) == 1  # Ann's
    assert [(g.group.key, g.imported) for g in progress.groups] == [
        ("patient", 3), ("carer", 2), ("clinician", 40), ("commissioner", 0)]
