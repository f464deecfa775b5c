"""News items: stored from feed readings, reviewed by editors, listed for readers.

A review (publish, dismiss, apply) is written to the audit log (`status_change`, record type
"news") in the same transaction as the item's new state; a publication row is also what the
alert dispatcher turns into news alerts, through the delivery ledger like any change.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.db import insert_ignoring_duplicates
from bot.models import DispatchCursor, Feed, NewsItem, StatusChange
from bot.vocabulary import NewsScope, NewsState, RecordType, Topic

if TYPE_CHECKING:
    from bot.services.feeds.parse import ParsedEntry
    from bot.services.news.reading import KeptEntry

logger = logging.getLogger(__name__)

# What readers see: items an editor published, or updated a record from.
SHOWN_TO_READERS = (NewsState.PUBLISHED, NewsState.APPLIED)
# What a subscriber who chose every matched item sees: all but the dismissed.
NOT_DISMISSED = (NewsState.NEW, NewsState.PUBLISHED, NewsState.APPLIED)
NEWS_LIMIT = 5
_item = NewsItem.__table__  # type: ignore[attr-defined]
# From which states a review may move an item: a dismissed item may still be published, and a
# published one may still lead to a record update; nothing shown is hidden again.
_MOVES_TO = {
    NewsState.PUBLISHED: (NewsState.NEW, NewsState.DISMISSED),
    NewsState.DISMISSED: (NewsState.NEW,),
    NewsState.APPLIED: (NewsState.NEW, NewsState.DISMISSED, NewsState.PUBLISHED),
    NewsState.NEW: (),
}


class NewsError(Exception):
    """A review that cannot be done; `code` names the template message."""

    def __init__(self, code: str, **details: object) -> None:
        super().__init__(code)
        self.code = code
        self.details = details


@dataclass(frozen=True, slots=True)
class Stored:
    new: int
    updated: int


def store(
    session: Session, *, feed: Feed, publisher: str, kept: Iterable[KeptEntry], now: datetime
) -> Stored:
    """Insert the matched entries of one feed reading; update those edited at the source.

    In Core statements, not ORM objects: a round stores thousands of items, and this runs in
    the bot's own process beside the answers.
    """
    by_url = {entry.url: entry for entry in kept}
    if not by_url:
        return Stored(0, 0)
    connection = session.connection()
    existing = {
        row.url: row
        for row in connection.execute(
            sa.select(
                _item.c.id, _item.c.url, _item.c.content_hash, _item.c.topics, _item.c.records
            ).where(_item.c.url.in_(list(by_url)))
        )
    }
    rows = [
        {
            "feed_id": feed.id,
            "guid": entry.entry.guid[:500],
            "url": url,
            "title": entry.entry.title[:500],
            "summary": entry.entry.summary[:1000],
            "publisher": (entry.entry.publisher or publisher)[:200],
            "published_at": published_time(entry.entry, fetched_at=now),
            "fetched_at": now,
            "updated_at": now,
            "content_hash": entry.content_hash,
            "topics": [str(topic) for topic in entry.match.topics],
            "records": list(entry.match.records),
            "why": ", ".join(entry.match.why)[:500],
            "state": NewsState.NEW,
        }
        for url, entry in by_url.items()
        if url not in existing
    ]
    # Another instance may store the same story between the select and here: one row stays.
    inserted = (
        connection.execute(
            insert_ignoring_duplicates(connection, _item).returning(_item.c.id), rows
        ).all()
        if rows
        else []
    )
    updated = 0
    for url, known in existing.items():
        entry = by_url[url]
        if known.content_hash == entry.content_hash:
            continue
        # Edited at the source (or the same story in another feed, reworded): one item.
        connection.execute(
            sa.update(_item)
            .where(_item.c.id == known.id)
            .values(
                title=entry.entry.title[:500],
                summary=entry.entry.summary[:1000],
                content_hash=entry.content_hash,
                topics=sorted({*known.topics, *(str(t) for t in entry.match.topics)}),
                records=list(dict.fromkeys([*known.records, *entry.match.records])),
                why=", ".join(entry.match.why)[:500],
                updated_at=now,
            )
        )
        updated += 1
    return Stored(len(inserted), updated)


def published_time(entry: ParsedEntry, *, fetched_at: datetime) -> datetime:
    """The entry's date, the fetch time when it has none, never later than the fetch."""
    if entry.published is None or entry.published > fetched_at:
        return fetched_at
    return entry.published


