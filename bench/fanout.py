"""Digest fan-out: how fast, and in how much memory, a digest run reaches every subscriber.

Prints one table. With the emulator's limits off: messages per second and peak memory (RSS) of
a full digest run (`Broadcaster.run_due()`: scheduling, rendering, sending, a ledger write per
message) for each size, side by side with a bare python-telegram-bot `send_message` loop at the
same concurrency in the same run. With the emulator enforcing Telegram's limits: the achieved
rate and the number of 429s. Targets: at least 1,000 messages/s with limits off (Telegram's
paid-broadcast ceiling) and within 1.25x the bare loop's time; peak RSS at the largest size
within 30 MB of that at the smallest; with limits on, zero 429s and at least 95% of the allowed
rate (30 messages/s overall).

Every subscriber follows one topic (passes), so each digest is one message of about 2 kB: the
rate is messages and deliveries alike. The Bot API emulator (devtools/botapi/)
runs in a process of its own, restarted for every scenario, so its CPU and memory are not
measured; each scenario runs in a fresh interpreter, so peak RSS is that scenario's alone.
Subscribers are written before the clock starts (not measured); SQLite in a temporary folder.
Every delivery is checked afterwards: the emulator got exactly one message per subscriber and
the ledger holds every row as sent; a failed check is printed and the exit status is 1.

Besides messages/s, each row shows the sender's CPU time per message, which CPU steal (other
virtual machines on the host, also shown) does not inflate: compare rows by it when steal
differs.

Concurrency is 4 by default, the bot's own BROADCAST_CONCURRENCY default, for the digest run
and the bare loop alike; a bigger pool is slower for both here (httpcore checks every pooled
connection on each request). At the 200-400 messages/s of 2 cores the default run takes about
15 minutes (220,000 messages); `--quick` under 3.

    python bench/fanout.py [--sizes 10000,100000] [--concurrency 4] [--limited 900]
                           [--instances 2 --instances-db postgres] [--quick] [--json]
    python bench/fanout.py --profile fanout.prof [--sizes 10000]   # cProfile of one run

`--json` prints a JSON list of rows {"scenario", "figure", "target", "result"} (the rows with a
target) instead of the table, for bench/run_all.py.

`--instances K` adds rows where K sender processes share the ledger (as K bot instances would),
against K bare loops, each sending 1/K of the messages; `--instances-db postgres` puts that
ledger on the PostgreSQL server at `--postgres-url` (a database of its own, dropped after).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# The repository root: devtools/ (the Bot API emulator) is imported and run from there.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

TOKEN = "123456789:AAE-benchmark-token-0123456789abcdef"
# Monday 23 November 2026, 09:00 in Kolkata: a weekly digest at 09:00 is due for everyone.
DUE = datetime(2026, 11, 23, 3, 30, tzinfo=UTC)
FIRST_CHAT = 10_000_000
TOPICS = ["passes"]  # one topic: each digest is one message
TELEGRAM_RATE = 30.0  # messages a second overall, Telegram's limit without paid broadcasts
TARGET_RATE = 1000.0  # Telegram's paid-broadcast ceiling
TARGET_RATIO = 1.25
TARGET_RSS_GROWTH_MB = 30.0
TARGET_LIMITED_SHARE = 0.95
PROGRESS_SECONDS = 15.0
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def log(message: str) -> None:
    print(f"[fanout] {message}", file=sys.stderr, flush=True)


# --- the measured processes ---------------------------------------------------------------


def _rss_mb(field_name: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _settings(spec: dict[str, Any]) -> Any:
    from bot.config import Settings

    return Settings(
        _env_file=None,
        telegram_bot_token=TOKEN,
        telegram_api_base_url=spec.get("base_url"),
        data_dir=Path(spec["folder"]),
        database_url=spec["database_url"],
        broadcast_rate=spec.get("rate", 0),
        broadcast_concurrency=spec.get("concurrency", 4),
    )


def _cpu_seconds() -> float:
    """CPU time this process has used (user and system): unlike wall time, steal-proof."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _handshake() -> None:
    """Ready to measure: wait for the parent's go, so instances start together."""
    print("ready", flush=True)
    sys.stdin.readline()


