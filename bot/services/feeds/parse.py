"""Parsing a fetched feed into plain-text entries (feedparser: RSS 0.9x, 1.0, 2.0, Atom).

Pure and CPU-only: bytes in, frozen dataclasses out (picklable, so a worker process can do it),
no network and no file access. feedparser reads a `str` argument as a URL or a file name, so
the body is always handed over as a stream.

What a feed's text may carry is made harmless here: titles and summaries are plain text (tags
removed, entities decoded, scripts and styles dropped, whitespace collapsed, length capped),
links are absolute http(s) or nothing.

Bad documents end as FeedParseError with the reason; a document feedparser recovered from
(not well-formed, but entries found) keeps its entries. Refused before parsing: a document
that declares its own XML entities. feedparser strips entity declarations that refer to other
entities, but keeps "safe" ones with literal text and expands them itself when expat stops
at its amplification limit: an 80 KB document declaring one 20 KB entity used 20,000 times
became a 400 MB summary and 1.2 GB of memory. Feeds have no use for entity declarations.
"""

from __future__ import annotations

import hashlib
import io
import re
import xml.sax
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
from feedparser.encodings import convert_to_utf8

MAX_ENTRIES = 200
MAX_TITLE = 500
MAX_SUMMARY = 1000
MAX_PUBLISHER = 200
MAX_GUID = 500
MAX_URL = 2000

_ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.IGNORECASE)
_CDATA_START = b"<![CDATA["
_XML_DECLARATION = re.compile(rb"^<\?xml[^>]*\?>")
_BLANK = b"\0 \t\r\n"
_HTML_START = re.compile(rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html[\s>])", re.I | re.S)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200d\u2028\u2029\ufeff]")


class FeedParseError(ValueError):
    """A document that yields no feed; the message is one line a person can read."""


@dataclass(frozen=True, slots=True)
class ParsedEntry:
    guid: str  # the entry's id/guid, else its link, else a hash of title and published
    url: str | None  # absolute http(s) link, or None
    title: str  # plain text, <= 500 characters
    summary: str  # plain text, <= 1000 characters
    publisher: str | None  # the entry's own source (Google News: <source>), else None
    published: datetime | None  # aware UTC, from published or updated; None if absent


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str | None
    entries: tuple[ParsedEntry, ...]  # at most 200, in the feed's order (newest first)


def parse_feed(body: bytes, *, content_type: str | None, url: str) -> ParsedFeed:
    """The feed in `body`, fetched from `url` (the base of relative links).

    An empty feed (a valid RSS or Atom document with no entries) is a feed with no entries,
    not an error: a news search with nothing new today is healthy.
    """
    if not body.strip():
        raise FeedParseError("empty document")
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    # The text feedparser will parse, decoded exactly as it decodes it (declared, sniffed or
    # guessed encoding), so the entity check cannot be dodged with UTF-16 or UTF-7. (UTF-16
    # served as text/xml without a charset is decoded as ASCII, NULs and all: those go too.)
    decoded = convert_to_utf8(dict(headers), body, {})
    if _declares_entities(decoded.replace(b"\0", b"")):
        raise FeedParseError("refused: the document declares XML entities")
    parsed: Any = feedparser.parse(
        io.BytesIO(body),
        response_headers=headers,
        # Summaries become plain text (`_plain`) and links are resolved by `_http_url`, so
        # feedparser's own sanitising and link rewriting would be work thrown away.
        resolve_relative_uris=False,
        sanitize_html=False,
    )
    entries = []
    for raw in list(parsed.get("entries") or [])[:MAX_ENTRIES]:
        entry = _entry(raw, base=url)
        if entry is not None:
            entries.append(entry)
    if not entries:
        _refuse_empty(parsed, str(parsed.get("version") or ""), body, content_type, decoded)
    feed_title = _plain(str(parsed.get("feed", {}).get("title") or ""), MAX_TITLE)
    return ParsedFeed(title=feed_title or None, entries=tuple(entries))


