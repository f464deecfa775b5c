"""News reaching readers: an editor's publication as an alert through the delivery ledger, "In
the news" in digests by each subscriber's choice, and that choice in /settings.

Alerts are sent by the real broadcaster over HTTP to the Bot API emulator; digests and settings
go through the real application. Items are stored as the feed poller stores them and reviewed
with the service the editors' buttons call.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from sqlmodel import col, select

from bot import db
from bot.models import StatusChange, Subscriber
from bot.services import delivery, editing, subscriptions
from bot.services.answers import load_catalog
from bot.services.export import build_dataset
from bot.services.news import items
from bot.services.news.listing import web_link
from bot.services.subscriptions import Setting, SettingError
from bot.telegram import callbacks
from bot.telegram.html_entities import parse_html
from bot.telegram.plain import html_to_text
from bot.vocabulary import Actor, DeliveryKind, DeliveryState, NewsScope, NewsState, RecordType
from devtools.botapi import BotApiEmulator
from tests.conftest import FAKE_TOKEN, TODAY
from tests.factories import NEWS_ARTICLES, article_item
from tests.test_delivery import (
    Sender,
    add_subscribers,
    deliveries,
    record_change,
    subscriber,
    texts,
)
from tests.test_subscriptions import buttons, open_settings, tap

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from sqlalchemy import Engine

    from bot.config import Settings
    from tests.conftest import BotUnderTest

NOON = datetime(2026, 11, 23, 6, 30, tzinfo=UTC)  # 12:00 in Kolkata
MIDNIGHT = datetime(2026, 11, 23, 18, 30, tzinfo=UTC)  # 00:00 in Kolkata
SEVEN = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)  # 07:00 in Kolkata, when quiet hours end
EDITOR = Actor.telegram(4242)
ASHA = 555


@pytest.fixture
def emulator() -> Iterator[BotApiEmulator]:
    with BotApiEmulator() as running:
        yield running


@pytest.fixture
def make_sender(
    make_settings: Callable[..., Settings], seeded_engine: Engine, emulator: BotApiEmulator
) -> Callable[..., Sender]:
    """A broadcaster sending to the emulator, with a clock the test moves (`Sender.now`)."""

    def factory(**overrides: Any) -> Sender:
        settings = make_settings(
            telegram_bot_token=FAKE_TOKEN,
            telegram_api_base_url=emulator.base_url,
            broadcast_rate=0,
            **overrides,
        )
        return Sender(settings, seeded_engine)

    return factory


def line(article: str) -> str:
    """How a reader sees an article's line in an alert or a digest (links as "(url)")."""
    found = NEWS_ARTICLES[article]
    return (
        f"• {found['title']} ({found['url']}) ({found['publisher']}, "
        f"{found['published_at']:%-d %b %Y})"
    )


def store(engine: Engine, article: str = "passes", **overrides: Any) -> int:
    overrides.setdefault("fetched_at", NOON - timedelta(hours=2))
    with db.session_scope(engine) as session:
        return article_item(session, article, **overrides)


def review(engine: Engine, item_id: int, state: NewsState, *, at: datetime) -> None:
    with db.session_scope(engine) as session:
        items.review(session, item_id, state, actor=EDITOR, now=at)


async def started(make_sender: Callable[..., Sender], at: datetime) -> Sender:
    """A sender whose first run has set the alert cursor after everything recorded so far."""
    sender = make_sender(alert_batch_seconds=0)
    sender.now = at
    await sender.run()
    return sender


# --- Alerts -----------------------------------------------------------------------------------


