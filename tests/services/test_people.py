"""The facilitator's corrections to the room (services.people): change someone's group or table,
remove someone, and make a person who joined twice into one. Open rounds follow the change;
closed rounds' stored results never do."""

from __future__ import annotations

import json
import threading
import uuid

import pytest
from sqlalchemy import Engine, event, text
from sqlmodel import Session, col, select

from codesign import db, integrity, queries
from codesign.errors import Conflict, NotFound, ValidationFailed
from codesign.models import AuditEvent, Ballot, BallotAnswer, PairwiseAnswer, Participant, Round, User
from codesign.services import ballot_sql, ballots, people, proposals, rounds, sessions
from tests.round_helpers import accepted_ids, open_round
from tests.services.test_round_trust import _waiting_on_a_lock, stored_equals_recount


def key() -> str:
    return uuid.uuid4().hex


def rate(session: Session, found: Round, person: Participant, outcome: int, value: str) -> None:
    ballots.answer_rating(session, found.id or 0, person.id or 0, outcome, value, key())


def ballot_of(session: Session, found: Round, person: Participant) -> Ballot | None:
    return session.exec(select(Ballot).where(Ballot.round_id == found.id, Ballot.voter_key == f"p:{person.id}")).first()


def answers(session: Session, ballot: Ballot | None) -> dict[int, int | None]:
    assert ballot is not None
    return {a.outcome_id: a.value for a in session.exec(select(BallotAnswer).where(BallotAnswer.ballot_id == ballot.id))}


def group_id(session: Session, workshop, key: str) -> int:  # type: ignore[no-untyped-def]
    return next(g.id for g in queries.list_stakeholder_groups(session, workshop.population_group_id)
                if g.key == key and g.id is not None)


def events(session: Session, action: str) -> list[AuditEvent]:
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.id))))


def closed_and_open(session: Session, facilitator: User, workshop, ids: list[int]) -> tuple[Round, Round]:  # type: ignore[no-untyped-def]
    first = open_round(session, facilitator, workshop, ids, title="Round one")
    return first, open_round(session, facilitator, workshop, ids, title="Round two")


def close(session: Session, facilitator: User, workshop, found: Round) -> Round:  # type: ignore[no-untyped-def]
    return rounds.close_round(session, facilitator, workshop.id, found.id or 0)


def verified(session: Session) -> list[str]:
    return [str(p) for p in integrity.verify(session).problems]


# ---- edit ------------------------------------------------------------------------------------------


def test_changing_group_moves_open_ballots_and_leaves_closed_results_alone(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 2)
    first, second = closed_and_open(session, facilitator, workshop, ids)
    person = sessions.join_session(session, workshop.id, "patient", "Ann", "3")
    rate(session, first, person, ids[0], "9")
    rate(session, second, person, ids[0], "9")
    close(session, facilitator, workshop, first)
    stored = session.get_one(Round, first.id).results_json

    people.edit_person(session, facilitator, workshop.id, person.id, {"group": "carer", "table_number": "5"})

    moved = session.get_one(Participant, person.id)
    assert (moved.stakeholder_group_id, moved.table_number) == (group_id(session, workshop, "carer"), 5)
    assert ballot_of(session, second, person).stakeholder_group_id == group_id(session, workshop, "carer")  # type: ignore[union-attr]
    assert ballot_of(session, first, person).stakeholder_group_id == group_id(session, workshop, "patient")  # type: ignore[union-attr]
    assert session.get_one(Round, first.id).results_json == stored
    assert stored_equals_recount(session, first.id or 0) and verified(session) == []
    close(session, facilitator, workshop, second)
    view = queries.round_results(session, workshop.id, second.id)
    assert view.results is not None and set(view.results.groups) == {"carer"}  # the open round followed them
    [logged] = events(session, "participant.edited")
    details = json.loads(logged.details)
    assert details["before"] == {"group": "Patients", "table": 3} and details["after"] == {"group": "Carers", "table": 5}
    assert details["ballots_moved_in_rounds"] == [second.number]


