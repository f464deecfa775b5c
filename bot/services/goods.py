"""Answers about what India buys from and sells to China, and why the deficit is so big.

A question about goods ("top imports", "what does India sell to China", "which exports are
growing") gets, for each flow it asks, the product groups of one period (`composition.Table`):
the latest held, or the latest within the year it names, of the series it names. When the
series or year asked holds none, the answer says so before showing what is held. "Why is the
deficit so big" gets the latest whole-year deficit of each series, the notes on what drives
it (context notes with the subject "drivers") and the largest groups of both flows.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, ClassVar

from bot.services import composition, figures, records
from bot.services.composition import FLOWS, Table
from bot.services.questions import PeriodKind
from bot.trade_periods import read_period, year_label
from bot.vocabulary import Quantity, Series

if TYPE_CHECKING:
    from datetime import date

    from sqlmodel import Session

    from bot.models import ContextNote, Source
    from bot.services.questions import PeriodRef, Question
    from bot.services.trade import FigureView

DRIVERS_SUBJECT = "drivers"  # the context notes on what drives the deficit
CAUSES_GROUPS = 3  # the largest groups of each flow shown beside the drivers


@dataclass(frozen=True, slots=True)
class FlowGoods:
    """One flow's groups as a question gets them, and what the answer says about the choice."""

    flow: Quantity
    table: Table | None
    others: tuple[Table, ...] = ()  # the other periods held for the flow
    # The series asked holds no groups of this flow: `table` is the other series'.
    series_missing: Series | None = None
    # The year asked (its label) holds none: `table` is the latest held, and `totals` the
    # flow's whole-year figures for the year asked, where held.
    period_missing: str | None = None
    by_growth: bool = False
    totals: tuple[FigureView, ...] = ()


@dataclass(frozen=True, slots=True)
class CompositionAnswer:
    template: ClassVar[str] = "answers/composition.html.j2"
    flows: tuple[FlowGoods, ...]

    @property
    def has_derived(self) -> bool:
        return any(f.table is not None and f.table.has_derived for f in self.flows)


@dataclass(frozen=True, slots=True)
class CausesAnswer:
    template: ClassVar[str] = "answers/causes.html.j2"
    deficits: tuple[FigureView, ...]  # each series' latest whole-year deficit
    drivers: tuple[tuple[ContextNote, Source], ...]
    goods: CompositionAnswer
    top: int = CAUSES_GROUPS

    @property
    def has_derived(self) -> bool:
        return self.goods.has_derived or any(
            view.values[Quantity.DEFICIT].derived for view in self.deficits
        )


def composition_answer(session: Session, question: Question) -> CompositionAnswer:
    held = composition.tables(session)
    flows = (question.quantity,) if question.quantity in FLOWS else FLOWS
    shown = []
    for flow in flows:
        if flow is None:
            continue
        found = _flow_goods(
            held, flow, question.series, question.periods, by_growth=question.by_growth
        )
        if found.period_missing is not None:
            found = replace(found, totals=_year_totals(session, found.period_missing, flow))
        shown.append(found)
    return CompositionAnswer(tuple(shown))


def _year_totals(session: Session, label: str, flow: Quantity) -> tuple[FigureView, ...]:
    """The flow's figure for the whole year asked, in the series whose year it is."""
    series = Series.INDIA_FY if label.startswith("FY") else Series.CHINA_CY
    views = figures.load_series(session, series)
    return tuple(v for v in views if v.figure.period == label and flow in v.values)


def causes_answer(session: Session, question: Question) -> CausesAnswer:
    deficits = []
    for series in (question.series,) if question.series else tuple(Series):
        views = figures.load_series(session, series)
        latest = figures.latest_with(views, Quantity.DEFICIT)
        if latest is not None:
            deficits.append(latest)
    held = composition.tables(session)
    shown = tuple(_flow_goods(held, flow, None, ()) for flow in FLOWS)
    drivers = records.context_notes(session, subject=DRIVERS_SUBJECT)
    drivers.sort(key=lambda pair: pair[0].as_of, reverse=True)
    return CausesAnswer(tuple(deficits), tuple(drivers), CompositionAnswer(shown))


def _flow_goods(
    held: list[Table],
    flow: Quantity,
    series: Series | None,
    refs: tuple[PeriodRef, ...],
    *,
    by_growth: bool = False,
) -> FlowGoods:
    candidates = [table for table in held if table.flow is flow]
    series_missing = None
    if series is not None:
        own = [table for table in candidates if table.series is series]
        series_missing = None if own else series
        candidates = own or candidates
    period_missing = None
    year = _year_asked(refs)
    if year is not None:
        label, start, end = year
        within = [t for t in candidates if start <= t.start and t.end <= end]
        period_missing = None if within else label
        candidates = within or candidates
    if by_growth:
        growing = [t for t in candidates if t.by_growth().groups]
        candidates = growing or candidates
    if not candidates:
        return FlowGoods(flow, None, by_growth=by_growth)
    table = candidates[0].by_growth() if by_growth else candidates[0]
    others = tuple(t for t in held if t.flow is flow and t is not candidates[0])
    return FlowGoods(flow, table, others, series_missing, period_missing, by_growth)


def _year_asked(refs: tuple[PeriodRef, ...]) -> tuple[str, date, date] | None:
    """The first whole year a question names, as (label, first day, last day)."""
    for ref in refs:
        if ref.year is None or ref.kind not in (PeriodKind.FISCAL, PeriodKind.CALENDAR):
            continue
        series = Series.INDIA_FY if ref.kind is PeriodKind.FISCAL else Series.CHINA_CY
        label = year_label(series, ref.year)
        period = read_period(series, label)
        return label, period.start, period.end
    return None
