"""contract values above £21,474,836.47: framework_version.contract_value_pence as BIGINT

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# SQLite's INTEGER already holds 64 bits (and batch mode would drop the frozen-version triggers),
# so only PostgreSQL's 32-bit integer column changes type. No row changes, so no trigger fires.
def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column('framework_version', 'contract_value_pence', type_=sa.BigInteger(),
                        existing_type=sa.Integer(), existing_nullable=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column('framework_version', 'contract_value_pence', type_=sa.Integer(),
                        existing_type=sa.BigInteger(), existing_nullable=True)
