"""Polling feeds: claim the due ones, fetch them side by side, read them, store what matched.

- Each feed is claimed with a lease (as deliveries are: one UPDATE that re-checks the claim,
  `FOR UPDATE SKIP LOCKED` on PostgreSQL), so several instances never poll the same feed at once,
  and a feed whose poller died is polled again once its lease runs out.
- `concurrency` workers each claim, fetch and read one feed at a time until none is due. The
  fetch is async I/O; reading (feedparser and the matcher) runs in `reader` (a process pool in
  the bot, so hundreds of feeds never hold the interpreter lock answers need); database work
  runs in one thread of its own, so SQLite sees one writer and answers keep their pool.
- A failure backs off exponentially from FEED_POLL_SECONDS (capped at a day); 429 and 503 wait
  for Retry-After; 410 Gone disables the feed. Nothing half-read is stored: a feed's items and
  its new state are written in one transaction.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import Engine

from bot.db import session_scope
from bot.models import Feed, utcnow
from bot.services.answers import load_catalog
from bot.services.feeds.fetch import FeedFetcher, FetchOutcome, FetchRequest, FetchResult
from bot.services.feeds.parse import FeedParseError
from bot.services.feeds.registry import default_name
from bot.services.news import items
from bot.services.news.reading import FeedReading, read_feed
from bot.services.questions.catalog import CatalogEntry

if TYPE_CHECKING:
    from bot.config import Settings

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 24 * 3600
DEFAULT_POLL_SECONDS = 900  # for `feeds poll` when the bot's own polling is off
USER_AGENT = "TradeWatch feed reader (India-China trade monitor)"
_feed = Feed.__table__  # type: ignore[attr-defined]
T = TypeVar("T")


class Result(StrEnum):
    READ = "read"  # fetched and read (new or edited items may be 0)
    NOT_MODIFIED = "not_modified"
    RETRY_LATER = "retry_later"
    FAILED = "failed"
    GONE = "gone"  # disabled


@dataclass(frozen=True, slots=True)
class PollOutcome:
    """One feed's poll, as `feeds poll` prints it."""

    feed_id: int
    name: str
    url: str
    result: Result
    entries: int = 0  # in the feed
    unseen: int = 0  # new or edited since the last read
    new_items: int = 0  # stored: matched and not known
    updated_items: int = 0
    error: str | None = None
    next_poll_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class _Claimed:
    id: int
    url: str
    name: str
    etag: str | None
    last_modified: str | None
    seen: tuple[str, ...]
    failures: int


def backoff_seconds(poll_seconds: int, failures: int) -> int:
    """After `failures` failures in a row: 2, 4, 8... times the poll interval, at most a day."""
    return int(min(poll_seconds * 2 ** min(failures, 20), MAX_BACKOFF_SECONDS))


