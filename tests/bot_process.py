"""The bot as a process of its own (`python -m bot run`) against the Bot API emulator, for the
end-to-end tests that need the real start-up, jobs and shutdown."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from contextlib import contextmanager
from typing import TYPE_CHECKING

from tests.conftest import FAKE_TOKEN

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from devtools.botapi import BotApiEmulator


def bot_environment(
    tmp_path: Path,
    emulator: BotApiEmulator,
    database_url: str,
    *,
    unset: tuple[str, ...] = (),
    **settings: str,
) -> dict[str, str]:
    """This process's environment for a bot talking to `emulator` with its data in `tmp_path`:
    without the Telegram, database and admin settings (nor those starting with `unset`) the
    machine may have, with `settings` instead."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM", "DATABASE", "ADMIN", *unset))
    }
    environment.update(
        TELEGRAM_BOT_TOKEN=FAKE_TOKEN,
        TELEGRAM_API_BASE_URL=emulator.base_url,
        DATABASE_URL=database_url,
        DATA_DIR=str(tmp_path),
        **settings,
    )
    return environment


@contextmanager
def bot_running(tmp_path: Path, environment: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    """`python -m bot run`, its output in `tmp_path/bot.log`; stopped as a service manager
    stops it (SIGTERM, killed after 30 s) on leaving. A block that ends normally also checks
    that the log holds no traceback."""
    log_path = tmp_path / "bot.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            cwd=tmp_path, env=environment, stdout=log, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        try:
            yield process
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    output = log_path.read_text()
    assert "Traceback" not in output, output[-3000:]
