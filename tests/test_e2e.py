"""End to end: the real bot process (`python -m bot run`) against the Bot API emulator.

The bot polls the emulator over HTTP exactly as it polls Telegram; the test plays the user
through the emulator and reads what the bot sent.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import TYPE_CHECKING, TypeVar

import pytest

from bot.telegram.plain import html_to_text
from devtools.botapi import BotApiEmulator
from tests.conftest import FAKE_TOKEN

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from devtools.botapi import SentMessage

pytestmark = pytest.mark.slow  # real bot processes over loopback HTTP


USER = 555
T = TypeVar("T")


@pytest.fixture
def emulator() -> Iterator[BotApiEmulator]:
    with BotApiEmulator() as running:
        yield running


@pytest.fixture
def bot_process(emulator: BotApiEmulator, tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM", "DATABASE"))
    }
    environment.update(
        TELEGRAM_BOT_TOKEN=FAKE_TOKEN,
        TELEGRAM_API_BASE_URL=emulator.base_url,
        DATABASE_URL=f"sqlite:///{tmp_path / 'e2e.sqlite3'}",
        DATA_DIR=str(tmp_path),
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def ask(
    emulator: BotApiEmulator, text: str, *, chat_id: int = USER, **kwargs: object
) -> SentMessage:
    before = len(emulator.messages(chat_id))
    emulator.push_message(chat_id, text, **kwargs)  # type: ignore[arg-type]
    return emulator.wait_for_messages(chat_id, before + 1, timeout=30)[before]


def buttons(message: SentMessage) -> dict[str, str]:
    markup = message.reply_markup or {}
    return {b["text"]: b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row}


def test_a_conversation_over_http(
    emulator: BotApiEmulator, bot_process: subprocess.Popen[str]
) -> None:
    welcome = ask(emulator, "/start")
    assert "Trade Watch" in (welcome.text or "")

    deficit = html_to_text(ask(emulator, "what is the trade deficit with china").text or "")
    for fact in ("FY2024-25", "Apr 2025 – Jan 2026", "92.3", "2025", "116.12", "Source:"):
        assert fact in deficit

    nathu = ask(emulator, "is nathula open?")
    assert "reopening agreed" in (nathu.text or "")

    # A button press edits the message in place.
    emulator.push_callback_query(USER, nathu.message_id, buttons(nathu)["History"])
    edits = [
        m for m in emulator.wait_for_messages(USER, 4, timeout=30) if m.method == "editMessageText"
    ]
    assert "History: Nathu La" in (edits[-1].text or "")

    for topic, fact in (
        ("/deals fertilisers", "Urea"),
        ("/flights", "Kolkata"),
        ("/passes", "Shipki La"),
    ):
        assert fact in (ask(emulator, topic).text or "")

    chart = ask(emulator, "/chart deficit")
    assert chart.method == "sendPhoto"
    assert "Sources:" in (chart.text or "")

    # Groups: only when addressed.
    group = -100777
    emulator.push_message(group, "is nathula open", chat_type="group")
    reply = ask(emulator, "is nathula open", chat_id=group, chat_type="group", mention=True)
    assert "Nathu La" in (reply.text or "")
    assert len(emulator.messages(group)) == 1

    # Inline mode.
    emulator.push_inline_query(USER, "nathu")
    answers = _wait(lambda: emulator.inline_answers())
    titles = [result["title"] for result in answers[-1].results]
    assert "Nathu La: border pass status" in titles

    # Commands were registered for private chats and groups at start-up.
    assert emulator.commands({"type": "all_private_chats"})
    assert emulator.commands({"type": "all_group_chats"})


def test_sigterm_stops_the_bot_cleanly(
    emulator: BotApiEmulator, bot_process: subprocess.Popen[str]
) -> None:
    ask(emulator, "/help")
    bot_process.send_signal(signal.SIGTERM)
    output, _ = bot_process.communicate(timeout=30)
    assert bot_process.returncode == 0, output
    assert "Traceback" not in output
    assert FAKE_TOKEN not in output  # the token never reaches the logs


def _wait(probe: Callable[[], list[T]], timeout: float = 30.0) -> list[T]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := probe():
            return found
        time.sleep(0.05)
    raise TimeoutError("nothing arrived")
