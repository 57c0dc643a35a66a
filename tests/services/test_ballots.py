"""Casting votes: one answer per person per outcome, retries count once, nothing after close."""

from __future__ import annotations

import csv
import io
import json
import uuid

import pytest
from sqlmodel import Session, select

from codesign import queries
from codesign.errors import Conflict, NotFound, ValidationFailed
from codesign.export.round_csv import write_round_results_csv
from codesign.models import Ballot, BallotAnswer, BallotSubmission, PairwiseAnswer, Participant, Round, User
from codesign.services import ballots, rounds, sessions
from tests.round_helpers import accepted_ids, open_round, round_form


def key() -> str:
    return uuid.uuid4().hex


def answers(session: Session, round_id: int | None) -> dict[tuple[str, int], int | None]:
    """(voter, outcome) -> value of every saved answer in the round."""
    rows = session.exec(select(Ballot.voter_key, BallotAnswer.outcome_id, BallotAnswer.value)
                        .join(BallotAnswer, BallotAnswer.ballot_id == Ballot.id)  # type: ignore[arg-type]
                        .where(Ballot.round_id == round_id)).all()
    return {(voter, outcome): value for voter, outcome, value in rows}


@pytest.fixture
def ids(session: Session, workshop) -> list[int]:  # type: ignore[no-untyped-def]
    return accepted_ids(session, workshop, 4)


@pytest.fixture
def patient(session: Session, workshop) -> Participant:  # type: ignore[no-untyped-def]
    return sessions.join_session(session, workshop.id, "patient", "Amara", "3")


@pytest.fixture
def rating(session: Session, facilitator: User, workshop, ids: list[int]) -> Round:  # type: ignore[no-untyped-def]
    return open_round(session, facilitator, workshop, ids)


# ---- rating ---------------------------------------------------------------------------------


def test_ratings_1_to_9_and_unable(session: Session, rating: Round, patient: Participant, ids: list[int]) -> None:
    for value in ("1", "9", "5", "unable"):
        saved = ballots.answer_rating(session, rating.id, patient.id, ids[0], value, key())  # type: ignore[arg-type]
        assert not saved.repeated
        expected = None if value == "unable" else int(value)
        assert answers(session, rating.id) == {(f"p:{patient.id}", ids[0]): expected}
    ballot = session.exec(select(Ballot)).one()
    assert ballot.stakeholder_group_id == patient.stakeholder_group_id and ballot.submitted_at is not None
    assert ballot.source == "app" and ballot.table_number == 3


def test_bad_values_and_keys_are_refused(session: Session, rating: Round, patient: Participant,
                                        ids: list[int]) -> None:
    for value in ("0", "10", "-1", "7.5", "seven", "", " 7", "U"):
        with pytest.raises(ValidationFailed) as caught:
            ballots.answer_rating(session, rating.id, patient.id, ids[0], value, key())  # type: ignore[arg-type]
        assert "value" in caught.value.errors and caught.value.values["value"] == value
    for bad_key in ("", "short", "has space in it", "x" * 65, "semi;colon;key"):
        with pytest.raises(ValidationFailed) as caught:
            ballots.answer_rating(session, rating.id, patient.id, ids[0], "5", bad_key)  # type: ignore[arg-type]
        assert "key" in caught.value.errors, bad_key
    assert session.exec(select(Ballot)).all() == [] and session.exec(select(BallotSubmission)).all() == []


def test_a_reason_is_kept_and_checked(session: Session, rating: Round, patient: Participant, ids: list[int]) -> None:
    with pytest.raises(ValidationFailed) as caught:
        ballots.answer_rating(session, rating.id, patient.id, ids[0], "5", key(), "x" * 1001)  # type: ignore[arg-type]
    assert "reason" in caught.value.errors
    ballots.answer_rating(session, rating.id, patient.id, ids[0], "5", key(), "  I changed\r\nmy mind ")  # type: ignore[arg-type]
    assert session.exec(select(BallotAnswer)).one().reason == "I changed\nmy mind"


def test_the_same_key_twice_counts_once(session: Session, rating: Round, patient: Participant, ids: list[int]) -> None:
    first = ballots.answer_rating(session, rating.id, patient.id, ids[0], "8", "device-key-0001")  # type: ignore[arg-type]
    # A retried request (the Wi-Fi dropped the response) carries the same key: nothing changes.
    again = ballots.answer_rating(session, rating.id, patient.id, ids[0], "2", "device-key-0001")  # type: ignore[arg-type]
    assert not first.repeated and again.repeated and again.ballot_id == first.ballot_id
    assert answers(session, rating.id) == {(f"p:{patient.id}", ids[0]): 8}
    assert len(session.exec(select(BallotSubmission)).all()) == 1


