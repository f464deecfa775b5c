"""Feeds and news items in a dataset: what `export` writes and what a load does with them.

An import is a restore or a merge, never a poll and never a review:

- a feed is matched by its URL. A new one is inserted with a fresh polling state (due now, or
  never while it is disabled); one the database has keeps its polling state, and only its name
  follows the file (on an import, which overwrites);
- a news item is matched by its canonical URL. A new one is inserted as the file has it; one
  the database has keeps everything but its review, which follows the file only when the file's
  review is later (`state_at`), so an older backup never takes back a publication;
- no history row is written for either. A publication row in the audit log is what the alert
  dispatcher sends, so an imported publication alerts nobody; and an imported item is marked as
  offered to the editors, so it is not pushed to them as a review either (`/review` lists the
  items still new).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from bot.models import Feed, NewsItem
from bot.services.dataset import FeedItem, NewsArticleItem
from bot.services.feeds.registry import default_name
from bot.services.feeds.urls import UnsafeFeedURLError, check_scheme
from bot.vocabulary import NewsState

if TYPE_CHECKING:
    from collections.abc import Callable

    from bot.services.loading import LoadReport

FEED = "feed"  # the kinds in a load report: the tables' names, as for records
NEWS = "news_item"
_CHUNK = 500  # URLs per IN (...) lookup: SQLite caps the parameters of one statement


# --- Export ---------------------------------------------------------------------------------


def feed_items(session: Session) -> tuple[FeedItem, ...]:
    return tuple(
        FeedItem(
            url=feed.url,
            name=feed.name or default_name(feed.url),
            enabled=not feed.disabled_reason,
            disabled_reason=feed.disabled_reason or None,
            added_by=feed.added_by,
            added_at=feed.added_at,
        )
        for feed in session.exec(select(Feed).order_by(col(Feed.id))).all()
    )


def news_items(session: Session) -> tuple[NewsArticleItem, ...]:
    feeds = dict(session.exec(select(Feed.id, Feed.url)).all())
    return tuple(
        NewsArticleItem(
            url=item.url,
            guid=item.guid,
            title=item.title,
            summary=item.summary,
            publisher=item.publisher,
            published_at=item.published_at,
            feed=feeds.get(item.feed_id) if item.feed_id is not None else None,
            topics=tuple(item.topics),
            records=tuple(item.records),
            why=item.why,
            state=item.state,
            state_by=item.state_by,
            state_at=item.state_at,
            fetched_at=item.fetched_at,
        )
        for item in session.exec(select(NewsItem).order_by(col(NewsItem.id))).all()
    )


# --- Load -----------------------------------------------------------------------------------


def load_feeds(
    session: Session,
    items: Sequence[FeedItem],
    *,
    actor: str,
    now: datetime,
    overwrite: bool,
    report: LoadReport,
    tick: Callable[[], None],
) -> None:
    """Insert the feeds the database lacks; bring a known feed's name up to date."""
    if not items:
        return
    known = feeds_by_url(session)
    for item in items:
        feed = known.get(item.url)
        if feed is None:
            feed = Feed(
                url=item.url,
                name=item.name,
                added_by=item.added_by or actor,
                added_at=item.added_at or now,
                # The poller's invariant: a disabled feed is never due.
                next_poll_at=None if item.disabled_reason else now,
                disabled_reason=item.disabled_reason,
            )
            session.add(feed)
            known[item.url] = feed
            report.add_inserted(FEED, item.url)
        elif feed.name != item.name and overwrite:
            report.add_change(FEED, item.url, "name", feed.name, item.name)
            feed.name = item.name
            session.add(feed)
            report.add(FEED, "updated")
        else:
            report.add(FEED, "unchanged")
        tick()
    session.flush()  # assigns the ids news items refer to


def load_news(
    session: Session,
    items: Sequence[NewsArticleItem],
    *,
    actor: str,
    now: datetime,
    report: LoadReport,
    tick: Callable[[], None],
) -> None:
    """Insert the items the database lacks; take a later review of a known item."""
    if not items:
        return
    from bot.services.news.reading import content_hash  # the poller's, so edits are told apart

    feeds = feeds_by_url(session)
    known = _items_by_url(session, [item.url for item in items])
    for item in items:
        found = known.get(item.url)
        if found is None:
            feed = feeds.get(item.feed) if item.feed is not None else None
            added = _new_item(item, feed, content_hash(item.title, item.summary), actor, now)
            session.add(added)
            known[item.url] = added
            report.add_inserted(NEWS, item.url)
        elif _later_review(item, found):
            report.add_change(NEWS, item.url, "state", found.state.value, item.state.value)
            found.state, found.state_by = item.state, item.state_by or actor
            found.state_at = item.state_at
            session.add(found)
            report.add(NEWS, "updated")
        else:
            report.add(NEWS, "unchanged")
        tick()
    session.flush()


def _new_item(
    item: NewsArticleItem, feed: Feed | None, digest: str, actor: str, now: datetime
) -> NewsItem:
    fetched_at = item.fetched_at or now
    reviewed = item.state is not NewsState.NEW
    return NewsItem(
        feed_id=feed.id if feed is not None else None,
        guid=item.guid or item.url[:500],
        url=item.url,
        title=item.title,
        summary=item.summary,
        publisher=item.publisher,
        # As the poller stores it: never later than the moment it was found.
        published_at=min(item.published_at, fetched_at),
        fetched_at=fetched_at,
        updated_at=fetched_at,
        content_hash=digest,
        topics=list(item.topics),
        records=list(item.records),
        why=item.why,
        state=item.state,
        state_by=(item.state_by or actor) if reviewed else None,
        state_at=item.state_at,
        offered_at=now,
    )


def _later_review(item: NewsArticleItem, found: NewsItem) -> bool:
    """Whether the file's review of an item is newer than the database's, and differs."""
    if item.state_at is None or item.state is found.state:
        return False
    return found.state_at is None or item.state_at > found.state_at


def feeds_by_url(session: Session) -> dict[str, Feed]:
    """Every feed, by its address as a dataset writes it (a feed added from the bundled
    defaults is stored as listed there, so it is normalised here as `feeds add` would)."""
    feeds: dict[str, Feed] = {}
    for feed in session.exec(select(Feed).order_by(col(Feed.id))).all():
        try:
            feeds.setdefault(check_scheme(feed.url), feed)
        except UnsafeFeedURLError:
            feeds.setdefault(feed.url, feed)
    return feeds


def _items_by_url(session: Session, urls: list[str]) -> dict[str, NewsItem]:
    found: dict[str, NewsItem] = {}
    unique = sorted(set(urls))
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start : start + _CHUNK]
        rows = session.exec(select(NewsItem).where(col(NewsItem.url).in_(chunk))).all()
        found.update((row.url, row) for row in rows)
    return found