async def test_a_published_item_reaches_followers_of_its_topic_once(
    make_sender: Callable[..., Sender], emulator: BotApiEmulator, seeded_engine: Engine
) -> None:
    passes = add_subscribers(seeded_engine, 2, first_chat=100, topics=["passes"], due=None)
    [flights] = add_subscribers(seeded_engine, 1, first_chat=200, topics=["flights"], due=None)
    [muted] = add_subscribers(
        seeded_engine, 1, first_chat=300, topics=["passes"], alerts_enabled=False, due=None
    )
    sender = await started(make_sender, NOON)
    shipki = store(seeded_engine)
    store(seeded_engine, "flights")  # found, never published: no alert
    review(seeded_engine, shipki, NewsState.PUBLISHED, at=NOON)

    sender.now = NOON + timedelta(seconds=10)
    report = await sender.run()
    assert (report.alerts, report.delivered) == (2, 2)
    for chat in passes:
        assert texts(emulator, chat) == [
            f"🔔 Trade Watch alert\n\n📰 In the news\n{line('passes')}"
        ]
    assert texts(emulator, flights) == []
    assert texts(emulator, muted) == []

    # Later runs send nothing more: the publication was alerted once.
    sender.now += timedelta(minutes=5)
    assert (await sender.run()).sent == 0
    assert [len(texts(emulator, chat)) for chat in passes] == [1, 1]
    assert {(row.kind, row.state) for row in deliveries(seeded_engine)} == {
        (DeliveryKind.ALERT, DeliveryState.SENT)
    }


async def test_dismissed_and_applied_items_and_feed_changes_alert_nobody(
    make_sender: Callable[..., Sender], emulator: BotApiEmulator, seeded_engine: Engine
) -> None:
    chats = add_subscribers(seeded_engine, 2, first_chat=100, due=None)  # every topic
    sender = await started(make_sender, NOON)
    review(seeded_engine, store(seeded_engine, "passes"), NewsState.DISMISSED, at=NOON)
    # An editor updated the rare-earth record from this one: readers see it, nobody is alerted.
    review(seeded_engine, store(seeded_engine, "deals"), NewsState.APPLIED, at=NOON)
    with db.session_scope(seeded_engine) as session:
        session.add(
            StatusChange(
                record_type=RecordType.FEED,
                record_key="1",
                field="url",
                new_value="https://example.org/feed.xml",
                note="Example feed",
                actor=EDITOR,
                at=NOON,
            )
        )

    sender.now = NOON + timedelta(seconds=10)
    report = await sender.run()
    assert (report.alerts, report.sent) == (0, 0)
    assert deliveries(seeded_engine) == []
    assert all(texts(emulator, chat) == [] for chat in chats)


async def test_an_editors_change_and_a_publication_together_are_one_alert(
    make_sender: Callable[..., Sender], emulator: BotApiEmulator, seeded_engine: Engine
) -> None:
    [follower] = add_subscribers(seeded_engine, 1, first_chat=100, topics=["passes"], due=None)
    sender = await started(make_sender, NOON)
    record_change(seeded_engine, at=NOON)  # Nathu La: reopening scheduled
    review(seeded_engine, store(seeded_engine), NewsState.PUBLISHED, at=NOON)

    sender.now = NOON + timedelta(seconds=10)
    assert (await sender.run()).alerts == 1
    assert texts(emulator, follower) == [
        "🔔 Trade Watch alert\n\n"
        "Nathu La (border pass)\n"
        "• status reopening agreed → reopening scheduled. Dates announced.\n\n"
        f"📰 In the news\n{line('passes')}"
    ]


