"""counted index: ballot_answer (ballot_id, outcome_id, value), so a count reads the index alone (issue 14)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 02:45:00

It replaces the index on ballot_id alone, which is its first column.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_ballot_answer_counted', 'ballot_answer', ['ballot_id', 'outcome_id', 'value'])
    op.drop_index('ix_ballot_answer_ballot_id', table_name='ballot_answer')


def downgrade() -> None:
    op.create_index('ix_ballot_answer_ballot_id', 'ballot_answer', ['ballot_id'])
    op.drop_index('ix_ballot_answer_counted', table_name='ballot_answer')
