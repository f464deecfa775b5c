"""Feeds and news from the command line: `feeds add|list|remove|poll` and `news`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import TYPE_CHECKING

from bot import db
from bot.bootstrap import open_database
from bot.cli.common import EXIT_FAILURE, EXIT_USAGE, Commands
from bot.vocabulary import Actor, Topic

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlmodel import Session

    from bot.config import Settings
    from bot.models import Feed
    from bot.services.feeds.polling import PollOutcome

# The bot's messages for these live in templates/; the CLI speaks to operators in plain lines.
_FEED_ERRORS = {
    "feed_exists": "that feed is already in the list: {url}",
    "feed_unknown": "no feed matches {query!r} (see `tradewatch feeds list`)",
    "feed_ambiguous": "{query!r} matches several feeds: {names}; give the URL or the id",
}
READER_TOPICS = tuple(topic.value for topic in Topic if topic is not Topic.GENERAL)


def add_commands(commands: Commands) -> None:
    feeds = commands.add_parser("feeds", help="the news feeds the bot watches: add, list, poll")
    actions = feeds.add_subparsers(dest="feeds_command", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="watch a feed (RSS or Atom, http or https)")
    add.add_argument("url")
    add.add_argument("--name", help="how editors see it (default: the feed's own title)")
    add.set_defaults(handler=_feeds_add)
    listing = actions.add_parser("list", help="the feeds with their health")
    listing.set_defaults(handler=_feeds_list)
    remove = actions.add_parser("remove", help="stop watching a feed (its news items stay)")
    remove.add_argument("feed", help="the feed's URL, id or name")
    remove.set_defaults(handler=_feeds_remove)
    poll = actions.add_parser(
        "poll", help="poll every feed once now (for cron, or to try a feed); exit 0 on failures"
    )
    poll.set_defaults(handler=_feeds_poll)

    news = commands.add_parser(
        "news", help="the newest news items the feeds brought (all but the dismissed)"
    )
    news.add_argument("--topic", choices=READER_TOPICS)
    news.add_argument(
        "--published",
        action="store_true",
        help="only what readers see: items editors published or updated a record from",
    )
    news.add_argument("--limit", type=int, default=20)
    news.add_argument("--json", action="store_true", help="a JSON list of objects")
    news.set_defaults(handler=_news)


def _feeds_add(settings: Settings, args: argparse.Namespace) -> int:
    from bot.models import utcnow
    from bot.services.feeds import registry
    from bot.services.feeds.urls import UnsafeFeedURLError, check_feed_url

    try:
        url = asyncio.run(
            check_feed_url(args.url, allow_private_hosts=settings.feed_allow_private_hosts)
        )
    except UnsafeFeedURLError as exc:
        print(f"tradewatch: refused: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return _change_feeds(
        settings,
        lambda session: registry.add(
            session, url=url, name=args.name, actor=Actor.CLI, now=utcnow()
        ),
        done="added feed {id}: {name} <{url}>; polled at the next round",
    )


def _feeds_list(settings: Settings, args: argparse.Namespace) -> int:
    from bot.services.feeds import registry

    engine = open_database(settings)
    with db.session_scope(engine) as session:
        feeds = registry.all_feeds(session)
    if not feeds:
        print("no feeds yet: `tradewatch feeds add URL`")
    for feed in feeds:
        state = registry.health(feed).value
        detail = feed.disabled_reason or feed.last_error or ""
        polled = f"{feed.last_polled_at:%Y-%m-%d %H:%M}" if feed.last_polled_at else "never"
        print(f"{feed.id}\t{state}\t{feed.name}\t{feed.url}\tpolled {polled}\t{detail}".rstrip())
    return 0


def _feeds_remove(settings: Settings, args: argparse.Namespace) -> int:
    from bot.models import utcnow
    from bot.services.feeds import registry

    return _change_feeds(
        settings,
        lambda session: registry.remove(session, query=args.feed, actor=Actor.CLI, now=utcnow()),
        done="removed feed {id}: {name} <{url}>",
    )


def _change_feeds(settings: Settings, change: Callable[[Session], Feed], *, done: str) -> int:
    """One change of the feed list in its own transaction; a refusal is one line, exit 1."""
    from bot.services.feeds import registry

    engine = open_database(settings)
    try:
        with db.session_scope(engine) as session:
            feed = change(session)
    except registry.FeedError as exc:
        print(f"tradewatch: {_FEED_ERRORS[exc.code].format(**exc.details)}", file=sys.stderr)
        return EXIT_FAILURE
    print(done.format(id=feed.id, name=feed.name, url=feed.url))
    return 0


def _feeds_poll(settings: Settings, args: argparse.Namespace) -> int:
    from bot.services.feeds.polling import fetcher_for, poller_for

    engine = open_database(settings)

    async def poll() -> list[PollOutcome]:
        async with fetcher_for(settings) as fetcher:
            poller = poller_for(settings, engine, reader=None, fetcher=fetcher)
            try:
                return await poller.poll(every=True)
            finally:
                poller.close()

    outcomes = asyncio.run(poll())
    if not outcomes:
        print("no feeds to poll: `tradewatch feeds add URL`")
        return 0
    for outcome in outcomes:
        print(_poll_line(outcome))
    failed = sum(outcome.error is not None for outcome in outcomes)
    new = sum(outcome.new_items for outcome in outcomes)
    updated = sum(outcome.updated_items for outcome in outcomes)
    print(f"total: {len(outcomes)} feeds, {new} new items, {updated} updated, {failed} failed")
    return 0


def _poll_line(outcome: PollOutcome) -> str:
    from bot.services.feeds.polling import Result

    head = f"{outcome.name} <{outcome.url}>:"
    if outcome.result is Result.READ:
        return (
            f"{head} ok, {outcome.entries} entries, {outcome.unseen} unread, "
            f"{outcome.new_items} new items, {outcome.updated_items} updated"
        )
    if outcome.result is Result.NOT_MODIFIED:
        return f"{head} not modified"
    if outcome.result is Result.GONE:
        return f"{head} disabled: {outcome.error}"
    when = f"; next try {outcome.next_poll_at:%Y-%m-%d %H:%M} UTC" if outcome.next_poll_at else ""
    return f"{head} failed: {outcome.error}{when}"


def _news(settings: Settings, args: argparse.Namespace) -> int:
    from bot.services.feeds import registry
    from bot.services.news import items
    from bot.vocabulary import NewsState

    if args.limit < 1:
        print("tradewatch: --limit must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    engine = open_database(settings)
    states = items.SHOWN_TO_READERS if args.published else items.NOT_DISMISSED
    topics = [Topic(args.topic)] if args.topic else None
    with db.session_scope(engine) as session:
        found = items.newest(session, topics=topics, states=states, limit=args.limit)
        feeds = {feed.id: feed.name for feed in registry.all_feeds(session)}
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "url": item.url,
                        "title": item.title,
                        "summary": item.summary,
                        "publisher": item.publisher,
                        "published_at": item.published_at.isoformat(),
                        "feed": feeds.get(item.feed_id) if item.feed_id else None,
                        "topics": item.topics,
                        "records": item.records,
                        "why": item.why,
                        "state": item.state.value,
                    }
                    for item in found
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    if not found:
        print("no published news items yet" if args.published else "no news items yet")
    for item in found:
        flag = "" if item.state in (NewsState.PUBLISHED, NewsState.APPLIED) else f" [{item.state}]"
        print(f"{item.published_at:%Y-%m-%d}  {item.title} ({item.publisher}){flag}")
        print(f"            {item.url}  [{', '.join(item.topics)}]")
    return 0
