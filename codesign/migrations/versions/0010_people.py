"""people: participants removed by the facilitator, or merged into another participant

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 18:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ADD COLUMN only (never batch mode, which on SQLite copies a table and drops its triggers).
# Nobody is deleted: a removed or merged participant is marked, and their device stops working.
def upgrade() -> None:
    op.add_column('participant', sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('participant', sa.Column('removed_reason', sa.String(length=1000), nullable=False,
                                           server_default=''))
    # No FOREIGN KEY clause: SQLite cannot add one to an existing table without batch mode.
    op.add_column('participant', sa.Column('merged_into_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column('participant', 'merged_into_id')
    op.drop_column('participant', 'removed_reason')
    op.drop_column('participant', 'removed_at')
