"""voting rounds and ballots

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 17:39:24.663971
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('voting_round',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('options_json', sa.Text(), nullable=False),
    sa.Column('rule_json', sa.Text(), nullable=False),
    sa.Column('combine', sa.String(length=20), nullable=False),
    sa.Column('weights_json', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('table_based', sa.Boolean(), nullable=False),
    sa.Column('feedback_round_id', sa.Integer(), nullable=True),
    sa.Column('revealed', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['feedback_round_id'], ['voting_round.id'], ),
    sa.ForeignKeyConstraint(['session_id'], ['workshop_session.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('session_id', 'number')
    )
    with op.batch_alter_table('voting_round', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voting_round_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_voting_round_status'), ['status'], unique=False)

    op.create_table('ballot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('voter_key', sa.String(length=40), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=True),
    sa.Column('stakeholder_group_id', sa.Integer(), nullable=True),
    sa.Column('table_number', sa.Integer(), nullable=True),
    sa.Column('draft_json', sa.Text(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], ),
    sa.ForeignKeyConstraint(['round_id'], ['voting_round.id'], ),
    sa.ForeignKeyConstraint(['stakeholder_group_id'], ['stakeholder_group.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('round_id', 'voter_key')
    )
    with op.batch_alter_table('ballot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballot_participant_id'), ['participant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ballot_round_id'), ['round_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ballot_updated_at'), ['updated_at'], unique=False)

    op.create_table('round_outcome',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('outcome_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['outcome_id'], ['outcome.id'], ),
    sa.ForeignKeyConstraint(['round_id'], ['voting_round.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('round_id', 'outcome_id')
    )
    with op.batch_alter_table('round_outcome', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_round_outcome_round_id'), ['round_id'], unique=False)

    op.create_table('ballot_answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ballot_id', sa.Integer(), nullable=False),
    sa.Column('outcome_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=1000), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ballot_id'], ['ballot.id'], ),
    sa.ForeignKeyConstraint(['outcome_id'], ['outcome.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ballot_id', 'outcome_id')
    )
    with op.batch_alter_table('ballot_answer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballot_answer_ballot_id'), ['ballot_id'], unique=False)

    op.create_table('ballot_submission',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('ballot_id', sa.Integer(), nullable=False),
    sa.Column('client_key', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ballot_id'], ['ballot.id'], ),
    sa.ForeignKeyConstraint(['round_id'], ['voting_round.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('round_id', 'client_key')
    )
    with op.batch_alter_table('ballot_submission', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballot_submission_round_id'), ['round_id'], unique=False)

    op.create_table('pairwise_answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ballot_id', sa.Integer(), nullable=False),
    sa.Column('left_outcome_id', sa.Integer(), nullable=False),
    sa.Column('right_outcome_id', sa.Integer(), nullable=False),
    sa.Column('choice', sa.String(length=10), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ballot_id'], ['ballot.id'], ),
    sa.ForeignKeyConstraint(['left_outcome_id'], ['outcome.id'], ),
    sa.ForeignKeyConstraint(['right_outcome_id'], ['outcome.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ballot_id', 'left_outcome_id', 'right_outcome_id')
    )
    with op.batch_alter_table('pairwise_answer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pairwise_answer_ballot_id'), ['ballot_id'], unique=False)

    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('external_ref', sa.String(length=100), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.drop_column('external_ref')

    with op.batch_alter_table('pairwise_answer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pairwise_answer_ballot_id'))

    op.drop_table('pairwise_answer')
    with op.batch_alter_table('ballot_submission', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ballot_submission_round_id'))

    op.drop_table('ballot_submission')
    with op.batch_alter_table('ballot_answer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ballot_answer_ballot_id'))

    op.drop_table('ballot_answer')
    with op.batch_alter_table('round_outcome', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_round_outcome_round_id'))

    op.drop_table('round_outcome')
    with op.batch_alter_table('ballot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ballot_updated_at'))
        batch_op.drop_index(batch_op.f('ix_ballot_round_id'))
        batch_op.drop_index(batch_op.f('ix_ballot_participant_id'))

    op.drop_table('ballot')
    with op.batch_alter_table('voting_round', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voting_round_status'))
        batch_op.drop_index(batch_op.f('ix_voting_round_session_id'))

    op.drop_table('voting_round')
