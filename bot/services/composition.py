"""What India buys from and sells to China: product groups by period, with their sources.

A table is one series' groups of one flow (imports or exports) in one period, as one or more
pages reported them. Values, shares and growth rates are shown as reported; where a page
gives no share, the bot derives one from the trade figure of the same series and months
(`TradeFigure`, if held), and where it gives no growth rate, from the same group a year
earlier (if held). Derived values are marked as such (`Value.derived`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlmodel import col, select

from bot.models import Source, TradeComposition, TradeFigure
from bot.partial_date import PartialDate
from bot.services.trade import Value, complete, growth_pct, reported_values
from bot.trade_periods import Period, read_span, year_earlier
from bot.vocabulary import Granularity, Quantity, Series

if TYPE_CHECKING:
    from sqlmodel import Session

_HUNDRED = Decimal(100)
FLOWS = (Quantity.IMPORTS, Quantity.EXPORTS)


@dataclass(frozen=True, slots=True)
class Group:
    """One product group of a table: its reported figures and what the bot derives."""

    row: TradeComposition
    source: Source
    share: Value | None  # per cent of the flow in the period
    growth: Value | None  # per cent on the same months a year earlier

    @property
    def name(self) -> str:
        return self.row.product_group


@dataclass(frozen=True, slots=True)
class Table:
    series: Series
    flow: Quantity
    period: str
    start: date
    end: date
    groups: tuple[Group, ...]
    # The flow's whole value in these months, when a trade figure of the series holds it:
    # what derived shares are of.
    total: Value | None = None

    @property
    def granularity(self) -> Granularity:
        return read_span(self.period).granularity

    @property
    def months(self) -> tuple[PartialDate, PartialDate]:
        return PartialDate(self.start.year, self.start.month), PartialDate(
            self.end.year, self.end.month
        )

    @property
    def year_earlier(self) -> tuple[PartialDate, PartialDate]:
        """The same months a year earlier: what a group's growth rate is against."""
        first, last = self.months
        return PartialDate(first.year - 1, first.month), PartialDate(last.year - 1, last.month)

    @property
    def shares_derived(self) -> bool:
        return any(group.share is not None and group.share.derived for group in self.groups)

    @property
    def sources(self) -> tuple[Source, ...]:
        """Each source the groups cite, once, in the order the groups are shown."""
        return tuple({group.source.id: group.source for group in self.groups}.values())

    @property
    def as_of(self) -> PartialDate:
        return max(group.row.as_of for group in self.groups)

    @property
    def has_derived(self) -> bool:
        return any(
            value is not None and value.derived
            for group in self.groups
            for value in (group.share, group.growth)
        )

    def by_growth(self) -> Table:
        """The groups that grew, fastest first."""
        grown = [g for g in self.groups if g.growth is not None and g.growth.amount > 0]
        grown.sort(key=lambda g: g.growth.amount if g.growth else Decimal(0), reverse=True)
        return Table(
            self.series, self.flow, self.period, self.start, self.end, tuple(grown), self.total
        )


def tables(session: Session) -> list[Table]:
    """Every table held, the latest period first (of two ending together, the longer)."""
    rows = session.exec(
        select(TradeComposition, Source)
        .join(Source, col(Source.id) == TradeComposition.source_id)
        .order_by(col(TradeComposition.id))
    ).all()
    grouped: dict[tuple[Series, Quantity, str], list[tuple[TradeComposition, Source]]] = {}
    for row, source in rows:
        grouped.setdefault((row.series, row.flow, row.period), []).append((row, source))
    by_months = {
        (row.series, row.flow, row.product_group, row.period_start, row.period_end): row
        for row, _ in rows
    }
    totals = _flow_totals(session)
    found = []
    for (series, flow, period), members in grouped.items():
        start, end = members[0][0].period_start, members[0][0].period_end
        total = totals.get((series, start, end, flow))
        groups = [
            Group(row, source, _share(row, total), _growth(row, by_months))
            for row, source in members
        ]
        groups.sort(key=_size, reverse=True)
        found.append(Table(series, flow, period, start, end, tuple(groups), total))
    found.sort(key=lambda table: (table.end, -table.start.toordinal()), reverse=True)
    return found


def _size(group: Group) -> tuple[Decimal, Decimal]:
    """Largest first: by value, then by share; groups with neither reported come last."""
    row = group.row
    return (row.value or Decimal(-1), group.share.amount if group.share else Decimal(-1))


def _share(row: TradeComposition, total: Value | None) -> Value | None:
    if row.share_pct is not None:
        return Value(row.share_pct, derived=False)
    if row.value is None or total is None or total.amount <= 0:
        return None
    return Value(row.value / total.amount * _HUNDRED, derived=True)


def _growth(
    row: TradeComposition,
    by_months: dict[tuple[Series, Quantity, str, date, date], TradeComposition],
) -> Value | None:
    if row.growth_pct is not None:
        return Value(row.growth_pct, derived=False)
    earlier = year_earlier(Period(Granularity.MONTH, row.period_start, row.period_end))
    before = by_months.get((row.series, row.flow, row.product_group, earlier.start, earlier.end))
    if before is None or before.value is None or row.value is None:
        return None
    rate = growth_pct(row.value, before.value)
    return None if rate is None else Value(rate, derived=True)


def _flow_totals(session: Session) -> dict[tuple[Series, date, date, Quantity], Value]:
    """Imports and exports of every trade figure, reported or derived, by series and months."""
    totals: dict[tuple[Series, date, date, Quantity], Value] = {}
    for figure in session.exec(select(TradeFigure)).all():
        reported = reported_values(figure)
        for quantity, amount in complete(reported).items():
            if quantity in FLOWS:
                key = (figure.series, figure.period_start, figure.period_end, quantity)
                totals[key] = Value(amount, derived=quantity not in reported)
    return totals
