"""Faults injected while a digest run is under way: Telegram's 429s, 403s, 5xx and dropped
connections through the Bot API emulator; a locked SQLite database; PostgreSQL going away.

Each scenario runs the bot in-process (`serve()`, as the bot process runs it, webhook mode)
and checks the same properties:
- no subscriber loses a digest;
- none gets two, except within the documented in-flight window (a message Telegram accepted
  but the ledger could not record when the fault hit): at most BROADCAST_CONCURRENCY per
  database outage, none for faults of the Bot API alone;
- questions asked while the fault lasts are answered within a few seconds;
- the same application recovers by itself once the fault ends: no restart.

Transient errors back off 30 s and more in production (`delivery.BACKOFF_SECONDS`) and the
alert check runs every 10 s; both are shortened here to keep the run short, which changes
when a retry happens, not whether.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sqlite3
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bot import db
from bot.services import delivery
from bot.telegram.delivery_jobs import DeliveryJobs
from bot.telegram.plain import html_to_text
from devtools.botapi import BotApiEmulator
from tests.conftest import FAKE_TOKEN
from tests.helpers_delivery import (
    digests_per_chat,
    lost_and_doubled,
    prepare,
    states,
    wait_until_async,
)
from tests.tcp_proxy import TcpProxy
from tests.test_delivery import (
    DIGEST_TITLE,
    Sender,
    add_subscribers,
    record_change,
)
from tests.test_runtime import running, text_update, webhook_settings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator

    from bot.config import Settings
    from tests.test_runtime import RunningBot

pytestmark = pytest.mark.slow  # digest runs under injected faults, timed


ASKER = 555  # a reader who is no subscriber: every message to this chat is an answer
QUESTION = "is nathula open"
ANSWER_WITHIN = 5.0  # seconds, retries included
SEED = 20261122


@pytest.fixture
def emulator() -> Iterator[BotApiEmulator]:
    with BotApiEmulator() as running_emulator:
        yield running_emulator


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(delivery, "BACKOFF_SECONDS", (1, 1, 2, 2))
    monkeypatch.setattr(DeliveryJobs, "ALERT_CHECK_SECONDS", 1)


@dataclass
class Questions:
    """Questions asked during a fault, and how long each took to be answered."""

    emulator: BotApiEmulator
    latencies: list[float] = field(default_factory=list)

    async def ask(self, bot: RunningBot, chat_id: int = ASKER) -> str:
        before = len(self.emulator.messages(chat_id))
        asked = time.monotonic()
        assert await bot.post_update(text_update(QUESTION, chat_id=chat_id)) == 200
        await wait_until_async(
            lambda: len(self.emulator.messages(chat_id)) > before, 30, "an answer"
        )
        self.latencies.append(time.monotonic() - asked)
        return html_to_text(self.emulator.messages(chat_id)[before].text or "")

    async def ask_answered(self, bot: RunningBot, chat_id: int = ASKER) -> None:
        answer = await self.ask(bot, chat_id)
        assert "Nathu La" in answer, answer

    @property
    def slowest(self) -> float:
        return max(self.latencies, default=0.0)


@dataclass
class Outcome:
    counts: Counter[int]
    chats: list[int]
    ledger: dict[str, int]
    questions: Questions

    @property
    def lost(self) -> list[int]:
        return lost_and_doubled(self.counts, self.chats)[0]

    @property
    def doubled(self) -> int:
        return lost_and_doubled(self.counts, self.chats)[1]


def ledger_settled(engine: Engine, expected: int) -> Callable[[], bool]:
    def settled() -> bool:
        now = states(engine)
        return sum(now.get(state, 0) for state in ("sent", "blocked", "failed")) >= expected

    return settled


@contextlib.asynccontextmanager
async def digest_run(
    make_settings: Callable[..., Settings],
    emulator: BotApiEmulator,
    subscribers: int,
    **overrides: Any,
) -> AsyncIterator[tuple[RunningBot, Engine, list[int], Questions]]:
    """The bot running, with `subscribers` digests due (one message each)."""
    values: dict[str, Any] = {
        "broadcast_rate": 0,
        "broadcast_concurrency": 4,
        "delivery_lease_seconds": 5,
    }
    settings = webhook_settings(make_settings, emulator, **(values | overrides))
    direct = db.make_engine(settings)
    chats = prepare(direct, subscribers, topics=["passes"])
    emulator.set_delay(0.005, "sendMessage")  # a run of a few seconds: time for the faults
    try:
        async with running(settings) as bot:
            yield bot, direct, chats, Questions(emulator)
    finally:
        direct.dispose()


def outcome(
    emulator: BotApiEmulator, engine: Engine, chats: list[int], questions: Questions
) -> Outcome:
    return Outcome(digests_per_chat(emulator, chats), chats, states(engine), questions)


async def wait_for_messages(emulator: BotApiEmulator, count: int) -> None:
    await wait_until_async(
        lambda: len(emulator.messages()) >= count, 60, f"{count} messages of the run"
    )


def failed_calls(emulator: BotApiEmulator, status: int) -> list[Any]:
    """sendMessage calls answered with `status` (0: the connection dropped)."""
    return [call for call in emulator.calls("sendMessage") if call.status == status]


# --- the two faults that used to do harm -------------------------------------------------------


async def test_an_answer_refused_with_a_429_goes_out_after_the_wait(
    make_settings: Callable[..., Settings], emulator: BotApiEmulator
) -> None:
    settings = webhook_settings(make_settings, emulator)
    questions = Questions(emulator)
    async with running(settings) as bot:
        emulator.fail_next("sendMessage", 429, retry_after=1, count=2, chat_id=ASKER)
        await questions.ask_answered(bot)  # the answer itself, not an apology
        assert 2 <= questions.slowest < ANSWER_WITHIN
        # A wait longer than an answer may take is passed on: the reader gets nothing then.
        emulator.fail_next("sendMessage", 429, retry_after=3600, count=2, chat_id=ASKER)
        assert await bot.post_update(text_update(QUESTION, chat_id=ASKER)) == 200
        await wait_until_async(lambda: len(failed_calls(emulator, 429)) == 4, 10, "the long 429s")
    assert len(emulator.messages(ASKER)) == 1


async def test_a_ledger_failure_stops_every_sender_of_the_run_at_once(
    make_settings: Callable[..., Settings],
    emulator: BotApiEmulator,
    seeded_engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Once a message cannot be recorded, the run's other senders must not go on sending
    (each such message is a duplicate when its row resumes): at most the requests already
    in flight complete, and nothing is sent after the run has ended."""
    concurrency = 4
    add_subscribers(seeded_engine, 100, topics=["passes"])
    recorded = delivery.record_sent_part

    def record_until_the_database_goes(engine: Engine, claim: Any, **values: Any) -> None:
        if len(emulator.messages()) > 10:
            raise OperationalError("UPDATE delivery", {}, sqlite3.OperationalError("locked"))
        recorded(engine, claim, **values)

    monkeypatch.setattr(delivery, "record_sent_part", record_until_the_database_goes)
    emulator.set_delay(0.01, "sendMessage")
    with pytest.raises(OperationalError):
        await Sender(
            make_settings(
                telegram_bot_token=FAKE_TOKEN,
                telegram_api_base_url=emulator.base_url,
                broadcast_rate=0,
                broadcast_concurrency=concurrency,
            ),
            seeded_engine,
        ).run()
    await asyncio.sleep(0.3)  # requests already on the wire when the run ended land
    sent = len(emulator.messages())
    await asyncio.sleep(0.5)  # no sender left running: nothing more arrives
    assert len(emulator.messages()) == sent
    # The message whose record failed, and those in flight beside it.
    assert sent - 11 <= concurrency


