"""The question corpora answered end to end: each phrasing through the real application.

tests/test_questions.py and tests/test_questions_hi.py check what the parser makes of each
phrasing; this checks that the reply a user gets holds the expected facts, within Telegram's
limits (counted in UTF-16 code units, as Telegram counts them).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio

from bot.bootstrap import open_database
from bot.config import Settings
from bot.telegram.app import build_application
from bot.telegram.offline import OfflineRequest
from bot.telegram.plain import html_to_text
from tests.conftest import FAKE_TOKEN, TODAY, BotUnderTest
from tests.test_questions import ENTRIES, _entry_id, expand
from tests.test_questions_hi import HI_ENTRIES, hi_entry_id, typed

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def corpus_bot(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BotUnderTest]:
    """One seeded bot for the whole corpus: answering reads, never writes."""
    folder = tmp_path_factory.mktemp("corpus")
    settings = Settings(
        _env_file=None,
        telegram_bot_token=FAKE_TOKEN,
        data_dir=folder,
        database_url=f"sqlite:///{folder / 'corpus.sqlite3'}",
        answer_cache_seconds=0,
    )
    engine = open_database(settings)
    request = OfflineRequest()
    application = build_application(settings, engine=engine, request=request, clock=lambda: TODAY)
    async with application:
        yield BotUnderTest(application, request)
    engine.dispose()


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("entry", ENTRIES, ids=[_entry_id(e) for e in ENTRIES])
async def test_the_answer_holds_the_expected_facts(
    corpus_bot: BotUnderTest, entry: dict[str, Any]
) -> None:
    text = expand(entry)
    calls = await corpus_bot.send(text)
    sent = [c for c in calls if c["method"] in ("sendMessage", "sendPhoto")]
    if not text.strip():
        return
    assert sent, f"no reply to {text!r}"
    bodies = [c.get("text") or c.get("caption") or "" for c in sent]
    assert all(len(body) <= 4096 for body in bodies)
    replies = "\n".join(html_to_text(body) for body in bodies)
    for fact in entry.get("expect_in_answer", []):
        assert str(fact) in replies, f"{fact!r} missing from the answer to {text!r}:\n{replies}"
    for fact in entry.get("expect_not_in_answer", []):
        assert str(fact) not in replies, f"{fact!r} in the answer to {text!r}:\n{replies}"
    first_words = entry.get("answer_starts_with")
    if first_words is not None:
        assert replies.startswith(first_words), (
            f"the answer to {text!r} does not start with {first_words!r}:\n{replies}"
        )
    if entry.get("expect_in_answer") and entry["intent"] not in ("help", "history", "sources"):
        # A stated fact always comes with where it was reported.
        assert re.search(r"Sources?: .+ as of ", replies), (
            f"{text!r}: no source and date:\n{replies}"
        )


def _utf16_units(text: str) -> int:
    """Telegram counts a message's length in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("entry", HI_ENTRIES, ids=[hi_entry_id(e) for e in HI_ENTRIES])
async def test_a_hindi_answer_holds_the_expected_facts(
    corpus_bot: BotUnderTest, entry: dict[str, Any]
) -> None:
    """Every Hindi phrasing gets an answer within Telegram's limits, holding the facts any
    language states alike (amounts, years, the sources' hosts) and buttons for the records."""
    text = typed(entry)
    calls = await corpus_bot.send(text)
    sent = [c for c in calls if c["method"] in ("sendMessage", "sendPhoto")]
    assert sent, f"no reply to {text!r}"
    bodies = [c.get("text") or c.get("caption") or "" for c in sent]
    limit = {"sendMessage": 4096, "sendPhoto": 1024}
    for call, body in zip(sent, bodies, strict=True):
        shown = html_to_text(body)
        assert shown.strip(), f"an empty message in answer to {text!r}"
        assert _utf16_units(shown) <= limit[call["method"]]
    replies = "\n".join(html_to_text(body) for body in bodies)
    for fact in entry["expect_in_answer"]:
        assert str(fact) in replies, f"{fact!r} missing from the answer to {text!r}:\n{replies}"
    buttons = [
        button.get("callback_data", "")
        for call in sent
        for row in (call.get("reply_markup") or {}).get("inline_keyboard", [])
        for button in row
    ]
    for slug in entry.get("expect_buttons", []):
        assert any(slug in data.split("|") for data in buttons), (
            f"no button for {slug!r} in the answer to {text!r}: {buttons}"
        )
