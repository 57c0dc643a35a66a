"""Core tables: accounts, population groups, sessions, participants, outcomes, audit.

Times are timezone-aware UTC (`utcnow()`); SQLModel stores them as UTC on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum

from sqlalchemy import Connection, Index, Text, UniqueConstraint, event, func, select, text
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class Role(StrEnum):
    admin = "admin"
    facilitator = "facilitator"
    commissioner = "commissioner"
    observer = "observer"


class OutcomeStatus(StrEnum):
    proposed = "proposed"
    accepted = "accepted"
    merged = "merged"
    withdrawn = "withdrawn"


class OutcomeSourceKind(StrEnum):
    participant = "participant"
    library = "library"
    facilitator = "facilitator"


class SessionStatus(StrEnum):
    open = "open"
    closed = "closed"


class LiveView(StrEnum):
    """What the room is doing: every device and the presenter screen show this."""

    lobby = "lobby"  # people are joining
    proposals = "proposals"  # ideas are being taken
    voting = "voting"  # live_round_id is open
    closed = "closed"  # live_round_id has closed; results not shown yet
    results = "results"  # live_round_id's results are revealed
    pause = "pause"  # the facilitator has paused the room
    ended = "ended"  # the session has closed


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    name: str = Field(default="", max_length=120)
    role: str = Field(max_length=20)
    password_hash: str = Field(max_length=255)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class PopulationGroup(SQLModel, table=True):
    __tablename__ = "population_group"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    description: str = Field(default="", max_length=2000)
    template_slug: str | None = Field(default=None, max_length=100)
    attribution: str = Field(default="", max_length=2000)
    created_at: datetime = Field(default_factory=utcnow)
    created_by_id: int | None = Field(default=None, foreign_key="user.id")


class StakeholderGroup(SQLModel, table=True):
    __tablename__ = "stakeholder_group"
    __table_args__ = (UniqueConstraint("population_group_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    population_group_id: int = Field(foreign_key="population_group.id", index=True)
    key: str = Field(max_length=40)
    name: str = Field(max_length=80)
    weight: float = 1.0
    position: int = 0


class Domain(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("population_group_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    population_group_id: int = Field(foreign_key="population_group.id", index=True)
    key: str = Field(max_length=60)
    name: str = Field(max_length=200)
    nhs_domain: int | None = None
    position: int = 0


class WorkshopSession(SQLModel, table=True):
    """A workshop on a date, or an online round open for days. People call it a session."""

    __tablename__ = "workshop_session"
    id: int | None = Field(default=None, primary_key=True)
    population_group_id: int = Field(foreign_key="population_group.id", index=True)
    title: str = Field(max_length=200)
    held_on: date | None = None
    join_code: str = Field(max_length=16, unique=True, index=True)
    status: str = Field(default=SessionStatus.open, max_length=20)
    proposals_open: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    # What the room is doing now (services/room.py moves it): every participant's device and the
    # presenter screen follow it. live_seq goes up by one at every move, so "has anything changed
    # since N?" is one indexed read of one integer.
    live_seq: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    live_view: str = Field(default="lobby", max_length=20, sa_column_kwargs={"server_default": "lobby"})
    live_round_id: int | None = None
    # Panels (models/panels.py): the study this session belongs to, and whether it is a room or an
    # online Delphi that panellists reach by their personal links. (No foreign key in the database:
    # migration 0014 adds the columns without batch mode.)
    panel_id: int | None = Field(default=None, index=True)
    mode: str = Field(default="room", max_length=20, sa_column_kwargs={"server_default": "room"})


class Participant(SQLModel, table=True):
    __table_args__ = (Index("ix_participant_session_number", "session_id", "number", unique=True),)
    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="workshop_session.id", index=True)
    stakeholder_group_id: int = Field(foreign_key="stakeholder_group.id", index=True)
    first_name: str = Field(default="", max_length=60)
    table_number: int | None = None
    # Kept in the participant's signed cookie and checked on every request.
    token: str = Field(max_length=64, unique=True)
    joined_at: datetime = Field(default_factory=utcnow)
    # In joining order within the session: "Participant 12" names someone who gave no first name.
    number: int | None = None
    # Ballots imported from a CSV (paper, another survey tool) name their voter with this.
    external_ref: str | None = Field(default=None, max_length=100)
    # Set by the facilitator (services.people): a removed or merged participant is kept, but is no
    # longer in the room: their device stops working and progress does not count them.
    removed_at: datetime | None = None
    removed_reason: str = Field(default="", max_length=1000)
    # The same person joined twice (a handed-round tablet): this one's answers moved to that one.
    # (No foreign key in the database: migration 0010 adds the column without batch mode.)
    merged_into_id: int | None = None
    # The panellist this participant is (models/panels.py): the same person across a panel's
    # sessions, counted once in pooled results. Set by their personal link or a facilitator's match.
    panellist_id: int | None = Field(default=None, index=True)

    @property
    def in_room(self) -> bool:
        """Neither removed nor merged into someone else."""
        return self.removed_at is None and self.merged_into_id is None


# A transaction-scoped PostgreSQL advisory lock per session (released at commit): two people
# joining the same session at once take their numbers one after the other.
_NUMBER_LOCK = text("SELECT pg_advisory_xact_lock(1617, :session_id)")


def lock_people(connection: Connection, session_id: int) -> None:
    """Take the session's people lock (PostgreSQL, until the transaction ends; SQLite's writers
    queue anyway): joins number themselves under it, and a ballot import reads who is already in
    the session under it, so two imports at once do not both add (or move) the same voter."""
    if connection.dialect.name == "postgresql":
        connection.execute(_NUMBER_LOCK, {"session_id": session_id})


def first_free_number(connection: Connection, session_id: int) -> int:
    """The next participant number of a session, for a bulk insert that numbers its own rows (the
    listener below numbers one ORM insert at a time); on PostgreSQL under the same lock as joins."""
    lock_people(connection, session_id)
    table = Participant.__table__  # type: ignore[attr-defined]
    found = connection.execute(select(func.coalesce(func.max(table.c.number), 0))
                               .where(table.c.session_id == session_id)).scalar_one()
    return int(found) + 1


@event.listens_for(Participant, "before_insert")
def _number_participant(_mapper: object, connection: Connection, target: Participant) -> None:
    """Number a new participant in joining order within its session, in the INSERT itself."""
    if target.number is None:
        if connection.dialect.name == "postgresql":
            connection.execute(_NUMBER_LOCK, {"session_id": target.session_id})
        table = Participant.__table__  # type: ignore[attr-defined]
        target.number = (select(func.coalesce(func.max(table.c.number), 0) + 1)  # type: ignore[assignment]
                         .where(table.c.session_id == target.session_id).scalar_subquery())


class Outcome(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    population_group_id: int = Field(foreign_key="population_group.id", index=True)
    session_id: int | None = Field(default=None, foreign_key="workshop_session.id", index=True)
    statement: str = Field(max_length=200)
    description: str = Field(default="", max_length=1000)
    domain_key: str | None = Field(default=None, max_length=60)
    status: str = Field(default=OutcomeStatus.proposed, max_length=20, index=True)
    source: str = Field(default=OutcomeSourceKind.participant, max_length=20)
    library_key: str | None = Field(default=None, max_length=100)
    merged_into_id: int | None = Field(default=None, foreign_key="outcome.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class OutcomeSource(SQLModel, table=True):
    """Where an outcome came from. A merge copies the merged outcome's sources here (via_outcome_id)."""

    __tablename__ = "outcome_source"
    id: int | None = Field(default=None, primary_key=True)
    outcome_id: int = Field(foreign_key="outcome.id", index=True)
    kind: str = Field(max_length=20)
    participant_id: int | None = Field(default=None, foreign_key="participant.id")
    stakeholder_group_id: int | None = Field(default=None, foreign_key="stakeholder_group.id")
    session_id: int | None = Field(default=None, foreign_key="workshop_session.id")
    statement: str = Field(max_length=200)
    note: str = Field(default="", max_length=500)
    via_outcome_id: int | None = Field(default=None, foreign_key="outcome.id")
    created_at: datetime = Field(default_factory=utcnow)