# --- the Bot API ---------------------------------------------------------------------------


async def test_a_429_storm_loses_nothing_doubles_nothing_and_answers_keep_coming(
    make_settings: Callable[..., Settings], emulator: BotApiEmulator
) -> None:
    async with digest_run(make_settings, emulator, 300) as (bot, engine, chats, questions):
        await wait_for_messages(emulator, 20)
        # A fifth of all sends (digests and answers alike) refused with "retry after 1", for
        # a stretch of the run long enough for several questions.
        emulator.fail_fraction(0.2, 429, retry_after=1, seed=SEED)
        storm_ends = time.monotonic() + 10
        while time.monotonic() < storm_ends:
            await questions.ask_answered(bot)
        emulator.clear_faults()
        await wait_until_async(ledger_settled(engine, 300), 120, "the run after the 429s")
        await questions.ask_answered(bot)
        result = outcome(emulator, engine, chats, questions)

    assert emulator.stats()["too_many_requests"] > 0
    assert result.ledger == {"sent": 300}
    assert result.lost == []
    assert result.doubled == 0
    assert questions.slowest < ANSWER_WITHIN


async def test_chats_that_blocked_the_bot_are_deactivated_and_never_retried(
    make_settings: Callable[..., Settings], emulator: BotApiEmulator
) -> None:
    async with digest_run(make_settings, emulator, 200) as (bot, engine, chats, questions):
        blocked = chats[100::10]  # not reached yet when the blocks start
        for chat in blocked:
            emulator.block_chat(chat)
        await wait_for_messages(emulator, 20)
        await questions.ask_answered(bot)
        await wait_until_async(ledger_settled(engine, 200), 60, "the run with blocked chats")
        await questions.ask_answered(bot)
        result = outcome(emulator, engine, chats, questions)
        refusals = [call for call in emulator.calls("sendMessage") if call.status == 403]

    assert result.ledger == {"sent": 200 - len(blocked), "blocked": len(blocked)}
    assert result.lost == blocked
    assert result.doubled == 0
    # One refusal per blocked chat: a 403 is never retried.
    assert sorted(int(call.params["chat_id"]) for call in refusals) == blocked
    with engine.connect() as connection:
        inactive = connection.exec_driver_sql(
            "SELECT chat_id FROM subscriber WHERE NOT active ORDER BY chat_id"
        ).scalars()
        assert list(inactive) == blocked
    assert questions.slowest < ANSWER_WITHIN


