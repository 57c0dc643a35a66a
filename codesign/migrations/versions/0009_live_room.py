"""the live room: what every device in a session should be showing, and a counter that changes with it

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 17:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain add_column: workshop_session has no triggers, but batch mode is never needed here.
# live_round_id has no foreign key: voting_round already points at workshop_session, and the value
# is a pointer the services keep (a live round is never a draft, and only drafts are deleted).
def upgrade() -> None:
    op.add_column('workshop_session', sa.Column('live_seq', sa.Integer(), nullable=False, server_default='0'))
    op.add_column('workshop_session', sa.Column('live_view', sa.String(length=20), nullable=False,
                                                server_default='lobby'))
    op.add_column('workshop_session', sa.Column('live_round_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column('workshop_session', 'live_round_id')
    op.drop_column('workshop_session', 'live_view')
    op.drop_column('workshop_session', 'live_seq')
