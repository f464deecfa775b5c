"""The one entry point: `python -m bot COMMAND` (or the `tradewatch` console script)."""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from alembic.util.exc import CommandError
from sqlalchemy.exc import OperationalError

from bot import db
from bot.bootstrap import open_database, seed
from bot.config import ConfigError, Settings, configure_logging, load_settings
from bot.services.dataset import DatasetError
from bot.services.export import build_dataset, write_csv, write_json
from bot.services.trade import Flag, FlagKind, all_flags

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from bot.services.loading import LoadReport

logger = logging.getLogger(__name__)

EXIT_USAGE = 2  # bad configuration or arguments, as argparse itself uses
EXIT_FAILURE = 1


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
    return parser


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
    except CommandError as exc:  # e.g. an unknown revision for `db upgrade REV`
        print(f"tradewatch: {_first_line(exc)}", file=sys.stderr)
        return EXIT_USAGE


def _run(settings: Settings, args: argparse.Namespace) -> int:
    engine = open_database(settings)
    if settings.telegram_bot_token is None:
        print(
            "tradewatch: TELEGRAM_BOT_TOKEN is not set: put your bot's token from @BotFather in "
            "the environment or in .env (see .env.example) to start the Telegram bot.\n"
            "The database is ready; to look at the data without Telegram, run "
            "`python -m bot export --format json`.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    from bot.telegram.app import run_bot

    run_bot(settings, engine)
    return 0


def _db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    engine = db.make_engine(settings)
    before = db.current_revision(engine)
    db.upgrade(engine, args.revision)
    print(f"database: {before or 'empty'} -> {db.current_revision(engine)}")
    return 0


def _db_downgrade(settings: Settings, args: argparse.Namespace) -> int:
    engine = db.make_engine(settings)
    before = db.current_revision(engine)
    db.downgrade(engine, args.revision)
    print(f"database: {before or 'empty'} -> {db.current_revision(engine) or 'base (empty)'}")
    return 0


def _db_current(settings: Settings, args: argparse.Namespace) -> int:
    engine = db.make_engine(settings)
    current, head = db.current_revision(engine), db.head_revision(engine)
    state = "up to date" if current == head else "behind: run `python -m bot db upgrade`"
    print(f"database: {current or 'empty'} (latest {head}; {state})")
    return 0


def _seed(settings: Settings, args: argparse.Namespace) -> int:
    engine = db.make_engine(settings)
    db.upgrade(engine, "head")
    report = seed(engine)
    print(_describe_load(report))
    with db.session_scope(engine) as session:
        for view, flag in all_flags(session):
            print(f"flagged: {view.figure.series} {view.figure.period}: {_describe_flag(flag)}")
    return 0


def _describe_flag(flag: Flag) -> str:
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


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
