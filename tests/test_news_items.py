"""News items in the database, on SQLite and PostgreSQL: readers' queries by topic and record,
reviews and their audit rows, and the editors' review batches."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot import db
from bot.config import Settings
from bot.models import NewsItem, StatusChange
from bot.services.news import items
from bot.services.news.items import NewsError
from bot.vocabulary import NewsScope, NewsState, RecordType, Topic

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def news_engine(request: pytest.FixtureRequest, seeded_engine: Engine) -> Iterator[Engine]:
    if request.param == "sqlite":
        yield seeded_engine
        return
    url = request.getfixturevalue("postgres_seeded_url")
    engine = db.make_engine(Settings(_env_file=None, database_url=url))
    yield engine
    engine.dispose()


def add(engine: Engine, title: str, **values: Any) -> int:
    row: dict[str, Any] = {
        "guid": title,
        "url": f"https://news.example/{title.replace(' ', '-')}",
        "publisher": "Desk",
        "published_at": NOW - timedelta(days=1),
        "content_hash": "0" * 32,
        "topics": ["passes"],
        "records": [],
        "why": "test",
        "state": NewsState.NEW,
        **values,
    }
    with db.session_scope(engine) as session:
        item = NewsItem(title=title, **row)
        session.add(item)
        session.flush()
        assert item.id is not None
        return item.id


def titles(found: list[NewsItem]) -> list[str]:
    return [item.title for item in found]


def test_readers_see_published_items_by_topic_and_record_newest_first(news_engine: Engine) -> None:
    add(news_engine, "old pass story", state=NewsState.PUBLISHED, records=["pass:nathu-la"],
        published_at=NOW - timedelta(days=5))  # fmt: skip
    add(news_engine, "new pass story", state=NewsState.APPLIED, records=["pass:shipki-la"])
    add(news_engine, "flights story", state=NewsState.PUBLISHED, topics=["flights"])
    add(news_engine, "unreviewed", state=NewsState.NEW)
    add(news_engine, "dismissed", state=NewsState.DISMISSED)
    # A topic's name inside another's must not match: "trade" is not "trade_x".
    add(news_engine, "odd topic", state=NewsState.PUBLISHED, topics=["passes_extra"])
    with Session(news_engine) as session:
        assert titles(items.newest(session, topics=[Topic.PASSES])) == [
            "new pass story",
            "old pass story",
        ]
        assert titles(items.newest(session, records=["pass:nathu-la"])) == ["old pass story"]
        # Same day: the one found last comes first.
        assert titles(items.newest(session, topics=[Topic.FLIGHTS, Topic.PASSES], limit=2)) == [
            "flights story",
            "new pass story",
        ]
        every = items.for_digest(
            session, topics=frozenset({Topic.PASSES}), since=None, scope=NewsScope.MATCHED
        )
        assert titles(every) == ["unreviewed", "new pass story", "old pass story"]


def test_reviews_are_audited_and_refuse_what_cannot_be_done(news_engine: Engine) -> None:
    item = add(news_engine, "a story")
    with db.session_scope(news_engine) as session:
        items.review(session, item, NewsState.DISMISSED, actor="tg:1", now=NOW)
    with db.session_scope(news_engine) as session:
        items.review(session, item, NewsState.PUBLISHED, actor="tg:2", now=NOW)
    with db.session_scope(news_engine) as session, pytest.raises(NewsError) as refused:
        items.review(session, item, NewsState.DISMISSED, actor="tg:1", now=NOW)
    assert refused.value.code == "news_already"
    with db.session_scope(news_engine) as session, pytest.raises(NewsError) as unknown:
        items.review(session, 10**9, NewsState.PUBLISHED, actor="tg:1", now=NOW)
    assert unknown.value.code == "news_unknown"
    with Session(news_engine) as session:
        rows = session.exec(
            select(StatusChange.old_value, StatusChange.new_value, StatusChange.actor)
            .where(StatusChange.record_type == RecordType.NEWS)
            .order_by(StatusChange.id)  # type: ignore[arg-type]
        ).all()
        assert [tuple(row) for row in rows] == [
            ("new", "dismissed", "tg:1"),
            ("dismissed", "published", "tg:2"),
        ]
        published = items.published_between(
            session, after_change_id=0, up_to_change_id=10**9, topics=frozenset({Topic.PASSES})
        )
        assert titles(published) == ["a story"]


def take(engine: Engine, now: datetime) -> list[NewsItem]:
    """One review batch taken in its own unit of work, read back as items."""
    with db.session_scope(engine) as session:
        return items.by_ids(session, items.take_review_batch(session, now=now, every_seconds=300))


def test_review_batches_come_at_most_every_interval_and_offer_each_item_once(
    news_engine: Engine,
) -> None:
    for n in range(12):
        add(news_engine, f"story {n:02d}", published_at=NOW - timedelta(hours=n))
    first = take(news_engine, NOW)
    assert len(first) == 10
    assert first[0].title == "story 11"  # oldest first
    assert take(news_engine, NOW + timedelta(seconds=60)) == []
    second = take(news_engine, NOW + timedelta(seconds=301))
    assert titles(second) == ["story 01", "story 00"]
    assert take(news_engine, NOW + timedelta(hours=1)) == []


@pytest.mark.parametrize(
    ("published", "expected"),
    [
        (None, NOW),  # no date in the feed: when it was fetched
        (NOW + timedelta(days=3), NOW),  # a date in the future is clamped
        (NOW - timedelta(days=3), NOW - timedelta(days=3)),
    ],
)
def test_an_items_date_is_never_missing_or_ahead(
    published: datetime | None, expected: datetime
) -> None:
    from bot.services.feeds.parse import ParsedEntry

    entry = ParsedEntry(
        guid="g", url="https://n.example/x", title="t", summary="", publisher=None,
        published=published,
    )  # fmt: skip
    assert items.published_time(entry, fetched_at=NOW) == expected
