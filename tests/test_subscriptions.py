"""Subscribing and the settings, through the real application and the in-process Bot API."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from sqlmodel import Session, select

from bot.db import session_scope
from bot.models import Delivery, StatusChange, Subscriber
from bot.services import admins
from bot.telegram.plain import html_to_text
from bot.vocabulary import DeliveryKind, DeliveryState, Frequency, RecordType, Role
from tests.factories import (
    callback_update,
    migration_update,
    my_chat_member_update,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from tests.conftest import BotUnderTest

ASHA = 555  # a reader in her private chat (TODAY is Saturday 21 Nov 2026, 09:00 UTC)
GROUP, ADMIN, MEMBER = -1001234567890, 777, 888
CHANNEL, EDITOR, STRANGER = -1009876543210, 1002, 1003
MONDAY_0900_KOLKATA = datetime(2026, 11, 23, 3, 30, tzinfo=UTC)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def texts(calls: list[dict[str, Any]]) -> list[str]:
    return [
        html_to_text(call["text"])
        for call in calls
        if call["method"] in ("sendMessage", "editMessageText")
    ]


def only(calls: list[dict[str, Any]], method: str) -> dict[str, Any]:
    (call,) = [call for call in calls if call["method"] == method]
    return {**call, "plain": html_to_text(call.get("text", ""))}


def markup(call: dict[str, Any]) -> dict[str, Any]:
    sent = call.get("reply_markup")
    return dict(json.loads(sent) if isinstance(sent, str) else sent or {})


def buttons(call: dict[str, Any]) -> dict[str, str]:
    rows = markup(call).get("inline_keyboard", [])
    return {b["text"]: b["callback_data"] for row in rows for b in row}


def alert(calls: list[dict[str, Any]]) -> str:
    answer = only(calls, "answerCallbackQuery")
    assert answer.get("show_alert") is True
    return str(answer["text"])


async def press(
    bot: BotUnderTest,
    data: str,
    *,
    chat_id: int = ASHA,
    user_id: int = ASHA,
    chat_type: str = "private",
) -> list[dict[str, Any]]:
    update = callback_update(
        bot.application.bot, data, chat_id=chat_id, user_id=user_id, chat_type=chat_type
    )
    return await bot.process(update)


def row(engine: Engine, chat_id: int = ASHA) -> Subscriber | None:
    with Session(engine) as session:
        return session.exec(select(Subscriber).where(Subscriber.chat_id == chat_id)).first()


def subscribed(engine: Engine, chat_id: int = ASHA) -> Subscriber:
    subscriber = row(engine, chat_id)
    assert subscriber is not None
    return subscriber


def last_sent_message(bot: BotUnderTest) -> dict[str, Any]:
    """The last message the bot sent, as Telegram stored it (plain text and entities)."""
    call = next(c for c in reversed(bot.request.calls) if c.method == "sendMessage")
    return dict(call.result)


async def open_settings(bot: BotUnderTest, **kwargs: Any) -> dict[str, Any]:
    return only(await bot.send("/settings", **kwargs), "sendMessage")


async def tap(
    bot: BotUnderTest, shown: dict[str, Any], label: str, **kwargs: Any
) -> dict[str, Any]:
    """Press the button labelled `label` and return the edited message."""
    return only(await press(bot, buttons(shown)[label], **kwargs), "editMessageText")


@pytest.fixture
def editors(seeded_engine: Engine) -> None:
    with session_scope(seeded_engine) as session:
        admins.bootstrap_owners(session, [1001])
        admins.grant(session, by="test", by_user=1001, user_id=EDITOR, role=Role.EDITOR)


# -- subscribing in a private chat ---------------------------------------------------------


async def test_subscribe_names_the_first_digest_in_local_time_and_shows_the_figures(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    confirmation, headline = texts(await bot.send("/subscribe"))
    assert "Your first weekly digest arrives Monday 23 Nov at 09:00 (Asia/Kolkata)" in confirmation
    assert "trade figures, deals, border passes and flights" in confirmation
    assert "/settings" in confirmation
    assert "/unsubscribe" in confirmation
    for fact in (
        "FY2024-25",
        "Apr 2025 – Jan 2026",
        "92.3",
        "2025",
        "116.12",
        "Ministry of Commerce",
        "Source:",
    ):
        assert fact in headline
    subscriber = subscribed(seeded_engine)
    assert subscriber.next_digest_at == MONDAY_0900_KOLKATA
    assert (subscriber.chat_type, subscriber.frequency, subscriber.timezone) == (
        "private", Frequency.WEEKLY, "Asia/Kolkata",
    )  # fmt: skip
    assert subscriber.topics == ["trade", "deals", "passes", "flights"]
    assert subscriber.added_by is None


async def test_subscribing_again_says_so_with_the_schedule(bot: BotUnderTest) -> None:
    await bot.send("/subscribe")
    (reply,) = texts(await bot.send("/subscribe"))
    assert "already subscribed" in reply
    assert "Your next weekly digest arrives Monday 23 Nov at 09:00 (Asia/Kolkata)." in reply


async def test_unsubscribe_confirms_and_then_has_nothing_to_stop(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    (nothing,) = texts(await bot.send("/unsubscribe"))
    assert "not subscribed, so there is nothing to stop" in nothing
    await bot.send("/subscribe")
    (stopped,) = texts(await bot.send("/unsubscribe"))
    assert "Unsubscribed: no more digests or alerts" in stopped
    subscriber = subscribed(seeded_engine)
    assert (subscriber.active, subscriber.deactivated_reason, subscriber.next_digest_at) == (
        False, "unsubscribed", None,
    )  # fmt: skip


# -- /settings -----------------------------------------------------------------------------


async def test_settings_buttons_edit_the_message_and_the_subscription(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    await bot.send("/subscribe")
    shown = await open_settings(bot)
    assert "Digest: weekly, Monday at 09:00 (Asia/Kolkata)" in shown["plain"]
    assert "Next digest: Monday 23 Nov at 09:00" in shown["plain"]
    assert {"✅ Weekly", "Daily", "No digest", "📅 Monday", "🕘 09:00", "🌐 Asia/Kolkata"} <= set(
        buttons(shown)
    )

    shown = await tap(bot, shown, "Daily")
    assert "Digest: daily at 09:00" in shown["plain"]
    assert "Next digest: Sunday 22 Nov at 09:00" in shown["plain"]
    assert "📅 Monday" not in buttons(shown)  # the day matters for weekly digests only
    assert subscribed(seeded_engine).next_digest_at == utc("2026-11-22 03:30")

    hours = await tap(bot, shown, "🕘 09:00")
    assert "Pick the hour" in hours["plain"]
    assert len([label for label in buttons(hours) if label.endswith(":00")]) == 24
    shown = await tap(bot, hours, "18:00")
    assert "Next digest: Saturday 21 Nov at 18:00" in shown["plain"]  # 14:30 in Kolkata now
    assert subscribed(seeded_engine).next_digest_at == utc("2026-11-21 12:30")

    shown = await tap(bot, shown, "✅ Daily")  # already chosen: nothing changes
    shown = await tap(bot, shown, "Weekly")
    days = await tap(bot, shown, "📅 Monday")
    shown = await tap(bot, days, "Fri")
    assert "Digest: weekly, Friday at 18:00" in shown["plain"]
    assert subscribed(seeded_engine).next_digest_at == utc("2026-11-27 12:30")

    shown = await tap(bot, shown, "🔔 Alerts: on")
    shown = await tap(bot, shown, "🌙 Quiet hours: on")
    shown = await tap(bot, shown, "📈 Chart in digest: off")
    assert "Instant alerts: off" in shown["plain"]
    assert "Chart in digest: on" in shown["plain"]
    subscriber = subscribed(seeded_engine)
    assert (subscriber.alerts_enabled, subscriber.quiet_hours, subscriber.include_chart) == (
        False, False, True,
    )  # fmt: skip

    done = await tap(bot, shown, "Done")
    assert "Settings saved" in done["plain"]
    assert "Digest: weekly, Friday at 18:00" in done["plain"]
    assert not buttons(done)


async def test_no_digest_clears_the_next_digest_time(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    await bot.send("/subscribe")
    shown = await tap(bot, await open_settings(bot), "No digest")
    assert "Digest: off" in shown["plain"]
    assert "Next digest" not in shown["plain"]
    subscriber = subscribed(seeded_engine)
    assert (subscriber.frequency, subscriber.next_digest_at) == (Frequency.OFF, None)
    # Subscribing again asks for digests: weekly is back.
    await bot.send("/unsubscribe")
    (welcome, _) = texts(await bot.send("/subscribe"))
    assert "Welcome back" in welcome
    assert subscribed(seeded_engine).frequency is Frequency.WEEKLY


async def test_topics_toggle_but_the_last_one_stays(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    await bot.send("/subscribe")
    shown = await open_settings(bot)
    for label in ("✅ Trade figures", "✅ Deals", "✅ Border passes"):
        shown = await tap(bot, shown, label)
    assert "Topics: flights" in shown["plain"]
    assert {"☐ Trade figures", "✅ Flights"} <= set(buttons(shown))
    refused = await press(bot, buttons(shown)["✅ Flights"])
    assert "Keep at least one topic" in alert(refused)
    assert not [c for c in refused if c["method"] == "editMessageText"]
    assert subscribed(seeded_engine).topics == ["flights"]
    shown = await tap(bot, shown, "☐ Deals")
    assert subscribed(seeded_engine).topics == ["deals", "flights"]


async def test_time_zone_from_the_list(bot: BotUnderTest, seeded_engine: Engine) -> None:
    await bot.send("/subscribe")
    zones = await tap(bot, await open_settings(bot), "🌐 Asia/Kolkata")
    assert {"✅ Asia/Kolkata", "Asia/Kathmandu", "America/New_York", "UTC", "Other…"} <= set(
        buttons(zones)
    )
    shown = await tap(bot, zones, "Asia/Kathmandu")
    assert "Digest: weekly, Monday at 09:00 (Asia/Kathmandu)" in shown["plain"]
    assert subscribed(seeded_engine).next_digest_at == utc("2026-11-23 03:15")  # +05:45


async def test_other_time_zone_by_replying_to_the_prompt(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    await bot.send("/subscribe")
    zones = await tap(bot, await open_settings(bot), "🌐 Asia/Kolkata")
    prompt = only(await press(bot, buttons(zones)["Other…"]), "sendMessage")
    assert "Which time zone should your digests use?" in prompt["plain"]
    assert markup(prompt)["force_reply"] is True

    calls = await bot.send("Europe/Paris", reply_to=last_sent_message(bot))
    reply = only(calls, "sendMessage")
    assert "Time zone set to Europe/Paris" in reply["plain"]
    assert "Next digest: Monday 23 Nov at 09:00" in reply["plain"]
    assert subscribed(seeded_engine).next_digest_at == utc("2026-11-23 08:00")


async def test_a_mistyped_reply_is_asked_again_with_suggestions_and_is_no_question(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    await bot.send("/subscribe")
    await bot.send("/timezone")
    calls = await bot.send("Kolk", reply_to=last_sent_message(bot))
    again = only(calls, "sendMessage")  # one reply: not also answered as a question
    assert "I don't know the time zone “Kolk”. Did you mean Asia/Kolkata?" in again["plain"]
    assert markup(again)["force_reply"] is True
    assert subscribed(seeded_engine).timezone == "Asia/Kolkata"
    calls = await bot.send("lisbon", reply_to=last_sent_message(bot))
    assert "Time zone set to Europe/Lisbon" in only(calls, "sendMessage")["plain"]


async def test_timezone_command(bot: BotUnderTest, seeded_engine: Engine) -> None:
    (not_yet,) = texts(await bot.send("/timezone Europe/Berlin"))
    assert "not subscribed" in not_yet
    await bot.send("/subscribe")

    (done,) = texts(await bot.send("/timezone new york"))
    assert "Time zone set to America/New_York" in done
    assert subscribed(seeded_engine).next_digest_at == utc("2026-11-23 14:00")

    prompt = only(await bot.send("/timezone"), "sendMessage")
    assert "Now: America/New_York" in prompt["plain"]

    wrong = only(await bot.send("/timezone Berlinn"), "sendMessage")
    assert "I don't know the time zone “Berlinn”" in wrong["plain"]
    assert "Europe/Berlin" in wrong["plain"]
    assert subscribed(seeded_engine).timezone == "America/New_York"
    shown = await tap(bot, wrong, "Europe/Berlin")
    assert "Digest: weekly, Monday at 09:00 (Europe/Berlin)" in shown["plain"]
    assert subscribed(seeded_engine).timezone == "Europe/Berlin"


async def test_settings_without_a_subscription_offers_one(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    offer = await open_settings(bot)
    assert "This chat is not subscribed" in offer["plain"]
    shown = await tap(bot, offer, "🔔 Subscribe")
    assert "Next digest: Monday 23 Nov at 09:00" in shown["plain"]
    assert subscribed(seeded_engine).active


async def test_an_old_settings_message_after_unsubscribing(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    await bot.send("/subscribe")
    shown = await open_settings(bot)
    await bot.send("/unsubscribe")
    stale = await tap(bot, shown, "Daily")
    assert "This chat is not subscribed" in stale["plain"]
    assert set(buttons(stale)) == {"🔔 Subscribe"}
    assert subscribed(seeded_engine).frequency is Frequency.WEEKLY
    assert subscribed(seeded_engine).next_digest_at is None


@pytest.mark.parametrize(
    "data",
    [
        "tw1|opt|555|hour|24",
        "tw1|opt|555|hour|-1",
        "tw1|opt|555|colour|red",
        "tw1|opt|555|timezone|../../etc",
        "tw1|opt|555|topic|general",
        "tw1|cfg|555|admin",
        "tw1|sub|abc",
        "tw1|opt|555|frequency|weekly|extra",
    ],
)
async def test_forged_buttons_have_expired(
    bot: BotUnderTest, seeded_engine: Engine, data: str
) -> None:
    await bot.send("/subscribe")
    before = subscribed(seeded_engine).model_dump()
    calls = await press(bot, data)
    assert "This button has expired" in alert(calls)
    assert subscribed(seeded_engine).model_dump() == before


async def test_a_button_naming_another_chat_is_refused(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    await bot.send("/subscribe", chat_id=999, user_id=999)
    for data in ("tw1|opt|999|frequency|off", "tw1|sub|999", "tw1|cfg|999|main"):
        assert "not allowed" in alert(await press(bot, data))
    assert subscribed(seeded_engine, 999).frequency is Frequency.WEEKLY


# -- groups ----------------------------------------------------------------------------------


def in_group(user_id: int, **kwargs: Any) -> dict[str, Any]:
    return {"chat_id": GROUP, "chat_type": "supergroup", "user_id": user_id, **kwargs}


async def test_only_group_administrators_subscribe_and_change_settings(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    bot.request.set_member(GROUP, ADMIN, "administrator")
    (refused,) = texts(await bot.send("/subscribe@TradeWatchBot", **in_group(MEMBER)))
    assert "Only the group's administrators" in refused
    assert row(seeded_engine, GROUP) is None

    confirmation, headline = texts(await bot.send("/subscribe@TradeWatchBot", **in_group(ADMIN)))
    assert "Your first weekly digest arrives Monday 23 Nov at 09:00 (Asia/Kolkata)" in confirmation
    assert "116.12" in headline
    subscriber = subscribed(seeded_engine, GROUP)
    assert (subscriber.chat_type, subscriber.title, subscriber.added_by) == (
        "supergroup", "Trade desk", ADMIN,
    )  # fmt: skip

    (refused,) = texts(await bot.send("/settings@TradeWatchBot", **in_group(MEMBER)))
    assert "Only the group's administrators" in refused
    shown = await open_settings(bot, **in_group(ADMIN))
    assert "for Trade desk" in shown["plain"]
    by_member = await press(bot, buttons(shown)["No digest"], **in_group(MEMBER))
    assert "Only the group's administrators" in alert(by_member)
    assert subscribed(seeded_engine, GROUP).frequency is Frequency.WEEKLY
    by_admin = only(
        await press(bot, buttons(shown)["No digest"], **in_group(ADMIN)), "editMessageText"
    )
    assert "Digest: off" in html_to_text(by_admin["text"])

    (refused,) = texts(await bot.send("/unsubscribe", **in_group(MEMBER)))
    assert "Only the group's administrators" in refused
    assert subscribed(seeded_engine, GROUP).active


async def test_an_anonymous_administrator_may_subscribe_the_group(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    calls = await bot.send("/subscribe", **in_group(0, anonymous_admin=True))
    assert "Subscribed." in texts(calls)[0]
    assert subscribed(seeded_engine, GROUP).added_by is None


async def test_a_group_prompt_mentions_the_administrator_who_asked(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    bot.request.set_member(GROUP, ADMIN, "creator")
    await bot.send("/subscribe", **in_group(ADMIN))
    zones = await tap(
        bot, await open_settings(bot, **in_group(ADMIN)), "🌐 Asia/Kolkata", **in_group(ADMIN)
    )
    prompt = only(await press(bot, buttons(zones)["Other…"], **in_group(ADMIN)), "sendMessage")
    assert f"tg://user?id={ADMIN}" in prompt["text"]
    assert markup(prompt) == {
        "force_reply": True,
        "selective": True,
        "input_field_placeholder": "e.g. Europe/Berlin",
    }
    # A member replying to the prompt changes nothing (and is not answered as a question).
    calls = await bot.send("UTC", reply_to=last_sent_message(bot), **in_group(MEMBER))
    assert "Only the group's administrators" in only(calls, "sendMessage")["plain"]
    assert subscribed(seeded_engine, GROUP).timezone == "Asia/Kolkata"
    calls = await bot.send("@TradeWatchBot UTC", reply_to=prompt_of(bot, GROUP), **in_group(ADMIN))
    assert "Time zone set to UTC" in only(calls, "sendMessage")["plain"]


def prompt_of(bot: BotUnderTest, chat_id: int) -> dict[str, Any]:
    """The last time-zone prompt the bot sent in `chat_id`."""
    for call in reversed(bot.request.calls):
        prompt = "force_reply" in str(call.params.get("reply_markup"))
        if call.method == "sendMessage" and call.params["chat_id"] == chat_id and prompt:
            return dict(call.result)
    raise AssertionError("no prompt")


async def test_the_bot_added_to_a_group_says_how_to_subscribe(bot: BotUnderTest) -> None:
    update = my_chat_member_update(
        bot.application.bot, chat_id=GROUP, chat_type="supergroup", old="left", new="member"
    )
    (greeting,) = texts(await bot.process(update))
    assert "An administrator can /subscribe this group" in greeting


# -- the bot blocked, removed, migrated ------------------------------------------------------


async def test_blocked_then_back_keeps_the_settings(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    await bot.send("/subscribe")
    await bot.send("/timezone Asia/Singapore")
    with session_scope(seeded_engine) as session:
        subscriber = session.exec(select(Subscriber).where(Subscriber.chat_id == ASHA)).one()
        assert subscriber.id is not None
        session.add(
            Delivery(
                subscriber_id=subscriber.id,
                kind=DeliveryKind.DIGEST,
                due_at=MONDAY_0900_KOLKATA,
                state=DeliveryState.PENDING,
            )
        )
    blocked = my_chat_member_update(
        bot.application.bot, chat_id=ASHA, chat_type="private", old="member", new="kicked"
    )
    assert texts(await bot.process(blocked)) == []
    subscriber = subscribed(seeded_engine)
    assert (subscriber.active, subscriber.deactivated_reason, subscriber.next_digest_at) == (
        False, "blocked by the user", None,
    )  # fmt: skip
    with Session(seeded_engine) as session:
        delivery = session.exec(select(Delivery)).one()
    assert (delivery.state, delivery.last_error) == (DeliveryState.BLOCKED, "blocked by the user")

    unblocked = my_chat_member_update(
        bot.application.bot, chat_id=ASHA, chat_type="private", old="kicked", new="member"
    )
    await bot.process(unblocked)
    assert not subscribed(seeded_engine).active  # coming back is not subscribing
    welcome, _ = texts(await bot.send("/subscribe"))
    assert "Welcome back" in welcome
    assert "Your next weekly digest arrives Monday 23 Nov at 09:00 (Asia/Singapore)" in welcome
    assert subscribed(seeded_engine).active


@pytest.mark.parametrize(
    ("chat_type", "old", "new", "can_post", "reason"),
    [
        ("supergroup", "member", "kicked", True, "removed from the group"),
        ("group", "administrator", "left", True, "removed from the group"),
        ("channel", "administrator", "left", True, "removed from the channel"),
        ("channel", "administrator", "administrator", False, "may no longer post in the channel"),
    ],
)
async def test_the_bot_removed_from_a_chat_stops_its_subscription(
    bot: BotUnderTest,
    seeded_engine: Engine,
    chat_type: str,
    old: str,
    new: str,
    can_post: bool,
    reason: str,
) -> None:
    with session_scope(seeded_engine) as session:
        session.add(
            Subscriber(
                chat_id=GROUP,
                chat_type=chat_type,
                frequency=Frequency.WEEKLY,
                timezone="UTC",
                topics=["trade"],
                next_digest_at=MONDAY_0900_KOLKATA,
            )
        )
    update = my_chat_member_update(
        bot.application.bot,
        chat_id=GROUP,
        chat_type=chat_type,
        old=old,
        new=new,
        can_post_messages=can_post,
    )
    assert texts(await bot.process(update)) == []
    subscriber = subscribed(seeded_engine, GROUP)
    assert (subscriber.active, subscriber.deactivated_reason, subscriber.next_digest_at) == (
        False, reason, None,
    )  # fmt: skip


async def test_a_group_that_became_a_supergroup_keeps_its_subscription(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    old_group, new_group = -4518810793, -1002471352452
    bot.request.set_member(old_group, ADMIN, "administrator")
    await bot.send("/subscribe", chat_id=old_group, chat_type="group", user_id=ADMIN)
    await bot.send("/timezone Asia/Dubai", chat_id=old_group, chat_type="group", user_id=ADMIN)
    for in_supergroup in (False, True):  # Telegram says it in both chats
        update = migration_update(
            bot.application.bot,
            group_id=old_group,
            supergroup_id=new_group,
            in_supergroup=in_supergroup,
        )
        assert texts(await bot.process(update)) == []
    assert row(seeded_engine, old_group) is None
    subscriber = subscribed(seeded_engine, new_group)
    assert (subscriber.chat_type, subscriber.timezone, subscriber.active) == (
        "supergroup", "Asia/Dubai", True,
    )  # fmt: skip
    # The group's administrators manage it under the new id.
    bot.request.set_member(new_group, ADMIN, "administrator")
    (reply,) = texts(
        await bot.send("/subscribe", chat_id=new_group, chat_type="supergroup", user_id=ADMIN)
    )
    assert "already subscribed" in reply


# -- channels, by editors -------------------------------------------------------------------


@pytest.fixture
def channel(bot: BotUnderTest) -> None:
    bot.request.add_chat(CHANNEL, "channel", title="Trade Watch News", username="tradewatchnews")
    bot.request.set_member(CHANNEL, bot.application.bot.id, "administrator")


@pytest.mark.usefixtures("editors", "channel")
async def test_an_editor_subscribes_and_manages_a_channel(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    as_editor = {"chat_id": EDITOR, "user_id": EDITOR}
    (reply,) = texts(await bot.send("/subscribe_channel @TradeWatchNews", **as_editor))
    assert "Subscribed." in reply
    assert "Monday 23 Nov at 09:00 (Asia/Kolkata)" in reply
    assert "/settings @tradewatchnews" in reply
    subscriber = subscribed(seeded_engine, CHANNEL)
    assert (subscriber.chat_type, subscriber.title, subscriber.added_by) == (
        "channel", "Trade Watch News", EDITOR,
    )  # fmt: skip
    assert not [
        c
        for c in bot.request.calls
        if c.params.get("chat_id") == CHANNEL and c.method == "sendMessage"
    ]

    shown = only(
        await bot.send("/settings https://t.me/tradewatchnews", **as_editor), "sendMessage"
    )
    assert "for Trade Watch News" in shown["plain"]
    assert "/unsubscribe_channel" in shown["plain"]
    shown = await tap(bot, shown, "Daily", **as_editor)
    assert subscribed(seeded_engine, CHANNEL).frequency is Frequency.DAILY

    # Someone without a role pressing (or forging) the channel's buttons is refused.
    forged = await press(bot, buttons(shown)["No digest"], chat_id=STRANGER, user_id=STRANGER)
    assert "not allowed" in alert(forged)
    assert subscribed(seeded_engine, CHANNEL).frequency is Frequency.DAILY

    (reply,) = texts(await bot.send(f"/unsubscribe_channel {CHANNEL}", **as_editor))
    assert "Unsubscribed @tradewatchnews" in reply
    assert not subscribed(seeded_engine, CHANNEL).active
    stale = await tap(bot, shown, "Weekly", **as_editor)
    assert "Trade Watch News is not subscribed" in stale["plain"]
    assert not buttons(stale)


@pytest.mark.usefixtures("editors", "channel")
@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/subscribe_channel", "Usage: /subscribe_channel @channel"),
        ("/subscribe_channel two words", "Usage: /subscribe_channel @channel"),
        ("/subscribe_channel @x", "Usage: /subscribe_channel @channel"),
        ("/subscribe_channel @nosuchchannel", "I can't find the channel @nosuchchannel"),
        ("/subscribe_channel @tradedesk", "@tradedesk is a supergroup, not a channel"),
        ("/subscribe_channel @quietnews", "I am not an administrator of @quietnews"),
        ("/subscribe_channel @readonlynews", "may not post messages there"),
        ("/unsubscribe_channel", "Usage: /unsubscribe_channel @channel"),
        ("/unsubscribe_channel @tradewatchnews", "@tradewatchnews is not subscribed"),
        ("/settings @nosuchchannel", "I can't find the channel @nosuchchannel"),
        (
            "/settings @tradewatchnews",
            "not subscribed. Subscribe it with /subscribe_channel @tradewatchnews",
        ),
    ],
)
async def test_channel_commands_say_what_is_wrong(
    bot: BotUnderTest, seeded_engine: Engine, command: str, expected: str
) -> None:
    bot.request.add_chat(-1001111111111, "supergroup", title="Trade desk", username="tradedesk")
    bot.request.add_chat(-1002222222222, "channel", title="Quiet", username="quietnews")
    bot.request.add_chat(-1003333333333, "channel", title="Read only", username="readonlynews")
    bot.request.set_member(
        -1003333333333, bot.application.bot.id, "administrator", can_post_messages=False
    )
    (reply,) = texts(await bot.send(command, chat_id=EDITOR, user_id=EDITOR))
    assert expected in reply
    with Session(seeded_engine) as session:
        assert session.exec(select(Subscriber)).all() == []


@pytest.mark.usefixtures("editors", "channel")
async def test_channel_commands_are_for_editors_in_private(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    (refused,) = texts(
        await bot.send("/subscribe_channel @tradewatchnews", chat_id=STRANGER, user_id=STRANGER)
    )
    assert "not allowed" in refused
    (refused,) = texts(await bot.send("/subscribe_channel @tradewatchnews", **in_group(EDITOR)))
    assert "in a private chat" in refused
    (refused,) = texts(
        await bot.send("/settings @tradewatchnews", chat_id=STRANGER, user_id=STRANGER)
    )
    assert "not allowed" in refused
    assert row(seeded_engine, CHANNEL) is None


async def test_the_command_menu_lists_the_subscription_commands(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    with session_scope(seeded_engine) as session:
        admins.bootstrap_owners(session, [1001])
    await bot.application.post_init(bot.application)
    menus = [c.params["commands"] for c in bot.request.calls if c.method == "setMyCommands"]
    readers = {command["command"]: command["description"] for command in menus[0]}
    assert {"subscribe", "unsubscribe", "settings", "timezone", "digest"} <= set(readers)
    assert readers["subscribe"] == "Weekly digest and instant alerts for this chat"
    owner = {command["command"] for command in menus[-1]}
    assert {"subscribe_channel", "unsubscribe_channel"} <= owner


# -- /digest -------------------------------------------------------------------------------


async def test_digest_for_anyone_is_the_weekly_digest_of_every_topic(bot: BotUnderTest) -> None:
    text = "\n\n".join(texts(await bot.send("/digest")))
    assert "Your weekly Trade Watch digest, 21 Nov 2026" in text
    for fact in (
        "FY2024-25",
        "USD 99.2 bn",
        "2025",
        "USD 116.12 bn",
        "NDTV (PTI)",
    ):
        assert fact in text
    for section in (
        "Recent changes",
        "Trade (USD bn)",
        "Commodity deals and restrictions",
        "Border trade passes",
        "Direct flights",
        "Sources",
    ):
        assert section in text


async def test_digest_for_a_subscriber_follows_its_settings(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    await bot.send("/subscribe")
    for data in ("tw1|opt|555|topic|deals", "tw1|opt|555|frequency|daily", "tw1|opt|555|chart|on"):
        await press(bot, data)
    with session_scope(seeded_engine) as session:
        subscriber = session.exec(select(Subscriber).where(Subscriber.chat_id == ASHA)).one()
        subscriber.last_digest_at = utc("2026-11-20 03:30")
        session.add(
            StatusChange(
                record_type=RecordType.PASS,
                record_key="shipki-la",
                field="status",
                old_value="reopening_scheduled",
                new_value="open",
                actor="tg:1002",
                at=utc("2026-11-20 10:00"),
            )
        )
    calls = await bot.send("/digest")
    text = "\n\n".join(texts(calls))
    assert "Your daily Trade Watch digest" in text
    assert "What changed since your last digest (20 Nov 2026 03:30 UTC)" in text
    assert "Shipki La" in text
    assert "Commodity deals and restrictions" not in text
    assert "Border trade passes" in text
    (chart,) = [call for call in calls if call["method"] == "sendPhoto"]
    assert "India–China trade" in chart["caption"]
    assert calls[-1]["method"] == "sendPhoto"  # after the digest text
    # Asking for it changes nothing: the next digest is still due, with the same "since".
    assert subscribed(seeded_engine).last_digest_at == utc("2026-11-20 03:30")
