"""framework versions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 17:48:42.660603
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('framework_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('population_group_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('contract_value_pence', sa.Integer(), nullable=True),
    sa.Column('mechanism', sa.String(length=20), nullable=False),
    sa.Column('years_json', sa.Text(), nullable=False),
    sa.Column('created_from_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('frozen_by_id', sa.Integer(), nullable=True),
    sa.Column('frozen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('snapshot_json', sa.Text(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('public_token', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['created_from_id'], ['framework_version.id'], ),
    sa.ForeignKeyConstraint(['frozen_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['population_group_id'], ['population_group.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('population_group_id', 'number'),
    sa.UniqueConstraint('public_token')
    )
    with op.batch_alter_table('framework_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_framework_version_population_group_id'), ['population_group_id'], unique=False)

    op.create_table('framework_approval',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=1000), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['version_id'], ['framework_version.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('version_id', 'user_id')
    )
    with op.batch_alter_table('framework_approval', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_framework_approval_version_id'), ['version_id'], unique=False)

    op.create_table('framework_export',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('format', sa.String(length=10), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['framework_version.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('version_id', 'format')
    )
    op.create_table('shortlist_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('outcome_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('included', sa.Boolean(), nullable=False),
    sa.Column('source_round_id', sa.Integer(), nullable=True),
    sa.Column('computed_rank', sa.Integer(), nullable=True),
    sa.Column('computed_score', sa.Float(), nullable=True),
    sa.Column('computed_consensus', sa.String(length=10), nullable=True),
    sa.Column('computed_in', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.String(length=1000), nullable=False),
    sa.Column('payment_weight_bp', sa.Integer(), nullable=False),
    sa.Column('definition_json', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['outcome_id'], ['outcome.id'], ),
    sa.ForeignKeyConstraint(['source_round_id'], ['voting_round.id'], ),
    sa.ForeignKeyConstraint(['version_id'], ['framework_version.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('version_id', 'outcome_id')
    )
    with op.batch_alter_table('shortlist_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shortlist_item_version_id'), ['version_id'], unique=False)

    _protect_frozen_versions()


FROZEN = "a frozen framework version cannot change"
SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER framework_version_frozen_update BEFORE UPDATE ON framework_version
        WHEN OLD.status = 'frozen' BEGIN SELECT RAISE(ABORT, '{FROZEN}'); END""",
    f"""CREATE TRIGGER framework_version_frozen_delete BEFORE DELETE ON framework_version
        WHEN OLD.status = 'frozen' BEGIN SELECT RAISE(ABORT, '{FROZEN}'); END""",
    f"""CREATE TRIGGER shortlist_item_frozen_insert BEFORE INSERT ON shortlist_item
        WHEN (SELECT status FROM framework_version WHERE id = NEW.version_id) = 'frozen'
        BEGIN SELECT RAISE(ABORT, '{FROZEN}'); END""",
    f"""CREATE TRIGGER shortlist_item_frozen_update BEFORE UPDATE ON shortlist_item
        WHEN (SELECT status FROM framework_version WHERE id = OLD.version_id) = 'frozen'
        BEGIN SELECT RAISE(ABORT, '{FROZEN}'); END""",
    f"""CREATE TRIGGER shortlist_item_frozen_delete BEFORE DELETE ON shortlist_item
        WHEN (SELECT status FROM framework_version WHERE id = OLD.version_id) = 'frozen'
        BEGIN SELECT RAISE(ABORT, '{FROZEN}'); END""",
]
POSTGRES_TRIGGERS = [
    f"""CREATE FUNCTION framework_version_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF OLD.status = 'frozen' THEN RAISE EXCEPTION '{FROZEN}'; END IF;
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END $$""",
    """CREATE TRIGGER framework_version_frozen BEFORE UPDATE OR DELETE ON framework_version
        FOR EACH ROW EXECUTE FUNCTION framework_version_frozen()""",
    f"""CREATE FUNCTION shortlist_item_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE vid integer;
        BEGIN
          IF TG_OP = 'INSERT' THEN vid := NEW.version_id; ELSE vid := OLD.version_id; END IF;
          IF (SELECT status FROM framework_version WHERE id = vid) = 'frozen' THEN
            RAISE EXCEPTION '{FROZEN}';
          END IF;
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END $$""",
    """CREATE TRIGGER shortlist_item_frozen BEFORE INSERT OR UPDATE OR DELETE ON shortlist_item
        FOR EACH ROW EXECUTE FUNCTION shortlist_item_frozen()""",
]


def _protect_frozen_versions() -> None:
    """Belt and braces: the services refuse changes to a frozen version; the database does too."""
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_TRIGGERS if dialect == "sqlite" else POSTGRES_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER shortlist_item_frozen ON shortlist_item")
        op.execute("DROP TRIGGER framework_version_frozen ON framework_version")
        op.execute("DROP FUNCTION shortlist_item_frozen()")
        op.execute("DROP FUNCTION framework_version_frozen()")
    with op.batch_alter_table('shortlist_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shortlist_item_version_id'))

    op.drop_table('shortlist_item')
    op.drop_table('framework_export')
    with op.batch_alter_table('framework_approval', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_framework_approval_version_id'))

    op.drop_table('framework_approval')
    with op.batch_alter_table('framework_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_framework_version_population_group_id'))

    op.drop_table('framework_version')
