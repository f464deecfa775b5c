"""Who receives digests and alerts, and how: subscribe, unsubscribe, settings, chat changes.

Invariant kept by every function here (the minutely tick relies on it): `next_digest_at` is
NULL unless the subscriber is active with a digest frequency, and otherwise it is the next
digest time in the subscriber's own zone (see `bot.services.schedule`).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Any

from rapidfuzz import fuzz, process
from sqlalchemy import update
from sqlmodel import col, select

from bot.models import Delivery, Subscriber
from bot.services import schedule
from bot.vocabulary import DeliveryState, Frequency, NewsScope, Topic

if TYPE_CHECKING:
    from datetime import datetime

    from sqlmodel import Session

logger = logging.getLogger(__name__)

# What a subscriber can follow, in display order (GENERAL is context, not a topic to follow).
TOPICS: tuple[str, ...] = tuple(topic.value for topic in Topic if topic is not Topic.GENERAL)
DEFAULT_WEEKDAY = 0  # Monday
DEFAULT_HOUR = 9
UNSUBSCRIBED = "unsubscribed"
MIGRATED = "migrated to a supergroup"

_HOUR = re.compile(r"^(\d{1,2})(?::00)?$")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_SWITCH = {"on": True, "off": False, "yes": True, "no": False, "true": True, "false": False}
_TYPO_CUTOFF = 80.0  # rapidfuzz ratio of a mistyped city to the real one ("Berlinn", "Kolkatta")


class Outcome(StrEnum):
    CREATED = "created"
    REACTIVATED = "reactivated"
    ALREADY = "already"


@dataclass(frozen=True, slots=True)
class Subscription:
    subscriber: Subscriber
    outcome: Outcome


class Setting(StrEnum):
    """What `change_setting` can change; values are text as typed or carried by a button."""

    FREQUENCY = "frequency"  # weekly | daily | off
    WEEKDAY = "weekday"  # 0-6 (Monday = 0) or a day name
    HOUR = "hour"  # 0-23, "9" or "09:00"
    TIMEZONE = "timezone"  # an IANA name or a city (see schedule.resolve_timezone)
    TOPIC = "topic"  # a topic to follow or stop following (a toggle)
    ALERTS = "alerts"  # on | off
    QUIET_HOURS = "quiet"  # on | off
    CHART = "chart"  # on | off
    NEWS = "news"  # published | matched: which news the digest carries (see NewsScope)


class SettingError(Exception):
    """A change that was refused; `reason` names the template text, `details` fill it in.

    Reasons: "not_subscribed", "bad_value" (setting, value), "last_topic",
    "unknown_timezone" (text, suggestions).
    """

    def __init__(self, reason: str, **details: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


def find(session: Session, *, chat_id: int) -> Subscriber | None:
    return session.exec(select(Subscriber).where(Subscriber.chat_id == chat_id)).first()


def subscribe(
    session: Session,
    *,
    chat_id: int,
    chat_type: str,
    title: str | None,
    now: datetime,
    default_timezone: str,
    added_by: int | None = None,
) -> Subscription:
    """Subscribe a chat with the defaults, or switch an earlier subscription back on.

    A returning chat keeps its previous settings; if it had turned digests off it gets the
    weekly digest back, since subscribing again asks for digests.
    """
    subscriber = find(session, chat_id=chat_id)
    if subscriber is None:
        subscriber = Subscriber(
            chat_id=chat_id,
            chat_type=chat_type,
            title=_title(title),
            frequency=Frequency.WEEKLY,
            weekday=DEFAULT_WEEKDAY,
            local_hour=DEFAULT_HOUR,
            timezone=default_timezone,
            topics=list(TOPICS),
            alerts_enabled=True,
            quiet_hours=True,
            added_by=added_by,
            created_at=now,
        )
        outcome = Outcome.CREATED
    elif not subscriber.active:
        subscriber.active = True
        subscriber.deactivated_reason = None
        if subscriber.frequency is Frequency.OFF:
            subscriber.frequency = Frequency.WEEKLY
        if added_by is not None:
            subscriber.added_by = added_by
        outcome = Outcome.REACTIVATED
    else:
        outcome = Outcome.ALREADY
    subscriber.chat_type = chat_type
    subscriber.title = _title(title) or subscriber.title
    # Already subscribed: a digest already due stays due (asking twice must not skip it).
    _reschedule(subscriber, now, schedule_changed=outcome is not Outcome.ALREADY)
    session.add(subscriber)
    session.flush()
    logger.info("Chat %s subscription %s", chat_id, outcome.value)
    return Subscription(subscriber, outcome)


def unsubscribe(session: Session, *, chat_id: int, now: datetime) -> bool:
    """Stop digests and alerts at the chat's request; False if it was not subscribed."""
    subscriber = find(session, chat_id=chat_id)
    if subscriber is None or not subscriber.active:
        return False
    _stop(subscriber, UNSUBSCRIBED, now)
    session.add(subscriber)
    logger.info("Chat %s unsubscribed", chat_id)
    return True


