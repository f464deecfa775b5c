"""Where a record's own dates stand against today, and when a reader should be told to check.

Records carry the dates that end or are expected to change them: a pass's expected reopening
and its latest announced trading season, a deal's announced end (a pause for a year, a halt), an
announced route's first flight. Read against today:

- a date ahead is upcoming; a date whose time is over is never upcoming again, and when nothing
  was recorded after it, answers say so ("expected Jun 2026, now passed; no confirmation
  recorded since 15 Dec 2025");
- a reopening expected in a year whose season has ended is over with the season;
- an announced end that has passed has lapsed, unless the record was updated after it;
- a record is marked for checking only when that tells the reader something: its own date
  passed unconfirmed (`Mark.OVERDUE`), or it has stood in a stage that moves on (proposed,
  reopening agreed, restricted, ...) with no update for longer than STALE_AFTER_DAYS and no date
  ahead to wait for (`Mark.QUIET`). A final trade figure is never marked; a provisional one
  older than the setting is (`Freshness.revisable`).

`today` always comes from the caller (the clock is injected at the edge); nothing here reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.vocabulary import DealStatus, FlightStatus, PassStatus, Stage

if TYPE_CHECKING:
    from bot.models import BorderPass, CommodityDeal, FlightRoute, TradeFigure
    from bot.partial_date import PartialDate

# Statuses that are a stage on the way to another: silence in them for months says something.
# Open passes, deals in effect or lapsed and operating routes are expected to stay as they are;
# a pass closed for the season reopens with its season, which its dates say.
PASSING_STAGES: frozenset[str] = frozenset(
    {
        PassStatus.SUSPENDED,
        PassStatus.REOPENING_AGREED,
        PassStatus.REOPENING_SCHEDULED,
        DealStatus.PROPOSED,
        DealStatus.UNDER_NEGOTIATION,
        DealStatus.AGREED,
        DealStatus.RESTRICTED,
        DealStatus.SUSPENDED,
        FlightStatus.ANNOUNCED,
        FlightStatus.SUSPENDED,
    }
)


@dataclass(frozen=True, slots=True)
class Freshness:
    """Today's date, and how long a record may go without an update (STALE_AFTER_DAYS) before
    answers say that it may have changed, when its status or stage is one that changes."""

    today: date
    max_age_days: int

    def aged(self, as_of: PartialDate) -> bool:
        # A month-precise date is given the benefit of its last day.
        return self.today - as_of.latest > timedelta(days=self.max_age_days)

    def revisable(self, figure: TradeFigure) -> bool:
        """A provisional figure older than the setting: revised or final ones may be out."""
        return figure.stage == Stage.PROVISIONAL and self.aged(figure.as_of)


class Standing(StrEnum):
    """Where a date stands against today, at the date's own precision."""

    AHEAD = "ahead"  # wholly after today
    NOW = "now"  # today falls within it ("Jun 2026" during June)
    PASSED = "passed"  # wholly before today


def standing(when: PartialDate, today: date) -> Standing:
    if when.earliest > today:
        return Standing.AHEAD
    if when.latest < today:
        return Standing.PASSED
    return Standing.NOW


def distance(when: PartialDate, today: date) -> int:
    """How far `when` is from today at its own precision: days, months or years."""
    if when.precision == "day":
        return (when.earliest - today).days
    if when.precision == "month":
        assert when.month is not None
        return (when.year - today.year) * 12 + when.month - today.month
    return when.year - today.year


class ExpectedKind(StrEnum):
    REOPENING = "reopening"  # a pass's expected reopening
    FIRST_FLIGHT = "first_flight"  # an announced route's first flight
    END = "end"  # a deal's announced end (of its status, or of what `until_note` names)


@dataclass(frozen=True, slots=True)
class Expected:
    """A date a record waits for, and whether its time is over."""

    kind: ExpectedKind
    when: PartialDate
    distance: int  # from today, at the precision of `when`
    standing: Standing  # of `when` itself
    passed: bool  # its time is over: the date, or (a reopening) the season it was to open in
    by_season: bool  # its time ends with the season's end, before the date's own end
    updated_after: bool  # the record was updated after its time: a later record may say more


