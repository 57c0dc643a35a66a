"""Outcomes framework versions: the shortlist, measurement definitions, payment terms, and the
frozen snapshot. A frozen version never changes: services refuse it, and so does the database."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from codesign.models.core import utcnow


class VersionStatus(StrEnum):
    draft = "draft"
    frozen = "frozen"


class FrameworkVersion(SQLModel, table=True):
    __tablename__ = "framework_version"
    __table_args__ = (UniqueConstraint("population_group_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    population_group_id: int = Field(foreign_key="population_group.id", index=True)
    number: int
    status: str = Field(default=VersionStatus.draft, max_length=20)
    title: str = Field(max_length=200)
    # The contract this framework is an appendix to (optional: often frozen before the tender).
    commissioner: str = Field(default="", max_length=200)
    provider: str = Field(default="", max_length=200)
    contract_reference: str = Field(default="", max_length=100)
    # Payment terms: pence, basis points (10000 = 100%).
    contract_value_pence: int | None = Field(default=None, sa_type=BigInteger)
    mechanism: str = Field(default="withhold", max_length=20)
    years_json: str = Field(default="[]", sa_type=Text)  # [{"label", "share_bp", "shadow"}]
    # The co-design annex's report fields (contract/report.py): protocol, ethics, funding, conflicts...
    report_json: str = Field(default="{}", sa_type=Text, sa_column_kwargs={"server_default": "{}"})
    created_from_id: int | None = Field(default=None, foreign_key="framework_version.id")
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    frozen_by_id: int | None = Field(default=None, foreign_key="user.id")
    frozen_at: datetime | None = None
    snapshot_json: str | None = Field(default=None, sa_type=Text)
    sha256: str | None = Field(default=None, max_length=64)
    # The unguessable part of the public "you said, we did" link.
    public_token: str | None = Field(default=None, max_length=64, unique=True)


class ShortlistItem(SQLModel, table=True):
    """An outcome considered for the framework: included or (with a reason) left out."""

    __tablename__ = "shortlist_item"
    __table_args__ = (UniqueConstraint("version_id", "outcome_id"),)
    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="framework_version.id", index=True)
    outcome_id: int = Field(foreign_key="outcome.id")
    position: int = 0
    included: bool = True
    source_round_id: int | None = Field(default=None, foreign_key="voting_round.id")
    # Or a pooled round's results (models.PanelRound: one round run in several sessions). (No
    # foreign key in the database: migration 0016 adds the column without batch mode.)
    source_panel_round_id: int | None = None
    computed_rank: int | None = None
    computed_score: float | None = None
    computed_consensus: str | None = Field(default=None, max_length=10)
    # Whether the computed result put it in: consensus IN (rating), or the top of the list otherwise.
    computed_in: bool = False
    # Why the facilitator departed from the computed result (added, or consensus-IN left out).
    reason: str = Field(default="", max_length=1000)
    payment_weight_bp: int = 0
    definition_json: str = Field(default="{}", sa_type=Text)
    updated_at: datetime = Field(default_factory=utcnow)


class FrameworkApproval(SQLModel, table=True):
    """A second person's approval of a frozen version (the freezer cannot approve their own)."""

    __tablename__ = "framework_approval"
    __table_args__ = (UniqueConstraint("version_id", "user_id"),)
    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="framework_version.id", index=True)
    user_id: int = Field(foreign_key="user.id")
    note: str = Field(default="", max_length=1000)
    created_at: datetime = Field(default_factory=utcnow)


class FrameworkExport(SQLModel, table=True):
    """An export of a frozen version, made once and kept: the snapshot never changes, so neither
    does the file (the same bytes every time it is downloaded, and no wait for a long PDF)."""

    __tablename__ = "framework_export"
    __table_args__ = (UniqueConstraint("version_id", "format"),)
    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="framework_version.id")
    format: str = Field(max_length=10)
    content: bytes = Field(sa_type=LargeBinary)
    sha256: str = Field(max_length=64)  # of the file itself
    created_at: datetime = Field(default_factory=utcnow)
