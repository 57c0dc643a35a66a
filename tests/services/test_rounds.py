"""Voting rounds as a facilitator runs them: create, open (locks), close, reveal, reset, audit."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import event
from sqlalchemy import text as sa_text
from sqlmodel import Session, col, select

from codesign import queries
from codesign.errors import Conflict, NotFound, ValidationFailed
from codesign.models import (
    AuditEvent,
    Ballot,
    BallotAnswer,
    BallotSubmission,
    Outcome,
    PairwiseAnswer,
    Participant,
    Round,
    RoundOutcome,
    RoundStatus,
    StakeholderGroup,
    User,
)
from codesign.services import ballots, population, proposals, round_import, rounds, sessions
from tests.round_helpers import accepted_ids, open_round, round_form


def key() -> str:
    return uuid.uuid4().hex


def round_events(session: Session, round_id: int | None) -> list[str]:
    return [e.action for e in session.exec(select(AuditEvent).where(
        AuditEvent.object_type == "round", AuditEvent.object_id == round_id).order_by(col(AuditEvent.id)))]


def test_create_round_saves_a_draft_with_its_settings(session: Session, facilitator: User, workshop) -> None:  # type: ignore[no-untyped-def]
    ids = accepted_ids(session, workshop, 4)
    made = rounds.create_round(session, facilitator, workshop.id, round_form(
        ids, title="  Round   one ", in_min="80", in_max_low="10", out_min="80", out_max_high="10",
        min_group_size="3", patient_veto_in="yes"))
    assert (made.number, made.title, made.status, made.method, made.revealed) == (1, "Round one", "draft", "rating",
                                                                                  False)
    assert made.weights_json == "{}"  # weights are copied when it opens, not before
    rule = json.loads(made.rule_json)
    assert (rule["in_min_pct_7_9"], rule["in_max_pct_1_3"], rule["min_group_size"], rule["patient_veto_in"]) == (
        0.8, 0.1, 3, True)
    assert list(rounds.round_outcome_ids(session, made.id)) == ids
    second = rounds.create_round(session, facilitator, workshop.id, round_form(ids[:2], method="ranking", top_k="2"))
    assert second.number == 2 and json.loads(second.options_json)["top_k"] == 2
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "round.created",
                                                  AuditEvent.object_id == made.id)).one()
    details = json.loads(event.details)
    assert details["outcomes"] == ids and details["rule"]["in_min_pct_7_9"] == 0.8
    assert event.actor_id == facilitator.id and event.session_id == workshop.id


def _closed_rating_round(session: Session, facilitator: User, workshop) -> Round:  # type: ignore[no-untyped-def]
    found = open_round(session, facilitator, workshop, accepted_ids(session, workshop, 3))
    return rounds.close_round(session, facilitator, workshop.id, found.id)


# (form fields changed, the field refused). ONE, DRAFT and CLOSED stand for ids made in the test.
BAD_SETTINGS: list[tuple[dict[str, str], str]] = [
    ({"method": ""}, "method"),
    ({"method": "approval"}, "method"),
    ({"title": "   "}, "title"),
    ({"outcomes": ""}, "outcomes"),
    ({"outcomes": "ONE"}, "outcomes"),  # one outcome only
    ({"in_min": "101"}, "in_min"),
    ({"out_max_high": "-1"}, "out_max_high"),
    ({"in_max_low": "lots"}, "in_max_low"),
    ({"in_min": "10", "out_max_high": "20"}, "rule"),  # IN needs at least the OUT ceiling
    ({"min_group_size": "0"}, "min_group_size"),
    ({"method": "ranking", "top_k": "0"}, "top_k"),
    ({"method": "points", "budget": "5", "max_per_outcome": "6"}, "max_per_outcome"),
    ({"table_based": "yes"}, "table_based"),  # a rating round
    ({"table_based": "yes", "method": "points"}, "table_based"),
    ({"feedback_round_id": "DRAFT"}, "feedback_round_id"),  # not closed
    ({"feedback_round_id": "CLOSED", "method": "ranking"}, "feedback_round_id"),  # another method
    ({"feedback_round_id": "999999"}, "feedback_round_id"),
]


def test_create_round_refuses_bad_settings_and_saves_nothing(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 3)
    draft = rounds.create_round(session, facilitator, workshop.id, round_form(ids))
    closed = _closed_rating_round(session, facilitator, workshop)
    swap = {"ONE": str(ids[0]), "DRAFT": str(draft.id), "CLOSED": str(closed.id)}
    rounds_before = len(session.exec(select(Round)).all())
    links_before = len(session.exec(select(RoundOutcome)).all())
    events_before = len(session.exec(select(AuditEvent)).all())
    for overrides, field in BAD_SETTINGS:
        form = round_form(ids, **{k: swap.get(v, v) for k, v in overrides.items()})
        with pytest.raises(ValidationFailed) as caught:
            rounds.create_round(session, facilitator, workshop.id, form)
        assert field in caught.value.errors, (overrides, caught.value.errors)
        assert caught.value.values["title"] == form["title"]  # what was typed comes back for the form
    assert len(session.exec(select(Round)).all()) == rounds_before
    assert len(session.exec(select(RoundOutcome)).all()) == links_before
    assert len(session.exec(select(AuditEvent)).all()) == events_before


def test_only_accepted_outcomes_of_this_population_group_can_be_chosen(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop) -> None:
    person = sessions.join_session(session, workshop.id, "patient")
    waiting = proposals.propose_outcome(session, workshop.id, person.id, "Shorter waits for podiatry")
    other = population.create_population_group(session, facilitator, "Frailty", "", "older-people-frailty")
    elsewhere = session.exec(select(Outcome).where(Outcome.population_group_id == other.id)).first()
    assert elsewhere is not None
    with pytest.raises(ValidationFailed) as caught:
        rounds.create_round(session, facilitator, workshop.id,
                            round_form([accepted_ids(session, workshop, 1)[0], waiting.id, elsewhere.id]))  # type: ignore[list-item]
    assert "outcomes" in caught.value.errors
    made = rounds.create_round(session, facilitator, workshop.id, round_form(
        [*accepted_ids(session, workshop, 2), waiting.id, elsewhere.id]))  # type: ignore[list-item]
    assert list(rounds.round_outcome_ids(session, made.id)) == accepted_ids(session, workshop, 2)


def test_open_locks_the_rule_and_copies_the_weights(session: Session, facilitator: User, workshop) -> None:  # type: ignore[no-untyped-def]
    population.set_stakeholder_weights(session, facilitator, workshop.population_group_id,
                                       {"patient": "2", "carer": "1", "clinician": "1", "commissioner": "1"})
    ids = accepted_ids(session, workshop, 3)
    found = open_round(session, facilitator, workshop, ids, min_group_size="1")
    assert found.status == RoundStatus.open and found.opened_at is not None
    assert json.loads(found.weights_json) == {"patient": 2.0, "carer": 1.0, "clinician": 1.0, "commissioner": 1.0}
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "round.opened")).one()
    assert json.loads(event.details)["weights"]["patient"] == 2.0 and "locked" in event.summary
    # Opening again is harmless and records nothing more.
    rounds.open_round(session, facilitator, workshop.id, found.id, acknowledge_small=True)
    assert round_events(session, found.id) == ["round.created", "round.opened"]

    patient = sessions.join_session(session, workshop.id, "patient")
    clinician = sessions.join_session(session, workshop.id, "clinician")
    for person, value in ((patient, "9"), (clinician, "1")):
        ballots.answer_rating(session, found.id, person.id, ids[0], value, key())
    before = queries.round_results(session, workshop.id, found.id).results
    assert before is not None and before.groups["patient"].weight == pytest.approx(2 / 3)

    # The group changes its weights after the round opened: the round keeps the ones it locked.
    population.set_stakeholder_weights(session, facilitator, workshop.population_group_id,
                                       {"patient": "1", "carer": "1", "clinician": "5", "commissioner": "1"})
    session.refresh(found)
    assert json.loads(found.weights_json)["clinician"] == 1.0
    after = queries.round_results(session, workshop.id, found.id).results
    assert after is not None and after.groups["patient"].weight == pytest.approx(2 / 3)
    assert after.outcome(str(ids[0])).score == before.outcome(str(ids[0])).score == pytest.approx(2 / 3)


def test_votes_only_from_groups_weighted_zero_count_for_nothing(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop) -> None:
    population.set_stakeholder_weights(session, facilitator, workshop.population_group_id,
                                       {"patient": "1", "carer": "0", "clinician": "0", "commissioner": "0"})
    ids = accepted_ids(session, workshop, 2)
    found = open_round(session, facilitator, workshop, ids)
    carer = sessions.join_session(session, workshop.id, "carer")
    ballots.answer_rating(session, found.id, carer.id, ids[0], "9", key())
    rounds.close_round(session, facilitator, workshop.id, found.id)
    view = queries.round_results(session, workshop.id, found.id)
    assert view.results is None and view.to_dict()["outcomes"] == []
    patient = sessions.join_session(session, workshop.id, "patient")
    rounds.reset_round(session, facilitator, workshop.id, found.id, "again, with a patient")
    rounds.open_round(session, facilitator, workshop.id, found.id, acknowledge_small=True)
    for person in (carer, patient):
        ballots.answer_rating(session, found.id, person.id, ids[0], "9", key())
    counted = queries.round_results(session, workshop.id, found.id).results
    assert counted is not None and counted.groups["carer"].weight == 0 and counted.groups["patient"].weight == 1


def test_close_then_reveal_and_hide(session: Session, facilitator: User, workshop) -> None:  # type: ignore[no-untyped-def]
    ids = accepted_ids(session, workshop, 2)
    draft = rounds.create_round(session, facilitator, workshop.id, round_form(ids))
    with pytest.raises(Conflict):
        rounds.close_round(session, facilitator, workshop.id, draft.id)
    with pytest.raises(Conflict, match="Close the round"):
        rounds.set_revealed(session, facilitator, workshop.id, draft.id, True)
    rounds.open_round(session, facilitator, workshop.id, draft.id, acknowledge_small=True)
    with pytest.raises(Conflict, match="Close the round"):
        rounds.set_revealed(session, facilitator, workshop.id, draft.id, True)
    person = sessions.join_session(session, workshop.id, "carer")
    ballots.answer_rating(session, draft.id, person.id, ids[0], "7", key())
    closed = rounds.close_round(session, facilitator, workshop.id, draft.id)
    assert closed.status == RoundStatus.closed and closed.closed_at is not None and not closed.revealed
    with pytest.raises(Conflict):
        rounds.close_round(session, facilitator, workshop.id, draft.id)
    with pytest.raises(Conflict, match="has closed"):
        rounds.open_round(session, facilitator, workshop.id, draft.id, acknowledge_small=True)
    assert rounds.set_revealed(session, facilitator, workshop.id, draft.id, True).revealed
    rounds.set_revealed(session, facilitator, workshop.id, draft.id, True)  # again: no change, no event
    assert not rounds.set_revealed(session, facilitator, workshop.id, draft.id, False).revealed
    assert round_events(session, draft.id) == ["round.created", "round.opened", "round.closed", "round.revealed",
                                               "round.hidden"]
    closing = session.exec(select(AuditEvent).where(AuditEvent.action == "round.closed")).one()
    details = json.loads(closing.details)
    assert details["ballots"] == 1 and details["unsent_lists"] == 0
    stored = session.get_one(Round, draft.id)
    assert details["results_sha256"] == stored.results_sha256 and stored.results_json and stored.counted_at


def test_rounds_of_another_session_are_not_found(session: Session, facilitator: User, workshop) -> None:  # type: ignore[no-untyped-def]
    found = rounds.create_round(session, facilitator, workshop.id, round_form(accepted_ids(session, workshop, 2)))
    other = sessions.create_session(session, facilitator, workshop.population_group_id, "Another")
    for action in (rounds.open_round, rounds.close_round):
        with pytest.raises(NotFound):
            action(session, facilitator, other.id, found.id)
    with pytest.raises(NotFound):
        rounds.reset_round(session, facilitator, other.id, found.id, "wrong session")
    with pytest.raises(NotFound):
        rounds.create_round(session, facilitator, 999999, round_form(accepted_ids(session, workshop, 2)))


def test_reset_needs_a_reason_and_keeps_every_ballot_in_the_audit(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 3)
    found = open_round(session, facilitator, workshop, ids)
    amara = sessions.join_session(session, workshop.id, "patient", "Amara")
    gita = sessions.join_session(session, workshop.id, "clinician", "Gita")
    ballots.answer_rating(session, found.id, amara.id, ids[0], "8", "retried-key-0001")
    ballots.answer_rating(session, found.id, amara.id, ids[1], "unable", key())
    ballots.answer_rating(session, found.id, gita.id, ids[0], "3", key())
    rounds.close_round(session, facilitator, workshop.id, found.id)
    rounds.set_revealed(session, facilitator, workshop.id, found.id, True)

    for reason in ("", "   \n "):
        with pytest.raises(ValidationFailed) as caught:
            rounds.reset_round(session, facilitator, workshop.id, found.id, reason)
        assert "reason" in caught.value.errors
    session.refresh(found)
    assert found.status == RoundStatus.closed and len(session.exec(select(Ballot)).all()) == 2

    reset = rounds.reset_round(session, facilitator, workshop.id, found.id, "  The projector showed the wrong list ")
    assert (reset.status, reset.revealed, reset.opened_at, reset.closed_at) == (RoundStatus.draft, False, None, None)
    for table in (Ballot, BallotAnswer, BallotSubmission, PairwiseAnswer):
        assert session.exec(select(table)).all() == []
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "round.reset")).one()
    details = json.loads(event.details)
    assert details["reason"] == "The projector showed the wrong list" and details["previous_status"] == "closed"
    assert "The projector showed the wrong list" in event.summary and "2 ballots" in event.summary
    kept = {b["voter"]: b for b in details["ballots"]}
    assert set(kept) == {f"p:{amara.id}", f"p:{gita.id}"}
    assert sorted((a["outcome_id"], a["value"]) for a in kept[f"p:{amara.id}"]["answers"]) == [
        (ids[0], 8), (ids[1], None)]
    assert kept[f"p:{gita.id}"]["answers"] == [{"outcome_id": ids[0], "value": 3, "reason": ""}]
    assert kept[f"p:{gita.id}"]["group_id"] == gita.stakeholder_group_id and kept[f"p:{gita.id}"]["submitted_at"]

    # It can run again from scratch: the old device keys are gone with the ballots.
    rounds.open_round(session, facilitator, workshop.id, found.id, acknowledge_small=True)
    again = ballots.answer_rating(session, found.id, amara.id, ids[0], "9", "retried-key-0001")
    assert not again.repeated
    assert round_events(session, found.id) == [
        "round.created", "round.opened", "round.closed", "round.revealed", "round.reset", "round.opened"]


def test_reset_of_a_pairwise_round_keeps_the_pairs(session: Session, facilitator: User, workshop) -> None:  # type: ignore[no-untyped-def]
    ids = accepted_ids(session, workshop, 3)
    found = open_round(session, facilitator, workshop, ids, method="pairwise")
    person = sessions.join_session(session, workshop.id, "carer")
    ballots.answer_pair(session, found.id, person.id, ids[0], ids[2], "right", key())
    rounds.reset_round(session, facilitator, workshop.id, found.id, "Started too early")
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "round.reset")).one()
    (kept,) = json.loads(event.details)["ballots"]
    assert kept["pairs"] == [{"left": ids[0], "right": ids[2], "choice": "right"}] and kept["answers"] == []
    assert session.exec(select(PairwiseAnswer)).all() == []


# ---- importing ballots (more cases, through the pages, in tests/http/test_voting.py) ------------


def _statement(session: Session, outcome_id: int) -> str:
    found = session.get(Outcome, outcome_id)
    assert found is not None
    return found.statement


def test_import_replaces_a_voters_answers_and_follows_a_group_change(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 3)
    found = open_round(session, facilitator, workshop, ids)
    first = (f"participant,group,outcome,value\nR-1,patient,{ids[0]},9\nR-1,patient,{_statement(session, ids[1])},U\n"
             f"R-2,Carers,{ids[0]},4\n")
    assert round_import.import_ballots(session, facilitator, workshop.id, found.id, first, "survey.csv").voters == 2
    second = f"participant,group,outcome,value\nR-1,clinician,{ids[2]},2\n"
    assert round_import.import_ballots(session, facilitator, workshop.id, found.id, second, "late.csv").voters == 1
    imported = {p.external_ref: p for p in session.exec(select(Participant).where(
        col(Participant.external_ref).is_not(None)))}
    assert set(imported) == {"R-1", "R-2"}
    r1 = imported["R-1"]
    clinician = session.exec(select(StakeholderGroup).where(StakeholderGroup.key == "clinician")).one()
    assert r1.stakeholder_group_id == clinician.id
    ballot = session.exec(select(Ballot).where(Ballot.participant_id == r1.id)).one()
    assert ballot.source == "import" and ballot.stakeholder_group_id == clinician.id
    assert [(a.outcome_id, a.value) for a in session.exec(select(BallotAnswer).where(
        BallotAnswer.ballot_id == ballot.id))] == [(ids[2], 2)]
    results = queries.round_results(session, workshop.id, found.id).results
    assert results is not None and set(results.groups) == {"carer", "clinician"}
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "round.imported")).all()
    assert [json.loads(e.details)["source"] for e in events] == ["survey.csv", "late.csv"]


def test_an_import_sends_as_many_statements_for_thirty_voters_as_for_three(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop, engine) -> None:
    # One voter at a time, 5,000 voters x 40 answers took 100 s, holding the database's write lock
    # (every vote in the room waited). Now the writes are batched: the count does not grow.
    ids = accepted_ids(session, workshop, 3)

    def sent(voters: int, again: bool = False) -> int:
        found = open_round(session, facilitator, workshop, ids) if not again else last[0]
        last[:] = [found]
        text = "participant,group,outcome,value\n" + "".join(
            f"V-{n},{'patient' if n % 2 else 'carer'},{o},{(n + j) % 9 + 1}\n" for n in range(voters)
            for j, o in enumerate(ids))
        statements: list[str] = []

        def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", count)
        try:
            assert round_import.import_ballots(session, facilitator, workshop.id, found.id, text, "f.csv").voters == voters
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    last: list[Round] = []
    assert sent(3) == sent(30)  # new voters (the first file's people are found again by the second)
    assert sent(30, again=True) == sent(30, again=True)  # every answer replaced
    stored = session.exec(select(BallotAnswer).join(Ballot, col(Ballot.id) == col(BallotAnswer.ballot_id))
                          .where(Ballot.round_id == last[0].id)).all()
    assert len(stored) == 90 and {a.value for a in stored} <= set(range(1, 10))
    results = queries.round_results(session, workshop.id, last[0].id or 0).results
    assert results is not None and {g: r.n for g, r in results.groups.items()} == {"patient": 15, "carer": 15}


def test_an_unknown_group_is_refused_naming_each_group_once(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 2)
    found = open_round(session, facilitator, workshop, ids)
    text = f"participant,group,outcome,value\nR-1,patient,{ids[0]},9\nR-2,nurses,{ids[0]},4\n"
    with pytest.raises(ValidationFailed) as caught:
        round_import.import_ballots(session, facilitator, workshop.id, found.id, text, "survey.csv")
    message = caught.value.errors["ballots"]
    assert "use one of patient, carer, clinician, commissioner" in message, message
    assert message.count("patient") == 1  # groups are known by key and by name: listed once


def test_import_needs_an_open_or_closed_round_that_is_not_by_table(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 3)
    draft = rounds.create_round(session, facilitator, workshop.id, round_form(ids))
    text = f"participant,group,outcome,value\nR-1,patient,{ids[0]},9\n"
    with pytest.raises(Conflict, match="Open the round"):
        round_import.import_ballots(session, facilitator, workshop.id, draft.id, text, "x.csv")
    tables = open_round(session, facilitator, workshop, ids, method="ranking", table_based="yes")
    with pytest.raises(Conflict, match="tables"):
        round_import.import_ballots(session, facilitator, workshop.id, tables.id,
                                    text.replace(",9", ",1"), "x.csv")
    with pytest.raises(ValidationFailed, match="Choose a CSV"):
        round_import.import_ballots(session, facilitator, workshop.id, found_id(open_round(
            session, facilitator, workshop, ids)), " \n", "x.csv")
    assert session.exec(select(Ballot)).all() == []


def found_id(found: Round) -> int:
    assert found.id is not None
    return found.id


# (method, rows, message): A and B are the first two outcomes by number, A_TEXT and B_TEXT by wording.
IMPOSSIBLE_FILES = [
    # "Rank them all" over 3 outcomes: position 4 does not exist, even though each outcome can be
    # named two ways (number and wording).
    ("ranking", "R-1,patient,A,1\nR-1,patient,B,4\n", "line 3, column 4 (value): position 4 is out of range 1-3"),
    ("rating", "R-1,patient,A,9\nR-2,carer,B,5\nR-1,patient,A_TEXT,3\n",
     "line 4, column 3 (outcome): participant 'R-1' answers the same outcome twice"),
    ("pairwise", "R-1,patient,A,B,left\nR-1,patient,B_TEXT,A,right\n",
     "line 3, column 4 (right): participant 'R-1' answers the same pair twice"),
    ("rating", "R-1,patient,A,9\n" + "R" * 101 + ",carer,B,5\n",
     "line 3, column 1 (participant): a participant's name or number can be at most 100 characters"),
]


def test_import_refuses_what_the_round_cannot_hold(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 3)
    made = {method: open_round(session, facilitator, workshop, ids, method=method, top_k="")
            for method in ("rating", "ranking", "pairwise")}
    for method, rows, expected in IMPOSSIBLE_FILES:
        header = "participant,group,left,right,choice\n" if method == "pairwise" else "participant,group,outcome,value\n"
        text = header + (rows.replace("A_TEXT", _statement(session, ids[0]))
                         .replace("B_TEXT", _statement(session, ids[1]))
                         .replace("A,", f"{ids[0]},").replace("B,", f"{ids[1]},"))
        with pytest.raises(ValidationFailed) as caught:
            round_import.import_ballots(session, facilitator, workshop.id, made[method].id, text, "paper.csv")
        assert f"paper.csv, {expected}" in caught.value.errors["ballots"], caught.value.errors
    assert session.exec(select(Ballot)).all() == [] and session.exec(select(Participant)).all() == []
    for found in made.values():
        assert queries.round_results(session, workshop.id, found.id).results is None


def test_a_file_checked_while_the_round_was_open_is_not_saved_once_it_closed(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop) -> None:
    # The web app checks a file first, with nothing locked, and saves it after: a round closed in
    # between keeps its final results.
    ids = accepted_ids(session, workshop, 2)
    found = open_round(session, facilitator, workshop, ids)
    text = f"participant,group,outcome,value\nL-1,patient,{ids[0]},9\n"
    checked = round_import.check_import(session, workshop.id, found.id, text, "late.csv")
    rounds.close_round(session, facilitator, workshop.id, found.id)
    with pytest.raises(Conflict, match="closed"):
        round_import.save_import(session, facilitator, workshop.id, found.id, checked)
    session.rollback()
    assert session.exec(select(Ballot).where(Ballot.round_id == found.id)).all() == []
    assert session.exec(select(Participant).where(col(Participant.external_ref).is_not(None))).all() == []


def test_imported_answers_are_stored_as_the_app_stores_its_times(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop, engine) -> None:
    # Answers are inserted through the driver, not the ORM: their time must be stored in the same
    # form as the ballot's (SQLite keeps text; a different form sorts and compares wrongly).
    ids = accepted_ids(session, workshop, 2)
    found = open_round(session, facilitator, workshop, ids)
    text = f"participant,group,outcome,value\nT-1,patient,{ids[0]},9\nT-1,patient,{ids[1]},U\n"
    round_import.import_ballots(session, facilitator, workshop.id, found.id, text, "times.csv")
    session.commit()
    with engine.connect() as conn:
        stored = conn.execute(sa_text("SELECT a.updated_at, b.updated_at, a.value, a.reason FROM ballot_answer a "
                                      "JOIN ballot b ON b.id = a.ballot_id")).all()
    assert sorted((row[0] == row[1], row[2] or 0, row[3]) for row in stored) == [(True, 0, ""), (True, 9, "")]
    answers = session.exec(select(BallotAnswer)).all()
    assert all(a.updated_at is not None and a.updated_at.year >= 2026 for a in answers)
