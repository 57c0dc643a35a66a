"""evidence: indicator values in the Fingertips layout and each area's peers

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 20:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'indicator_value',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('indicator_id', sa.String(length=100), nullable=False),
        sa.Column('indicator_name', sa.String(length=300), nullable=False),
        sa.Column('parent_code', sa.String(length=100), nullable=False),
        sa.Column('parent_name', sa.String(length=300), nullable=False),
        sa.Column('area_code', sa.String(length=100), nullable=False),
        sa.Column('area_name', sa.String(length=300), nullable=False),
        sa.Column('area_type', sa.String(length=300), nullable=False),
        sa.Column('sex', sa.String(length=100), nullable=False),
        sa.Column('age', sa.String(length=100), nullable=False),
        sa.Column('category_type', sa.String(length=300), nullable=False),
        sa.Column('category', sa.String(length=300), nullable=False),
        sa.Column('period', sa.String(length=100), nullable=False),
        sa.Column('value', sa.Float(), nullable=True),
        sa.Column('lower_ci95', sa.Float(), nullable=True),
        sa.Column('upper_ci95', sa.Float(), nullable=True),
        sa.Column('lower_ci998', sa.Float(), nullable=True),
        sa.Column('upper_ci998', sa.Float(), nullable=True),
        sa.Column('count', sa.Float(), nullable=True),
        sa.Column('denominator', sa.Float(), nullable=True),
        sa.Column('value_note', sa.String(length=300), nullable=False),
        sa.Column('source', sa.String(length=200), nullable=False),
        sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint('indicator_id', 'area_code', 'sex', 'age', 'category_type', 'category', 'period',
                            name='uq_indicator_value_key'),
    )
    op.create_index('ix_indicator_value_indicator_period', 'indicator_value', ['indicator_id', 'period'])
    op.create_table(
        'peer_link',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('area_code', sa.String(length=100), nullable=False),
        sa.Column('peer_code', sa.String(length=100), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint('area_code', 'peer_code', name='uq_peer_link'),
    )
    op.create_index('ix_peer_link_area_code', 'peer_link', ['area_code'])


def downgrade() -> None:
    op.drop_index('ix_peer_link_area_code', table_name='peer_link')
    op.drop_table('peer_link')
    op.drop_index('ix_indicator_value_indicator_period', table_name='indicator_value')
    op.drop_table('indicator_value')