async def test_quiet_hours_hold_a_news_alert_until_seven(
    make_sender: Callable[..., Sender], emulator: BotApiEmulator, seeded_engine: Engine
) -> None:
    [sleeper] = add_subscribers(seeded_engine, 1, first_chat=100, topics=["passes"], due=None)
    [owl] = add_subscribers(
        seeded_engine, 1, first_chat=200, topics=["passes"], quiet_hours=False, due=None
    )
    sender = await started(make_sender, MIDNIGHT)
    shipki = store(seeded_engine, fetched_at=MIDNIGHT - timedelta(hours=1))
    review(seeded_engine, shipki, NewsState.PUBLISHED, at=MIDNIGHT)

    sender.now = MIDNIGHT + timedelta(seconds=10)
    assert (await sender.run()).alerts == 2
    assert texts(emulator, sleeper) == []
    assert len(texts(emulator, owl)) == 1
    held = next(row for row in deliveries(seeded_engine) if row.state is DeliveryState.PENDING)
    assert held.next_attempt_at == SEVEN

    # At 03:00 an editor updates the Shipki La record from the same article: the held alert
    # still carries it (it was published), and the update alone alerts nobody more.
    review(seeded_engine, shipki, NewsState.APPLIED, at=MIDNIGHT + timedelta(hours=3))
    sender.now = SEVEN - timedelta(minutes=1)
    assert (await sender.run()).sent == 0
    sender.now = SEVEN
    assert (await sender.run()).delivered == 1
    assert texts(emulator, sleeper) == [f"🔔 Trade Watch alert\n\n📰 In the news\n{line('passes')}"]
    sender.now += timedelta(hours=1)
    assert (await sender.run()).sent == 0
    assert (len(texts(emulator, sleeper)), len(texts(emulator, owl))) == (1, 1)


async def test_a_429_holds_a_news_alert_and_it_is_sent_once(
    make_sender: Callable[..., Sender], emulator: BotApiEmulator, seeded_engine: Engine
) -> None:
    [follower] = add_subscribers(seeded_engine, 1, first_chat=100, topics=["passes"], due=None)
    sender = await started(make_sender, NOON)
    review(seeded_engine, store(seeded_engine), NewsState.PUBLISHED, at=NOON)
    emulator.fail_next("sendMessage", 429, retry_after=1)

    sender.now = NOON + timedelta(seconds=10)
    first = await sender.run()
    assert (first.rate_limited, first.released, first.sent) == (1, 1, 0)
    sender.now += timedelta(seconds=2)
    assert (await sender.run()).delivered == 1
    sender.now += timedelta(minutes=1)
    await sender.run()
    assert texts(emulator, follower) == [
        f"🔔 Trade Watch alert\n\n📰 In the news\n{line('passes')}"
    ]
    [row] = deliveries(seeded_engine)
    assert (row.state, row.attempts) == (DeliveryState.SENT, 1)


async def test_a_news_alert_to_a_chat_that_blocked_the_bot_stops_the_subscription(
    make_sender: Callable[..., Sender], emulator: BotApiEmulator, seeded_engine: Engine
) -> None:
    gone, stays = add_subscribers(seeded_engine, 2, first_chat=100, topics=["passes"], due=None)
    emulator.block_chat(gone)
    sender = await started(make_sender, NOON)
    review(seeded_engine, store(seeded_engine), NewsState.PUBLISHED, at=NOON)

    sender.now = NOON + timedelta(seconds=10)
    report = await sender.run()
    assert (report.blocked, report.delivered) == (1, 1)
    assert not subscriber(seeded_engine, gone).active
    assert texts(emulator, gone) == []
    assert len(texts(emulator, stays)) == 1
    # The next publication goes to the chat still subscribed only.
    review(seeded_engine, store(seeded_engine, "nathu-la-traders"), NewsState.PUBLISHED, at=NOON)
    sender.now += timedelta(minutes=1)
    assert (await sender.run()).alerts == 1
    assert len(texts(emulator, stays)) == 2