def test_a_new_key_replaces_the_answer(session: Session, rating: Round, patient: Participant, ids: list[int],  # type: ignore[no-untyped-def]
                                       workshop) -> None:
    carer = sessions.join_session(session, workshop.id, "carer")
    for value in ("3", "6", "9"):
        ballots.answer_rating(session, rating.id, patient.id, ids[0], value, key())  # type: ignore[arg-type]
    ballots.answer_rating(session, rating.id, patient.id, ids[1], "4", key())  # type: ignore[arg-type]
    ballots.answer_rating(session, rating.id, carer.id, ids[0], "7", key())  # type: ignore[arg-type]
    assert answers(session, rating.id) == {(f"p:{patient.id}", ids[0]): 9, (f"p:{patient.id}", ids[1]): 4,
                                           (f"p:{carer.id}", ids[0]): 7}
    assert len(session.exec(select(BallotAnswer)).all()) == 3 and len(session.exec(select(Ballot)).all()) == 2
    assert len(session.exec(select(BallotSubmission)).all()) == 5


def test_nothing_changes_after_close(session: Session, facilitator: User, workshop, rating: Round,  # type: ignore[no-untyped-def]
                                     patient: Participant, ids: list[int]) -> None:
    ballots.answer_rating(session, rating.id, patient.id, ids[0], "8", "sent-before-close")  # type: ignore[arg-type]
    rounds.close_round(session, facilitator, workshop.id, rating.id)
    with pytest.raises(Conflict, match="has closed") as caught:
        ballots.answer_rating(session, rating.id, patient.id, ids[0], "2", key())  # type: ignore[arg-type]
    assert "this answer was not saved; the answers you gave before it closed count" in str(caught.value)
    with pytest.raises(Conflict, match="has closed"):
        ballots.answer_rating(session, rating.id, patient.id, ids[1], "2", key())  # type: ignore[arg-type]
    assert answers(session, rating.id) == {(f"p:{patient.id}", ids[0]): 8}
    assert len(session.exec(select(BallotSubmission)).all()) == 1
    # A retry of an answer that did arrive before the close is told it was saved, not refused.
    assert ballots.answer_rating(session, rating.id, patient.id, ids[0], "8", "sent-before-close").repeated  # type: ignore[arg-type]


def test_before_open_nothing_is_accepted(session: Session, facilitator: User, workshop, patient: Participant,  # type: ignore[no-untyped-def]
                                         ids: list[int]) -> None:
    draft = rounds.create_round(session, facilitator, workshop.id, round_form(ids))
    with pytest.raises(Conflict, match="not opened"):
        ballots.answer_rating(session, draft.id, patient.id, ids[0], "5", key())  # type: ignore[arg-type]
    assert session.exec(select(Ballot)).all() == []


def test_only_the_rounds_outcomes_and_sessions_people(session: Session, facilitator: User, workshop, rating: Round,  # type: ignore[no-untyped-def]
                                                      patient: Participant) -> None:
    outside = accepted_ids(session, workshop)[-1]
    with pytest.raises(NotFound):
        ballots.answer_rating(session, rating.id, patient.id, outside, "5", key())  # type: ignore[arg-type]
    other = sessions.create_session(session, facilitator, workshop.population_group_id, "Another workshop")
    stranger = sessions.join_session(session, other.id, "patient")
    with pytest.raises(NotFound):
        ballots.answer_rating(session, rating.id, stranger.id, accepted_ids(session, workshop, 1)[0], "5", key())  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        ballots.answer_pair(session, rating.id, patient.id, 1, 2, "left", key())  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        ballots.set_draft(session, rating.id, patient.id, {})  # type: ignore[arg-type]
    assert session.exec(select(Ballot)).all() == []


# ---- ranking --------------------------------------------------------------------------------


@pytest.fixture
def ranking(session: Session, facilitator: User, workshop, ids: list[int]) -> Round:  # type: ignore[no-untyped-def]
    return open_round(session, facilitator, workshop, ids, method="ranking", top_k="3")


