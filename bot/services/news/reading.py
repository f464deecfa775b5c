"""Reading one fetched feed: parse it, skip what was read before, keep what concerns us.

`read_feed` is pure and CPU-bound (feedparser, the matcher), with picklable arguments and
result, so a poll runs it in a worker process: hundreds of feeds parsed at once never hold the
interpreter lock that answers to questions need.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass

from bot.services.feeds.parse import ParsedEntry, parse_feed
from bot.services.feeds.urls import UnsafeFeedURLError, canonical_url
from bot.services.news.matching import NewsMatch, NewsMatcher
from bot.services.questions.catalog import Catalog, CatalogEntry

SEEN_LIMIT = 400  # entries remembered per feed: more than any feed lists at once


@dataclass(frozen=True, slots=True)
class KeptEntry:
    entry: ParsedEntry
    url: str  # canonical
    content_hash: str
    match: NewsMatch


@dataclass(frozen=True, slots=True)
class FeedReading:
    title: str | None
    entries: int  # in the feed now
    unseen: int  # of those, new or edited since the last read
    kept: tuple[KeptEntry, ...]
    seen: tuple[str, ...]  # the feed's seen set after this read


def content_hash(title: str, summary: str) -> str:
    return hashlib.blake2b(f"{title}\n{summary}".encode(), digest_size=16).hexdigest()


def _entry_hash(entry: ParsedEntry) -> str:
    # Of what matching reads, so an entry edited at the source is read again.
    return hashlib.blake2b(
        f"{entry.guid}\n{entry.title}\n{entry.summary}".encode(), digest_size=8
    ).hexdigest()


@functools.lru_cache(maxsize=4)
def _matcher(entries: tuple[CatalogEntry, ...]) -> NewsMatcher:
    return NewsMatcher(Catalog(entries))


def read_feed(
    body: bytes,
    *,
    content_type: str | None,
    url: str,
    catalog: tuple[CatalogEntry, ...],
    seen: tuple[str, ...],
) -> FeedReading:
    """Raises `FeedParseError` when the body is not a feed."""
    parsed = parse_feed(body, content_type=content_type, url=url)
    matcher = _matcher(catalog)
    known = frozenset(seen)
    hashes: list[str] = []
    kept: list[KeptEntry] = []
    unseen = 0
    for entry in parsed.entries:
        hashed = _entry_hash(entry)
        hashes.append(hashed)
        if hashed in known:
            continue
        unseen += 1
        if entry.url is None:
            continue  # readers are always given the link
        match = matcher.match(entry.title, entry.summary)
        if match is None:
            continue
        try:
            canonical = canonical_url(entry.url)
        except UnsafeFeedURLError:
            continue
        kept.append(KeptEntry(entry, canonical, content_hash(entry.title, entry.summary), match))
    # The current entries first, then older memory, so an entry that drops out of the feed
    # and comes back within SEEN_LIMIT is still known.
    remembered = tuple(dict.fromkeys([*hashes, *seen]))[:SEEN_LIMIT]
    return FeedReading(parsed.title, len(parsed.entries), unseen, tuple(kept), remembered)