async def test_a_news_title_is_plain_text_and_only_web_links_are_kept(
    make_sender: Callable[..., Sender], emulator: BotApiEmulator, seeded_engine: Engine
) -> None:
    [follower] = add_subscribers(seeded_engine, 1, first_chat=100, topics=["passes"], due=None)
    sender = await started(make_sender, NOON)
    tricky = store(
        seeded_engine,
        title='<b>x</b> & "y"',
        publisher="<i>Wire</i> & Co",
        url="javascript:alert(document.cookie)",
    )
    review(seeded_engine, tricky, NewsState.PUBLISHED, at=NOON)

    sender.now = NOON + timedelta(seconds=10)
    assert (await sender.run()).delivered == 1
    [message] = emulator.messages(follower)
    html = message.text or ""
    assert "&lt;b&gt;x&lt;/b&gt; &amp; &#34;y&#34;" in html
    assert "javascript" not in html
    assert "<a " not in html
    plain, _ = parse_html(html)  # as Telegram reads it
    assert plain.endswith('• <b>x</b> & "y" (<i>Wire</i> & Co, 24 Aug 2025)')


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://www.tribuneindia.com/news/a/", True),
        ("http://example.org/feed?id=1", True),
        ("HTTPS://EXAMPLE.ORG/A", True),
        ("javascript:alert(1)", False),
        (" javascript:alert(1)", False),
        ("JaVaScRiPt:alert(1)", False),
        ("data:text/html,<b>x</b>", False),
        ("tg://resolve?domain=x", False),
        ("https:///no-host", False),
        ("https://example.org/a b", False),
        ("", False),
        ("https://[::1/", False),
        ("https://example.org/a\nb", False),
    ],
)
def test_only_http_links_are_linked(url: str, kept: bool) -> None:
    assert (web_link(url) is not None) is kept


# --- Digests ----------------------------------------------------------------------------------


def digest_text(calls: list[dict[str, Any]]) -> str:
    return "\n\n".join(
        html_to_text(call["text"]) for call in calls if call["method"] == "sendMessage"
    )


def news_section(text: str) -> str:
    """The digest's "In the news" section ("" when it has none)."""
    if "In the news" not in text:
        return ""
    start = text.index("In the news")
    end = text.find("\n\n", start)
    return text[start:] if end == -1 else text[start:end]


