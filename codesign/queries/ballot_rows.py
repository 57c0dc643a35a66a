"""Every answer in a round, one row each, for the analysts' raw download (export/ballots_csv.py).

The same answers the count used (queries.rounds.ballots_frame): every saved rating and pairwise
choice, and ranking or points lists only once sent. Each row names its voter by the ballot's voter
key ("p:<participant id>" or "t:<table>"), which never leaves the server: the export replaces it with
a pseudonym. Nothing here reads a name, token, email or an imported voter's external reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from codesign.models import Ballot, BallotAnswer, PairwiseAnswer, Round, StakeholderGroup

__all__ = ["BallotRow", "list_ballot_rows"]


@dataclass(frozen=True)
class BallotRow:
    voter_key: str  # internal: pseudonymised before it is written anywhere
    group_key: str  # "" for a table's ballot in a table round
    table_number: int | None
    source: str  # "app" or "import"
    outcome_id: int  # pairwise: the left outcome
    value: int | None  # rating 1-9 (None: "I cannot score this"), rank position or points
    versus_outcome_id: int | None  # pairwise only: the right outcome
    choice: str  # pairwise only: "left", "right" or "none" (could not decide)
    answered_at: datetime
    reason: str


def list_ballot_rows(db: Session, found: Round) -> list[BallotRow]:
    """Every counted answer in `found`, unordered (the export orders by pseudonym)."""
    groups = {g.id: g.key for g in db.exec(select(StakeholderGroup))}
    if found.method == "pairwise":
        pairs = db.execute(
            sa_select(col(Ballot.voter_key), col(Ballot.stakeholder_group_id), col(Ballot.table_number),
                      col(Ballot.source), col(PairwiseAnswer.left_outcome_id), col(PairwiseAnswer.right_outcome_id),
                      col(PairwiseAnswer.choice), col(PairwiseAnswer.updated_at))
            .join(PairwiseAnswer, col(PairwiseAnswer.ballot_id) == col(Ballot.id))
            .where(col(Ballot.round_id) == found.id)
        ).all()
        return [BallotRow(voter, groups.get(group, "") if group else "", table, source, left, None, right, choice,
                          at, "") for voter, group, table, source, left, right, choice, at in pairs]
    stmt = (sa_select(col(Ballot.voter_key), col(Ballot.stakeholder_group_id), col(Ballot.table_number),
                      col(Ballot.source), col(BallotAnswer.outcome_id), col(BallotAnswer.value),
                      col(BallotAnswer.updated_at), col(BallotAnswer.reason))
            .join(BallotAnswer, col(BallotAnswer.ballot_id) == col(Ballot.id)).where(col(Ballot.round_id) == found.id))
    if found.method in ("ranking", "points"):  # a list counts once sent, as in the count
        stmt = stmt.where(col(Ballot.submitted_at).is_not(None))
    answers = db.execute(stmt).all()
    return [BallotRow(voter, groups.get(group, "") if group else "", table, source, outcome, value, None, "", at,
                      reason or "") for voter, group, table, source, outcome, value, at, reason in answers]
