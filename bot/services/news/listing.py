"""News as readers see it: the newest items editors published, as plain values to render.

A title and a publisher are plain text from a feed (templates escape them); a link is shown
only when it is http(s), so no other scheme from a feed ever becomes a link in a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bot.partial_date import PartialDate
from bot.services.news import items
from bot.vocabulary import Topic

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlmodel import Session

    from bot.models import NewsItem

# What readers may ask the news of (GENERAL is for notes, not news).
READER_TOPICS = tuple(topic for topic in Topic if topic is not Topic.GENERAL)


@dataclass(frozen=True, slots=True)
class Headline:
    title: str
    publisher: str
    published_on: PartialDate
    link: str | None  # http(s) only; None: the title is shown without a link


def headlines(
    session: Session,
    *,
    topics: Sequence[Topic] | None = None,
    records: Sequence[str] | None = None,
    limit: int = items.NEWS_LIMIT,
) -> tuple[Headline, ...]:
    """The newest published (or applied) items about any of `topics` or `records`."""
    found = items.newest(session, topics=topics, records=records, limit=limit)
    return tuple(headline(item) for item in found)


def headline(item: NewsItem) -> Headline:
    return Headline(
        # One line each: a line break from a feed would split an item across messages.
        title=" ".join(item.title.split()),
        publisher=" ".join(item.publisher.split()),
        published_on=PartialDate.of(item.published_at.date()),
        link=web_link(item.url),
    )


def web_link(url: str) -> str | None:
    """`url` when it is an http(s) address on one line, else None (never `javascript:`)."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. a malformed IPv6 host
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    # A space or a line break would end the link early or split it across messages.
    return url if url.isprintable() and " " not in url else None
