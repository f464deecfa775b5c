"""Question answering speed: a full update -> reply through the in-process transport.

Prints one table: p50 and p99 of `/pass`, `/deficit` and a free-text question, side by side
with a bare python-telegram-bot echo handler through the same transport in the same run, and
the cold-start time of `python -m bot ask "/help"`. Targets: within 1.5x the echo handler at
p50; cold start under 1 second. Repeated questions are answered from the answer cache (as
popular questions are in production); the cost of a first-time question (a cache miss:
parse, query, render) is shown too, without a target.

    python bench/qa.py [--updates 3000] [--cold-runs 5] [--json]

`--json` prints a JSON list of rows {"scenario", "figure", "target", "result"} instead of the
table (the cases with a target).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import ApplicationBuilder, MessageHandler, filters

from bot.bootstrap import open_database
from bot.config import Settings
from bot.telegram.app import build_application
from bot.telegram.offline import OfflineRequest

TOKEN = "123456789:AAE-benchmark-token-0123456789abcdef"
QUERIES = {
    "/pass nathu la": "/pass nathu la",
    "/deficit": "/deficit",
    "free text": "is nathula open?",
}
_ids = itertools.count(1)


def _update(bot: Any, text: str) -> Update:
    message: dict[str, Any] = {
        "message_id": next(_ids),
        "date": int(time.time()),
        "chat": {"id": 42, "type": "private", "first_name": "Bench"},
        "from": {"id": 42, "is_bot": False, "first_name": "Bench"},
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    update = Update.de_json({"update_id": next(_ids), "message": message}, bot)
    assert update is not None
    return update


async def _timings(application: Any, text: str, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        update = _update(application.bot, text)
        start = time.perf_counter()
        await application.process_update(update)
        samples.append(time.perf_counter() - start)
    return samples


def _p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def measure(count: int, folder: Path) -> dict[str, list[float]]:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        telegram_bot_token=TOKEN,
        data_dir=folder,
        database_url=f"sqlite:///{folder / 'bench.sqlite3'}",
    )
    engine = open_database(settings)
    bot_app = build_application(settings, engine=engine, request=OfflineRequest())
    # The same bot with the answer cache off: what a question costs the first time it is asked.
    uncached = settings.model_copy(update={"answer_cache_seconds": 0})
    miss_app = build_application(uncached, engine=engine, request=OfflineRequest())

    async def echo(update: Update, _: Any) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(update.effective_message.text or "")

    echo_app = ApplicationBuilder().token(TOKEN).request(OfflineRequest()).build()
    echo_app.add_handler(MessageHandler(filters.TEXT, echo))

    results: dict[str, list[float]] = {}
    async with bot_app, echo_app, miss_app:
        warm = max(50, count // 20)
        await _timings(echo_app, "hello", warm)
        for text in QUERIES.values():
            await _timings(bot_app, text, warm)
        # Interleave the runs so machine noise falls on all of them alike.
        for _ in range(4):
            for name, text in {"echo": "hello", **QUERIES}.items():
                app = echo_app if name == "echo" else bot_app
                results.setdefault(name, []).extend(await _timings(app, text, count // 4))
            for name, text in QUERIES.items():
                samples = await _timings(miss_app, text, max(1, count // 20))
                results.setdefault(f"{name} (not cached)", []).extend(samples)
    engine.dispose()
    return results


def cold_start(folder: Path, runs: int) -> list[float]:
    env = {
        **os.environ,
        "DATA_DIR": str(folder),
        "DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
    }
    env.pop("TELEGRAM_BOT_TOKEN", None)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bot", "ask", "/help"],
            env=env,
            cwd=folder,
            check=True,
            capture_output=True,
        )
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=3000)
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print JSON rows, not the table")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        results = asyncio.run(measure(args.updates, folder))
        cold = cold_start(folder, args.cold_runs)

    if args.json:
        print(json.dumps(json_rows(results, cold, args.updates), ensure_ascii=False))
    else:
        print_table(results, cold, args.updates)


def json_rows(results: dict[str, list[float]], cold: list[float], updates: int) -> list[Any]:
    """The cases with a target, as rows of the one-table report (bench/run_all.py)."""
    echo_p50 = _p(results["echo"], 0.5)
    rows = []
    for name in QUERIES:
        p50 = _p(results[name], 0.5)
        ratio = p50 / echo_p50
        rows.append(
            {
                "scenario": f"question answering: {name}, p50 of {updates} updates vs a bare "
                "PTB echo handler",
                "figure": f"{ratio:.2f}x ({p50:.3f} ms vs {echo_p50:.3f} ms)",
                "target": "≤ 1.5x",
                "result": "pass" if ratio <= 1.5 else "falls short",
            }
        )
    cold_median = statistics.median(cold)
    rows.append(
        {
            "scenario": f'question answering: cold start `python -m bot ask "/help"`, '
            f"median of {len(cold)}",
            "figure": f"{cold_median * 1000:.0f} ms",
            "target": "< 1000 ms",
            "result": "pass" if cold_median < 1.0 else "falls short",
        }
    )
    return rows


def print_table(results: dict[str, list[float]], cold: list[float], updates: int) -> None:
    echo_p50 = _p(results["echo"], 0.5)
    print(
        f"Question answering, {updates} updates each; {platform.python_version()}, "
        f"{platform.machine()}, {os.cpu_count()} cores"
    )
    print()
    print("| case | p50 ms | p99 ms | p50 vs echo | target | result |")
    print("|---|---|---|---|---|---|")
    print(
        f"| bare PTB echo handler | {echo_p50:.3f} | {_p(results['echo'], 0.99):.3f} | 1.00x | | |"
    )
    for name in QUERIES:
        p50 = _p(results[name], 0.5)
        ratio = p50 / echo_p50
        verdict = "pass" if ratio <= 1.5 else "falls short"
        p99 = _p(results[name], 0.99)
        print(f"| {name} | {p50:.3f} | {p99:.3f} | {ratio:.2f}x | ≤ 1.5x | {verdict} |")
    for name in QUERIES:
        misses = results[f"{name} (not cached)"]
        p50 = _p(misses, 0.5)
        print(
            f"| {name}, first time asked (cache miss, {len(misses)} runs) | {p50:.3f} | "
            f"{_p(misses, 0.99):.3f} | {p50 / echo_p50:.2f}x | | |"
        )
    cold_median = statistics.median(cold)
    verdict = "pass" if cold_median < 1.0 else "falls short"
    print(
        f'| cold start `ask "/help"` (median of {len(cold)}) | {cold_median * 1000:.0f} | '
        f"{max(cold) * 1000:.0f} (max) | | < 1000 ms | {verdict} |"
    )


if __name__ == "__main__":
    main()
