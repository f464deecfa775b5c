"""The data: schema migrations (`db`), the bundled dataset (`seed`), `export` and `import`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot import db
from bot.bootstrap import describe_hindi, open_database, seed
from bot.cli.common import (
    EXIT_FAILURE,
    EXIT_USAGE,
    MAX_PROBLEMS_SHOWN,
    Commands,
    first_line,
    steady_state,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Never

    from sqlalchemy import Engine

    from bot.config import Settings
    from bot.services.importing import ImportFileError
    from bot.services.loading import LoadReport, Progress
    from bot.services.trade import Flag

PROGRESS_THRESHOLD = 200  # records; smaller imports finish before a bar would say anything


def add_commands(commands: Commands) -> None:
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


class MigrationError(Exception):
    """Alembic refused a revision (e.g. `db upgrade 9999`)."""


def _migrate(direction: Callable[..., None], engine: Engine, revision: str) -> None:
    from alembic.util.exc import CommandError  # Alembic loads only for db commands

    try:
        with db.migration_lock(engine):
            direction(engine, revision)
    except CommandError as exc:
        raise MigrationError(first_line(exc)) from None


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
    print(describe_hindi(report.hindi))
    for where in report.hindi.untranslated:
        print(f"no Hindi text: {where}")
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
            f"{first_line(exc.orig or exc)}",
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
