"""End to end, the production way: `python -m bot run` processes in webhook mode.

Telegram (the Bot API emulator) posts updates to the bot's webhook with the secret; a client
without it is refused. Two instances start together on a fresh PostgreSQL database and
migrate it once; a SIGTERM in the middle of a digest run loses nothing.
"""

from __future__ import annotations

import json
import re
import signal
import time
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from bot import db
from bot.config import Settings
from devtools.botapi import BotApiEmulator
from tests.helpers_delivery import digests_per_chat, prepare, states, wait_until
from tests.tcp_proxy import free_port
from tests.test_e2e_delivery import BotProcesses
from tests.test_runtime import SECRET, text_update

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.slow  # real bot processes in webhook mode


USER = 555


@pytest.fixture
def emulator() -> Iterator[BotApiEmulator]:
    with BotApiEmulator() as running:
        yield running


def webhook_environment(port: int) -> dict[str, str]:
    return {
        "BOT_MODE": "webhook",
        "WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram",
        "WEBHOOK_SECRET": SECRET,
        "PORT": str(port),
        "LISTEN_ADDRESS": "127.0.0.1",
    }


def http(
    method: str, url: str, body: dict[str, Any] | None = None, secret: str | None = None
) -> tuple[int, str]:
    """One request; returns (status, body) for any answer, (0, reason) when nobody answers."""
    headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
    try:
        response = httpx.request(method, url, json=body, headers=headers, timeout=10)
    except httpx.TransportError as error:
        return 0, str(error)
    return response.status_code, response.text


def wait_ready(port: int, timeout: float = 60) -> None:
    wait_until(
        lambda: http("GET", f"http://127.0.0.1:{port}/readyz")[0] == 200,
        timeout,
        f"the bot on port {port} to be ready",
    )


