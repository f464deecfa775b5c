"""A figure found by its value, with its own source: "source for the 116 bn figure".

A value asked is matched against every value the two series hold: the values a figure's source
reports, the values other sources report for the same quantity (`FigureReport`), and, only when
neither matches, the values the bot derives. It matches as readers write figures: exactly, or
rounded to the decimals written ("116" and "116.1" are both 116.12). Exact matches, where there
are any, hide rounded ones.

Two figures set against each other ("which is right, 99.2 or 116.12?") are shown side by side
with the months their periods share: India's fiscal year and China's calendar year are
different periods counted by different publishers, so they are not expected to match.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from sqlmodel import col, select

from bot.models import FigureReport, Source, TradeFigure
from bot.partial_date import PartialDate
from bot.services import figures
from bot.services.trade import reported_values
from bot.vocabulary import Granularity, Quantity, Series

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlmodel import Session

    from bot.services.trade import FigureView

_BOTH = (Series.INDIA_FY, Series.CHINA_CY)
_QUANTITIES = (Quantity.DEFICIT, Quantity.IMPORTS, Quantity.EXPORTS, Quantity.TOTAL)


@dataclass(frozen=True, slots=True)
class FigureMatch:
    """One value of one period, and the source that gives it."""

    view: FigureView
    quantity: Quantity
    amount: Decimal
    source: Source
    derived: bool = False  # computed by the bot from the values the figure's source reports
    report: FigureReport | None = None  # another source's report of the quantity

    @property
    def series(self) -> Series:
        return self.view.figure.series

    @property
    def recorded(self) -> Decimal | None:
        """The record's own value of the quantity, where a report gives another."""
        own = self.view.values.get(self.quantity)
        if self.report is None or own is None or own.amount == self.amount:
            return None
        return own.amount


@dataclass(frozen=True, slots=True)
class SideBySide:
    """An India fiscal-year figure and a Chinese calendar-year one, and the months both
    periods cover (None: none)."""

    india: FigureMatch
    china: FigureMatch
    shared: tuple[PartialDate, PartialDate] | None


def load(session: Session) -> dict[Series, tuple[FigureView, ...]]:
    """Every figure of both series: whole years first, then years so far and months."""
    found = {
        series: list(views) for series, views in figures.load_all_series(session, _BOTH).items()
    }
    for granularity in (Granularity.CUMULATIVE, Granularity.MONTH):
        for series, views in figures.load_all_series(session, _BOTH, granularity).items():
            found[series].extend(views)
    return {series: tuple(views) for series, views in found.items()}


def find(
    session: Session, views: dict[Series, tuple[FigureView, ...]], asked: Decimal
) -> tuple[FigureMatch, ...]:
    """The values that `asked` stands for, reported ones first; () when none."""
    reported = [*_reported(views), *_reports(session, views)]
    found = _matching(reported, asked)
    return found or _matching(_derived(views), asked)


def latest(views: dict[Series, tuple[FigureView, ...]], quantity: Quantity) -> list[FigureMatch]:
    """Each series' latest full period with `quantity`, as the figure to set against the
    other series'."""
    found: list[FigureMatch] = []
    for series in _BOTH:
        view = figures.latest_with(views.get(series, ()), quantity, full_only=True)
        value = view.values[quantity] if view is not None else None
        if view is not None and value is not None:
            found.append(FigureMatch(view, quantity, value.amount, view.source, value.derived))
    return found


def side_by_side(matches: Iterable[FigureMatch]) -> SideBySide | None:
    """The first India figure and the first Chinese one among `matches`, if both are there."""
    by_series: dict[Series, FigureMatch] = {}
    for match in matches:
        by_series.setdefault(match.series, match)
    india, china = by_series.get(Series.INDIA_FY), by_series.get(Series.CHINA_CY)
    if india is None or china is None:
        return None
    first, second = india.view.figure, china.view.figure
    start = max(first.period_start, second.period_start)
    end = min(first.period_end, second.period_end)
    return SideBySide(india, china, (_month(start), _month(end)) if start <= end else None)


def _month(day: date) -> PartialDate:
    return PartialDate(day.year, day.month)


def _matching(candidates: list[FigureMatch], asked: Decimal) -> tuple[FigureMatch, ...]:
    exact = [match for match in candidates if match.amount == asked]
    if exact:
        return tuple(exact)
    places = Decimal(1).scaleb(min(asked.as_tuple().exponent, 0))  # type: ignore[arg-type]
    return tuple(
        match
        for match in candidates
        if match.amount.quantize(places, rounding=ROUND_HALF_UP) == asked
    )


def _reported(views: dict[Series, tuple[FigureView, ...]]) -> list[FigureMatch]:
    found: list[FigureMatch] = []
    for series in _BOTH:
        for view in views.get(series, ()):
            values = reported_values(view.figure)
            found.extend(
                FigureMatch(view, quantity, values[quantity], view.source)
                for quantity in _QUANTITIES
                if quantity in values
            )
    return found


def _reports(session: Session, views: dict[Series, tuple[FigureView, ...]]) -> list[FigureMatch]:
    by_figure = {view.figure.id: view for series in _BOTH for view in views.get(series, ())}
    rows = session.exec(
        select(FigureReport, Source)
        .join(Source, col(Source.id) == FigureReport.source_id)
        .join(TradeFigure, col(TradeFigure.id) == FigureReport.trade_figure_id)
        .order_by(col(FigureReport.id))
    ).all()
    return [
        FigureMatch(
            by_figure[report.trade_figure_id], report.quantity, report.value, source, report=report
        )
        for report, source in rows
        if report.trade_figure_id in by_figure
    ]


def _derived(views: dict[Series, tuple[FigureView, ...]]) -> list[FigureMatch]:
    return [
        FigureMatch(view, quantity, value.amount, view.source, derived=True)
        for series in _BOTH
        for view in views.get(series, ())
        for quantity in _QUANTITIES
        if (value := view.values.get(quantity)) is not None and value.derived
    ]
