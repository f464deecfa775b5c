"""The periods trade figures are stored for, and their labels.

A label says what a figure covers, so a month or a year so far never stands in for a year:

    FY2024-25          India's fiscal year, April 2024 to March 2025 (india_fy)
    2025               a calendar year (china_cy)
    2025-04/2026-01    the year so far: from the first month of a fiscal (April) or calendar
                       (January) year to a later month of the same year, both months whole
    2025-10            one calendar month, in either series

Labels are data, like ISO dates, and fit the 16 characters of `trade_figure.period`; readers
see them worded by the templates ("Apr 2025 – Jan 2026").
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from bot.vocabulary import Granularity, Series

_FISCAL = re.compile(r"FY(\d{4})-(\d{2})")
_CALENDAR = re.compile(r"\d{4}")
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_CUMULATIVE = re.compile(r"(\d{4})-(\d{2})/(\d{4})-(\d{2})")
FISCAL_FIRST_MONTH = 4  # India's fiscal year starts in April


@dataclass(frozen=True, slots=True)
class Period:
    """A stored period: how much of a year it covers, and its first and last day."""

    granularity: Granularity
    start: date
    end: date


def read_period(series: Series, label: str) -> Period:
    """The period a label names; `ValueError` saying the forms when it names none."""
    text = label.strip()
    if (found := _FISCAL.fullmatch(text)) is not None:
        first = int(found[1])
        if series is not Series.INDIA_FY or (first + 1) % 100 != int(found[2]):
            raise ValueError(_problem(series, label))
        return Period(Granularity.YEAR, date(first, 4, 1), date(first + 1, 3, 31))
    if _CALENDAR.fullmatch(text):
        if series is not Series.CHINA_CY:
            raise ValueError(_problem(series, label))
        return Period(Granularity.YEAR, date(int(text), 1, 1), date(int(text), 12, 31))
    if (found := _MONTH.fullmatch(text)) is not None:
        year, month = int(found[1]), int(found[2])
        if not 1 <= month <= 12:
            raise ValueError(_problem(series, label))
        return Period(Granularity.MONTH, date(year, month, 1), _last_day(year, month))
    if (found := _CUMULATIVE.fullmatch(text)) is not None:
        first_year, first_month, last_year, last_month = (int(part) for part in found.groups())
        if not (1 <= first_month <= 12 and 1 <= last_month <= 12):
            raise ValueError(_problem(series, label))
        start, end = date(first_year, first_month, 1), _last_day(last_year, last_month)
        if not _is_year_so_far(series, start, end):
            raise ValueError(
                f"{label!r} is not a year so far: it must start with the first month of "
                f"{'a fiscal year (April)' if series is Series.INDIA_FY else 'a year (January)'}"
                " and end in a later month of that year, before its last"
            )
        return Period(Granularity.CUMULATIVE, start, end)
    raise ValueError(_problem(series, label))


def read_span(label: str) -> Period:
    """The months a label names, whatever series reports them: a product group's figures
    come as their publisher gives them, so India's data may come by calendar months
    ("2025-01/2025-10", "2023") as well as by fiscal year. `ValueError` when it names none."""
    text = label.strip()
    for series in (Series.INDIA_FY, Series.CHINA_CY):
        try:
            found = read_period(series, text)
        except ValueError:
            continue
        return found
    if (match := _CUMULATIVE.fullmatch(text)) is not None:
        first_year, first_month, last_year, last_month = (int(part) for part in match.groups())
        if 1 <= first_month <= 12 and 1 <= last_month <= 12:
            start, end = date(first_year, first_month, 1), _last_day(last_year, last_month)
            months = (end.year - start.year) * 12 + end.month - start.month + 1
            if 1 < months <= 12:
                return Period(Granularity.CUMULATIVE, start, end)
    raise ValueError(
        f"period {label!r} is not a year (FY2024-25, 2025), a month (2025-10) or a run of "
        "months within a year (2025-01/2025-10)"
    )


def label_of(series: Series, period: Period) -> str:
    """The label of a period (the inverse of `read_period`)."""
    start, end = period.start, period.end
    if period.granularity is Granularity.MONTH:
        return f"{start.year:04d}-{start.month:02d}"
    if period.granularity is Granularity.CUMULATIVE:
        return f"{start.year:04d}-{start.month:02d}/{end.year:04d}-{end.month:02d}"
    return year_label(series, start.year)


def year_label(series: Series, first_year: int) -> str:
    """'FY2024-25' (the fiscal year starting in 2024) or '2024'."""
    if series is Series.INDIA_FY:
        return f"FY{first_year}-{(first_year + 1) % 100:02d}"
    return str(first_year)


def year_of(series: Series, day: date) -> int:
    """The first calendar year of the series' year that holds `day` (FY2025-26: 2025)."""
    if series is Series.INDIA_FY and day.month < FISCAL_FIRST_MONTH:
        return day.year - 1
    return day.year


def year_start(series: Series, first_year: int) -> date:
    month = FISCAL_FIRST_MONTH if series is Series.INDIA_FY else 1
    return date(first_year, month, 1)


def year_earlier(period: Period) -> Period:
    """The same months a year earlier: what a year-on-year growth rate is against."""
    start, end = period.start, period.end
    return Period(
        period.granularity,
        date(start.year - 1, start.month, 1),
        _last_day(end.year - 1, end.month),
    )


def _is_year_so_far(series: Series, start: date, end: date) -> bool:
    first_year = year_of(series, start)
    if start != year_start(series, first_year) or end <= start:
        return False
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    return 1 < months < 12  # one month is a month; twelve are the year


def _last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _problem(series: Series, label: str) -> str:
    year = "FY2024-25" if series is Series.INDIA_FY else "2025"
    so_far = "2025-04/2026-01" if series is Series.INDIA_FY else "2025-01/2025-10"
    return (
        f"period {label!r} does not belong to series {series.value!r}: write a year "
        f"({year}), a month (2025-10) or the year so far ({so_far})"
    )
