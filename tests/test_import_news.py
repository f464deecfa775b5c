"""Feeds and news items in export and import: a backup restores them, a merge keeps what the
bot learnt by polling and reviewing, a broken row changes nothing, and nothing is alerted."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from bot import db
from bot.models import Feed, NewsItem, StatusChange
from bot.services import admins, delivery, subscriptions
from bot.services.dataset import DatasetError, parse_dataset
from bot.services.feeds import registry
from bot.services.importing import describe_plan
from bot.services.news import items
from bot.telegram.plain import html_to_text
from bot.vocabulary import NewsState, RecordType
from tests.factories import callback_update, message_update
from tests.test_import import (
    apply_file,
    empty_engine,
    export_csv,
    exported,
    plan_problems,
    problems_of,
    row_counts,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from sqlalchemy import Engine

    from bot.config import Settings
    from tests.conftest import BotUnderTest

POLLED = "https://feeds.example/trade.xml"
GONE = "https://gone.example/rss"
FOUND = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
REVIEWED = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
NEWS_HEADER = (
    "url,guid,title,summary,publisher,published_at,feed,topics,records,why,state,state_by,"
    "state_at,fetched_at"
)
EDITOR = 1002  # an owner, who may import as editors do


def add_item(session: Session, url: str, title: str, feed: Feed | None, **values: Any) -> NewsItem:
    defaults: dict[str, Any] = {
        "guid": url,
        "summary": f"{title}, in brief.",
        "publisher": "The Example Times",
        "published_at": FOUND - timedelta(hours=2),
        "fetched_at": FOUND,
        "content_hash": "0" * 32,
        "topics": ["passes"],
        "records": ["pass:nathu-la"],
        "why": "Nathu La, trade",
        "state": NewsState.NEW,
    }
    item = NewsItem(
        url=url, title=title, feed_id=feed.id if feed else None, **{**defaults, **values}
    )
    session.add(item)
    session.flush()
    return item


@pytest.fixture
def watched(seeded_engine: Engine) -> Engine:
    """The seeded database with two feeds (one polled, one disabled) and four news items in
    every state, one of them from a feed since removed; reviews and feeds are in the audit log."""
    with db.session_scope(seeded_engine) as session:
        polled = registry.add(session, url=POLLED, name="Trade wire", actor="cli", now=FOUND)
        polled.etag, polled.last_modified = '"v7"', "Fri, 20 Nov 2026 08:00:00 GMT"
        polled.last_polled_at = polled.last_success_at = FOUND
        polled.next_poll_at = FOUND + timedelta(minutes=15)
        polled.seen = ["a1b2c3d4e5f60718"]
        gone = registry.add(session, url=GONE, name="Old wire", actor="tg:7", now=FOUND)
        gone.disabled_reason, gone.next_poll_at = "410 Gone", None
        gone.consecutive_failures, gone.last_error = 1, "HTTP 410"
        add_item(session, "https://news.example/shipki", "Shipki La trade to resume", polled)
        published = add_item(
            session,
            "https://news.example/nathu",
            "Nathu La reopens for traders",
            polled,
            topics=["passes", "trade"],
            records=["pass:nathu-la", "series:india_fy"],
        )
        assert published.id is not None
        items.review(session, published.id, NewsState.PUBLISHED, actor="tg:42", now=REVIEWED)
        add_item(
            session,
            "https://news.example/urea",
            "Urea shipments from China",
            gone,
            topics=["deals"],
            records=["deal:urea"],
            state=NewsState.DISMISSED,
            state_by="tg:43",
            state_at=REVIEWED,
        )
        add_item(
            session,
            "https://news.example/flights",
            "",  # feeds may give an entry with a summary and no title
            None,
            topics=["flights"],
            records=[],
            state=NewsState.APPLIED,
            state_by="tg:42",
            state_at=REVIEWED,
        )
    return seeded_engine


def news_by_url(engine: Engine) -> dict[str, NewsItem]:
    with Session(engine) as session:
        return {item.url: item for item in session.exec(select(NewsItem)).all()}


def audit_rows(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(
            select(func.count())
            .select_from(StatusChange)
            .where(col(StatusChange.record_type).in_([RecordType.NEWS, RecordType.FEED]))
        ).one()


def write_news_csv(path: Path, *rows: str) -> Path:
    path.write_text("\n".join((NEWS_HEADER, *rows)) + "\n", encoding="utf-8")
    return path


def news_row(url: str, *, state: str = "new", topics: str = "passes", **cells: str) -> str:
    values = {
        "url": url,
        "guid": "",
        "title": "Lipulekh trade season opens",
        "summary": "",
        "publisher": "The Example Times",
        "published_at": "2026-11-19T06:00:00Z",
        "feed": "",
        "topics": topics,
        "records": "pass:lipulekh",
        "why": "Lipulekh",
        "state": state,
        "state_by": "",
        "state_at": "",
        "fetched_at": "",
        **cells,
    }
    return ",".join(values[column] for column in NEWS_HEADER.split(","))


# --- Export and restore ---------------------------------------------------------------------


def test_export_writes_feeds_and_news_but_no_audit_rows_of_them(watched: Engine) -> None:
    document = exported(watched)

    assert document["feeds"] == [
        {
            "url": POLLED,
            "name": "Trade wire",
            "enabled": True,
            "disabled_reason": None,
            "added_by": "cli",
            "added_at": "2026-11-20T08:00:00Z",
        },
        {
            "url": GONE,
            "name": "Old wire",
            "enabled": False,
            "disabled_reason": "410 Gone",
            "added_by": "tg:7",
            "added_at": "2026-11-20T08:00:00Z",
        },
    ]
    published = document["news"][1]
    assert published == {
        "url": "https://news.example/nathu",
        "guid": "https://news.example/nathu",
        "title": "Nathu La reopens for traders",
        "summary": "Nathu La reopens for traders, in brief.",
        "publisher": "The Example Times",
        "published_at": "2026-11-20T06:00:00Z",
        "feed": POLLED,
        "topics": ["passes", "trade"],
        "records": ["pass:nathu-la", "series:india_fy"],
        "why": "Nathu La, trade",
        "state": "published",
        "state_by": "tg:42",
        "state_at": "2026-11-20T12:00:00Z",
        "fetched_at": "2026-11-20T08:00:00Z",
    }
    assert [item["feed"] for item in document["news"]] == [POLLED, POLLED, GONE, None]
    # The feeds added and the review are in the audit log, but not in any record's history.
    assert audit_rows(watched) == 3
    assert {row["record_type"] for row in document["history"]} <= {
        "source", "figure", "pass", "deal", "flight", "note",
    }  # fmt: skip


def test_a_json_backup_restores_feeds_and_news_with_fresh_polling(
    watched: Engine, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    backup = tmp_path / "backup.json"
    backup.write_text(json.dumps(exported(watched)), encoding="utf-8")
    empty = empty_engine(make_settings, tmp_path / "empty.sqlite3")

    plan = apply_file(empty, backup)

    assert exported(empty) == exported(watched)
    lines = describe_plan(plan)
    assert "feeds: 2 inserted" in lines
    assert "news: 4 inserted" in lines
    assert f"+ feeds {POLLED} (inserted)" in lines
    with Session(empty) as session:
        feeds = {feed.url: feed for feed in session.exec(select(Feed)).all()}
    polled, gone = feeds[POLLED], feeds[GONE]
    # Polling starts afresh: due at once, no conditional GET, nothing seen yet.
    assert (polled.etag, polled.last_modified, polled.seen) == (None, None, [])
    assert (polled.last_polled_at, polled.consecutive_failures) == (None, 0)
    assert polled.next_poll_at is not None
    assert polled.next_poll_at > FOUND
    # A disabled feed stays off: never due.
    assert (gone.disabled_reason, gone.next_poll_at) == ("410 Gone", None)
    # No review or feed audit rows: nothing for the alert dispatcher to send.
    assert audit_rows(empty) == 0
    # Imported items are not pushed to editors as a review; the new one waits in /review.
    restored = news_by_url(empty)
    assert all(item.offered_at is not None for item in restored.values())
    with Session(empty) as session:
        assert [item.url for item in items.pending(session)] == ["https://news.example/shipki"]

    again = apply_file(empty, backup)
    assert not again.changed_anything, describe_plan(again)
    empty.dispose()


def test_a_csv_export_restores_feeds_then_news(
    watched: Engine, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    folder = export_csv(watched, tmp_path / "backup")
    header = (folder / "news.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == NEWS_HEADER
    assert "passes | trade" in (folder / "news.csv").read_text(encoding="utf-8")
    assert "false,410 Gone" in (folder / "feeds.csv").read_text(encoding="utf-8")
    empty = empty_engine(make_settings, tmp_path / "empty.sqlite3")

    feeds = apply_file(empty, folder / "feeds.csv")
    news = apply_file(empty, folder / "news.csv")

    assert [str(count) for count in feeds.counts] == ["feeds: 2 inserted"]
    assert [str(count) for count in news.counts] == ["news: 4 inserted"]
    restored, original = exported(empty), exported(watched)
    assert restored["feeds"] == original["feeds"]
    assert restored["news"] == original["news"]
    empty.dispose()


@pytest.mark.postgres
def test_feeds_and_news_restore_into_postgres(watched: Engine, postgres_settings: Settings) -> None:
    document = exported(watched)
    target = db.make_engine(postgres_settings)
    with db.session_scope(target) as session:
        from bot.services.loading import load_dataset

        load_dataset(session, parse_dataset(document, origin="backup"), actor="import")
    restored = exported(target)
    assert (restored["feeds"], restored["news"]) == (document["feeds"], document["news"])
    target.dispose()


def test_a_file_without_feeds_or_news_still_imports(watched: Engine, tmp_path: Path) -> None:
    document = exported(watched)
    del document["feeds"], document["news"]
    document["passes"][0]["name"] = "Lipulekh Pass"
    older = tmp_path / "older.json"
    older.write_text(json.dumps(document), encoding="utf-8")

    plan = apply_file(watched, older)

    assert describe_plan(plan)[:2] == [
        "passes lipulekh: name Lipulekh → Lipulekh Pass",
        "passes: 1 updated",
    ]
    assert len(news_by_url(watched)) == 4  # left as they were


# --- Merging into a database that has them ----------------------------------------------------


def test_a_known_feed_keeps_its_polling_and_takes_the_files_name(
    watched: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "feeds.csv"
    path.write_text(
        "url,name,enabled,disabled_reason\n"
        f"{POLLED.replace('feeds.example', 'FEEDS.example')},Trade wire (daily),true,\n"
        "https://new.example/feed.xml,New wire,true,\n"
        f"{GONE},Old wire,true,\n",
        encoding="utf-8",
    )

    plan = apply_file(watched, path)

    assert describe_plan(plan) == [
        f"feeds {POLLED}: name Trade wire → Trade wire (daily)",
        "+ feeds https://new.example/feed.xml (inserted)",
        "feeds: 1 inserted, 1 updated",
        "feeds.csv: changed 1 field in 1 record, inserted 1 row; 1 unchanged",
    ]
    with Session(watched) as session:
        feeds = {feed.url: feed for feed in session.exec(select(Feed)).all()}
    assert feeds[POLLED].name == "Trade wire (daily)"
    assert (feeds[POLLED].etag, feeds[POLLED].seen) == ('"v7"', ["a1b2c3d4e5f60718"])
    assert feeds[POLLED].next_poll_at == FOUND + timedelta(minutes=15)
    assert feeds[GONE].disabled_reason == "410 Gone"  # what the poller learnt stays
    assert feeds["https://new.example/feed.xml"].added_by == "import"


def test_an_older_review_never_overwrites_a_newer_one(watched: Engine, tmp_path: Path) -> None:
    nathu = "https://news.example/nathu"  # published by tg:42 at REVIEWED
    (tmp_path / "older").mkdir()
    older = write_news_csv(
        tmp_path / "older" / "news.csv",
        news_row(nathu, state="dismissed", state_by="tg:9", state_at="2026-11-20T11:00:00Z"),
        news_row("https://news.example/shipki", state="new"),
    )
    before = audit_rows(watched)

    stale = apply_file(watched, older)

    assert not stale.changed_anything, describe_plan(stale)
    assert news_by_url(watched)[nathu].state is NewsState.PUBLISHED

    newer = write_news_csv(
        tmp_path / "news.csv",
        news_row(nathu, state="dismissed", state_by="tg:9", state_at="2026-11-21T09:00:00Z"),
        news_row(
            "https://news.example/shipki",
            state="published",
            state_by="tg:9",
            state_at="2026-11-21T09:00:00Z",
        ),
    )
    plan = apply_file(watched, newer)

    assert describe_plan(plan) == [
        f"news {nathu}: state published → dismissed",
        "news https://news.example/shipki: state new → published",
        "news: 2 updated",
        "news.csv: changed 2 fields in 2 records; 0 unchanged",
    ]
    after = news_by_url(watched)
    assert (after[nathu].state, after[nathu].state_by) == (NewsState.DISMISSED, "tg:9")
    assert after[nathu].state_at == datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    # The rest of a known item is as the poller stored it.
    assert after[nathu].title == "Nathu La reopens for traders"
    assert audit_rows(watched) == before  # no review rows: nothing to alert


def test_news_published_in_a_file_alert_nobody(watched: Engine, tmp_path: Path) -> None:
    with db.session_scope(watched) as session:
        subscriptions.subscribe(
            session,
            chat_id=555,
            chat_type="private",
            title=None,
            now=FOUND,
            default_timezone="UTC",
        )
    delivery.dispatch_alerts(watched, now=FOUND, batch_seconds=0)  # the cursor starts here
    path = write_news_csv(
        tmp_path / "news.csv",
        news_row(
            "https://news.example/lipulekh",
            state="published",
            state_by="tg:9",
            state_at="2026-11-21T09:00:00Z",
        ),
    )

    plan = apply_file(watched, path)

    assert [str(count) for count in plan.counts] == ["news: 1 inserted"]
    later = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    assert delivery.dispatch_alerts(watched, now=later, batch_seconds=0) == 0
    with Session(watched) as session:
        newest = items.newest(session, topics=None)
    assert "https://news.example/lipulekh" in [item.url for item in newest]  # readers see it


# --- Broken files -----------------------------------------------------------------------------


def test_broken_news_rows_are_named_and_nothing_is_written(watched: Engine, tmp_path: Path) -> None:
    path = write_news_csv(
        tmp_path / "news.csv",
        news_row("https://news.example/fine"),
        news_row("ftp://news.example/file"),
        news_row("https://news.example/typo", state="publishd"),
        news_row("https://news.example/weather", topics="passes | weather"),
        news_row("https://news.example/when", state="published"),
        news_row("https://news.example/fine?utm_source=x#top"),
    )
    counts = row_counts(watched)

    assert problems_of("news.csv", path.read_bytes()) == [
        "news.csv line 3, url: only http and https links are allowed (got 'ftp://news.example/file')",
        "news.csv line 4, state: 'publishd' is not one of new, published, dismissed or applied",
        "news.csv line 5, topics: 'weather' is not one of trade, deals, passes or flights",
        "news.csv line 6: an item in state published needs state_at (when)",
        # The same story: tracking parameters and the fragment are not part of its address.
        "news.csv line 7: duplicate key 'https://news.example/fine' in news (first on line 2)",
    ]
    with pytest.raises(Exception, match="publishd"):
        apply_file(watched, path)
    assert row_counts(watched) == counts


def test_a_news_item_needs_its_feed_in_the_file_or_the_database(
    watched: Engine, tmp_path: Path
) -> None:
    path = write_news_csv(
        tmp_path / "news.csv",
        news_row("https://news.example/a", feed=POLLED),
        news_row("https://news.example/b", feed="https://unknown.example/feed"),
    )
    counts = row_counts(watched)

    assert plan_problems(watched, path) == [
        "news.csv line 3, feed: 'https://unknown.example/feed' is not a feed in this file or "
        "in the database"
    ]
    assert row_counts(watched) == counts

    # In one document the feed may come along; the bundled data's check wants it there.
    document = {
        "feeds": [{"url": "https://unknown.example/feed", "name": "Unknown"}],
        "news": [
            {
                "url": "https://news.example/b",
                "publisher": "Example",
                "published_at": "2026-11-19T06:00:00Z",
                "feed": "https://unknown.example/feed",
                "state": "new",
            }
        ],
    }
    both = tmp_path / "both.json"
    both.write_text(json.dumps(document), encoding="utf-8")
    plan = apply_file(watched, both)
    assert [str(count) for count in plan.counts] == ["feeds: 1 inserted", "news: 1 inserted"]
    with pytest.raises(DatasetError, match=r"unknown feed 'https://unknown\.example/feed'"):
        parse_dataset({"news": document["news"]}, origin="bundled")


def test_json_problems_in_feeds_and_news_name_the_item(watched: Engine) -> None:
    document = exported(watched)
    document["feeds"][1]["disabled_reason"] = None
    document["news"][2]["url"] = "javascript:alert(1)"
    document["history"].append(
        {"key": "audit-1", "record_type": "news", "record_key": "1", "field": "state", "new": "x"}
    )
    text = json.dumps(document, indent=2)

    problems = problems_of("backup.json", text.encode())

    assert [problem.split(": ", 1)[1] for problem in problems] == [
        "'news' is not one of source, figure, pass, deal, flight, note or composition",
        "a feed that is not enabled needs a disabled_reason",
        "only http and https links are allowed (got 'javascript:alert(1)')",
    ]
    assert "(feeds item 2)" in problems[1]
    assert "(news item 3), url" in problems[2]


# --- Editors in Telegram ------------------------------------------------------------------------


async def test_an_editor_sees_the_counts_of_feeds_and_news_before_confirming(
    bot: BotUnderTest, watched: Engine
) -> None:
    with db.session_scope(watched) as session:
        admins.bootstrap_owners(session, [EDITOR])
    document = {
        "feeds": [
            {"url": "https://one.example/rss", "name": "One"},
            {
                "url": "https://two.example/rss",
                "name": "Two",
                "enabled": False,
                "disabled_reason": "paused",
            },
        ],
        "news": [
            {
                "url": f"https://news.example/{slug}",
                "title": f"Story {slug}",
                "publisher": "Example",
                "published_at": "2026-11-19T06:00:00Z",
                "feed": "https://one.example/rss",
                "topics": ["trade"],
                "state": "new",
            }
            for slug in ("a", "b", "c", "d", "e")
        ]
        + [
            {
                "url": "https://news.example/shipki",
                "publisher": "Example",
                "published_at": "2026-11-19T06:00:00Z",
                "state": "published",
                "state_at": "2026-11-21T08:00:00Z",
            }
        ],
    }
    bot.request.files_to_serve["watch.json"] = json.dumps(document).encode()
    update = message_update(
        bot.application.bot, "", user_id=EDITOR, chat_id=EDITOR, document="watch.json"
    )

    (plan,) = [c for c in await bot.process(update) if c["method"] == "sendMessage"]

    text = html_to_text(plan["text"])
    assert "feeds: 2 inserted" in text
    assert "news: 5 inserted, 1 updated" in text
    assert "news item https://news.example/shipki: state new → published" in text
    assert len(news_by_url(watched)) == 4  # nothing before Confirm
    markup = plan["reply_markup"]
    keyboard = json.loads(markup) if isinstance(markup, str) else markup
    confirm = next(
        button["callback_data"]
        for row in keyboard["inline_keyboard"]
        for button in row
        if "Confirm" in button["text"]
    )
    calls = await bot.process(
        callback_update(bot.application.bot, confirm, user_id=EDITOR, chat_id=EDITOR)
    )
    applied = [html_to_text(c["text"]) for c in calls if "Imported" in c.get("text", "")]
    assert len(applied) == 1
    assert "news: 5 inserted, 1 updated" in applied[0]
    assert len(news_by_url(watched)) == 9
    assert news_by_url(watched)["https://news.example/shipki"].state_by == "import"
