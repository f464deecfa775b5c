"""Months, runs of months and the year so far, as a question asks them of one series.

Each is answered from figures of its own kind only (`Granularity`): a month from a month's
figure, "April to January" from the year so far that ends in January, "so far this year" from
the year so far of the year that holds today. What is not held is said, never stood in for by
a whole year; the latest part of a year held may be shown beside it, named as partial.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.services import figures
from bot.services.questions import PeriodKind, PeriodRef
from bot.trade_periods import year_label, year_of
from bot.vocabulary import Granularity, Series

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import date

    from sqlmodel import Session

    from bot.services.trade import FigureView

PART_KINDS = (PeriodKind.MONTH, PeriodKind.MONTHS, PeriodKind.SO_FAR)


@dataclass(frozen=True, slots=True)
class Parts:
    """A series' months and years so far, oldest first."""

    months: dict[Series, tuple[FigureView, ...]] = field(default_factory=dict)
    so_far: dict[Series, tuple[FigureView, ...]] = field(default_factory=dict)


@dataclass(slots=True)
class Picked:
    """What the part-year periods of a question found in one series."""

    views: list[FigureView] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # period labels not held
    not_yet: str | None = None  # the year asked "so far" of which nothing is held
    part: FigureView | None = None  # the latest year so far, shown apart
    span: tuple[FigureView, ...] = ()  # the views a missing period was looked for in

    @property
    def anything(self) -> bool:
        return bool(self.views or self.missing or self.not_yet or self.part)


def load(session: Session, wanted: Iterable[Series], refs: Iterable[PeriodRef]) -> Parts:
    """The months (only when a month is asked) and years so far of the series wanted."""
    wanted = tuple(wanted)
    asked_months = any(ref.kind is PeriodKind.MONTH for ref in refs)
    months = figures.load_all_series(session, wanted, Granularity.MONTH) if asked_months else {}
    so_far = figures.load_all_series(session, wanted, Granularity.CUMULATIVE)
    return Parts(months, so_far)


def pick(
    series: Series, refs: Iterable[PeriodRef], parts: Parts, today: date, *, named: bool
) -> Picked:
    """The figures the part-year periods among `refs` ask of `series`. A series that holds no
    figure of the kind asked is left out unless the question named it (`named`)."""
    picked = Picked()
    for ref in refs:
        if ref.kind is PeriodKind.MONTH:
            _month(series, ref, parts.months.get(series, ()), picked, named=named)
        elif ref.kind is PeriodKind.MONTHS:
            _run(series, ref, parts.so_far.get(series, ()), picked, named=named)
        elif ref.kind is PeriodKind.SO_FAR:
            _so_far(series, parts.so_far.get(series, ()), today, picked, named=named)
    return picked


def _month(
    series: Series,
    ref: PeriodRef,
    views: tuple[FigureView, ...],
    picked: Picked,
    *,
    named: bool,
) -> None:
    assert ref.month is not None
    if not views and not named:
        return
    found = figures.month(views, ref.year, ref.month)
    if found is not None:
        picked.views.append(found)
    elif ref.year is not None:
        picked.missing.append(f"{ref.year:04d}-{ref.month:02d}")
        picked.span = views


def _run(
    series: Series,
    ref: PeriodRef,
    views: tuple[FigureView, ...],
    picked: Picked,
    *,
    named: bool,
) -> None:
    assert ref.month is not None
    assert ref.end_month is not None
    if not views and not named:
        return
    found = figures.months_run(views, ref.year, ref.month, ref.end_month)
    if found is not None:
        picked.views.append(found)
        return
    if ref.year is not None:
        last_year = ref.year + (1 if ref.end_month < ref.month else 0)
        picked.missing.append(f"{ref.year:04d}-{ref.month:02d}/{last_year:04d}-{ref.end_month:02d}")
        picked.span = views
    picked.part = figures.latest_part(views, series)


def _so_far(
    series: Series, views: tuple[FigureView, ...], today: date, picked: Picked, *, named: bool
) -> None:
    if not views and not named:
        return
    current = year_of(series, today)
    found = figures.latest_part(views, series, current)
    if found is not None:
        picked.views.append(found)
        return
    picked.not_yet = year_label(series, current)
    picked.part = figures.latest_part(views, series)
