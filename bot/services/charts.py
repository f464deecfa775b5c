"""Charts of the two series as PNG: one panel per series, so they never share an axis; and
of product groups (what India buys and sells), as horizontal bars, one panel per period.

matplotlib is imported only when a chart is drawn (it costs a noticeable share of start-up
time), and through its object API with the Agg backend: no pyplot global state, no display.
"""

from __future__ import annotations

import hashlib
import io
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from bot.services.figures import fiscal_label
from bot.vocabulary import Quantity, Series

if TYPE_CHECKING:
    from collections.abc import Sequence

    from matplotlib.figure import Figure

    from bot.services.composition import Table
    from bot.services.trade import FigureView, Value

ChartKind = Literal["deficit", "trade"]

# Bars for the parts, a line for the quantity the chart is about.
_BARS: dict[str, tuple[Quantity, ...]] = {
    "deficit": (Quantity.IMPORTS, Quantity.EXPORTS),
    "trade": (Quantity.IMPORTS, Quantity.EXPORTS),
}
_LINE: dict[str, Quantity] = {"deficit": Quantity.DEFICIT, "trade": Quantity.TOTAL}
_COLOURS = {
    Quantity.IMPORTS: "#c0504d",
    Quantity.EXPORTS: "#4f81bd",
    Quantity.DEFICIT: "#222222",
    Quantity.TOTAL: "#9bbb59",
}


def charted(views: Sequence[FigureView]) -> list[FigureView]:
    """Full periods only: a partial year would look like a collapse."""
    return [view for view in views if not view.figure.partial]


def data_key(kind: ChartKind, panels: Sequence[Sequence[FigureView]]) -> str:
    """Changes whenever anything drawn changes, so a cached upload is reused only while valid."""
    digest = hashlib.sha256(kind.encode())
    for views in panels:
        for view in charted(views):
            digest.update(
                f"{view.figure.period}|{view.figure.as_of}|{view.source.publisher}".encode()
            )
            for quantity, value in sorted(view.values.items()):
                digest.update(f"{quantity}={value.amount},{value.derived};".encode())
    return digest.hexdigest()[:16]


ChartLabel = Callable[..., str]


@dataclass(frozen=True, slots=True)
class _Slot:
    """One period on a panel's axis: a figure, or a gap where the series has none."""

    period: str
    view: FigureView | None


def timeline(views: Sequence[FigureView]) -> list[_Slot]:
    """Every period from the first charted one to the last, gaps included: a missing year is
    shown as missing, never closed up (the line would then run straight across it)."""
    shown = charted(views)
    if not shown:
        return []
    by_year = {view.figure.period_start.year: view for view in shown}
    fiscal = shown[0].figure.series is Series.INDIA_FY
    return [
        _Slot(fiscal_label(year) if fiscal else str(year), by_year.get(year))
        for year in range(min(by_year), max(by_year) + 1)
    ]


def render_png(
    kind: ChartKind, panels: Sequence[tuple[str, Sequence[FigureView]]], label: ChartLabel
) -> bytes:
    """The chart as PNG bytes (see `draw`)."""
    buffer = io.BytesIO()
    draw(kind, panels, label).savefig(buffer, format="png")
    return buffer.getvalue()


def draw(
    kind: ChartKind, panels: Sequence[tuple[str, Sequence[FigureView]]], label: ChartLabel
) -> Figure:
    """One panel per (title, views); `label(name, *args)` gives the texts drawn (the
    `chart.j2` macros). The image carries its sources and dates, since a chart is often
    forwarded without its caption."""
    import matplotlib  # lazy: see the module docstring

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 3.6 * len(panels)), dpi=110, layout="constrained")
    axes = figure.subplots(len(panels), 1, squeeze=False)[:, 0]
    any_derived = False
    for axis, (title, views) in zip(axes, panels, strict=True):
        slots = timeline(views)
        any_derived |= _draw_panel(axis, kind, slots, label)
        axis.set_title(title, fontsize=11, loc="left")
        shown = [slot.view for slot in slots if slot.view is not None]
        if shown:
            publishers = sorted({view.source.publisher for view in shown})
            as_of = max(view.figure.as_of for view in shown)
            footer = "\n".join(textwrap.wrap(label("sources", publishers, as_of), 150))
            axis.set_xlabel(footer, fontsize=7, loc="left")
    notes = []
    if len(axes) > 1 and len({axis.get_ylim() for axis in axes}) > 1:
        notes.append(label("scales_differ"))
    if any_derived:
        notes.append(label("derived"))
    if notes:
        figure.suptitle("   ".join(notes), fontsize=8, x=0.01, ha="left", color="#555555")
    return figure


