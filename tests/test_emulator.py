"""The Bot API emulator, driven by the real python-telegram-bot client.

Using PTB's `Bot` as the client proves that PTB accepts every answer (its `de_json` parses
the results, and its error mapping turns our error bodies into the exceptions the bot sees).
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import select
import signal
import socket
import struct
import subprocess
import sys
import time
import warnings
import zlib
from collections import deque
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    ChatMemberAdministrator,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import AIORateLimiter, ExtBot
from tornado.httpserver import HTTPServer
from tornado.web import Application, RequestHandler

from bot.telegram.app import build_application
from devtools.botapi import BOT_ID, BOT_USERNAME, BotApiEmulator, WebhookAttempt

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator, Sequence

    from sqlalchemy import Engine

    from bot.config import Settings

# PTB 22 warns on every RetryAfter that its retry_after will become a timedelta.
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*attribute `retry_after`:telegram.warnings.PTBDeprecationWarning"
)

TOKEN = "123:ABC-fake-token-123456789012345678901"
ROOT = Path(__file__).resolve().parents[1]
GROUP = -1001234567890  # a supergroup id, as Telegram numbers them


def make_bot(emulator: BotApiEmulator) -> Bot:
    return Bot(
        token=TOKEN,
        base_url=f"{emulator.base_url}/bot",
        base_file_url=f"{emulator.base_url}/file/bot",
    )


@pytest.fixture
def emulator() -> Iterator[BotApiEmulator]:
    with BotApiEmulator() as emulator:
        yield emulator


@pytest.fixture
async def bot(emulator: BotApiEmulator) -> AsyncIterator[Bot]:
    async with make_bot(emulator) as bot:
        yield bot


def retry_seconds(error: RetryAfter) -> float:
    value = error.retry_after  # an int today, a timedelta with PTB_TIMEDELTA=1
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def send_until_limited(bot: Bot, chat_id: int, attempts: int) -> RetryAfter:
    for _ in range(attempts):
        try:
            await bot.send_message(chat_id, "flood")
        except RetryAfter as error:
            return error
    raise AssertionError(f"{attempts} quick messages to chat {chat_id} got no 429")


def png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        checksum = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + checksum

    rows = b"".join(b"\x00" + b"\x00" * width * 3 for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def keyboard(data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("Refresh", callback_data=data)]])


# -- the basics ---------------------------------------------------------------------------------


async def test_get_me_is_the_trade_watch_bot(bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (BOT_ID, BOT_USERNAME, True)
    assert me.can_join_groups
    assert me.supports_inline_queries


async def test_send_message_answers_a_message_and_records_it(
    bot: Bot, emulator: BotApiEmulator
) -> None:
    sent = await bot.send_message(
        555, "<b>Hello</b> &amp; welcome", parse_mode=ParseMode.HTML, reply_markup=keyboard("go")
    )
    assert sent.text == "Hello & welcome"
    assert sent.chat.id == 555
    assert sent.from_user is not None
    assert sent.from_user.id == BOT_ID
    assert sent.text_html == "<b>Hello</b> &amp; welcome"
    assert sent.reply_markup == keyboard("go")

    (record,) = emulator.messages(555)
    assert record.method == "sendMessage"
    assert record.text == "<b>Hello</b> &amp; welcome"
    assert record.parse_mode == "HTML"
    assert record.message_id == sent.message_id
    assert record.reply_markup == {
        "inline_keyboard": [[{"text": "Refresh", "callback_data": "go"}]]
    }


async def test_message_ids_increase_per_chat(bot: Bot) -> None:
    first = await bot.send_message(555, "one")
    second = await bot.send_message(555, "two")
    elsewhere = await bot.send_message(GROUP, "three")
    assert (first.message_id, second.message_id, elsewhere.message_id) == (1, 2, 1)
    assert elsewhere.chat.type == "supergroup"


async def test_html_entities_use_utf16_offsets(bot: Bot) -> None:
    text = '<b>😀</b> <a href="https://example.org">link</a> <i>x</i>'
    sent = await bot.send_message(555, text, parse_mode=ParseMode.HTML)
    assert sent.text == "😀 link x"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        ("bold", 0, 2),
        ("text_link", 3, 4),
        ("italic", 8, 1),
    ]
    assert sent.text_html == text


async def test_wait_for_messages_from_another_thread(bot: Bot, emulator: BotApiEmulator) -> None:
    waiter = asyncio.create_task(asyncio.to_thread(emulator.wait_for_messages, 555, 2))
    await bot.send_message(555, "one")
    await bot.send_message(555, "two")
    records = await asyncio.wait_for(waiter, 10)
    assert [record.text for record in records] == ["one", "two"]


async def test_wait_for_messages_times_out_listing_what_arrived(
    bot: Bot, emulator: BotApiEmulator
) -> None:
    await bot.send_message(555, "the only one")
    with pytest.raises(BadRequest):
        await bot.send_message(555, "x" * 5000)
    with pytest.raises(TimeoutError) as caught:
        await emulator.wait_for_messages_async(555, 2, timeout=0.2)
    report = str(caught.value)
    assert "expected 2 message(s) for chat 555" in report
    assert "'the only one'" in report
    assert "failed sendMessage: 400 Bad Request: message is too long" in report


# -- updates ---------------------------------------------------------------------------------


async def test_get_updates_returns_pushed_messages_until_confirmed(
    bot: Bot, emulator: BotApiEmulator
) -> None:
    emulator.push_message(555, "/start now")
    emulator.push_message(555, "hello")

    updates = await bot.get_updates()
    assert [u.message.text for u in updates if u.message] == ["/start now", "hello"]
    command = updates[0].message
    assert command is not None
    assert command.parse_entities() == {command.entities[0]: "/start"}
    assert command.from_user is not None
    assert command.from_user.id == 555

    assert len(await bot.get_updates(limit=1)) == 1  # not confirmed yet
    assert await bot.get_updates(offset=updates[-1].update_id + 1) == ()
    assert emulator.pending_updates() == []


async def test_long_polling_waits_for_a_pushed_update(bot: Bot, emulator: BotApiEmulator) -> None:
    asyncio.get_running_loop().call_later(0.3, emulator.push_message, 555, "late")
    updates = await bot.get_updates(timeout=10)
    assert [u.message.text for u in updates if u.message] == ["late"]


async def test_group_command_mentioning_the_bot(bot: Bot, emulator: BotApiEmulator) -> None:
    sent = await bot.send_message(GROUP, "Pinned digest")
    emulator.push_message(
        GROUP,
        "/start",
        chat_type="supergroup",
        user_id=42,
        mention=True,
        reply_to=sent.message_id,
    )
    (update,) = await bot.get_updates()
    message = update.message
    assert message is not None
    assert message.text == f"/start@{BOT_USERNAME}"
    assert message.entities[0].length == len(message.text)
    assert (message.chat.type, message.chat.id) == ("supergroup", GROUP)
    assert message.from_user is not None
    assert message.from_user.id == 42
    assert message.reply_to_message is not None
    assert message.reply_to_message.text == "Pinned digest"
    assert message.message_id == sent.message_id + 1


async def test_callback_query_parses_and_can_be_answered(
    bot: Bot, emulator: BotApiEmulator
) -> None:
    sent = await bot.send_message(555, "Pick one", reply_markup=keyboard("refresh"))
    emulator.push_callback_query(555, sent.message_id, "refresh")

    (update,) = await bot.get_updates()
    query = update.callback_query
    assert query is not None
    assert query.data == "refresh"
    assert query.from_user.id == 555
    assert query.message is not None
    assert query.message.message_id == sent.message_id
    assert await bot.answer_callback_query(query.id, text="Updated")
    (answer,) = emulator.callback_answers()
    assert (answer.callback_query_id, answer.text) == (query.id, "Updated")

    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query("not-a-query")


async def test_inline_query_parses_and_can_be_answered(bot: Bot, emulator: BotApiEmulator) -> None:
    emulator.push_inline_query(555, "tariffs")
    (update,) = await bot.get_updates()
    query = update.inline_query
    assert query is not None
    assert (query.query, query.from_user.id) == ("tariffs", 555)

    result = InlineQueryResultArticle("r1", "Tariffs", InputTextMessageContent("Tariffs: ..."))
    assert await bot.answer_inline_query(query.id, [result], cache_time=0)
    (answer,) = emulator.inline_answers()
    assert answer.inline_query_id == query.id
    assert answer.results[0]["id"] == "r1"


async def test_edits_change_the_recorded_message(bot: Bot, emulator: BotApiEmulator) -> None:
    sent = await bot.send_message(555, "v1", reply_markup=keyboard("a"))
    edited = await bot.edit_message_text("<b>v2</b>", 555, sent.message_id, parse_mode="HTML")
    assert isinstance(edited, type(sent))
    assert edited.text == "v2"
    assert edited.edit_date is not None
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("<b>v2</b>", 555, sent.message_id, parse_mode="HTML")
    await bot.edit_message_reply_markup(555, sent.message_id, reply_markup=keyboard("b"))
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("v3", 555, 999)

    records = emulator.messages(555)
    assert [r.method for r in records] == [
        "sendMessage",
        "editMessageText",
        "editMessageReplyMarkup",
    ]
    assert {r.message_id for r in records} == {sent.message_id}
    (edit,) = emulator.wait_for_messages(555, 1, method="editMessageText")
    assert edit.text == "<b>v2</b>"
    assert records[-1].reply_markup == keyboard("b").to_dict()


# -- photos -----------------------------------------------------------------------------------


async def test_send_photo_by_upload_then_by_file_id(bot: Bot, emulator: BotApiEmulator) -> None:
    image = png(640, 480)
    first = await bot.send_photo(555, image, caption="<b>Chart</b>", parse_mode="HTML")
    largest = first.photo[-1]
    assert (largest.width, largest.height) == (640, 480)
    assert first.caption == "Chart"

    again = await bot.send_photo(GROUP, largest.file_id)
    assert again.photo[-1].file_id == largest.file_id
    assert [r.file_id for r in emulator.messages(method="sendPhoto")] == [largest.file_id] * 2

    file = await bot.get_file(largest.file_id)
    assert bytes(await file.download_as_bytearray()) == image

    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_photo(555, "no-such-file-id")


# -- errors Telegram returns ----------------------------------------------------------------


async def test_text_length_limits(bot: Bot) -> None:
    await bot.send_message(555, "x" * 4096)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(555, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(555, "")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("<b>unclosed", 'can\'t find end tag corresponding to start tag "b"'),
        ("<div>block</div>", 'unsupported start tag "div" at byte offset 0'),
        ("<b><i>x</b></i>", 'unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("1 < 2", 'unsupported start tag "" at byte offset 2'),
        ('<span class="x">s</span>', 'tag "span" must have class "tg-spoiler" at byte offset 0'),
    ],
)
async def test_broken_html_is_a_bad_request(bot: Bot, text: str, reason: str) -> None:
    with pytest.raises(BadRequest) as caught:
        await bot.send_message(555, text, parse_mode=ParseMode.HTML)
    assert caught.value.message.lower() == f"can't parse entities: {reason}".lower()


async def test_supported_html_is_accepted(bot: Bot) -> None:
    text = (
        "<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s><del>d</del>"
        '<tg-spoiler>t</tg-spoiler><span class="tg-spoiler">p</span><a href="https://x.org">a</a>'
        '<code>c</code><pre><code class="language-python">x = 1</code></pre>'
        "<blockquote>q</blockquote>"
    )
    sent = await bot.send_message(555, text, parse_mode=ParseMode.HTML)
    assert sent.text == "bsieunsdtpacx = 1q"
    assert sent.entities[-2].language == "python"


async def test_callback_data_over_64_bytes_is_rejected(bot: Bot) -> None:
    await bot.send_message(555, "ok", reply_markup=keyboard("x" * 64))
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.send_message(555, "too long", reply_markup=keyboard("x" * 65))
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.send_message(555, "multibyte", reply_markup=keyboard("é" * 33))


# -- injected faults -------------------------------------------------------------------------


async def test_injected_429_is_retry_after(bot: Bot, emulator: BotApiEmulator) -> None:
    emulator.fail_next("sendMessage", 429, retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(555, "x")
    assert retry_seconds(caught.value) == 7
    await bot.send_message(555, "x")  # only the next call failed
    assert emulator.stats()["too_many_requests"] == 1
    assert [c.status for c in emulator.calls("sendMessage")] == [429, 200]


async def test_fail_next_can_target_a_chat_and_count(bot: Bot, emulator: BotApiEmulator) -> None:
    emulator.fail_next("sendMessage", 502, count=2, chat_id=42)
    await bot.send_message(43, "other chat")
    for _ in range(2):
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(42, "x")
    await bot.send_message(42, "x")


async def test_blocked_chat_is_forbidden(bot: Bot, emulator: BotApiEmulator) -> None:
    emulator.block_chat(42)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(42, "x")
    await bot.send_message(43, "x")
    emulator.unblock_chat(42)
    await bot.send_message(42, "x")


async def test_fail_fraction_storm_is_seeded(bot: Bot, emulator: BotApiEmulator) -> None:
    emulator.fail_fraction(0.5, retry_after=2, seed=7)
    outcomes = await asyncio.gather(
        *(bot.send_message(chat_id, "x") for chat_id in range(1, 41)), return_exceptions=True
    )
    failures = [outcome for outcome in outcomes if isinstance(outcome, RetryAfter)]
    assert 0 < len(failures) < 40
    assert {retry_seconds(failure) for failure in failures} == {2}
    assert emulator.stats()["too_many_requests"] == len(failures)
    emulator.fail_fraction(0)
    await bot.send_message(1, "calm again")


async def test_dropped_connection_is_a_network_error(bot: Bot, emulator: BotApiEmulator) -> None:
    emulator.drop_connections("sendMessage")
    with pytest.raises(NetworkError):
        await bot.send_message(555, "lost")
    await bot.send_message(555, "delivered")
    assert [c.status for c in emulator.calls("sendMessage")] == [0, 200]
    assert [r.text for r in emulator.messages(555)] == ["delivered"]


async def test_slow_answer_times_out(bot: Bot, emulator: BotApiEmulator) -> None:
    emulator.set_delay(3.0, "getChat")
    with pytest.raises(TimedOut):
        await bot.get_chat(555, read_timeout=0.3)
    emulator.set_delay(0, "getChat")
    assert (await bot.get_chat(555)).id == 555


# -- flood limits ----------------------------------------------------------------------------


async def test_private_chat_limit_allows_a_burst_of_three() -> None:
    with BotApiEmulator(enforce_limits=True) as emulator:
        async with make_bot(emulator) as bot:
            for _ in range(3):
                await bot.send_message(555, "burst")
            limited = await send_until_limited(bot, 555, attempts=20)
            assert retry_seconds(limited) >= 1
            await bot.send_message(556, "another chat is unaffected")
        assert emulator.stats()["too_many_requests"] == 1


async def test_group_limit_is_twenty_a_minute() -> None:
    with BotApiEmulator(enforce_limits=True) as emulator:
        async with make_bot(emulator) as bot:
            for _ in range(20):
                await bot.send_message(GROUP, "burst")
            with pytest.raises(RetryAfter) as caught:
                await bot.send_message(GROUP, "one too many")
            assert retry_seconds(caught.value) >= 1


async def test_ptb_rate_limiter_defaults_get_no_429s() -> None:
    with BotApiEmulator(enforce_limits=True) as emulator:
        limited = ExtBot(
            TOKEN,
            base_url=f"{emulator.base_url}/bot",
            rate_limiter=AIORateLimiter(max_retries=0),
        )
        async with limited:
            await asyncio.gather(*(limited.send_message(chat_id, "hi") for chat_id in range(1, 61)))
        assert emulator.stats()["too_many_requests"] == 0
        assert len(emulator.messages()) == 60


# -- other methods ---------------------------------------------------------------------------


async def test_commands_round_trip(bot: Bot, emulator: BotApiEmulator) -> None:
    commands = [BotCommand("start", "What Trade Watch covers"), BotCommand("help", "How to use")]
    scope = BotCommandScopeAllPrivateChats()
    assert await bot.set_my_commands(commands, scope=scope)
    assert await bot.get_my_commands(scope=scope) == tuple(commands)
    assert await bot.get_my_commands() == ()
    assert [c["command"] for c in emulator.commands({"type": "all_private_chats"})] == [
        "start",
        "help",
    ]
    assert await bot.delete_my_commands(scope=scope)
    assert await bot.get_my_commands(scope=scope) == ()
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Start!", "no")])


async def test_chat_and_member_lookups(bot: Bot, emulator: BotApiEmulator) -> None:
    emulator.push_message(555, "hi", first_name="Ravi")
    chat = await bot.get_chat(555)
    assert (chat.id, chat.type, chat.first_name) == (555, "private", "Ravi")

    member = await bot.get_chat_member(GROUP, BOT_ID)
    assert (member.status, member.user.id) == ("member", BOT_ID)
    emulator.set_chat_member(GROUP, 42, "administrator")
    admin = await bot.get_chat_member(GROUP, 42)
    assert isinstance(admin, ChatMemberAdministrator)
    admins = await bot.get_chat_administrators(GROUP)
    assert [(a.status, a.user.id) for a in admins] == [("creator", 1), ("administrator", 42)]
    with pytest.raises(BadRequest, match=r"(?i)no administrators in the private chat"):
        await bot.get_chat_administrators(555)


async def test_webhook_blocks_get_updates_until_deleted(bot: Bot) -> None:
    assert await bot.set_webhook("https://bot.example/hook")
    assert (await bot.get_webhook_info()).url == "https://bot.example/hook"
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()
    assert await bot.delete_webhook()
    assert await bot.get_updates() == ()
    assert await bot.close()
    assert await bot.log_out()


# -- HTTP details and control endpoints ---------------------------------------------------------


async def test_error_bodies_are_telegrams(emulator: BotApiEmulator) -> None:
    emulator.fail_next("sendMessage", 429, retry_after=5)
    async with httpx.AsyncClient(base_url=emulator.base_url) as client:
        limited = await client.post(f"/bot{TOKEN}/sendMessage", data={"chat_id": 1, "text": "x"})
        unknown = await client.post(f"/bot{TOKEN}/sendTelepathy", data={"chat_id": 1})
        as_json = await client.post(f"/bot{TOKEN}/sendMessage", json={"chat_id": 1, "text": "x"})
        bad_token = await client.post("/botnot-a-token/getMe")
    assert limited.status_code == 429
    assert limited.content == (
        b'{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 5",'
        b'"parameters":{"retry_after":5}}'
    )
    assert unknown.status_code == 404
    assert unknown.json() == {
        "ok": False,
        "error_code": 404,
        "description": "Not Found: method not found",
    }
    assert as_json.json()["result"]["text"] == "x"
    assert bad_token.status_code == 401


async def test_control_endpoints(emulator: BotApiEmulator) -> None:
    async with httpx.AsyncClient(base_url=emulator.base_url) as client:
        pushed = await client.post(
            "/_emulator/updates", json={"message": {"chat_id": 777, "text": "/help"}}
        )
        assert pushed.json() == {"ok": True, "result": {"update_id": 1}}
        updates = (await client.post(f"/bot{TOKEN}/getUpdates")).json()["result"]
        assert updates[0]["message"]["text"] == "/help"
        assert updates[0]["message"]["entities"][0]["type"] == "bot_command"

        faults = {
            "fail_next": [{"method": "sendMessage", "error_code": 403}],
            "set_delay": {"delay_seconds": 0.01},
        }
        assert (await client.post("/_emulator/faults", json=faults)).status_code == 200
        denied = await client.post(f"/bot{TOKEN}/sendMessage", data={"chat_id": 777, "text": "a"})
        assert denied.status_code == 403
        await client.post(f"/bot{TOKEN}/sendMessage", data={"chat_id": 777, "text": "b"})

        sent = (await client.get("/_emulator/messages", params={"chat_id": 777})).json()
        assert [m["text"] for m in sent["result"]] == ["b"]
        stats = (await client.get("/_emulator/stats")).json()["result"]
        assert stats["calls"] == {"getUpdates": 1, "sendMessage": 2}
        assert stats["messages"] == 1

        bad = await client.post("/_emulator/faults", json={"format_disk": {}})
        assert bad.status_code == 400
        assert (await client.post("/_emulator/reset")).json()["ok"]
        assert (await client.get("/_emulator/messages")).json()["result"] == []
        assert (await client.get("/_emulator/nothing")).status_code == 404


@pytest.mark.slow
def test_process_mode_serves_and_stops_on_sigterm() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "devtools.botapi", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        readable, _, _ = select.select([process.stdout], [], [], 30)
        assert readable, "the emulator printed nothing within 30 s"
        first_line = process.stdout.readline().strip()
        assert first_line.startswith("listening on http://127.0.0.1:")
        base_url = first_line.removeprefix("listening on ")

        with httpx.Client(base_url=base_url, timeout=10) as client:
            me = client.post(f"/bot{TOKEN}/getMe").json()
            assert me["result"]["username"] == BOT_USERNAME
            client.post("/_emulator/updates", json={"message": {"chat_id": 9, "text": "hi"}})
            updates = client.post(f"/bot{TOKEN}/getUpdates", data={"timeout": 1}).json()
            assert updates["result"][0]["message"]["text"] == "hi"

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


# -- the real application ------------------------------------------------------------------------


async def test_the_bot_answers_start_through_the_emulator(
    emulator: BotApiEmulator,
    make_settings: Callable[..., Settings],
    seeded_engine: Engine,
) -> None:
    settings = make_settings(telegram_bot_token=TOKEN, telegram_api_base_url=emulator.base_url)
    application = build_application(settings, engine=seeded_engine)
    async with application:
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0.0, timeout=1)
        await application.start()
        try:
            emulator.push_message(555, "/start")
            (reply,) = await emulator.wait_for_messages_async(555, 1)
        finally:
            await application.updater.stop()
            await application.stop()
    assert reply.method == "sendMessage"
    assert reply.parse_mode == "HTML"
    assert reply.text


# -- webhook delivery ------------------------------------------------------------------------------

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass(frozen=True)
class Delivery:
    """One request the webhook receiver got, and the status it answered."""

    headers: dict[str, str]
    body: bytes
    status: int

    def update(self) -> Update:
        return Update.de_json(json.loads(self.body))


class WebhookReceiver:
    """A webhook endpoint on 127.0.0.1 (ephemeral port) that answers as it is told.

    The socket is bound at once but listens only after `listen()`: until then a delivery finds
    the connection refused, with no other process able to take the port meanwhile.
    """

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.statuses: deque[int] = deque()  # answered first, one per request
        self.status = 200  # answered once `statuses` is used up
        self.delays: deque[float] = deque()  # seconds to wait before answering, one per request
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.setblocking(False)
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}/hook"
        self._server: HTTPServer | None = None

    def listen(self) -> None:
        self._socket.listen(16)
        application = Application(
            [(r"/hook", _HookHandler, {"receiver": self})], log_function=lambda _handler: None
        )
        self._server = HTTPServer(application)
        self._server.add_sockets([self._socket])

    async def received(self, count: int, within: float = 5.0) -> None:
        """Return once `count` requests have arrived (answered or not)."""
        deadline = time.monotonic() + within
        while len(self.deliveries) < count:
            assert time.monotonic() < deadline, f"{count} request(s) expected"
            await asyncio.sleep(0.01)

    def accepted(self) -> list[Update]:
        return [d.update() for d in self.deliveries if 200 <= d.status < 300]

    async def close(self) -> None:
        if self._server is None:
            self._socket.close()
            return
        self._server.stop()
        await self._server.close_all_connections()


class _HookHandler(RequestHandler):
    receiver: WebhookReceiver

    def initialize(self, receiver: WebhookReceiver) -> None:
        self.receiver = receiver

    async def post(self) -> None:
        receiver = self.receiver
        status = receiver.statuses.popleft() if receiver.statuses else receiver.status
        delay = receiver.delays.popleft() if receiver.delays else 0.0
        receiver.deliveries.append(Delivery(dict(self.request.headers), self.request.body, status))
        if delay:
            await asyncio.sleep(delay)
        self.set_status(status)
        self.finish()


@pytest.fixture
async def unready_receiver() -> AsyncIterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    await receiver.close()


@pytest.fixture
async def receiver(unready_receiver: WebhookReceiver) -> WebhookReceiver:
    unready_receiver.listen()
    return unready_receiver


@pytest.fixture
async def api(emulator: BotApiEmulator) -> AsyncIterator[httpx.AsyncClient]:
    """Raw Bot API calls, as PTB makes them: a form body, JSON-encoded lists."""
    async with httpx.AsyncClient(base_url=f"{emulator.base_url}/bot{TOKEN}") as client:
        yield client


async def eventually(
    emulator: BotApiEmulator, count: int, within: float = 5.0
) -> list[WebhookAttempt]:
    """The webhook attempts, once there are at least `count` of them."""
    deadline = time.monotonic() + within
    while len(attempts := emulator.webhook_attempts()) < count:
        assert time.monotonic() < deadline, f"{count} attempt(s) expected, got {attempts}"
        await asyncio.sleep(0.01)
    return attempts


async def webhook_info(api: httpx.AsyncClient) -> dict[str, object]:
    answer = (await api.post("/getWebhookInfo")).json()
    assert answer["ok"]
    result: dict[str, object] = answer["result"]
    return result


def texts(updates: Sequence[Update]) -> list[str | None]:
    return [u.message.text if u.message else None for u in updates]


async def test_webhook_delivers_updates_in_order_with_the_secret(
    emulator: BotApiEmulator, receiver: WebhookReceiver, api: httpx.AsyncClient
) -> None:
    emulator.push_message(555, "queued before the webhook")
    answer = await api.post("/setWebhook", data={"url": receiver.url, "secret_token": "s3cr-t_X"})
    assert answer.json() == {"ok": True, "result": True}
    emulator.push_callback_query(555, 1, "refresh")
    emulator.push_inline_query(555, "tariffs")
    await emulator.wait_for_webhook_idle_async(timeout=5)

    updates = receiver.accepted()
    assert [u.update_id for u in updates] == [1, 2, 3]
    assert texts(updates)[0] == "queued before the webhook"
    assert updates[1].callback_query is not None
    assert updates[1].callback_query.data == "refresh"
    assert updates[2].inline_query is not None
    assert updates[2].inline_query.query == "tariffs"
    for delivery in receiver.deliveries:
        assert delivery.headers[SECRET_HEADER] == "s3cr-t_X"
        assert delivery.headers["Content-Type"] == "application/json"
    assert [
        (a.update_id, a.status, a.error, a.secret_token) for a in emulator.webhook_attempts()
    ] == [
        (1, 200, None, "s3cr-t_X"),
        (2, 200, None, "s3cr-t_X"),
        (3, 200, None, "s3cr-t_X"),
    ]
    assert await webhook_info(api) == {
        "url": receiver.url,
        "has_custom_certificate": False,
        "pending_update_count": 0,
        "max_connections": 40,
    }
    async with httpx.AsyncClient(base_url=emulator.base_url) as control:
        logged = (await control.get("/_emulator/webhook_attempts")).json()["result"]
    assert [(a["update_id"], a["status"], a["url"]) for a in logged] == [
        (n, 200, receiver.url) for n in (1, 2, 3)
    ]
    with pytest.raises(Conflict, match="webhook is active"):
        async with make_bot(emulator) as bot:
            await bot.get_updates()


async def test_webhook_refusals_are_retried_until_accepted(
    emulator: BotApiEmulator, receiver: WebhookReceiver, api: httpx.AsyncClient
) -> None:
    receiver.status = 403
    await api.post("/setWebhook", data={"url": receiver.url})
    started = int(time.time())
    emulator.push_message(555, "knock knock")

    first, _ = await eventually(emulator, 2)
    assert (first.update_id, first.status, first.secret_token) == (1, 403, None)
    assert first.error == "Wrong response from the webhook: 403 Forbidden"
    info = await webhook_info(api)
    assert info["last_error_message"] == "Wrong response from the webhook: 403 Forbidden"
    assert isinstance(info["last_error_date"], int)
    assert info["last_error_date"] >= started
    assert info["pending_update_count"] == 1

    receiver.statuses.append(500)
    receiver.status = 200
    await emulator.wait_for_webhook_idle_async(timeout=5)
    attempts = emulator.webhook_attempts()
    assert {a.update_id for a in attempts} == {1}
    assert [a.status for a in attempts[-2:]] == [500, 200]
    assert {a.status for a in attempts[:-2]} == {403}
    assert texts(receiver.accepted()) == ["knock knock"]  # accepted once
    assert SECRET_HEADER not in receiver.deliveries[0].headers
    info = await webhook_info(api)
    assert info["pending_update_count"] == 0
    # As on Telegram, the last error stays on view after deliveries recover.
    assert (
        info["last_error_message"] == "Wrong response from the webhook: 500 Internal Server Error"
    )


async def test_webhook_retries_a_refused_connection(
    emulator: BotApiEmulator, unready_receiver: WebhookReceiver, api: httpx.AsyncClient
) -> None:
    await api.post("/setWebhook", data={"url": unready_receiver.url})
    emulator.push_message(555, "anyone there?")
    (refused, *_) = await eventually(emulator, 1)
    assert (refused.status, refused.error) == (None, "Connection refused")
    assert (await webhook_info(api))["last_error_message"] == "Connection refused"

    unready_receiver.listen()
    await emulator.wait_for_webhook_idle_async(timeout=5)
    assert texts(unready_receiver.accepted()) == ["anyone there?"]
    assert emulator.webhook_attempts()[-1].status == 200


async def test_webhook_read_timeout_is_retried(receiver: WebhookReceiver) -> None:
    receiver.delays.append(1.0)
    with BotApiEmulator(webhook_timeout_seconds=0.2, webhook_retry_seconds=0.05) as emulator:
        async with httpx.AsyncClient(base_url=f"{emulator.base_url}/bot{TOKEN}") as api:
            await api.post("/setWebhook", data={"url": receiver.url})
            emulator.push_message(555, "slowly")
            await emulator.wait_for_webhook_idle_async(timeout=5)
            assert (await webhook_info(api))["last_error_message"] == "Read timeout expired"
        first, *_, last = emulator.webhook_attempts()
        assert (first.status, first.error) == (None, "Read timeout expired")
        assert (last.status, last.error) == (200, None)


async def test_delete_webhook_stops_delivery_and_get_updates_serves_the_queue(
    emulator: BotApiEmulator, receiver: WebhookReceiver, api: httpx.AsyncClient
) -> None:
    receiver.status = 500
    await api.post("/setWebhook", data={"url": receiver.url, "secret_token": "abc"})
    emulator.push_message(555, "first")
    await eventually(emulator, 1)
    with pytest.raises(TimeoutError, match="500 Wrong response from the webhook: 500 Internal"):
        await emulator.wait_for_webhook_idle_async(timeout=0.05)
    conflict = await api.post("/getUpdates")
    assert conflict.status_code == 409

    assert (await api.post("/deleteWebhook")).json()["result"] is True
    attempts = emulator.webhook_attempts()
    emulator.push_message(555, "second")
    async with make_bot(emulator) as bot:
        updates = await bot.get_updates()
    assert texts(updates) == ["first", "second"]
    assert await webhook_info(api) == {
        "url": "",
        "has_custom_certificate": False,
        "pending_update_count": 2,
    }
    # An attempt under way when the webhook went is abandoned, not recorded.
    assert emulator.webhook_attempts() == attempts


async def test_drop_pending_updates_drops_the_queue(
    emulator: BotApiEmulator, receiver: WebhookReceiver, api: httpx.AsyncClient
) -> None:
    emulator.push_message(555, "stale one")
    emulator.push_message(555, "stale two")
    await api.post("/setWebhook", data={"url": receiver.url, "drop_pending_updates": "true"})
    emulator.push_message(555, "fresh")
    await asyncio.to_thread(emulator.wait_for_webhook_idle, 5)  # the blocking form, off the loop
    assert texts(receiver.accepted()) == ["fresh"]

    receiver.status = 502
    emulator.push_message(555, "undeliverable")
    await eventually(emulator, 2)
    await api.post("/deleteWebhook", data={"drop_pending_updates": "true"})
    assert emulator.pending_updates() == []
    assert (await api.post("/getUpdates")).json() == {"ok": True, "result": []}


@pytest.mark.parametrize("secret", ["has space", "slash/", "dots.", "é", "x" * 257])
async def test_malformed_secret_token_is_a_bad_request(
    api: httpx.AsyncClient, receiver: WebhookReceiver, secret: str
) -> None:
    answer = await api.post("/setWebhook", data={"url": receiver.url, "secret_token": secret})
    assert answer.status_code == 400
    assert answer.json() == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: secret token contains unallowed characters",
    }
    assert (await webhook_info(api))["url"] == ""


async def test_set_webhook_checks_what_ptb_sends(
    bot: Bot, emulator: BotApiEmulator, receiver: WebhookReceiver
) -> None:
    with pytest.raises(BadRequest, match=r"(?i)secret token contains unallowed characters"):
        await bot.set_webhook(receiver.url, secret_token="not+base64=")
    with pytest.raises(BadRequest, match=r"(?i)bad webhook"):
        await bot.set_webhook("ftp://127.0.0.1/hook")
    assert await bot.set_webhook(
        receiver.url, secret_token="x" * 256, max_connections=500, allowed_updates=["message"]
    )
    info = await bot.get_webhook_info()
    assert (info.url, info.max_connections, info.allowed_updates) == (
        receiver.url,
        100,  # clamped, as Telegram does
        ("message",),
    )
    assert info.last_error_message is None


async def test_allowed_updates_filters_what_is_delivered(
    emulator: BotApiEmulator, receiver: WebhookReceiver, api: httpx.AsyncClient
) -> None:
    emulator.push_message(555, "queued before the filter")
    await api.post("/setWebhook", json={"url": receiver.url, "allowed_updates": ["callback_query"]})
    emulator.push_message(555, "not wanted")
    emulator.push_callback_query(555, 1, "wanted")
    await emulator.wait_for_webhook_idle_async(timeout=5)

    updates = receiver.accepted()
    # Telegram's filter applies to updates made after setWebhook; earlier ones still arrive.
    assert texts(updates[:1]) == ["queued before the filter"]
    assert [u.callback_query.data for u in updates[1:] if u.callback_query] == ["wanted"]
    assert len(updates) == 2
    assert (await webhook_info(api))["allowed_updates"] == ["callback_query"]

    await api.post("/setWebhook", data={"url": receiver.url, "allowed_updates": "[]"})
    emulator.push_message(555, "everything again")
    await emulator.wait_for_webhook_idle_async(timeout=5)
    assert texts(receiver.accepted()[-1:]) == ["everything again"]
    assert "allowed_updates" not in await webhook_info(api)


async def test_reset_and_stop_end_the_pusher_cleanly(
    receiver: WebhookReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    receiver.delays.extend([0.3, 5.0])
    emulator = BotApiEmulator().start()
    try:
        async with httpx.AsyncClient(base_url=f"{emulator.base_url}/bot{TOKEN}") as api:
            await api.post("/setWebhook", data={"url": receiver.url})
            emulator.push_message(555, "interrupted by a reset")
            await receiver.received(1)  # the delivery is under way
            emulator.reset()
            assert await webhook_info(api) == {
                "url": "",
                "has_custom_certificate": False,
                "pending_update_count": 0,
            }
            await api.post("/setWebhook", data={"url": receiver.url})
            emulator.push_message(555, "interrupted by stop")
            await receiver.received(2)
    finally:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            await asyncio.to_thread(emulator.stop)
            attempts = emulator.webhook_attempts()
            del emulator
            gc.collect()  # an unclosed socket or a pending task would complain now
    assert attempts == []  # neither abandoned delivery was recorded
    assert [str(w.message) for w in caught] == []
    assert [r.getMessage() for r in caplog.records] == []


async def test_the_bot_answers_start_through_its_webhook(
    emulator: BotApiEmulator,
    make_settings: Callable[..., Settings],
    seeded_engine: Engine,
) -> None:
    settings = make_settings(telegram_bot_token=TOKEN, telegram_api_base_url=emulator.base_url)
    application = build_application(settings, engine=seeded_engine)
    with socket.socket() as probe:  # a free port for PTB's webhook server
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with application:
        assert application.updater is not None
        await application.updater.start_webhook(
            listen="127.0.0.1",
            port=port,
            url_path="hook",
            webhook_url=f"http://127.0.0.1:{port}/hook",
            secret_token="trade-watch_1",
            allowed_updates=Update.ALL_TYPES,
        )
        await application.start()
        try:
            emulator.push_message(555, "/start")
            (reply,) = await emulator.wait_for_messages_async(555, 1)
        finally:
            await application.updater.stop()
            await application.stop()
    assert reply.method == "sendMessage"
    (attempt,) = emulator.webhook_attempts()
    assert (attempt.status, attempt.secret_token) == (200, "trade-watch_1")