async def _run_pipeline(spec: dict[str, Any]) -> dict[str, Any]:
    from bot import db
    from bot.rendering import Renderer
    from bot.telegram.answer_cache import AnswerCache
    from bot.telegram.broadcast import Broadcaster, make_broadcast_bot
    from bot.telegram.services import BotServices

    settings = _settings(spec)
    engine = db.make_engine(settings)
    epoch = spec["epoch"]  # the instances share one clock: the due moment plus real time

    def clock() -> datetime:
        return DUE + timedelta(seconds=time.time() - epoch)

    services = BotServices(settings, engine, Renderer(), AnswerCache(0), clock=clock)
    bot = make_broadcast_bot(services)
    profiler = None
    async with bot:
        broadcaster = Broadcaster(services, bot)
        rss_start = _rss_mb("VmRSS")
        _handshake()
        if spec.get("profile"):
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        started, wall_start, cpu = time.perf_counter(), time.time(), _cpu_seconds()
        report = await broadcaster.run_due()
        elapsed, wall_end = time.perf_counter() - started, time.time()
        cpu = _cpu_seconds() - cpu
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(spec["profile"])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    engine.dispose()
    return {
        "sent": report.sent,
        "scheduled": report.scheduled,
        "delivered": report.delivered,
        "rate_limited": report.rate_limited,
        "released": report.released,
        "failed": report.failed,
        "retried": report.retried,
        "errors": report.errors[:5],
        "elapsed": elapsed,
        "wall_start": wall_start,
        "wall_end": wall_end,
        "rss_start_mb": rss_start,
        "cpu": cpu,
        "rss_peak_mb": peak,
    }


async def _run_bare(spec: dict[str, Any]) -> dict[str, Any]:
    from telegram import Bot, LinkPreviewOptions
    from telegram.constants import ParseMode
    from telegram.request import HTTPXRequest

    concurrency = spec["concurrency"]
    # The request settings of bot.telegram.broadcast.make_broadcast_bot.
    request = HTTPXRequest(
        connection_pool_size=concurrency + 1, read_timeout=15, write_timeout=15, pool_timeout=15
    )
    bot = Bot(TOKEN, base_url=f"{spec['base_url']}/bot", request=request)
    text = spec["text"]
    preview = LinkPreviewOptions(is_disabled=True)
    chats = iter(range(spec["first_chat"], spec["first_chat"] + spec["count"]))
    sent = 0

    async def worker() -> None:
        nonlocal sent
        for chat in chats:  # one iterator shared by the workers: each chat once
            await bot.send_message(
                chat, text, parse_mode=ParseMode.HTML, link_preview_options=preview
            )
            sent += 1

    async with bot:
        rss_start = _rss_mb("VmRSS")
        _handshake()
        started, wall_start, cpu = time.perf_counter(), time.time(), _cpu_seconds()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed, wall_end = time.perf_counter() - started, time.time()
        cpu = _cpu_seconds() - cpu
    return {
        "sent": sent,
        "elapsed": elapsed,
        "wall_start": wall_start,
        "wall_end": wall_end,
        "rss_start_mb": rss_start,
        "cpu": cpu,
        "rss_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def child_main(spec: dict[str, Any]) -> None:
    runner = _run_pipeline if spec["kind"] == "pipeline" else _run_bare
    result = asyncio.run(runner(spec))
    print(json.dumps(result), flush=True)


# --- the emulator -------------------------------------------------------------------------


class Emulator:
    """`python -m devtools.botapi` in a process of its own."""

    def __init__(self, *, enforce_limits: bool) -> None:
        command = [sys.executable, "-m", "devtools.botapi", "--port", "0"]
        if enforce_limits:
            command.append("--enforce-limits")
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if not line.startswith("listening on "):
            self.stop()
            raise RuntimeError(f"the emulator did not start: {line!r}")
        self.base_url = line.removeprefix("listening on ")

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.base_url}/_emulator/stats", timeout=30) as answer:
            stats: dict[str, Any] = json.load(answer)["result"]
        return stats

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# --- databases ----------------------------------------------------------------------------


