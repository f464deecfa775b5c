"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "admin",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("added_by", sa.BigInteger(), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin")),
        sa.UniqueConstraint("user_id", name=op.f("uq_admin_user_id")),
    )
    op.create_table(
        "source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("publisher", sa.String(length=200), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.Column("published_on", sa.String(length=10), nullable=True),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source")),
        sa.UniqueConstraint("key", name=op.f("uq_source_key")),
    )
    op.create_table(
        "subscriber",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_type", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=256), nullable=True),
        sa.Column("frequency", sa.String(length=32), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("local_hour", sa.Integer(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("alerts_enabled", sa.Boolean(), nullable=False),
        sa.Column("quiet_hours", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("deactivated_reason", sa.String(length=200), nullable=True),
        sa.Column("next_digest_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_digest_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "local_hour BETWEEN 0 AND 23", name=op.f("ck_subscriber_local_hour_range")
        ),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_subscriber_weekday_range")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriber")),
        sa.UniqueConstraint("chat_id", name=op.f("uq_subscriber_chat_id")),
    )
    with op.batch_alter_table("subscriber", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subscriber_next_digest_at"), ["next_digest_at"], unique=False
        )

    op.create_table(
        "border_pass",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.String(length=10), nullable=False),
        sa.Column("updated_by", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("region", sa.String(length=200), nullable=False),
        sa.Column("indian_mart", sa.String(length=200), nullable=True),
        sa.Column("counterpart_mart", sa.String(length=200), nullable=True),
        sa.Column("trade_since", sa.String(length=10), nullable=True),
        sa.Column("season", sa.String(length=300), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("status_since", sa.String(length=10), nullable=True),
        sa.Column("expected_reopening", sa.String(length=10), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"], ["source.id"], name=op.f("fk_border_pass_source_id_source")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_border_pass")),
        sa.UniqueConstraint("slug", name=op.f("uq_border_pass_slug")),
    )
    with op.batch_alter_table("border_pass", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_border_pass_source_id"), ["source_id"], unique=False)

    op.create_table(
        "commodity_deal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.String(length=10), nullable=False),
        sa.Column("updated_by", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("commodity", sa.String(length=100), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("direction", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("status_since", sa.String(length=10), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"], ["source.id"], name=op.f("fk_commodity_deal_source_id_source")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commodity_deal")),
        sa.UniqueConstraint("slug", name=op.f("uq_commodity_deal_slug")),
    )
    with op.batch_alter_table("commodity_deal", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commodity_deal_source_id"), ["source_id"], unique=False
        )

    op.create_table(
        "context_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.String(length=10), nullable=False),
        sa.Column("updated_by", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("topic", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=80), nullable=True),
        sa.Column("text", sa.String(length=2000), nullable=False),
        sa.Column("occurred_on", sa.String(length=10), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"], ["source.id"], name=op.f("fk_context_note_source_id_source")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_context_note")),
        sa.UniqueConstraint("key", name=op.f("uq_context_note_key")),
    )
    with op.batch_alter_table("context_note", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_context_note_source_id"), ["source_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_context_note_subject"), ["subject"], unique=False)
        batch_op.create_index(batch_op.f("ix_context_note_topic"), ["topic"], unique=False)

    op.create_table(
        "delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("last_error", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_delivery_attempts_not_negative")),
        sa.ForeignKeyConstraint(
            ["subscriber_id"], ["subscriber.id"], name=op.f("fk_delivery_subscriber_id_subscriber")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery")),
        sa.UniqueConstraint(
            "subscriber_id", "kind", "due_at", name=op.f("uq_delivery_subscriber_id_kind_due_at")
        ),
    )
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.create_index(
            "ix_delivery_state_next_attempt", ["state", "next_attempt_at"], unique=False
        )

    op.create_table(
        "flight_route",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.String(length=10), nullable=False),
        sa.Column("updated_by", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("route", sa.String(length=100), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("airline", sa.String(length=100), nullable=False),
        sa.Column("flight_number", sa.String(length=16), nullable=True),
        sa.Column("frequency", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("since", sa.String(length=10), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"], ["source.id"], name=op.f("fk_flight_route_source_id_source")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flight_route")),
        sa.UniqueConstraint("slug", name=op.f("uq_flight_route_slug")),
    )
    with op.batch_alter_table("flight_route", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_flight_route_source_id"), ["source_id"], unique=False)

    op.create_table(
        "status_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_key", sa.String(length=120), nullable=True),
        sa.Column("record_type", sa.String(length=32), nullable=False),
        sa.Column("record_key", sa.String(length=64), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=True),
        sa.Column("old_value", sa.String(length=2000), nullable=True),
        sa.Column("new_value", sa.String(length=2000), nullable=True),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("occurred_on", sa.String(length=10), nullable=True),
        sa.Column("actor", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"], ["source.id"], name=op.f("fk_status_change_source_id_source")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_change")),
        sa.UniqueConstraint("event_key", name=op.f("uq_status_change_event_key")),
    )
    with op.batch_alter_table("status_change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_status_change_at"), ["at"], unique=False)
        batch_op.create_index(
            "ix_status_change_record", ["record_type", "record_key", "at"], unique=False
        )

    op.create_table(
        "trade_figure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.String(length=10), nullable=False),
        sa.Column("updated_by", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("series", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("partial", sa.Boolean(), nullable=False),
        sa.Column("coverage", sa.String(length=64), nullable=True),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("exports", sa.Numeric(precision=14, scale=3, asdecimal=False), nullable=True),
        sa.Column("imports", sa.Numeric(precision=14, scale=3, asdecimal=False), nullable=True),
        sa.Column("total", sa.Numeric(precision=14, scale=3, asdecimal=False), nullable=True),
        sa.Column("deficit", sa.Numeric(precision=14, scale=3, asdecimal=False), nullable=True),
        sa.Column(
            "exports_growth_pct", sa.Numeric(precision=14, scale=3, asdecimal=False), nullable=True
        ),
        sa.Column(
            "imports_growth_pct", sa.Numeric(precision=14, scale=3, asdecimal=False), nullable=True
        ),
        sa.Column(
            "total_growth_pct", sa.Numeric(precision=14, scale=3, asdecimal=False), nullable=True
        ),
        sa.CheckConstraint("period_end >= period_start", name=op.f("ck_trade_figure_period_order")),
        sa.ForeignKeyConstraint(
            ["source_id"], ["source.id"], name=op.f("fk_trade_figure_source_id_source")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trade_figure")),
        sa.UniqueConstraint("series", "period", name=op.f("uq_trade_figure_series_period")),
    )
    with op.batch_alter_table("trade_figure", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trade_figure_source_id"), ["source_id"], unique=False)

    op.create_table(
        "figure_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trade_figure_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Numeric(precision=14, scale=3, asdecimal=False), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"], ["source.id"], name=op.f("fk_figure_report_source_id_source")
        ),
        sa.ForeignKeyConstraint(
            ["trade_figure_id"],
            ["trade_figure.id"],
            name=op.f("fk_figure_report_trade_figure_id_trade_figure"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_figure_report")),
        sa.UniqueConstraint(
            "trade_figure_id",
            "quantity",
            "source_id",
            name=op.f("uq_figure_report_trade_figure_id_quantity_source_id"),
        ),
    )
    with op.batch_alter_table("figure_report", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_figure_report_trade_figure_id"), ["trade_figure_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("figure_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_figure_report_trade_figure_id"))

    op.drop_table("figure_report")
    with op.batch_alter_table("trade_figure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trade_figure_source_id"))

    op.drop_table("trade_figure")
    with op.batch_alter_table("status_change", schema=None) as batch_op:
        batch_op.drop_index("ix_status_change_record")
        batch_op.drop_index(batch_op.f("ix_status_change_at"))

    op.drop_table("status_change")
    with op.batch_alter_table("flight_route", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_flight_route_source_id"))

    op.drop_table("flight_route")
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_delivery_state_next_attempt")

    op.drop_table("delivery")
    with op.batch_alter_table("context_note", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_context_note_topic"))
        batch_op.drop_index(batch_op.f("ix_context_note_subject"))
        batch_op.drop_index(batch_op.f("ix_context_note_source_id"))

    op.drop_table("context_note")
    with op.batch_alter_table("commodity_deal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commodity_deal_source_id"))

    op.drop_table("commodity_deal")
    with op.batch_alter_table("border_pass", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_border_pass_source_id"))

    op.drop_table("border_pass")
    with op.batch_alter_table("subscriber", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subscriber_next_digest_at"))

    op.drop_table("subscriber")
    op.drop_table("source")
    op.drop_table("admin")
