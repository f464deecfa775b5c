"""Charts of the two series as PNG: one panel per series, so they never share an axis.

matplotlib is imported only when a chart is drawn (it costs a noticeable share of start-up
time), and through its object API with the Agg backend: no pyplot global state, no display.
"""

from __future__ import annotations

import hashlib
import io
from typing import TYPE_CHECKING, Literal

from bot.vocabulary import Quantity

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from bot.services.trade import FigureView

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
            digest.update(view.figure.period.encode())
            for quantity, value in sorted(view.values.items()):
                digest.update(f"{quantity}={value.amount};".encode())
    return digest.hexdigest()[:16]


def render_png(
    kind: ChartKind,
    panels: Sequence[tuple[str, Sequence[FigureView]]],
    labels: Mapping[str, str],
) -> bytes:
    """Draw one panel per (title, views); `labels` holds the legend and axis texts."""
    import matplotlib  # lazy: see the module docstring

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 3.2 * len(panels)), dpi=110, layout="constrained")
    axes = figure.subplots(len(panels), 1, squeeze=False)[:, 0]
    for axis, (title, views) in zip(axes, panels, strict=True):
        shown = charted(views)
        periods = [view.figure.period for view in shown]
        positions = range(len(periods))
        width = 0.38
        for offset, quantity in zip((-width / 2, width / 2), _BARS[kind], strict=True):
            heights = [_amount(view, quantity) for view in shown]
            axis.bar(
                [p + offset for p in positions],
                heights,
                width,
                label=labels[quantity.value],
                color=_COLOURS[quantity],
            )
        line = _LINE[kind]
        axis.plot(
            list(positions),
            [_amount(view, line) for view in shown],
            marker="o",
            label=labels[line.value],
            color=_COLOURS[line],
        )
        axis.set_title(title, fontsize=11, loc="left")
        axis.set_xticks(list(positions), periods, rotation=45, ha="right", fontsize=8)
        axis.set_ylabel(labels["unit"])
        axis.grid(axis="y", alpha=0.3)
        axis.legend(fontsize=8, loc="upper left")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _amount(view: FigureView, quantity: Quantity) -> float:
    value = view.values.get(quantity)
    return float(value.amount) if value is not None else float("nan")
