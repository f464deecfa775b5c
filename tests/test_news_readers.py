"""News for readers through the real application: `/news [topic]`, questions for the news
(the status card with the newest published items below), inline mode and the terminal.

The items are real published headlines (each cited where it is defined); what a feed brings
is plain text, so titles with markup are escaped and only http(s) links become links.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from bot import db
from bot.services.news import items
from bot.telegram.html_entities import parse_html
from bot.telegram.plain import html_to_text
from bot.telegram.terminal import TerminalSession
from bot.vocabulary import NewsState
from tests.factories import inline_update, news_item

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy import Engine

    from bot.config import Settings
    from tests.conftest import BotUnderTest


@dataclass(frozen=True)
class Story:
    title: str
    publisher: str
    url: str
    published_at: datetime
    topics: tuple[str, ...]
    records: tuple[str, ...]


def _at(year: int, month: int, day: int, hour: int = 12) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


# The Tribune, 24 Aug 2025.
SHIPKI_NATHU = Story(
    "India, China agree to resume border trade via Shipki-La, Nathu-La",
    "The Tribune",
    "https://www.tribuneindia.com/news/himachal/india-china-agree-to-resume-border-trade-via-shipki-la-nathu-la/",
    _at(2025, 8, 24),
    ("passes",),
    ("pass:shipki-la", "pass:nathu-la"),
)
# The Hans India, 24 Aug 2025 (dated later in the day than the Tribune's here).
SHIPKI = Story(
    "India, China agree on reviving traditional trade from Shipki-La: Himachal govt",
    "The Hans India",
    "https://www.thehansindia.com/news/national/india-china-agree-on-reviving-traditional-trade-from-shipki-la-himachal-govt-1000090",
    _at(2025, 8, 24, 18),
    ("passes",),
    ("pass:shipki-la",),
)
# India TV, 30 Oct 2025.
MAGNET_LICENCES = Story(
    "Indian companies get licences to import rare-earth magnets from China, says MEA",
    "India TV",
    "https://www.indiatvnews.com/news/india/indian-companies-get-licences-to-import-rare-earth-magnets-from-china-says-mea-latest-updates-2025-10-30-1015098",
    _at(2025, 10, 30),
    ("deals",),
    ("deal:rare-earth-magnets",),
)
# Rare Earth Exchanges, 25 Dec 2025.
MAGNET_GATEKEEPING = Story(
    "Licenses by Drip, Leverage by Design: China’s Magnet Gatekeeping Leaves India Exposed",
    "Rare Earth Exchanges",
    "https://rareearthexchanges.com/news/licenses-by-drip-leverage-by-design-chinas-magnet-gatekeeping-leaves-india-exposed",
    _at(2025, 12, 25),
    ("deals",),
    ("deal:rare-earth-magnets",),
)
# Siasat, 27 Oct 2025.
FLIGHTS = Story(
    "IndiGo resumes Kolkata-Guangzhou direct flights",
    "Siasat",
    "https://www.siasat.com/indigo-resumes-kolkata-guangzhou-direct-flights-3287952/",
    _at(2025, 10, 27),
    ("flights",),
    ("flight:kolkata-guangzhou",),
)
# Business Standard, 16 Apr 2025.
DEFICIT = Story(
    "India's trade deficit with China hits record $99.2 bn on import surge",
    "Business Standard",
    "https://www.business-standard.com/amp/economy/news/india-s-trade-deficit-with-china-hits-record-99-2-bn-on-import-surge-125041600704_1.html",
    _at(2025, 4, 16),
    ("trade",),
    ("series:india_fy",),
)


def add(engine: Engine, story: Story, state: NewsState = NewsState.PUBLISHED) -> int:
    with db.session_scope(engine) as session:
        item = news_item(
            session,
            title=story.title,
            url=story.url,
            publisher=story.publisher,
            published_at=story.published_at,
            topics=story.topics,
            records=story.records,
            state=state,
        )
        assert item.id is not None
        return item.id


def text_of(calls: list[dict[str, Any]]) -> str:
    """The plain text of the bot's messages, each checked to be valid Telegram HTML."""
    bodies = [call["text"] for call in calls if call["method"] == "sendMessage"]
    assert bodies, calls
    for body in bodies:
        parse_html(body)  # raises on HTML Telegram would refuse
    return "\n".join(html_to_text(body) for body in bodies)


