"""trade periods by granularity (years, years so far, months) and trade composition

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06

`trade_figure.granularity` says how much of a year a figure covers. A partial figure stored
before (a fiscal year's period with `partial` set, such as FY2025-26 for April–December) is
the year so far: it takes the label of its months ("2025-04/2025-12"), and the history rows
and context notes that name it follow. Downgrading keeps, of each year's part-year figures,
the latest (under its year's label again) and removes months and the other part-years.

`trade_composition` holds product groups' parts of imports and exports.

The column is added without rebuilding `trade_figure` (its search-index triggers and the
figure reports that point at it stay as they are); on downgrade SQLite drops it in place.
"""

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FIGURE = sa.table(
    "trade_figure",
    sa.column("id", sa.Integer),
    sa.column("series", sa.String),
    sa.column("period", sa.String),
    sa.column("period_start", sa.Date),
    sa.column("period_end", sa.Date),
    sa.column("granularity", sa.String),
    sa.column("partial", sa.Boolean),
)
_REPORT = sa.table("figure_report", sa.column("trade_figure_id", sa.Integer))
_CHANGE = sa.table(
    "status_change",
    sa.column("record_type", sa.String),
    sa.column("record_key", sa.String),
)
_NOTE = sa.table("context_note", sa.column("subject", sa.String))


def upgrade() -> None:
    op.add_column(
        "trade_figure",
        sa.Column("granularity", sa.String(length=32), nullable=False, server_default="year"),
    )
    connection = op.get_bind()
    partial = connection.execute(
        sa.select(
            _FIGURE.c.id,
            _FIGURE.c.series,
            _FIGURE.c.period,
            _FIGURE.c.period_start,
            _FIGURE.c.period_end,
        ).where(_FIGURE.c.partial.is_(True))
    ).all()
    for figure_id, series, period, start, end in partial:
        label = f"{start:%Y-%m}/{end:%Y-%m}"
        connection.execute(
            sa.update(_FIGURE)
            .where(_FIGURE.c.id == figure_id)
            .values(period=label, granularity="cumulative")
        )
        _rename(series, period, label)

    op.create_table(
        "trade_composition",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column("note_hi", sa.String(length=3000), nullable=True),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.String(length=10), nullable=False),
        sa.Column("updated_by", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("series", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("flow", sa.String(length=32), nullable=False),
        sa.Column("product_group", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Numeric(precision=14, scale=3), nullable=True),
        sa.Column("share_pct", sa.Numeric(precision=14, scale=3), nullable=True),
        sa.Column("growth_pct", sa.Numeric(precision=14, scale=3), nullable=True),
        sa.CheckConstraint(
            "period_end >= period_start", name=op.f("ck_trade_composition_period_order")
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["source.id"], name=op.f("fk_trade_composition_source_id_source")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trade_composition")),
        sa.UniqueConstraint("key", name=op.f("uq_trade_composition_key")),
        sa.UniqueConstraint(
            "series",
            "period",
            "flow",
            "product_group",
            name=op.f("uq_trade_composition_series_period_flow_product_group"),
        ),
    )
    with op.batch_alter_table("trade_composition", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_trade_composition_source_id"), ["source_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("trade_composition", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trade_composition_source_id"))
    op.drop_table("trade_composition")

    connection = op.get_bind()
    rows = connection.execute(
        sa.select(
            _FIGURE.c.id,
            _FIGURE.c.series,
            _FIGURE.c.period,
            _FIGURE.c.period_start,
            _FIGURE.c.period_end,
            _FIGURE.c.granularity,
        ).order_by(_FIGURE.c.period_end)
    ).all()
    years = {(series, period) for _, series, period, _, _, kind in rows if kind == "year"}
    kept: dict[tuple[str, str], tuple[int, str]] = {}  # (series, year label) -> latest part
    removed: list[int] = []
    for figure_id, series, period, start, _end, kind in rows:
        if kind == "year":
            continue
        label = _year_label(series, start)
        if kind == "cumulative" and (series, label) not in years:
            if (series, label) in kept:
                removed.append(kept[(series, label)][0])
            kept[(series, label)] = (figure_id, period)
        else:
            removed.append(figure_id)
    if removed:
        connection.execute(sa.delete(_REPORT).where(_REPORT.c.trade_figure_id.in_(removed)))
        connection.execute(sa.delete(_FIGURE).where(_FIGURE.c.id.in_(removed)))
    for (series, label), (figure_id, period) in kept.items():
        connection.execute(sa.update(_FIGURE).where(_FIGURE.c.id == figure_id).values(period=label))
        _rename(series, period, label)
    op.drop_column("trade_figure", "granularity")


def _rename(series: str, old: str, new: str) -> None:
    """Point the history rows and context notes of a figure at its new label."""
    connection = op.get_bind()
    connection.execute(
        sa.update(_CHANGE)
        .where(_CHANGE.c.record_type == "figure", _CHANGE.c.record_key == f"{series}:{old}")
        .values(record_key=f"{series}:{new}")
    )
    connection.execute(
        sa.update(_NOTE)
        .where(_NOTE.c.subject == f"figure:{series}:{old}")
        .values(subject=f"figure:{series}:{new}")
    )


def _year_label(series: str, start: date) -> str:
    """The label of the year a part-year figure belongs to (the first month is its start)."""
    first = start.year if series != "india_fy" or start.month >= 4 else start.year - 1
    if series == "india_fy":
        return f"FY{first}-{(first + 1) % 100:02d}"
    return str(first)
