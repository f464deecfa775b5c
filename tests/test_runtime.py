"""The bot's main job in-process: the webhook and its secret, /healthz, /readyz, /metrics, and
PostgreSQL outages, with real HTTP to the bot's port and the Bot API emulator behind it."""

from __future__ import annotations

import asyncio
import json
import re
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from bot import db
from bot.bootstrap import open_database
from bot.telegram.plain import html_to_text
from bot.telegram.runtime import serve
from devtools.botapi import BotApiEmulator
from tests.conftest import FAKE_TOKEN
from tests.tcp_proxy import TcpProxy, free_port

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator

    from bot.config import Settings

SECRET = "right-secret_0123456789"
USER = 555


@pytest.fixture
def emulator() -> Iterator[BotApiEmulator]:
    with BotApiEmulator() as running:
        yield running


class RunningBot:
    def __init__(self, settings: Settings, client: httpx.AsyncClient) -> None:
        self.settings = settings
        self.client = client
        self.webhook = settings.webhook_path

    async def post_update(self, update: dict[str, Any], secret: str | None = SECRET) -> int:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        response = await self.client.post(self.webhook, json=update, headers=headers)
        return response.status_code

    async def metric(self, name: str) -> float:
        body = (await self.client.get("/metrics")).text
        values = [float(v) for v in re.findall(rf"^{re.escape(name)} (\S+)$", body, re.M)]
        return sum(values)


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[RunningBot]:
    """`serve()` as the bot process runs it, until the block ends (as SIGTERM would)."""
    engine = open_database(settings)
    stopping = asyncio.Event()
    task = asyncio.create_task(serve(settings, engine, stopping=stopping))
    base = f"http://127.0.0.1:{settings.http_port}"
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        for _ in range(200):
            if task.done():
                task.result()  # start-up failed: show why
            try:
                if (await client.get("/healthz")).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
        try:
            yield RunningBot(settings, client)
        finally:
            stopping.set()
            await asyncio.wait_for(task, timeout=30)
            engine.dispose()


def webhook_settings(
    make_settings: Callable[..., Settings], emulator: BotApiEmulator, **overrides: Any
) -> Settings:
    port = free_port()
    values: dict[str, Any] = {
        "telegram_bot_token": FAKE_TOKEN,
        "telegram_api_base_url": emulator.base_url,
        "bot_mode": "webhook",
        "webhook_url": f"http://127.0.0.1:{port}/telegram",
        "webhook_secret": SECRET,
        "port": port,
        "listen_address": "127.0.0.1",
    }
    return make_settings(**(values | overrides))


update_ids = iter(range(1, 1_000_000))