@pytest.mark.parametrize(("form", "field"), [
    ({"group": "nobody", "table_number": "2"}, "group"),
    ({"group": "carer", "table_number": "two"}, "table_number"),
    ({"group": "carer", "table_number": "0"}, "table_number"),
    ({"group": "carer", "table_number": "99999999999999999999"}, "table_number"),
])
def test_bad_edit_names_the_field_and_changes_nothing(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop, form: dict[str, str], field: str) -> None:
    person = sessions.join_session(session, workshop.id, "patient", "", "1")
    with pytest.raises(ValidationFailed) as refused:
        people.edit_person(session, facilitator, workshop.id, person.id, form)
    assert field in refused.value.errors
    session.rollback()
    again = session.get_one(Participant, person.id)
    assert (again.stakeholder_group_id, again.table_number) == (person.stakeholder_group_id, 1)
    assert events(session, "participant.edited") == []


def test_nobody_from_another_session_can_be_edited_through_this_one(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop) -> None:
    other = sessions.create_session(session, facilitator, workshop.population_group_id, "Another", "")
    stranger = sessions.join_session(session, other.id, "patient")
    with pytest.raises(NotFound):
        people.edit_person(session, facilitator, workshop.id, stranger.id, {"group": "carer", "table_number": ""})
    session.rollback()
    with pytest.raises(NotFound):
        people.remove_person(session, facilitator, workshop.id, stranger.id, "Wrong room", "keep")
    session.rollback()
    assert session.get_one(Participant, stranger.id).in_room


# ---- remove ----------------------------------------------------------------------------------------


def test_removing_keeps_answers_but_stops_the_device_and_the_progress_count(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 2)
    found = open_round(session, facilitator, workshop, ids)
    staying, leaving = (sessions.join_session(session, workshop.id, "patient") for _ in range(2))
    rate(session, found, leaving, ids[0], "7")
    people.remove_person(session, facilitator, workshop.id, leaving.id, "Left early", "keep")

    removed = session.get_one(Participant, leaving.id)
    assert removed.removed_at is not None and removed.removed_reason == "Left early"
    assert answers(session, ballot_of(session, found, leaving)) == {ids[0]: 7}
    progress = queries.round_progress(session, found)
    assert [g.joined for g in progress.groups if g.group.key == "patient"] == [1]
    assert [w.label for w in progress.waiting] == [queries.participant_label(staying)]
    assert [c.count for c in queries.count_participants_by_group(session, workshop) if c.group.key == "patient"] == [1]
    with pytest.raises(NotFound):  # the device can no longer vote as them
        rate(session, found, leaving, ids[1], "3")
    session.rollback()
    with pytest.raises(Conflict):
        people.remove_person(session, facilitator, workshop.id, leaving.id, "Again", "keep")
    session.rollback()
    [logged] = events(session, "participant.removed")
    assert "Left early" in logged.summary and json.loads(logged.details)["answers"] == "keep"


def test_discarding_takes_answers_from_open_rounds_only_and_keeps_them_in_the_audit_log(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 2)
    first, second = closed_and_open(session, facilitator, workshop, ids)
    pairs = open_round(session, facilitator, workshop, ids, method="pairwise", title="Pairs")
    person = sessions.join_session(session, workshop.id, "clinician")
    rate(session, first, person, ids[0], "2")
    rate(session, second, person, ids[0], "8")
    ballots.answer_pair(session, pairs.id or 0, person.id or 0, ids[0], ids[1], "left", key())
    close(session, facilitator, workshop, first)

    people.remove_person(session, facilitator, workshop.id, person.id, "Not part of this workshop", "discard")

    assert ballot_of(session, second, person) is None and ballot_of(session, pairs, person) is None
    assert session.exec(select(PairwiseAnswer)).all() == []
    assert answers(session, ballot_of(session, first, person)) == {ids[0]: 2}  # closed: as counted
    assert verified(session) == []
    details = json.loads(events(session, "participant.removed")[0].details)
    assert details["discarded"][str(second.number)]["answers"] == [{"outcome_id": ids[0], "value": 8, "reason": ""}]
    assert details["discarded"][str(pairs.number)]["pairs"] == [{"left": ids[0], "right": ids[1], "choice": "left"}]


@pytest.mark.parametrize(("reason", "answers", "field"), [("", "keep", "reason"), ("Left", "", "answers"),
                                                          ("Left", "delete everything", "answers")])
