"""trust in rounds: stored results, finished ballots, keys bound to one question, participant numbers

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ADD COLUMN and CREATE INDEX only (never batch mode, which on SQLite copies a table and
# drops its triggers).
def upgrade() -> None:
    # A round's results are counted once, when it closes, and kept with it (reset discards them).
    op.add_column('voting_round', sa.Column('results_json', sa.Text(), nullable=True))
    op.add_column('voting_round', sa.Column('results_sha256', sa.String(length=64), nullable=True))
    op.add_column('voting_round', sa.Column('counted_at', sa.DateTime(timezone=True), nullable=True))
    # "Voted" means finished: every question answered, the list sent, or "I have finished" pressed.
    op.add_column('ballot', sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True))
    # A device-made key belongs to one participant and one question.
    op.add_column('ballot_submission', sa.Column('participant_id', sa.Integer(), nullable=True))
    op.add_column('ballot_submission', sa.Column('question', sa.String(length=40), nullable=True))
    # "Participant 12": a number per session, in joining order, for people who gave no first name.
    op.add_column('participant', sa.Column('number', sa.Integer(), nullable=True))
    op.execute("UPDATE participant SET number = (SELECT count(*) FROM participant p "
               "WHERE p.session_id = participant.session_id AND p.id <= participant.id)")
    op.create_index('ix_participant_session_number', 'participant', ['session_id', 'number'], unique=True)
    # Ballots finished before this migration: sent lists and fully answered rating ballots.
    op.execute("UPDATE ballot SET finished_at = submitted_at WHERE submitted_at IS NOT NULL AND ("
               "(SELECT method FROM voting_round r WHERE r.id = ballot.round_id) IN ('ranking', 'points') OR "
               "((SELECT method FROM voting_round r WHERE r.id = ballot.round_id) = 'rating' AND "
               "(SELECT count(*) FROM ballot_answer a WHERE a.ballot_id = ballot.id) >= "
               "(SELECT count(*) FROM round_outcome o WHERE o.round_id = ballot.round_id)))")


def downgrade() -> None:
    op.drop_index('ix_participant_session_number', table_name='participant')
    with op.batch_alter_table('participant') as batch_op:
        batch_op.drop_column('number')
    with op.batch_alter_table('ballot_submission') as batch_op:
        batch_op.drop_column('question')
        batch_op.drop_column('participant_id')
    with op.batch_alter_table('ballot') as batch_op:
        batch_op.drop_column('finished_at')
    with op.batch_alter_table('voting_round') as batch_op:
        batch_op.drop_column('counted_at')
        batch_op.drop_column('results_sha256')
        batch_op.drop_column('results_json')
