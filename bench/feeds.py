"""Feed polling at scale: 500 feeds of 50 items on a local server, while readers ask questions.

Prints one table:
- the first round (every feed fetched, parsed in the worker process, matched and stored): wall
  time, CPU of the bot's process and of its feed reader, peak RSS of each; target within 30 s;
- the second round, every feed answering 304 Not Modified: wall time, CPU; within 5 s;
- matching throughput: the matcher alone over every item of the round (items/s);
- answers during the first round: the p99 of first-time answers to questions asked through
  PTB's update queue while the round runs, against the idle p99 of the same questions in the
  same run; within 2x.

The feeds are made from the headlines of tests/corpus/news.yaml (half relevant, half near
misses), each item with a URL of its own, served by a threaded HTTP server in another process
with ETag and Last-Modified, as a careful publisher does.

    python bench/feeds.py [--feeds 500] [--items 50] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import multiprocessing
import os
import platform
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml
from sqlmodel import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # bench.qa, when run as `python bench/feeds.py`

from bench.qa import QUERIES, _answer_time, _AnswerClock, _p, _settings  # noqa: E402
from bot.bootstrap import open_database  # noqa: E402
from bot.models import utcnow  # noqa: E402
from bot.services.answers import load_catalog  # noqa: E402
from bot.services.feeds import registry  # noqa: E402
from bot.services.feeds.polling import FeedPoller, fetcher_for, poller_for  # noqa: E402
from bot.services.news.matching import NewsMatcher  # noqa: E402
from bot.telegram.app import build_application  # noqa: E402

CORPUS = ROOT / "tests" / "corpus" / "news.yaml"
FIRST_ROUND_S = 30.0
SECOND_ROUND_S = 5.0
ANSWER_P99_RATIO = 2.0
PACE_SECONDS = 0.02
ETAG = '"bench-v1"'
LAST_MODIFIED = "Sun, 06 Dec 2026 06:00:00 GMT"


def _headlines() -> list[tuple[str, str]]:
    content = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
    return [(str(item["title"]), str(item.get("summary") or "")) for item in content["items"]]


def _feed_body(number: int, items: int, headlines: list[tuple[str, str]]) -> bytes:
    entries = []
    for k in range(items):
        title, summary = headlines[(number * items + k) % len(headlines)]
        link = f"https://bench.example/feed{number}/item{k}"
        entries.append(
            f"<item><title>{html.escape(title)}</title>"
            f"<description>{html.escape(summary)}</description><link>{link}</link>"
            f"<guid>{link}</guid><pubDate>Sat, 05 Dec 2026 {k % 24:02d}:00:00 GMT</pubDate></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Bench feed {number}</title><link>https://bench.example/</link>"
        f"<description>bench</description>{''.join(entries)}</channel></rss>"
    ).encode()


def _serve(port_queue: Any, feeds: int, items: int) -> None:
    """The publisher: every feed at /feed/N.xml, answering conditional requests with 304."""
    headlines = _headlines()
    bodies = {f"/feed/{n}.xml": _feed_body(n, items, headlines) for n in range(feeds)}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            body = bodies.get(self.path)
            if body is None:
                self.send_error(404)
                return
            if self.headers.get("If-None-Match") == ETAG:
                self.send_response(304)
                self.send_header("ETag", ETAG)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("ETag", ETAG)
            self.send_header("Last-Modified", LAST_MODIFIED)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_queue.put(server.server_address[1])
    server.serve_forever()


def _cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _reader_pids(reader: ProcessPoolExecutor) -> list[int]:
    return list(reader._processes)  # a benchmark may read the pool's children


async def _round(
    poller: FeedPoller, application: Any, request: _AnswerClock, reader: ProcessPoolExecutor
) -> dict[str, Any]:
    """One polling round with questions asked at a reader's pace until it ends."""
    questions = list(QUERIES.values())
    pids = _reader_pids(reader)
    cpu_reader = sum(_cpu_of(pid) for pid in pids)
    cpu_bot = time.process_time()
    started = time.perf_counter()
    task = asyncio.create_task(poller.poll())
    answers: list[float] = []
    n = 0
    while not task.done():
        answers.append(await _answer_time(application, request, 100 + n % 50, questions[n % 3]))
        n += 1
        await asyncio.sleep(PACE_SECONDS)
    outcomes = await task
    wall = time.perf_counter() - started
    return {
        "wall": wall,
        "cpu_bot": time.process_time() - cpu_bot,
        "cpu_reader": sum(_cpu_of(pid) for pid in _reader_pids(reader)) - cpu_reader,
        "feeds": len(outcomes),
        "new_items": sum(o.new_items for o in outcomes),
        "failed": sum(o.error is not None for o in outcomes),
        "not_modified": sum(o.result.value == "not_modified" for o in outcomes),
        "answers": answers,
    }


def _matching_throughput(engine: Any, feeds: int, items: int) -> tuple[float, int, int]:
    with Session(engine) as session:
        matcher = NewsMatcher(load_catalog(session))
    headlines = _headlines()
    texts = [headlines[i % len(headlines)] for i in range(feeds * items)]
    started = time.perf_counter()
    kept = sum(matcher.match(title, summary) is not None for title, summary in texts)
    return len(texts) / (time.perf_counter() - started), kept, len(texts)