def html_of(calls: list[dict[str, Any]]) -> str:
    return "\n".join(call["text"] for call in calls if call["method"] == "sendMessage")


@pytest.fixture
def stories(seeded_engine: Engine) -> Engine:
    """Published items about every topic, and items no reader may see."""
    for story in (SHIPKI_NATHU, SHIPKI, MAGNET_LICENCES, MAGNET_GATEKEEPING, FLIGHTS, DEFICIT):
        add(seeded_engine, story)
    add(
        seeded_engine,
        Story("Unreviewed: a new item", "Pending Post", "https://example.org/new", _at(2026, 1, 5),
              ("passes",), ("pass:shipki-la",)),
        NewsState.NEW,
    )  # fmt: skip
    add(
        seeded_engine,
        Story("Dismissed: not about India-China trade", "Elsewhere", "https://example.org/off",
              _at(2026, 1, 6), ("passes",), ("pass:shipki-la",)),
        NewsState.DISMISSED,
    )  # fmt: skip
    return seeded_engine


# --- /news ----------------------------------------------------------------------------------


async def test_news_lists_the_newest_published_items_with_publisher_date_and_link(
    bot: BotUnderTest, stories: Engine
) -> None:
    calls = await bot.send("/news")
    text = text_of(calls)
    shown = [MAGNET_GATEKEEPING, MAGNET_LICENCES, FLIGHTS, SHIPKI, SHIPKI_NATHU]  # newest first
    positions = [text.index(story.title) for story in shown]
    assert positions == sorted(positions)
    assert DEFICIT.title not in text  # five items at most: the oldest is left out
    assert "Unreviewed" not in text
    assert "Dismissed" not in text
    assert "(Rare Earth Exchanges, 25 Dec 2025)" in text
    assert "(The Hans India, 24 Aug 2025)" in text
    assert f'<a href="{FLIGHTS.url}">{FLIGHTS.title}</a>' in html_of(calls)
    assert "/news passes" in text  # how to ask for one topic


@pytest.mark.parametrize(
    ("command", "expected", "absent"),
    [
        ("/news passes", [SHIPKI, SHIPKI_NATHU], [FLIGHTS, MAGNET_LICENCES, DEFICIT]),
        ("/news deals", [MAGNET_GATEKEEPING, MAGNET_LICENCES], [SHIPKI, FLIGHTS, DEFICIT]),
        ("/news flights", [FLIGHTS], [SHIPKI, MAGNET_LICENCES, DEFICIT]),
        ("/news trade", [DEFICIT], [SHIPKI, FLIGHTS, MAGNET_LICENCES]),
        ("/news rare earths", [MAGNET_GATEKEEPING, MAGNET_LICENCES], [SHIPKI, FLIGHTS]),
        ("/news shipki la", [SHIPKI, SHIPKI_NATHU], [FLIGHTS, MAGNET_LICENCES]),
        ("/news nathu la", [SHIPKI_NATHU], [SHIPKI, FLIGHTS]),
        ("/news the deficit", [DEFICIT], [SHIPKI, FLIGHTS]),
    ],
)
async def test_news_for_one_topic_or_record(
    bot: BotUnderTest,
    stories: Engine,
    command: str,
    expected: list[Story],
    absent: list[Story],
) -> None:
    text = text_of(await bot.send(command))
    positions = [text.index(story.title) for story in expected]
    assert positions == sorted(positions)
    for story in absent:
        assert story.title not in text
    assert "Source:" not in text  # /news lists the news alone, without a status card


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/news banana", "I don't know news about “banana”."),
        ("/news nathu", "Did you mean Nathu La?"),
    ],
)
async def test_an_unknown_topic_names_the_topics(
    bot: BotUnderTest, stories: Engine, command: str, expected: str
) -> None:
    text = text_of(await bot.send(command))
    assert expected in text
    for topic in ("/news trade", "/news deals", "/news passes", "/news flights"):
        assert topic in text


