"""Digest times and quiet hours in the subscriber's zone: DST, half-hour offsets, catch-up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.services.schedule import (
    UnknownTimezoneError,
    next_digest_at,
    parse_moment,
    quiet_until,
    resolve_timezone,
)
from bot.vocabulary import Frequency


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


WEEKLY_CASES = [
    # zone, weekday, hour, after (UTC), expected (UTC), why
    ("Asia/Kolkata", 0, 9, "2026-11-21 12:00", "2026-11-23 03:30", "+05:30, Monday 09:00"),
    ("Asia/Kathmandu", 0, 9, "2026-11-21 12:00", "2026-11-23 03:15", "+05:45"),
    ("Asia/Kolkata", 0, 9, "2026-11-23 03:30", "2026-11-30 03:30", "at the time: next week"),
    ("Asia/Kolkata", 0, 9, "2026-11-23 03:29", "2026-11-23 03:30", "a minute before"),
    # New York springs forward on Sunday 8 March 2026 at 02:00 -> 03:00.
    ("America/New_York", 6, 9, "2026-03-07 12:00", "2026-03-08 13:00", "first Sunday in EDT"),
    ("America/New_York", 6, 9, "2026-03-01 12:00", "2026-03-01 14:00", "last Sunday in EST"),
    ("America/New_York", 6, 2, "2026-03-07 12:00", "2026-03-08 07:00", "02:00 does not exist"),
    # ... and falls back on Sunday 1 November 2026 at 02:00 -> 01:00.
    ("America/New_York", 6, 1, "2026-10-31 12:00", "2026-11-01 05:00", "01:00 twice: the first"),
    ("America/New_York", 6, 9, "2026-10-31 12:00", "2026-11-01 14:00", "first Sunday in EST"),
    # London: last Sunday of March 2026 is the 29th.
    ("Europe/London", 0, 9, "2026-03-27 00:00", "2026-03-30 08:00", "Monday after BST starts"),
    ("Europe/London", 0, 9, "2026-03-20 00:00", "2026-03-23 09:00", "Monday in GMT"),
    # Adelaide: +10:30 in summer, +09:30 in winter (DST ends Sunday 5 April 2026).
    ("Australia/Adelaide", 0, 9, "2026-03-29 00:00", "2026-03-29 22:30", "+10:30"),
    ("Australia/Adelaide", 0, 9, "2026-04-05 00:00", "2026-04-05 23:30", "+09:30"),
    # Lord Howe moves by half an hour: +11 in summer, +10:30 in winter.
    ("Australia/Lord_Howe", 0, 9, "2026-03-29 00:00", "2026-03-29 22:00", "+11"),
    ("Australia/Lord_Howe", 0, 9, "2026-04-05 00:00", "2026-04-05 22:30", "+10:30"),
    # A zone far behind UTC, where the local date is still yesterday.
    ("Pacific/Pago_Pago", 5, 23, "2026-11-21 09:00", "2026-11-22 10:00", "Saturday 23:00 at -11"),
    ("Pacific/Kiritimati", 0, 0, "2026-11-22 09:00", "2026-11-22 10:00", "Monday 00:00 at +14"),
]


@pytest.mark.parametrize(("zone", "weekday", "hour", "after", "expected", "why"), WEEKLY_CASES)
def test_weekly_digest_times(
    zone: str, weekday: int, hour: int, after: str, expected: str, why: str
) -> None:
    due = next_digest_at(
        frequency=Frequency.WEEKLY,
        weekday=weekday,
        local_hour=hour,
        timezone=zone,
        after=utc(after),
    )
    assert due == utc(expected), why


DAILY_CASES = [
    ("America/New_York", 9, "2026-03-07 14:30", "2026-03-08 13:00", "across the spring change"),
    ("America/New_York", 9, "2026-10-31 13:30", "2026-11-01 14:00", "across the autumn change"),
    ("Asia/Kolkata", 21, "2026-11-21 15:29", "2026-11-21 15:30", "later today"),
    ("Asia/Kolkata", 21, "2026-11-21 15:30", "2026-11-22 15:30", "tomorrow"),
    ("Europe/London", 0, "2026-03-28 23:59", "2026-03-29 00:00", "midnight before the change"),
]


@pytest.mark.parametrize(("zone", "hour", "after", "expected", "why"), DAILY_CASES)
def test_daily_digest_times(zone: str, hour: int, after: str, expected: str, why: str) -> None:
    due = next_digest_at(
        frequency=Frequency.DAILY, weekday=0, local_hour=hour, timezone=zone, after=utc(after)
    )
    assert due == utc(expected), why


def test_a_weekly_schedule_keeps_its_local_hour_all_year() -> None:
    after = utc("2026-01-01 00:00")
    hours = set()
    for _ in range(60):
        due = next_digest_at(
            frequency=Frequency.WEEKLY,
            weekday=2,
            local_hour=9,
            timezone="America/New_York",
            after=after,
        )
        assert due is not None
        assert timedelta(days=6) < due - after < timedelta(days=7, hours=2)
        local = due.astimezone(ZoneInfo("America/New_York"))
        hours.add((local.weekday(), local.hour))
        after = due
    assert hours == {(2, 9)}


def test_after_downtime_the_next_time_is_after_now_not_after_the_missed_one() -> None:
    # Due Monday 23 Nov; the bot was down for three weeks: one next time, in the future.
    now = utc("2026-12-15 12:00")
    due = next_digest_at(
        frequency=Frequency.WEEKLY, weekday=0, local_hour=9, timezone="Asia/Kolkata", after=now
    )
    assert due == utc("2026-12-21 03:30")


def test_off_has_no_digest() -> None:
    assert (
        next_digest_at(
            frequency=Frequency.OFF,
            weekday=0,
            local_hour=9,
            timezone="UTC",
            after=utc("2026-01-01 00:00"),
        )
        is None
    )


QUIET_CASES = [
    ("Asia/Kolkata", "2026-11-21 16:29", None),  # 21:59 local
    ("Asia/Kolkata", "2026-11-21 16:30", "2026-11-22 01:30"),  # 22:00 -> 07:00 tomorrow
    ("Asia/Kolkata", "2026-11-21 20:00", "2026-11-22 01:30"),  # 01:30 local -> 07:00 today
    ("Asia/Kolkata", "2026-11-22 01:30", None),  # 07:00 local
    ("America/New_York", "2026-03-08 06:30", "2026-03-08 11:00"),  # 01:30 EST -> 07:00 EDT
]


@pytest.mark.parametrize(("zone", "at", "expected"), QUIET_CASES)
def test_quiet_hours(zone: str, at: str, expected: str | None) -> None:
    held = quiet_until(timezone=zone, at=utc(at))
    assert held == (None if expected is None else utc(expected))


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ("europe/berlin", "Europe/Berlin"),
        ("Berlin", "Europe/Berlin"),
        ("new york", "America/New_York"),
        ("  Asia/Kolkata ", "Asia/Kolkata"),
        ("UTC", "UTC"),
        ("US/Eastern", "US/Eastern"),
    ],
)
def test_typed_time_zones(typed: str, zone: str) -> None:
    assert resolve_timezone(typed) == zone


def test_an_unknown_time_zone_is_refused_with_suggestions() -> None:
    with pytest.raises(UnknownTimezoneError) as refused:
        resolve_timezone("Kolkatta")
    assert refused.value.suggestions == ()
    with pytest.raises(UnknownTimezoneError) as partial:
        resolve_timezone("Kolk")
    assert partial.value.suggestions == ("Asia/Kolkata",)
    for nonsense in ("", "../../etc/passwd", "x" * 100, "Mars/Olympus"):
        with pytest.raises(UnknownTimezoneError):
            resolve_timezone(nonsense)


NOW = utc("2026-11-21 12:00")  # a Saturday


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2026-11-23T09:00", "2026-11-23 03:30"),  # read in the default zone
        ("2026-11-23T09:00+00:00", "2026-11-23 09:00"),
        ("2026-11-23T03:30Z", "2026-11-23 03:30"),
        ("monday 09:00", "2026-11-23 03:30"),
        ("Mon 9", "2026-11-23 03:30"),
        ("saturday 18:00", "2026-11-21 12:30"),  # later today in Kolkata
        ("saturday 17:00", "2026-11-28 11:30"),  # already past today: next week
    ],
)
def test_operators_moments(typed: str, expected: str) -> None:
    assert parse_moment(typed, timezone="Asia/Kolkata", now=NOW) == utc(expected)


@pytest.mark.parametrize("typed", ["someday", "monday 25:00", "monday 09:75", "", "2026-13-01"])
def test_moments_that_are_not(typed: str) -> None:
    with pytest.raises(ValueError, match="is not a moment"):
        parse_moment(typed, timezone="Asia/Kolkata", now=NOW)
