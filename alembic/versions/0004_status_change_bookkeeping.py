"""status change bookkeeping

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("status_change", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bookkeeping_before", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("bookkeeping_after", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("status_change", schema=None) as batch_op:
        batch_op.drop_column("bookkeeping_after")
        batch_op.drop_column("bookkeeping_before")