def test_ranking_drafts_must_be_contiguous_and_at_most_k(session: Session, workshop, ranking: Round,  # type: ignore[no-untyped-def]
                                                         patient: Participant, ids: list[int]) -> None:
    for positions, message in (((1, 3), "gap"), ((2,), "gap"), ((1, 1), "gap"), ((1, 2, 3, 4), "at most 3")):
        with pytest.raises(ValidationFailed, match=message):
            ballots.set_draft(session, ranking.id, patient.id, dict(zip(ids, positions, strict=False)))  # type: ignore[arg-type]
    outside = accepted_ids(session, workshop)[-1]
    with pytest.raises(ValidationFailed, match="out of date"):
        ballots.set_draft(session, ranking.id, patient.id, {outside: 1})  # type: ignore[arg-type]
    assert session.exec(select(Ballot)).all() == []


def test_submit_counts_the_draft_and_later_edits_wait_for_a_resubmit(  # type: ignore[no-untyped-def]
        session: Session, workshop, ranking: Round, patient: Participant, ids: list[int]) -> None:
    a, b, c, d = ids
    with pytest.raises(ValidationFailed, match="at least one"):
        ballots.submit_draft(session, ranking.id, patient.id, key())  # type: ignore[arg-type]
    assert ballots.set_draft(session, ranking.id, patient.id, {a: 1, b: 2, c: 0}) == {a: 1, b: 2}  # type: ignore[arg-type]
    assert answers(session, ranking.id) == {}  # a draft is not a vote
    progress = queries.round_progress(session, ranking)
    assert (progress.groups[0].started, progress.groups[0].finished, progress.unsent) == (1, 0, 1)
    ballots.submit_draft(session, ranking.id, patient.id, key())  # type: ignore[arg-type]
    voter = f"p:{patient.id}"
    assert answers(session, ranking.id) == {(voter, a): 1, (voter, b): 2}
    progress = queries.round_progress(session, ranking)
    assert (progress.groups[0].finished, progress.unsent) == (1, 0)

    ballots.set_draft(session, ranking.id, patient.id, {d: 1, a: 2, c: 3})  # type: ignore[arg-type]
    assert answers(session, ranking.id) == {(voter, a): 1, (voter, b): 2}  # not counted yet
    assert queries.round_progress(session, ranking).unsent == 1  # changed since it was sent
    results = queries.round_results(session, workshop.id, ranking.id).results
    assert results is not None and results.order[:2] == [str(a), str(b)]
    view = queries.get_participant_round(session, ranking, patient)
    assert view.submitted and view.draft_changed and [o.id for o in view.ranked()] == [d, a, c]

    ballots.submit_draft(session, ranking.id, patient.id, key())  # type: ignore[arg-type]
    assert answers(session, ranking.id) == {(voter, d): 1, (voter, a): 2, (voter, c): 3}  # b dropped
    assert len(session.exec(select(Ballot)).all()) == 1
    assert not queries.get_participant_round(session, ranking, patient).draft_changed


# ---- points ---------------------------------------------------------------------------------


def test_points_budget_and_cap(session: Session, facilitator: User, workshop, patient: Participant,  # type: ignore[no-untyped-def]
                               ids: list[int]) -> None:
    found = open_round(session, facilitator, workshop, ids, method="points", budget="10", max_per_outcome="4")
    a, b, c, _d = ids
    with pytest.raises(ValidationFailed, match="at most 4"):
        ballots.set_draft(session, found.id, patient.id, {a: 5})  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed, match="10 dots"):
        ballots.set_draft(session, found.id, patient.id, {a: 4, b: 4, c: 3})  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed, match="at least one dot"):
        ballots.submit_draft(session, found.id, patient.id, key())  # type: ignore[arg-type]
    ballots.set_draft(session, found.id, patient.id, {a: 4, b: 4, c: 2})  # type: ignore[arg-type]
    ballots.submit_draft(session, found.id, patient.id, key())  # type: ignore[arg-type]
    voter = f"p:{patient.id}"
    assert answers(session, found.id) == {(voter, a): 4, (voter, b): 4, (voter, c): 2}
    view = queries.get_participant_round(session, found, patient)
    assert view.dots_left == 0 and not view.draft_changed
    ballots.set_draft(session, found.id, patient.id, {a: 1})  # type: ignore[arg-type]
    ballots.submit_draft(session, found.id, patient.id, key())  # type: ignore[arg-type]
    assert answers(session, found.id) == {(voter, a): 1}


# ---- pairwise -------------------------------------------------------------------------------


