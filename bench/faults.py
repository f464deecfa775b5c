"""Faults at scale: the fault-injection scenarios of tests/test_faults.py with more subscribers.

Each scenario runs the bot in this process (`serve()`, webhook mode, as the bot process runs
it) against the Bot API emulator in a process of its own (restarted for every scenario), with
a digest due for every subscriber, and injects one fault in the middle of the run:

- 429 storm: a fifth of all sends (digests and answers) refused with "retry after 1" for 10 s;
- 403: a tenth of the chats blocked the bot (they must end `blocked`, never retried);
- 5xx and drops: 30 connections closed unanswered, 502s for a tenth of the chats, slow answers;
- SQLite lock: another writer holds BEGIN IMMEDIATE for 3 s (within busy_timeout);
- SQLite "database is locked": every statement of the bot fails for 2 s, as when a writer
  holds the lock beyond busy_timeout (30 s, too long to wait out), injected by a SQLAlchemy
  hook;
- PostgreSQL restart: the bot's connections go through a TCP proxy that is cut for 2 s.

A question is asked every second while the fault lasts. Per scenario: subscribers, lost
digests, duplicates, the slowest answer during the fault, and the result against the targets:
nothing lost; duplicates none for Bot API faults, at most BROADCAST_CONCURRENCY (4) per
database outage (a message Telegram took that the ledger could not record); every answer
within 5 s; and the run finished by the same process, without a restart. Retry backoff
(30 s and more in production) and the alert check (10 s) are shortened to 1 s, as in the
tests: that changes when a retry happens, not whether.

    python bench/faults.py [--subscribers 2000] [--quick] [--json]
                           [--postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

`--quick`: 300 subscribers, under 3 minutes. `--json`: a JSON list of rows
{"scenario", "figure", "target", "result": "pass" | "falls short"} instead of the table.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import sqlite3
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fanout import Emulator  # noqa: E402

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CONCURRENCY = 4
ANSWER_TARGET = 5.0
ASKER = 555
DIGEST_TITLE = "Your weekly Trade Watch digest"
SEED = 20261122


def log(message: str) -> None:
    print(f"[faults] {message}", file=sys.stderr, flush=True)


# --- the emulator, over its control API -----------------------------------------------------


def control(emulator: Emulator, action: str, body: dict[str, Any] | None = None) -> Any:
    url = f"{emulator.base_url}/_emulator/{action}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.load(answer)["result"]


def faults(emulator: Emulator, **actions: Any) -> None:
    control(emulator, "faults", actions)


def messages(emulator: Emulator, chat_id: int | None = None) -> list[dict[str, Any]]:
    query = "" if chat_id is None else f"?chat_id={chat_id}"
    return list(control(emulator, f"messages{query}"))


# --- one scenario ---------------------------------------------------------------------------


@dataclass
class Run:
    emulator: Emulator
    bot: Any  # tests.test_runtime.RunningBot
    engine: Any  # the test's own engine on the bot's database
    chats: list[int]
    latencies: list[float] = field(default_factory=list)
    unanswered: int = 0

    async def ask(self) -> None:
        from tests.test_runtime import text_update

        before = len(messages(self.emulator, ASKER))
        asked = time.monotonic()
        await self.bot.post_update(text_update("is nathula open", chat_id=ASKER))
        while time.monotonic() - asked < 30:
            if len(messages(self.emulator, ASKER)) > before:
                self.latencies.append(time.monotonic() - asked)
                return
            await asyncio.sleep(0.05)
        self.unanswered += 1

    async def ask_for(self, seconds: float) -> None:
        """A question a second for `seconds` (the fault's length)."""
        ends = time.monotonic() + seconds
        while time.monotonic() < ends:
            started = time.monotonic()
            await self.ask()
            await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - started)))

    async def wait_for_messages(self, count: int) -> None:
        deadline = time.monotonic() + 120
        while control(self.emulator, "stats")["messages"] < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"fewer than {count} messages")
            await asyncio.sleep(0.1)

    def settled(self) -> bool:
        from tests.helpers_delivery import states

        now = states(self.engine)
        return sum(now.get(s, 0) for s in ("sent", "blocked", "failed")) >= len(self.chats)


@dataclass
class Row:
    scenario: str
    subscribers: int
    lost: int
    duplicates: int
    allowed_duplicates: int
    slowest_answer: float
    unanswered: int
    finished: bool
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return (
            self.finished
            and self.lost == 0
            and self.duplicates <= self.allowed_duplicates
            and self.unanswered == 0
            and self.slowest_answer < ANSWER_TARGET
            and not self.problems
        )

    def as_json(self) -> dict[str, str]:
        return {
            "scenario": self.scenario,
            "figure": (
                f"{self.subscribers} subscribers: {self.lost} lost, {self.duplicates} "
                f"duplicates, slowest answer {self.slowest_answer:.1f} s, "
                f"{self.unanswered} unanswered"
                + ("" if self.finished else ", run not finished")
                + "".join(f"; {problem}" for problem in self.problems)
            ),
            "target": (
                f"0 lost, at most {self.allowed_duplicates} duplicates, every answer within "
                f"{ANSWER_TARGET:g} s, finished without a restart"
            ),
            "result": "pass" if self.passed else "falls short",
        }