def deactivate(session: Session, *, chat_id: int, reason: str, now: datetime) -> bool:
    """The bot can no longer write to the chat (blocked, kicked, chat deleted).

    Messages still waiting for it are marked blocked with the reason, never retried. Calling it
    again changes nothing more; True when an active subscription was stopped.
    """
    subscriber = find(session, chat_id=chat_id)
    if subscriber is None:
        return False
    was_active = subscriber.active
    if was_active:
        _stop(subscriber, reason, now)
        session.add(subscriber)
        session.flush()
    session.exec(
        update(Delivery)
        .where(
            col(Delivery.subscriber_id) == subscriber.id,
            col(Delivery.state) == DeliveryState.PENDING,
        )
        .values(state=DeliveryState.BLOCKED, last_error=reason[:1000], updated_at=now)
    )
    if was_active:
        logger.info("Chat %s deactivated: %s", chat_id, reason)
    return was_active


def migrate_chat(session: Session, *, old_chat_id: int, new_chat_id: int) -> bool:
    """A group became a supergroup (a new chat id): the subscription follows it.

    Usually only the old id has a row, which simply takes the new id (its deliveries follow).
    If the new id has a row too (someone subscribed the supergroup before the migration
    message arrived) and the old subscription is active, the new row takes the old one's
    settings and schedule, and the old row is kept, inactive, with its delivery history; its
    pending deliveries move to the new row unless the new row already owes the same one.
    Telegram sends the migration twice (in the old and in the new chat): the second call
    finds nothing to do and returns False.
    """
    old = find(session, chat_id=old_chat_id)
    if old is None or old_chat_id == new_chat_id:
        return False
    new = find(session, chat_id=new_chat_id)
    if new is None:
        old.chat_id = new_chat_id
        old.chat_type = "supergroup"
        session.add(old)
        session.flush()
        logger.info("Subscription of chat %s moved to supergroup %s", old_chat_id, new_chat_id)
        return True
    if not old.active:
        return False
    for name in _CARRIED_OVER:
        setattr(new, name, getattr(old, name))
    new.topics = list(old.topics)
    new.active, new.deactivated_reason = True, None
    old.active, old.deactivated_reason, old.next_digest_at = False, MIGRATED, None
    session.add_all([old, new])
    session.flush()
    _move_pending_deliveries(session, old, new)
    logger.info("Settings of chat %s copied to supergroup %s", old_chat_id, new_chat_id)
    return True


# What a migrated subscription carries to an existing row of the new chat id.
_CARRIED_OVER = (
    "frequency",
    "weekday",
    "local_hour",
    "timezone",
    "alerts_enabled",
    "quiet_hours",
    "include_chart",
    "news_scope",
    "added_by",
    "next_digest_at",
    "last_digest_at",
    "updated_at",
)


def _move_pending_deliveries(session: Session, old: Subscriber, new: Subscriber) -> None:
    owed = {
        (kind, due)
        for kind, due in session.exec(
            select(Delivery.kind, Delivery.due_at).where(Delivery.subscriber_id == new.id)
        ).all()
    }
    pending = session.exec(
        select(Delivery).where(
            Delivery.subscriber_id == old.id, Delivery.state == DeliveryState.PENDING
        )
    ).all()
    for delivery in pending:
        if (delivery.kind, delivery.due_at) in owed:
            delivery.state = DeliveryState.BLOCKED
            delivery.last_error = MIGRATED
        else:
            assert new.id is not None
            delivery.subscriber_id = new.id
        session.add(delivery)


