"""delivery progress and alert cursor

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dispatch_cursor",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_dispatch_cursor")),
    )
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("since", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("after_change_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("up_to_change_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("parts_sent", sa.Integer(), nullable=False, server_default="0")
        )

    with op.batch_alter_table("subscriber", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("include_chart", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("added_by", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("subscriber", schema=None) as batch_op:
        batch_op.drop_column("added_by")
        batch_op.drop_column("include_chart")

    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_column("parts_sent")
        batch_op.drop_column("up_to_change_id")
        batch_op.drop_column("after_change_id")
        batch_op.drop_column("since")

    op.drop_table("dispatch_cursor")
