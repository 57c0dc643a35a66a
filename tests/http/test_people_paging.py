"""The people page at the size of a real import (a user trial: 5,000 voters' paper ballots made it
1.9 MB): a page at a time, the room first, found by number, name, ballot-file reference, group or
where someone is; a person's page and its merge form when the room is too big to list."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import Engine, event
from sqlmodel import Session, col, select
from starlette.testclient import TestClient

from codesign import queries
from codesign.models import AuditEvent, Participant, Round, User, WorkshopSession
from codesign.queries import people as people_queries
from codesign.queries.paging import PER_PAGE
from codesign.services import people, round_import, sessions
from tests.conftest import join, post_form, sign_in
from tests.round_helpers import accepted_ids, open_round

GROUPS = ("patient", "carer", "clinician", "commissioner")


def import_voters(session: Session, facilitator: User, workshop: WorkshopSession, n: int,
                  into: Round | None = None) -> Round:
    """n voters from a ballot file (the real import), PAPER-0001 ... in groups in turn, into a new
    open round or `into`."""
    ids = accepted_ids(session, workshop, 2)
    found = into or open_round(session, facilitator, workshop, ids)
    text = "participant,group,outcome,value\n" + "".join(
        f"PAPER-{i:04d},{GROUPS[i % 4]},{ids[0]},{1 + i % 9}\n" for i in range(1, n + 1))
    assert round_import.import_ballots(session, facilitator, workshop.id or 0, found.id or 0, text, "paper.csv").voters == n
    return found


def people_url(workshop: WorkshopSession) -> str:
    return f"/sessions/{workshop.id}/people"


def names(page: str) -> list[str]:
    """The people listed, in order (the row headers of the page's tables)."""
    return [html.unescape(n) for n in re.findall(r'<th scope="row" class="nhsuk-table__cell"><a href="[^"]+">([^<]*)</a>',
                                                 page)]


def refs(page: str) -> list[str]:
    return re.findall(r">(PAPER-\d{4})<", page)


@pytest.fixture
def big(session: Session, facilitator: User, workshop: WorkshopSession) -> WorkshopSession:
    """A room of three (Ann, Bob, and Cal who is removed) and 2 x PER_PAGE + 10 imported voters."""
    for name, group in (("Ann", "patient"), ("Bob", "carer"), ("Cal", "carer")):
        sessions.join_session(session, workshop.id or 0, group, name)
    import_voters(session, facilitator, workshop, 2 * PER_PAGE + 10)
    cal = session.exec(select(Participant).where(Participant.first_name == "Cal")).one()
    people.remove_person(session, facilitator, workshop.id or 0, cal.id or 0, "Wrong room", "keep")
    return workshop


def test_a_big_import_is_listed_a_page_at_a_time_the_room_first(  # type: ignore[no-untyped-def]
        client: TestClient, facilitator: User, big) -> None:
    sign_in(client, facilitator)
    first = client.get(people_url(big))
    assert first.status_code == 200
    total = 2 * PER_PAGE + 13
    shown = names(first.text)
    assert len(shown) == PER_PAGE and shown[:3] == ["Ann", "Bob", "Cal"]
    assert refs(first.text) == [f"PAPER-{i:04d}" for i in range(1, PER_PAGE - 2)]  # the file's names shown
    text = html.unescape(first.text)
    assert f"Showing 1 to {PER_PAGE} of {total}, page 1 of 3." in text
    assert "In the room (2)" in text and "Removed or merged (1)" in text
    assert f"Imported from a ballot file ({2 * PER_PAGE + 10})" in text
    assert "Wrong room" in text  # the removed person's reason, as before
    # Named people's numbers are shown too: the number is what a search or a merge in a big room asks for.
    assert re.search(r'>Bob</a></th>\s*<td class="nhsuk-table__cell nhsuk-table__cell--numeric">2</td>', first.text)
    assert f'href="/sessions/{big.id}/people?page=2#people"' in first.text
    last = client.get(f"{people_url(big)}?page=3")
    assert refs(last.text) == [f"PAPER-{i:04d}" for i in range(2 * PER_PAGE - 2, 2 * PER_PAGE + 11)]
    assert "In the room (" not in last.text  # nobody of the room on this page
    for odd in ("999", "0", "abc", "-1", "²"):  # clamped, never an error
        response = client.get(f"{people_url(big)}?page={odd}")
        assert response.status_code == 200
        assert names(response.text) == names((last if odd == "999" else first).text), odd


@pytest.mark.parametrize(("query", "expected"), [
    ("q=PAPER-0042", ["PAPER-0042"]),
    ("q=paper-004", [f"PAPER-{i:04d}" for i in range(40, 50)]),
    ("q=ann", ["Ann"]),
    ("q=2", ["Bob"]),  # participant 2, and every reference with a 2 in it (checked below)
    ("q=Participant+1", ["Ann"]),
    ("q=%23104", ["PAPER-0101"]),  # "#104": the number; the three room people are 1 to 3
    ("group=carer&who=room", ["Bob"]),
    ("who=left", ["Cal"]),
    ("q=ca&who=left&group=carer", ["Cal"]),
    ("group=commissioner&q=PAPER-00", [f"PAPER-{i:04d}" for i in range(3, 100, 4)]),
    ("q=%25", []),  # a % is itself, not "anything"
    ("q=_", []),
])
def test_search_finds_one_person_among_thousands(  # type: ignore[no-untyped-def]
        client: TestClient, facilitator: User, big, query: str, expected: list[str]) -> None:
    sign_in(client, facilitator)
    response = client.get(f"{people_url(big)}?{query}")
    assert response.status_code == 200
    found = refs(response.text) + [n for n in names(response.text) if not n.startswith("Participant")]
    if query == "q=2":  # the number finds participant 2, and the text finds every reference with a 2
        assert "Bob" in found and all("2" in r for r in found if r != "Bob")
        return
    assert found == expected, query
    if not expected:
        assert "Nobody in this session matches" in response.text
    else:
        assert re.search(rf"{len(expected)} (person matches|people match)", html.unescape(response.text))


def test_the_search_is_kept_in_the_page_links_and_escaped(  # type: ignore[no-untyped-def]
        client: TestClient, facilitator: User, big) -> None:
    sign_in(client, facilitator)
    response = client.get(f"{people_url(big)}?who=imported&page=2")
    assert refs(response.text)[0] == f"PAPER-{PER_PAGE + 1:04d}"
    assert f'href="/sessions/{big.id}/people?who=imported&amp;page=3#people"' in response.text
    hostile = client.get(f"{people_url(big)}?q=%3Cscript%3Ealert(1)%3C/script%3E")
    assert hostile.status_code == 200 and "<script>alert(1)" not in hostile.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile.text


def _selects(engine: Engine, run) -> int:  # type: ignore[no-untyped-def]
    count = 0

    def counted(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        nonlocal count
        count += statement.lstrip().upper().startswith("SELECT")

    event.listen(engine, "before_cursor_execute", counted)
    try:
        with Session(engine) as s:
            run(s)
    finally:
        event.remove(engine, "before_cursor_execute", counted)
    return count


def test_a_page_reads_only_its_own_people(  # type: ignore[no-untyped-def]
        engine: Engine, session: Session, facilitator: User, workshop) -> None:
    """The same statements for any number of voters, and each round's ballots read for the page's
    people only; their states are those read from the whole round."""
    found = import_voters(session, facilitator, workshop, 20)
    sessions.join_session(session, workshop.id, "patient", "Ann")
    few = _selects(engine, lambda s: queries.get_people(s, workshop.id, search="paper"))
    import_voters(session, facilitator, workshop, 3 * PER_PAGE, into=found)
    read: list[int] = []

    def page(s: Session) -> None:
        read.append(len(queries.get_people(s, workshop.id, search="paper", page=2).page.rows))

    assert _selects(engine, page) == few
    assert read == [PER_PAGE]
    view = queries.get_people(session, workshop.id)
    shown = [row.person for row in view.page.rows]
    assert len(queries.round_ballots(session, found, shown).by_voter) == PER_PAGE - 1  # Ann has none
    whole = queries.round_ballots(session, found)
    assert len(whole.by_voter) == 3 * PER_PAGE
    assert [row.states for row in view.page.rows] == [[queries.person_state(whole, p)] for p in shown]
    assert [row.states for row in view.page.rows][:2] == [["not started"], ["finished"]]


def test_an_imported_voters_page_says_where_they_came_from(  # type: ignore[no-untyped-def]
        client: TestClient, session: Session, facilitator: User, workshop) -> None:
    import_voters(session, facilitator, workshop, 3)
    voter = session.exec(select(Participant).where(Participant.external_ref == "PAPER-0002")).one()
    sign_in(client, facilitator)
    page = client.get(f"{people_url(workshop)}/{voter.id}")
    assert page.status_code == 200
    assert "From a ballot file, as “PAPER-0002”" in page.text and "Remove from the session" not in page.text


def test_in_a_room_too_big_to_list_the_duplicate_is_given_by_number(  # type: ignore[no-untyped-def]
        client: TestClient, session: Session, facilitator: User, workshop, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(people_queries, "MERGE_CHOICES", 1)
    ann, _bob, twice, gone = (sessions.join_session(session, workshop.id, "patient", name)
                              for name in ("Ann", "Bob", "Ann again", "Dee"))
    import_voters(session, facilitator, workshop, 1)
    people.remove_person(session, facilitator, workshop.id, gone.id or 0, "Left early", "keep")
    voter = session.exec(select(Participant).where(col(Participant.external_ref).is_not(None))).one()
    sign_in(client, facilitator)
    url = f"{people_url(workshop)}/{ann.id}"
    page = client.get(url)
    assert 'name="duplicate_number"' in page.text and 'name="duplicate"' not in page.text
    assert "There are 2 others in the room" in html.unescape(page.text)
    for typed, message in (("", "Enter the participant number of the one who joined twice"),
                           ("Ann again", "Enter a participant number, like 12"),
                           ("99", "Nobody in this session is participant 99"),
                           (str(voter.number), f"Participant {voter.number} was imported from a ballot file"),
                           (str(gone.number), f"Participant {gone.number} has been removed"),
                           (str(ann.number), "a person cannot be merged with themselves")):
        refused = post_form(client, f"{url}/merge", {"duplicate_number": typed}, token_from=url)
        assert refused.status_code == 422, typed
        assert message in html.unescape(refused.text) and 'href="#merge-duplicate"' in refused.text, typed
        assert f'value="{typed}"' in refused.text  # what was typed is kept
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "participant.merged")).all() == []
    merged = post_form(client, f"{url}/merge", {"duplicate_number": f"Participant {twice.number}"}, token_from=url)
    assert merged.status_code == 303
    session.expire_all()
    assert session.get_one(Participant, twice.id).merged_into_id == ann.id


def test_the_tables_say_what_their_columns_hold_for_imported_voters(  # type: ignore[no-untyped-def]
        client: TestClient, session: Session, facilitator: User, workshop) -> None:
    # From a user trial: an imported voter's "Joined" time beside "They did not join in the room",
    # a table column reading "None", and "People in the room, page 1 of 341" for a room of four.
    ids = accepted_ids(session, workshop, 2)
    found = open_round(session, facilitator, workshop, ids)
    join(client, workshop.join_code, "carer")
    rows = "".join(f"V-{n},patient,{ids[0]},7\n" for n in range(120))
    round_import.import_ballots(session, facilitator, workshop.id, found.id,
                                "participant,group,outcome,value\n" + rows, "big.csv")
    sign_in(client, facilitator)
    first = client.get(f"/sessions/{workshop.id}/people").text
    assert "People in the room</caption>" in first and "page 1 of" not in first.split("<caption")[1]
    assert ">None given<" in first and ">None<" not in first
    last = client.get(f"/sessions/{workshop.id}/people?page=3").text
    assert "Imported (UTC)" in last and "Voters imported from a ballot file</caption>" in last
