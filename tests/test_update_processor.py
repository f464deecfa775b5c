"""Updates run side by side, each chat's in arrival order (bot/telegram/update_processor.py).

The processor is driven the way PTB drives it in production: updates are put on the
application's update queue and PTB's fetcher hands each one to the processor as a task.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

from bot.telegram.metrics import Metrics
from bot.telegram.offline import OfflineRequest
from bot.telegram.update_processor import ChatOrderedUpdateProcessor, ordering_key
from tests.conftest import FAKE_TOKEN
from tests.factories import callback_update, inline_update, message_update

SLOW_CHAT = 111
FAST_CHAT = 222


def _application(
    processor: ChatOrderedUpdateProcessor, handled: list[tuple[int, str, float]]
) -> Any:
    """A PTB application whose one handler sleeps long for SLOW_CHAT and records the order."""
    request = OfflineRequest()
    application = (
        ApplicationBuilder()
        .token(FAKE_TOKEN)
        .request(request)
        .get_updates_request(request)
        .concurrent_updates(processor)
        .build()
    )

    async def record(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        assert update.effective_message is not None
        chat = update.effective_chat.id
        text = update.effective_message.text or ""
        await asyncio.sleep(0.5 if chat == SLOW_CHAT and text == "first" else 0.01)
        handled.append((chat, text, time.monotonic()))

    application.add_handler(MessageHandler(filters.TEXT, record))
    return application


async def _run(application: Any, updates: list[Update]) -> None:
    async with application:
        await application.start()
        for update in updates:
            await application.update_queue.put(update)
        await asyncio.wait_for(application.update_queue.join(), timeout=10)
        await application.stop()


async def test_a_slow_chat_does_not_delay_another_and_each_chat_keeps_its_order() -> None:
    handled: list[tuple[int, str, float]] = []
    processor = ChatOrderedUpdateProcessor(Metrics(), concurrency=4)
    application = _application(processor, handled)
    bot = application.bot
    updates = [
        message_update(bot, "first", chat_id=SLOW_CHAT, user_id=SLOW_CHAT),
        message_update(bot, "second", chat_id=SLOW_CHAT, user_id=SLOW_CHAT),
        message_update(bot, "third", chat_id=SLOW_CHAT, user_id=SLOW_CHAT),
        *(message_update(bot, f"q{n}", chat_id=FAST_CHAT, user_id=FAST_CHAT) for n in range(5)),
    ]
    started = time.monotonic()
    await _run(application, updates)

    slow = [text for chat, text, _ in handled if chat == SLOW_CHAT]
    fast = [text for chat, text, _ in handled if chat == FAST_CHAT]
    assert slow == ["first", "second", "third"]
    assert fast == [f"q{n}" for n in range(5)]
    # The other chat was answered while the slow chat's first update was still running.
    fast_done = max(at for chat, _, at in handled if chat == FAST_CHAT) - started
    slow_first_done = next(at for chat, text, at in handled if text == "first") - started
    assert fast_done < slow_first_done
    assert processor.chats_in_progress == 0  # lanes are dropped once a chat is idle


async def test_one_chat_flooding_does_not_take_every_slot() -> None:
    """Fifty updates of one chat wait in its lane, not in the shared slots."""
    handled: list[tuple[int, str, float]] = []
    processor = ChatOrderedUpdateProcessor(Metrics(), concurrency=2)
    application = _application(processor, handled)
    bot = application.bot
    flood = [
        message_update(bot, "first" if n == 0 else f"m{n}", chat_id=SLOW_CHAT, user_id=SLOW_CHAT)
        for n in range(50)
    ]
    other = message_update(bot, "hello", chat_id=FAST_CHAT, user_id=FAST_CHAT)
    started = time.monotonic()
    await _run(application, [*flood, other])

    other_done = next(at for chat, _, at in handled if chat == FAST_CHAT) - started
    assert other_done < 0.4  # not behind the flood's first, slow update
    assert [text for chat, text, _ in handled if chat == SLOW_CHAT] == [
        "first",
        *(f"m{n}" for n in range(1, 50)),
    ]


async def test_updates_are_counted_and_timed() -> None:
    metrics = Metrics()
    processor = ChatOrderedUpdateProcessor(metrics, concurrency=4)
    application = _application(processor, [])
    await _run(application, [message_update(application.bot, "hi")])
    assert metrics.updates.labels("message")._value.get() == 1


def test_the_lane_is_the_chat_or_else_the_user() -> None:
    request = OfflineRequest()
    bot = ApplicationBuilder().token(FAKE_TOKEN).request(request).build().bot
    assert ordering_key(message_update(bot, "hi", chat_id=-100, user_id=7)) == -100
    assert ordering_key(inline_update(bot, "nathu", user_id=7)) == 7
    assert ordering_key(callback_update(bot, "tw1|x", chat_id=9)) == 9
    assert ordering_key(object()) is None