async def test_with_nothing_published_news_says_so(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    add(seeded_engine, SHIPKI, NewsState.NEW)
    assert "No news has been published yet." in text_of(await bot.send("/news"))
    text = text_of(await bot.send("/news flights"))
    assert "No news has been published yet about direct flights." in text
    text = text_of(await bot.send("/news shipki la"))
    assert "No news has been published yet about Shipki La." in text
    assert SHIPKI.title not in text


async def test_titles_are_plain_text_and_only_web_links_are_links(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    hostile = Story(
        f"<b>{FLIGHTS.title}</b> & <a href='https://evil.example'>more</a>",
        "Feeds & <i>Co</i>",
        "javascript:alert(1)",
        _at(2025, 10, 28),
        ("flights",),
        ("flight:kolkata-guangzhou",),
    )
    add(seeded_engine, hostile)
    calls = await bot.send("/news flights")
    html = html_of(calls)
    assert "&lt;b&gt;IndiGo resumes" in html
    assert "&amp; &lt;a href=&#39;https://evil.example&#39;&gt;" in html
    assert "Feeds &amp; &lt;i&gt;Co&lt;/i&gt;" in html
    assert "javascript" not in html
    assert "<a " not in html
    assert hostile.title in text_of(calls)  # the reader sees the title as the feed gave it


async def test_long_titles_and_links_fit_in_telegram_messages(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    for day in range(1, 7):
        long = Story(
            f"{day}: " + f"{SHIPKI.title} & <more>\n" * 6,  # about 500 characters, line breaks
            "A publisher\nwith a line break",
            f"https://example.org/{day}/" + "a" * 1900,
            _at(2025, 9, day),
            ("passes",),
            ("pass:shipki-la",),
        )
        add(seeded_engine, long)
    calls = await bot.send("latest on shipki la")
    bodies = [call["text"] for call in calls if call["method"] == "sendMessage"]
    assert len(bodies) > 1
    assert all(len(body) <= 4096 for body in bodies)
    text = text_of(calls)  # every message is valid Telegram HTML
    shown = [line for line in text.splitlines() if line.startswith("• ") and "example.org" in line]
    assert [line[2:4] for line in shown] == ["6:", "5:", "4:", "3:", "2:"]
    assert all("(A publisher with a line break, " in line for line in shown)


# --- Questions ------------------------------------------------------------------------------


async def test_a_question_for_the_news_shows_the_status_then_the_items(
    bot: BotUnderTest, stories: Engine
) -> None:
    calls = await bot.send("latest on shipki la")
    text = text_of(calls)
    card = text.index("Shipki La (Kinnaur, Himachal Pradesh): reopening scheduled")
    heading = text.index("In the news: Shipki La")
    assert card < heading < text.index(SHIPKI.title) < text.index(SHIPKI_NATHU.title)
    assert "Source:" in text[:heading]  # the card keeps its source and date
    assert FLIGHTS.title not in text
    assert "Unreviewed" not in text
    markup = calls[-1]["reply_markup"]
    rows = (json.loads(markup) if isinstance(markup, str) else markup)["inline_keyboard"]
    assert [button["text"] for row in rows for button in row] == ["History", "All passes"]


@pytest.mark.parametrize(
    ("question", "card", "heading", "expected", "absent"),
    [
        (
            "any news about rare earths",
            "Rare-earth magnets",
            "In the news: rare earths",
            [MAGNET_GATEKEEPING, MAGNET_LICENCES],
            [SHIPKI],
        ),
        (
            "what's new with flights",
            "Kolkata–Guangzhou",
            "In the news: direct flights",
            [FLIGHTS],
            [MAGNET_LICENCES],
        ),
        (
            "latest news on india china trade",
            "155.62",
            "In the news: India–China trade",
            [DEFICIT],
            [SHIPKI, FLIGHTS],
        ),
        (
            "any update on nathu la",
            "reopening agreed",
            "In the news: Nathu La",
            [SHIPKI_NATHU],
            [SHIPKI],
        ),
    ],
)
async def test_questions_for_the_news_of_a_record_or_topic(
    bot: BotUnderTest,
    stories: Engine,
    question: str,
    card: str,
    heading: str,
    expected: list[Story],
    absent: list[Story],
) -> None:
    text = text_of(await bot.send(question))
    assert text.index(card) < text.index(heading)
    positions = [text.index(story.title) for story in expected]
    assert positions == sorted(positions)
    for story in absent:
        assert story.title not in text


async def test_with_nothing_published_the_card_says_no_news_yet(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    add(seeded_engine, FLIGHTS, NewsState.DISMISSED)
    text = text_of(await bot.send("any news on flights?"))
    assert "Kolkata–Guangzhou, IndiGo 6E1703: operating" in text
    assert text.rstrip().endswith("No news has been published yet about direct flights.")
    assert FLIGHTS.title not in text


@pytest.mark.parametrize(
    "question", ["latest deficit", "latest trade figures", "latest status of nathu la"]
)
async def test_latest_before_a_figure_or_a_status_is_no_news_question(
    bot: BotUnderTest, stories: Engine, question: str
) -> None:
    text = text_of(await bot.send(question))
    assert "In the news" not in text
    assert DEFICIT.title not in text
    assert SHIPKI_NATHU.title not in text


async def test_an_item_published_after_a_news_answer_is_in_the_next_one(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    """The answer cache holds other answers; a news answer is read afresh every time, so an
    item published elsewhere (another instance, no event here) shows at once."""
    item_id = add(seeded_engine, SHIPKI, NewsState.NEW)
    first = text_of(await bot.send("latest on shipki la"))
    assert "No news has been published yet about Shipki La." in first
    with db.session_scope(seeded_engine) as session:
        items.review(session, item_id, NewsState.PUBLISHED, actor="tg:4242", now=datetime.now(UTC))
    assert SHIPKI.title in text_of(await bot.send("latest on shipki la"))
    assert SHIPKI.title in text_of(await bot.send("/news shipki la"))


# --- Inline mode and the terminal -----------------------------------------------------------


async def test_inline_offers_the_news_answer(bot: BotUnderTest, stories: Engine) -> None:
    (call,) = await bot.process(inline_update(bot.application.bot, "latest on shipki la"))
    results = json.loads(call["results"]) if isinstance(call["results"], str) else call["results"]
    first = results[0]
    assert first["title"] == "News: Shipki La"
    message = first["input_message_content"]["message_text"]
    parse_html(message)
    assert "reopening scheduled" in message
    assert f'<a href="{SHIPKI.url}">' in message
    (call,) = await bot.process(inline_update(bot.application.bot, "news"))
    results = json.loads(call["results"]) if isinstance(call["results"], str) else call["results"]
    assert results[0]["title"] == "Latest news"
    assert MAGNET_GATEKEEPING.title in results[0]["input_message_content"]["message_text"]


async def test_the_terminal_chat_shows_the_news_with_its_links(
    settings: Settings, stories: Engine, tmp_path: Path
) -> None:
    async with TerminalSession(settings, stories, charts_dir=tmp_path) as session:
        (reply,) = await session.send("/news flights")
        assert f"{FLIGHTS.title} ({FLIGHTS.url}) (Siasat, 27 Oct 2025)" in reply.text
        (reply,) = await session.send("any news about rare earths")
        assert "Rare-earth magnets" in reply.text
        assert MAGNET_LICENCES.title in reply.text


@pytest.mark.slow
def test_the_terminal_chat_from_a_fresh_folder_answers_news_questions(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "chat"],
        cwd=tmp_path,
        input="/news\nlatest on shipki la\nquit\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    assert "No news has been published yet." in result.stdout
    assert "Shipki La (Kinnaur, Himachal Pradesh): reopening scheduled" in result.stdout
    assert "No news has been published yet about Shipki La." in result.stdout


async def test_help_and_the_command_menu_name_news(bot: BotUnderTest) -> None:
    assert "/news [topic]" in text_of(await bot.send("/help"))
    await bot.application.post_init(bot.application)
    menus = [c.params["commands"] for c in bot.request.calls if c.method == "setMyCommands"]
    readers = {command["command"]: command["description"] for command in menus[0]}
    assert readers["news"] == "Latest news: /news [trade|deals|passes|flights]"