def _refuse_empty(
    parsed: Any, version: str, body: bytes, content_type: str | None, decoded: bytes
) -> None:
    """Raise why a document that gave no entries is not a feed; return if it is an empty feed
    (well-formed RSS or Atom)."""
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    well_formed = problem is None or isinstance(problem, feedparser.NonXMLContentType)
    if version and well_formed:
        return
    # Asked only now: a feed behind a line of server warnings still gives its entries.
    text = _XML_DECLARATION.sub(b"", decoded.lstrip(_BLANK), count=1).lstrip(_BLANK)
    if not text.startswith(b"<"):
        raise FeedParseError("not a feed (not XML)")
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type in ("text/html", "application/xhtml+xml") or _HTML_START.match(body[:2048]):
        raise FeedParseError("not a feed (an HTML page)")
    if isinstance(problem, xml.sax.SAXParseException):
        # feedparser puts a declaration line in front of a document that has none.
        head = body[:64].replace(b"\0", b"").removeprefix(b"\xef\xbb\xbf")
        added = 0 if head.lstrip(b"\xff\xfe").startswith(b"<?xml") else 1
        line = max(1, (problem.getLineNumber() or 1) - added)
        raise FeedParseError(f"malformed XML: {problem.getMessage()} (line {line})")
    if isinstance(problem, feedparser.CharacterEncodingUnknown):
        raise FeedParseError("unreadable text: the encoding is unknown")
    raise FeedParseError("not a feed (no RSS or Atom elements)")


def _declares_entities(document: bytes) -> bool:
    # A declaration can only stand in the prolog, before the root element, and so before the
    # first CDATA section; an article quoting "<!ENTITY" in CDATA is not one.
    declaration = _ENTITY_DECLARATION.search(document)
    if declaration is None:
        return False
    cdata = document.find(_CDATA_START)
    return cdata == -1 or declaration.start() < cdata


def _entry(raw: Any, *, base: str) -> ParsedEntry | None:
    url = _http_url(str(raw.get("link") or ""), base)
    if url == base:
        # feedparser turns a link it refuses (javascript:, data:) into the feed's own address.
        url = None
    title = _plain(str(raw.get("title") or ""), MAX_TITLE)
    summary_html = str(raw.get("summary") or "")
    if not summary_html and raw.get("content"):
        summary_html = str(raw["content"][0].get("value") or "")
    summary = _plain(summary_html, MAX_SUMMARY)
    if not (title or summary):
        return None  # nothing to read, nothing to match
    publisher = _publisher(raw)
    if publisher and title.endswith(f" - {publisher}"):
        # Google News titles end with " - Publisher", and its summary is only the title and
        # the publisher again: the publisher is shown on its own, and no summary is better.
        title = title.removesuffix(f" - {publisher}").rstrip()
        if summary in (title, f"{title} {publisher}"):
            summary = ""
    # dict.get: feedparser's own get() maps a missing "updated_parsed" to "published_parsed"
    # with a deprecation warning.
    published = _when(dict.get(raw, "published_parsed")) or _when(dict.get(raw, "updated_parsed"))
    return ParsedEntry(
        guid=_guid(raw, url, title, published),
        url=url,
        title=title,
        summary=summary,
        publisher=publisher,
        published=published,
    )


def _guid(raw: Any, url: str | None, title: str, published: datetime | None) -> str:
    guid = " ".join(str(raw.get("id") or "").split()) or url
    if not guid:
        stamp = published.isoformat() if published else ""
        guid = "sha256:" + hashlib.sha256(f"{title}\n{stamp}".encode()).hexdigest()
    if len(guid) > MAX_GUID:  # still stable, and short enough to index
        guid = "sha256:" + hashlib.sha256(guid.encode()).hexdigest()
    return guid


def _publisher(raw: Any) -> str | None:
    source = raw.get("source") or {}
    name = source.get("title") if hasattr(source, "get") else None
    text = _plain(str(name or raw.get("publisher") or ""), MAX_PUBLISHER)
    return text or None


def _http_url(link: str, base: str) -> str | None:
    link = link.strip()
    if not link or len(link) > MAX_URL:
        return None
    absolute = urljoin(base, link)
    parts = urlsplit(absolute)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in absolute):
        return None
    return absolute


def _when(value: Any) -> datetime | None:
    # feedparser gives a UTC time.struct_time, or None when the date was absent or unreadable.
    if value is None:
        return None
    try:
        year, month, day, hour, minute, second = (int(part) for part in tuple(value)[:6])
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


class _TextExtractor(HTMLParser):
    """The readable text of an HTML fragment: no tags, no scripts or styles."""

    _SKIPPED = frozenset({"script", "style", "noscript", "template", "head", "title"})
    _BREAKS = frozenset(
        {"br", "p", "div", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6"}
        | {"blockquote", "pre", "section", "article", "header", "footer", "ul", "ol", "table"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIPPED:
            self._skipping += 1
        elif tag in self._BREAKS:
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._BREAKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIPPED:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BREAKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def plain_text(html: str) -> str:
    """An HTML fragment (or plain text) as one line of plain text."""
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    text = _CONTROL.sub("", "".join(extractor.parts))
    return " ".join(text.split())


def _plain(html: str, limit: int) -> str:
    text = plain_text(html)
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-") + "…"
