"""panels: a population group's study across sessions, panellists, pooled rounds, the mail outbox

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 23:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'panel',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('population_group_id', sa.Integer(), sa.ForeignKey('population_group.id'), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('description', sa.String(length=2000), nullable=False),
        sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by_id', sa.Integer(), sa.ForeignKey('user.id'), nullable=True),
        sa.UniqueConstraint('population_group_id', 'name'),
    )
    op.create_index('ix_panel_population_group_id', 'panel', ['population_group_id'])
    op.create_table(
        'panellist',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('panel_id', sa.Integer(), sa.ForeignKey('panel.id'), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('stakeholder_group_id', sa.Integer(), sa.ForeignKey('stakeholder_group.id'), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=True),
        sa.Column('email', sa.String(length=254), nullable=True),
        sa.Column('organisation', sa.String(length=200), nullable=True),
        sa.Column('link_token', sa.String(length=64), nullable=True, unique=True),
        sa.Column('link_revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('unsubscribe_token', sa.String(length=64), nullable=False, unique=True),
        sa.Column('unsubscribed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint('panel_id', 'email'),
    )
    op.create_index('ix_panellist_panel_id', 'panellist', ['panel_id'])
    op.create_index('ix_panellist_panel_number', 'panellist', ['panel_id', 'number'], unique=True)
    op.create_index('ix_panellist_stakeholder_group_id', 'panellist', ['stakeholder_group_id'])
    op.create_table(
        'panel_round',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('panel_id', sa.Integer(), sa.ForeignKey('panel.id'), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by_id', sa.Integer(), sa.ForeignKey('user.id'), nullable=True),
        sa.Column('results_json', sa.Text(), nullable=True),
        sa.Column('results_sha256', sa.String(length=64), nullable=True),
        sa.Column('counted_at', sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint('panel_id', 'number'),
    )
    op.create_index('ix_panel_round_panel_id', 'panel_round', ['panel_id'])
    op.create_table(
        'outbox_message',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('panellist_id', sa.Integer(), sa.ForeignKey('panellist.id'), nullable=True),
        sa.Column('session_id', sa.Integer(), sa.ForeignKey('workshop_session.id'), nullable=True),
        sa.Column('round_id', sa.Integer(), sa.ForeignKey('voting_round.id'), nullable=True),
        sa.Column('dedupe_key', sa.String(length=200), nullable=True, unique=True),
        sa.Column('to_address', sa.String(length=254), nullable=True),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('body_text', sa.Text(), nullable=False),
        sa.Column('body_html', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.String(length=1000), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index('ix_outbox_message_due', 'outbox_message', ['status', 'next_attempt_at'])
    op.create_index('ix_outbox_message_panellist_id', 'outbox_message', ['panellist_id'])
    op.create_index('ix_outbox_message_session_id', 'outbox_message', ['session_id'])
    op.create_table(
        'reminder_schedule',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('round_id', sa.Integer(), sa.ForeignKey('voting_round.id'), nullable=False),
        sa.Column('days_after_open', sa.Integer(), nullable=False),
        sa.Column('queued_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint('round_id', 'days_after_open'),
    )
    op.create_index('ix_reminder_schedule_round_id', 'reminder_schedule', ['round_id'])
    # Plain ADD COLUMN (no batch mode, so no table copy and no foreign key in the database).
    op.add_column('workshop_session', sa.Column('panel_id', sa.Integer(), nullable=True))
    op.add_column('workshop_session', sa.Column('mode', sa.String(length=20), nullable=False, server_default='room'))
    op.create_index('ix_workshop_session_panel_id', 'workshop_session', ['panel_id'])
    op.add_column('participant', sa.Column('panellist_id', sa.Integer(), nullable=True))
    op.create_index('ix_participant_panellist_id', 'participant', ['panellist_id'])
    op.add_column('voting_round', sa.Column('panel_round_id', sa.Integer(), nullable=True))
    op.add_column('voting_round', sa.Column('opens_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('voting_round', sa.Column('closes_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_voting_round_panel_round_id', 'voting_round', ['panel_round_id'])


def downgrade() -> None:
    op.drop_index('ix_voting_round_panel_round_id', table_name='voting_round')
    op.drop_column('voting_round', 'closes_at')
    op.drop_column('voting_round', 'opens_at')
    op.drop_column('voting_round', 'panel_round_id')
    op.drop_index('ix_participant_panellist_id', table_name='participant')
    op.drop_column('participant', 'panellist_id')
    op.drop_index('ix_workshop_session_panel_id', table_name='workshop_session')
    op.drop_column('workshop_session', 'mode')
    op.drop_column('workshop_session', 'panel_id')
    for table in ('reminder_schedule', 'outbox_message', 'panel_round', 'panellist', 'panel'):
        op.drop_table(table)
