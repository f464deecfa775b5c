"""Trade figures as readers see them: reported values, derived values, growth and flags.

Only reported values are stored. Exports, imports, total and deficit are tied by
total = imports + exports and deficit = imports - exports, so any two give the other two.
A reported value that disagrees with what its parts give by more than 0.5% is flagged, as is
another source's report of the same quantity, and a reported growth rate of a year that
disagrees with the previous year of the same series by more than half a percentage point.

Whole years, years so far and months are read apart (`Granularity`), each compared only with
its own kind: a year with the year before it, a month or a year so far with the same months a
year earlier. Rounded monthly figures would flag sound rates, so only years' rates are checked.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from sqlmodel import Session, col, select

from bot.models import FigureReport, Source, TradeFigure
from bot.partial_date import PartialDate
from bot.trade_periods import Period, year_earlier, year_label, year_of
from bot.vocabulary import Granularity, Quantity, Series

RELATIVE_TOLERANCE = Decimal("0.005")  # 0.5 %
GROWTH_TOLERANCE_POINTS = Decimal("0.5")
_HUNDRED = Decimal(100)

# The pair of reported quantities the others are computed from, most direct first.
_PAIRS: tuple[tuple[Quantity, Quantity], ...] = (
    (Quantity.EXPORTS, Quantity.IMPORTS),
    (Quantity.EXPORTS, Quantity.DEFICIT),
    (Quantity.IMPORTS, Quantity.DEFICIT),
    (Quantity.EXPORTS, Quantity.TOTAL),
    (Quantity.IMPORTS, Quantity.TOTAL),
    (Quantity.TOTAL, Quantity.DEFICIT),
)


class FlagKind(StrEnum):
    PARTS = "parts"  # a reported value disagrees with the other reported values of its period
    REPORT = "report"  # another source reports a different value
    GROWTH = "growth"  # a reported growth rate disagrees with the previous period's figure


@dataclass(frozen=True, slots=True)
class Value:
    amount: Decimal
    derived: bool


@dataclass(frozen=True, slots=True)
class Flag:
    kind: FlagKind
    quantity: Quantity
    reported: Decimal
    expected: Decimal
    reported_by: str  # the publisher of the source that reported it
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Growth:
    """Change in per cent: as reported (against the same months a year earlier, which for a
    year is the year before), or computed by the bot against `FigureView.base`."""

    computed: Decimal | None
    reported: Decimal | None


@dataclass(frozen=True, slots=True)
class FigureView:
    figure: TradeFigure
    source: Source
    values: dict[Quantity, Value]
    growth: dict[Quantity, Growth]
    flags: tuple[Flag, ...]
    # The period computed growth is against: the year before a year, the same months a year
    # earlier for a month or a year so far; None when the series does not hold it.
    base: TradeFigure | None = None

    def value(self, quantity: Quantity) -> Value | None:
        return self.values.get(quantity)

    @property
    def months(self) -> tuple[PartialDate, PartialDate]:
        """The first and last month the figure covers, for wording its period."""
        return _month(self.figure.period_start), _month(self.figure.period_end)

    @property
    def year_label(self) -> str:
        """The label of the year the figure's period belongs to ('FY2025-26')."""
        figure = self.figure
        return year_label(figure.series, year_of(figure.series, figure.period_start))

    @property
    def year_earlier(self) -> tuple[PartialDate, PartialDate]:
        """The same months a year earlier: what a reported growth rate is against."""
        figure = self.figure
        earlier = year_earlier(Period(figure.granularity, figure.period_start, figure.period_end))
        return _month(earlier.start), _month(earlier.end)

    @property
    def has_derived(self) -> bool:
        """Whether a value or a growth rate shown with the figure is the bot's own."""
        return any(value.derived for value in self.values.values()) or any(
            rate.reported is None and rate.computed is not None for rate in self.growth.values()
        )


def _month(day: date) -> PartialDate:
    return PartialDate(day.year, day.month)