async def test_5xx_and_dropped_connections_are_retried_without_duplicates(
    make_settings: Callable[..., Settings], emulator: BotApiEmulator
) -> None:
    async with digest_run(make_settings, emulator, 200) as (bot, engine, chats, questions):
        await wait_for_messages(emulator, 20)
        # Connections closed without an answer: PTB cannot tell whether a message got
        # through, so they are spent on the run's own sends before any question is asked.
        emulator.drop_connections("sendMessage", count=15)
        await wait_until_async(
            lambda: len(failed_calls(emulator, 0)) >= 15, 30, "the dropped connections"
        )
        # Bad gateways for a tenth of the subscribers (twice each), and slow answers.
        rng = random.Random(SEED)
        for chat in rng.sample(chats[100:], 20):  # not reached yet
            emulator.fail_next("sendMessage", 502, chat_id=chat, count=2)
        emulator.set_delay(0.3, "sendMessage")
        await questions.ask_answered(bot)
        await questions.ask_answered(bot)
        await wait_until_async(ledger_settled(engine, 200), 90, "the run through 5xx and drops")
        emulator.clear_faults()
        await questions.ask_answered(bot)
        result = outcome(emulator, engine, chats, questions)

    assert len(failed_calls(emulator, 0)) == 15
    assert len(failed_calls(emulator, 502)) == 40
    assert result.ledger == {"sent": 200}
    assert result.lost == []
    assert result.doubled == 0
    assert questions.slowest < ANSWER_WITHIN


# --- SQLite ---------------------------------------------------------------------------------


