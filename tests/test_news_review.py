"""Editors and the news through the real application: review batches, Publish, Dismiss,
Update record (the article as the edit's source), and the feeds' commands."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from sqlmodel import Session, col, select

from bot.db import session_scope
from bot.models import BorderPass, Feed, NewsItem, Source, StatusChange
from bot.services import admins
from bot.telegram.app import build_application
from bot.telegram.handlers.editors.news import NewsHandlers
from bot.telegram.offline import OfflineRequest
from bot.telegram.plain import html_to_text
from bot.vocabulary import NewsState, PassStatus, RecordType, Role
from tests.conftest import FAKE_TOKEN, TODAY, BotUnderTest
from tests.factories import callback_update

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import Engine

    from bot.config import Settings

OWNER, EDITOR, QUIET_EDITOR, STRANGER = 1001, 1002, 1003, 1004


@pytest.fixture
def team(seeded_engine: Engine) -> None:
    with session_scope(seeded_engine) as session:
        admins.bootstrap_owners(session, [OWNER])
        for editor in (EDITOR, QUIET_EDITOR):
            admins.grant(session, by="test", by_user=OWNER, user_id=editor, role=Role.EDITOR)


def add_item(engine: Engine, title: str, **values: Any) -> int:
    defaults: dict[str, Any] = {
        "guid": title,
        "url": f"https://news.example/{abs(hash(title))}",
        "summary": "",
        "publisher": "The Example Times",
        "published_at": datetime(2026, 11, 30, 8, 0, tzinfo=UTC),
        "content_hash": "0" * 32,
        "topics": ["passes"],
        "records": ["pass:nathu-la"],
        "why": "Nathu La, trade, India, China",
        "state": NewsState.NEW,
    }
    with session_scope(engine) as session:
        item = NewsItem(title=title, **{**defaults, **values})
        session.add(item)
        session.flush()
        assert item.id is not None
        return item.id


def item_state(engine: Engine, item_id: int) -> NewsItem:
    with Session(engine) as session:
        item = session.get(NewsItem, item_id)
        assert item is not None
        return item


def markup(call: dict[str, Any]) -> dict[str, Any]:
    value = call.get("reply_markup")
    return json.loads(value) if isinstance(value, str) else value or {"inline_keyboard": []}


def buttons(call: dict[str, Any]) -> dict[str, str]:
    return {b["text"]: b["callback_data"] for row in markup(call)["inline_keyboard"] for b in row}


async def say(bot: BotUnderTest, user: int, text: str) -> dict[str, Any]:
    calls = await bot.send(text, user_id=user, chat_id=user)
    (reply,) = [c for c in calls if c["method"] == "sendMessage"]
    return {**reply, "plain": html_to_text(reply["text"])}


async def press(
    bot: BotUnderTest, user: int, data: str, on: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    update = callback_update(
        bot.application.bot,
        data,
        user_id=user,
        chat_id=user,
        reply_markup=markup(on) if on is not None else None,
    )
    return await bot.process(update)


def news_handlers(bot: BotUnderTest) -> NewsHandlers:
    found: NewsHandlers = next(
        handler.callback.__self__
        for handler in bot.application.handlers[0]
        if isinstance(getattr(handler.callback, "__self__", None), NewsHandlers)
    )
    return found


@pytest.mark.usefixtures("team")
async def test_new_items_reach_reviewers_in_one_batch_at_most_every_few_minutes(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    add_item(seeded_engine, 'Nathu La <b>trade</b> to resume & "soon"')
    add_item(
        seeded_engine,
        "Rare earth magnets: China clears licences",
        records=["deal:rare-earth-magnets"],
        topics=["deals"],
    )
    assert "no longer" in (await say(bot, QUIET_EDITOR, "/reviews off"))["plain"]
    seen = len(bot.request.calls)
    assert await news_handlers(bot).send_review_batch(bot.application.bot) == 2
    sent = [c for c in bot.request.calls[seen:] if c.method == "sendMessage"]
    assert sorted(c.params["chat_id"] for c in sent) == [OWNER, EDITOR]
    text = sent[0].params["text"]
    # The title is text, never markup: escaped as Telegram HTML needs.
    assert "Nathu La &lt;b&gt;trade&lt;/b&gt; to resume &amp; &#34;soon&#34;" in text
    plain = html_to_text(text)
    assert "The Example Times · 30 Nov 2026" in plain
    assert "Matches: Nathu La" in plain
    assert "Matches: Rare-earth magnets" in plain
    labels = buttons({"reply_markup": sent[0].params["reply_markup"]})
    assert {"✏️ Update #1", "📣 Publish #1", "🗑 Dismiss #1", "📣 Publish #2"} <= set(labels)
    # Within NEWS_REVIEW_SECONDS nothing more is offered, and each item is offered once.
    add_item(seeded_engine, "Shipki La traders prepare for the season", records=["pass:shipki-la"])
    assert await news_handlers(bot).send_review_batch(bot.application.bot) == 0


@pytest.mark.usefixtures("team")
async def test_publish_and_dismiss_are_recorded_and_shown_to_everyone_pressing_later(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    first = add_item(seeded_engine, "Nathu La trade to resume in May")
    second = add_item(seeded_engine, "Lipulekh pilgrims", records=["pass:lipulekh"])
    review = await say(bot, EDITOR, "/review")
    assert "News to review (2)" in review["plain"]

    calls = await press(bot, EDITOR, buttons(review)["📣 Publish #1"], on=review)
    edited = next(c for c in calls if c["method"] == "editMessageText")
    assert f"✅ Published by user {EDITOR}" in html_to_text(edited["text"])
    assert "📣 Publish #1" not in buttons(edited)
    assert "🗑 Dismiss #2" in buttons(edited)
    await press(bot, EDITOR, buttons(edited)["🗑 Dismiss #2"], on=edited)
    assert item_state(seeded_engine, first).state is NewsState.PUBLISHED
    assert item_state(seeded_engine, second).state is NewsState.DISMISSED
    assert item_state(seeded_engine, second).state_by == f"tg:{EDITOR}"

    # Another editor presses Publish on the old message: told, nothing published twice.
    calls = await press(bot, OWNER, buttons(review)["📣 Publish #1"], on=review)
    answer = next(c for c in calls if c["method"] == "answerCallbackQuery")
    assert answer["text"].startswith(f"Published by user {EDITOR}")
    with Session(seeded_engine) as session:
        audit = session.exec(
            select(StatusChange.new_value).where(StatusChange.record_type == RecordType.NEWS)
        ).all()
    assert sorted(value or "" for value in audit) == ["dismissed", "published"]


@pytest.mark.usefixtures("team")
async def test_readers_cannot_review_and_forged_items_are_expired(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    item = add_item(seeded_engine, "Nathu La trade to resume in May")
    calls = await press(bot, STRANGER, f"tw1|np|{item}")
    answer = next(c for c in calls if c["method"] == "answerCallbackQuery")
    assert answer.get("show_alert")
    assert answer["text"] == "Sorry, that is not allowed."
    assert item_state(seeded_engine, item).state is NewsState.NEW
    calls = await press(bot, EDITOR, "tw1|np|999999")
    assert any(c["method"] == "answerCallbackQuery" for c in calls)
    assert item_state(seeded_engine, item).state is NewsState.NEW
    assert "not allowed" in (await say(bot, STRANGER, "/review"))["plain"]


@pytest.mark.usefixtures("team")
async def test_update_record_takes_the_article_as_source_and_its_date_as_since(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    item = add_item(
        seeded_engine,
        "Nathu La border trade reopens for the season",
        url="https://news.example/nathu-open",
        publisher="Sikkim Express",
        published_at=datetime(2026, 11, 28, 6, 0, tzinfo=UTC),
    )
    review = await say(bot, EDITOR, "/review")
    calls = await press(bot, EDITOR, buttons(review)["✏️ Update #1"], on=review)
    fields = next(c for c in calls if c["method"] == "sendMessage")
    assert "It will be the source" in html_to_text(fields["text"])
    step = await press(bot, EDITOR, buttons(fields)["Status"])
    values = next(c for c in step if c["method"] == "sendMessage")
    step = await press(bot, EDITOR, buttons(values)["Open"])
    note = next(c for c in step if c["method"] == "sendMessage")
    step = await press(bot, EDITOR, buttons(note)["Skip"])
    source = next(c for c in step if c["method"] == "sendMessage")
    assert "The source is the article: Sikkim Express" in html_to_text(source["text"])
    step = await press(bot, EDITOR, buttons(source)["Keep"])
    preview = next(c for c in step if c["method"] == "sendMessage")
    assert "28 Nov 2026" in html_to_text(preview["text"])
    confirm = next(label for label in buttons(preview) if "Confirm" in label)
    await press(bot, EDITOR, buttons(preview)[confirm])

    with Session(seeded_engine) as session:
        record = session.exec(select(BorderPass).where(BorderPass.slug == "nathu-la")).one()
        cited = session.get(Source, record.source_id)
    assert (record.status, str(record.status_since)) == (PassStatus.OPEN, "2026-11-28")
    assert cited is not None
    assert (cited.url, cited.publisher, cited.title) == (
        "https://news.example/nathu-open",
        "Sikkim Express",
        "Nathu La border trade reopens for the season",
    )
    assert item_state(seeded_engine, item).state is NewsState.APPLIED


@pytest.mark.usefixtures("team")
async def test_an_item_about_several_passes_asks_which_record(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    add_item(
        seeded_engine, "Border trade via three passes", records=["pass:lipulekh", "pass:shipki-la"]
    )
    review = await say(bot, EDITOR, "/review")
    calls = await press(bot, EDITOR, buttons(review)["✏️ Update #1"], on=review)
    pick = next(c for c in calls if c["method"] == "sendMessage")
    assert set(buttons(pick)) == {"Lipulekh", "Shipki La"}
    calls = await press(bot, EDITOR, buttons(pick)["Shipki La"])
    assert "Shipki La" in html_to_text(
        next(c for c in calls if c["method"] == "sendMessage")["text"]
    )


@pytest.fixture
async def private_feeds_bot(make_settings: Callable[..., Settings], seeded_engine: Engine) -> Any:
    settings = make_settings(telegram_bot_token=FAKE_TOKEN, feed_allow_private_hosts=True)
    request = OfflineRequest()
    application = build_application(
        settings, engine=seeded_engine, request=request, clock=lambda: TODAY
    )
    async with application:
        yield BotUnderTest(application, request)


@pytest.mark.usefixtures("team")
async def test_owners_add_and_remove_feeds_and_editors_see_their_health(
    private_feeds_bot: BotUnderTest, seeded_engine: Engine
) -> None:
    bot = private_feeds_bot
    assert "No feeds yet" in (await say(bot, EDITOR, "/feeds"))["plain"]
    refused = await say(bot, EDITOR, "/addfeed http://127.0.0.1:9/x.xml")
    assert "not allowed" in refused["plain"]
    added = await say(bot, OWNER, "/addfeed http://127.0.0.1:9/x.xml Local mirror")
    assert "Added Local mirror" in added["plain"]
    assert (
        "already in the list"
        in (await say(bot, OWNER, "/addfeed http://127.0.0.1:9/x.xml"))["plain"]
    )
    refused = await say(bot, OWNER, "/addfeed ftp://example.org/feed")
    assert "can't be added" in refused["plain"]
    assert "http" in refused["plain"]
    with session_scope(seeded_engine) as session:
        feed = session.exec(select(Feed)).one()
        feed.consecutive_failures, feed.last_error = 2, "HTTP 500"
        feed.next_poll_at = TODAY + timedelta(hours=1)
    listing = (await say(bot, EDITOR, "/feeds"))["plain"]
    assert "Local mirror" in listing
    assert "Failing 2× in a row: HTTP 500" in listing
    assert "Removed Local mirror" in (await say(bot, OWNER, "/removefeed local mirror"))["plain"]
    assert "No feed matches" in (await say(bot, OWNER, "/removefeed local mirror"))["plain"]
    with Session(seeded_engine) as session:
        audit = session.exec(
            select(StatusChange.actor).where(col(StatusChange.record_type) == RecordType.FEED)
        ).all()
    assert audit == [f"tg:{OWNER}", f"tg:{OWNER}"]


@pytest.mark.usefixtures("team")
async def test_private_addresses_are_refused_unless_allowed(bot: BotUnderTest) -> None:
    for url in (
        "http://127.0.0.1/feed",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/f",
    ):
        refused = await say(bot, OWNER, f"/addfeed {url}")
        assert "can't be added" in refused["plain"], url