def reported_values(figure: TradeFigure) -> dict[Quantity, Decimal]:
    reported = {
        Quantity.EXPORTS: figure.exports,
        Quantity.IMPORTS: figure.imports,
        Quantity.TOTAL: figure.total,
        Quantity.DEFICIT: figure.deficit,
    }
    return {quantity: amount for quantity, amount in reported.items() if amount is not None}


def basis(reported: dict[Quantity, Decimal]) -> tuple[Quantity, Quantity] | None:
    """The most direct pair of reported quantities, which `complete` computes the rest from."""
    return next(
        ((first, second) for first, second in _PAIRS if first in reported and second in reported),
        None,
    )


def complete(reported: dict[Quantity, Decimal]) -> dict[Quantity, Decimal]:
    """All four quantities computed from the most direct reported pair (or as reported)."""
    pair = basis(reported)
    if pair is None:
        return dict(reported)
    first, second = pair
    exports, imports = _exports_imports(first, reported[first], second, reported[second])
    return {
        Quantity.EXPORTS: exports,
        Quantity.IMPORTS: imports,
        Quantity.TOTAL: imports + exports,
        Quantity.DEFICIT: imports - exports,
    }


def _exports_imports(
    first: Quantity, a: Decimal, second: Quantity, b: Decimal
) -> tuple[Decimal, Decimal]:
    match first, second:
        case Quantity.EXPORTS, Quantity.IMPORTS:
            return a, b
        case Quantity.EXPORTS, Quantity.DEFICIT:
            return a, a + b
        case Quantity.IMPORTS, Quantity.DEFICIT:
            return a - b, a
        case Quantity.EXPORTS, Quantity.TOTAL:
            return a, b - a
        case Quantity.IMPORTS, Quantity.TOTAL:
            return b - a, a
        case Quantity.TOTAL, Quantity.DEFICIT:
            return (a - b) / 2, (a + b) / 2
    raise ValueError(f"no rule for {first} and {second}")


def inconsistent(reported: dict[Quantity, Decimal]) -> list[tuple[Quantity, Decimal]]:
    """The reported values that disagree with what the other reported values give.

    One wrong value skews every check it takes part in, most visibly the smallest quantity,
    so the value that deviates most is blamed first and the rest are checked again without it.
    """
    remaining = dict(reported)
    blamed: list[tuple[Quantity, Decimal]] = []
    while len(remaining) >= 3:
        deviations = []
        for quantity, amount in remaining.items():
            others = {q: a for q, a in remaining.items() if q != quantity}
            expected = complete(others).get(quantity)
            if expected is not None and disagrees(amount, expected):
                gap = abs(amount - expected)
                deviation = gap / abs(expected) if expected else Decimal("Infinity")
                deviations.append((deviation, quantity, expected))
        if not deviations:
            break
        _, worst, worst_expected = max(deviations)
        blamed.append((worst, worst_expected))
        del remaining[worst]
    return blamed


def disagrees(reported: Decimal, expected: Decimal) -> bool:
    if expected == 0:
        return reported != 0
    return abs(reported - expected) / abs(expected) > RELATIVE_TOLERANCE


def growth_pct(current: Decimal, previous: Decimal) -> Decimal | None:
    if previous == 0:
        return None
    return (current - previous) / previous * _HUNDRED


def build_view(
    figure: TradeFigure,
    source: Source,
    reports: Sequence[tuple[FigureReport, Source]] = (),
    previous: TradeFigure | None = None,
) -> FigureView:
    """The figure as readers see it; `previous` is the period growth is computed against."""
    reported = reported_values(figure)
    computed = complete(reported)
    # Readers see what the source reported; only the missing quantities are derived.
    values = {
        q: Value(reported.get(q, amount), q not in reported) for q, amount in computed.items()
    }
    flags = [
        Flag(FlagKind.PARTS, quantity, reported[quantity], expected, source.publisher)
        for quantity, expected in inconsistent(reported)
    ]

    for report, report_source in reports:
        resolved = values.get(report.quantity)
        if resolved is not None and disagrees(report.value, resolved.amount):
            flags.append(
                Flag(
                    FlagKind.REPORT,
                    report.quantity,
                    report.value,
                    resolved.amount,
                    report_source.publisher,
                    report.note,
                )
            )

    growth = _growth(figure, computed, previous)
    for quantity, rate in growth.items():
        if (
            figure.granularity is Granularity.YEAR
            and rate.computed is not None
            and rate.reported is not None
            and abs(rate.computed - rate.reported) > GROWTH_TOLERANCE_POINTS
        ):
            flags.append(
                Flag(FlagKind.GROWTH, quantity, rate.reported, rate.computed, source.publisher)
            )
    return FigureView(figure, source, values, growth, tuple(flags), previous)


