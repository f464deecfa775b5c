"""Inline mode, and the terminal front end (`ask`, `chat`) over the same application."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from bot.telegram.terminal import TerminalSession, format_replies
from tests.factories import inline_update

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy import Engine

    from bot.config import Settings
    from tests.conftest import BotUnderTest


async def test_inline_query_offers_sourced_cards(bot: BotUnderTest) -> None:
    (call,) = await bot.process(inline_update(bot.application.bot, "nathu"))
    assert call["method"] == "answerInlineQuery"
    results = json.loads(call["results"]) if isinstance(call["results"], str) else call["results"]
    first = results[0]
    assert first["title"] == "Nathu La: border pass status"
    message = first["input_message_content"]
    assert "reopening agreed" in message["message_text"]
    assert "Source:" in message["message_text"]
    assert message["parse_mode"] == "HTML"
    titles = [result["title"] for result in results]
    assert "Trade deficit with China" in titles
    assert len({result["id"] for result in results}) == len(results)


async def test_an_empty_inline_query_offers_the_headlines(bot: BotUnderTest) -> None:
    (call,) = await bot.process(inline_update(bot.application.bot, ""))
    results = json.loads(call["results"]) if isinstance(call["results"], str) else call["results"]
    assert [r["title"] for r in results][:2] == ["Trade deficit with China", "Border trade passes"]


async def test_terminal_session_numbers_buttons(
    settings: Settings, seeded_engine: Engine, tmp_path: Path
) -> None:
    async with TerminalSession(settings, seeded_engine, charts_dir=tmp_path) as session:
        replies = await session.send("/passes")
        assert [b.text for b in session.buttons.values()] == ["Lipulekh", "Shipki La", "Nathu La"]
        replies = await session.press(3)
        assert "Nathu La" in replies[0].text
        assert "<b>" not in replies[0].text
        chart = await session.send("/chart trade")
        assert chart[0].photo is not None
        assert chart[0].photo.read_bytes().startswith(b"\x89PNG")
        with pytest.raises(IndexError):
            await session.press(99)


def _cli(folder: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=folder,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(folder)},
    )


@pytest.mark.slow
def test_ask_answers_the_deficit_question_from_a_fresh_folder(tmp_path: Path) -> None:
    result = _cli(tmp_path, "ask", "what is the trade deficit with china")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for fact in ("FY2024-25", "Apr 2025 – Jan 2026", "92.3", "2025", "116.12", "Source:", "as of"):
        assert fact in out
    assert "<b>" not in out


@pytest.mark.slow
def test_ask_is_nathula_open(tmp_path: Path) -> None:
    result = _cli(tmp_path, "ask", "is nathula open")
    assert result.returncode == 0, result.stderr
    assert "Nathu La" in result.stdout
    assert "reopening agreed since 19 Aug 2025" in result.stdout
    assert "Source:" in result.stdout


@pytest.mark.slow
def test_ask_a_command_lists_the_buttons(tmp_path: Path) -> None:
    result = _cli(tmp_path, "ask", "/pass shipki la")
    assert result.returncode == 0, result.stderr
    assert "Shipki La" in result.stdout
    assert "Buttons: [1] History  [2] All passes" in result.stdout


@pytest.mark.slow
def test_chat_reads_questions_and_button_numbers(tmp_path: Path) -> None:
    result = _cli(tmp_path, "chat", stdin="/passes\n2\n9\nquit\n")
    assert result.returncode == 0, result.stderr
    assert "Trade Watch" in result.stdout  # the /start greeting
    assert "Shipki La (Kinnaur, Himachal Pradesh)" in result.stdout
    assert "There is no button 9" in result.stdout


def test_format_replies_writes_plain_text() -> None:
    import io

    from bot.telegram.terminal import Button, Reply

    out = io.StringIO()
    format_replies([Reply("Hello", {1: Button("One", "tw1|passes")})], out)
    assert out.getvalue() == "Hello\nButtons: [1] One\n\n"


def _number(session: TerminalSession, label: str) -> int:
    (number,) = [n for n, button in session.buttons.items() if button.text == label]
    return number


async def test_button_numbers_keep_their_meaning_when_a_message_is_edited(
    settings: Settings, seeded_engine: Engine, tmp_path: Path
) -> None:
    async with TerminalSession(settings, seeded_engine, charts_dir=tmp_path) as session:
        await session.send("/subscribe")
        await session.send("/settings")
        before = {number: button.text for number, button in session.buttons.items()}
        chart = _number(session, "📈 Chart in digest: off")
        # Daily digests have no weekday: the edited keyboard loses the weekday button.
        (edited,) = await session.press(_number(session, "Daily"))
        assert "Digest: daily" in edited.text
        assert "📅 Monday" not in [button.text for button in session.buttons.values()]
        # The number read before the edit still presses the same button.
        assert session.buttons[chart].text == before[chart]
        (edited,) = await session.press(chart)
        assert "Chart in digest: on" in edited.text


async def test_a_prompt_is_answered_by_the_next_message_and_charts_keep_their_file(
    settings: Settings, seeded_engine: Engine, tmp_path: Path
) -> None:
    async with TerminalSession(settings, seeded_engine, charts_dir=tmp_path) as session:
        await session.send("/subscribe")
        await session.send("/settings")
        await session.press(_number(session, "🌐 Asia/Kolkata"))
        (prompt,) = await session.press(_number(session, "Other…"))
        assert prompt.expects_reply
        replies = await session.send("Europe/Berlin")
        assert any("Europe/Berlin" in reply.text for reply in replies)

        (first,) = await session.send("/chart trade")
        (again,) = await session.send("/chart trade")  # sent again by Telegram file id
        assert first.photo is not None
        assert again.photo == first.photo
        assert again.photo.read_bytes().startswith(b"\x89PNG")


def test_chat_keeps_log_lines_out_of_the_conversation(tmp_path: Path) -> None:
    result = _cli(tmp_path, "chat", stdin="/passes\nquit\n")
    assert result.returncode == 0, result.stderr
    log = tmp_path / "data" / "chat.log"
    assert f"Log lines go to {log.relative_to(tmp_path)}" in result.stdout
    # The first start migrates and seeds: its log lines are in the file, not on the screen.
    assert "First start: created the database" in log.read_text()
    assert "INFO" not in result.stdout + result.stderr


def test_run_without_a_token_names_a_command_that_works_in_a_fresh_shell(tmp_path: Path) -> None:
    result = _cli(tmp_path, "run")
    assert result.returncode == 2
    # The interpreter itself (here outside the folder, so by its full path), never a bare
    # `python` that a fresh shell may not have.
    assert f"`{sys.executable} -m bot chat`" in result.stderr


async def test_a_review_message_keeps_its_items_when_one_is_published_in_the_terminal(
    settings: Settings, seeded_engine: Engine, tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    from bot.db import session_scope
    from bot.services import admins
    from bot.telegram.terminal import USER
    from bot.vocabulary import NewsState
    from tests.factories import news_item

    with session_scope(seeded_engine) as session:
        admins.bootstrap_owners(session, [int(str(USER["id"]))])
        for n in range(3):
            news_item(
                session,
                title=f"Nathu La trade story {n}",
                url=f"https://n.example/{n}",
                publisher="Desk",
                published_at=datetime(2026, 11, 1 + n, tzinfo=UTC),
                topics=["passes"],
                records=["pass:nathu-la"],
                state=NewsState.NEW,
            )
    async with TerminalSession(settings, seeded_engine, charts_dir=tmp_path) as session:
        (review,) = await session.send("/review")
        assert "News to review (3)" in review.text
        (edited,) = await session.press(_number(session, "📣 Publish #2"))
        assert "News to review (3)" in edited.text
        assert "✅ Published by user" in edited.text
        labels = [button.text for button in session.buttons.values()]
        assert "📣 Publish #1" in labels
        assert "📣 Publish #3" in labels
        assert "📣 Publish #2" not in labels
