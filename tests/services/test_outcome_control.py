"""Undoing moderation: un-merge (history kept, own wording back, votes untouched) and an outcome's
domain set or changed from the population group's template."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlmodel import Session, col, select

from codesign import integrity, queries
from codesign.errors import Conflict, ValidationFailed
from codesign.models import AuditEvent, Domain, Outcome, OutcomeRevision, OutcomeSource, Round, User
from codesign.services import ballots, outcome_control, proposals, rounds, sessions
from tests.round_helpers import accepted_ids, open_round


def revisions(session: Session, outcome_id: int) -> list[str]:
    return [r.action for r in session.exec(select(OutcomeRevision).where(OutcomeRevision.outcome_id == outcome_id)
                                           .order_by(col(OutcomeRevision.id)))]


def sources(session: Session, outcome_id: int) -> list[tuple[str, int | None, str]]:
    return sorted((s.kind, s.participant_id, s.statement) for s in session.exec(
        select(OutcomeSource).where(OutcomeSource.outcome_id == outcome_id)))


def audited(session: Session, action: str) -> list[AuditEvent]:
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.seq))))


def test_unmerge_brings_the_outcome_back_and_keeps_both_histories_and_the_votes(  # type: ignore[no-untyped-def]
        session: Session, facilitator: User, workshop) -> None:
    ids = accepted_ids(session, workshop, 2)
    person = sessions.join_session(session, workshop.id, "carer")
    idea = proposals.propose_outcome(session, workshop.id, person.id, "Carers get a break")  # type: ignore[arg-type]
    proposals.accept_outcome(session, facilitator, workshop.id, idea.id)  # type: ignore[arg-type]
    target = session.get_one(Outcome, ids[0])
    target_sources = sources(session, ids[0])
    proposals.merge_outcomes(session, facilitator, workshop.id, ids[0], [idea.id], "Same thing")  # type: ignore[arg-type, list-item]
    assert len(sources(session, ids[0])) == len(target_sources) + 1

    # A round voted on the merged outcome, closed and counted.
    found = open_round(session, facilitator, workshop, ids)
    for value in ("9", "7"):
        voter = sessions.join_session(session, workshop.id, "patient")
        ballots.answer_rating(session, found.id, voter.id, ids[0], value, uuid.uuid4().hex)  # type: ignore[arg-type]
    rounds.close_round(session, facilitator, workshop.id, found.id)  # type: ignore[arg-type]
    stored = session.get_one(Round, found.id).results_json

    outcome_control.unmerge_outcome(session, facilitator, workshop.id, idea.id, "Not the same after all")  # type: ignore[arg-type]
    back = session.get_one(Outcome, idea.id)
    assert (back.status, back.merged_into_id, back.statement) == ("accepted", None, "Carers get a break")
    assert sources(session, ids[0]) == target_sources  # the merge's copies are gone from the target
    assert sources(session, idea.id or 0) == [("participant", person.id, "Carers get a break")]
    assert revisions(session, idea.id or 0) == ["proposed", "accepted", "merged", "unmerged"]
    assert revisions(session, ids[0])[-2:] == ["merged_in", "unmerged_out"]
    assert session.get_one(Outcome, ids[0]).statement == target.statement
    # What was voted on as the merged outcome stays as it was.
    assert session.get_one(Round, found.id).results_json == stored
    results = queries.round_results(session, workshop.id, found.id).results  # type: ignore[arg-type]
    assert results is not None and results.outcome(str(ids[0])).groups["patient"].n == 2
    assert [str(p) for p in integrity.verify(session).problems] == []
    [event] = audited(session, "outcome.unmerged")
    assert json.loads(event.details)["from"] == ids[0] and "Not the same after all" in event.summary
    assert len(audited(session, "outcome.merged")) == 1


def test_unmerge_returns_a_proposal_as_proposed(session: Session, facilitator: User, workshop) -> None:  # type: ignore[no-untyped-def]
    person = sessions.join_session(session, workshop.id, "patient")
    first = proposals.propose_outcome(session, workshop.id, person.id, "Fewer hypos")  # type: ignore[arg-type]
    second = proposals.propose_outcome(session, workshop.id, person.id, "No more hypos")  # type: ignore[arg-type]
    proposals.merge_outcomes(session, facilitator, workshop.id, first.id, [second.id])  # type: ignore[arg-type, list-item]
    outcome_control.unmerge_outcome(session, facilitator, workshop.id, second.id, "Different")  # type: ignore[arg-type]
    assert session.get_one(Outcome, second.id).status == "proposed"


def test_unmerge_refusals_change_nothing(session: Session, facilitator: User, workshop) -> None:  # type: ignore[no-untyped-def]
    a, b, c = accepted_ids(session, workshop, 3)
    with pytest.raises(Conflict, match="not merged"):
        outcome_control.unmerge_outcome(session, facilitator, workshop.id, a, "Oops")
    proposals.merge_outcomes(session, facilitator, workshop.id, b, [a])
    with pytest.raises(ValidationFailed) as refused:
        outcome_control.unmerge_outcome(session, facilitator, workshop.id, a, "  ")
    assert list(refused.value.errors) == ["reason"]
    proposals.merge_outcomes(session, facilitator, workshop.id, c, [b])
    with pytest.raises(Conflict, match="has since been merged into another outcome"):
        outcome_control.unmerge_outcome(session, facilitator, workshop.id, a, "Oops")
    assert session.get_one(Outcome, a).merged_into_id == b and audited(session, "outcome.unmerged") == []
    # Undone in reverse order, both come back.
    outcome_control.unmerge_outcome(session, facilitator, workshop.id, b, "Oops")
    outcome_control.unmerge_outcome(session, facilitator, workshop.id, a, "Oops")
    assert [session.get_one(Outcome, i).status for i in (a, b, c)] == ["accepted"] * 3


def test_set_change_and_clear_an_outcomes_domain(session: Session, facilitator: User, workshop) -> None:  # type: ignore[no-untyped-def]
    domains = list(session.exec(select(Domain).where(Domain.population_group_id == workshop.population_group_id)
                                .order_by(col(Domain.position))))
    assert len(domains) >= 2
    person = sessions.join_session(session, workshop.id, "patient")
    idea = proposals.propose_outcome(session, workshop.id, person.id, "I sleep well")  # type: ignore[arg-type]
    assert idea.domain_key is None
    outcome_control.set_outcome_domain(session, facilitator, workshop.id, idea.id, domains[0].key)  # type: ignore[arg-type]
    outcome_control.set_outcome_domain(session, facilitator, workshop.id, idea.id, domains[1].key)  # type: ignore[arg-type]
    assert session.get_one(Outcome, idea.id).domain_key == domains[1].key
    outcome_control.set_outcome_domain(session, facilitator, workshop.id, idea.id, domains[1].key)  # type: ignore[arg-type]
    outcome_control.set_outcome_domain(session, facilitator, workshop.id, idea.id, "")  # type: ignore[arg-type]
    assert session.get_one(Outcome, idea.id).domain_key is None
    changes = [json.loads(e.details) for e in audited(session, "outcome.domain_changed")]
    assert changes == [{"before": None, "after": domains[0].key}, {"before": domains[0].key, "after": domains[1].key},
                       {"before": domains[1].key, "after": None}]  # setting the same domain again records nothing
    assert revisions(session, idea.id or 0).count("domain_changed") == 3


def test_an_unknown_domain_or_a_merged_outcome_is_refused(session: Session, facilitator: User, workshop) -> None:  # type: ignore[no-untyped-def]
    a, b = accepted_ids(session, workshop, 2)
    before = session.get_one(Outcome, a).domain_key
    with pytest.raises(ValidationFailed) as refused:
        outcome_control.set_outcome_domain(session, facilitator, workshop.id, a, "not-a-domain")
    assert list(refused.value.errors) == ["domain"]
    proposals.merge_outcomes(session, facilitator, workshop.id, b, [a])
    some = session.exec(select(Domain).where(Domain.population_group_id == workshop.population_group_id)).first()
    assert some is not None
    with pytest.raises(Conflict, match="merged"):
        outcome_control.set_outcome_domain(session, facilitator, workshop.id, a, some.key)
    assert session.get_one(Outcome, a).domain_key == before and audited(session, "outcome.domain_changed") == []
