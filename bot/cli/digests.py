"""Digests and alerts from the command line: send what is due (for cron), show the backlog."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.bootstrap import open_database
from bot.cli.common import EXIT_USAGE, MAX_PROBLEMS_SHOWN, Commands

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from bot.config import Settings


def add_commands(commands: Commands) -> None:
    digest = commands.add_parser(
        "digest", help="digests and alerts: send what is due now (or at --now), show the backlog"
    )
    digest_commands = digest.add_subparsers(dest="digest_command", metavar="ACTION", required=True)
    run_due = digest_commands.add_parser(
        "run-due",
        help="schedule and send every digest and alert due (what the bot's minutely tick does)",
    )
    run_due.add_argument(
        "--now",
        metavar="TIME",
        help="act as if it were TIME: ISO 8601 (2026-11-23T09:00, read in DEFAULT_TIMEZONE "
        "unless it has an offset) or 'monday 09:00' (the next one)",
    )
    run_due.add_argument(
        "--dry-run", action="store_true", help="only list what would go out; change nothing"
    )
    run_due.set_defaults(handler=_digest_run_due)
    status = digest_commands.add_parser("status", help="deliveries by state, and what is due")
    status.set_defaults(handler=_digest_status)


def _digest_run_due(settings: Settings, args: argparse.Namespace) -> int:
    from bot.services import delivery, schedule

    now = datetime.now(UTC)
    if args.now:
        try:
            now = schedule.parse_moment(args.now, timezone=settings.default_timezone, now=now)
        except ValueError as error:
            print(f"tradewatch: --now: {error}", file=sys.stderr)
            return EXIT_USAGE
    engine = open_database(settings)
    if args.dry_run:
        return _print_due(engine, now)
    if settings.telegram_bot_token is None:
        print(
            "tradewatch: TELEGRAM_BOT_TOKEN is not set: sending needs the bot's token "
            "(--dry-run lists what is due without it)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    from bot.telegram.delivery_jobs import send_due_now  # PTB loads only here

    report = asyncio.run(send_due_now(settings, engine, now=now))
    print(
        f"at {now:%Y-%m-%d %H:%M} UTC: {report.scheduled} digests scheduled, "
        f"{report.alerts} alerts; sent {report.sent} messages ({report.delivered} deliveries), "
        f"{report.blocked} blocked, {report.failed} failed, {report.retried} to retry, "
        f"{report.rate_limited} 429s"
    )
    left = delivery.counts_by_state(engine)
    if left.get("pending") or left.get("sending"):
        print(
            f"{left.get('pending', 0)} pending and {left.get('sending', 0)} sending remain "
            "(retries, quiet hours, a 429, or another instance's work)"
        )
    return 0


def _print_due(engine: Engine, now: datetime) -> int:
    from bot.services import delivery, schedule

    due = delivery.due_subscribers(engine, now=now, limit=MAX_PROBLEMS_SHOWN + 1)
    print(f"At {now:%Y-%m-%d %H:%M} UTC (dry run, nothing sent or changed):")
    if not due:
        print("  no digest is due")
    for subscriber in due[:MAX_PROBLEMS_SHOWN]:
        assert subscriber.next_digest_at is not None  # the query selects due ones only
        local = schedule.local_time(subscriber.next_digest_at, subscriber.timezone)
        print(
            f"  {subscriber.chat_id}\t{subscriber.chat_type}\t{subscriber.frequency.value} "
            f"digest due {local:%a %d %b %H:%M} {subscriber.timezone}\t"
            f"topics: {', '.join(subscriber.topics)}"
        )
    if len(due) > MAX_PROBLEMS_SHOWN:
        print("  ... and more; `digest status` counts them")
    _print_backlog(engine, now)
    return 0


def _digest_status(settings: Settings, args: argparse.Namespace) -> int:
    engine = open_database(settings)
    _print_backlog(engine, datetime.now(UTC))
    return 0


def _print_backlog(engine: Engine, now: datetime) -> None:
    from bot.services import delivery

    counts = delivery.counts_by_state(engine)
    states = ", ".join(f"{count} {state}" for state, count in sorted(counts.items())) or "none"
    print(f"deliveries: {states}")
    print(f"digests due by {now:%Y-%m-%d %H:%M} UTC: {delivery.count_due(engine, now=now)}")