# --- Reading ------------------------------------------------------------------------------


def _about(
    topics: Sequence[Topic] | None, records: Sequence[str] | None
) -> list[sa.ColumnElement[bool]]:
    # JSON lists are matched as text: portable across SQLite and PostgreSQL, and the lists are
    # short and their entries quoted, so '"passes"' cannot match inside another entry.
    conditions: list[sa.ColumnElement[bool]] = []
    if topics:
        text = sa.cast(col(NewsItem.topics), sa.String)
        conditions.append(sa.or_(*(text.contains(f'"{topic}"') for topic in topics)))
    if records:
        text = sa.cast(col(NewsItem.records), sa.String)
        conditions.append(sa.or_(*(text.contains(f'"{record}"') for record in records)))
    return conditions


def newest(
    session: Session,
    *,
    topics: Sequence[Topic] | None = None,
    records: Sequence[str] | None = None,
    states: Sequence[NewsState] = SHOWN_TO_READERS,
    also: Sequence[sa.ColumnElement[bool]] = (),
    limit: int = NEWS_LIMIT,
) -> list[NewsItem]:
    """The newest items in `states` about any of `topics` (and any of `records`)."""
    query = select(NewsItem).where(
        col(NewsItem.state).in_(list(states)), *_about(topics, records), *also
    )
    return list(
        session.exec(
            query.order_by(col(NewsItem.published_at).desc(), col(NewsItem.id).desc()).limit(limit)
        ).all()
    )


def for_digest(
    session: Session,
    *,
    topics: frozenset[Topic],
    since: datetime | None,
    scope: NewsScope,
    limit: int = NEWS_LIMIT,
) -> list[NewsItem]:
    """ "In the news": items for `topics` that became visible after `since` (the last digest)."""
    if not topics:
        return []
    states, also = _visible_since(since, scope)
    return newest(session, topics=sorted(topics), states=states, also=also, limit=limit)


def count_for_digest(
    session: Session, *, topics: frozenset[Topic], since: datetime | None, scope: NewsScope
) -> int:
    """How many items `for_digest` would list without its limit."""
    if not topics:
        return 0
    states, also = _visible_since(since, scope)
    return session.exec(
        select(sa.func.count())
        .select_from(NewsItem)
        .where(col(NewsItem.state).in_(list(states)), *_about(sorted(topics), None), *also)
    ).one()


def _visible_since(
    since: datetime | None, scope: NewsScope
) -> tuple[Sequence[NewsState], list[sa.ColumnElement[bool]]]:
    states: tuple[NewsState, ...] = SHOWN_TO_READERS
    became_visible = col(NewsItem.state_at)
    if scope is NewsScope.MATCHED:
        states, became_visible = NOT_DISMISSED, col(NewsItem.fetched_at)
    return states, [] if since is None else [became_visible > since]


def pending(session: Session, *, limit: int = 10) -> list[NewsItem]:
    """Items waiting for an editor's review, oldest first."""
    return list(
        session.exec(
            select(NewsItem)
            .where(NewsItem.state == NewsState.NEW)
            .order_by(col(NewsItem.published_at), col(NewsItem.id))
            .limit(limit)
        ).all()
    )


def get(session: Session, item_id: int) -> NewsItem:
    item = session.get(NewsItem, item_id)
    if item is None:
        raise NewsError("news_unknown", item_id=item_id)
    return item


# --- Reviewing ----------------------------------------------------------------------------


def review(
    session: Session, item_id: int, state: NewsState, *, actor: str, now: datetime
) -> NewsItem:
    """Move an item to `state`, in the audit log; publishing makes it an alert."""
    item = get(session, item_id)
    if item.state not in _MOVES_TO[state]:
        raise NewsError("news_already", state=item.state, by=item.state_by, title=item.title)
    old = item.state
    item.state, item.state_by, item.state_at = state, actor, now
    session.add(item)
    session.add(
        StatusChange(
            record_type=RecordType.NEWS,
            record_key=str(item.id),
            field="state",
            old_value=old.value,
            new_value=state.value,
            note=item.title[:2000],
            actor=actor,
            at=now,
        )
    )
    session.flush()
    logger.info("News item %s: %s -> %s by %s", item.id, old, state, actor)
    return item


