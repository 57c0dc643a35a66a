"""Panels: one population group's study across workshops and online Delphi rounds (issue 14).

A panel holds its people (panellists: in the room and online) across sessions. Its sessions
(`WorkshopSession.panel_id`) run rounds; the same round run in several sessions at once is one
`PanelRound`, whose results pool every session's ballots. A panellist who takes part in several
sessions is one person: each of their participants names them (`Participant.panellist_id`).

Personal data (name, email, organisation) lives only in `panellist` and, while a message waits or
until erasure, in `outbox_message.to_address`. Erasing a panellist blanks both and keeps their
pseudonymous ballots (UK GDPR, Article 17 with 89: the study's research record stays).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from codesign.models.core import utcnow


class SessionMode(StrEnum):
    room = "room"  # a workshop: people join with the code on a tablet
    online = "online"  # an online Delphi: panellists come by their personal links, over days


class MailStatus(StrEnum):
    pending = "pending"  # waiting for the worker (or for its next attempt after a failure)
    sending = "sending"  # claimed by a worker; back to pending if the claim goes stale
    sent = "sent"
    failed = "failed"  # gave up after the last attempt: shown on the panel page
    cancelled = "cancelled"  # not sent: the panellist unsubscribed, finished or was erased first


class Panel(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("population_group_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    population_group_id: int = Field(foreign_key="population_group.id", index=True)
    name: str = Field(max_length=200)
    description: str = Field(default="", max_length=2000)
    # Personal links stop working after this (the study's end); None: until revoked.
    ends_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    created_by_id: int | None = Field(default=None, foreign_key="user.id")


class Panellist(SQLModel, table=True):
    """One person on a panel. `number` names them without personal data ("Panellist 12")."""

    __table_args__ = (
        UniqueConstraint("panel_id", "email"),
        Index("ix_panellist_panel_number", "panel_id", "number", unique=True),
    )
    id: int | None = Field(default=None, primary_key=True)
    panel_id: int = Field(foreign_key="panel.id", index=True)
    number: int
    stakeholder_group_id: int = Field(foreign_key="stakeholder_group.id", index=True)
    # Personal data: None once erased. Seen by facilitators only; never in exports, results or logs.
    name: str | None = Field(default=None, max_length=120)
    email: str | None = Field(default=None, max_length=254)
    organisation: str | None = Field(default=None, max_length=200)
    # The unguessable part of the personal link (/p/<token>). Revoking or erasing ends it.
    link_token: str | None = Field(default=None, max_length=64, unique=True)
    link_revoked_at: datetime | None = None
    # The unguessable part of the unsubscribe link in every message.
    unsubscribe_token: str = Field(max_length=64, unique=True)
    unsubscribed_at: datetime | None = None
    erased_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class PanelRound(SQLModel, table=True):
    """One round run in several sessions at once (same outcomes, method, rule and weights): its
    results pool every member round's ballots (`Round.panel_round_id`), each person once. Counted
    once every member round has closed, and stored like a round's."""

    __tablename__ = "panel_round"
    __table_args__ = (UniqueConstraint("panel_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    panel_id: int = Field(foreign_key="panel.id", index=True)
    number: int
    title: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    results_json: str | None = Field(default=None, sa_type=Text)
    results_sha256: str | None = Field(default=None, max_length=64)
    counted_at: datetime | None = None


class OutboxMessage(SQLModel, table=True):
    """A message waiting to be mailed, or its record once sent. Web requests only add rows; the
    worker (`codesign worker`) sends them, so a request never waits on a mail server and nothing
    is lost while it is down. `dedupe_key` makes enqueuing the same message twice a no-op."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_due", "status", "next_attempt_at"),)
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)  # invitation | reminder | ...
    panellist_id: int | None = Field(default=None, foreign_key="panellist.id", index=True)
    session_id: int | None = Field(default=None, foreign_key="workshop_session.id", index=True)
    round_id: int | None = Field(default=None, foreign_key="voting_round.id")
    dedupe_key: str | None = Field(default=None, max_length=200, unique=True)
    # Personal data: None once sent-and-erased or erased.
    to_address: str | None = Field(default=None, max_length=254)
    subject: str = Field(max_length=300)
    body_text: str = Field(default="", sa_type=Text)
    body_html: str = Field(default="", sa_type=Text)
    status: str = Field(default=MailStatus.pending, max_length=20)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    claimed_at: datetime | None = None
    last_error: str = Field(default="", max_length=1000)
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None


class ReminderSchedule(SQLModel, table=True):
    """A reminder the facilitator scheduled: N days after an online round opens, to those who have
    not finished it (never to those who finished or unsubscribed). `queued_at` once enqueued."""

    __tablename__ = "reminder_schedule"
    __table_args__ = (UniqueConstraint("round_id", "days_after_open"),)
    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="voting_round.id", index=True)
    days_after_open: int
    queued_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
