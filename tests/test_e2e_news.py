"""End to end: the real bot process polls a local feed, an editor reviews what it found, readers
and subscribers see the result (Bot API emulator, local feed server, `python -m bot run`)."""

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
from tests.feedserver import FeedServer

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from devtools.botapi import SentMessage

pytestmark = pytest.mark.slow  # a real bot process and its feed reader

EDITOR, READER, OTHER_READER = 4001, 4002, 4003
FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Himalayan Business Desk</title>
<link>https://desk.example/</link><description>Trade news</description>
<item><title>Nathu La border trade reopens as Sikkim traders cross to Renqinggang</title>
<description>Traders from Sherathang resumed trade with China through Nathu La.</description>
<link>https://desk.example/nathu-la-reopens?utm_source=rss</link>
<pubDate>Fri, 04 Dec 2026 06:00:00 GMT</pubDate></item>
<item><title>China resumes rare earth magnet shipments to India</title>
<description>Indian firms received licences with end-user certificates.</description>
<link>https://desk.example/rare-earths</link>
<pubDate>Thu, 03 Dec 2026 06:00:00 GMT</pubDate></item>
<item><title>Kailash Mansarovar Yatra pilgrims cross Lipulekh in the first batch</title>
<description>The pilgrims were received at Taklakot.</description>
<link>https://desk.example/yatra</link>
<pubDate>Wed, 02 Dec 2026 06:00:00 GMT</pubDate></item>
<item><title>India-US trade deal talks resume in Washington</title>
<description>Negotiators met on tariffs.</description>
<link>https://desk.example/us-deal</link>
<pubDate>Tue, 01 Dec 2026 06:00:00 GMT</pubDate></item>
</channel></rss>"""


def _wait(check: Callable[[], object], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def buttons(message: SentMessage) -> dict[str, str]:
    markup = message.reply_markup or {}
    return {b["text"]: b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row}


class Chat:
    """One user talking to the bot through the emulator."""

    def __init__(self, emulator: BotApiEmulator, user: int) -> None:
        self.emulator, self.user = emulator, user

    def count(self) -> int:
        return len(self.emulator.messages(self.user))

    def next_after(self, before: int) -> SentMessage:
        return self.emulator.wait_for_messages(self.user, before + 1, timeout=30)[before]

    def say(self, text: str) -> SentMessage:
        before = self.count()
        self.emulator.push_message(self.user, text)
        return self.next_after(before)

    def press(self, message: SentMessage, label: str) -> SentMessage:
        """Press a button; the bot's next message in this chat (sent or edited)."""
        before = self.count()
        self.emulator.push_callback_query(self.user, message.message_id, buttons(message)[label])
        return self.next_after(before)


@pytest.fixture
def emulator() -> Iterator[BotApiEmulator]:
    with BotApiEmulator() as running:
        yield running


def test_a_feed_item_reaches_an_editor_who_updates_the_record_for_readers_and_subscribers(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_url = feed_server.add_feed("/desk.xml", FEED, etag='"d1"')
    database_url = f"sqlite:///{tmp_path / 'news.sqlite3'}"
    environment = bot_environment(
        tmp_path,
        emulator,
        database_url,
        unset=("FEED", "NEWS"),
        ADMIN_IDS=str(EDITOR),
        FEED_POLL_SECONDS="2",
        FEED_ALLOW_PRIVATE_HOSTS="true",
        FEED_DEFAULTS="false",
        NEWS_REVIEW_SECONDS="10",
        ALERT_BATCH_SECONDS="0",
    )
    added = subprocess.run(
        [sys.executable, "-m", "bot", "feeds", "add", feed_url, "--name", "Desk"],
        cwd=tmp_path, env=environment, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "added feed" in added.stdout
    editor, reader, other = (Chat(emulator, user) for user in (EDITOR, READER, OTHER_READER))
    with bot_running(tmp_path, environment):
        # Subscribers: one follows everything (passes included), one only the trade figures;
        # quiet hours off so the alert is not held whatever the hour where CI runs.
        reader.say("/subscribe")
        other.say("/subscribe")
        engine = db.make_engine(Settings(_env_file=None, database_url=database_url))
        with engine.begin() as connection:
            connection.execute(update(Subscriber).values(quiet_hours=False))
            connection.execute(
                update(Subscriber)
                .where(col(Subscriber.chat_id) == OTHER_READER)
                .values(topics=["trade"])
            )
        engine.dispose()

        # The poll finds two relevant items of four; one review message reaches the editor.
        _wait(
            lambda: any("News to review" in (m.text or "") for m in emulator.messages(EDITOR)),
            60,
            "the review",
        )
        review = next(m for m in emulator.messages(EDITOR) if "News to review" in (m.text or ""))
        text = html_to_text(review.text or "")
        assert "News to review (2)" in text
        assert "Nathu La border trade reopens" in text
        assert "Himalayan Business Desk" in text
        assert "Yatra" not in text
        assert "India-US" not in text

        # Update record: Nathu La (second: items come oldest first), status Open, the article
        # as the source.
        assert "2. Nathu La border trade reopens" in text
        fields = editor.press(review, "✏️ Update #2")
        assert "Nathu La" in (fields.text or "")
        values = editor.press(fields, "Status")
        note = editor.press(values, "Open")
        source = editor.press(note, "Skip")
        assert "The source is the article" in html_to_text(source.text or "")
        preview = editor.press(source, "Keep")
        confirm = next(label for label in buttons(preview) if "Confirm" in label)
        saved = editor.press(preview, confirm)
        assert "Saved" in (saved.text or "")

        # Readers see the new status at once, with the article as its source.
        card = html_to_text(reader.say("/pass nathu la").text or "")
        assert "open" in card.lower()
        assert "Himalayan Business Desk" in card or "desk.example" in card

        # The subscriber following passes gets the alert once; the other gets none.
        _wait(
            lambda: any("Nathu La" in (m.text or "") for m in emulator.messages(READER)[1:]),
            60,
            "the alert",
        )
        time.sleep(3)  # a second copy would have come by now
        alerts = [m for m in emulator.messages(READER)[1:] if "Nathu La" in (m.text or "")]
        assert len(alerts) == 1
        assert not any("Nathu La" in (m.text or "") for m in emulator.messages(OTHER_READER)[1:])

        # Readers asking for the news get the card with the article below it (it updated the
        # record, so readers may see it).
        news = html_to_text(reader.say("latest on nathu la").text or "")
        assert news.index("open") < news.index("In the news: Nathu La")
        assert "Nathu La border trade reopens" in news
