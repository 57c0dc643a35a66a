"""an optional countdown for an open round, shown on the presenter screen and devices

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 18:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('voting_round', sa.Column('countdown_ends_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('voting_round', 'countdown_ends_at')
