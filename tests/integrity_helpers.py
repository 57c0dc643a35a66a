"""Set-up for integrity tests: a frozen, approved version with a stored export and a draft after
it; and an owner's way round the triggers (drop or disable them, as a database owner could)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, text
from sqlmodel import Session

from codesign.models import FrameworkApproval, FrameworkExport, FrameworkVersion, Role, User
from codesign.services import framework_versions
from codesign.services.exports import store_export
from tests.conftest import make_user
from tests.framework_helpers import ready_draft


@dataclass(frozen=True)
class Frozen:
    version: FrameworkVersion
    approval: FrameworkApproval
    export: FrameworkExport
    draft: FrameworkVersion
    approver: User


def frozen_version(db: Session, actor: User, workshop: Any, export: tuple[str, bytes] = ("csv", b"rank\n1\n")) -> Frozen:
    """Version 1 frozen by `actor`, approved by a colleague, one export stored; version 2 a draft."""
    version, _ = ready_draft(db, actor, workshop)
    frozen = framework_versions.freeze(db, actor, version.id)
    approver = make_user(db, Role.commissioner)
    approval = framework_versions.approve(db, approver, version.id, "Checked")
    stored = store_export(db, version.id, export[0], export[1])
    draft = framework_versions.new_draft_from(db, actor, version.id)
    return Frozen(frozen, approval, stored, draft, approver)


def as_owner(engine: Engine, *statements: str, tables: tuple[str, ...] = (), params: dict[str, Any] | None = None) -> None:
    """Run `statements` with the append-only triggers of `tables` out of the way, as someone with
    full access to the database could: dropped on SQLite, disabled on PostgreSQL (then enabled)."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            names = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN "
                                      f"({', '.join(repr(t) for t in tables)})")).scalars().all()
            for name in names:
                conn.execute(text(f'DROP TRIGGER "{name}"'))
        else:
            for table in tables:
                conn.execute(text(f'ALTER TABLE "{table}" DISABLE TRIGGER USER'))
        for statement in statements:
            conn.execute(text(statement), params or {})
        if engine.dialect.name != "sqlite":
            for table in tables:
                conn.execute(text(f'ALTER TABLE "{table}" ENABLE TRIGGER USER'))