def _growth(
    figure: TradeFigure, computed: dict[Quantity, Decimal], previous: TradeFigure | None
) -> dict[Quantity, Growth]:
    reported_rates = {
        Quantity.EXPORTS: figure.exports_growth_pct,
        Quantity.IMPORTS: figure.imports_growth_pct,
        Quantity.TOTAL: figure.total_growth_pct,
    }
    # The caller passes only a comparable period (see `views_by_series`).
    before = complete(reported_values(previous)) if previous is not None else {}
    result: dict[Quantity, Growth] = {}
    for quantity in (Quantity.EXPORTS, Quantity.IMPORTS, Quantity.TOTAL, Quantity.DEFICIT):
        rate = None
        if quantity in computed and quantity in before:
            rate = growth_pct(computed[quantity], before[quantity])
        reported_rate = reported_rates.get(quantity)
        if rate is not None or reported_rate is not None:
            result[quantity] = Growth(rate, reported_rate)
    return result


def _is_consecutive(previous: TradeFigure, current: TradeFigure) -> bool:
    return (current.period_start - previous.period_end).days == 1


def series_views(
    session: Session, series: Series, granularity: Granularity = Granularity.YEAR
) -> list[FigureView]:
    """Every period of one series and granularity, oldest first, with growth against the
    comparable period before it."""
    return views_by_series(session, (series,), granularity)[series]


def views_by_series(
    session: Session, wanted: Iterable[Series], granularity: Granularity = Granularity.YEAR
) -> dict[Series, list[FigureView]]:
    """`series_views` of several series, read in one pass (two queries, whatever the count).

    Years are ordered by their start; years so far and months by their end, then their start.
    """
    views: dict[Series, list[FigureView]] = {series: [] for series in wanted}
    rows = session.exec(
        select(TradeFigure, Source)
        .join(Source, col(Source.id) == TradeFigure.source_id)
        .where(
            col(TradeFigure.series).in_(list(views)),
            col(TradeFigure.granularity) == granularity,
        )
        .order_by(
            col(TradeFigure.series), col(TradeFigure.period_end), col(TradeFigure.period_start)
        )
    ).all()
    figure_ids = [figure.id for figure, _ in rows]
    report_rows = session.exec(
        select(FigureReport, Source)
        .join(Source, col(Source.id) == FigureReport.source_id)
        .where(col(FigureReport.trade_figure_id).in_(figure_ids))
        .order_by(col(FigureReport.id))
    ).all()
    reports: dict[int, list[tuple[FigureReport, Source]]] = {}
    for report, report_source in report_rows:
        reports.setdefault(report.trade_figure_id, []).append((report, report_source))

    by_months = {(f.series, f.period_start, f.period_end): f for f, _ in rows}
    previous: TradeFigure | None = None
    for figure, source in rows:
        assert figure.id is not None
        if previous is not None and previous.series != figure.series:
            previous = None
        if granularity is Granularity.YEAR:
            before = (
                previous if previous is not None and _is_consecutive(previous, figure) else None
            )
        else:
            earlier = year_earlier(Period(granularity, figure.period_start, figure.period_end))
            before = by_months.get((figure.series, earlier.start, earlier.end))
        views[figure.series].append(build_view(figure, source, reports.get(figure.id, ()), before))
        previous = figure
    return views


def all_flags(session: Session) -> list[tuple[FigureView, Flag]]:
    return [
        (view, flag)
        for series in Series
        for granularity in Granularity
        for view in series_views(session, series, granularity)
        for flag in view.flags
    ]