def change_setting(
    session: Session, *, chat_id: int, setting: Setting, value: str, now: datetime
) -> Subscriber:
    """Validate and apply one change to an active subscription; a refusal changes nothing."""
    subscriber = find(session, chat_id=chat_id)
    if subscriber is None or not subscriber.active:
        raise SettingError("not_subscribed")
    text = value.strip()
    schedule_before = _schedule_of(subscriber)
    match setting:
        case Setting.FREQUENCY:
            subscriber.frequency = _frequency(text)
        case Setting.WEEKDAY:
            subscriber.weekday = _weekday(text)
        case Setting.HOUR:
            subscriber.local_hour = _hour(text)
        case Setting.TIMEZONE:
            try:
                subscriber.timezone = schedule.resolve_timezone(text)
            except schedule.UnknownTimezoneError as error:
                suggestions = error.suggestions or _close_timezones(text)
                raise SettingError(
                    "unknown_timezone", text=text[:64], suggestions=suggestions
                ) from None
        case Setting.TOPIC:
            subscriber.topics = _toggled(subscriber.topics, text.lower())
        case Setting.ALERTS:
            subscriber.alerts_enabled = _switch(setting, text)
        case Setting.QUIET_HOURS:
            subscriber.quiet_hours = _switch(setting, text)
        case Setting.CHART:
            subscriber.include_chart = _switch(setting, text)
        case Setting.NEWS:
            subscriber.news_scope = _news_scope(text)
    _reschedule(subscriber, now, schedule_changed=_schedule_of(subscriber) != schedule_before)
    session.add(subscriber)
    session.flush()
    return subscriber


@cache
@cache
def _cities() -> dict[str, str]:
    """Each suggestable zone by the city it is named after ("Europe/Berlin": "berlin")."""
    return {
        name: name.rsplit("/", 1)[-1].replace("_", " ").lower()
        for name in schedule.suggestable_zones()
        if "/" in name
    }


def _close_timezones(text: str) -> tuple[str, ...]:
    """Zones whose city is a likely typo of what was typed; `resolve_timezone` only offers
    zones containing the text, which a misspelt city never is."""
    typed = text.strip().rsplit("/", 1)[-1].replace("_", " ").lower()
    if len(typed) < 4:
        return ()
    found = process.extract(typed, _cities(), scorer=fuzz.ratio, score_cutoff=_TYPO_CUTOFF, limit=3)
    return tuple(name for _, _, name in found)


def _schedule_of(subscriber: Subscriber) -> tuple[Frequency, int, int, str]:
    return (subscriber.frequency, subscriber.weekday, subscriber.local_hour, subscriber.timezone)


def _frequency(text: str) -> Frequency:
    try:
        return Frequency(text.lower())
    except ValueError:
        raise SettingError("bad_value", setting=Setting.FREQUENCY.value, value=text) from None


def _weekday(text: str) -> int:
    lowered = text.lower()
    if lowered.isdigit() and int(lowered) <= 6:
        return int(lowered)
    if len(lowered) >= 3:
        for day, name in enumerate(_WEEKDAYS):
            if name.startswith(lowered):
                return day
    raise SettingError("bad_value", setting=Setting.WEEKDAY.value, value=text)


def _hour(text: str) -> int:
    match = _HOUR.fullmatch(text)
    if match is None or int(match[1]) > 23:
        raise SettingError("bad_value", setting=Setting.HOUR.value, value=text)
    return int(match[1])


def _news_scope(text: str) -> NewsScope:
    try:
        return NewsScope(text.lower())
    except ValueError:
        raise SettingError("bad_value", setting=Setting.NEWS.value, value=text) from None


def _switch(setting: Setting, text: str) -> bool:
    if text.lower() not in _SWITCH:
        raise SettingError("bad_value", setting=setting.value, value=text)
    return _SWITCH[text.lower()]


def _toggled(followed: list[str], topic: str) -> list[str]:
    if topic not in TOPICS:
        raise SettingError("bad_value", setting=Setting.TOPIC.value, value=topic)
    if topic in followed:
        if len(set(followed) & set(TOPICS)) <= 1:
            raise SettingError("last_topic", topic=topic)
        chosen = set(followed) - {topic}
    else:
        chosen = set(followed) | {topic}
    return [name for name in TOPICS if name in chosen]


def _stop(subscriber: Subscriber, reason: str, now: datetime) -> None:
    subscriber.active = False
    subscriber.deactivated_reason = reason[:200]
    subscriber.next_digest_at = None
    subscriber.updated_at = now


def _reschedule(subscriber: Subscriber, now: datetime, *, schedule_changed: bool) -> None:
    """Keep the invariant: NULL unless active with a frequency, else the next local time.

    When the schedule itself did not change, a time already set stays, so toggling a topic (or
    pressing the hour already chosen) a moment before 09:00 does not skip the due digest.
    """
    subscriber.updated_at = now
    if not subscriber.active or subscriber.frequency is Frequency.OFF:
        subscriber.next_digest_at = None
    elif schedule_changed or subscriber.next_digest_at is None:
        subscriber.next_digest_at = schedule.next_digest_at(
            frequency=subscriber.frequency,
            weekday=subscriber.weekday,
            local_hour=subscriber.local_hour,
            timezone=subscriber.timezone,
            after=now,
        )


def _title(title: str | None) -> str | None:
    return (title.strip()[:256] or None) if title else None