def test_telegram_posts_to_the_webhook_and_forged_posts_are_refused(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    port = free_port()
    bots = BotProcesses(emulator, tmp_path, f"sqlite:///{tmp_path / 'hook.sqlite3'}")
    try:
        bots.start(**webhook_environment(port), LOG_FORMAT="json")
        wait_ready(port)
        # Telegram knows the webhook and posts what users send to it, with the secret.
        wait_until(lambda: emulator.calls("setWebhook"), 30, "setWebhook")
        assert emulator.calls("setWebhook")[-1].params["secret_token"] == SECRET
        emulator.push_message(USER, "is nathula open")
        (answer,) = emulator.wait_for_messages(USER, 1, timeout=30)
        assert "Nathu La" in (answer.text or "")

        # Someone who found the URL but not the secret gets 403, and no answer.
        forged = text_update("/deficit")
        assert http("POST", f"http://127.0.0.1:{port}/telegram", forged, "guess")[0] == 403
        assert http("POST", f"http://127.0.0.1:{port}/telegram", forged)[0] == 403
        time.sleep(1)
        assert len(emulator.messages(USER)) == 1

        status, metrics = http("GET", f"http://127.0.0.1:{port}/metrics")
        assert status == 200
        assert "tradewatch_webhook_refused_total 2.0" in metrics
    finally:
        (log,) = bots.stop_all()
    lines = [json.loads(line) for line in log.splitlines() if line.strip()]
    refusals = [line for line in lines if line["message"].startswith("Refused a webhook")]
    assert [line["level"] for line in refusals] == ["WARNING", "WARNING"]
    assert SECRET not in log
    assert "fake-token" not in log


@pytest.mark.postgres
def test_two_instances_on_a_fresh_postgresql_migrate_once_and_answer_each_update_once(
    emulator: BotApiEmulator, tmp_path: Path, postgres_empty_url: str
) -> None:
    ports = [free_port(), free_port()]
    bots = BotProcesses(emulator, tmp_path, postgres_empty_url)
    try:
        for port in ports:
            bots.start(**webhook_environment(port))
        for port in ports:
            wait_ready(port)
        # A load balancer spreads Telegram's posts over both instances.
        questions = ["/passes", "/flights", "is nathula open", "/deficit"] * 3
        for number, question in enumerate(questions):
            chat = 1000 + number
            port = ports[number % 2]
            update = text_update(question, chat_id=chat)
            assert http("POST", f"http://127.0.0.1:{port}/telegram", update, SECRET)[0] == 200
        for number in range(len(questions)):
            emulator.wait_for_messages(1000 + number, 1, timeout=30)
        time.sleep(1)
        answers = {number: len(emulator.messages(1000 + number)) for number in range(12)}
        assert answers == dict.fromkeys(range(12), 1)
    finally:
        logs = bots.stop_all()
    first_starts = [log for log in logs if "First start: created the database" in log]
    assert len(first_starts) == 1, "exactly one instance migrated and seeded the database"
    assert all("Traceback" not in log for log in logs), logs
    engine = db.make_engine(Settings(_env_file=None, database_url=postgres_empty_url))
    try:
        assert db.current_revision(engine) == db.head_revision()
        with engine.connect() as connection:
            passes = connection.exec_driver_sql("SELECT count(*) FROM border_pass").scalar()
        assert passes == 3, "seeded once"
    finally:
        engine.dispose()


def test_sigterm_mid_digest_run_finishes_in_flight_and_a_restart_sends_the_rest(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    database_url = f"sqlite:///{tmp_path / 'term.sqlite3'}"
    engine = db.make_engine(Settings(_env_file=None, database_url=database_url))
    chats = prepare(engine, 120)
    emulator.set_delay(0.03, "sendMessage")
    port = free_port()
    bots = BotProcesses(emulator, tmp_path, database_url)
    try:
        process = bots.start(**webhook_environment(port))
        # Under way: some digests sent (a digest is several messages), most still to send.
        wait_until(lambda: states(engine).get("sent", 0) >= 5, 60, "the run to be under way")
        # One slow message in flight when the signal comes: it must be waited for.
        emulator.set_delay(1.5, "sendMessage")
        time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        # While it finishes, it takes no new work and says so to the load balancer.
        refused, _ = http(
            "POST", f"http://127.0.0.1:{port}/telegram", text_update("/passes"), SECRET
        )
        not_ready, _ = http("GET", f"http://127.0.0.1:{port}/readyz")
        assert process.wait(timeout=30) == 0
        after_stop = states(engine)
        emulator.set_delay(0.0, "sendMessage")
        bots.start(**webhook_environment(port))
        wait_until(lambda: states(engine).get("sent") == 120, 60, "every digest sent")
    finally:
        logs = bots.stop_all()
        engine.dispose()
    assert (refused, not_ready) == (503, 503)
    assert "sending" not in after_stop, f"left in 'sending' after a graceful stop: {after_stop}"
    assert 0 < after_stop.get("sent", 0) < 120
    counts = digests_per_chat(emulator, chats)
    assert counts == dict.fromkeys(chats, 1), "nothing lost, nothing doubled"
    assert "Stopping: finishing answers and deliveries in flight" in logs[0]
    assert re.search(r"Stopped\.", logs[0])


@pytest.mark.postgres
def test_two_webhook_instances_on_postgresql_send_each_digest_once(
    emulator: BotApiEmulator, tmp_path: Path, postgres_empty_url: str
) -> None:
    settings = Settings(_env_file=None, database_url=postgres_empty_url)
    engine = db.make_engine(settings)
    chats = prepare(engine, 200)
    emulator.set_delay(0.01, "sendMessage")
    bots = BotProcesses(emulator, tmp_path, postgres_empty_url)
    try:
        for _ in range(2):
            bots.start(**webhook_environment(free_port()))
        wait_until(lambda: states(engine).get("sent") == 200, 120, "every digest sent")
    finally:
        logs = bots.stop_all()
        final = states(engine)
        engine.dispose()
    counts = digests_per_chat(emulator, chats)
    assert counts == dict.fromkeys(chats, 1)
    assert final == {"sent": 200}
    senders = [log for log in logs if "Delivery run:" in log]
    assert len(senders) == 2, "both instances sent part of the run"
