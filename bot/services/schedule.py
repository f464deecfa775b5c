"""When a subscriber's next digest is due and when alerts may go out, in their own time zone.

All arithmetic is on local wall-clock dates, converted to UTC only at the end, so a weekly
digest at 09:00 stays at 09:00 across daylight-saving changes and in zones with half-hour or
45-minute offsets. On the day a clock jumps forward, an hour that does not exist (02:00 in New
York in March) is read with the offset in force before the jump, i.e. the first moment after
the gap (03:00); an hour that happens twice (01:00 in November) is its first occurrence.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.vocabulary import Frequency

QUIET_FROM_HOUR = 22
QUIET_UNTIL_HOUR = 7


class UnknownTimezoneError(ValueError):
    def __init__(self, text: str, suggestions: tuple[str, ...]) -> None:
        super().__init__(f"unknown time zone: {text!r}")
        self.text = text
        self.suggestions = suggestions


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@cache
def suggestable_zones() -> tuple[str, ...]:
    # Legacy aliases ("US/Eastern", "Etc/GMT+5" with its inverted sign) are accepted when typed
    # exactly but never suggested.
    return tuple(
        sorted(
            name
            for name in available_timezones()
            if ("/" in name and not name.startswith(("Etc/", "SystemV/", "US/"))) or name == "UTC"
        )
    )


def resolve_timezone(text: str) -> str:
    """The IANA name a user meant: "Europe/Berlin", "europe/berlin", "Berlin", "new york".

    Raises UnknownTimezoneError with up to three suggestions when nothing matches exactly.
    """
    typed = text.strip().replace(" ", "_")
    if not typed or len(typed) > 64:
        raise UnknownTimezoneError(text, ())
    by_lower = {name.lower(): name for name in (*suggestable_zones(), *available_timezones())}
    if typed.lower() in by_lower:
        return by_lower[typed.lower()]
    # A city alone: the zone whose last part is that city, when only one zone has it.
    cities = [
        name for name in suggestable_zones() if name.lower().rsplit("/", 1)[-1] == typed.lower()
    ]
    if len(cities) == 1:
        return cities[0]
    fragment = typed.lower()
    suggestions = tuple(name for name in suggestable_zones() if fragment in name.lower())[:3]
    raise UnknownTimezoneError(text, tuple(cities[:3]) or suggestions)


def is_valid_timezone(name: str) -> bool:
    try:
        _zone(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def wall_clock(day: date, hour: int, timezone: str) -> datetime:
    """The UTC moment a local clock in `timezone` shows `hour`:00 on `day` (see module doc)."""
    local = datetime.combine(day, time(hour), tzinfo=_zone(timezone))
    return local.astimezone(UTC)


def next_digest_at(
    *, frequency: Frequency, weekday: int, local_hour: int, timezone: str, after: datetime
) -> datetime | None:
    """The first digest time strictly after `after` (None when digests are off).

    Called with the current time when a schedule advances, so a subscriber who missed several
    digests during downtime gets the one that was due, and the next one at its regular time.
    """
    if frequency is Frequency.OFF:
        return None
    today = after.astimezone(_zone(timezone)).date()
    # Yesterday is included: a zone behind UTC may still be on the previous local date.
    for offset in range(-1, 9):
        day = today + timedelta(days=offset)
        if frequency is Frequency.WEEKLY and day.weekday() != weekday:
            continue
        due = wall_clock(day, local_hour, timezone)
        if due > after:
            return due
    raise AssertionError("a weekly schedule always has a time within eight days")


def quiet_until(*, timezone: str, at: datetime) -> datetime | None:
    """When held alerts may go out (07:00 local), or None if `at` is outside quiet hours."""
    local = at.astimezone(_zone(timezone))
    if QUIET_UNTIL_HOUR <= local.hour < QUIET_FROM_HOUR:
        return None
    morning = local.date() + timedelta(days=1 if local.hour >= QUIET_FROM_HOUR else 0)
    return wall_clock(morning, QUIET_UNTIL_HOUR, timezone)


def local_time(at: datetime, timezone: str) -> datetime:
    """`at` on the subscriber's clock, for telling them when something will arrive."""
    return at.astimezone(_zone(timezone))


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_moment(text: str, *, timezone: str, now: datetime) -> datetime:
    """A moment an operator types: ISO 8601 ("2026-11-23T09:00", with or without an offset;
    without one it is read in `timezone`), or a weekday and time ("monday 09:00"), meaning
    the next such moment on `timezone`'s clock after `now`.

    Raises ValueError with a message fit to show.
    """
    cleaned = text.strip()
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        pass
    else:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=_zone(timezone))
        return moment.astimezone(UTC)
    day, _, clock = cleaned.lower().partition(" ")
    hour, _, minute = clock.strip().partition(":")
    if day[:3] in _WEEKDAYS and hour.isdigit() and (minute or "0").isdigit():
        wanted = _WEEKDAYS.index(day[:3])
        at = time(int(hour) % 24, int(minute or 0) % 60) if int(hour) < 24 else None
        if at is not None and int(minute or 0) < 60:
            today = now.astimezone(_zone(timezone)).date()
            for offset in range(8):
                candidate = today + timedelta(days=offset)
                moment = datetime.combine(candidate, at, tzinfo=_zone(timezone))
                if candidate.weekday() == wanted and moment.astimezone(UTC) > now:
                    return moment.astimezone(UTC)
    raise ValueError(
        f"{text!r} is not a moment: use ISO 8601 (2026-11-23T09:00, 2026-11-23T03:30Z) "
        "or a weekday and time (monday 09:00)"
    )
