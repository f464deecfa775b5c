"""The one entry point: `python -m bot COMMAND` (or the `tradewatch` console script)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import sys
import urllib.error
import urllib.request
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.exc import OperationalError

from bot import db
from bot.bootstrap import open_database, seed
from bot.config import ConfigError, Settings, load_settings
from bot.logs import configure_logging
from bot.services.dataset import DatasetError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from typing import Never

    from sqlalchemy import Engine

    from bot.services.importing import ImportFileError
    from bot.services.loading import LoadReport, Progress
    from bot.services.trade import Flag

logger = logging.getLogger(__name__)

EXIT_USAGE = 2  # bad configuration or arguments, as argparse itself uses
EXIT_FAILURE = 1
PROGRESS_THRESHOLD = 200  # records; smaller imports finish before a bar would say anything
MAX_PROBLEMS_SHOWN = 50


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tradewatch",
        description="Trade Watch: sourced answers on India–China trade, in Telegram and here.",
        epilog="Settings come from the environment or .env (see .env.example).",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = commands.add_parser(
        "run", help="start the bot's main job (migrates and seeds an empty database first)"
    )
    run.set_defaults(handler=_run)
    health = commands.add_parser(
        "healthcheck",
        help="ask the running bot's /healthz (or /readyz) on PORT; exit 0 when it answers OK",
    )
    health.add_argument(
        "--ready", action="store_true", help="check /readyz: database reachable, schema at head"
    )
    health.set_defaults(handler=_healthcheck)

    database = commands.add_parser("db", help="database schema: upgrade, downgrade, current")
    db_commands = database.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = db_commands.add_parser("upgrade", help="migrate to the latest schema (or REV)")
    upgrade.add_argument("revision", nargs="?", default="head")
    upgrade.set_defaults(handler=_db_upgrade)
    downgrade = db_commands.add_parser("downgrade", help="migrate down to REV ('base' = empty)")
    downgrade.add_argument("revision")
    downgrade.set_defaults(handler=_db_downgrade)
    current = db_commands.add_parser("current", help="show the schema revision and the latest")
    current.set_defaults(handler=_db_current)

    chat = commands.add_parser(
        "chat", help="talk to the bot in this terminal (no Telegram needed); buttons are numbers"
    )
    chat.set_defaults(handler=_chat)
    ask = commands.add_parser(
        "ask", help='send one message and print the reply, e.g. ask "is nathula open"'
    )
    ask.add_argument("text", help="a question or a command such as '/pass shipki la'")
    ask.set_defaults(handler=_ask)

    seed_cmd = commands.add_parser(
        "seed", help="load the bundled, sourced dataset (safe to repeat; keeps editors' changes)"
    )
    seed_cmd.set_defaults(handler=_seed)

    export = commands.add_parser(
        "export", help="write every record with its source and history (the backup format)"
    )
    export.add_argument("--format", choices=("json", "csv"), default="json")
    export.add_argument(
        "--out",
        type=Path,
        help="JSON: a file (default: standard output); CSV: a folder, one file per table "
        "(default: ./tradewatch-export-<time>)",
    )
    export.set_defaults(handler=_export)

    import_cmd = commands.add_parser(
        "import",
        help="show what a JSON backup, YAML or CSV file would change; --apply applies it",
    )
    import_cmd.add_argument(
        "file",
        type=Path,
        help="an export backup (.json), YAML like bot/data, or one section's .csv",
    )
    import_cmd.add_argument(
        "--apply", action="store_true", help="apply the changes (one transaction for the file)"
    )
    import_cmd.add_argument(
        "--progress",
        action="store_true",
        help="show the progress bar even when standard error is not a terminal",
    )
    import_cmd.set_defaults(handler=_import)

    admin = commands.add_parser(
        "admin", help="owners and editors: grant, revoke, list (first set-up and recovery)"
    )
    admin_commands = admin.add_subparsers(dest="admin_command", metavar="ACTION", required=True)
    grant = admin_commands.add_parser("grant", help="give a Telegram user a role")
    grant.add_argument("user_id", type=int, help="the user's numeric Telegram id")
    grant.add_argument("role", choices=("editor", "owner"))
    grant.set_defaults(handler=_admin_grant)
    revoke = admin_commands.add_parser("revoke", help="remove a user's role (not the last owner)")
    revoke.add_argument("user_id", type=int)
    revoke.set_defaults(handler=_admin_revoke)
    listing = admin_commands.add_parser("list", help="show the owners and editors")
    listing.set_defaults(handler=_admin_list)

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
    return parser


def steady_state() -> None:
    """Turn the cycle collector back on for a long-running command (see bot/__main__.py).

    Everything allocated so far lives for the whole process: freezing it keeps it out of
    every later collection.
    """
    gc.freeze()
    gc.enable()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"tradewatch: {exc}", file=sys.stderr)
        return EXIT_USAGE
    configure_logging(settings)
    handler: Callable[[Settings, argparse.Namespace], int] = args.handler
    try:
        return handler(settings, args)
    except OperationalError as exc:
        print(f"tradewatch: database error: {_first_line(exc.orig or exc)}", file=sys.stderr)
        return EXIT_FAILURE
    except DatasetError as exc:
        print(f"tradewatch: dataset error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILURE
    except MigrationError as exc:
        print(f"tradewatch: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _run(settings: Settings, args: argparse.Namespace) -> int:
    engine = open_database(settings)
    if settings.telegram_bot_token is None:
        print(
            "tradewatch: TELEGRAM_BOT_TOKEN is not set: put your bot's token from @BotFather in "
            "the environment or in .env (see .env.example) to start the Telegram bot.\n"
            "Without Telegram: `python -m bot chat` to talk to the bot here, or "
            '`python -m bot ask "is nathula open"` for one answer.',
            file=sys.stderr,
        )
        if sys.stdin.isatty() and sys.stdout.isatty():
            print("Starting the terminal chat now.\n", file=sys.stderr)
            return _chat_with(settings, engine)
        return EXIT_USAGE
    from bot.telegram.runtime import run_bot

    steady_state()
    run_bot(settings, engine)
    return 0


def _healthcheck(settings: Settings, args: argparse.Namespace) -> int:
    port = settings.http_port
    if port is None:
        print("tradewatch: PORT is not set, so the bot serves no health endpoint", file=sys.stderr)
        return EXIT_USAGE
    url = f"http://127.0.0.1:{port}/{'readyz' if args.ready else 'healthz'}"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            print(response.read().decode())
            return 0
    except urllib.error.HTTPError as error:  # e.g. 503 from /readyz, with the reason
        print(f"tradewatch: {url}: {error.code} {error.read().decode()}", file=sys.stderr)
    except (urllib.error.URLError, OSError) as error:
        print(f"tradewatch: {url}: {getattr(error, 'reason', error)}", file=sys.stderr)
    return EXIT_FAILURE


def _ask(settings: Settings, args: argparse.Namespace) -> int:
    engine = open_database(settings)
    from bot.telegram.terminal import TerminalSession, format_replies  # PTB loads only here

    async def one_message() -> None:
        async with TerminalSession(settings, engine, charts_dir=settings.data_dir) as session:
            format_replies(await session.send(args.text), sys.stdout)

    asyncio.run(one_message())
    return 0


def _chat(settings: Settings, args: argparse.Namespace) -> int:
    return _chat_with(settings, open_database(settings))


def _chat_with(settings: Settings, engine: Engine) -> int:
    from bot.telegram.terminal import TerminalSession, format_replies  # PTB loads only here

    async def conversation() -> None:
        async with TerminalSession(settings, engine, charts_dir=settings.data_dir) as session:
            format_replies(await session.send("/start"), sys.stdout)
            steady_state()
            print("Type a question, a /command, or a button's number; 'quit' or Ctrl-D ends.")
            while True:
                try:
                    line = (await asyncio.to_thread(input, "you> ")).strip()
                except (EOFError, KeyboardInterrupt):
                    print()
                    return
                if line.lower() in ("quit", "exit"):
                    return
                if not line:
                    continue
                if line.isdigit() and session.buttons:
                    try:
                        replies = await session.press(int(line))
                    except IndexError:
                        print(f"There is no button {line}; choose 1 to {len(session.buttons)}.")
                        continue
                else:
                    replies = await session.send(line)
                format_replies(replies, sys.stdout)

    asyncio.run(conversation())
    return 0


class MigrationError(Exception):
    """Alembic refused a revision (e.g. `db upgrade 9999`)."""


def _migrate(direction: Callable[..., None], engine: Engine, revision: str) -> None:
    from alembic.util.exc import CommandError  # Alembic loads only for db commands

    try:
        with db.migration_lock(engine):
            direction(engine, revision)
    except CommandError as exc:
        raise MigrationError(_first_line(exc)) from None


def _db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    engine = db.make_engine(settings)
    before = db.current_revision(engine)
    _migrate(db.upgrade, engine, args.revision)
    print(f"database: {before or 'empty'} -> {db.current_revision(engine)}")
    return 0


def _db_downgrade(settings: Settings, args: argparse.Namespace) -> int:
    engine = db.make_engine(settings)
    before = db.current_revision(engine)
    _migrate(db.downgrade, engine, args.revision)
    print(f"database: {before or 'empty'} -> {db.current_revision(engine) or 'base (empty)'}")
    return 0


def _db_current(settings: Settings, args: argparse.Namespace) -> int:
    engine = db.make_engine(settings)
    current, head = db.current_revision(engine), db.head_revision()
    state = "up to date" if current == head else "behind: run `python -m bot db upgrade`"
    print(f"database: {current or 'empty'} (latest {head}; {state})")
    return 0


def _seed(settings: Settings, args: argparse.Namespace) -> int:
    steady_state()  # loads and compares every record: let the collector run
    engine = db.make_engine(settings)
    with db.migration_lock(engine):
        db.upgrade(engine, "head")
        report = seed(engine)
    print(_describe_load(report))
    from bot.services.trade import all_flags

    with db.session_scope(engine) as session:
        for view, flag in all_flags(session):
            print(f"flagged: {view.figure.series} {view.figure.period}: {_describe_flag(flag)}")
    return 0


def _describe_flag(flag: Flag) -> str:
    from bot.services.trade import FlagKind

    if flag.kind is FlagKind.GROWTH:
        return (
            f"{flag.reported_by} reports {flag.quantity} growth of {flag.reported:+.1f}%, "
            f"the previous period gives {flag.expected:+.1f}%"
        )
    basis = "its parts give" if flag.kind is FlagKind.PARTS else "the record gives"
    return (
        f"{flag.reported_by} reports {flag.quantity} of {flag.reported} bn USD, "
        f"{basis} {flag.expected:.2f}"
    )


def _describe_load(report: LoadReport) -> str:
    if not report.changed_anything and not report.kept:
        return f"seed: nothing to change ({report.total('unchanged')} rows already loaded)"
    lines = [
        f"seed: inserted {report.total('inserted')}, updated {report.total('updated')}, "
        f"kept {report.total('kept')} (changed by editors), "
        f"unchanged {report.total('unchanged')}"
    ]
    lines.extend(f"kept: {entry}" for entry in report.kept)
    return "\n".join(lines)


def _export(settings: Settings, args: argparse.Namespace) -> int:
    steady_state()  # reads every record and its history: let the collector run
    from bot.services.export import build_dataset, write_csv, write_json

    engine = open_database(settings)
    with db.session_scope(engine) as session:
        dataset = build_dataset(session)
    if args.format == "json":
        if args.out is None:
            write_json(dataset, sys.stdout)
        else:
            with args.out.open("w", encoding="utf-8") as handle:
                write_json(dataset, handle)
            print(f"exported to {args.out}", file=sys.stderr)
        return 0
    folder = args.out or Path(f"tradewatch-export-{datetime.now(UTC):%Y%m%dT%H%M%SZ}")
    files = write_csv(dataset, folder)
    print(f"exported {len(files)} CSV files to {folder}/", file=sys.stderr)
    return 0


def _admin_grant(settings: Settings, args: argparse.Namespace) -> int:
    from bot.services import admins
    from bot.vocabulary import Actor, Role

    engine = open_database(settings)
    with db.session_scope(engine) as session:
        change = admins.grant(
            session, by=Actor.CLI, by_user=None, user_id=args.user_id, role=Role(args.role)
        )
    print(f"user {change.user_id}: {change.old or 'no role'} -> {change.new}")
    return 0


def _admin_revoke(settings: Settings, args: argparse.Namespace) -> int:
    from bot.services import admins
    from bot.vocabulary import Actor

    engine = open_database(settings)
    try:
        with db.session_scope(engine) as session:
            change = admins.revoke(session, by=Actor.CLI, user_id=args.user_id)
    except admins.RoleError as error:
        print(f"tradewatch: {error}", file=sys.stderr)
        return EXIT_FAILURE
    print(f"user {change.user_id}: {change.old} -> no role")
    return 0


def _admin_list(settings: Settings, args: argparse.Namespace) -> int:
    from bot.services import admins

    engine = open_database(settings)
    with db.session_scope(engine) as session:
        team = admins.admins(session)
    if not team:
        print("no owners or editors yet: `tradewatch admin grant USER_ID owner` (or ADMIN_IDS)")
    for member in team:
        print(f"{member.user_id}\t{member.role.value}\tsince {member.added_at:%Y-%m-%d}")
    return 0


def _import(settings: Settings, args: argparse.Namespace) -> int:
    path: Path = args.file
    if not path.is_file():
        state = "is not a file" if path.exists() else "does not exist"
        print(f"tradewatch: {path} {state}", file=sys.stderr)
        return EXIT_USAGE
    steady_state()  # reads and compares every record of the file: let the collector run
    from sqlalchemy.exc import DataError, IntegrityError
    from sqlmodel import Session

    from bot.services.importing import (
        ImportFileError,
        apply_import,
        describe_plan,
        plan_import,
        read_import_file,
    )

    try:
        dataset = read_import_file(path)  # before the database: a bad file touches nothing
        engine = open_database(settings)
        with _progress_bar(args.progress) as progress:
            if args.apply:
                with db.session_scope(engine) as session:
                    plan = apply_import(session, dataset, progress=progress)
            else:
                # Closing the session without a commit rolls back whatever the dry run did.
                with Session(engine) as session:
                    plan = plan_import(session, dataset, progress=progress)
    except ImportFileError as exc:
        _print_problems(exc)
        return EXIT_FAILURE
    except (IntegrityError, DataError) as exc:
        print(
            f"tradewatch: the database refused the import, nothing was changed: "
            f"{_first_line(exc.orig or exc)}",
            file=sys.stderr,
        )
        return EXIT_FAILURE

    for line in describe_plan(plan):
        print(line)
    if not args.apply:
        advice = " Run again with --apply to apply it." if plan.changed_anything else ""
        print(f"Dry run: nothing was changed.{advice}")
    return 0


def _print_problems(error: ImportFileError) -> None:
    for problem in error.problems[:MAX_PROBLEMS_SHOWN]:
        print(f"tradewatch: {problem}", file=sys.stderr)
    hidden = len(error.problems) - MAX_PROBLEMS_SHOWN
    if hidden > 0:
        print(f"tradewatch: ... and {hidden} more problems", file=sys.stderr)


@contextmanager
def _progress_bar(force: bool) -> Iterator[Progress | None]:
    """A bar on standard error for large imports, when someone is watching (or `force`)."""
    if not (force or sys.stderr.isatty()):
        yield None
        return
    from tqdm import tqdm

    bars: list[tqdm[Never]] = []  # made on the first call, once the total is known

    def update(done: int, total: int) -> None:
        if not bars:
            if total <= PROGRESS_THRESHOLD:
                return
            bars.append(tqdm(total=total, desc="import", unit="record", file=sys.stderr))
        bars[0].update(done - bars[0].n)

    try:
        yield update
    finally:
        for bar in bars:
            bar.close()


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
    from bot.telegram.broadcast import send_due_now  # PTB loads only here

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


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
