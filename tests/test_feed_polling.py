"""Polling feeds into news items: conditional GETs, edits, duplicates, failures, claims.

Each test serves feeds from the local feed server and polls them with the real fetcher (private
hosts allowed, as for a local mirror) into a real database.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from bot.models import Feed, NewsItem
from bot.services.feeds import registry
from bot.services.feeds.fetch import FeedFetcher
from bot.services.feeds.polling import FeedPoller, Result
from bot.vocabulary import NewsState
from tests.feedserver import FeedServer

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
RELEVANT = (
    "India's trade deficit with China widens to record $99.2 billion",
    "Imports from China rose while exports fell, commerce ministry data show.",
)
NEAR_MISS = (
    "India-US trade deal talks resume in Washington",
    "Negotiators met on tariffs and market access.",
)
RARE_EARTHS = (
    "China resumes rare earth magnet shipments to India",
    "Indian firms received licences with end-user certificates.",
)


def rss(*entries: tuple[str, str, str], title: str = "Sample business feed") -> bytes:
    """An RSS 2.0 feed of (title, summary, link) entries."""
    items = "".join(
        f"<item><title>{t}</title><description>{s}</description><link>{link}</link>"
        f"<guid>{link}</guid><pubDate>Mon, 01 Dec 2026 08:00:00 GMT</pubDate></item>"
        for t, s, link in entries
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}'
        f"</title><link>https://news.example/</link><description>x</description>{items}"
        "</channel></rss>"
    ).encode()


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def fetcher() -> AsyncIterator[FeedFetcher]:
    async with FeedFetcher(
        timeout_seconds=2.0, max_bytes=1_000_000, allow_private_hosts=True, user_agent="test"
    ) as client:
        yield client


@pytest.fixture
def make_poller(
    seeded_engine: Engine, fetcher: FeedFetcher, clock: Clock
) -> Callable[..., FeedPoller]:
    def make(engine: Engine = seeded_engine) -> FeedPoller:
        return FeedPoller(
            engine, fetcher, poll_seconds=900, concurrency=4, lease_seconds=120, clock=clock
        )

    return make


def add_feed(engine: Engine, url: str, name: str | None = None) -> int:
    with Session(engine) as session:
        feed = registry.add(session, url=url, name=name, actor="cli", now=NOW)
        session.commit()
        assert feed.id is not None
        return feed.id


def stored(engine: Engine) -> list[NewsItem]:
    with Session(engine) as session:
        return list(session.exec(select(NewsItem).order_by(col(NewsItem.id))).all())


def feed_row(engine: Engine, feed_id: int) -> Feed:
    with Session(engine) as session:
        feed = session.get(Feed, feed_id)
        assert feed is not None
        return feed


async def test_a_poll_keeps_what_concerns_us_and_a_second_is_not_modified(
    seeded_engine: Engine, feed_server: FeedServer, make_poller: Callable[..., FeedPoller]
) -> None:
    body = rss(
        (*RELEVANT, "https://news.example/a?utm_source=x#top"),
        (*NEAR_MISS, "https://news.example/b"),
    )
    url = feed_server.add_feed("/f.xml", body, etag='"v1"')
    feed_id = add_feed(seeded_engine, url)
    poller = make_poller()

    [first] = await poller.poll()
    [item] = stored(seeded_engine)
    assert (first.result, first.entries, first.new_items) == (Result.READ, 2, 1)
    assert item.url == "https://news.example/a"  # trackers and fragment dropped
    assert item.title == RELEVANT[0]
    assert item.state is NewsState.NEW
    assert item.topics == ["trade"]
    assert item.publisher == "Sample business feed"
    # The feed took its own title in place of the host name it was added with.
    assert feed_row(seeded_engine, feed_id).name == "Sample business feed"

    [second] = await poller.poll(every=True)
    assert second.result is Result.NOT_MODIFIED
    assert feed_server.requests("/f.xml")[-1].headers["if-none-match"] == '"v1"'
    assert len(stored(seeded_engine)) == 1
    poller.close()


async def test_an_item_edited_at_the_source_is_updated_and_one_story_in_two_feeds_is_one_item(
    seeded_engine: Engine, feed_server: FeedServer, make_poller: Callable[..., FeedPoller]
) -> None:
    first = feed_server.add_feed("/one.xml", rss((*RARE_EARTHS, "https://news.example/re")))
    second = feed_server.add_feed(
        "/two.xml", rss((*RARE_EARTHS, "https://NEWS.example/re?fbclid=abc"))
    )
    add_feed(seeded_engine, first)
    add_feed(seeded_engine, second)
    poller = make_poller()
    await poller.poll()
    assert len(stored(seeded_engine)) == 1

    edited = ("China resumes rare earth magnet shipments to India, MEA says", RARE_EARTHS[1])
    feed_server.add_feed("/one.xml", rss((*edited, "https://news.example/re")))
    outcomes = await poller.poll(every=True)
    [item] = stored(seeded_engine)
    assert item.title == edited[0]
    assert item.records == ["deal:rare-earth-magnets"]
    assert [(o.new_items, o.updated_items) for o in outcomes] == [(0, 1), (0, 0)]
    poller.close()


async def test_entries_already_read_are_not_matched_again(
    seeded_engine: Engine, feed_server: FeedServer, make_poller: Callable[..., FeedPoller]
) -> None:
    url = feed_server.add_feed("/f.xml", rss((*NEAR_MISS, "https://news.example/b")))
    add_feed(seeded_engine, url)
    poller = make_poller()
    [first] = await poller.poll()
    [second] = await poller.poll(every=True)  # no validators: the server sends it all again
    assert (first.unseen, second.unseen) == (1, 0)
    assert stored(seeded_engine) == []
    poller.close()


async def test_failures_back_off_obey_retry_after_and_gone_disables(
    seeded_engine: Engine,
    feed_server: FeedServer,
    make_poller: Callable[..., FeedPoller],
    clock: Clock,
) -> None:
    broken = add_feed(seeded_engine, feed_server.add_status("/broken.xml", 500))
    busy = add_feed(
        seeded_engine, feed_server.add_status("/busy.xml", 429, headers={"Retry-After": "120"})
    )
    gone = add_feed(seeded_engine, feed_server.add_status("/gone.xml", 410))
    html = add_feed(
        seeded_engine,
        feed_server.add_response(
            "/page.html", b"<html><body><p>Hi</p></body></html>", content_type="text/html"
        ),
    )
    ok = add_feed(
        seeded_engine, feed_server.add_feed("/ok.xml", rss((*RELEVANT, "https://n.example/x")))
    )
    poller = make_poller()
    outcomes = {o.feed_id: o for o in await poller.poll()}

    assert outcomes[ok].result is Result.READ  # the others carried on
    assert outcomes[broken].error == "HTTP 500"
    assert feed_row(seeded_engine, broken).next_poll_at == NOW + timedelta(seconds=1800)
    assert outcomes[busy].result is Result.RETRY_LATER
    assert feed_row(seeded_engine, busy).next_poll_at == NOW + timedelta(seconds=120)
    assert outcomes[gone].result is Result.GONE
    assert feed_row(seeded_engine, gone).next_poll_at is None
    assert registry.health(feed_row(seeded_engine, gone)) is registry.Health.DISABLED
    assert outcomes[html].result is Result.FAILED
    assert outcomes[html].error
    assert registry.health(feed_row(seeded_engine, html)) is registry.Health.FAILING

    # The broken feed fails again later: the wait doubles, and is never more than a day.
    clock.now = NOW + timedelta(hours=1)
    await poller.poll()
    assert feed_row(seeded_engine, broken).next_poll_at == clock.now + timedelta(seconds=3600)
    assert feed_row(seeded_engine, broken).consecutive_failures == 2
    # Nothing is due before its time, and the disabled feed is never polled again.
    requests = len(feed_server.requests())
    assert await poller.poll() == []
    assert len(feed_server.requests()) == requests
    clock.now = NOW + timedelta(days=3)
    polled = {o.feed_id for o in await poller.poll()}
    assert gone not in polled
    assert broken in polled
    poller.close()


@pytest.mark.postgres
async def test_two_pollers_on_postgresql_poll_each_feed_once(
    postgres_seeded_url: str,
    feed_server: FeedServer,
    fetcher: FeedFetcher,
    clock: Clock,
) -> None:
    from bot import db
    from bot.config import Settings

    engine = db.make_engine(Settings(_env_file=None, database_url=postgres_seeded_url))
    paths = [f"/f{n}.xml" for n in range(12)]
    for n, path in enumerate(paths):
        add_feed(engine, feed_server.add_feed(path, rss((*RELEVANT, f"https://n.example/{n}"))))
    pollers = [
        FeedPoller(engine, fetcher, poll_seconds=900, concurrency=3, lease_seconds=120, clock=clock)
        for _ in range(2)
    ]
    rounds = await asyncio.gather(*(poller.poll() for poller in pollers))
    assert sorted(o.feed_id for outcomes in rounds for o in outcomes) == sorted(
        {o.feed_id for outcomes in rounds for o in outcomes}
    )
    assert all(len(feed_server.requests(path)) == 1 for path in paths)
    assert sum(o.new_items for outcomes in rounds for o in outcomes) == 12
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(NewsItem)).one() == 12
    for poller in pollers:
        poller.close()
    engine.dispose()


async def test_a_feed_that_takes_too_long_to_read_fails_and_the_round_goes_on(
    seeded_engine: Engine,
    feed_server: FeedServer,
    fetcher: FeedFetcher,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.services.feeds import polling
    from bot.services.news.reading import read_feed as read

    released = threading.Event()

    def slow_for_one(body: bytes, **kwargs: Any) -> Any:
        if b"slow" in body:
            released.wait(30)  # as feedparser on a pathological document
        return read(body, **kwargs)

    monkeypatch.setattr(polling, "read_feed", slow_for_one)
    slow = add_feed(
        seeded_engine, feed_server.add_feed("/slow.xml", rss((*RELEVANT, "https://n.example/slow")))
    )
    fine = add_feed(
        seeded_engine,
        feed_server.add_feed("/fine.xml", rss((*RARE_EARTHS, "https://n.example/re"))),
    )
    poller = FeedPoller(
        seeded_engine, fetcher, poll_seconds=900, concurrency=2, lease_seconds=120,
        read_seconds=2, clock=clock,
    )  # fmt: skip
    try:
        outcomes = {o.feed_id: o for o in await poller.poll()}
    finally:
        released.set()
    assert outcomes[slow].error == "took longer than 2 s to read"
    assert outcomes[fine].new_items == 1
    assert feed_row(seeded_engine, slow).consecutive_failures == 1
    poller.close()
