"""What a ballot import tells the facilitator: new and replaced ballots, voters moved to another
group, and a refused file's problems (the first of each kind first, and how many more). The race
runs on PostgreSQL too (tests/with_postgres.sh)."""

from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from codesign.db import read_session, write_session
from codesign.errors import ValidationFailed
from codesign.models import AuditEvent, Ballot, Participant, StakeholderGroup, User, WorkshopSession
from codesign.services import round_import, rounds
from tests.round_helpers import accepted_ids, open_round

HEADER = "participant,group,outcome,value\n"


def _import(session: Session, facilitator: User, workshop: WorkshopSession, round_id: int | None, text: str,
            source: str) -> round_import.ImportReport:
    return round_import.import_ballots(session, facilitator, workshop.id or 0, round_id or 0, text, source)


def _last_import(session: Session) -> AuditEvent:
    return session.exec(select(AuditEvent).where(AuditEvent.action == "round.imported")
                        .order_by(col(AuditEvent.id).desc())).first()  # type: ignore[return-value]


def test_importing_the_same_file_twice_says_new_then_replacing(
        session: Session, facilitator: User, workshop: WorkshopSession) -> None:
    ids = accepted_ids(session, workshop, 2)
    found = open_round(session, facilitator, workshop, ids)
    text = HEADER + "".join(f"S-{n},patient,{i},{n}\n" for n in range(1, 4) for i in ids)
    first = _import(session, facilitator, workshop, found.id, text, "survey.csv")
    assert first.describe() == "Imported 3 ballots from survey.csv (6 answers), all new."
    again = _import(session, facilitator, workshop, found.id, text, "survey.csv")
    assert again.describe() == "Imported 3 ballots from survey.csv (6 answers), replacing earlier ones from this round."
    details = json.loads(_last_import(session).details)
    assert (details["voters"], details["rows"], details["new"], details["replaced"], details["moved"]) == (3, 6, 0, 3, 0)
    # Two of them again with two new voters: the counts of each.
    more = HEADER + "".join(f"S-{n},patient,{ids[0]},5\n" for n in (2, 3, 4, 5))
    mixed = _import(session, facilitator, workshop, found.id, more, "late.csv")
    assert mixed.describe() == ("Imported 4 ballots from late.csv (4 answers): 2 new, 2 replacing earlier ones "
                                "from this round.")
    assert _last_import(session).summary == ("Imported 4 ballots into round 1 from late.csv (4 answers): 2 new, "
                                             "2 replacing earlier ones from this round.")
    one = _import(session, facilitator, workshop, found.id, HEADER + f"S-9,carer,{ids[0]},5\n", "paper.csv")
    assert one.describe() == "Imported 1 ballot from paper.csv (1 answer), a new one."


def test_a_voter_the_file_puts_in_another_group_is_moved_and_the_message_says_so(
        session: Session, facilitator: User, workshop: WorkshopSession) -> None:
    ids = accepted_ids(session, workshop, 2)
    round_1 = open_round(session, facilitator, workshop, ids)
    _import(session, facilitator, workshop, round_1.id,
            HEADER + "".join(f"S-{n},patients,{ids[0]},5\n" for n in range(1, 7)), "first.csv")
    rounds.close_round(session, facilitator, workshop.id or 0, round_1.id or 0)
    round_2 = open_round(session, facilitator, workshop, ids)
    # Four of them carers now (one named by key, three by name), one still a patient.
    later = HEADER + "".join(f"S-{n},{group},{ids[1]},7\n" for n, group in
                             [(1, "Carers"), (2, "carer"), (3, "Patients"), (4, "Carers"), (5, "Carers")])
    report = _import(session, facilitator, workshop, round_2.id, later, "later.csv")
    assert report.describe() == (
        "Imported 5 ballots from later.csv (5 answers), all new. 4 voters are now in another group, as this "
        "file says: S-1 Patients to Carers, S-2 Patients to Carers, S-4 Patients to Carers, and 1 more.")
    details = json.loads(_last_import(session).details)
    assert details["moved"] == 4 and details["moves"][0] == {"participant": "S-1", "from": "Patients", "to": "Carers"}
    assert [m["participant"] for m in details["moves"]] == ["S-1", "S-2", "S-4", "S-5"]
    carer = session.exec(select(StakeholderGroup).where(StakeholderGroup.key == "carer")).one()
    patient = session.exec(select(StakeholderGroup).where(StakeholderGroup.key == "patient")).one()
    s1 = session.exec(select(Participant).where(Participant.external_ref == "S-1")).one()
    assert s1.stakeholder_group_id == carer.id  # the latest file is the truth today...
    by_round = {b.round_id: b.stakeholder_group_id for b in session.exec(
        select(Ballot).where(Ballot.participant_id == s1.id))}
    assert by_round == {round_1.id: patient.id, round_2.id: carer.id}  # ...and the closed round is as it was
    one = _import(session, facilitator, workshop, round_2.id, HEADER + f"S-6,clinician,{ids[1]},7\n", "x.csv")
    assert one.describe().endswith("1 voter is now in another group, as this file says: S-6 Patients to Clinicians.")