async def test_the_digest_shows_the_news_the_subscriber_chose(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    await bot.send("/subscribe")
    last_digest = TODAY - timedelta(days=7)
    with db.session_scope(seeded_engine) as session:
        found = subscriptions.find(session, chat_id=ASHA)
        assert found is not None
        found.last_digest_at = last_digest
        session.add(found)
        fresh = last_digest + timedelta(days=1)
        published = article_item(session, "passes", fetched_at=fresh)
        article_item(session, "flights", fetched_at=fresh)  # not reviewed yet
        dismissed = article_item(session, "deals", fetched_at=fresh)
        told_before = article_item(
            session, "nathu-la-traders", fetched_at=last_digest - timedelta(1)
        )
        items.review(session, published, NewsState.PUBLISHED, actor=EDITOR, now=fresh)
        items.review(session, dismissed, NewsState.DISMISSED, actor=EDITOR, now=fresh)
        items.review(
            session, told_before, NewsState.PUBLISHED, actor=EDITOR, now=last_digest - timedelta(1)
        )

    # By default: what editors published since the last digest.
    assert news_section(digest_text(await bot.send("/digest"))) == (
        f"In the news\n{line('passes')}"
    )

    shown = await open_settings(bot)
    assert "News in digests: published by editors" in shown["plain"]
    shown = await tap(bot, shown, "📰 News: published by editors")
    assert "News in digests: every matched item, reviewed by editors or not" in shown["plain"]
    assert "📰 News: every matched item" in buttons(shown)
    assert subscriptions_row(seeded_engine).news_scope is NewsScope.MATCHED

    # Every matched item found since then, newest first, but never a dismissed one.
    assert news_section(digest_text(await bot.send("/digest"))) == (
        "In the news (every item found, reviewed by editors or not)\n"
        f"{line('flights')}\n{line('passes')}"
    )

    # Only the topics followed.
    await tap(bot, await open_settings(bot), "✅ Flights")
    assert news_section(digest_text(await bot.send("/digest"))) == (
        f"In the news (every item found, reviewed by editors or not)\n{line('passes')}"
    )


def subscriptions_row(engine: Engine, chat_id: int = ASHA) -> Subscriber:
    with db.session_scope(engine) as session:
        return session.exec(select(Subscriber).where(Subscriber.chat_id == chat_id)).one()


async def test_in_the_news_lists_five_items_and_points_at_news_for_the_rest(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    await bot.send("/subscribe")
    newest_first = [
        "deals",
        "flights",
        "flights-federal",
        "nathu-la-sikkim-cm",
        "passes",
        "shipki-la-himachal",
        "nathu-la-traders",
    ]
    with db.session_scope(seeded_engine) as session:
        for article in reversed(newest_first):  # the same day: the later found comes first
            item = article_item(session, article, fetched_at=TODAY - timedelta(days=1))
            items.review(session, item, NewsState.PUBLISHED, actor=EDITOR, now=TODAY)
    text = digest_text(await bot.send("/digest"))
    assert news_section(text) == "\n".join(
        ["In the news", *(line(article) for article in newest_first[:5]), "…and 2 more: /news"]
    )


async def test_a_digest_of_long_news_items_keeps_to_telegrams_limit(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    await bot.send("/subscribe")
    with db.session_scope(seeded_engine) as session:
        for n, article in enumerate(NEWS_ARTICLES):
            url = f"{NEWS_ARTICLES[article]['url']}?{'x' * 1900}{n}"
            item = article_item(session, article, url=url, fetched_at=TODAY - timedelta(days=1))
            items.review(session, item, NewsState.PUBLISHED, actor=EDITOR, now=TODAY)
    calls = await bot.send("/digest")
    sent = [call["text"] for call in calls if call["method"] == "sendMessage"]
    assert len(sent) >= 2
    for part in sent:
        assert len(part) <= 4096
        parse_html(part)
    text = digest_text(calls)
    assert sum(NEWS_ARTICLES[article]["title"] in text for article in NEWS_ARTICLES) == 5
    assert "…and 2 more: /news" in text


async def test_the_digest_escapes_news_titles_and_drops_unsafe_links(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    await bot.send("/subscribe")
    with db.session_scope(seeded_engine) as session:
        tricky = article_item(
            session,
            title='<b>x</b> & "y"',
            url="javascript:alert(1)",
            fetched_at=TODAY - timedelta(days=1),
        )
        items.review(session, tricky, NewsState.PUBLISHED, actor=EDITOR, now=TODAY)
    calls = await bot.send("/digest")
    html = "\n\n".join(call["text"] for call in calls if call["method"] == "sendMessage")
    assert "• &lt;b&gt;x&lt;/b&gt; &amp; &#34;y&#34; <i>(The Tribune, 24 Aug 2025)</i>" in html
    assert "javascript" not in html
    assert news_section(digest_text(calls)) == (
        'In the news\n• <b>x</b> & "y" (The Tribune, 24 Aug 2025)'
    )


async def test_digests_with_different_news_choices_are_rendered_apart(
    make_sender: Callable[..., Sender], emulator: BotApiEmulator, seeded_engine: Engine
) -> None:
    # Same topics and "since": only the news scope tells their digests apart.
    [editors_only] = add_subscribers(seeded_engine, 1, first_chat=100)
    [everything] = add_subscribers(seeded_engine, 1, first_chat=200, news_scope=NewsScope.MATCHED)
    store(seeded_engine, "flights", fetched_at=NOON - timedelta(days=2))  # not reviewed
    sender = make_sender()
    assert (await sender.run()).delivered == 2
    assert "In the news" not in "\n".join(texts(emulator, editors_only))
    assert line("flights") in "\n".join(texts(emulator, everything))


def test_the_digest_content_key_names_the_news_scope(seeded_engine: Engine) -> None:
    add_subscribers(seeded_engine, 1, first_chat=100)
    add_subscribers(seeded_engine, 1, first_chat=200, news_scope=NewsScope.MATCHED)
    now = datetime(2026, 11, 23, 3, 30, tzinfo=UTC)
    delivery.schedule_due_digests(seeded_engine, now=now)
    first, second = delivery.claim(seeded_engine, now=now, limit=10, lease_seconds=60)
    assert first.content_key != second.content_key
    assert {first.news_scope, second.news_scope} == {NewsScope.PUBLISHED, NewsScope.MATCHED}


# --- The setting ------------------------------------------------------------------------------


def test_the_news_setting_accepts_its_two_values_only(seeded_engine: Engine) -> None:
    with db.session_scope(seeded_engine) as session:
        subscriptions.subscribe(
            session,
            chat_id=ASHA,
            chat_type="private",
            title=None,
            now=TODAY,
            default_timezone="Asia/Kolkata",
        )
        changed = subscriptions.change_setting(
            session, chat_id=ASHA, setting=Setting.NEWS, value="Matched", now=TODAY
        )
        assert changed.news_scope is NewsScope.MATCHED
        with pytest.raises(SettingError) as refused:
            subscriptions.change_setting(
                session, chat_id=ASHA, setting=Setting.NEWS, value="all", now=TODAY
            )
        assert refused.value.reason == "bad_value"
    assert callbacks.decode(f"tw1|opt|{ASHA}|news|matched") is not None
    assert callbacks.decode(f"tw1|opt|{ASHA}|news|everything") is None


def test_a_group_that_becomes_a_supergroup_keeps_its_news_choice(seeded_engine: Engine) -> None:
    group, supergroup = -4518810793, -1002471352452
    with db.session_scope(seeded_engine) as session:
        for chat in (group, supergroup):
            subscriptions.subscribe(
                session,
                chat_id=chat,
                chat_type="group" if chat == group else "supergroup",
                title="Trade desk",
                now=TODAY,
                default_timezone="Asia/Kolkata",
            )
        subscriptions.change_setting(
            session, chat_id=group, setting=Setting.NEWS, value="matched", now=TODAY
        )
        subscriptions.migrate_chat(session, old_chat_id=group, new_chat_id=supergroup)
    assert subscriptions_row(seeded_engine, supergroup).news_scope is NewsScope.MATCHED


# --- News reviews are audited, not a record's history ----------------------------------------


async def test_news_reviews_stay_in_the_audit_log_only(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    edited_at = TODAY - timedelta(hours=1)
    with db.session_scope(seeded_engine) as session:
        edit = editing.parse_set(session, load_catalog(session), "pass nathu-la open")
        editing.apply(session, edit, actor=EDITOR, now=edited_at)
        shipki = article_item(session, "passes", fetched_at=edited_at)
        items.review(session, shipki, NewsState.PUBLISHED, actor=EDITOR, now=TODAY)
        session.add(
            StatusChange(
                record_type=RecordType.FEED,
                record_key="1",
                field="url",
                new_value="https://example.org/feed.xml",
                note="Example feed",
                actor=EDITOR,
                at=TODAY,
            )
        )

    # The ticker lists the record's change only.
    [ticker] = await bot.replies("/changes 24h")
    assert "pass nathu-la, status reopening agreed → open" in ticker
    assert "published" not in ticker
    assert "example.org" not in ticker
    # Exports carry records' history only, and read back as a valid dataset.
    with db.session_scope(seeded_engine) as session:
        dataset = build_dataset(session)
        kinds = {row.record_type for row in dataset.history}
        assert RecordType.NEWS not in kinds
        assert RecordType.FEED not in kinds
        type(dataset).model_validate(dataset.model_dump(mode="json"))
        # The audit log keeps them.
        audited = session.exec(
            select(StatusChange.record_type, StatusChange.new_value).where(
                col(StatusChange.record_type).in_([RecordType.NEWS, RecordType.FEED])
            )
        ).all()
    assert sorted(audited) == [
        (RecordType.FEED, "https://example.org/feed.xml"),
        (RecordType.NEWS, "published"),
    ]
    # Undo reverts the editor's edit, not the publication made after it.
    with db.session_scope(seeded_engine) as session:
        undone = editing.undo(session, actor=EDITOR, now=TODAY)
        assert (undone.record_type, undone.key) == (RecordType.PASS, "nathu-la")
        assert items.get(session, shipki).state is NewsState.PUBLISHED