@dataclass(frozen=True, slots=True)
class Season:
    """A pass's latest announced trading season."""

    start: PartialDate | None
    end: PartialDate | None
    standing: Standing  # AHEAD: not begun; NOW: under way; PASSED: ended
    distance: int | None  # to its start when ahead, to its end while under way

    @property
    def year(self) -> int | None:
        """The season's year, when it lies within one."""
        years = {d.year for d in (self.start, self.end) if d is not None}
        return years.pop() if len(years) == 1 else None


class Mark(StrEnum):
    """Why a reader should check a record before relying on it."""

    OVERDUE = "overdue"  # its own date passed with no update recorded after it
    QUIET = "quiet"  # a stage that moves on, with no update for longer than the setting


@dataclass(frozen=True, slots=True)
class Outlook:
    """A status record's dates against today."""

    last_update: PartialDate  # the latest update recorded: its as-of date or a later event
    expected: Expected | None = None
    season: Season | None = None
    mark: Mark | None = None


def pass_outlook(record: BorderPass, last_update: PartialDate, freshness: Freshness) -> Outlook:
    today = freshness.today
    season = _season(record.season_start, record.season_end, today)
    expected = None
    reopening = record.expected_reopening
    if record.status != PassStatus.OPEN and reopening is not None:
        ends = reopening.latest
        # "2026" with a June-September season: the reopening is missed once September is over.
        season_end = season.end if season is not None else None
        by_season = (
            season_end is not None and reopening.earliest <= season_end.latest < reopening.latest
        )
        if by_season:
            assert season_end is not None
            ends = season_end.latest
        expected = _expected(
            ExpectedKind.REOPENING, reopening, ends, last_update, today, by_season=by_season
        )
    return Outlook(
        last_update, expected, season, _mark(record.status, expected, last_update, freshness)
    )


def deal_outlook(record: CommodityDeal, last_update: PartialDate, freshness: Freshness) -> Outlook:
    until = record.status_until
    expected = (
        None
        if until is None
        else _expected(ExpectedKind.END, until, until.latest, last_update, freshness.today)
    )
    return Outlook(
        last_update, expected, mark=_mark(record.status, expected, last_update, freshness)
    )


def flight_outlook(record: FlightRoute, last_update: PartialDate, freshness: Freshness) -> Outlook:
    starts = record.starts_on
    expected = None
    if record.status == FlightStatus.ANNOUNCED and starts is not None:
        expected = _expected(
            ExpectedKind.FIRST_FLIGHT, starts, starts.latest, last_update, freshness.today
        )
    return Outlook(
        last_update, expected, mark=_mark(record.status, expected, last_update, freshness)
    )


def _expected(
    kind: ExpectedKind,
    when: PartialDate,
    ends: date,
    last_update: PartialDate,
    today: date,
    *,
    by_season: bool = False,
) -> Expected:
    return Expected(
        kind,
        when,
        distance(when, today),
        standing(when, today),
        passed=ends < today,
        by_season=by_season,
        updated_after=last_update.earliest > ends,
    )


def _season(start: PartialDate | None, end: PartialDate | None, today: date) -> Season | None:
    if start is None and end is None:
        return None
    if start is not None and start.earliest > today:
        return Season(start, end, Standing.AHEAD, distance(start, today))
    if end is not None and end.latest < today:
        return Season(start, end, Standing.PASSED, None)
    return Season(start, end, Standing.NOW, None if end is None else distance(end, today))


def _mark(
    status: str, expected: Expected | None, last_update: PartialDate, freshness: Freshness
) -> Mark | None:
    if expected is not None and expected.passed and not expected.updated_after:
        return Mark.OVERDUE
    waiting = expected is not None and not expected.passed
    if status in PASSING_STAGES and not waiting and freshness.aged(last_update):
        return Mark.QUIET
    return None
