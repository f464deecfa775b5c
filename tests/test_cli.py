"""The command line as an operator uses it: real processes, a fresh folder, real exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot import db

BOT_VARIABLES = (
    "TELEGRAM_BOT_TOKEN", "TELEGRAM_API_BASE_URL", "DATABASE_URL", "ADMIN_IDS", "BOT_MODE",
    "WEBHOOK_URL", "WEBHOOK_SECRET", "PORT", "TEMPLATES_DIR", "DEFAULT_TIMEZONE", "LOG_LEVEL",
    "DATA_DIR", "STALE_AFTER_DAYS",
)  # fmt: skip

pytestmark = pytest.mark.slow  # every test starts `python -m bot` processes


def tradewatch(
    folder: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in BOT_VARIABLES}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = tradewatch(tmp_path, "--help")
    assert result.returncode == 0
    for command in ("run", "db", "seed", "export"):
        assert command in result.stdout


def test_the_console_script_is_installed(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "tradewatch"
    result = subprocess.run(
        [str(script), "--help"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert "export" in result.stdout


def test_run_without_a_token_prepares_the_database_and_says_what_to_set(tmp_path: Path) -> None:
    result = tradewatch(tmp_path, "run")
    assert result.returncode == 2
    assert (tmp_path / "data" / "tradewatch.sqlite3").is_file()
    assert "First start: created the database" in result.stderr
    assert "TELEGRAM_BOT_TOKEN is not set" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("url", ["sqlite:///nonexistent-dir/x.db", "nonsense"])
@pytest.mark.parametrize("command", [("run",), ("seed",), ("db", "current")])
def test_a_bad_database_url_is_one_line_and_exit_2(
    tmp_path: Path, url: str, command: tuple[str, ...]
) -> None:
    result = tradewatch(tmp_path, *command, env={"DATABASE_URL": url})
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("tradewatch: invalid configuration: DATABASE_URL: ")
    assert not (tmp_path / "nonexistent-dir").exists()


def test_an_unreachable_postgres_is_one_line(tmp_path: Path) -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"
    result = tradewatch(tmp_path, "db", "current", env={"DATABASE_URL": url})
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("tradewatch: database error: ")


def test_seed_twice_then_export(tmp_path: Path) -> None:
    first = tradewatch(tmp_path, "seed")
    assert first.returncode == 0, first.stderr
    assert "seed: inserted" in first.stdout
    assert "Hindi texts: 146 of 146; 0 missing" in first.stdout
    assert "flagged: china_cy 2025: " in first.stdout  # seed article 003's 20.5 bn

    second = tradewatch(tmp_path, "seed")
    assert second.returncode == 0
    assert "seed: nothing to change" in second.stdout

    exported = tradewatch(tmp_path, "export", "--format", "json")
    assert exported.returncode == 0, exported.stderr
    dataset = json.loads(exported.stdout)
    assert len(dataset["passes"]) == 3

    csv_export = tradewatch(tmp_path, "export", "--format", "csv", "--out", "backup")
    assert csv_export.returncode == 0, csv_export.stderr
    assert (tmp_path / "backup" / "trade_figures.csv").is_file()


def test_db_commands(tmp_path: Path) -> None:
    head = db.head_revision()
    assert f"database: empty -> {head}" in tradewatch(tmp_path, "db", "upgrade").stdout
    assert "up to date" in tradewatch(tmp_path, "db", "current").stdout
    down = tradewatch(tmp_path, "db", "downgrade", "base")
    assert f"{head} -> base (empty)" in down.stdout
    assert "behind" in tradewatch(tmp_path, "db", "current").stdout


def test_an_unknown_revision_is_a_clear_error(tmp_path: Path) -> None:
    result = tradewatch(tmp_path, "db", "upgrade", "9999")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "9999" in result.stderr


def test_admin_commands_for_set_up_and_recovery(tmp_path: Path) -> None:
    assert "no owners or editors yet" in tradewatch(tmp_path, "admin", "list").stdout
    assert (
        "user 42: no role -> owner" in tradewatch(tmp_path, "admin", "grant", "42", "owner").stdout
    )
    assert (
        "user 7: no role -> editor" in tradewatch(tmp_path, "admin", "grant", "7", "editor").stdout
    )
    listing = tradewatch(tmp_path, "admin", "list").stdout
    assert "42\towner" in listing
    assert "7\teditor" in listing
    refused = tradewatch(tmp_path, "admin", "revoke", "42")
    assert refused.returncode == 1
    assert "last owner" in refused.stderr
    assert "user 7: editor -> no role" in tradewatch(tmp_path, "admin", "revoke", "7").stdout
    bad = tradewatch(tmp_path, "admin", "grant", "abc", "owner")
    assert bad.returncode == 2


def test_digest_run_due_dry_run_replays_a_moment(tmp_path: Path) -> None:
    from bot import db
    from bot.config import Settings
    from tests.test_delivery import MONDAY_0900_IST, add_subscribers

    assert tradewatch(tmp_path, "seed").returncode == 0
    settings = Settings(_env_file=None, data_dir=tmp_path / "data")
    engine = db.make_engine(settings)
    add_subscribers(engine, 2, first_chat=777)
    engine.dispose()

    before = tradewatch(tmp_path, "digest", "run-due", "--dry-run", "--now", "2026-11-23T08:59")
    assert before.returncode == 0, before.stderr
    assert "no digest is due" in before.stdout

    at_nine = tradewatch(tmp_path, "digest", "run-due", "--dry-run", "--now", "2026-11-23T09:00")
    assert at_nine.returncode == 0, at_nine.stderr
    assert f"At {MONDAY_0900_IST:%Y-%m-%d %H:%M} UTC" in at_nine.stdout
    assert "777\tprivate\tweekly digest due Mon 23 Nov 09:00 Asia/Kolkata" in at_nine.stdout
    assert "778\t" in at_nine.stdout
    assert "digests due by 2026-11-23 03:30 UTC: 2" in at_nine.stdout

    # A dry run changes nothing; a real run needs the token and says so.
    status = tradewatch(tmp_path, "digest", "status")
    assert "deliveries: none" in status.stdout
    real = tradewatch(tmp_path, "digest", "run-due", "--now", "2026-11-23T09:00")
    assert real.returncode == 2
    assert "TELEGRAM_BOT_TOKEN is not set" in real.stderr

    bad = tradewatch(tmp_path, "digest", "run-due", "--dry-run", "--now", "someday")
    assert bad.returncode == 2
    assert "--now: 'someday' is not a moment" in bad.stderr
