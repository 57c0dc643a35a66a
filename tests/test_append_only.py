"""The database itself refuses every way of changing or removing an audit event, the chain head,
a frozen version or its shortlist, an approval or a stored export: UPDATE, DELETE, an upsert,
SQLite's INSERT OR REPLACE and UPDATE OR REPLACE (which delete the row they collide with without
firing its delete trigger), and PostgreSQL's TRUNCATE (which fires no row trigger).

On SQLite each attack is tried through the app's own connections and through a bare connection
with the sqlite3 shell's defaults (no foreign keys, no recursive triggers), so the triggers are
shown to hold on their own."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from codesign.models import AuditEvent, ShortlistItem
from tests.integrity_helpers import Frozen, frozen_version

# table -> (a column the attacker changes, the keys a replacing insert can collide on)
PROTECTED: dict[str, tuple[str, tuple[tuple[str, ...], ...]]] = {
    "audit_event": ("summary", (("id",), ("seq",))),
    "audit_chain_head": ("hash", (("id",),)),
    "framework_approval": ("note", (("id",), ("version_id", "user_id"))),
    "framework_export": ("sha256", (("id",), ("version_id", "format"))),
    "framework_version": ("title", (("id",), ("population_group_id", "number"), ("public_token",))),
    "shortlist_item": ("reason", (("id",), ("version_id", "outcome_id"))),
}
REFUSED = "append-only|frozen framework version cannot change|only moves forward"
NEW_ID = 900_000_000


@pytest.fixture
def frozen(session: Session, facilitator, workshop) -> Frozen:  # type: ignore[no-untyped-def]
    return frozen_version(session, facilitator, workshop)


def _target(session: Session, frozen: Frozen, table: str) -> int:
    version_id = frozen.version.id
    if table == "audit_event":
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "framework.frozen",
                                                      AuditEvent.object_id == version_id)).one()
        return int(event.id or 0)
    if table == "shortlist_item":
        item = session.exec(select(ShortlistItem).where(ShortlistItem.version_id == version_id)
                            .order_by(col(ShortlistItem.id))).first()
        assert item is not None
        return int(item.id or 0)
    return int({"audit_chain_head": 1, "framework_approval": frozen.approval.id, "framework_export": frozen.export.id,
                "framework_version": version_id}[table] or 0)


def _state(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return {t: [tuple(r) for r in conn.execute(text(f'SELECT * FROM "{t}" ORDER BY id'))] for t in PROTECTED}


def _row(engine: Engine, table: str, row_id: int) -> dict[str, Any]:
    with engine.connect() as conn:
        return dict(conn.execute(text(f'SELECT * FROM "{table}" WHERE id = :id'), {"id": row_id}).mappings().one())


def _facts(session: Session, frozen: Frozen) -> dict[str, int]:
    draft_item = session.exec(select(ShortlistItem).where(ShortlistItem.version_id == frozen.draft.id)).first()
    assert draft_item is not None
    return {"number": frozen.version.number, "version": int(frozen.version.id or 0),
            "draft": int(frozen.draft.id or 0), "draft_item": int(draft_item.id or 0)}


def _attacks(dialect: str, table: str, row: dict[str, Any], facts: dict[str, int]) -> Iterator[tuple[str, dict[str, Any]]]:
    column, keys = PROTECTED[table]
    yield f'UPDATE "{table}" SET "{column}" = :v WHERE id = :id', {"v": "tampered", "id": row["id"]}
    yield f'DELETE FROM "{table}" WHERE id = :id', {"id": row["id"]}
    for key in keys:
        values = {**row, column: "tampered"} | ({} if key == ("id",) else {"id": NEW_ID})
        names = ", ".join(f'"{c}"' for c in values)
        binds = ", ".join(f":{c}" for c in values)
        insert = f'INSERT INTO "{table}" ({names}) VALUES ({binds})'
        conflict = ", ".join(f'"{k}"' for k in key)
        yield f'{insert} ON CONFLICT ({conflict}) DO UPDATE SET "{column}" = excluded."{column}"', values
        if dialect == "sqlite":
            yield insert.replace("INSERT INTO", "INSERT OR REPLACE INTO", 1), values
    if dialect == "sqlite" and table == "framework_version":  # a draft renumbered onto the frozen version
        yield ('UPDATE OR REPLACE framework_version SET number = :number WHERE id = :draft', facts)
    if table == "shortlist_item":
        if dialect == "sqlite":  # a draft's item renumbered onto a frozen one
            yield 'UPDATE OR REPLACE shortlist_item SET id = :id WHERE id = :draft_item', {**facts, "id": row["id"]}
        # A draft's item moved into the frozen version.
        yield 'UPDATE shortlist_item SET version_id = :version WHERE id = :draft_item', facts
    if dialect == "postgresql":
        if table != "framework_version":  # which others reference: plain TRUNCATE fails on that alone
            yield f'TRUNCATE "{table}"', {}
        yield f'TRUNCATE "{table}" CASCADE', {}


def _attempt(engine: Engine, via: str, statement: str, params: dict[str, Any]) -> None:
    if via == "shell":
        conn = sqlite3.connect(engine.url.database or "", isolation_level=None)
        try:
            assert conn.execute("PRAGMA foreign_keys").fetchone() == (0,)
            assert conn.execute("PRAGMA recursive_triggers").fetchone() == (0,)
            with pytest.raises(sqlite3.DatabaseError, match=REFUSED):
                conn.execute(statement, params)
        finally:
            conn.close()
        return
    with engine.connect() as conn, pytest.raises(DBAPIError, match=REFUSED):
        conn.execute(text(statement), params)
        conn.commit()


@pytest.mark.parametrize("via", ["app", "shell"])
@pytest.mark.parametrize("table", list(PROTECTED))
def test_every_attack_on_a_protected_row_is_refused_and_changes_nothing(  # type: ignore[no-untyped-def]
        engine: Engine, session: Session, frozen: Frozen, table: str, via: str) -> None:
    if via == "shell" and engine.dialect.name != "sqlite":
        pytest.skip("the sqlite3 shell's defaults are a SQLite matter")
    row = _row(engine, table, _target(session, frozen, table))
    facts = _facts(session, frozen)
    session.close()  # no transaction left open (PostgreSQL's TRUNCATE would wait for it)
    before = _state(engine)
    tried = 0
    for statement, params in _attacks(engine.dialect.name, table, row, facts):
        _attempt(engine, via, statement, params)
        assert _state(engine) == before, statement
        tried += 1
    assert tried >= 4


def test_drafts_stay_editable_and_the_chain_head_moves_forward(engine: Engine, session: Session,  # type: ignore[no-untyped-def]
                                                               frozen: Frozen) -> None:
    """The triggers refuse only what they should: a draft and its items still change and go."""
    with engine.begin() as conn:
        conn.execute(text("UPDATE framework_version SET title = 'Renamed' WHERE id = :id"), {"id": frozen.draft.id})
        conn.execute(text("UPDATE shortlist_item SET reason = 'Why' WHERE version_id = :id"), {"id": frozen.draft.id})
        conn.execute(text("DELETE FROM shortlist_item WHERE version_id = :id"), {"id": frozen.draft.id})
        conn.execute(text("DELETE FROM framework_version WHERE id = :id"), {"id": frozen.draft.id})
        head = conn.execute(text("SELECT seq FROM audit_chain_head")).scalar_one()
        conn.execute(text("UPDATE audit_chain_head SET seq = :s WHERE id = 1"), {"s": head + 1})


def test_sqlite_connections_fire_triggers_for_rows_a_replace_deletes(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA recursive_triggers").scalar_one() == 1
