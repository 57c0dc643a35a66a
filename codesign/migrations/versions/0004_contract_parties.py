"""contract parties on framework versions: commissioner, provider, contract reference

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 21:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Plain ADD COLUMN (never batch mode, which on SQLite would copy the table and drop the triggers
# that keep frozen versions unchangeable). Existing rows, frozen ones included, get ''.
COLUMNS = (("commissioner", 200), ("provider", 200), ("contract_reference", 100))


def upgrade() -> None:
    for name, length in COLUMNS:
        op.add_column('framework_version',
                      sa.Column(name, sa.String(length=length), nullable=False, server_default=''))


def downgrade() -> None:
    for name, _ in reversed(COLUMNS):
        op.drop_column('framework_version', name)
