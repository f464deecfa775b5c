"""The subscriptions service: defaults, reactivation, settings, the next_digest_at invariant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlmodel import Session, select

from bot import db
from bot.db import session_scope
from bot.models import Delivery, Subscriber
from bot.services import subscriptions as subs
from bot.services.subscriptions import Outcome, Setting, SettingError
from bot.vocabulary import DeliveryKind, DeliveryState, Frequency

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from bot.config import Settings

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)  # Saturday
MONDAY_0900_KOLKATA = datetime(2026, 11, 23, 3, 30, tzinfo=UTC)
CHAT, GROUP, SUPERGROUP = 555, -4518810793, -1002471352452


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def subscribe(engine: Engine, chat_id: int = CHAT, **kwargs: object) -> subs.Subscription:
    values: dict[str, object] = {
        "chat_type": "private" if chat_id > 0 else "group",
        "title": "Asha",
        "now": NOW,
        "default_timezone": "Asia/Kolkata",
    }
    values.update(kwargs)
    with session_scope(engine) as session:
        return subs.subscribe(session, chat_id=chat_id, **values)  # type: ignore[arg-type]


def change(engine: Engine, setting: Setting, value: str, chat_id: int = CHAT) -> Subscriber:
    with session_scope(engine) as session:
        return subs.change_setting(session, chat_id=chat_id, setting=setting, value=value, now=NOW)


def row(engine: Engine, chat_id: int = CHAT) -> Subscriber:
    with Session(engine) as session:
        subscriber = subs.find(session, chat_id=chat_id)
    assert subscriber is not None
    return subscriber


def deliveries(engine: Engine) -> list[Delivery]:
    with Session(engine) as session:
        return list(session.exec(select(Delivery).order_by(Delivery.id)).all())  # type: ignore[arg-type]


def add_delivery(engine: Engine, chat_id: int, state: DeliveryState, due: datetime) -> None:
    with session_scope(engine) as session:
        subscriber = subs.find(session, chat_id=chat_id)
        assert subscriber is not None
        assert subscriber.id is not None
        session.add(
            Delivery(subscriber_id=subscriber.id, kind=DeliveryKind.DIGEST, due_at=due, state=state)
        )


def test_a_new_subscription_gets_the_defaults_and_its_first_digest(engine: Engine) -> None:
    created = subscribe(engine)
    assert created.outcome is Outcome.CREATED
    subscriber = row(engine)
    assert (subscriber.frequency, subscriber.weekday, subscriber.local_hour) == (
        Frequency.WEEKLY, 0, 9,
    )  # fmt: skip
    assert subscriber.timezone == "Asia/Kolkata"
    assert subscriber.topics == ["trade", "deals", "passes", "flights"]
    assert (subscriber.alerts_enabled, subscriber.quiet_hours, subscriber.include_chart) == (
        True, True, False,
    )  # fmt: skip
    assert subscriber.active
    assert subscriber.next_digest_at == MONDAY_0900_KOLKATA
    assert subscriber.title == "Asha"


def test_subscribing_twice_says_so_and_keeps_a_due_digest(engine: Engine) -> None:
    subscribe(engine)
    later = MONDAY_0900_KOLKATA + timedelta(seconds=20)  # due, the tick has not run yet
    again = subscribe(engine, now=later)
    assert again.outcome is Outcome.ALREADY
    assert row(engine).next_digest_at == MONDAY_0900_KOLKATA


def test_a_returning_subscriber_keeps_its_settings_and_gets_weekly_back(engine: Engine) -> None:
    subscribe(engine)
    change(engine, Setting.HOUR, "18")
    change(engine, Setting.TIMEZONE, "Europe/Berlin")
    change(engine, Setting.TOPIC, "flights")
    change(engine, Setting.FREQUENCY, "off")
    with session_scope(engine) as session:
        assert subs.unsubscribe(session, chat_id=CHAT, now=NOW)
    stopped = row(engine)
    assert (stopped.active, stopped.deactivated_reason, stopped.next_digest_at) == (
        False, "unsubscribed", None,
    )  # fmt: skip
    back = subscribe(engine)
    assert back.outcome is Outcome.REACTIVATED
    subscriber = row(engine)
    assert subscriber.active
    assert subscriber.deactivated_reason is None
    assert (subscriber.frequency, subscriber.local_hour, subscriber.timezone) == (
        Frequency.WEEKLY, 18, "Europe/Berlin",
    )  # fmt: skip
    assert subscriber.topics == ["trade", "deals", "passes"]
    assert subscriber.next_digest_at == utc("2026-11-23 17:00")  # Monday 18:00 in Berlin


def test_unsubscribe_without_a_subscription_is_false(engine: Engine) -> None:
    with session_scope(engine) as session:
        assert not subs.unsubscribe(session, chat_id=CHAT, now=NOW)
    subscribe(engine)
    with session_scope(engine) as session:
        assert subs.unsubscribe(session, chat_id=CHAT, now=NOW)
        assert not subs.unsubscribe(session, chat_id=CHAT, now=NOW)


def test_deactivate_blocks_pending_deliveries_once(engine: Engine) -> None:
    subscribe(engine)
    subscribe(engine, chat_id=777)
    add_delivery(engine, CHAT, DeliveryState.PENDING, MONDAY_0900_KOLKATA)
    add_delivery(engine, CHAT, DeliveryState.SENT, MONDAY_0900_KOLKATA - timedelta(days=7))
    add_delivery(engine, 777, DeliveryState.PENDING, MONDAY_0900_KOLKATA)
    for expected in (True, False):
        with session_scope(engine) as session:
            stopped = subs.deactivate(session, chat_id=CHAT, reason="blocked by the user", now=NOW)
        assert stopped is expected
    subscriber = row(engine)
    assert (subscriber.active, subscriber.deactivated_reason, subscriber.next_digest_at) == (
        False, "blocked by the user", None,
    )  # fmt: skip
    states = [(d.state, d.last_error) for d in deliveries(engine)]
    assert states == [
        (DeliveryState.BLOCKED, "blocked by the user"),
        (DeliveryState.SENT, None),
        (DeliveryState.PENDING, None),  # another chat's
    ]
    with session_scope(engine) as session:
        assert not subs.deactivate(session, chat_id=999, reason="kicked", now=NOW)


def test_a_group_that_became_a_supergroup_keeps_its_subscription(engine: Engine) -> None:
    subscribe(engine, GROUP, title="Trade desk")
    change(engine, Setting.HOUR, "7", chat_id=GROUP)
    add_delivery(engine, GROUP, DeliveryState.PENDING, MONDAY_0900_KOLKATA)
    for expected in (True, False):  # Telegram tells it twice, in the old and the new chat
        with session_scope(engine) as session:
            moved = subs.migrate_chat(session, old_chat_id=GROUP, new_chat_id=SUPERGROUP)
        assert moved is expected
    with Session(engine) as session:
        assert subs.find(session, chat_id=GROUP) is None
    subscriber = row(engine, SUPERGROUP)
    assert (subscriber.chat_type, subscriber.local_hour, subscriber.active) == (
        "supergroup", 7, True,
    )  # fmt: skip
    assert deliveries(engine)[0].subscriber_id == subscriber.id


def test_migration_onto_an_existing_supergroup_row_keeps_the_groups_settings(
    engine: Engine,
) -> None:
    subscribe(engine, GROUP, title="Trade desk")
    change(engine, Setting.TIMEZONE, "Asia/Kathmandu", chat_id=GROUP)
    change(engine, Setting.TOPIC, "deals", chat_id=GROUP)
    subscribe(engine, SUPERGROUP, chat_type="supergroup", title="Trade desk")
    add_delivery(engine, GROUP, DeliveryState.PENDING, MONDAY_0900_KOLKATA)
    add_delivery(engine, GROUP, DeliveryState.SENT, MONDAY_0900_KOLKATA - timedelta(days=7))
    for expected in (True, False):
        with session_scope(engine) as session:
            moved = subs.migrate_chat(session, old_chat_id=GROUP, new_chat_id=SUPERGROUP)
        assert moved is expected
    new, old = row(engine, SUPERGROUP), row(engine, GROUP)
    assert (new.active, new.timezone, new.topics) == (
        True, "Asia/Kathmandu", ["trade", "passes", "flights"],
    )  # fmt: skip
    assert new.next_digest_at == utc("2026-11-23 03:15")
    assert (old.active, old.deactivated_reason, old.next_digest_at) == (
        False, "migrated to a supergroup", None,
    )  # fmt: skip
    pending, sent = deliveries(engine)
    assert (pending.subscriber_id, pending.state) == (new.id, DeliveryState.PENDING)
    assert sent.subscriber_id == old.id  # history stays with the old chat


def test_migrating_an_unknown_chat_does_nothing(engine: Engine) -> None:
    with session_scope(engine) as session:
        assert not subs.migrate_chat(session, old_chat_id=GROUP, new_chat_id=SUPERGROUP)


@pytest.mark.parametrize(
    ("setting", "value", "column", "expected", "next_digest"),
    [
        (Setting.FREQUENCY, "daily", "frequency", Frequency.DAILY, "2026-11-22 03:30"),
        (Setting.FREQUENCY, "OFF", "frequency", Frequency.OFF, None),
        (Setting.WEEKDAY, "4", "weekday", 4, "2026-11-27 03:30"),
        (Setting.WEEKDAY, "fri", "weekday", 4, "2026-11-27 03:30"),
        (Setting.HOUR, "18", "local_hour", 18, "2026-11-23 12:30"),
        (Setting.HOUR, "07:00", "local_hour", 7, "2026-11-23 01:30"),
        (Setting.TIMEZONE, "new york", "timezone", "America/New_York", "2026-11-23 14:00"),
        (Setting.TIMEZONE, "utc", "timezone", "UTC", "2026-11-23 09:00"),
        (Setting.ALERTS, "off", "alerts_enabled", False, "2026-11-23 03:30"),
        (Setting.QUIET_HOURS, "off", "quiet_hours", False, "2026-11-23 03:30"),
        (Setting.CHART, "on", "include_chart", True, "2026-11-23 03:30"),
    ],
)
def test_each_setting_changes_and_reschedules(
    engine: Engine,
    setting: Setting,
    value: str,
    column: str,
    expected: object,
    next_digest: str | None,
) -> None:
    subscribe(engine)
    changed = change(engine, setting, value)
    assert getattr(changed, column) == expected
    assert getattr(row(engine), column) == expected
    assert row(engine).next_digest_at == (utc(next_digest) if next_digest else None)


@pytest.mark.parametrize(
    ("setting", "value", "reason"),
    [
        (Setting.FREQUENCY, "hourly", "bad_value"),
        (Setting.WEEKDAY, "7", "bad_value"),
        (Setting.WEEKDAY, "funday", "bad_value"),
        (Setting.HOUR, "24", "bad_value"),
        (Setting.HOUR, "9:30", "bad_value"),
        (Setting.HOUR, "", "bad_value"),
        (Setting.TIMEZONE, "Mars/Olympus", "unknown_timezone"),
        (Setting.TOPIC, "weather", "bad_value"),
        (Setting.ALERTS, "maybe", "bad_value"),
    ],
)
def test_a_bad_value_is_refused_and_changes_nothing(
    engine: Engine, setting: Setting, value: str, reason: str
) -> None:
    subscribe(engine)
    before = row(engine).model_dump()
    with pytest.raises(SettingError) as refused:
        change(engine, setting, value)
    assert refused.value.reason == reason
    assert row(engine).model_dump() == before


def test_an_unknown_time_zone_comes_with_suggestions(engine: Engine) -> None:
    subscribe(engine)
    with pytest.raises(SettingError) as refused:
        change(engine, Setting.TIMEZONE, "Berlinn")
    assert refused.value.reason == "unknown_timezone"
    assert refused.value.details["suggestions"] == ("Europe/Berlin",)
    with pytest.raises(SettingError) as refused:
        change(engine, Setting.TIMEZONE, "Asia/Kolkatta")
    assert refused.value.details["suggestions"] == ("Asia/Kolkata",)
    with pytest.raises(SettingError) as refused:
        change(engine, Setting.TIMEZONE, "Qwertyuiop")
    assert refused.value.details["suggestions"] == ()
    with pytest.raises(SettingError) as refused:
        change(engine, Setting.TIMEZONE, "Kolk")
    assert refused.value.details["suggestions"] == ("Asia/Kolkata",)


def test_topics_toggle_but_the_last_one_stays(engine: Engine) -> None:
    subscribe(engine)
    for topic in ("trade", "deals", "passes"):
        change(engine, Setting.TOPIC, topic)
    assert row(engine).topics == ["flights"]
    with pytest.raises(SettingError) as refused:
        change(engine, Setting.TOPIC, "flights")
    assert refused.value.reason == "last_topic"
    assert row(engine).topics == ["flights"]
    assert change(engine, Setting.TOPIC, "trade").topics == ["trade", "flights"]


def test_settings_need_an_active_subscription(engine: Engine) -> None:
    with pytest.raises(SettingError) as refused:
        change(engine, Setting.HOUR, "8")
    assert refused.value.reason == "not_subscribed"
    subscribe(engine)
    with session_scope(engine) as session:
        subs.unsubscribe(session, chat_id=CHAT, now=NOW)
    with pytest.raises(SettingError):
        change(engine, Setting.HOUR, "8")
    assert row(engine).local_hour == 9


def test_frequency_back_on_schedules_again(engine: Engine) -> None:
    subscribe(engine)
    assert change(engine, Setting.FREQUENCY, "off").next_digest_at is None
    assert change(engine, Setting.HOUR, "10").next_digest_at is None  # still off
    assert change(engine, Setting.FREQUENCY, "weekly").next_digest_at == utc("2026-11-23 04:30")


def test_updated_at_follows_every_change(engine: Engine) -> None:
    subscribe(engine)
    later = NOW + timedelta(hours=1)
    with session_scope(engine) as session:
        subs.change_setting(session, chat_id=CHAT, setting=Setting.CHART, value="on", now=later)
    assert row(engine).updated_at == later


@pytest.mark.postgres
def test_deactivate_and_migrate_on_postgres(postgres_settings: Settings) -> None:
    engine = db.make_engine(postgres_settings)
    try:
        subscribe(engine, GROUP, title="Trade desk")
        add_delivery(engine, GROUP, DeliveryState.PENDING, MONDAY_0900_KOLKATA)
        with session_scope(engine) as session:
            assert subs.migrate_chat(session, old_chat_id=GROUP, new_chat_id=SUPERGROUP)
        with session_scope(engine) as session:
            assert subs.deactivate(session, chat_id=SUPERGROUP, reason="kicked", now=NOW)
        assert not row(engine, SUPERGROUP).active
        assert [d.state for d in deliveries(engine)] == [DeliveryState.BLOCKED]
    finally:
        engine.dispose()
