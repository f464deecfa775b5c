"""Charts as a reader sees them: gaps shown as gaps, sources and dates on the image itself,
derived values marked, the latest value labelled, different scales said."""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import Engine

from bot import db
from bot.rendering import Renderer
from bot.services import charts, figures
from bot.vocabulary import Series


def _chart(engine: Engine, kind: charts.ChartKind) -> Any:
    renderer = Renderer()
    with db.session_scope(engine) as session:
        india = figures.load_series(session, Series.INDIA_FY)
        china = figures.load_series(session, Series.CHINA_CY)
    panels = (
        (renderer.label("chart.india_title"), india),
        (renderer.label("chart.china_title"), china),
    )
    return charts.draw(kind, panels, lambda name, *args: renderer.label(f"chart.{name}", *args))


def _ticks(axis: Any) -> list[str]:
    return [tick.get_text() for tick in axis.get_xticklabels()]


def _line(axis: Any) -> list[float]:
    """The y values of the panel's line (the first Line2D with more than one point)."""
    (line,) = [line for line in axis.get_lines() if len(line.get_ydata()) > 1]
    return [float(y) for y in line.get_ydata()]


def test_a_missing_year_is_a_visible_gap_and_the_line_does_not_cross_it(
    seeded_engine: Engine,
) -> None:
    figure = _chart(seeded_engine, "trade")
    china = figure.axes[1]
    ticks = _ticks(china)
    # No 2024 calendar-year figure was published: the axis says so instead of closing up.
    assert ticks == ["2019", "2020", "2021", "2022", "2023", "2024\nno data", "2025"]
    totals = _line(china)
    gap = ticks.index("2024\nno data")
    assert math.isnan(totals[gap])  # matplotlib breaks the line at NaN
    assert not math.isnan(totals[gap - 1])
    assert not math.isnan(totals[gap + 1])


def test_a_period_without_the_charted_figures_is_marked_too(seeded_engine: Engine) -> None:
    """2023 has only a total (no imports, exports or deficit): on the deficit chart it is a gap."""
    ticks = _ticks(_chart(seeded_engine, "deficit").axes[1])
    assert "2023\nno data" in ticks
    assert "2024\nno data" in ticks


def test_each_panel_carries_its_sources_and_as_of_date(seeded_engine: Engine) -> None:
    figure = _chart(seeded_engine, "deficit")
    india, china = (axis.get_xlabel().replace("\n", " ") for axis in figure.axes)
    assert india.startswith("Sources: ")
    assert "NDTV (PTI)" in india
    assert india.endswith("as of 17 Apr 2025")  # the April–December FY2025-26 is not charted
    assert "The Tribune (PTI)" in china
    assert china.endswith("as of 14 Jan 2026")


def test_latest_values_are_labelled_and_derived_values_and_scales_are_explained(
    seeded_engine: Engine,
) -> None:
    figure = _chart(seeded_engine, "deficit")
    labels = [[text.get_text() for text in axis.texts] for axis in figure.axes]
    assert labels == [["99.2"], ["116.12"]]
    note = figure.get_suptitle()
    assert "different vertical scales" in note
    # The deficits of FY2017-18, FY2019-20 and FY2022-23 are derived (imports − exports): hollow
    # points, which the note explains; every bar (imports, exports) is reported.
    assert "derived from the reported figures" in note
    india = figure.axes[0]
    assert [bar for bar in india.patches if bar.get_hatch()] == []
    hollow = [line for line in india.lines if line.get_markerfacecolor() == "white"]
    assert len(hollow) == 3


def test_the_png_is_a_png(seeded_engine: Engine) -> None:
    renderer = Renderer()
    with db.session_scope(seeded_engine) as session:
        china = figures.load_series(session, Series.CHINA_CY)
    png = charts.render_png(
        "trade", (("China", china),), lambda name, *args: renderer.label(f"chart.{name}", *args)
    )
    assert png.startswith(b"\x89PNG")