def _draw_panel(axis: Any, kind: ChartKind, slots: Sequence[_Slot], label: ChartLabel) -> bool:
    """Bars for the parts, a line for the chart's quantity; True when a value drawn is derived."""
    positions = list(range(len(slots)))
    width = 0.38
    derived = False
    for offset, quantity in zip((-width / 2, width / 2), _BARS[kind], strict=True):
        values = [_value(slot, quantity) for slot in slots]
        bars = axis.bar(
            [p + offset for p in positions],
            [_height(value) for value in values],
            width,
            label=label(quantity.value),
            color=_COLOURS[quantity],
        )
        for bar, value in zip(bars, values, strict=True):
            if value is not None and value.derived:
                bar.set_hatch("///")
                bar.set_alpha(0.6)
                derived = True
    line = _LINE[kind]
    values = [_value(slot, line) for slot in slots]
    heights = [_height(value) for value in values]
    # NaN where a period has no value: matplotlib breaks the line there.
    axis.plot(positions, heights, label=label(line.value), color=_COLOURS[line])
    for position, value in zip(positions, values, strict=True):
        if value is not None:
            axis.plot(
                position,
                float(value.amount),
                marker="o",
                color=_COLOURS[line],
                markerfacecolor="white" if value.derived else _COLOURS[line],
            )
            derived |= value.derived
    latest = next(
        ((p, v) for p, v in zip(reversed(positions), reversed(values), strict=True) if v), None
    )
    if latest is not None:
        position, value = latest
        axis.annotate(
            f"{value.amount.normalize():f}",
            (position, float(value.amount)),
            textcoords="offset points",
            xytext=(0, 7),
            ha="center",
            fontsize=8,
            fontweight="bold",
        )
    drawn = (*_BARS[kind], line)
    gaps = {p for p, slot in zip(positions, slots, strict=True) if not _has_any(slot, drawn)}
    ticks = [
        f"{slot.period}\n{label('no_data')}" if position in gaps else slot.period
        for position, slot in zip(positions, slots, strict=True)
    ]
    for position in gaps:
        axis.axvspan(position - 0.5, position + 0.5, color="#eeeeee", zorder=0)
    axis.set_xticks(positions, ticks, rotation=45, ha="right", fontsize=8)
    axis.set_ylabel(label("unit"))
    axis.grid(axis="y", alpha=0.3)
    axis.legend(fontsize=8, loc="upper left")
    return derived


def _value(slot: _Slot, quantity: Quantity) -> Value | None:
    return slot.view.values.get(quantity) if slot.view is not None else None


def _has_any(slot: _Slot, quantities: Sequence[Quantity]) -> bool:
    return any(_value(slot, quantity) is not None for quantity in quantities)


def _height(value: Value | None) -> float:
    return float(value.amount) if value is not None else float("nan")


# --- Product groups ---------------------------------------------------------------------------


def groups_key(tables: Sequence[Table]) -> str:
    """Changes whenever a bar, a title or a source drawn changes."""
    digest = hashlib.sha256(b"groups")
    for table in tables:
        digest.update(f"{table.series}|{table.flow}|{table.period}|{table.as_of}".encode())
        for group in table.groups:
            row = group.row
            digest.update(f"{row.product_group}={row.value}|{group.source.publisher};".encode())
    return digest.hexdigest()[:16]


def render_groups_png(tables: Sequence[Table], label: ChartLabel) -> bytes:
    """The product-group chart as PNG bytes (see `draw_groups`)."""
    buffer = io.BytesIO()
    draw_groups(tables, label).savefig(buffer, format="png")
    return buffer.getvalue()


def draw_groups(tables: Sequence[Table], label: ChartLabel) -> Figure:
    """One panel of horizontal bars per table (a flow in a period), largest at the top, each
    bar labelled with its value; `label(name, *args)` gives the texts (the `chart.j2`
    macros). Each panel names its period, series, sources and date on the image itself."""
    import matplotlib  # lazy: see the module docstring

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    drawn = [(table, [g for g in table.groups if g.row.value is not None]) for table in tables]
    rows = sum(max(len(groups), 1) for _, groups in drawn)
    figure = Figure(figsize=(8, 1.4 * len(drawn) + 0.45 * rows), dpi=110, layout="constrained")
    axes = figure.subplots(len(drawn), 1, squeeze=False)[:, 0]
    for axis, (table, groups) in zip(axes, drawn, strict=True):
        names = [textwrap.shorten(g.name, 40, placeholder="…") for g in reversed(groups)]
        values = [float(g.row.value or 0) for g in reversed(groups)]
        bars = axis.barh(names, values, color=_COLOURS[table.flow], height=0.6)
        for bar, group in zip(bars, reversed(groups), strict=True):
            axis.annotate(
                f"{(group.row.value or Decimal(0)).normalize():f}",
                (bar.get_width(), bar.get_y() + bar.get_height() / 2),
                textcoords="offset points",
                xytext=(4, 0),
                va="center",
                fontsize=8,
            )
        axis.set_title(label("groups_title", table), fontsize=10, loc="left")
        footer = textwrap.wrap(label("groups_sources", table), 150)
        axis.set_xlabel("\n".join((label("unit"), *footer)), fontsize=7, loc="left")
        axis.margins(x=0.15)
        axis.grid(axis="x", alpha=0.3)
    return figure
