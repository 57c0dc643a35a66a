"""the co-design annex's report fields (COS-STAR items the workshops do not record) on a framework version

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 20:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('framework_version', sa.Column('report_json', sa.Text(), nullable=False, server_default='{}'))


def downgrade() -> None:
    op.drop_column('framework_version', 'report_json')
