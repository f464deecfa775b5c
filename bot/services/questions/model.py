"""What a question is once parsed: its intent and the details the answer needs."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from bot.vocabulary import DealStatus, Direction, Language, Quantity, RecordType, Series


class Intent(StrEnum):
    DEFICIT = "deficit"
    TRADE = "trade"
    COMPARE = "compare"
    EXTREME = "extreme"
    TREND = "trend"
    # What India buys from and sells to China, by product group: "top imports".
    COMPOSITION = "composition"
    # Why the deficit is so big: the drivers' notes and what India buys and sells.
    CAUSES = "causes"
    PASS = "pass"
    PASSES = "passes"
    DEALS = "deals"
    FLIGHTS = "flights"
    HISTORY = "history"
    NEWS = "news"  # the newest published items, below the status card of what is named
    # The two series set against each other: "which is right, 99.2 or 116.12?"
    DISCREPANCY = "discrepancy"
    SOURCES = "sources"
    CHART = "chart"
    HELP = "help"
    UNKNOWN = "unknown"


class PeriodKind(StrEnum):
    FISCAL = "fiscal"
    CALENDAR = "calendar"
    LATEST = "latest"
    PREVIOUS = "previous"
    MONTH = "month"  # one month: "October 2025" (no year: the latest October held)
    MONTHS = "months"  # a run of months: "April to January" (year: of its first month)
    SO_FAR = "so_far"  # the current year so far, on the answer's day


class State(StrEnum):
    """The state a yes-or-no question asks a record about: "is Nathu La open?" asks OPEN."""

    OPEN = "open"  # open, running, operating, resumed, flowing
    CLOSED = "closed"  # closed, shut, stopped
    PAUSED = "paused"  # paused, suspended, on hold
    LIFTED = "lifted"  # curbs lifted or eased
    ENDED = "ended"  # over, expired, lapsed: what the record says ends at its date
    RESTRICTED = "restricted"  # restricted, banned, curbed, halted


@dataclass(frozen=True, slots=True)
class PeriodRef:
    kind: PeriodKind
    # FISCAL: the year the fiscal year starts; CALENDAR: the year; MONTH and MONTHS: the year
    # of the (first) month, None when not named.
    year: int | None = None
    month: int | None = None  # MONTH: the month; MONTHS: the first month (1-12)
    end_month: int | None = None  # MONTHS: the last month

    def label(self) -> str:
        """'FY2024-25', '2025', 'latest', 'last year', '2025-10' or 'Oct' (a month),
        'Apr-Jan' or 'Apr-Jul 2025' (a run of months), 'so far'."""
        if self.kind is PeriodKind.MONTH:
            assert self.month is not None
            if self.year is None:
                return calendar.month_abbr[self.month]
            return f"{self.year}-{self.month:02d}"
        if self.kind is PeriodKind.MONTHS:
            assert self.month is not None
            assert self.end_month is not None
            run = f"{calendar.month_abbr[self.month]}-{calendar.month_abbr[self.end_month]}"
            return run if self.year is None else f"{run} {self.year}"
        if self.kind is PeriodKind.SO_FAR:
            return "so far"
        if self.kind is PeriodKind.FISCAL:
            if self.year is None:
                return "FY?"
            return f"FY{self.year}-{(self.year + 1) % 100:02d}"
        if self.kind is PeriodKind.CALENDAR:
            return "?" if self.year is None else str(self.year)
        return "latest" if self.kind is PeriodKind.LATEST else "last year"


@dataclass(frozen=True, slots=True)
class EntityRef:
    record_type: RecordType  # PASS, DEAL or FLIGHT
    key: str  # slug
    name: str  # display name


@dataclass(frozen=True, slots=True)
class Question:
    text: str  # the original text
    intent: Intent
    series: Series | None = None  # None: not specified, answer both series
    quantity: Quantity | None = None
    periods: tuple[PeriodRef, ...] = ()  # 0, 1 or 2 (COMPARE), in the order asked
    since_year: int | None = None
    extreme: Literal["max", "min"] | None = None
    entities: tuple[EntityRef, ...] = ()
    deal_category: str | None = None
    deal_status: DealStatus | None = None
    direction: Direction | None = None
    suggestions: tuple[str, ...] = ()
    # A yes-or-no question about records (PASS, PASSES, DEALS, FLIGHTS): the state it asks
    # about; the answer starts with yes or no. None: not a yes-or-no question.
    yes_no: State | None = None
    # Amounts (USD bn) as written ("116.12", "116"): the figures whose sources are asked
    # (SOURCES) or that are set against each other (DISCREPANCY).
    amounts: tuple[Decimal, ...] = ()
    # NEWS: what the question would ask without its news words (the status card shown above
    # the items, and which items); None: every topic's news, no card. CHART: COMPOSITION for
    # a chart of product groups ("chart of top imports"); None: the chart of the two series.
    about: Intent | None = None
    # The language the text is written in (`language.question_language`): Hindi for a question
    # in Devanagari; None when the text does not say (English, romanised Hindi).
    language: Language | None = None

    # COMPOSITION: which groups grow ("which exports are growing"), fastest first.
    by_growth: bool = False
