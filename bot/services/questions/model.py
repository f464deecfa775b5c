"""What a question is once parsed: its intent and the details the answer needs."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from bot.vocabulary import DealStatus, Direction, Quantity, RecordType, Series


class Intent(StrEnum):
    DEFICIT = "deficit"
    TRADE = "trade"
    COMPARE = "compare"
    EXTREME = "extreme"
    TREND = "trend"
    PASS = "pass"
    PASSES = "passes"
    DEALS = "deals"
    FLIGHTS = "flights"
    HISTORY = "history"
    NEWS = "news"  # the newest published items, below the status card of what is named
    SOURCES = "sources"
    CHART = "chart"
    HELP = "help"
    UNKNOWN = "unknown"


class PeriodKind(StrEnum):
    FISCAL = "fiscal"
    CALENDAR = "calendar"
    LATEST = "latest"
    PREVIOUS = "previous"


@dataclass(frozen=True, slots=True)
class PeriodRef:
    kind: PeriodKind
    year: int | None = None  # FISCAL: the year the fiscal year starts; CALENDAR: the year

    def label(self) -> str:
        """'FY2024-25', '2025', 'latest' or 'last year'."""
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
    # NEWS: what the question would ask without its news words (the status card shown above
    # the items, and which items); None: every topic's news, no card.
    about: Intent | None = None
