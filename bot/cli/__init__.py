"""The one entry point: `python -m bot COMMAND` (or the `tradewatch` console script).

Each module registers its commands: `running` (run, healthcheck, chat, ask), `data` (db, seed,
export, import), `admin`, `digests`, `news` (feeds, news). Heavy imports (PTB, Alembic, the
importer) happen inside the commands, so a one-shot command pays only for what it uses.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from sqlalchemy.exc import OperationalError

from bot.cli import admin, data, digests, news, running
from bot.cli.common import EXIT_FAILURE, EXIT_USAGE, Handler, first_line
from bot.config import ConfigError, load_settings
from bot.logs import configure_logging
from bot.services.dataset import DatasetError

if TYPE_CHECKING:
    from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tradewatch",
        description="Trade Watch: sourced answers on India–China trade, in Telegram and here.",
        epilog="Settings come from the environment or .env (see .env.example).",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for group in (running, data, admin, digests, news):
        group.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"tradewatch: {exc}", file=sys.stderr)
        return EXIT_USAGE
    configure_logging(settings)
    handler: Handler = args.handler
    try:
        return handler(settings, args)
    except OperationalError as exc:
        print(f"tradewatch: database error: {first_line(exc.orig or exc)}", file=sys.stderr)
        return EXIT_FAILURE
    except DatasetError as exc:
        print(f"tradewatch: dataset error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILURE
    except data.MigrationError as exc:
        print(f"tradewatch: {exc}", file=sys.stderr)
        return EXIT_USAGE
