"""Reasons people gave in a feedback round (Delphi round 2) for their answers, beside the answer
they gave in the round before: shown to the facilitator and included in the results downloads.
Names never appear: each reason carries its stakeholder group only."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from codesign.models import Ballot, BallotAnswer, Outcome, Round, StakeholderGroup
from codesign.queries.rounds import round_results

__all__ = ["ChangeReason", "list_change_reasons", "results_document"]


@dataclass(frozen=True)
class ChangeReason:
    outcome_id: int
    outcome: str
    group: str
    before: int | None  # the earlier round's rating (None: "I cannot score this" or no answer)
    answered_before: bool
    after: int | None
    reason: str

    @property
    def changed(self) -> bool:
        return not self.answered_before or self.before != self.after

    def to_dict(self) -> dict[str, object]:
        return {"outcome_id": self.outcome_id, "outcome": self.outcome, "group": self.group,
                "before": self.before if self.answered_before else "no answer", "after": self.after,
                "changed": self.changed, "reason": self.reason}


def _answers(db: Session, round_id: int) -> dict[tuple[str, int], BallotAnswer]:
    rows = db.exec(select(Ballot.voter_key, BallotAnswer)
                   .join(BallotAnswer, col(BallotAnswer.ballot_id) == col(Ballot.id))
                   .where(Ballot.round_id == round_id)).all()
    return {(voter, answer.outcome_id): answer for voter, answer in rows}


def list_change_reasons(db: Session, found: Round) -> list[ChangeReason]:
    """Every non-empty reason given in `found`, in outcome then group order."""
    rows = db.exec(select(Ballot, BallotAnswer).join(BallotAnswer, col(BallotAnswer.ballot_id) == col(Ballot.id))
                   .where(Ballot.round_id == found.id, BallotAnswer.reason != "")).all()
    if not rows:
        return []
    earlier = _answers(db, found.feedback_round_id) if found.feedback_round_id else {}
    groups = {g.id: g for g in db.exec(select(StakeholderGroup))}
    outcomes = {o.id: o for o in db.exec(select(Outcome).where(
        col(Outcome.id).in_({answer.outcome_id for _, answer in rows})))}
    reasons = []
    for ballot, answer in rows:
        before = earlier.get((ballot.voter_key, answer.outcome_id))
        group = groups.get(ballot.stakeholder_group_id)
        reasons.append(ChangeReason(
            outcome_id=answer.outcome_id, outcome=outcomes[answer.outcome_id].statement,
            group=group.name if group else "", before=before.value if before else None,
            answered_before=before is not None, after=answer.value, reason=answer.reason))
    order = {g.id: g.position for g in groups.values()}
    names = {g.name: order.get(g.id, 0) for g in groups.values()}
    return sorted(reasons, key=lambda r: (r.outcome, names.get(r.group, 99), r.reason))


def results_document(db: Session, session_id: int, round_id: int) -> dict[str, object]:
    """The results download (JSON, and `codesign results`): the stored results in the schema of
    `codesign tally`, the round's identity, and the reasons people gave."""
    results = round_results(db, session_id, round_id)
    return {**results.to_dict(), "reasons": [r.to_dict() for r in list_change_reasons(db, results.round)]}