def hold_write_lock(path: str, seconds: float) -> threading.Thread:
    """Another process's writer: BEGIN IMMEDIATE held for `seconds`, from its own thread."""
    locked = threading.Event()

    def hold() -> None:
        connection = sqlite3.connect(path, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            locked.set()
            time.sleep(seconds)
            connection.execute("COMMIT")
        finally:
            connection.close()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    assert locked.wait(10), "could not take the write lock"
    return thread


@contextlib.contextmanager
def locked_statements(engine_url: str, spared: Engine) -> Iterator[threading.Event]:
    """While the returned event is set, every statement on the bot's SQLite engines fails with
    "database is locked", as it would once another writer holds the lock beyond busy_timeout
    (30 s: too long to wait out in a test). The hook sits on every engine of that URL except
    `spared` (the test's own), since the bot opens its engine inside `serve()`."""
    armed = threading.Event()

    def refuse(conn: Any, *_args: object) -> None:
        if armed.is_set() and conn.engine is not spared and str(conn.engine.url) == engine_url:
            raise sqlite3.OperationalError("database is locked")

    event.listen(Engine, "before_cursor_execute", refuse)
    try:
        yield armed
    finally:
        event.remove(Engine, "before_cursor_execute", refuse)


async def test_a_write_lock_held_mid_run_delays_but_loses_and_doubles_nothing(
    make_settings: Callable[..., Settings], emulator: BotApiEmulator
) -> None:
    async with digest_run(make_settings, emulator, 200) as (bot, engine, chats, questions):
        await wait_for_messages(emulator, 20)
        path = engine.url.database or ""
        holder = await asyncio.to_thread(hold_write_lock, path, 2.0)
        # Questions are read-only: answered while the writer waits (busy_timeout).
        await questions.ask_answered(bot)
        await asyncio.to_thread(holder.join, 10)
        await wait_until_async(ledger_settled(engine, 200), 60, "the run after the lock")
        await questions.ask_answered(bot)
        result = outcome(emulator, engine, chats, questions)

    assert result.ledger == {"sent": 200}
    assert result.lost == []
    assert result.doubled == 0
    assert questions.slowest < ANSWER_WITHIN


async def test_database_is_locked_errors_mid_run_stop_nothing_for_good(
    make_settings: Callable[..., Settings], emulator: BotApiEmulator
) -> None:
    concurrency = 4
    async with digest_run(make_settings, emulator, 200, broadcast_concurrency=concurrency) as (
        bot,
        engine,
        chats,
        questions,
    ):
        with locked_statements(str(engine.url), engine) as armed:
            await wait_for_messages(emulator, 20)
            armed.set()
            await asyncio.sleep(1.5)  # the fault's length, not an assertion
            during = await questions.ask(bot)
            armed.clear()
            await wait_until_async(ledger_settled(engine, 200), 60, "the run after the errors")
            await questions.ask_answered(bot)
        result = outcome(emulator, engine, chats, questions)

    assert "Sorry, something went wrong" in during  # told, not left without an answer
    assert result.ledger == {"sent": 200}
    assert result.lost == []
    assert result.doubled <= concurrency
    assert questions.slowest < ANSWER_WITHIN


# --- PostgreSQL -----------------------------------------------------------------------------


@pytest.mark.postgres
async def test_postgres_restarts_during_digests_and_alerts_and_the_bot_carries_on(
    make_settings: Callable[..., Settings], emulator: BotApiEmulator, postgres_empty_url: str
) -> None:
    """A digest run cut in the middle resumes by itself; questions are answered after each
    recovery; outages while alerts are dispatched and sent must not lose the alert cursor."""
    concurrency = 2
    url = make_url(postgres_empty_url)
    direct = db.make_engine(make_settings(database_url=postgres_empty_url))
    chats = prepare(direct, 120, topics=["passes"], quiet_hours=False)
    emulator.set_delay(0.02, "sendMessage")
    questions = Questions(emulator)
    with TcpProxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        settings = webhook_settings(
            make_settings,
            emulator,
            database_url=proxy.route(postgres_empty_url),
            db_connect_timeout=2,
            broadcast_rate=0,
            broadcast_concurrency=concurrency,
            delivery_lease_seconds=5,
            alert_batch_seconds=0,
        )
        async with running(settings) as bot:
            # 1. The digest run, cut in the middle.
            await wait_for_messages(emulator, 30)
            proxy.cut()
            await asyncio.sleep(1)
            proxy.restore()
            await questions.ask_answered(bot)
            await wait_until_async(ledger_settled(direct, 120), 60, "the digests")
            digests = digests_per_chat(emulator, chats)

            # 2. A change while the database is away: the alert checks fail meanwhile.
            proxy.cut()
            record_change(direct, at=utc_now())
            await asyncio.sleep(2)
            proxy.restore()
            await questions.ask_answered(bot)
            await wait_until_async(ledger_settled(direct, 240), 60, "the alerts after the outage")
            # 3. Another change; cut while its alerts are being sent.
            record_change(direct, at=utc_now(), key="shipki-la")
            await wait_for_messages(emulator, len(emulator.messages()) + 20)
            proxy.cut()
            await asyncio.sleep(1)
            proxy.restore()
            await wait_until_async(ledger_settled(direct, 360), 60, "the second alerts")
            await questions.ask_answered(bot)
        final = states(direct)
    direct.dispose()

    alerts = alerts_per_chat(emulator, chats)
    assert final == {"sent": 360}
    lost, doubled = lost_and_doubled(digests, chats)
    assert lost == []
    assert doubled <= concurrency
    # Each change is one alert to each follower: 2 per chat, give or take the in-flight
    # window of the outage during the second one.
    assert [chat for chat in chats if alerts[chat] < 2] == []
    assert sum(alerts[chat] - 2 for chat in chats) <= concurrency
    assert questions.slowest < ANSWER_WITHIN


def utc_now() -> datetime:
    return datetime.now(UTC)


def alerts_per_chat(emulator: BotApiEmulator, chats: list[int]) -> Counter[int]:
    wanted = set(chats)
    return Counter(
        message.chat_id
        for message in emulator.messages()
        if message.chat_id in wanted and DIGEST_TITLE not in html_to_text(message.text or "")
    )