def published_between(
    session: Session, *, after_change_id: int, up_to_change_id: int, topics: frozenset[Topic]
) -> list[NewsItem]:
    """Items published by the audit rows in (after, up_to] about any of `topics`.

    An item an editor went on to update a record from (applied) still counts: it was
    published, and an alert held for quiet hours must not lose it.
    """
    ids = select(sa.cast(col(StatusChange.record_key), sa.Integer)).where(
        StatusChange.record_type == RecordType.NEWS,
        StatusChange.new_value == NewsState.PUBLISHED.value,
        col(StatusChange.id) > after_change_id,
        col(StatusChange.id) <= up_to_change_id,
    )
    return list(
        session.exec(
            select(NewsItem)
            .where(
                col(NewsItem.id).in_(ids),
                col(NewsItem.state).in_(SHOWN_TO_READERS),
                *_about(sorted(topics), None),
            )
            .order_by(col(NewsItem.published_at).desc(), col(NewsItem.id).desc())
        ).all()
    )


def topics_published_between(
    session: Session, *, after_change_id: int, up_to_change_id: int
) -> frozenset[Topic]:
    items = published_between(
        session,
        after_change_id=after_change_id,
        up_to_change_id=up_to_change_id,
        topics=frozenset(),
    )
    return frozenset(Topic(topic) for item in items for topic in item.topics)


# --- Offering new items to editors ----------------------------------------------------------

REVIEW_BATCH = 10
REVIEW_CURSOR = "news_review"
_cursor = DispatchCursor.__table__  # type: ignore[attr-defined]


def take_review_batch(
    session: Session, *, now: datetime, every_seconds: int, limit: int = REVIEW_BATCH
) -> list[int]:
    """The ids of new items not yet offered to editors, at most one batch per `every_seconds`,
    marked offered in the caller's unit of work.

    The cursor row is locked while the batch is taken, so with several instances one of them
    takes it; its `updated_at` is when the last batch went out.
    """
    connection = session.connection()
    last = connection.execute(
        sa.select(_cursor.c.updated_at)
        .where(_cursor.c.name == REVIEW_CURSOR)
        .with_for_update(skip_locked=True)
    ).first()
    if last is None:
        inserted = connection.execute(
            insert_ignoring_duplicates(connection, _cursor),
            [{"name": REVIEW_CURSOR, "position": 0, "updated_at": now - timedelta(days=1)}],
        ).rowcount
        if not inserted:
            return []  # another instance holds or just made the cursor
    elif last.updated_at > now - timedelta(seconds=every_seconds):
        return []
    ids = list(
        connection.execute(
            sa.select(_item.c.id)
            .where(_item.c.state == NewsState.NEW, _item.c.offered_at.is_(None))
            .order_by(_item.c.published_at, _item.c.id)
            .limit(limit)
        ).scalars()
    )
    if ids:
        connection.execute(sa.update(_item).where(_item.c.id.in_(ids)).values(offered_at=now))
        connection.execute(
            sa.update(_cursor).where(_cursor.c.name == REVIEW_CURSOR).values(updated_at=now)
        )
    return ids


def by_ids(session: Session, ids: Sequence[int]) -> list[NewsItem]:
    """Items in the order of `ids` (a review message's), skipping any since deleted."""
    found = {
        item.id: item
        for item in session.exec(select(NewsItem).where(col(NewsItem.id).in_(list(ids)))).all()
    }
    return [found[item_id] for item_id in ids if item_id in found]


def mark_applied(session: Session, item_id: int, *, actor: str, now: datetime) -> None:
    """An editor updated a record from the item; one already applied (or gone) stays as it is."""
    item = session.get(NewsItem, item_id)
    if item is not None and item.state in _MOVES_TO[NewsState.APPLIED]:
        review(session, item_id, NewsState.APPLIED, actor=actor, now=now)


def record_names(session: Session) -> dict[str, str]:
    """Readable names of the record keys items store ("pass:nathu-la" -> "Nathu La")."""
    from bot.services.answers import load_catalog  # the records' names, as questions see them
    from bot.services.news.matching import record_key

    names = {record_key(e.record_type, e.key): e.name for e in load_catalog(session).entries}
    names["series:india_fy"] = "India's fiscal-year figures"
    names["series:china_cy"] = "China's calendar-year figures"
    return names