async def measure(feeds: int, items: int, idle_questions: int, folder: Path) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    ports = context.Queue()
    server = context.Process(target=_serve, args=(ports, feeds, items), daemon=True)
    server.start()
    port = ports.get(timeout=60)
    settings = _settings(
        folder,
        "feeds.sqlite3",
        answer_cache_seconds=0,
        feed_allow_private_hosts=True,
        feed_defaults=False,
    )
    engine = open_database(settings)
    with Session(engine) as session:
        for n in range(feeds):
            url = f"http://127.0.0.1:{port}/feed/{n}.xml"
            registry.add(session, url=url, name=f"Bench feed {n}", actor="bench", now=utcnow())
        session.commit()

    request = _AnswerClock()
    application = build_application(settings, engine=engine, request=request)
    reader = ProcessPoolExecutor(max_workers=settings.feed_parse_processes, mp_context=context)
    reader.submit(int).result()  # the worker started: its start-up is not the round's
    questions = list(QUERIES.values())
    idle: list[float] = []
    async with application, fetcher_for(settings) as fetcher:
        await application.start()
        poller = poller_for(settings, engine, reader=reader, fetcher=fetcher)
        for n in range(30):
            await _answer_time(application, request, 100 + n % 50, questions[n % 3])
        for n in range(idle_questions):
            idle.append(await _answer_time(application, request, 100 + n % 50, questions[n % 3]))
            await asyncio.sleep(PACE_SECONDS)
        first = await _round(poller, application, request, reader)
        with Session(engine) as session:  # every feed due again now, as at its next interval
            session.execute(registry.Feed.__table__.update().values(next_poll_at=utcnow()))  # type: ignore[attr-defined]
            session.commit()
        second = await _round(poller, application, request, reader)
        reader_rss = max((_peak_rss_mb(pid) for pid in _reader_pids(reader)), default=0.0)
        poller.close()
        await application.stop()
    reader.shutdown()
    server.terminate()
    throughput, kept, matched = _matching_throughput(engine, feeds, items)
    engine.dispose()
    return {
        "feeds": feeds,
        "items": items,
        "idle": idle,
        "first": first,
        "second": second,
        "bot_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "reader_rss": reader_rss,
        "throughput": throughput,
        "kept": kept,
        "matched": matched,
    }


def _verdict(ok: bool) -> str:
    return "pass" if ok else "falls short"


def json_rows(result: dict[str, Any]) -> list[dict[str, str]]:
    first, second = result["first"], result["second"]
    idle, loaded = _p(result["idle"], 0.99), _p(first["answers"], 0.99)
    size = f"{result['feeds']} feeds of {result['items']} items"
    return [
        {
            "scenario": f"feeds: first round, {size} (fetch, parse, match, store)",
            "figure": f"{first['wall']:.1f} s wall; CPU {first['cpu_bot']:.1f} s bot + "
            f"{first['cpu_reader']:.1f} s reader; {first['new_items']} items stored, "
            f"{first['failed']} failed",
            "target": f"≤ {FIRST_ROUND_S:.0f} s",
            "result": _verdict(first["wall"] <= FIRST_ROUND_S and first["failed"] == 0),
        },
        {
            "scenario": f"feeds: second round, {size}, all 304 Not Modified",
            "figure": f"{second['wall']:.2f} s wall; CPU {second['cpu_bot']:.2f} s bot + "
            f"{second['cpu_reader']:.2f} s reader; {second['not_modified']} not modified",
            "target": f"≤ {SECOND_ROUND_S:.0f} s",
            "result": _verdict(
                second["wall"] <= SECOND_ROUND_S and second["not_modified"] == result["feeds"]
            ),
        },
        {
            "scenario": "feeds: answers' p99 during the first round vs idle p99 (first-time "
            f"answers, {len(first['answers'])} during, {len(result['idle'])} idle)",
            "figure": f"{loaded / idle:.2f}x ({loaded:.2f} ms vs {idle:.2f} ms)",
            "target": f"≤ {ANSWER_P99_RATIO:.0f}x",
            "result": _verdict(loaded / idle <= ANSWER_P99_RATIO),
        },
    ]


def print_table(result: dict[str, Any], rows: list[dict[str, str]]) -> None:
    first = result["first"]
    print(
        f"Feed polling, {result['feeds']} feeds of {result['items']} items; "
        f"{platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores, "
        f"{datetime.now(UTC):%Y-%m-%d}"
    )
    print()
    print("| case | figure | target | result |")
    print("|---|---|---|---|")
    for row in rows:
        print(f"| {row['scenario']} | {row['figure']} | {row['target']} | {row['result']} |")
    print(
        f"| peak RSS | bot {result['bot_rss']:.0f} MB, feed reader {result['reader_rss']:.0f} MB"
        " | | |"
    )
    print(
        f"| matching alone (one thread) | {result['throughput']:,.0f} items/s; "
        f"{result['kept']} of {result['matched']} kept | | |"
    )
    print(
        f"| answers idle / during the round | p50 {_p(result['idle'], 0.5):.2f} / "
        f"{_p(first['answers'], 0.5):.2f} ms, p99 {_p(result['idle'], 0.99):.2f} / "
        f"{_p(first['answers'], 0.99):.2f} ms | | |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--idle-questions", type=int, default=300)
    parser.add_argument("--json", action="store_true", help="print JSON rows, not the table")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = asyncio.run(measure(args.feeds, args.items, args.idle_questions, Path(tmp)))
    rows = json_rows(result)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
    else:
        print_table(result, rows)


if __name__ == "__main__":
    main()
