"""Questions about trade figures: which periods, which series, changes, extremes, trends.

Works on `FigureView`s from `bot.services.trade`; never mixes the two series in one
comparison, and never compares a partial period with a full one. Years, years so far and
months are loaded apart (`Granularity`): a question about one is never answered with another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from bot.services.trade import growth_pct, series_views, views_by_series
from bot.trade_periods import year_start
from bot.vocabulary import Granularity, Quantity, Series

if TYPE_CHECKING:
    from collections.abc import Iterable
    from decimal import Decimal

    from sqlmodel import Session

    from bot.services.trade import FigureView


@dataclass(frozen=True, slots=True)
class SeriesFigures:
    """One series' figures for a question: what was found, what was asked but is missing."""

    series: Series
    views: tuple[FigureView, ...]
    missing: tuple[str, ...] = ()  # period labels (bot.trade_periods)
    first: str | None = None  # the span the series covers, for "no data for ..." answers
    last: str | None = None
    # The year (its label) asked "so far" of which nothing is held yet.
    not_yet: str | None = None
    # The latest part of a year, shown apart: after the latest whole year, or for a year
    # asked whose whole-year figure is not held.
    part: FigureView | None = None


@dataclass(frozen=True, slots=True)
class Change:
    series: Series
    quantity: Quantity
    before: FigureView
    after: FigureView
    before_value: Decimal
    after_value: Decimal
    delta: Decimal
    pct: Decimal | None


@dataclass(frozen=True, slots=True)
class Extreme:
    series: Series
    quantity: Quantity
    kind: Literal["max", "min"]
    view: FigureView
    value: Decimal
    compared: int  # how many full periods were compared


def fiscal_label(start_year: int) -> str:
    return f"FY{start_year}-{(start_year + 1) % 100:02d}"


def load_series(
    session: Session, series: Series, granularity: Granularity = Granularity.YEAR
) -> tuple[FigureView, ...]:
    return tuple(series_views(session, series, granularity))


def load_all_series(
    session: Session, wanted: Iterable[Series], granularity: Granularity = Granularity.YEAR
) -> dict[Series, tuple[FigureView, ...]]:
    found = views_by_series(session, wanted, granularity)
    return {series: tuple(views) for series, views in found.items()}


def month(views: tuple[FigureView, ...], year: int | None, number: int) -> FigureView | None:
    """The month asked (of `year`, or the latest such month held)."""
    for view in reversed(views):
        start = view.figure.period_start
        if start.month == number and (year is None or start.year == year):
            return view
    return None


def months_run(
    views: tuple[FigureView, ...], year: int | None, first: int, last: int
) -> FigureView | None:
    """The year so far from month `first` (of `year`, or the latest) to month `last`."""
    for view in reversed(views):
        start, end = view.figure.period_start, view.figure.period_end
        if (start.month, end.month) == (first, last) and (year is None or start.year == year):
            return view
    return None


def latest_part(
    views: tuple[FigureView, ...], series: Series, first_year: int | None = None
) -> FigureView | None:
    """The latest year so far held (of the year starting in `first_year`, if given)."""
    for view in reversed(views):
        if first_year is None or view.figure.period_start == year_start(series, first_year):
            return view
    return None


def pick(views: tuple[FigureView, ...], series: Series, labels: list[str]) -> SeriesFigures:
    by_period = {view.figure.period: view for view in views}
    found = tuple(by_period[label] for label in labels if label in by_period)
    missing = tuple(label for label in labels if label not in by_period)
    return SeriesFigures(
        series,
        found,
        missing,
        views[0].figure.period if views else None,
        views[-1].figure.period if views else None,
    )


def latest_with(
    views: tuple[FigureView, ...], quantity: Quantity, *, full_only: bool = False
) -> FigureView | None:
    """The most recent period that has `quantity` (reported or derived)."""
    for view in reversed(views):
        if quantity in view.values and not (full_only and view.figure.partial):
            return view
    return None


def change(
    series: Series, quantity: Quantity, before: FigureView, after: FigureView
) -> Change | None:
    if quantity not in before.values or quantity not in after.values:
        return None
    first, second = before.values[quantity].amount, after.values[quantity].amount
    return Change(
        series, quantity, before, after, first, second, second - first, growth_pct(second, first)
    )


def extreme(
    series: Series, views: tuple[FigureView, ...], quantity: Quantity, kind: Literal["max", "min"]
) -> Extreme | None:
    candidates = [v for v in views if quantity in v.values and not v.figure.partial]
    if not candidates:
        return None
    chooser = max if kind == "max" else min
    best = chooser(candidates, key=lambda v: v.values[quantity].amount)
    return Extreme(series, quantity, kind, best, best.values[quantity].amount, len(candidates))


def since(views: tuple[FigureView, ...], year: int | None) -> tuple[FigureView, ...]:
    if year is None:
        return views
    return tuple(v for v in views if v.figure.period_end.year >= year)


def latest_change(
    series: Series, views: tuple[FigureView, ...], quantity: Quantity
) -> Change | None:
    """The change between the two most recent full periods that have `quantity`."""
    full = [v for v in views if quantity in v.values and not v.figure.partial]
    if len(full) < 2:
        return None
    return change(series, quantity, full[-2], full[-1])


def neighbours(
    views: tuple[FigureView, ...], view: FigureView
) -> tuple[FigureView | None, FigureView | None]:
    """The periods just before and after `view` in its series."""
    index = next(i for i, candidate in enumerate(views) if candidate is view)
    return (
        views[index - 1] if index > 0 else None,
        views[index + 1] if index + 1 < len(views) else None,
    )
