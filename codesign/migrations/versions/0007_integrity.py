"""integrity: the audit hash chain and its head; append-only approvals and exports; no REPLACE or TRUNCATE

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 16:00:00
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Plain ADD COLUMN, CREATE TABLE and CREATE INDEX only: batch mode would copy audit_event on
# SQLite and drop its triggers.

GENESIS = "0" * 64
FIELDS = ("created_at", "actor_id", "actor_label", "action", "object_type", "object_id",
          "population_group_id", "session_id", "summary", "details")
APPEND_ONLY = "is append-only"
FROZEN = "a frozen framework version cannot change"

events = sa.table(
    "audit_event", sa.column("id", sa.Integer), sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("actor_id", sa.Integer), sa.column("actor_label", sa.String), sa.column("action", sa.String),
    sa.column("object_type", sa.String), sa.column("object_id", sa.Integer),
    sa.column("population_group_id", sa.Integer), sa.column("session_id", sa.Integer),
    sa.column("summary", sa.String), sa.column("details", sa.Text), sa.column("seq", sa.Integer),
    sa.column("prev_hash", sa.String), sa.column("hash", sa.String))
head_table = sa.table("audit_chain_head", sa.column("id", sa.Integer), sa.column("seq", sa.Integer),
                      sa.column("hash", sa.String), sa.column("updated_at", sa.DateTime(timezone=True)))


def _event_hash(seq: int, prev_hash: str, row: dict[str, Any]) -> str:
    """A frozen copy of codesign/audit_chain.py's encoding (a migration must not change with the code)."""
    body: dict[str, Any] = {"seq": seq, "prev_hash": prev_hash}
    for name in FIELDS:
        value = row[name]
        if isinstance(value, datetime):
            if value.tzinfo is not None:
                value = value.astimezone(UTC).replace(tzinfo=None)
            value = value.isoformat(sep=" ", timespec="microseconds")
        body[name] = value
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.add_column('audit_event', sa.Column('seq', sa.Integer(), nullable=True))
    op.add_column('audit_event', sa.Column('prev_hash', sa.String(length=64), nullable=True))
    op.add_column('audit_event', sa.Column('hash', sa.String(length=64), nullable=True))
    op.create_index('ix_audit_event_seq', 'audit_event', ['seq'], unique=True)
    op.create_table('audit_chain_head',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('seq', sa.Integer(), nullable=False),
                    sa.Column('hash', sa.String(length=64), nullable=False),
                    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint('id'))
    # The backfill updates events, which the append-only trigger refuses: lift it for this
    # transaction only (the migration runs in one transaction on both databases).
    if dialect == "sqlite":
        op.execute("DROP TRIGGER audit_event_no_update")
    else:
        op.execute("DROP TRIGGER audit_event_no_change ON audit_event")
    seq, prev_hash = _backfill_chain()
    seq, prev_hash = _record_stored_exports(seq, prev_hash)
    op.bulk_insert(head_table, [{"id": 1, "seq": seq, "hash": prev_hash, "updated_at": datetime.now(UTC)}])
    if dialect == "sqlite":
        op.execute("""CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
                      BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END""")
        statements = SQLITE_TRIGGERS
    else:
        op.execute("""CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_event
                      FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()""")
        statements = POSTGRES_TRIGGERS
    for statement in statements:
        op.execute(statement)


def _backfill_chain() -> tuple[int, str]:
    """Chain the events recorded so far, in id order (the order they were written)."""
    bind = op.get_bind()
    rows = bind.execute(sa.select(events).order_by(events.c.id)).mappings().all()
    seq, prev_hash = 0, GENESIS
    updates = []
    for row in rows:
        seq += 1
        digest = _event_hash(seq, prev_hash, dict(row))
        updates.append({"event_id": row["id"], "new_seq": seq, "new_prev_hash": prev_hash, "new_hash": digest})
        prev_hash = digest
    if updates:
        bind.execute(events.update().where(events.c.id == sa.bindparam("event_id"))
                     .values(seq=sa.bindparam("new_seq"), prev_hash=sa.bindparam("new_prev_hash"),
                             hash=sa.bindparam("new_hash")), updates)
    return seq, prev_hash