def test_removing_needs_a_reason_and_a_choice(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop, reason: str, answers: str, field: str) -> None:
    person = sessions.join_session(session, workshop.id, "patient")
    with pytest.raises(ValidationFailed) as refused:
        people.remove_person(session, facilitator, workshop.id, person.id, reason, answers)
    assert field in refused.value.errors
    session.rollback()
    assert session.get_one(Participant, person.id).in_room and events(session, "participant.removed") == []


# ---- merge -----------------------------------------------------------------------------------------


def test_merging_moves_the_duplicates_answers_where_the_person_has_none(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 3)
    first, second = closed_and_open(session, facilitator, workshop, ids)
    person, twice = (sessions.join_session(session, workshop.id, "patient") for _ in range(2))
    rate(session, first, twice, ids[0], "1")
    close(session, facilitator, workshop, first)
    rate(session, second, person, ids[0], "9")
    rate(session, second, twice, ids[0], "2")  # a conflict: the person's answer wins
    rate(session, second, twice, ids[1], "5")
    rate(session, second, twice, ids[2], "6")

    merged = people.merge_people(session, facilitator, workshop.id, person.id, {"duplicate": str(twice.id)})

    assert (merged.moved, merged.dropped) == (2, 1)
    assert answers(session, ballot_of(session, second, person)) == {ids[0]: 9, ids[1]: 5, ids[2]: 6}
    assert ballot_of(session, second, person).finished_at is not None  # type: ignore[union-attr]  # all answered now
    assert ballot_of(session, second, twice) is None
    assert answers(session, ballot_of(session, first, twice)) == {ids[0]: 1}  # closed: as counted
    assert session.get_one(Participant, twice.id).merged_into_id == person.id
    progress = queries.round_progress(session, session.get_one(Round, second.id))
    assert [(g.joined, g.finished) for g in progress.groups if g.group.key == "patient"] == [(1, 1)]
    assert verified(session) == []
    with pytest.raises(NotFound):
        rate(session, second, twice, ids[0], "4")
    session.rollback()
    details = json.loads(events(session, "participant.merged")[0].details)
    assert details["moved"] == 2 and details["dropped"] == {str(second.number): [
        {"outcome_id": ids[0], "value": 2, "reason": ""}]}


def test_merging_hands_over_a_whole_ballot_or_keeps_the_persons_list(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 3)
    rating = open_round(session, facilitator, workshop, ids)
    ranking = open_round(session, facilitator, workshop, ids, method="ranking", top_k="2")
    person, twice = (sessions.join_session(session, workshop.id, "carer") for _ in range(2))
    rate(session, rating, twice, ids[1], "4")  # the person has no rating ballot: the duplicate's becomes theirs
    for who, order in ((person, {ids[0]: 1}), (twice, {ids[2]: 1, ids[1]: 2})):
        ballots.set_draft(session, ranking.id or 0, who.id or 0, order)
        ballots.submit_draft(session, ranking.id or 0, who.id or 0, key())

    merged = people.merge_people(session, facilitator, workshop.id, person.id, {"duplicate": str(twice.id)})

    assert (merged.moved, merged.dropped) == (1, 2)  # a list is one answer: the person's stays whole
    assert answers(session, ballot_of(session, rating, person)) == {ids[1]: 4}
    assert answers(session, ballot_of(session, ranking, person)) == {ids[0]: 1}
    assert session.exec(select(Ballot)).all() == [ballot_of(session, rating, person), ballot_of(session, ranking, person)]


def test_merging_people_of_different_groups_needs_the_right_group(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 2)
    found = open_round(session, facilitator, workshop, ids)
    person = sessions.join_session(session, workshop.id, "patient")
    twice = sessions.join_session(session, workshop.id, "carer")
    rate(session, found, person, ids[0], "8")
    rate(session, found, twice, ids[1], "3")
    for form in ({"duplicate": str(twice.id)}, {"duplicate": str(twice.id), "group": "clinician"}):
        with pytest.raises(ValidationFailed) as refused:
            people.merge_people(session, facilitator, workshop.id, person.id, form)
        assert "group" in refused.value.errors
        session.rollback()
    assert session.get_one(Participant, twice.id).in_room

    people.merge_people(session, facilitator, workshop.id, person.id, {"duplicate": str(twice.id), "group": "carer"})

    carer = group_id(session, workshop, "carer")
    assert session.get_one(Participant, person.id).stakeholder_group_id == carer
    assert ballot_of(session, found, person).stakeholder_group_id == carer  # type: ignore[union-attr]
    assert json.loads(events(session, "participant.merged")[0].details)["group"] == {"before": "Patients",
                                                                                       "after": "Carers"}


