"""End to end: an editor publishes an article the real bot process found in a local feed, and
the subscribers who follow its topic get it once, as an alert and in their digest (Bot API
emulator, local feed server, `python -m bot run`)."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import update
from sqlmodel import col

from bot import db
from bot.config import Settings
from bot.models import Subscriber
from bot.telegram.plain import html_to_text
from devtools.botapi import BotApiEmulator
from tests.bot_process import bot_environment, bot_running
from tests.factories import NEWS_ARTICLES
from tests.helpers_delivery import wait_until
from tests.test_e2e_news import Chat

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.feedserver import FeedServer

pytestmark = pytest.mark.slow  # a real bot process and its feed reader

EDITOR, PASSES_READER, FLIGHTS_READER = 4101, 4102, 4103
SHIPKI, FLIGHTS = NEWS_ARTICLES["passes"], NEWS_ARTICLES["flights"]
# Two real articles, summarised in our own words, as a publisher's feed would list them.
FEED = f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>India desk</title>
<link>https://desk.example/</link><description>Trade news</description>
<item><title>{SHIPKI["title"]}</title>
<description>Both governments agreed to reopen trade through Shipki La, Nathu La and
Lipulekh, shut since 2020.</description>
<link>{SHIPKI["url"]}</link><pubDate>Sun, 24 Aug 2025 12:55:00 GMT</pubDate></item>
<item><title>{FLIGHTS["title"]}</title>
<description>The first IndiGo flight from Kolkata landed in Guangzhou.</description>
<link>{FLIGHTS["url"]}</link><pubDate>Mon, 27 Oct 2025 06:00:00 GMT</pubDate></item>
</channel></rss>""".encode()


@pytest.fixture
def emulator() -> Iterator[BotApiEmulator]:
    with BotApiEmulator() as running:
        yield running


def test_a_published_article_reaches_its_topics_followers_once(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_url = feed_server.add_feed("/india.xml", FEED, etag='"i1"')
    database_url = f"sqlite:///{tmp_path / 'news.sqlite3'}"
    environment = bot_environment(
        tmp_path,
        emulator,
        database_url,
        unset=("FEED", "NEWS", "ALERT"),
        ADMIN_IDS=str(EDITOR),
        # The first poll comes 2 s after the start; none is in flight when the test stops it.
        FEED_POLL_SECONDS="60",
        FEED_ALLOW_PRIVATE_HOSTS="true",
        FEED_DEFAULTS="false",
        NEWS_REVIEW_SECONDS="10",
        ALERT_BATCH_SECONDS="0",
    )
    subprocess.run(
        [sys.executable, "-m", "bot", "feeds", "add", feed_url, "--name", "India desk"],
        cwd=tmp_path, env=environment, capture_output=True, text=True, check=True,
    )  # fmt: skip
    editor, passes, flights = (
        Chat(emulator, user) for user in (EDITOR, PASSES_READER, FLIGHTS_READER)
    )
    with bot_running(tmp_path, environment):
        passes.say("/subscribe")
        flights.say("/subscribe")
        engine = db.make_engine(Settings(_env_file=None, database_url=database_url))
        with engine.begin() as connection:  # quiet hours off: CI runs at any hour
            for chat, topic in ((PASSES_READER, "passes"), (FLIGHTS_READER, "flights")):
                connection.execute(
                    update(Subscriber)
                    .where(col(Subscriber.chat_id) == chat)
                    .values(topics=[topic], quiet_hours=False)
                )
        engine.dispose()

        wait_until(
            lambda: any("News to review" in (m.text or "") for m in emulator.messages(EDITOR)),
            60,
            "the review message",
        )
        review = next(m for m in emulator.messages(EDITOR) if "News to review" in (m.text or ""))
        listed = html_to_text(review.text or "")
        number = next(
            line.split(".", 1)[0]
            for line in listed.splitlines()
            if line.split(".", 1)[-1].strip().startswith(SHIPKI["title"])
        )
        editor.press(review, f"📣 Publish #{number}")

        def news_alerts(chat: int) -> list[str]:
            return [
                html_to_text(m.text or "")
                for m in emulator.messages(chat)
                if "Trade Watch alert" in (m.text or "")
            ]

        wait_until(lambda: news_alerts(PASSES_READER), 60, "the news alert")
        alerted = time.monotonic()
        [alert] = news_alerts(PASSES_READER)
        assert "📰 In the news" in alert
        assert f"{SHIPKI['title']} ({SHIPKI['url']}) (India desk, 24 Aug 2025)" in alert

        # The digest asked for now has it "In the news" too.
        before = passes.count()
        emulator.push_message(PASSES_READER, "/digest")
        wait_until(
            lambda: any(
                "In the news" in (m.text or "") for m in emulator.messages(PASSES_READER)[before:]
            ),
            30,
            "the digest's news",
        )
        digest = html_to_text(
            "\n".join(m.text or "" for m in emulator.messages(PASSES_READER)[before:])
        )
        assert SHIPKI["title"] in digest

        # Another alert check (every 10 s) has run since: still one alert, and none for the
        # followers of flights, whose article nobody published.
        time.sleep(max(0.0, alerted + 11 - time.monotonic()))
        assert len(news_alerts(PASSES_READER)) == 1
        assert news_alerts(FLIGHTS_READER) == []