class Database:
    """A fresh ledger: SQLite in the temporary folder, or a new PostgreSQL database."""

    def __init__(self, folder: Path, *, postgres_server: str | None = None) -> None:
        self.folder = folder
        self.server = postgres_server
        self.name = f"fanout_{uuid.uuid4().hex[:10]}"
        if postgres_server is None:
            self.url = f"sqlite:///{folder / (self.name + '.sqlite3')}"
        else:
            from sqlalchemy import create_engine, text
            from sqlalchemy.engine import make_url

            server = make_url(postgres_server)
            admin = create_engine(server, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{self.name}"'))
            admin.dispose()
            self.url = server.set(database=self.name).render_as_string(hide_password=False)
        self.engine: Any = None

    def prepare(self, count: int) -> None:
        """Schema, bundled dataset, and `count` private chats all due at DUE (not timed)."""
        import sqlalchemy as sa

        from bot import db
        from bot.bootstrap import seed
        from bot.models import Subscriber
        from bot.vocabulary import Frequency

        self.settings = _settings({"folder": self.folder, "database_url": self.url})
        self.engine = db.make_engine(self.settings)
        db.upgrade(self.engine)
        seed(self.engine)
        created = DUE - timedelta(days=30)
        row = {
            "chat_type": "private",
            "title": None,
            "frequency": Frequency.WEEKLY,
            "weekday": 0,
            "local_hour": 9,
            "timezone": "Asia/Kolkata",
            "topics": TOPICS,
            "alerts_enabled": True,
            "quiet_hours": True,
            "include_chart": False,
            "active": True,
            "deactivated_reason": None,
            "added_by": None,
            "next_digest_at": DUE,
            "last_digest_at": None,
            "created_at": created,
            "updated_at": created,
        }
        insert = sa.insert(Subscriber.__table__)  # type: ignore[attr-defined]
        with self.engine.begin() as connection:
            for start in range(0, count, 10_000):
                chats = range(FIRST_CHAT + start, FIRST_CHAT + min(count, start + 10_000))
                connection.execute(insert, [{**row, "chat_id": chat} for chat in chats])

    def digest_text(self) -> str:
        """The digest every subscriber gets, as the pipeline renders it: the bare loop's text."""
        from bot.rendering import Renderer
        from bot.services import digest as content
        from bot.services.timeline import Freshness
        from bot.vocabulary import Frequency, Topic

        with self.session() as session:
            built = content.build_digest(
                session,
                topics=frozenset(Topic(topic) for topic in TOPICS),
                since=DUE - timedelta(days=30),
                freshness=Freshness(DUE.date(), self.settings.stale_after_days),
                frequency=Frequency.WEEKLY,
            )
        [text] = content.render_digest(Renderer(), built)
        return text

    def session(self) -> Any:
        from bot.db import session_scope

        return session_scope(self.engine)

    def ledger(self) -> dict[str, Any]:
        """What the ledger says was sent: rows by state, and the message ids recorded."""
        import sqlalchemy as sa

        with self.engine.connect() as connection:
            states = dict(
                connection.execute(
                    sa.text("SELECT state, count(*) FROM delivery GROUP BY state")
                ).all()
            )
            first_messages = connection.execute(
                sa.text("SELECT count(*) FROM delivery WHERE message_id = 1 AND parts_sent = 1")
            ).scalar_one()
        return {"states": {str(k): v for k, v in states.items()}, "first_messages": first_messages}

    def drop(self) -> None:
        if self.engine is not None:
            self.engine.dispose()
        if self.server is None:  # a 100k ledger is tens of MB: gone before the next scenario
            for suffix in ("", "-wal", "-shm"):
                (self.folder / f"{self.name}.sqlite3{suffix}").unlink(missing_ok=True)
        else:
            from sqlalchemy import create_engine, text

            admin = create_engine(self.server, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            admin.dispose()


# --- scenarios ----------------------------------------------------------------------------


@dataclass
class Outcome:
    label: str
    kind: str
    count: int
    instances: int
    concurrency: int
    rate: float  # messages a second, all instances together
    elapsed: float
    rss_peak_mb: float  # the largest of the instances
    rss_start_mb: float
    cpu_ms: float  # the sender's CPU time per message, all instances together
    too_many_requests: int
    allowed_share: float = 0.0  # limits on: messages sent over what the limits admit meanwhile
    steal: float = 0.0  # CPU steal on this virtual machine while measuring
    problems: list[str] = field(default_factory=list)


def _cpu_times() -> list[int]:
    """The machine's CPU time so far by kind (/proc/stat): steal is the 8th."""
    with Path("/proc/stat").open() as stat:
        return [int(value) for value in stat.readline().split()[1:]]


def _steal(before: list[int], after: list[int]) -> float:
    """The share of CPU time the hypervisor gave to other machines meanwhile."""
    spent = [b - a for a, b in zip(before, after, strict=True)]
    return spent[7] / max(1, sum(spent[:8]))


def run_children(
    specs: list[dict[str, Any]], emulator: Emulator, label: str
) -> tuple[list[dict[str, Any]], float]:
    """Start the instances, let them set up, start them together, wait, collect their JSON.

    Also returns the CPU steal while they ran: on a virtual machine, time the host gave to
    others, a measure of how noisy this run was.
    """
    children = [
        subprocess.Popen(
            [sys.executable, __file__, "--child", json.dumps(spec)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for spec in specs
    ]
    try:
        for child in children:
            assert child.stdout is not None
            if child.stdout.readline().strip() != "ready":
                raise RuntimeError(f"{label}: a child failed to start")
        started, cpu_before = time.monotonic(), _cpu_times()
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        next_report = started + PROGRESS_SECONDS
        while any(child.poll() is None for child in children):
            time.sleep(0.1)
            if time.monotonic() >= next_report:
                next_report += PROGRESS_SECONDS
                sent = emulator.stats()["messages"]
                seconds = time.monotonic() - started
                log(f"{label}: {sent:,} messages in {seconds:.0f} s ({sent / seconds:,.0f}/s)")
        steal = _steal(cpu_before, _cpu_times())
        results = []
        for child in children:
            assert child.stdout is not None
            output = child.stdout.read().strip().splitlines()
            if child.returncode != 0 or not output:
                raise RuntimeError(f"{label}: a child exited with {child.returncode}")
            results.append(json.loads(output[-1]))
    finally:  # an error, Ctrl-C or SIGTERM: no instance left sending
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    return results, steal


def _combine(
    label: str,
    kind: str,
    count: int,
    concurrency: int,
    results: list[dict[str, Any]],
    stats: dict[str, Any],
) -> Outcome:
    sent = sum(result["sent"] for result in results)
    elapsed = max(r["wall_end"] for r in results) - min(r["wall_start"] for r in results)
    if len(results) == 1:
        elapsed = results[0]["elapsed"]
    return Outcome(
        label=label,
        kind=kind,
        count=count,
        instances=len(results),
        concurrency=concurrency,
        rate=sent / elapsed,
        elapsed=elapsed,
        rss_peak_mb=max(result["rss_peak_mb"] for result in results),
        rss_start_mb=max(result["rss_start_mb"] for result in results),
        cpu_ms=1000 * sum(result["cpu"] for result in results) / max(1, sent),
        too_many_requests=stats["too_many_requests"],
    )


def bare_loop(count: int, concurrency: int, instances: int, folder: Path, text: str) -> Outcome:
    label = "bare PTB `send_message` loop" + (f", {instances} processes" if instances > 1 else "")
    log(f"{label}: {count:,} messages, concurrency {concurrency}")
    emulator = Emulator(enforce_limits=False)
    try:
        share = -(-count // instances)
        specs = [
            {
                "kind": "bare",
                "base_url": emulator.base_url,
                "concurrency": concurrency,
                "first_chat": FIRST_CHAT + index * share,
                "count": max(0, min(share, count - index * share)),
                "text": text,
                "folder": str(folder),
            }
            for index in range(instances)
        ]
        results, steal = run_children(specs, emulator, label)
        stats = emulator.stats()
    finally:
        emulator.stop()
    outcome = _combine(label, "bare", count, concurrency, results, stats)
    outcome.steal = steal
    if stats["messages"] != count:
        outcome.problems.append(f"the emulator got {stats['messages']:,} messages, not {count:,}")
    return outcome


def pipeline(
    count: int,
    concurrency: int,
    folder: Path,
    *,
    instances: int = 1,
    rate: float = 0,
    enforce_limits: bool = False,
    postgres: str | None = None,
    profile: str | None = None,
) -> Outcome:
    where = "PostgreSQL" if postgres else "SQLite"
    if enforce_limits:
        label = (
            f"digest run, emulator enforcing limits, BROADCAST_RATE={rate:g}, "
            f"concurrency {concurrency}"
        )
    else:
        label = "digest run (`run_due`)" + (
            f", {instances} instances on {where}" if instances > 1 else f", {where}"
        )
    log(f"{label}: preparing {count:,} subscribers")
    database = Database(folder, postgres_server=postgres)
    try:
        database.prepare(count)
        emulator = Emulator(enforce_limits=enforce_limits)
        try:
            log(f"{label}: sending")
            spec = {
                "kind": "pipeline",
                "base_url": emulator.base_url,
                "database_url": database.url,
                "folder": str(folder),
                "concurrency": concurrency,
                "rate": rate,
                "epoch": time.time(),
                "profile": profile,
            }
            results, steal = run_children([spec] * instances, emulator, label)
            stats = emulator.stats()
        finally:
            emulator.stop()
        ledger = database.ledger()
    finally:
        database.drop()
    kind = "limited" if enforce_limits else "pipeline"
    outcome = _combine(label, kind, count, concurrency, results, stats)
    outcome.steal = steal
    outcome.problems += _check_delivery(count, results, stats, ledger)
    if enforce_limits:
        from devtools.botapi import RateLimits

        # Telegram's bucket (as the emulator keeps it) starts full: in t seconds it admits
        # the burst plus t times the rate. A short run's burst would flatter a plain rate.
        limits = RateLimits()
        allowed = limits.overall_burst + limits.overall_per_second * outcome.elapsed
        outcome.allowed_share = outcome.rate * outcome.elapsed / allowed
    return outcome


def _check_delivery(
    count: int, results: list[dict[str, Any]], stats: dict[str, Any], ledger: dict[str, Any]
) -> list[str]:
    """Every subscriber got exactly one message, and the ledger says so."""
    problems = []
    if stats["messages"] != count:
        problems.append(f"the emulator got {stats['messages']:,} messages, not {count:,}")
    if ledger["states"] != {"sent": count}:
        problems.append(f"ledger states {ledger['states']}, not {{'sent': {count}}}")
    # Message ids count per chat in the emulator: id 1 recorded for every row, and `count`
    # messages in all, means each subscriber's chat got exactly one.
    if ledger["first_messages"] != count:
        problems.append(f"{count - ledger['first_messages']:,} rows without message 1 recorded")
    sent = sum(result["sent"] for result in results)
    if sent != count:
        problems.append(f"the run reports {sent:,} messages sent, not {count:,}")
    errors = [error for result in results for error in result.get("errors", [])]
    if errors:
        problems.append(f"errors: {errors[:3]}")
    return problems


# --- the table ----------------------------------------------------------------------------


def _limited_verdict(outcome: Outcome) -> tuple[str, str, str]:
    """Figure, target and result of the limits-on row."""
    share = outcome.allowed_share
    ok = outcome.too_many_requests == 0 and share >= TARGET_LIMITED_SHARE
    return (
        f"{share:.1%} of what the limits allow, {outcome.too_many_requests} × 429",
        f"0 × 429, ≥ {TARGET_LIMITED_SHARE:.0%}",
        "pass" if ok else "falls short",
    )


def _pipeline_verdict(outcome: Outcome, bare: Outcome) -> tuple[str, str, str]:
    """Figure (against the bare loop), target and result of a digest-run row."""
    ratio = bare.rate / outcome.rate  # the run's time over the bare loop's
    shortfalls = []
    if outcome.rate < TARGET_RATE:
        shortfalls.append(f"< {TARGET_RATE:,.0f}/s")
    if ratio > TARGET_RATIO:
        shortfalls.append(f"> {TARGET_RATIO}x")
    return (
        f"{ratio:.2f}x the bare loop's time ({outcome.cpu_ms / bare.cpu_ms:.2f}x its CPU)",
        f"≥ {TARGET_RATE:,.0f}/s, ≤ {TARGET_RATIO}x",
        "pass" if not shortfalls else "falls short (" + ", ".join(shortfalls) + ")",
    )


def _rss_growth(pipelines: list[Outcome]) -> tuple[Outcome, Outcome, float, str]:
    small = min(pipelines, key=lambda outcome: outcome.count)
    large = max(pipelines, key=lambda outcome: outcome.count)
    growth = large.rss_peak_mb - small.rss_peak_mb
    return small, large, growth, "pass" if growth <= TARGET_RSS_GROWTH_MB else "falls short"


def json_rows(rows: list[tuple[Outcome, Outcome | None]]) -> list[dict[str, str]]:
    """The rows with a target, for the one-table report (bench/run_all.py)."""
    result: list[dict[str, str]] = []
    pipelines: list[Outcome] = []
    for outcome, bare in rows:
        scenario = f"digest fan-out: {outcome.label}, {outcome.count:,} subscribers"
        if outcome.kind == "bare":
            continue
        if outcome.kind == "limited":
            figure, target, verdict = _limited_verdict(outcome)
            figure = f"{outcome.rate:,.1f} messages/s, {figure}"
        else:
            assert bare is not None
            figure, target, verdict = _pipeline_verdict(outcome, bare)
            figure = f"{outcome.rate:,.0f} messages/s, {figure}"
            if outcome.instances == 1:
                pipelines.append(outcome)
        if outcome.problems:
            figure += "; FAILED delivery check: " + "; ".join(outcome.problems)
            verdict = "falls short"
        result.append(
            {
                "scenario": scenario,
                "figure": figure,
                "target": target,
                # The one-table report has two results; the shortfall's reason is in the figure.
                "result": "pass" if verdict == "pass" else "falls short",
            }
        )
    if len(pipelines) >= 2:
        small, large, growth, verdict = _rss_growth(pipelines)
        result.append(
            {
                "scenario": f"digest fan-out: peak RSS growth, {small.count:,} → "
                f"{large.count:,} subscribers",
                "figure": f"{growth:+.0f} MB ({small.rss_peak_mb:.0f} → "
                f"{large.rss_peak_mb:.0f} MB)",
                "target": f"≤ +{TARGET_RSS_GROWTH_MB:.0f} MB",
                "result": verdict,
            }
        )
    return result


def _mb(value: float) -> str:
    return f"{value:.0f}"


def print_table(
    rows: list[tuple[Outcome, Outcome | None]], *, concurrency: int, load: float, minutes: float
) -> None:
    print(
        f"Digest fan-out against the Bot API emulator (its own process), one message per "
        f"subscriber, concurrency {concurrency}; {platform.python_version()}, "
        f"{platform.machine()}, {os.cpu_count()} cores, load average {load:.1f} at the start; "
        f"{minutes:.1f} min in all"
    )
    print()
    print(
        "| scenario | subscribers | messages/s | CPU ms/message | peak RSS MB | CPU steal "
        "| compared with | target | result |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    pipelines: list[Outcome] = []
    for outcome, bare in rows:
        problems = "; ".join(outcome.problems)
        cells = [
            outcome.label
            + ("" if outcome.kind == "limited" else f", concurrency {outcome.concurrency}"),
            f"{outcome.count:,}",
            f"{outcome.rate:,.1f}" if outcome.kind == "limited" else f"{outcome.rate:,.0f}",
            f"{outcome.cpu_ms:.2f}",
            f"{outcome.rss_peak_mb:.0f}",
            f"{outcome.steal:.0%}",
        ]
        if outcome.kind == "bare":
            cells += ["1.00x", "", ""]
        elif outcome.kind == "limited":
            cells += list(_limited_verdict(outcome))
        else:
            assert bare is not None
            cells += list(_pipeline_verdict(outcome, bare))
            if outcome.instances == 1:
                pipelines.append(outcome)
        if problems:
            cells[-1] = f"FAILED: {problems}"
        print("| " + " | ".join(cells) + " |")
    if len(pipelines) >= 2:
        small, large, growth, verdict = _rss_growth(pipelines)
        print(
            f"| digest run: peak RSS growth | {small.count:,} → {large.count:,} | | | "
            f"{growth:+.0f} | | {small.rss_peak_mb:.0f} → {large.rss_peak_mb:.0f} MB | "
            f"≤ +{TARGET_RSS_GROWTH_MB:.0f} MB | {verdict} |"
        )
    print()
    starts: dict[str, float] = {}
    for outcome, _ in rows:  # the single-process rows come first
        starts.setdefault(outcome.kind, outcome.rss_start_mb)
    print(
        "Messages/s: messages sent over wall time; for the digest run that is the whole "
        "`run_due()` (scheduling, rendering, sending, one ledger write per message); with several "
        "instances, first start to last finish. CPU ms/message: the sending process's own CPU "
        "time (all instances), which the hypervisor's steal does not inflate; the emulator's is "
        "not counted. Peak RSS: the process's high-water mark, interpreter and imports included "
        f"(before sending: bare loop {starts.get('bare', 0):.0f} MB, digest run "
        f"{starts.get('pipeline', 0):.0f} MB); with several instances, the largest. CPU steal: "
        "the machine's CPU time the hypervisor gave to others while measuring; rates measured at "
        "different steal are not comparable. The limits-on row sends at Telegram's 30/s (the "
        "bot's BROADCAST_RATE default is 25, leaving room for answers to questions); what the "
        "limits allow is the initial burst of 30 plus 30 a second of the run."
    )


# --- main ---------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="10000,100000", help="subscriber counts, comma-separated"
    )
    parser.add_argument(
        "--concurrency", type=int, default=4, help="requests in flight (BROADCAST_CONCURRENCY)"
    )
    parser.add_argument("--limited", type=int, default=900, help="subscribers, limits on (0: no)")
    parser.add_argument("--instances", type=int, default=1, help="add K-process rows (K > 1)")
    parser.add_argument("--instances-db", choices=("sqlite", "postgres"), default="postgres")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    parser.add_argument("--quick", action="store_true", help="sizes 2000,20000; limited 150")
    parser.add_argument("--profile", metavar="FILE", help="only profile one digest run")
    parser.add_argument("--json", action="store_true", help="print JSON rows, not the table")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(json.loads(args.child))
        return 0
    # SIGTERM (timeout, kill) unwinds like Ctrl-C: emulators, instances and databases go too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.quick:
        args.sizes, args.limited = "2000,20000", 150
    sizes = [int(size) for size in args.sizes.split(",") if size]

    with tempfile.TemporaryDirectory(prefix="fanout-") as tmp:
        folder = Path(tmp)
        if args.profile:
            outcome = pipeline(
                sizes[0], args.concurrency, folder, profile=str(Path(args.profile).resolve())
            )
            _print_profile(args.profile)
            log(f"profiled run: {outcome.rate:,.0f} messages/s (slowed by the profiler)")
            return 1 if outcome.problems else 0
        load = os.getloadavg()[0]  # a shared machine's other work shows here
        text = _digest_text(folder)
        rows: list[tuple[Outcome, Outcome | None]] = []
        started = time.monotonic()
        for size in sizes:
            bare = bare_loop(size, args.concurrency, 1, folder, text)
            rows.append((bare, None))
            rows.append((pipeline(size, args.concurrency, folder), bare))
            if args.instances > 1:
                postgres = args.postgres_url if args.instances_db == "postgres" else None
                bare_k = bare_loop(size, args.concurrency, args.instances, folder, text)
                rows.append((bare_k, None))
                run_k = pipeline(
                    size, args.concurrency, folder, instances=args.instances, postgres=postgres
                )
                rows.append((run_k, bare_k))
        if args.limited:
            limited = pipeline(
                args.limited, args.concurrency, folder, rate=TELEGRAM_RATE, enforce_limits=True
            )
            rows.append((limited, None))
        minutes = (time.monotonic() - started) / 60
        log(f"done in {minutes:.1f} min")
    failed = [outcome for outcome, _ in rows if outcome.problems]
    if args.json:
        print(json.dumps(json_rows(rows), ensure_ascii=False))
        return 1 if failed else 0
    print_table(rows, concurrency=args.concurrency, load=load, minutes=minutes)
    for outcome in failed:
        print(f"\nFAILED delivery check, {outcome.label}, {outcome.count:,}: {outcome.problems}")
    return 1 if failed else 0


def _digest_text(folder: Path) -> str:
    database = Database(folder)
    try:
        database.prepare(0)
        return database.digest_text()
    finally:
        database.drop()


def _print_profile(path: str) -> None:
    import pstats

    stats = pstats.Stats(path, stream=sys.stderr)
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    sys.exit(main())