def _record_stored_exports(seq: int, prev_hash: str) -> tuple[int, str]:
    """Exports stored before this migration had no audit event: record each one's SHA-256 now, so
    serving and `codesign verify` can check every stored export against an audited hash."""
    bind = op.get_bind()
    stored = bind.execute(sa.text(
        "SELECT e.id, e.version_id, e.format, e.sha256, v.number, v.population_group_id "
        "FROM framework_export e JOIN framework_version v ON v.id = e.version_id ORDER BY e.id")).mappings().all()
    now = datetime.now(UTC)
    for row in stored:
        seq += 1
        fields = {
            "created_at": now, "actor_id": None, "actor_label": "system", "action": "framework.export_stored",
            "object_type": "framework_version", "object_id": row["version_id"],
            "population_group_id": row["population_group_id"], "session_id": None,
            "summary": f"{str(row['format']).upper()} export of version {row['number']} (stored before the audit "
                       f"chain was introduced) recorded with SHA-256 {row['sha256']}",
            "details": json.dumps({"export_id": row["id"], "format": row["format"], "sha256": row["sha256"]},
                                  sort_keys=True),
        }
        digest = _event_hash(seq, prev_hash, fields)
        bind.execute(events.insert().values(**fields, seq=seq, prev_hash=prev_hash, hash=digest))
        prev_hash = digest
    return seq, prev_hash


def _sqlite_append_only(table: str) -> list[str]:
    """No UPDATE, no DELETE, and no INSERT that would REPLACE an existing row (same id or key)."""
    keys = {"framework_approval": "(version_id = NEW.version_id AND user_id = NEW.user_id)",
            "framework_export": "(version_id = NEW.version_id AND format = NEW.format)",
            "audit_event": "seq = NEW.seq", "audit_chain_head": "1 = 1"}[table]
    refuse = f"BEGIN SELECT RAISE(ABORT, '{table} {APPEND_ONLY}'); END"
    statements = [
        f"CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table} "
        f"WHEN EXISTS (SELECT 1 FROM {table} WHERE id = NEW.id OR {keys}) {refuse}",
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} {refuse}",
    ]
    if table in ("framework_approval", "framework_export"):
        statements.append(f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} {refuse}")
    return statements


FROZEN_VERSION_KEYS = ("(v.id = NEW.id OR (v.population_group_id = NEW.population_group_id AND v.number = NEW.number) "
                       "OR v.public_token = NEW.public_token)")
FROZEN_ITEM_KEYS = "(s.id = NEW.id OR (s.version_id = NEW.version_id AND s.outcome_id = NEW.outcome_id))"
FROZEN_ITEMS = "shortlist_item s JOIN framework_version v ON v.id = s.version_id WHERE v.status = 'frozen'"
SQLITE_TRIGGERS = [
    # audit_event already refuses UPDATE and DELETE (0001).
    _sqlite_append_only("audit_event")[0],
    *_sqlite_append_only("framework_approval"),
    *_sqlite_append_only("framework_export"),
    *_sqlite_append_only("audit_chain_head"),
    """CREATE TRIGGER audit_chain_head_forward BEFORE UPDATE ON audit_chain_head
       WHEN NEW.id != OLD.id OR NEW.seq <= OLD.seq
       BEGIN SELECT RAISE(ABORT, 'the audit chain head only moves forward'); END""",
    # INSERT OR REPLACE, and UPDATE OR REPLACE of a draft, delete a conflicting row without firing
    # its delete trigger (unless recursive_triggers is on, as codesign/db.py sets it): refuse any
    # insert or update that would replace a frozen version or one of its shortlist items.
    f"""CREATE TRIGGER framework_version_frozen_replace BEFORE INSERT ON framework_version
        WHEN EXISTS (SELECT 1 FROM framework_version v WHERE v.status = 'frozen' AND {FROZEN_VERSION_KEYS})
        BEGIN SELECT RAISE(ABORT, '{FROZEN}'); END""",
    f"""CREATE TRIGGER framework_version_frozen_replace_update BEFORE UPDATE ON framework_version
        WHEN EXISTS (SELECT 1 FROM framework_version v WHERE v.status = 'frozen' AND v.id != OLD.id
                     AND {FROZEN_VERSION_KEYS})
        BEGIN SELECT RAISE(ABORT, '{FROZEN}'); END""",
    f"""CREATE TRIGGER shortlist_item_frozen_replace BEFORE INSERT ON shortlist_item
        WHEN EXISTS (SELECT 1 FROM {FROZEN_ITEMS} AND {FROZEN_ITEM_KEYS})
        BEGIN SELECT RAISE(ABORT, '{FROZEN}'); END""",
    f"""CREATE TRIGGER shortlist_item_frozen_replace_update BEFORE UPDATE ON shortlist_item
        WHEN EXISTS (SELECT 1 FROM {FROZEN_ITEMS} AND s.id != OLD.id AND {FROZEN_ITEM_KEYS})
        BEGIN SELECT RAISE(ABORT, '{FROZEN}'); END""",
    # 0003 checks the version an item leaves, not the one it moves to.
    f"""CREATE TRIGGER shortlist_item_into_frozen BEFORE UPDATE ON shortlist_item
        WHEN (SELECT status FROM framework_version WHERE id = NEW.version_id) = 'frozen'
        BEGIN SELECT RAISE(ABORT, '{FROZEN}'); END""",
]