def test_pairwise_choice_is_checked_and_a_pair_answered_again_replaces(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop, patient: Participant, ids: list[int]) -> None:
    found = open_round(session, facilitator, workshop, ids, method="pairwise")
    a, b, c, _d = ids
    with pytest.raises(ValidationFailed) as caught:
        ballots.answer_pair(session, found.id, patient.id, a, b, "both", key())  # type: ignore[arg-type]
    assert "choice" in caught.value.errors
    with pytest.raises(NotFound):
        ballots.answer_pair(session, found.id, patient.id, a, a, "left", key())  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        ballots.answer_pair(session, found.id, patient.id, a, accepted_ids(session, workshop)[-1], "left", key())  # type: ignore[arg-type]
    assert session.exec(select(PairwiseAnswer)).all() == []

    ballots.answer_pair(session, found.id, patient.id, a, b, "left", key())  # type: ignore[arg-type]
    ballots.answer_pair(session, found.id, patient.id, a, b, "none", key())  # type: ignore[arg-type]
    # The same pair shown the other way round is still the same question.
    ballots.answer_pair(session, found.id, patient.id, b, a, "left", key())  # type: ignore[arg-type]
    ballots.answer_pair(session, found.id, patient.id, a, c, "right", key())  # type: ignore[arg-type]
    rows = {(p.left_outcome_id, p.right_outcome_id): p.choice for p in session.exec(select(PairwiseAnswer))}
    assert rows == {(b, a): "left", (a, c): "right"}
    view = queries.get_participant_round(session, found, patient)
    assert view.pairs_answered == 2 and view.pair is not None
    assert frozenset(o.id for o in view.pair) not in ({a, b}, {a, c})
    results = queries.round_results(session, workshop.id, found.id).results
    assert results is not None and results.outcome(str(b)).groups["patient"].wins == 1


# ---- table rounds ---------------------------------------------------------------------------


def test_a_table_round_has_one_ballot_per_table(session: Session, facilitator: User, workshop,  # type: ignore[no-untyped-def]
                                                patient: Participant, ids: list[int]) -> None:
    found = open_round(session, facilitator, workshop, ids, method="ranking", top_k="3", table_based="yes")
    a, b, c, d = ids
    neighbour = sessions.join_session(session, workshop.id, "clinician", "Gita", "3")
    other_table = sessions.join_session(session, workshop.id, "carer", "", "5")
    no_table = sessions.join_session(session, workshop.id, "commissioner")

    ballots.set_draft(session, found.id, patient.id, {a: 1, b: 2})  # type: ignore[arg-type]
    # Gita, at the same table, sees the table's list and finishes it.
    view = queries.get_participant_round(session, found, neighbour)
    assert [o.id for o in view.ranked()] == [a, b]
    ballots.set_draft(session, found.id, neighbour.id, {a: 1, b: 2, c: 3})  # type: ignore[arg-type]
    ballots.submit_draft(session, found.id, neighbour.id, key())  # type: ignore[arg-type]
    ballots.set_draft(session, found.id, other_table.id, {d: 1, c: 2})  # type: ignore[arg-type]
    ballots.submit_draft(session, found.id, other_table.id, key())  # type: ignore[arg-type]
    table_ballots = {b.voter_key: b for b in session.exec(select(Ballot))}
    assert set(table_ballots) == {"t:3", "t:5"}
    assert table_ballots["t:3"].table_number == 3 and table_ballots["t:3"].stakeholder_group_id is None
    assert answers(session, found.id) == {("t:3", a): 1, ("t:3", b): 2, ("t:3", c): 3, ("t:5", d): 1, ("t:5", c): 2}
    assert queries.get_participant_round(session, found, patient).submitted

    with pytest.raises(Conflict, match="table number"):
        ballots.set_draft(session, found.id, no_table.id, {a: 1})  # type: ignore[arg-type]
    with pytest.raises(Conflict, match="table number"):
        ballots.submit_draft(session, found.id, no_table.id, key())  # type: ignore[arg-type]
    assert len(session.exec(select(Ballot)).all()) == 2
    assert not queries.get_participant_round(session, found, no_table).submitted

    results = queries.round_results(session, workshop.id, found.id)
    assert results.results is None and results.tables is not None
    combined = {t.outcome: t for t in results.tables}
    assert combined[str(c)].tables == {"3": 3, "5": 2}
    assert json.loads(json.dumps(results.to_dict()))["tables"][0]["outcome_id"] in ids
    out = io.StringIO()
    write_round_results_csv(results, out)
    rows = {int(r["outcome_id"]): r for r in csv.DictReader(io.StringIO(out.getvalue()))}
    assert set(rows) == set(ids)
    assert (rows[c]["table.3"], rows[c]["table.5"], rows[c]["total_rank"]) == ("3", "2", "5")
    assert rows[b]["unranked_by"] == "5" and rows[b]["table.5"] == "3"  # counted just below table 5's list
