"""pooled shortlist: a shortlist item can come from a pooled round's results (issue 14)

Revision ID: 0016
Revises: 0014
Create Date: 2026-11-30 23:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0016'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain add_column (no foreign key, no batch mode): shortlist_item has triggers that batch mode
    # would drop on SQLite. The column names a panel_round; None for items built from one round.
    op.add_column('shortlist_item', sa.Column('source_panel_round_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column('shortlist_item', 'source_panel_round_id')