def test_merging_with_oneself_or_across_sessions_is_refused(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop) -> None:
    person = sessions.join_session(session, workshop.id, "patient")
    other = sessions.create_session(session, facilitator, workshop.population_group_id, "Another", "")
    stranger = sessions.join_session(session, other.id, "patient")
    for duplicate in (str(person.id), str(stranger.id), "", "x1"):
        with pytest.raises(ValidationFailed) as refused:
            people.merge_people(session, facilitator, workshop.id, person.id, {"duplicate": duplicate})
        assert "duplicate" in refused.value.errors
        session.rollback()
    assert session.get_one(Participant, stranger.id).in_room and events(session, "participant.merged") == []


# ---- the people list -------------------------------------------------------------------------------


def _statements(engine: Engine, fn) -> int:  # type: ignore[no-untyped-def]
    count = 0

    def counted(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        nonlocal count
        count += statement.lstrip().upper().startswith("SELECT")  # not the driver's PRAGMAs or BEGIN

    event.listen(engine, "before_cursor_execute", counted)
    try:
        with Session(engine) as s:
            fn(s)
    finally:
        event.remove(engine, "before_cursor_execute", counted)
    return count


def test_people_list_states_per_round_in_the_same_few_queries_for_any_room(  # type: ignore[no-untyped-def]
        engine: Engine, session: Session, facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 2)
    rating = open_round(session, facilitator, workshop, ids)
    ranking = open_round(session, facilitator, workshop, ids, method="ranking", top_k="2")
    done, half = (sessions.join_session(session, workshop.id, "patient") for _ in range(2))
    rate(session, rating, done, ids[0], "5")
    rate(session, rating, done, ids[1], "5")
    rate(session, rating, half, ids[0], "5")
    ballots.set_draft(session, ranking.id or 0, half.id or 0, {ids[0]: 1})
    view = queries.get_people(session, workshop.id)
    assert [(r.label, r.states) for r in view.page.rows] == [
        (queries.participant_label(done), ["finished", "not started"]),
        (queries.participant_label(half), ["started", "started"])]
    few = _statements(engine, lambda s: queries.get_people(s, workshop.id))
    for _ in range(10):
        sessions.join_session(session, workshop.id, "clinician")
    session.commit()
    assert _statements(engine, lambda s: queries.get_people(s, workshop.id)) == few <= 15


# ---- racing a close (PostgreSQL: the round's lock; SQLite: writers queue) ---------------------------


@pytest.mark.parametrize("change", ["merge", "discard"])
def test_a_merge_or_discard_racing_a_close_is_counted_before_it_or_not_at_all(  # type: ignore[no-untyped-def]
        engine: Engine, session: Session, facilitator: User, workshop, monkeypatch: pytest.MonkeyPatch,
        change: str) -> None:
    ids = accepted_ids(session, workshop, 2)
    found = open_round(session, facilitator, workshop, ids)
    person, twice = (sessions.join_session(session, workshop.id, "patient") for _ in range(2))
    rate(session, found, person, ids[0], "9")
    rate(session, found, twice, ids[1], "1")
    round_id, session_id, user_id, person_id, twice_id = found.id, workshop.id, facilitator.id, person.id, twice.id
    session.close()
    inside, go = threading.Event(), threading.Event()
    name = "merge_ballot" if change == "merge" else "discard_ballot"
    real = getattr(ballot_sql, name)

    def paused(*args, **kwargs):  # type: ignore[no-untyped-def]
        done = real(*args, **kwargs)
        inside.set()  # the ballots have changed; the change has not committed yet
        assert go.wait(30)
        return done

    monkeypatch.setattr(ballot_sql, name, paused)
    outcome: dict[str, object] = {}

    def correct() -> None:
        with db.write_session(engine) as s:
            actor = s.get_one(User, user_id)
            if change == "merge":
                outcome["change"] = people.merge_people(s, actor, session_id, person_id, {"duplicate": str(twice_id)})
            else:
                outcome["change"] = people.remove_person(s, actor, session_id, twice_id, "Not here", "discard")

    def close_it() -> None:
        with db.write_session(engine) as s:
            outcome["close"] = rounds.close_round(s, s.get_one(User, user_id), session_id, round_id)  # type: ignore[arg-type]

    corrector = threading.Thread(target=correct)
    corrector.start()
    assert inside.wait(30)
    closer = threading.Thread(target=close_it)
    closer.start()
    if engine.dialect.name == "postgresql":
        assert _waiting_on_a_lock(engine, closer), "the close did not wait for the change in flight"
    go.set()
    corrector.join(30)
    closer.join(30)
    assert "change" in outcome and isinstance(outcome.get("close"), Round)
    with Session(engine) as s:
        assert stored_equals_recount(s, round_id)  # type: ignore[arg-type]
        assert [str(p) for p in integrity.verify(s).problems] == []
        view = queries.round_results(s, session_id, round_id)  # type: ignore[arg-type]
        assert view.results is not None
        # The change came first: the duplicate's answer is counted as the person's, or not at all.
        assert view.results.groups["patient"].n == 1
        expected = 1 if change == "merge" else 0
        assert view.results.outcome(str(ids[1])).groups["patient"].n == expected
        assert s.exec(select(Ballot).where(Ballot.voter_key == f"p:{twice_id}")).all() == []
        s.connection().execute(text("SELECT 1"))


def test_the_round_console_refreshes_when_someone_moves_or_leaves(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop) -> None:
    """The round's page polls with a fingerprint and skips unchanged refreshes: a change of group
    or table, or a removal that keeps every ballot as it was, must still change it."""
    ids = accepted_ids(session, workshop, 2)
    found = open_round(session, facilitator, workshop, ids)
    person = sessions.join_session(session, workshop.id, "patient")
    seen = {queries.round_fingerprint(session, found)}
    for change in ({"group": "carer", "table_number": ""}, {"group": "carer", "table_number": "2"}):
        people.edit_person(session, facilitator, workshop.id, person.id, change)
        seen.add(queries.round_fingerprint(session, found))
    people.remove_person(session, facilitator, workshop.id, person.id, "Left", "keep")
    seen.add(queries.round_fingerprint(session, found))
    assert len(seen) == 4


def test_merging_pairs_counts_a_pair_shown_either_way_round_as_one_question(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 3)
    found = open_round(session, facilitator, workshop, ids, method="pairwise")
    person, twice = (sessions.join_session(session, workshop.id, "patient") for _ in range(2))
    ballots.answer_pair(session, found.id or 0, person.id or 0, ids[0], ids[1], "left", key())
    ballots.answer_pair(session, found.id or 0, twice.id or 0, ids[1], ids[0], "left", key())  # the same pair
    ballots.answer_pair(session, found.id or 0, twice.id or 0, ids[0], ids[2], "none", key())

    merged = people.merge_people(session, facilitator, workshop.id, person.id, {"duplicate": str(twice.id)})

    assert (merged.moved, merged.dropped) == (1, 1)
    mine = ballot_of(session, found, person)
    assert mine is not None
    pairs = {(p.left_outcome_id, p.right_outcome_id, p.choice)
             for p in session.exec(select(PairwiseAnswer).where(PairwiseAnswer.ballot_id == mine.id))}
    assert pairs == {(ids[0], ids[1], "left"), (ids[0], ids[2], "none")}
    close(session, facilitator, workshop, found)
    assert verified(session) == []


def test_a_removed_or_merged_participant_cannot_propose(session: Session, facilitator: User, workshop) -> None:  # type: ignore[no-untyped-def]
    person, twice, gone = (sessions.join_session(session, workshop.id, "patient") for _ in range(3))
    people.merge_people(session, facilitator, workshop.id, person.id, {"duplicate": str(twice.id)})
    people.remove_person(session, facilitator, workshop.id, gone.id, "Left", "keep")
    for who in (twice, gone):
        with pytest.raises(Conflict):
            proposals.propose_outcome(session, workshop.id, who.id or 0, "An idea sent too late")
        session.rollback()
    assert proposals.propose_outcome(session, workshop.id, person.id or 0, "An idea in time").id is not None