class FeedPoller:
    def __init__(
        self,
        engine: Engine,
        fetcher: FeedFetcher,
        *,
        poll_seconds: int,
        concurrency: int,
        lease_seconds: int,
        reader: Executor | None = None,
        read_seconds: float = 60.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._engine = engine
        self._fetcher = fetcher
        self._poll_seconds = poll_seconds
        self._concurrency = concurrency
        self._lease_seconds = lease_seconds
        self._reader = reader
        self._read_seconds = read_seconds  # waiting for the reader included
        self._clock = clock
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="feeds-db")

    def close(self) -> None:
        self._db.shutdown(wait=True)

    async def poll(self, *, every: bool = False) -> list[PollOutcome]:
        """Poll the due feeds (`every`: every enabled feed, due or not), once each."""
        catalog = await self._in_db(self._catalog)
        taken: set[int] = set()  # polled in this round: each feed once, whatever its result
        outcomes: list[PollOutcome] = []

        async def worker() -> None:
            while True:
                claimed = await self._in_db(self._claim, every=every, taken=taken)
                if claimed is None:
                    return
                outcomes.append(await self._poll_one(claimed, catalog))

        await asyncio.gather(*(worker() for _ in range(self._concurrency)))
        if outcomes:
            logger.info(
                "Polled %d feeds: %d new items, %d failed.",
                len(outcomes),
                sum(outcome.new_items for outcome in outcomes),
                sum(outcome.result in (Result.FAILED, Result.RETRY_LATER) for outcome in outcomes),
            )
        return sorted(outcomes, key=lambda outcome: (outcome.name.casefold(), outcome.feed_id))

    # --- One feed -------------------------------------------------------------------------

    async def _poll_one(self, claimed: _Claimed, catalog: tuple[CatalogEntry, ...]) -> PollOutcome:
        outcome = PollOutcome(claimed.id, claimed.name, claimed.url, Result.FAILED)
        try:
            fetched = await self._fetcher.fetch(
                FetchRequest(claimed.url, claimed.etag, claimed.last_modified)
            )
            if fetched.outcome is not FetchOutcome.OK or fetched.body is None:
                return await self._in_db(self._record_fetch, claimed, fetched, outcome)
            reading = await asyncio.wait_for(
                self._read(fetched, claimed, catalog), timeout=self._read_seconds
            )
        except FeedParseError as exc:
            return await self._in_db(self._record_failure, claimed, outcome, str(exc), None)
        except TimeoutError:
            # A pathological document (100,000 tiny items) can keep feedparser busy for
            # seconds: the feed fails and backs off instead of stalling every round.
            error = f"took longer than {self._read_seconds:g} s to read"
            return await self._in_db(self._record_failure, claimed, outcome, error, None)
        except Exception:
            # A bug must not stop the round, nor leave the feed claimed until its lease ends.
            logger.exception("Polling %s failed", claimed.url)
            return await self._in_db(self._record_failure, claimed, outcome, "internal error", None)
        return await self._in_db(self._record_reading, claimed, fetched, reading, outcome)

    async def _read(
        self, fetched: FetchResult, claimed: _Claimed, catalog: tuple[CatalogEntry, ...]
    ) -> FeedReading:
        assert fetched.body is not None
        work = functools.partial(
            read_feed,
            fetched.body,
            content_type=fetched.content_type,
            url=fetched.url,
            catalog=catalog,
            seen=claimed.seen,
        )
        loop = asyncio.get_running_loop()
        if self._reader is None:
            return await asyncio.to_thread(work)
        return await loop.run_in_executor(self._reader, work)

    async def _in_db(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._db, functools.partial(work, *args, **kwargs))

    # --- Database work (in the feeds' database thread) -----------------------------------

    def _catalog(self) -> tuple[CatalogEntry, ...]:
        with session_scope(self._engine) as session:
            return load_catalog(session).entries

    def _claim(self, *, every: bool, taken: set[int]) -> _Claimed | None:
        now = self._clock()
        # Enabled feeds have a next poll time (disabled ones none); `every` ignores its value.
        due = _feed.c.next_poll_at.is_not(None) if every else _feed.c.next_poll_at <= now
        if taken:
            due = sa.and_(due, _feed.c.id.not_in(taken))
        free = sa.or_(_feed.c.claimed_until.is_(None), _feed.c.claimed_until <= now)
        with self._engine.begin() as connection:
            pick = (
                sa.select(_feed.c.id)
                .where(due, free)
                .order_by(_feed.c.next_poll_at, _feed.c.id)
                .limit(1)
                .with_for_update(skip_locked=True)
                .scalar_subquery()
            )
            row = connection.execute(
                sa.update(_feed)
                .where(_feed.c.id == pick, free)
                .values(claimed_until=now + timedelta(seconds=self._lease_seconds))
                .returning(
                    _feed.c.id,
                    _feed.c.url,
                    _feed.c.name,
                    _feed.c.etag,
                    _feed.c.last_modified,
                    _feed.c.seen,
                    _feed.c.consecutive_failures,
                )
            ).first()
        if row is None:
            return None
        taken.add(row.id)
        return _Claimed(
            row.id,
            row.url,
            row.name,
            row.etag,
            row.last_modified,
            tuple(row.seen or ()),
            row.consecutive_failures,
        )

    def _record_fetch(
        self, claimed: _Claimed, fetched: FetchResult, outcome: PollOutcome
    ) -> PollOutcome:
        now = self._clock()
        if fetched.outcome is FetchOutcome.NOT_MODIFIED:
            next_poll = now + timedelta(seconds=self._poll_seconds)
            self._update(
                claimed.id,
                etag=fetched.etag or claimed.etag,
                last_modified=fetched.last_modified or claimed.last_modified,
                next_poll_at=next_poll,
                consecutive_failures=0,
                last_error=None,
                last_polled_at=now,
                last_success_at=now,
            )
            return replace(outcome, result=Result.NOT_MODIFIED, next_poll_at=next_poll)
        if fetched.outcome is FetchOutcome.GONE:
            reason = fetched.error or "gone (HTTP 410)"
            self._update(
                claimed.id,
                next_poll_at=None,
                disabled_reason=reason[:200],
                last_error=reason[:500],
                last_polled_at=now,
            )
            return replace(outcome, result=Result.GONE, error=reason)
        error = fetched.error or f"HTTP {fetched.status}"
        return self._record_failure(claimed, outcome, error, fetched.retry_after)

    def _record_failure(
        self, claimed: _Claimed, outcome: PollOutcome, error: str, retry_after: float | None
    ) -> PollOutcome:
        now = self._clock()
        failures = claimed.failures + 1
        wait = backoff_seconds(self._poll_seconds, failures)
        if retry_after is not None:
            wait = min(max(int(retry_after), 1), MAX_BACKOFF_SECONDS)
        next_poll = now + timedelta(seconds=wait)
        self._update(
            claimed.id,
            next_poll_at=next_poll,
            consecutive_failures=failures,
            last_error=error[:500],
            last_polled_at=now,
        )
        result = Result.RETRY_LATER if retry_after is not None else Result.FAILED
        return replace(outcome, result=result, error=error, next_poll_at=next_poll)

    def _record_reading(
        self,
        claimed: _Claimed,
        fetched: FetchResult,
        reading: FeedReading,
        outcome: PollOutcome,
    ) -> PollOutcome:
        now = self._clock()
        next_poll = now + timedelta(seconds=self._poll_seconds)
        with session_scope(self._engine) as session:
            feed = session.get(Feed, claimed.id)
            if feed is None:  # removed while it was being polled
                return replace(outcome, result=Result.READ, entries=reading.entries)
            name = feed.name
            if reading.title and feed.name == default_name(feed.url):
                name = reading.title[:200]
            stored = items.store(
                session, feed=feed, publisher=reading.title or name, kept=reading.kept, now=now
            )
            feed.name = name
            feed.etag = fetched.etag
            feed.last_modified = fetched.last_modified
            feed.next_poll_at = next_poll
            feed.claimed_until = None
            feed.consecutive_failures = 0
            feed.last_error = None
            feed.last_polled_at = feed.last_success_at = now
            feed.seen = list(reading.seen)
            session.add(feed)
        return replace(
            outcome,
            name=name,
            result=Result.READ,
            entries=reading.entries,
            unseen=reading.unseen,
            new_items=stored.new,
            updated_items=stored.updated,
            next_poll_at=next_poll,
        )

    def _update(self, feed_id: int, **values: Any) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                sa.update(_feed).where(_feed.c.id == feed_id).values(claimed_until=None, **values)
            )


def poller_for(
    settings: Settings, engine: Engine, *, reader: Executor | None, fetcher: FeedFetcher
) -> FeedPoller:
    return FeedPoller(
        engine,
        fetcher,
        poll_seconds=settings.feed_poll_seconds or DEFAULT_POLL_SECONDS,
        concurrency=settings.feed_concurrency,
        # Long enough for the whole fetch and its reading; past it the poller is presumed dead.
        lease_seconds=int(settings.feed_timeout_seconds) * 3 + 60,
        reader=reader,
        read_seconds=settings.feed_timeout_seconds * 2,
    )


def fetcher_for(settings: Settings) -> FeedFetcher:
    return FeedFetcher(
        timeout_seconds=settings.feed_timeout_seconds,
        max_bytes=settings.feed_max_bytes,
        allow_private_hosts=settings.feed_allow_private_hosts,
        user_agent=USER_AGENT,
    )
