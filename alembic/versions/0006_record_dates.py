"""record dates: seasons, announced ends, first flights

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("border_pass", schema=None) as batch_op:
        batch_op.add_column(sa.Column("season_start", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("season_end", sa.String(length=10), nullable=True))
    with op.batch_alter_table("commodity_deal", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status_until", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("until_note", sa.String(length=300), nullable=True))
    with op.batch_alter_table("flight_route", schema=None) as batch_op:
        batch_op.add_column(sa.Column("starts_on", sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("flight_route", schema=None) as batch_op:
        batch_op.drop_column("starts_on")
    with op.batch_alter_table("commodity_deal", schema=None) as batch_op:
        batch_op.drop_column("until_note")
        batch_op.drop_column("status_until")
    with op.batch_alter_table("border_pass", schema=None) as batch_op:
        batch_op.drop_column("season_end")
        batch_op.drop_column("season_start")
