"""The feeds the bot polls: adding, removing, listing, and their health for editors.

A URL is checked (scheme, and that its host is public unless FEED_ALLOW_PRIVATE_HOSTS) by the
caller before `add`, with `urls.check_feed_url`; the poller checks it again on every connection.
Adding and removing are in the audit log (record type "feed").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from sqlmodel import Session, col, select

from bot.models import Feed, StatusChange
from bot.vocabulary import RecordType

# Beside the dataset's files, not among them: the dataset loader reads every *.yaml there.
DEFAULT_FEEDS_FILE = Path(str(resources.files("bot") / "data" / "feeds" / "defaults.yaml"))
# Removing a feed by a part of its URL or name needs this many characters, so "a" is no match.
_MIN_QUERY = 3


class FeedError(Exception):
    """A feed command that cannot be done; `code` names the template message."""

    def __init__(self, code: str, **details: object) -> None:
        super().__init__(code)
        self.code = code
        self.details = details


class Health(StrEnum):
    NEW = "new"  # not polled yet
    OK = "ok"
    FAILING = "failing"  # the last poll failed; backing off
    DISABLED = "disabled"


@dataclass(frozen=True, slots=True)
class DefaultFeed:
    name: str
    url: str
    enabled: bool


def health(feed: Feed) -> Health:
    if feed.disabled_reason:
        return Health.DISABLED
    if feed.consecutive_failures:
        return Health.FAILING
    return Health.OK if feed.last_polled_at else Health.NEW


def default_name(url: str) -> str:
    return urlsplit(url).hostname or url


def add(session: Session, *, url: str, name: str | None, actor: str, now: datetime) -> Feed:
    """Add a checked URL; it is polled at the next round."""
    if session.exec(select(Feed).where(Feed.url == url)).first() is not None:
        raise FeedError("feed_exists", url=url)
    feed = Feed(
        url=url,
        name=(name or default_name(url)).strip()[:200],
        added_by=actor,
        added_at=now,
        next_poll_at=now,
    )
    session.add(feed)
    session.flush()
    _audit(session, feed, old=None, new=feed.url, actor=actor, now=now)
    return feed


def find(session: Session, query: str) -> Feed:
    """The feed with this URL, id or name; else the one feed whose URL or name contains it."""
    query = query.strip()
    feeds = list(session.exec(select(Feed).order_by(col(Feed.id))).all())
    for feed in feeds:
        if query in (feed.url, str(feed.id)) or query.casefold() == feed.name.casefold():
            return feed
    if len(query) >= _MIN_QUERY:
        folded = query.casefold()
        found = [
            feed
            for feed in feeds
            if folded in feed.url.casefold() or folded in feed.name.casefold()
        ]
        if len(found) == 1:
            return found[0]
        if found:
            raise FeedError("feed_ambiguous", query=query, names=[feed.name for feed in found])
    raise FeedError("feed_unknown", query=query)


def remove(session: Session, *, query: str, actor: str, now: datetime) -> Feed:
    """Remove a feed; its news items stay (editors may have published them)."""
    feed = find(session, query)
    _audit(session, feed, old=feed.url, new=None, actor=actor, now=now)
    session.delete(feed)
    session.flush()
    return feed


def all_feeds(session: Session) -> list[Feed]:
    return list(session.exec(select(Feed).order_by(col(Feed.name), col(Feed.id))).all())


def default_feeds(path: Path = DEFAULT_FEEDS_FILE) -> list[DefaultFeed]:
    content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [
        DefaultFeed(name=str(row["name"]), url=str(row["url"]), enabled=bool(row["enabled"]))
        for row in content.get("feeds", ())
    ]


def add_defaults(session: Session, *, actor: str, now: datetime) -> list[Feed]:
    """The bundled feeds marked enabled, skipping those already present."""
    present = set(session.exec(select(Feed.url)).all())
    return [
        add(session, url=feed.url, name=feed.name, actor=actor, now=now)
        for feed in default_feeds()
        if feed.enabled and feed.url not in present
    ]


def _audit(
    session: Session, feed: Feed, *, old: str | None, new: str | None, actor: str, now: datetime
) -> None:
    session.add(
        StatusChange(
            record_type=RecordType.FEED,
            record_key=str(feed.id),
            field="url",
            old_value=old,
            new_value=new,
            note=feed.name,
            actor=actor,
            at=now,
        )
    )
