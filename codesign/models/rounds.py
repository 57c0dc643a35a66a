"""Voting rounds and ballots."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from codesign.models.core import utcnow


class RoundStatus(StrEnum):
    draft = "draft"
    open = "open"
    closed = "closed"


class Round(SQLModel, table=True):
    """One voting exercise over a fixed list of outcomes. Method, options and rule lock on opening."""

    __tablename__ = "voting_round"
    __table_args__ = (UniqueConstraint("session_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="workshop_session.id", index=True)
    number: int
    title: str = Field(max_length=200)
    method: str = Field(max_length=20)
    options_json: str = Field(default="{}", sa_type=Text)
    rule_json: str = Field(default="{}", sa_type=Text)
    combine: str = Field(default="weighted", max_length=20)
    # Stakeholder weights copied from the population group when the round opens (recorded, not live).
    weights_json: str = Field(default="{}", sa_type=Text)
    status: str = Field(default=RoundStatus.draft, max_length=20, index=True)
    table_based: bool = False
    # Delphi: a round 2 shows each participant their answer and the distributions from this round.
    feedback_round_id: int | None = Field(default=None, foreign_key="voting_round.id")
    revealed: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    # Counted once, at close, and kept: every reader uses these (reset discards them).
    results_json: str | None = Field(default=None, sa_type=Text)
    results_sha256: str | None = Field(default=None, max_length=64)
    counted_at: datetime | None = None
    # An optional countdown the facilitator starts while the round is open (a guide: it closes nothing).
    countdown_ends_at: datetime | None = None
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    # Panels (models/panels.py): the pooled round this one is part of (the same round run in
    # several sessions), and an online round's scheduled window (ballots only between them).
    panel_round_id: int | None = Field(default=None, index=True)
    opens_at: datetime | None = None
    closes_at: datetime | None = None


class RoundOutcome(SQLModel, table=True):
    __tablename__ = "round_outcome"
    __table_args__ = (UniqueConstraint("round_id", "outcome_id"),)
    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="voting_round.id", index=True)
    outcome_id: int = Field(foreign_key="outcome.id")
    position: int


class Ballot(SQLModel, table=True):
    """One voter's answers in one round: a participant, or a table in a table-based round."""

    __table_args__ = (UniqueConstraint("round_id", "voter_key"),)
    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="voting_round.id", index=True)
    # "p:<participant id>" or "t:<table number>": one ballot per voter per round.
    voter_key: str = Field(max_length=40)
    participant_id: int | None = Field(default=None, foreign_key="participant.id", index=True)
    stakeholder_group_id: int | None = Field(default=None, foreign_key="stakeholder_group.id")
    table_number: int | None = None
    # Ranking and points are edited as a draft (taps) and counted once submitted.
    draft_json: str = Field(default="", sa_type=Text)
    submitted_at: datetime | None = None
    # Finished: every question answered (rating), the list sent (ranking, points) or "I have
    # finished" pressed (pairwise). The console counts these as done, the rest as started.
    finished_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow, index=True)
    source: str = Field(default="app", max_length=20)  # app | import


class BallotAnswer(SQLModel, table=True):
    """A submitted answer: a rating (value None = unable to score), a rank position or points."""

    __tablename__ = "ballot_answer"
    # The index holds every column a count reads, so counting a round reads the index alone: for
    # 1.6 million answers on SQLite, a scan of 0.16 s instead of 0.35-0.45 s (migration 0017).
    __table_args__ = (UniqueConstraint("ballot_id", "outcome_id"),
                      Index("ix_ballot_answer_counted", "ballot_id", "outcome_id", "value"))
    id: int | None = Field(default=None, primary_key=True)
    ballot_id: int = Field(foreign_key="ballot.id")
    outcome_id: int = Field(foreign_key="outcome.id")
    value: int | None = None
    reason: str = Field(default="", max_length=1000)
    updated_at: datetime = Field(default_factory=utcnow)


class PairwiseAnswer(SQLModel, table=True):
    __tablename__ = "pairwise_answer"
    __table_args__ = (UniqueConstraint("ballot_id", "left_outcome_id", "right_outcome_id"),)
    id: int | None = Field(default=None, primary_key=True)
    ballot_id: int = Field(foreign_key="ballot.id", index=True)
    left_outcome_id: int = Field(foreign_key="outcome.id")
    right_outcome_id: int = Field(foreign_key="outcome.id")
    choice: str = Field(max_length=10)  # left | right | none
    updated_at: datetime = Field(default_factory=utcnow)


class BallotSubmission(SQLModel, table=True):
    """Every accepted submission's device-made key: a retried request with the same key is a no-op."""

    __tablename__ = "ballot_submission"
    __table_args__ = (UniqueConstraint("round_id", "client_key"),)
    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="voting_round.id", index=True)
    ballot_id: int = Field(foreign_key="ballot.id")
    client_key: str = Field(max_length=64)
    # What the key answered: who, and which question ("o:<outcome>", "pair:<a>-<b>", "submit",
    # "finish"). The same key sent for anything else is refused, never answered "saved".
    participant_id: int | None = None
    question: str | None = Field(default=None, max_length=40)
    created_at: datetime = Field(default_factory=utcnow)