Fault = Callable[[Run], Awaitable[list[str]]]


def quicken() -> None:
    from bot.services import delivery
    from bot.telegram.delivery_jobs import DeliveryJobs

    delivery.BACKOFF_SECONDS = (1, 1, 2, 2)
    DeliveryJobs.ALERT_CHECK_SECONDS = 1


def make_settings(workdir: Path, database_url: str | None) -> Callable[..., Any]:
    from bot.config import Settings

    def factory(**overrides: Any) -> Any:
        values: dict[str, Any] = {
            "data_dir": workdir / "data",
            "database_url": database_url or f"sqlite:///{workdir / 'faults.sqlite3'}",
        }
        return Settings(_env_file=None, **(values | overrides))

    return factory


async def run_scenario(
    name: str,
    subscribers: int,
    fault: Fault,
    *,
    allowed_duplicates: int,
    database_url: str | None = None,
    proxy: Any = None,
) -> Row:
    from bot import db
    from tests.helpers_delivery import prepare, states
    from tests.test_runtime import running, webhook_settings

    log(f"{name}: {subscribers} subscribers")
    emulator = Emulator(enforce_limits=False)
    try:
        with tempfile.TemporaryDirectory(prefix="faults-") as folder:
            factory = make_settings(Path(folder), database_url)
            direct = db.make_engine(factory())
            chats = prepare(direct, subscribers, topics=["passes"])
            bot_url = database_url
            if proxy is not None and database_url is not None:
                from sqlalchemy.engine import make_url

                bot_url = (
                    make_url(database_url)
                    .set(host="127.0.0.1", port=proxy.port)
                    .render_as_string(hide_password=False)
                )
            overrides: dict[str, Any] = {
                "broadcast_rate": 0,
                "broadcast_concurrency": CONCURRENCY,
                "delivery_lease_seconds": 5,
                "db_connect_timeout": 2,
            }
            if bot_url is not None:
                overrides["database_url"] = bot_url
            settings = webhook_settings(factory, emulator, **overrides)  # type: ignore[arg-type]
            faults(emulator, set_delay={"delay_seconds": 0.002, "method": "sendMessage"})
            problems: list[str] = []
            finished = False
            async with running(settings) as bot:
                run = Run(emulator, bot, direct, chats)
                await run.wait_for_messages(max(10, subscribers // 10))
                problems += await fault(run)
                deadline = time.monotonic() + 300
                while time.monotonic() < deadline:
                    if run.settled():
                        finished = True
                        break
                    await asyncio.sleep(0.2)
                await run.ask()  # and after the fault, by the same process
            counts = Counter(
                m["chat_id"] for m in messages(emulator) if DIGEST_TITLE in (m["text"] or "")
            )
            ledger = states(direct)
            direct.dispose()
    finally:
        emulator.stop()
    wanted = set(chats)
    blocked = set(getattr(fault, "blocked", ()))
    lost = sum(1 for chat in chats if counts[chat] == 0 and chat not in blocked)
    problems += (
        [f"{len(blocked & set(counts))} blocked chats got a digest"]
        if blocked & set(counts)
        else []
    )
    expected = {"sent": len(chats) - len(blocked)} | ({"blocked": len(blocked)} if blocked else {})
    if ledger != expected:
        problems.append(f"ledger {ledger}, not {expected}")
    duplicates = sum(n - 1 for chat, n in counts.items() if chat in wanted and n > 1)
    return Row(
        name,
        subscribers,
        lost,
        duplicates,
        allowed_duplicates,
        max(run.latencies, default=0.0),
        run.unanswered,
        finished,
        problems,
    )


# --- the faults -----------------------------------------------------------------------------


async def storm_429(run: Run) -> list[str]:
    faults(run.emulator, fail_fraction={"fraction": 0.2, "error_code": 429, "seed": SEED})
    await run.ask_for(10)
    faults(run.emulator, fail_fraction={"fraction": 0})
    return []


class Blocked:
    def __init__(self) -> None:
        self.blocked: list[int] = []

    async def __call__(self, run: Run) -> list[str]:
        # Chats the run has not reached yet.
        self.blocked = run.chats[len(run.chats) // 2 :: 10]
        faults(run.emulator, block_chat=[{"chat_id": chat} for chat in self.blocked])
        await run.ask_for(3)
        return []


async def errors_5xx_and_drops(run: Run) -> list[str]:
    faults(run.emulator, drop_connections={"method": "sendMessage", "count": 30})
    deadline = time.monotonic() + 30
    while (
        sum(1 for c in control(run.emulator, "calls?method=sendMessage") if c["status"] == 0) < 30
    ):
        if time.monotonic() > deadline:
            return ["the dropped connections were not all used"]
        await asyncio.sleep(0.1)
    later = run.chats[len(run.chats) // 2 :: 10]
    faults(
        run.emulator,
        fail_next=[{"method": "sendMessage", "error_code": 502, "chat_id": c} for c in later],
        set_delay={"delay_seconds": 0.2, "method": "sendMessage"},
    )
    await run.ask_for(5)
    faults(run.emulator, set_delay={"delay_seconds": 0.002, "method": "sendMessage"})
    return []


async def sqlite_write_lock(run: Run) -> list[str]:
    path = run.engine.url.database
    locked = threading.Event()

    def hold() -> None:
        connection = sqlite3.connect(path, isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        locked.set()
        time.sleep(3)
        connection.execute("COMMIT")
        connection.close()

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    await asyncio.to_thread(locked.wait, 10)
    await run.ask_for(3)
    await asyncio.to_thread(holder.join, 10)
    return []


@contextlib.contextmanager
def locked_statements(run: Run) -> Iterator[threading.Event]:
    from sqlalchemy import Engine, event

    armed = threading.Event()
    url = str(run.engine.url)

    def refuse(conn: Any, *_args: object) -> None:
        if armed.is_set() and conn.engine is not run.engine and str(conn.engine.url) == url:
            raise sqlite3.OperationalError("database is locked")

    event.listen(Engine, "before_cursor_execute", refuse)
    try:
        yield armed
    finally:
        event.remove(Engine, "before_cursor_execute", refuse)


async def sqlite_locked_errors(run: Run) -> list[str]:
    with locked_statements(run) as armed:
        armed.set()
        # Answers during the fault are the apology (the catalogue cannot be read); they are
        # timed all the same: an answer, not silence.
        await run.ask_for(2)
        armed.clear()
    return []


def postgres_cut(proxy: Any) -> Fault:
    async def cut(run: Run) -> list[str]:
        proxy.cut()
        await run.ask_for(2)
        proxy.restore()
        return []

    return cut


@contextlib.contextmanager
def postgres_database(server: str) -> Iterator[str | None]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(server)
    name = f"tradewatch_faults_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        log(f"PostgreSQL unavailable: {error}")
        admin.dispose()
        yield None
        return
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


async def run_all(subscribers: int, postgres_url: str) -> list[Row]:
    quicken()
    rows = [
        await run_scenario("429 storm", subscribers, storm_429, allowed_duplicates=0),
        await run_scenario("403 blocked chats", subscribers, Blocked(), allowed_duplicates=0),
        await run_scenario(
            "5xx, drops, slow answers", subscribers, errors_5xx_and_drops, allowed_duplicates=0
        ),
        await run_scenario(
            "SQLite write lock 3 s", subscribers, sqlite_write_lock, allowed_duplicates=0
        ),
        await run_scenario(
            "SQLite 'database is locked' 2 s",
            subscribers,
            sqlite_locked_errors,
            allowed_duplicates=CONCURRENCY,
        ),
    ]
    from sqlalchemy.engine import make_url

    from tests.tcp_proxy import TcpProxy

    with postgres_database(postgres_url) as database_url:
        if database_url is None:
            rows.append(Row("PostgreSQL restart", subscribers, 0, 0, 0, 0.0, 0, False))
            rows[-1].problems.append("PostgreSQL unreachable")
        else:
            url = make_url(database_url)
            with TcpProxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
                rows.append(
                    await run_scenario(
                        "PostgreSQL restart 2 s",
                        subscribers,
                        postgres_cut(proxy),
                        allowed_duplicates=CONCURRENCY,
                        database_url=database_url,
                        proxy=proxy,
                    )
                )
    return rows


def table(rows: list[Row]) -> str:
    header = ("scenario", "subscribers", "lost", "duplicates", "max answer (s)", "result")
    body = [
        (
            row.scenario,
            f"{row.subscribers:,}",
            str(row.lost),
            f"{row.duplicates} (<= {row.allowed_duplicates})",
            f"{row.slowest_answer:.2f}"
            + (f", {row.unanswered} unanswered" if row.unanswered else ""),
            ("pass" if row.passed else "falls short")
            + "".join(f"; {problem}" for problem in row.problems)
            + ("" if row.finished else "; run not finished"),
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        for line in [header, *body]
    ]
    return "\n".join([lines[0], "  ".join("-" * w for w in widths), *lines[1:]])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=2000)
    parser.add_argument("--quick", action="store_true", help="300 subscribers, under 3 minutes")
    parser.add_argument("--json", action="store_true", help="rows as JSON instead of a table")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)  # the injected faults log errors by design
    subscribers = 300 if args.quick else args.subscribers
    started = time.monotonic()
    rows = asyncio.run(run_all(subscribers, args.postgres_url))
    log(f"done in {time.monotonic() - started:.0f} s")
    if args.json:
        print(json.dumps([row.as_json() for row in rows], indent=2))
    else:
        print(
            f"Faults during a digest run of {subscribers:,} subscribers (BROADCAST_CONCURRENCY="
            f"{CONCURRENCY}), a question a second while each fault lasts"
        )
        print(table(rows))
    return 0 if all(row.passed for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
