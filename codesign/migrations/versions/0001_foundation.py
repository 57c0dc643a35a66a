"""foundation: users, population groups, sessions, participants, outcomes, audit

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 17:24:44.082093
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('rate_limit_hit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('rate_limit_hit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rate_limit_hit_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_rate_limit_hit_key'), ['key'], unique=False)

    op.create_table('user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_email'), ['email'], unique=True)

    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_label', sa.String(length=254), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=True),
    sa.Column('population_group_id', sa.Integer(), nullable=True),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('summary', sa.String(length=1000), nullable=False),
    sa.Column('details', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_population_group_id'), ['population_group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_session_id'), ['session_id'], unique=False)

    op.create_table('population_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.String(length=2000), nullable=False),
    sa.Column('template_slug', sa.String(length=100), nullable=True),
    sa.Column('attribution', sa.String(length=2000), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('domain',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('population_group_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=60), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('nhs_domain', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['population_group_id'], ['population_group.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('population_group_id', 'key')
    )
    with op.batch_alter_table('domain', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_domain_population_group_id'), ['population_group_id'], unique=False)

    op.create_table('stakeholder_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('population_group_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['population_group_id'], ['population_group.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('population_group_id', 'key')
    )
    with op.batch_alter_table('stakeholder_group', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stakeholder_group_population_group_id'), ['population_group_id'], unique=False)

    op.create_table('workshop_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('population_group_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=True),
    sa.Column('join_code', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('proposals_open', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['population_group_id'], ['population_group.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('workshop_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workshop_session_join_code'), ['join_code'], unique=True)
        batch_op.create_index(batch_op.f('ix_workshop_session_population_group_id'), ['population_group_id'], unique=False)

    op.create_table('outcome',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('population_group_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('statement', sa.String(length=200), nullable=False),
    sa.Column('description', sa.String(length=1000), nullable=False),
    sa.Column('domain_key', sa.String(length=60), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('library_key', sa.String(length=100), nullable=True),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['merged_into_id'], ['outcome.id'], ),
    sa.ForeignKeyConstraint(['population_group_id'], ['population_group.id'], ),
    sa.ForeignKeyConstraint(['session_id'], ['workshop_session.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('outcome', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outcome_population_group_id'), ['population_group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outcome_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outcome_status'), ['status'], unique=False)

    op.create_table('participant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('stakeholder_group_id', sa.Integer(), nullable=False),
    sa.Column('first_name', sa.String(length=60), nullable=False),
    sa.Column('table_number', sa.Integer(), nullable=True),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('joined_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['workshop_session.id'], ),
    sa.ForeignKeyConstraint(['stakeholder_group_id'], ['stakeholder_group.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token')
    )
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_participant_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_participant_stakeholder_group_id'), ['stakeholder_group_id'], unique=False)

    op.create_table('outcome_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('outcome_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('old_statement', sa.String(length=200), nullable=False),
    sa.Column('new_statement', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.String(length=1000), nullable=False),
    sa.Column('related_outcome_id', sa.Integer(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['outcome_id'], ['outcome.id'], ),
    sa.ForeignKeyConstraint(['related_outcome_id'], ['outcome.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('outcome_revision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outcome_revision_outcome_id'), ['outcome_id'], unique=False)

    op.create_table('outcome_source',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('outcome_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=True),
    sa.Column('stakeholder_group_id', sa.Integer(), nullable=True),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('statement', sa.String(length=200), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('via_outcome_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['outcome_id'], ['outcome.id'], ),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], ),
    sa.ForeignKeyConstraint(['session_id'], ['workshop_session.id'], ),
    sa.ForeignKeyConstraint(['stakeholder_group_id'], ['stakeholder_group.id'], ),
    sa.ForeignKeyConstraint(['via_outcome_id'], ['outcome.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('outcome_source', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outcome_source_outcome_id'), ['outcome_id'], unique=False)

    _make_audit_log_append_only()


SQLITE_TRIGGERS = [
    """CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
       BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END""",
    """CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
       BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END""",
]
POSTGRES_TRIGGERS = [
    """CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'audit_event is append-only'; END $$""",
    """CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_event
       FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()""",
]


def _make_audit_log_append_only() -> None:
    """The audit log is evidence: the database itself refuses to change or remove an event."""
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_TRIGGERS if dialect == "sqlite" else POSTGRES_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_event_no_change ON audit_event")
        op.execute("DROP FUNCTION audit_event_append_only()")
    with op.batch_alter_table('outcome_source', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outcome_source_outcome_id'))

    op.drop_table('outcome_source')
    with op.batch_alter_table('outcome_revision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outcome_revision_outcome_id'))

    op.drop_table('outcome_revision')
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_participant_stakeholder_group_id'))
        batch_op.drop_index(batch_op.f('ix_participant_session_id'))

    op.drop_table('participant')
    with op.batch_alter_table('outcome', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outcome_status'))
        batch_op.drop_index(batch_op.f('ix_outcome_session_id'))
        batch_op.drop_index(batch_op.f('ix_outcome_population_group_id'))

    op.drop_table('outcome')
    with op.batch_alter_table('workshop_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workshop_session_population_group_id'))
        batch_op.drop_index(batch_op.f('ix_workshop_session_join_code'))

    op.drop_table('workshop_session')
    with op.batch_alter_table('stakeholder_group', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stakeholder_group_population_group_id'))

    op.drop_table('stakeholder_group')
    with op.batch_alter_table('domain', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_domain_population_group_id'))

    op.drop_table('domain')
    op.drop_table('population_group')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_session_id'))
        batch_op.drop_index(batch_op.f('ix_audit_event_population_group_id'))
        batch_op.drop_index(batch_op.f('ix_audit_event_created_at'))
        batch_op.drop_index(batch_op.f('ix_audit_event_action'))

    op.drop_table('audit_event')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_email'))

    op.drop_table('user')
    with op.batch_alter_table('rate_limit_hit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rate_limit_hit_key'))
        batch_op.drop_index(batch_op.f('ix_rate_limit_hit_created_at'))

    op.drop_table('rate_limit_hit')
