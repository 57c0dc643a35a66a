from __future__ import annotations

import json

import pytest
from sqlmodel import Session, select

from codesign.errors import Conflict, ValidationFailed
from codesign.models import AuditEvent, Outcome, OutcomeRevision, OutcomeSource, OutcomeStatus, User
from codesign.services import proposals, sessions


@pytest.fixture
def people(session: Session, workshop):  # type: ignore[no-untyped-def]
    return {key: sessions.join_session(session, workshop.id, key) for key in ("patient", "carer", "clinician")}


def propose(session: Session, workshop, person, text: str, description: str = "") -> Outcome:  # type: ignore[no-untyped-def]
    return proposals.propose_outcome(session, workshop.id, person.id, text, description)


def test_proposal_is_saved_with_its_source_group(session: Session, workshop, people) -> None:  # type: ignore[no-untyped-def]
    outcome = propose(session, workshop, people["carer"], "  Carers get   a break ", "Respite\r\n\r\n\r\nplease")
    assert outcome.statement == "Carers get a break"
    assert outcome.description == "Respite\n\nplease"
    assert outcome.status == OutcomeStatus.proposed
    source = session.exec(select(OutcomeSource).where(OutcomeSource.outcome_id == outcome.id)).one()
    assert source.stakeholder_group_id == people["carer"].stakeholder_group_id


@pytest.mark.parametrize(("statement", "description", "field"), [
    ("", "", "statement"), ("   \n\t ", "", "statement"), ("x" * 201, "", "statement"),
    ("fine", "y" * 1001, "description"),
])
def test_bad_proposals_refused_and_nothing_saved(  # type: ignore[no-untyped-def]
        session: Session, workshop, people, statement: str, description: str, field: str) -> None:
    before = len(session.exec(select(Outcome)).all())
    with pytest.raises(ValidationFailed) as caught:
        propose(session, workshop, people["patient"], statement, description)
    assert field in caught.value.errors
    assert len(session.exec(select(Outcome)).all()) == before


def test_exactly_200_characters_is_allowed(session: Session, workshop, people) -> None:  # type: ignore[no-untyped-def]
    assert len(propose(session, workshop, people["patient"], "a" * 200).statement) == 200


def test_proposals_refused_when_closed(  # type: ignore[no-untyped-def]
        session: Session, workshop, people, facilitator: User) -> None:
    sessions.set_proposals_open(session, facilitator, workshop.id, False)
    with pytest.raises(Conflict):
        propose(session, workshop, people["patient"], "Anything")


def test_reword_needs_a_reason_and_keeps_history(session: Session, workshop, people, facilitator: User) -> None:  # type: ignore[no-untyped-def]
    outcome = propose(session, workshop, people["patient"], "help with mood")
    with pytest.raises(ValidationFailed) as caught:
        proposals.reword_outcome(session, facilitator, workshop.id, outcome.id, "Help with low mood", "  ")
    assert "reason" in caught.value.errors
    session.refresh(outcome)
    assert outcome.statement == "help with mood"
    proposals.reword_outcome(session, facilitator, workshop.id, outcome.id, "Help with low mood", "Clearer")
    revision = session.exec(select(OutcomeRevision).where(OutcomeRevision.action == "reworded")).one()
    assert (revision.old_statement, revision.new_statement, revision.reason, revision.actor_id) == (
        "help with mood", "Help with low mood", "Clearer", facilitator.id)
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "outcome.reworded")).one()
    assert json.loads(event.details)["reason"] == "Clearer" and event.actor_id == facilitator.id


def test_merge_keeps_every_source_and_group(session: Session, workshop, people, facilitator: User) -> None:  # type: ignore[no-untyped-def]
    a = propose(session, workshop, people["patient"], "Same nurse each time")
    b = propose(session, workshop, people["carer"], "Seeing the same nurse")
    c = propose(session, workshop, people["clinician"], "Continuity of care")
    proposals.merge_outcomes(session, facilitator, workshop.id, b.id, [c.id], "")
    proposals.merge_outcomes(session, facilitator, workshop.id, a.id, [b.id], "duplicates")
    rows = session.exec(select(OutcomeSource).where(OutcomeSource.outcome_id == a.id))
    groups = {s.stakeholder_group_id for s in rows}
    assert groups == {p.stakeholder_group_id for p in people.values()}
    session.refresh(b)
    session.refresh(c)
    assert (b.status, b.merged_into_id, c.status, c.merged_into_id) == ("merged", a.id, "merged", b.id)
    with pytest.raises(Conflict):
        proposals.merge_outcomes(session, facilitator, workshop.id, a.id, [b.id])


def test_merge_needs_another_outcome(session: Session, workshop, people, facilitator: User) -> None:  # type: ignore[no-untyped-def]
    a = propose(session, workshop, people["patient"], "One")
    with pytest.raises(ValidationFailed, match="at least one"):
        proposals.merge_outcomes(session, facilitator, workshop.id, a.id, [a.id])


def test_withdraw_needs_reason_and_can_be_restored(session: Session, workshop, people, facilitator: User) -> None:  # type: ignore[no-untyped-def]
    outcome = propose(session, workshop, people["patient"], "Free parking")
    with pytest.raises(ValidationFailed):
        proposals.withdraw_outcome(session, facilitator, workshop.id, outcome.id, "")
    proposals.withdraw_outcome(session, facilitator, workshop.id, outcome.id, "Not an outcome of care")
    assert session.get(Outcome, outcome.id).status == "withdrawn"  # type: ignore[union-attr]
    proposals.restore_outcome(session, facilitator, workshop.id, outcome.id, "Withdrawn by mistake")
    assert session.get(Outcome, outcome.id).status == "proposed"  # type: ignore[union-attr]
    actions = [e.action for e in session.exec(select(AuditEvent).order_by(AuditEvent.id))]  # type: ignore[arg-type]
    assert actions[-2:] == ["outcome.withdrawn", "outcome.restored"]


def test_cannot_moderate_another_population_groups_outcome(  # type: ignore[no-untyped-def]
        session: Session, workshop, people, facilitator: User) -> None:
    from codesign.errors import NotFound
    from codesign.services import population

    other_group = population.create_population_group(session, facilitator, "Other")
    other = sessions.create_session(session, facilitator, other_group.id, "Elsewhere")
    outcome = propose(session, workshop, people["patient"], "Mine")
    with pytest.raises(NotFound):
        proposals.accept_outcome(session, facilitator, other.id, outcome.id)