def text_update(text: str, chat_id: int = USER) -> dict[str, Any]:
    return {
        "update_id": next(update_ids),
        "message": {
            "message_id": next(update_ids),
            "date": 1_790_000_000,
            "chat": {"id": chat_id, "type": "private", "first_name": "Asha"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Asha"},
            "text": text,
            **(
                {"entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]}
                if text.startswith("/")
                else {}
            ),
        },
    }


async def replies(emulator: BotApiEmulator, count: int, chat_id: int = USER) -> list[str]:
    sent = await emulator.wait_for_messages_async(chat_id, count, timeout=20)
    return [html_to_text(message.text or "") for message in sent]


async def test_the_webhook_answers_updates_with_the_right_secret_and_refuses_others(
    make_settings: Callable[..., Settings], emulator: BotApiEmulator
) -> None:
    settings = webhook_settings(make_settings, emulator)
    async with running(settings) as bot:
        # Telegram was told where to post, with the secret (the port opens just before).
        for _ in range(100):
            if emulator.calls("setWebhook"):
                break
            await asyncio.sleep(0.05)
        webhook = emulator.calls("setWebhook")[-1].params
        assert webhook["url"] == str(settings.webhook_url)
        assert webhook["secret_token"] == SECRET

        assert await bot.post_update(text_update("is nathula open")) == 200
        (answer,) = await replies(emulator, 1)
        assert "Nathu La" in answer

        for forged in ("wrong-secret", "", None):
            assert await bot.post_update(text_update("/deficit"), secret=forged) == 403
        assert await bot.post_update(text_update("/deficit")) == 200
        answers = await replies(emulator, 2)
        assert "Apr 2025 – Jan 2026 (FY2025-26 so far)" in answers[1]
        await asyncio.sleep(0.2)
        assert len(emulator.messages(USER)) == 2, "a refused update was answered"

        not_json = await bot.client.post(
            bot.webhook,
            content=b"{not json",
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
        )
        assert not_json.status_code == 400

        assert await bot.metric("tradewatch_webhook_refused_total") == 3
        assert await bot.metric('tradewatch_updates_total{type="message"}') == 2
        assert await bot.metric('tradewatch_replies_total{method="sendMessage"}') == 2


async def test_refusals_are_logged_without_the_secret(
    make_settings: Callable[..., Settings],
    emulator: BotApiEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = webhook_settings(make_settings, emulator)
    async with running(settings) as bot:
        assert await bot.post_update(text_update("/start"), secret="guessed-secret") == 403
    refusals = [r.getMessage() for r in caplog.records if "Refused a webhook" in r.getMessage()]
    assert refusals == ["Refused a webhook request from 127.0.0.1: wrong secret token"]
    assert SECRET not in caplog.text
    assert FAKE_TOKEN not in caplog.text


async def test_health_readiness_and_metrics_in_polling_mode_with_a_port(
    make_settings: Callable[..., Settings], emulator: BotApiEmulator
) -> None:
    port = free_port()
    settings = make_settings(
        telegram_bot_token=FAKE_TOKEN,
        telegram_api_base_url=emulator.base_url,
        port=port,
        listen_address="127.0.0.1",
    )
    async with running(settings) as bot:
        assert (await bot.client.get("/healthz")).json() == {"status": "alive"}
        ready = await bot.client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["detail"] == f"database reachable, schema at {db.head_revision()}"
        # Polling mode has no webhook route; updates come by getUpdates.
        assert (await bot.client.post("/telegram", json={})).status_code == 404
        emulator.push_message(USER, "/passes")
        (passes,) = await replies(emulator, 1)
        assert "Shipki La" in passes

        body = (await bot.client.get("/metrics")).text
        assert 'tradewatch_updates_total{type="message"} 1.0' in body
        assert 'tradewatch_update_seconds_count{type="message"} 1.0' in body
        assert 'tradewatch_deliveries{state="pending"} 0.0' in body
        assert "tradewatch_due_backlog 0.0" in body
        assert "tradewatch_telegram_429_total" in body


async def test_a_429_is_counted(
    make_settings: Callable[..., Settings], emulator: BotApiEmulator
) -> None:
    settings = webhook_settings(make_settings, emulator)
    async with running(settings) as bot:
        emulator.fail_next("sendMessage", 429, retry_after=1)
        assert await bot.post_update(text_update("/flights")) == 200
        counted = 'tradewatch_telegram_429_total{sender="answers"}'
        for _ in range(100):
            if await bot.metric(counted):
                break
            await asyncio.sleep(0.05)
        assert await bot.metric(counted) == 1


@pytest.mark.postgres
async def test_readyz_fails_while_postgres_is_down_and_the_bot_recovers_without_a_restart(
    make_settings: Callable[..., Settings], emulator: BotApiEmulator, postgres_empty_url: str
) -> None:
    url = make_url(postgres_empty_url)
    with TcpProxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        settings = webhook_settings(
            make_settings,
            emulator,
            database_url=proxy.route(postgres_empty_url),
            db_connect_timeout=2,
        )
        async with running(settings) as bot:
            assert (await bot.client.get("/readyz")).status_code == 200
            assert await bot.post_update(text_update("/passes")) == 200
            await replies(emulator, 1)

            proxy.cut()
            down = await bot.client.get("/readyz")
            assert down.status_code == 503
            assert down.json()["detail"].startswith("database unreachable")
            assert (await bot.client.get("/healthz")).status_code == 200
            # A question meanwhile gets the apology, not silence.
            assert await bot.post_update(text_update("is nathula open")) == 200
            (_, apology) = await replies(emulator, 2)
            assert "Sorry, something went wrong on our side" in apology
            # The metrics still answer, without the ledger figures.
            body = (await bot.client.get("/metrics")).text
            assert "tradewatch_updates_total" in body
            assert "tradewatch_deliveries{" not in body

            proxy.restore()
            assert (await bot.client.get("/readyz")).status_code == 200
            assert await bot.post_update(text_update("is nathula open")) == 200
            answers = await replies(emulator, 3)
            assert "Nathu La" in answers[2]
            assert len(answers) == 3, "one apology per update"


def test_update_json_is_what_telegram_sends() -> None:
    """The hand-built updates above are valid Telegram JSON (a guard for the tests' helper)."""
    from telegram import Update

    update = Update.de_json(json.loads(json.dumps(text_update("/start"))), None)
    assert update is not None
    assert update.message is not None
    assert update.message.text == "/start"


async def test_an_error_reaches_the_operators_chat_once_a_minute_with_its_request_id(
    make_settings: Callable[..., Settings],
    emulator: BotApiEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    operators = -100999
    settings = webhook_settings(make_settings, emulator, error_chat_id=operators)

    def broken(*_args: object) -> None:
        raise RuntimeError(f"catalogue unreadable (token {FAKE_TOKEN})")

    monkeypatch.setattr("bot.services.answers.load_catalog", broken)
    async with running(settings) as bot:
        first, second = text_update("is nathula open"), text_update("is lipulekh open")
        assert await bot.post_update(first) == 200
        assert await bot.post_update(second) == 200
        apologies = await replies(emulator, 2)
        assert all("Sorry, something went wrong" in text for text in apologies)
        (alert,) = await emulator.wait_for_messages_async(operators, 1, timeout=10)
        await asyncio.sleep(0.5)
        assert len(emulator.messages(operators)) == 1, "the same error twice: one message"
    text = html_to_text(alert.text or "")
    assert f"request u{first['update_id']}" in text
    assert "RuntimeError: catalogue unreadable" in text
    assert FAKE_TOKEN not in text
    assert FAKE_TOKEN.split(":")[1] not in text
