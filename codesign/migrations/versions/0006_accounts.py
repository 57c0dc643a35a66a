"""accounts: server-side sign-in sessions, known sign-in addresses, attempt buckets

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 15:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain CREATE TABLE / CREATE INDEX / DROP TABLE only (never batch mode, which on SQLite copies a
# table and drops its triggers).
def upgrade() -> None:
    # One row per sign-in; the cookie holds the token, the database only its SHA-256.
    op.create_table(
        'login_session',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token_sha256', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_login_session_user_id', 'login_session', ['user_id'], unique=False)
    op.create_index('ix_login_session_token_sha256', 'login_session', ['token_sha256'], unique=True)
    # Addresses each account has signed in from: wrong passwords from elsewhere never slow it there.
    op.create_table(
        'sign_in_address',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('address', sa.String(length=64), nullable=False),
        sa.Column('first_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'address'),
    )
    # Attempt limits: one row per key, reserved under a row lock (replaces one row per failure,
    # which was counted and then inserted: not atomic across workers).
    op.create_table(
        'rate_limit_bucket',
        sa.Column('key', sa.String(length=400), nullable=False),
        sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_allowed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )
    op.create_index('ix_rate_limit_bucket_updated_at', 'rate_limit_bucket', ['updated_at'], unique=False)
    op.drop_index('ix_rate_limit_hit_key', table_name='rate_limit_hit')
    op.drop_index('ix_rate_limit_hit_created_at', table_name='rate_limit_hit')
    op.drop_table('rate_limit_hit')


def downgrade() -> None:
    op.create_table(
        'rate_limit_hit',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=300), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_rate_limit_hit_created_at', 'rate_limit_hit', ['created_at'], unique=False)
    op.create_index('ix_rate_limit_hit_key', 'rate_limit_hit', ['key'], unique=False)
    op.drop_index('ix_rate_limit_bucket_updated_at', table_name='rate_limit_bucket')
    op.drop_table('rate_limit_bucket')
    op.drop_table('sign_in_address')
    op.drop_index('ix_login_session_token_sha256', table_name='login_session')
    op.drop_index('ix_login_session_user_id', table_name='login_session')
    op.drop_table('login_session')
