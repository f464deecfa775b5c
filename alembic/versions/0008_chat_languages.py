"""chat languages: the language each chat reads in, apart from its subscription

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chat_language",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("language", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chat_id"),
    )
    # `subscriber.language` was never set to anything but English: only other choices move.
    op.execute(
        "INSERT INTO chat_language (chat_id, language, updated_at) "
        "SELECT chat_id, language, updated_at FROM subscriber WHERE language <> 'en'"
    )
    with op.batch_alter_table("subscriber", schema=None) as batch_op:
        batch_op.drop_column("language")


def downgrade() -> None:
    with op.batch_alter_table("subscriber", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("language", sa.String(length=8), nullable=False, server_default="en")
        )
    op.execute(
        "UPDATE subscriber SET language = (SELECT language FROM chat_language "
        "WHERE chat_language.chat_id = subscriber.chat_id) "
        "WHERE chat_id IN (SELECT chat_id FROM chat_language)"
    )
    op.drop_table("chat_language")