class OutcomeRevision(SQLModel, table=True):
    """Every change to an outcome: who, when, why, and the wording before and after."""

    __tablename__ = "outcome_revision"
    id: int | None = Field(default=None, primary_key=True)
    outcome_id: int = Field(foreign_key="outcome.id", index=True)
    action: str = Field(max_length=20)
    old_statement: str = Field(default="", max_length=200)
    new_statement: str = Field(default="", max_length=200)
    reason: str = Field(default="", max_length=1000)
    related_outcome_id: int | None = Field(default=None, foreign_key="outcome.id")
    actor_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)


class AuditEvent(SQLModel, table=True):
    """Append-only: database triggers refuse UPDATE, DELETE, REPLACE and TRUNCATE (migrations 0001
    and 0007). Events form a hash chain: `hash` is the SHA-256 of the event's fields and
    `prev_hash`, the hash of event `seq - 1` (codesign/audit_chain.py), so an edited, deleted or
    reordered event shows when the chain is checked (`codesign verify`)."""

    __tablename__ = "audit_event"
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    actor_id: int | None = Field(default=None, foreign_key="user.id")
    actor_label: str = Field(default="", max_length=254)
    action: str = Field(max_length=60, index=True)
    object_type: str = Field(default="", max_length=40)
    object_id: int | None = None
    population_group_id: int | None = Field(default=None, index=True)
    session_id: int | None = Field(default=None, index=True)
    summary: str = Field(default="", max_length=1000)
    details: str = Field(default="{}", sa_type=Text)
    # Set when the event is committed (services/audit.py); 1, 2, 3... in commit order.
    seq: int | None = Field(default=None, unique=True, index=True)
    prev_hash: str | None = Field(default=None, max_length=64)
    hash: str | None = Field(default=None, max_length=64)


class AuditChainHead(SQLModel, table=True):
    """One row (id 1): the newest event's sequence number and hash. Appending an event locks and
    advances it in the same transaction, so concurrent writers never fork the chain; and deleting
    the newest events shows, because the head still names them."""

    __tablename__ = "audit_chain_head"
    id: int | None = Field(default=None, primary_key=True)
    seq: int = 0
    hash: str = Field(max_length=64)
    updated_at: datetime = Field(default_factory=utcnow)