def test_a_refused_file_shows_each_kind_of_problem_first_and_how_many_more(
        session: Session, facilitator: User, workshop: WorkshopSession) -> None:
    ids = accepted_ids(session, workshop, 2)
    found = open_round(session, facilitator, workshop, ids)
    # One voter's first line names "Nurses"; twelve other voters rate out of range; one line
    # names an outcome not on the ballot, after all of them.
    rows = [f"N-1,Nurses,{ids[0]},5", f"N-1,patient,{ids[1]},5"] + [f"V-{n},carer,{ids[0]},10" for n in range(12)]
    rows.append(f"W-1,carer,{ids[1] + 1000},5")
    with pytest.raises(ValidationFailed) as caught:
        _import(session, facilitator, workshop, found.id, HEADER + "\n".join(rows) + "\n", "s.csv")
    said = caught.value.errors["ballots"].split(" · ")
    assert said[0].startswith("The file was not imported. s.csv, line 2, column 2 (group): “Nurses” is not a")
    assert said[1:4] == ["s.csv, line 4, column 4 (value): 10 is out of range 1-9",
                         f"s.csv, line 16, column 3 (outcome): '{ids[1] + 1000}' is not on the ballot",
                         "s.csv, line 5, column 4 (value): 10 is out of range 1-9"]
    assert len(said) == 11 and said[-1] == "and 4 more problems"  # 14 problems, 10 shown
    assert "is in group" not in caught.value.errors["ballots"]
    assert session.exec(select(Participant).where(col(Participant.external_ref).is_not(None))).all() == []


@pytest.mark.parametrize("earlier", [True, False], ids=["voters known", "voters new"])
def test_two_imports_of_one_file_at_once_count_each_ballot_and_move_once(
        engine: Engine, session: Session, facilitator: User, workshop: WorkshopSession, earlier: bool) -> None:
    ids = accepted_ids(session, workshop, 2)
    found = open_round(session, facilitator, workshop, ids)
    if earlier:
        _import(session, facilitator, workshop, found.id, HEADER + "".join(f"S-{n},patient,{ids[0]},5\n"
                                                                           for n in range(3)), "first.csv")
    text = HEADER + "".join(f"S-{n},carer,{i},6\n" for n in range(3) for i in ids)
    # Plain ids, read here: the threads must not touch the test's session (its objects expire on
    # each commit, and two threads refreshing them at once collide: "provisioning a new connection").
    session_id, round_id, actor_id = workshop.id or 0, found.id or 0, facilitator.id
    start = threading.Barrier(2)
    reports: list[round_import.ImportReport] = []
    failures: list[BaseException] = []

    def run() -> None:
        try:
            # As the import route runs it: checked in a read session, saved in a write session.
            with read_session(engine) as reading:
                checked = round_import.check_import(reading, session_id, round_id, text, "same.csv")
            start.wait(timeout=60)  # both checked, then both save at once
            with write_session(engine) as writing:
                actor = writing.get_one(User, actor_id)
                reports.append(round_import.save_import(writing, actor, session_id, round_id, checked))
        except BaseException as exc:  # reported below, not lost in the thread
            failures.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    # Whichever saved second saw the first: the moves are said once, and each ballot replaced.
    said = sorted((r.new, r.replaced, len(r.moved)) for r in reports)
    assert said == ([(0, 3, 0), (0, 3, 3)] if earlier else [(0, 3, 0), (3, 0, 0)])
    session.expire_all()
    assert len(session.exec(select(Participant).where(col(Participant.external_ref).is_not(None))).all()) == 3
    assert len(session.exec(select(Ballot).where(Ballot.round_id == found.id)).all()) == 3
