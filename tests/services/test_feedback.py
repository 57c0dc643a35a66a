"""Small groups stay private (voting.disclosure) and feedback never shows unrevealed results."""

from __future__ import annotations

import itertools
import json

import pytest
from sqlmodel import Session, select

from codesign import queries
from codesign.errors import Conflict, ValidationFailed
from codesign.models import AuditEvent, Ballot, Round
from codesign.services import ballots, round_import, rounds, sessions
from codesign.web.results_view import results_context
from tests.round_helpers import accepted_ids, open_round, round_form

keys = itertools.count()


def rate(session: Session, round_id: int, people, values: dict[int, str]) -> None:  # type: ignore[no-untyped-def]
    for person in people:
        for outcome, value in values.items():
            ballots.answer_rating(session, round_id, person.id, outcome, value, f"fb-key-{next(keys):06d}")


def test_feedback_shows_groups_only_once_revealed_and_never_small_ones(  # type: ignore[no-untyped-def]
        session: Session, facilitator, workshop) -> None:
    ids = accepted_ids(session, workshop, 2)
    first = open_round(session, facilitator, workshop, ids)  # minimum group size 5
    people = [sessions.join_session(session, workshop.id, "patient") for _ in range(5)]
    people += [sessions.join_session(session, workshop.id, "carer") for _ in range(2)]
    rate(session, first.id, people, {ids[0]: "8", ids[1]: "8"})
    rounds.close_round(session, facilitator, workshop.id, first.id)
    second = rounds.create_round(session, facilitator, workshop.id,
                                 round_form(ids, feedback_round_id=str(first.id), title="Round 2"))
    rounds.open_round(session, facilitator, workshop.id, second.id, acknowledge_small=True)
    found = queries.get_round(session, workshop.id, second.id)

    hidden = queries.get_participant_round(session, found, people[0])
    assert not hidden.feedback_revealed
    assert hidden.feedback[ids[0]].mine == 8 and hidden.feedback[ids[0]].groups == {}  # round 1 not revealed

    rounds.set_revealed(session, facilitator, workshop.id, first.id, True)
    feedback = queries.get_participant_round(session, found, people[0]).feedback[ids[0]]
    assert feedback.mine == 8 and feedback.answered
    assert list(feedback.groups) == ["Patients"]  # the two carers are not shown
    assert feedback.groups["Patients"][7] == 5  # five patients said 8


def test_an_outcome_too_few_could_score_is_hidden_everywhere_outside_the_console(  # type: ignore[no-untyped-def]
        session: Session, facilitator, workshop) -> None:
    """Six patients (the group is big enough), but three cannot score outcome B: B's patient figures
    rest on three answers, under the minimum of five, so they are hidden, and so is B's combined score."""
    ids = accepted_ids(session, workshop, 2)
    a, b = ids
    found = open_round(session, facilitator, workshop, ids)
    patients = [sessions.join_session(session, workshop.id, "patient") for _ in range(6)]
    clinicians = [sessions.join_session(session, workshop.id, "clinician") for _ in range(5)]
    rate(session, found.id, patients[:3], {a: "9", b: "2"})
    rate(session, found.id, patients[3:], {a: "8", b: "unable"})
    rate(session, found.id, clinicians, {a: "7", b: "8"})
    rounds.close_round(session, facilitator, workshop.id, found.id)
    view = queries.round_results(session, workshop.id, found.id)

    staff = results_context(view)
    public = results_context(view, public=True)
    row = {r.outcome_id: r for r in public["rows"]}
    cells = {c.name: c for c in row[b].cells}
    assert cells["Patients"].hidden and cells["Patients"].score_pct == "–" and not cells["Patients"].bands
    assert not cells["Clinicians"].hidden
    assert row[b].score_hidden and row[b].score_pct == "not shown"  # it could be worked back
    assert row[b].consensus is None  # "in", "out" or "none" would say how those three answered
    assert {r.outcome_id: r for r in staff["rows"]}[b].consensus is not None
    assert not row[a].score_hidden and row[a].score_pct != "not shown"
    staff_b = {c.name: c for c in {r.outcome_id: r for r in staff["rows"]}[b].cells}
    assert not staff_b["Patients"].hidden and staff_b["Patients"].n == 3  # the facilitator sees it, flagged by n


def test_critical_to_never_names_a_small_group(session: Session, facilitator, workshop) -> None:  # type: ignore[no-untyped-def]
    ids = accepted_ids(session, workshop, 2)
    found = open_round(session, facilitator, workshop, ids)
    carers = [sessions.join_session(session, workshop.id, "carer") for _ in range(2)]
    patients = [sessions.join_session(session, workshop.id, "patient") for _ in range(5)]
    rate(session, found.id, carers, {ids[0]: "9", ids[1]: "9"})  # critical to carers only
    rate(session, found.id, patients, {ids[0]: "4", ids[1]: "5"})
    rounds.close_round(session, facilitator, workshop.id, found.id)
    view = queries.round_results(session, workshop.id, found.id)
    assert view.results is not None and "carer" in view.results.outcome(str(ids[0])).important_to
    console = {r.outcome_id: r.important_to for r in results_context(view)["rows"]}
    assert console[ids[0]] == ["Carers"]  # the facilitator's console names them
    assert all(r.important_to == [] for r in results_context(view, public=True)["rows"])
    assert results_context(view, public=True)["suppressed"] == ["Carers"]


def test_opening_with_small_groups_says_what_will_be_hidden_and_records_the_minimum(  # type: ignore[no-untyped-def]
        session: Session, facilitator, workshop) -> None:
    ids = accepted_ids(session, workshop, 2)
    made = rounds.create_round(session, facilitator, workshop.id, round_form(ids))
    for group in ("patient", "patient", "patient", "carer"):
        sessions.join_session(session, workshop.id, group)
    assert queries.get_round_console(session, workshop.id, made.id).small_groups == [("Patients", 3), ("Carers", 1)]
    with pytest.raises(ValidationFailed) as refused:
        rounds.open_round(session, facilitator, workshop.id, made.id)
    assert "acknowledge_small" in refused.value.errors
    assert session.get_one(Round, made.id).status == "draft"
    with pytest.raises(ValidationFailed) as bad:
        rounds.open_round(session, facilitator, workshop.id, made.id, min_group_size="²")
    assert "min_group_size" in bad.value.errors

    # The group agreed to be shown: the facilitator lowers this round's minimum to 3; carers (1) remain.
    rounds.open_round(session, facilitator, workshop.id, made.id, min_group_size="3", acknowledge_small=True)
    opened = session.get_one(Round, made.id)
    assert opened.status == "open" and json.loads(opened.rule_json)["min_group_size"] == 3
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "round.opened")).one()
    details = json.loads(event.details)
    assert details["min_group_size"] == {"before": 5, "after": 3}
    assert details["small_groups_acknowledged"] == [{"group": "Carers", "joined": 1}]
    assert "smallest group shown set to 3 (was 5)" in event.summary


def test_no_import_into_a_closed_round(session: Session, facilitator, workshop) -> None:  # type: ignore[no-untyped-def]
    ids = accepted_ids(session, workshop, 2)
    found = open_round(session, facilitator, workshop, ids)
    rounds.close_round(session, facilitator, workshop.id, found.id)
    csv_text = f"participant,group,outcome,value\nR1,patient,{ids[0]},9\n"
    with pytest.raises(Conflict, match="results are final"):
        round_import.import_ballots(session, facilitator, workshop.id, found.id, csv_text, "late.csv")
    assert session.exec(select(Ballot)).all() == []
