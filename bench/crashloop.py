"""Crash loops: a digest run whose bot is killed (SIGKILL) again and again until it is done.

Starts `python -m bot run` (a real process) against the Bot API emulator (a process of its own)
with a few thousand subscribers due, kills it with SIGKILL at random moments (a fixed seed),
restarts it each time, and after the last kill lets it finish. Then counts, per subscriber, the
digests that arrived: a loss is a subscriber with none, a duplicate any copy beyond the first.

The documented window (README, "Delivery guarantees"): a message that was sent when the process
died, but not yet recorded, is sent again on restart, so at most BROADCAST_CONCURRENCY
duplicates per kill. Pass: no loss, and no more duplicates than kills x BROADCAST_CONCURRENCY.
Each duplicate is put down to the kill that ended the process which sent its first copy, so the
table shows the most any single kill caused as well. A restart that stalls (no new message
within `--stall-seconds` of starting the process) stops the run and falls short.

Settings: BROADCAST_CONCURRENCY=4 (the default, so the window is production's),
BROADCAST_RATE=0, DELIVERY_LEASE_SECONDS=5 (rows the killed process held come back after 5 s),
and a small delay on sendMessage in the emulator (`--delay`), so each process lives long enough
to be killed in the middle. After each restart the bot is killed once its first new message has
arrived plus a random number of further messages (at most twice the remaining messages over the
kills still to come, so the run lasts through every kill). One message per digest (each
subscriber follows one topic), so messages and digests count alike.

    python bench/crashloop.py [--subscribers 5000] [--kills 20] [--seed 20261122]
                              [--postgres-url postgresql+psycopg://...] [--quick] [--json]

`--quick`: 1,000 subscribers, 5 kills. `--json`: a JSON list of rows {"scenario", "figure",
"target", "result"} instead of the table. Exit status 1 when the run falls short.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent  # where `python -m devtools.botapi` runs

TOKEN = "123456789:AAE-benchmark-token-0123456789abcdef"
FIRST_CHAT = 20_000_000
CONCURRENCY = 4  # BROADCAST_CONCURRENCY's default: the documented window is production's
LEASE_SECONDS = 5
SETTLE_SECONDS = 0.3  # after a kill: a request the emulator was delaying is recorded by then
FINISH_TIMEOUT = 300.0


def log(message: str) -> None:
    print(f"[crashloop] {message}", file=sys.stderr, flush=True)


class Emulator:
    """`python -m devtools.botapi` in a process of its own."""

    def __init__(self) -> None:
        command = [sys.executable, "-m", "devtools.botapi", "--port", "0"]
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if not line.startswith("listening on "):
            self.stop()
            raise RuntimeError(f"the emulator did not start: {line!r}")
        self.base_url = line.removeprefix("listening on ")

    def _call(self, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.base_url}/_emulator/{path}",
            data=data,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as answer:
            return json.load(answer)["result"]

    def set_delay(self, seconds: float) -> None:
        self._call("faults", {"set_delay": {"delay_seconds": seconds, "method": "sendMessage"}})

    def message_count(self) -> int:
        return int(self._call("stats")["messages"])

    def sent_chats(self) -> list[int]:
        """The chat of every sendMessage, in the order the emulator recorded them."""
        return [int(message["chat_id"]) for message in self._call("messages?method=sendMessage")]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Database:
    """A fresh ledger: SQLite in the temporary folder, or a new PostgreSQL database."""

    def __init__(self, folder: Path, postgres_server: str | None) -> None:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        self.server = postgres_server
        self.name = f"crashloop_{uuid.uuid4().hex[:10]}"
        if postgres_server is None:
            self.url = f"sqlite:///{folder / (self.name + '.sqlite3')}"
        else:
            admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{self.name}"'))
            admin.dispose()
            server = make_url(postgres_server)
            self.url = server.set(database=self.name).render_as_string(hide_password=False)
        from bot import db
        from bot.config import Settings

        settings = Settings(_env_file=None, data_dir=folder, database_url=self.url)
        self.engine = db.make_engine(settings)

    def prepare(self, count: int) -> list[int]:
        """Schema, bundled dataset, and `count` private chats whose weekly digest is due."""
        import sqlalchemy as sa

        from bot import db
        from bot.bootstrap import seed
        from bot.models import Subscriber
        from bot.vocabulary import Frequency

        db.upgrade(self.engine)
        seed(self.engine)
        due = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
        created = due - timedelta(days=30)
        row = {
            "chat_type": "private",
            "title": None,
            "frequency": Frequency.WEEKLY,
            "weekday": 0,
            "local_hour": 9,
            "timezone": "Asia/Kolkata",
            "topics": ["passes"],  # one topic: each digest is one message
            "alerts_enabled": True,
            "quiet_hours": True,
            "include_chart": False,
            "active": True,
            "deactivated_reason": None,
            "added_by": None,
            "next_digest_at": due,
            "last_digest_at": None,
            "created_at": created,
            "updated_at": created,
        }
        chats = list(range(FIRST_CHAT, FIRST_CHAT + count))
        insert = sa.insert(Subscriber.__table__)  # type: ignore[attr-defined]
        with self.engine.begin() as connection:
            connection.execute(insert, [{**row, "chat_id": chat} for chat in chats])
        return chats

    def states(self) -> dict[str, int]:
        import sqlalchemy as sa

        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT state, count(*) FROM delivery GROUP BY state")
            )
            return {str(state): int(count) for state, count in rows}

    def drop(self) -> None:
        self.engine.dispose()
        if self.server is not None:
            from sqlalchemy import create_engine, text

            admin = create_engine(self.server, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            admin.dispose()


class Bots:
    """`python -m bot run` processes, one at a time, each with its own log."""

    def __init__(self, emulator: Emulator, folder: Path, database_url: str) -> None:
        self.environment = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("TELEGRAM", "DATABASE", "BROADCAST", "DELIVERY", "ALERT"))
        }
        self.environment.update(
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_BASE_URL=emulator.base_url,
            DATABASE_URL=database_url,
            DATA_DIR=str(folder),
            BROADCAST_RATE="0",
            BROADCAST_CONCURRENCY=str(CONCURRENCY),
            DELIVERY_LEASE_SECONDS=str(LEASE_SECONDS),
        )
        self.folder = folder
        self.logs: list[Path] = []
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log_path = self.folder / f"bot-{len(self.logs)}.log"
        self.logs.append(log_path)
        with log_path.open("wb") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"],
                cwd=self.folder,
                env=self.environment,
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def last_log_tail(self, lines: int = 5) -> str:
        if not self.logs:
            return ""
        return "\n".join(self.logs[-1].read_text(errors="replace").splitlines()[-lines:])


@dataclass
class Outcome:
    subscribers: int
    kills: int = 0
    lost: int = 0
    duplicates: int = 0
    per_kill: list[int] = field(default_factory=list)
    after_finish: int = 0  # duplicates whose first copy came from the process not killed
    longest_restart: float = 0.0  # process start to its first new message, seconds
    seconds: float = 0.0
    states: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def window(self) -> int:
        return self.kills * CONCURRENCY

    @property
    def passed(self) -> bool:
        return not self.problems and self.lost == 0 and self.duplicates <= self.window


def _wait(condition: Any, timeout: float, what: str, bots: Bots) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if not bots.alive():
            raise RuntimeError(f"the bot exited while waiting for {what}: {bots.last_log_tail()}")
        time.sleep(0.02)
    raise TimeoutError(f"no {what} within {timeout:.0f} s")


def crash_loop(
    subscribers: int,
    kills: int,
    *,
    seed: int,
    delay: float,
    stall_seconds: float,
    postgres_url: str | None,
) -> Outcome:
    outcome = Outcome(subscribers)
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="crashloop-") as tmp:
        folder = Path(tmp)
        database = Database(folder, postgres_url)
        emulator: Emulator | None = None
        bots: Bots | None = None
        try:
            log(f"preparing {subscribers:,} subscribers")
            chats = database.prepare(subscribers)
            emulator = Emulator()
            emulator.set_delay(delay)
            bots = Bots(emulator, folder, database.url)
            boundaries: list[int] = []  # messages recorded when each killed process was gone
            started = time.monotonic()
            try:
                for kill in range(kills):
                    arrived = emulator.message_count()
                    remaining = subscribers - arrived
                    if remaining <= 1:
                        outcome.problems.append(f"the run finished before kill {kill + 1}")
                        break
                    extra = rng.randint(0, max(1, 2 * remaining // (kills - kill + 1)))
                    bots.start()
                    restarted = time.monotonic()
                    _wait(
                        lambda goal=arrived + 1: emulator.message_count() >= goal,
                        stall_seconds,
                        f"new message after restart {kill}",
                        bots,
                    )
                    outcome.longest_restart = max(
                        outcome.longest_restart, time.monotonic() - restarted
                    )
                    goal = min(emulator.message_count() + extra, subscribers - 1)
                    _wait(
                        lambda goal=goal: emulator.message_count() >= goal,
                        stall_seconds + extra * delay * 4,
                        f"message {goal:,} (kill {kill + 1})",
                        bots,
                    )
                    bots.kill()
                    outcome.kills += 1
                    time.sleep(SETTLE_SECONDS)
                    boundaries.append(emulator.message_count())
                    log(f"kill {kill + 1}/{kills} at {boundaries[-1]:,} messages")
                bots.start()
                restarted = time.monotonic()
                _wait(
                    lambda: database.states().get("sent", 0) >= subscribers,
                    FINISH_TIMEOUT,
                    "end of the run (every delivery sent)",
                    bots,
                )
                outcome.seconds = time.monotonic() - started
            except (TimeoutError, RuntimeError) as error:
                outcome.problems.append(str(error))
                outcome.seconds = time.monotonic() - started
            finally:
                bots.stop()
            outcome.states = database.states()
            sent = emulator.sent_chats()
        finally:
            if emulator is not None:
                emulator.stop()
            database.drop()
    _count(outcome, chats, sent, boundaries)
    if outcome.states != {"sent": subscribers} and not outcome.problems:
        outcome.problems.append(f"ledger states {outcome.states}, not all {subscribers:,} sent")
    return outcome


def _count(outcome: Outcome, chats: list[int], sent: list[int], boundaries: list[int]) -> None:
    """Losses and duplicates per subscriber; each duplicate to the kill after its first copy."""
    wanted = set(chats)
    counts = Counter(chat for chat in sent if chat in wanted)
    outcome.lost = sum(1 for chat in chats if counts[chat] == 0)
    outcome.duplicates = sum(count - 1 for count in counts.values() if count > 1)
    outcome.per_kill = [0] * len(boundaries)
    first_at: dict[int, int] = {}
    for index, chat in enumerate(sent):
        if chat not in wanted:
            continue
        if chat not in first_at:
            first_at[chat] = index
            continue
        # A copy beyond the first: caused by the kill that ended the first copy's process.
        segment = sum(1 for boundary in boundaries if boundary <= first_at[chat])
        if segment < len(boundaries):
            outcome.per_kill[segment] += 1
        else:
            outcome.after_finish += 1


def rows(outcome: Outcome, where: str) -> list[dict[str, str]]:
    scenario = (
        f"crash loop: {outcome.subscribers:,} subscribers, {outcome.kills} × SIGKILL "
        f"and restart, {where}"
    )
    worst = max(outcome.per_kill, default=0)
    problems = "; ".join(outcome.problems)
    lost_ok = outcome.lost == 0 and not problems
    duplicates_ok = outcome.duplicates <= outcome.window and not problems
    result_rows = [
        {
            "scenario": scenario + ": digests lost",
            "figure": f"{outcome.lost:,} of {outcome.subscribers:,}"
            + (f" ({problems})" if problems else ""),
            "target": "0",
            "result": "pass" if lost_ok else "falls short",
        },
        {
            "scenario": scenario + ": duplicates",
            "figure": (
                f"{outcome.duplicates} ({outcome.duplicates / max(1, outcome.kills):.2f} per kill, "
                f"at most {worst} from one kill)"
            ),
            "target": f"≤ {outcome.window} (BROADCAST_CONCURRENCY={CONCURRENCY} per kill)",
            "result": "pass" if duplicates_ok else "falls short",
        },
    ]
    return result_rows


def print_table(outcome: Outcome, where: str, delay: float) -> None:
    print(
        f"Crash loop: `python -m bot run` killed with SIGKILL and restarted, {where}, "
        f"BROADCAST_CONCURRENCY={CONCURRENCY}, BROADCAST_RATE=0, "
        f"DELIVERY_LEASE_SECONDS={LEASE_SECONDS}, sendMessage delayed {delay * 1000:.0f} ms; "
        f"{platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores"
    )
    print()
    print(
        "| subscribers | kills | lost | duplicates | max duplicates per kill "
        "| documented window | total time | result |"
    )
    print("|---|---|---|---|---|---|---|---|")
    verdict = "pass" if outcome.passed else "falls short"
    print(
        f"| {outcome.subscribers:,} | {outcome.kills} | {outcome.lost} | {outcome.duplicates} "
        f"| {max(outcome.per_kill, default=0)} | {outcome.window} ({CONCURRENCY} per kill) "
        f"| {outcome.seconds:.0f} s | {verdict} |"
    )
    print()
    print(
        f"Duplicates per kill: {outcome.per_kill} ({outcome.duplicates / max(1, outcome.kills):.2f}"
        f" on average); after the last restart: {outcome.after_finish}. Longest restart to its "
        f"first new message: {outcome.longest_restart:.1f} s. Ledger: {outcome.states}."
    )
    for problem in outcome.problems:
        print(f"\nFAILED: {problem}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=5000)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument(
        "--delay", type=float, default=0.01, help="seconds the emulator holds each sendMessage"
    )
    parser.add_argument(
        "--stall-seconds",
        type=float,
        default=30.0,
        help="a restart with no new message for this long is a stall (falls short)",
    )
    parser.add_argument("--postgres-url", help="a PostgreSQL server (a database of its own)")
    parser.add_argument("--quick", action="store_true", help="1,000 subscribers, 5 kills")
    parser.add_argument("--json", action="store_true", help="print JSON rows, not the table")
    args = parser.parse_args()
    # SIGTERM (timeout, kill) unwinds like Ctrl-C: the bot, the emulator and the database go too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.quick:
        args.subscribers, args.kills = 1000, 5
    where = "PostgreSQL" if args.postgres_url else "SQLite"
    outcome = crash_loop(
        args.subscribers,
        args.kills,
        seed=args.seed,
        delay=args.delay,
        stall_seconds=args.stall_seconds,
        postgres_url=args.postgres_url,
    )
    if args.json:
        print(json.dumps(rows(outcome, where), ensure_ascii=False))
    else:
        print_table(outcome, where, args.delay)
    return 0 if outcome.passed else 1


if __name__ == "__main__":
    sys.exit(main())
