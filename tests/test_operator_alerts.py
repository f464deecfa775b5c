"""Errors posted to the operators' chat, over HTTP to the Bot API emulator."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from telegram import Bot

from bot.config import Settings
from bot.logs import Redactor, request_context
from bot.rendering import MAX_MESSAGE_LENGTH, Renderer
from bot.telegram.operator_alerts import OperatorAlerts
from bot.telegram.plain import html_to_text
from devtools.botapi import BotApiEmulator
from tests.conftest import FAKE_TOKEN

OPERATORS = -1009876543210
log = logging.getLogger("tests.operator_alerts")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def emulator() -> Iterator[BotApiEmulator]:
    with BotApiEmulator() as running:
        yield running


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def alerts(
    emulator: BotApiEmulator, clock: Clock, make_settings: Callable[..., Settings]
) -> AsyncIterator[OperatorAlerts]:
    settings = make_settings(telegram_bot_token=FAKE_TOKEN)
    handler = OperatorAlerts(OPERATORS, Renderer(), Redactor.from_settings(settings), clock=clock)
    async with Bot(FAKE_TOKEN, base_url=f"{emulator.base_url}/bot") as bot:
        await handler.start(bot)
        try:
            yield handler
        finally:
            await handler.stop()


async def chat(emulator: BotApiEmulator, count: int) -> list[str]:
    """What the operators read once `count` messages have arrived (markup stripped)."""
    messages = await emulator.wait_for_messages_async(OPERATORS, count)
    return [html_to_text(message.text or "") for message in messages]


def order_failed(order_id: int) -> None:
    try:
        raise LookupError(f"order {order_id} is not in the ledger")
    except LookupError:
        log.exception("Could not deliver order %s", order_id)


async def test_each_distinct_error_at_most_once_a_window(
    alerts: OperatorAlerts, emulator: BotApiEmulator, clock: Clock
) -> None:
    with request_context("u41"):
        order_failed(1)
    order_failed(2)
    clock.now += 30
    order_failed(3)
    log.error("The digest tick took %d s", 95)

    first, second = await chat(emulator, 2)
    assert first.startswith("🚨 ERROR in tests.operator_alerts, request u41\n")
    assert "Could not deliver order 1\n" in first
    assert "LookupError: order 1 is not in the ledger" in first
    assert 'in order_failed\n    raise LookupError(f"order {order_id} is not in the ledger")' in (
        first
    )
    assert "pid " in first
    assert "similar" not in first
    assert "order 2" not in first
    assert "order 3" not in first
    assert "The digest tick took 95 s" in second
    assert "request -" in second
    assert "Traceback" not in second

    clock.now += 31  # a minute after the first message about orders
    order_failed(4)
    third = (await chat(emulator, 3))[2]
    assert "Could not deliver order 4" in third
    assert third.endswith("2 similar errors since the last message about this one (not posted).")

    order_failed(5)  # inside the new window: counted, not posted
    await alerts.stop()
    assert len(emulator.messages(OPERATORS)) == 3


async def test_an_error_logged_on_a_worker_thread_arrives(
    alerts: OperatorAlerts, emulator: BotApiEmulator
) -> None:
    await asyncio.to_thread(order_failed, 7)

    (text,) = await chat(emulator, 1)
    assert "Could not deliver order 7" in text


async def test_the_token_never_reaches_the_chat(
    alerts: OperatorAlerts, emulator: BotApiEmulator
) -> None:
    try:
        raise ConnectionError(f"POST https://api.telegram.org/bot{FAKE_TOKEN}/getMe failed")
    except ConnectionError:
        log.exception("Request to %s failed", f"/bot{FAKE_TOKEN}/getMe")

    (message,) = await emulator.wait_for_messages_async(OPERATORS, 1)
    assert message.text is not None
    assert FAKE_TOKEN.partition(":")[2] not in message.text
    text = html_to_text(message.text)
    assert "Request to /bot[redacted]/getMe failed" in text
    assert "ConnectionError: POST https://api.telegram.org/bot[redacted]/getMe failed" in text


async def test_a_long_traceback_fits_one_message_and_stays_valid_html(
    alerts: OperatorAlerts, emulator: BotApiEmulator
) -> None:
    def fail(depth: int) -> None:
        # Each level wraps the one below: a long chain of long, markup-heavy lines.
        try:
            if depth:
                fail(depth - 1)
            raise ValueError("<b>" + "&" * 5000)
        except Exception as error:
            raise RuntimeError(f"level {depth} " + "<>" * 200) from error

    try:
        fail(40)
    except RuntimeError:
        log.exception("Deep <failure> & co")

    (message,) = await emulator.wait_for_messages_async(OPERATORS, 1)
    assert message.text is not None
    assert len(message.text) <= MAX_MESSAGE_LENGTH  # markup included; the emulator parsed it
    text = html_to_text(message.text)
    assert text.startswith("🚨 ERROR in tests.operator_alerts")
    assert "Deep <failure> & co" in text
    assert "\nRuntimeError: level 40 <><>" in text
    # The traceback lost its oldest lines and kept its end, the outermost exception.
    assert "\n…\n" in text
    assert "in fail\n    raise RuntimeError" in text
    assert ", pid " in text.splitlines()[-1]


async def test_a_failed_send_is_a_warning_and_does_not_loop(
    alerts: OperatorAlerts, emulator: BotApiEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    emulator.fail_next("sendMessage", 400, "Bad Request: chat not found")
    order_failed(1)

    for _ in range(200):
        warnings = [r for r in caplog.records if r.name == "bot.telegram.operator_alerts"]
        if warnings:
            break
        await asyncio.sleep(0.01)
    (warning,) = warnings
    assert warning.levelno == logging.WARNING
    assert "Chat not found" in warning.getMessage()
    # Even an error from the module itself is not posted: it could be about posting.
    logging.getLogger("bot.telegram.operator_alerts").error("Posting failed")
    await asyncio.sleep(0.1)
    assert len(emulator.calls("sendMessage")) == 1

    log.error("Another failure")  # the consumer lives on
    (text,) = await chat(emulator, 1)
    assert "Another failure" in text
    assert len(emulator.calls("sendMessage")) == 2
