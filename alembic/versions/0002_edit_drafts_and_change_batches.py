"""edit drafts and change batches

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "edit_draft",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_edit_draft")),
    )
    with op.batch_alter_table("edit_draft", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_edit_draft_expires_at"), ["expires_at"], unique=False)

    with op.batch_alter_table("status_change", schema=None) as batch_op:
        batch_op.add_column(sa.Column("batch", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("reverts", sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_status_change_batch"), ["batch"], unique=False)
        batch_op.create_index(batch_op.f("ix_status_change_reverts"), ["reverts"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("status_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_status_change_reverts"))
        batch_op.drop_index(batch_op.f("ix_status_change_batch"))
        batch_op.drop_column("reverts")
        batch_op.drop_column("batch")

    with op.batch_alter_table("edit_draft", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_edit_draft_expires_at"))

    op.drop_table("edit_draft")