APPEND_ONLY_TABLES = ("framework_approval", "framework_export")
NO_TRUNCATE_TABLES = ("audit_event", "audit_chain_head", "framework_approval", "framework_export")
POSTGRES_TRIGGERS = [
    f"""CREATE FUNCTION codesign_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '% {APPEND_ONLY}', TG_TABLE_NAME; END $$""",
    *(f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
          FOR EACH ROW EXECUTE FUNCTION codesign_append_only()""" for table in APPEND_ONLY_TABLES),
    # Row triggers never see TRUNCATE: statement-level ones refuse it (CASCADE fires them too).
    *(f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
          FOR EACH STATEMENT EXECUTE FUNCTION codesign_append_only()""" for table in NO_TRUNCATE_TABLES),
    f"""CREATE FUNCTION framework_frozen_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF EXISTS (SELECT 1 FROM framework_version WHERE status = 'frozen') THEN RAISE EXCEPTION '{FROZEN}'; END IF;
          RETURN NULL;
        END $$""",
    *(f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
          FOR EACH STATEMENT EXECUTE FUNCTION framework_frozen_no_truncate()"""
      for table in ("framework_version", "shortlist_item")),
    # 0003 checks the version an item leaves, not the one it moves to.
    f"""CREATE FUNCTION shortlist_item_into_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF (SELECT status FROM framework_version WHERE id = NEW.version_id) = 'frozen' THEN
            RAISE EXCEPTION '{FROZEN}';
          END IF;
          RETURN NEW;
        END $$""",
    """CREATE TRIGGER shortlist_item_into_frozen BEFORE UPDATE ON shortlist_item
       FOR EACH ROW EXECUTE FUNCTION shortlist_item_into_frozen()""",
    """CREATE FUNCTION audit_chain_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP = 'DELETE' THEN RAISE EXCEPTION 'audit_chain_head is append-only'; END IF;
         IF NEW.id <> OLD.id OR NEW.seq <= OLD.seq THEN
           RAISE EXCEPTION 'the audit chain head only moves forward';
         END IF;
         RETURN NEW;
       END $$""",
    """CREATE TRIGGER audit_chain_head_forward BEFORE UPDATE OR DELETE ON audit_chain_head
       FOR EACH ROW EXECUTE FUNCTION audit_chain_head_forward()""",
]


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in ("framework_approval", "framework_export"):
            for kind in ("no_replace", "no_delete", "no_update"):
                op.execute(f"DROP TRIGGER {table}_{kind}")
        for name in ("audit_event_no_replace", "framework_version_frozen_replace",
                     "framework_version_frozen_replace_update", "shortlist_item_frozen_replace",
                     "shortlist_item_frozen_replace_update", "shortlist_item_into_frozen"):
            op.execute(f"DROP TRIGGER {name}")
    else:
        for table in APPEND_ONLY_TABLES:
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        for table in (*NO_TRUNCATE_TABLES, "framework_version", "shortlist_item"):
            if table != "audit_chain_head":
                op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION framework_frozen_no_truncate()")
        op.execute("DROP TRIGGER shortlist_item_into_frozen ON shortlist_item")
        op.execute("DROP FUNCTION shortlist_item_into_frozen()")
    # Dropping the table drops its own triggers on both databases.
    op.drop_table('audit_chain_head')
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION codesign_append_only()")
        op.execute("DROP FUNCTION audit_chain_head_forward()")
    op.drop_index('ix_audit_event_seq', table_name='audit_event')
    op.drop_column('audit_event', 'hash')
    op.drop_column('audit_event', 'prev_hash')
    op.drop_column('audit_event', 'seq')
