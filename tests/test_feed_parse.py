"""Parsing feeds: every format, what a reader is shown, and every kind of bad document.

Parsing never touches the network or the file system: every test here runs with sockets and
name resolution disabled.
"""

from __future__ import annotations

import pickle
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.services.feeds.parse import (
    FeedParseError,
    ParsedEntry,
    ParsedFeed,
    parse_feed,
    plain_text,
)
from tests.feedserver import ATOM, RSS, sample_feed

BASE = "https://www.business-standard.com/rss/economy.rss"


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("parsing tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _parse(name: str, content_type: str | None = None, url: str = BASE) -> ParsedFeed:
    return parse_feed(sample_feed(name), content_type=content_type, url=url)


def _rss(items: str, *, title: str = "Sample", declaration: str = "utf-8") -> bytes:
    return (
        f'<?xml version="1.0" encoding="{declaration}"?>\n<rss version="2.0"><channel>'
        f"<title>{title}</title><link>https://www.example.org/</link>{items}</channel></rss>"
    ).encode(declaration if declaration.lower() != "bogus" else "utf-8")


# --- formats ----------------------------------------------------------------------------------


def test_rss_2_0_as_a_reader_sees_it() -> None:
    feed = _parse("rss20_business.xml", RSS)

    assert feed.title == "Economy & trade — sample feed"
    assert len(feed.entries) == 6
    first = feed.entries[0]
    assert first == ParsedEntry(
        guid="https://www.business-standard.com/economy/news/trade-deficit-with-china-nears-100-bn-in-fy25-amid-dumping-concerns-125041601056_1.html",
        # A relative link made absolute; tracking parameters are the canonical URL's business.
        url="https://www.business-standard.com/economy/news/trade-deficit-with-china-nears-100-bn-in-fy25-amid-dumping-concerns-125041601056_1.html?utm_source=rss&utm_medium=feed",
        title="Trade deficit with China nears $100 bn in FY25 amid dumping concerns",
        # Tags gone, entities decoded, the script and the style dropped, whitespace collapsed.
        summary="Commerce department data put India’s FY25 deficit with China at $99.2 billion,"
        " against $85 billion a year earlier: imports from China rose 11.5% while exports to it"
        " fell 14.5%. Read more & share.",
        publisher=None,
        published=datetime(2025, 4, 15, 18, 30, tzinfo=UTC),
    )
    assert "injected" not in first.summary
    assert "color" not in first.summary


def test_rss_entries_without_a_date_or_a_safe_link() -> None:
    entries = {entry.title[:20]: entry for entry in _parse("rss20_business.xml").entries}

    rare_earths = entries["India secures relief"]
    assert rare_earths.guid == "business-standard-125081900550"
    assert rare_earths.summary.startswith(
        "Rare earth magnets, fertilisers, tunnel boring machines:"
    )
    assert rare_earths.published == datetime(2025, 8, 19, 7, 20, tzinfo=UTC)

    undated = entries["IndiGo resumes Kolka"]
    assert undated.published is None
    assert undated.guid == undated.url  # no guid: the link is the identity

    script_link = entries["India, China agree t"]
    assert script_link.url is None
    assert script_link.guid == "tribune-shipki-la-nathu-la"

    # A date in the future is returned as the feed gives it: the poller clamps it.
    assert entries["India-China Re-Engag"].published == datetime(2099, 8, 14, 17, 43, tzinfo=UTC)
    assert entries["India Plans To Resta"].published is None  # "sometime last week"


def test_google_news_publishers_come_from_source() -> None:
    feed = _parse("google_news.xml", "application/xml; charset=utf-8")

    assert feed.title == '"india china trade" - Google News'
    assert [(entry.title, entry.publisher) for entry in feed.entries] == [
        (
            "India's trade deficit with China hits record $99.2 bn on import surge",
            "Business Standard",
        ),
        ("Trade deficit with China swells to $100 bn in FY25", "The New Indian Express"),
        (
            "IndiGo first to resume flights from India to China with Kolkata-Guangzhou route",
            "Gulf News",
        ),
        ("India resumes direct passenger flights to China: China Daily", "Capital FM"),
    ]
    # Google's description is the title and the publisher again: no summary is better.
    assert {entry.summary for entry in feed.entries} == {""}
    assert feed.entries[0].published == datetime(2025, 4, 16, tzinfo=UTC)


def test_rss_1_0() -> None:
    feed = _parse("rss10.rdf", "application/rdf+xml")

    assert feed.title == "Border trade — sample RSS 1.0"
    today, lipulekh = feed.entries
    assert today.title == "India-China border trade points reopen after 5 years: Why it's important"
    assert today.publisher == "India Today"  # dc:publisher
    assert today.published == datetime(2025, 8, 21, 18, 30, tzinfo=UTC)
    assert lipulekh.url == (
        "https://www.ndtvprofit.com/nation/"
        "lipulekh-pass-in-focus-location-significance-as-india-china-border-trade-is-set-to-resume"
    )
    assert lipulekh.publisher is None


def test_rss_0_91_in_latin_1_with_netscapes_dtd_never_fetched() -> None:
    feed = _parse("rss091.xml", "text/xml")

    assert feed.title == "Border trade — sample RSS 0.91"
    assert [entry.published for entry in feed.entries] == [None, None]
    assert feed.entries[1].summary == (
        "Trade through the three passes was worth about $3.16 million in 2017–18,"
        " the last year with government figures."
    )


def test_atom() -> None:
    feed = _parse("atom.xml", ATOM, url="https://www.example.org/flights.atom")

    assert feed.title == "Flights — sample Atom feed"
    announced, landed, undated = feed.entries
    # Relative to the feed's xml:base, not to the address it was fetched from.
    assert announced.url == (
        "https://www.telegraphindia.com/business/indigo-to-resume-direct-kolkata-guangzhou-"
        "flights-from-october-26-after-five-year-gap/cid/2125880"
    )
    assert announced.guid == "tag:tradewatch.test,2025:telegraph-2125880"
    assert announced.summary == (
        "Daily non-stop flights between Kolkata and Guangzhou are to start on 26 October 2025,"
        " with Delhi–Guangzhou to follow once approved."
    )
    assert announced.published == datetime(2025, 10, 1, 18, 30, tzinfo=UTC)  # from <updated>
    assert landed.summary.startswith("A full IndiGo flight from Kolkata landed in Guangzhou,")
    assert landed.publisher == "Capital FM"  # the entry's <source>
    assert landed.published == datetime(2025, 10, 27, 21, 0, tzinfo=UTC)
    assert undated.published is None


def test_results_are_picklable_for_a_worker_process() -> None:
    feed = _parse("rss20_business.xml")
    assert pickle.loads(pickle.dumps(feed)) == feed


# --- bad documents ---------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/html; charset=utf-8", None, RSS])
def test_an_html_page_is_not_a_feed(content_type: str | None) -> None:
    with pytest.raises(FeedParseError) as refused:
        _parse("html_page.html", content_type)
    assert str(refused.value) == "not a feed (an HTML page)"


def test_malformed_xml_names_the_fault() -> None:
    with pytest.raises(FeedParseError) as refused:
        _parse("malformed.xml", RSS)
    assert str(refused.value) == "malformed XML: mismatched tag (line 6)"


def test_a_feed_cut_short_keeps_the_entries_that_came_through() -> None:
    whole = sample_feed("rss20_business.xml")
    cut = whole[: whole.index(b"<title>IndiGo resumes")]

    feed = parse_feed(cut, content_type=RSS, url=BASE)

    assert (
        [entry.title[:20] for entry in feed.entries]
        == [
            "Trade deficit with C",
            "India secures relief",
            "",  # the third item, cut in the middle: its (empty) title is all there is
        ][: len(feed.entries)]
    )
    assert len(feed.entries) >= 2


def test_a_broken_feed_whose_entries_came_out_empty_is_malformed() -> None:
    body = b'<rss version="2.0"><channel><item><title><![CDATA[Shipki La reopens'
    with pytest.raises(FeedParseError) as refused:
        parse_feed(body, content_type=RSS, url=BASE)
    assert str(refused.value) == "malformed XML: unclosed CDATA section (line 1)"


def test_the_billion_laughs_are_refused() -> None:
    with pytest.raises(FeedParseError) as refused:
        _parse("entity_bomb.xml", RSS)
    assert str(refused.value) == "refused: the document declares XML entities"


def _quadratic_bomb() -> bytes:
    # No entity refers to another, so feedparser keeps the declaration, and expands it itself
    # once expat stops at its amplification limit: 80 KB becomes a 400 MB summary.
    return (
        b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY a "' + b"x" * 20_000 + b'">\n]>\n'
        b'<rss version="2.0"><channel><title>t</title><item><title>x</title><description>'
        + b"&a;" * 20_000
        + b"</description></item></channel></rss>"
    )


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-16-be", "utf-32", "utf-7"])
def test_entity_declarations_are_refused_in_any_encoding(encoding: str) -> None:
    text = _quadratic_bomb().decode()
    if encoding != "utf-8":
        text = text.replace('encoding="utf-8"', "").replace(
            '<?xml version="1.0"?>', f'<?xml version="1.0" encoding="{encoding}"?>'
        )
    body = text.encode(encoding)
    with pytest.raises(FeedParseError, match="declares XML entities"):
        parse_feed(body, content_type=None, url=BASE)
    with pytest.raises(FeedParseError, match="declares XML entities"):
        parse_feed(body, content_type="text/xml", url=BASE)


def test_entity_text_inside_cdata_is_an_article_not_a_declaration() -> None:
    body = _rss(
        "<item><title>XML security</title><link>https://www.example.org/xml</link>"
        '<description><![CDATA[Never expand <!ENTITY a "..."> from strangers.]]></description>'
        "</item>"
    )
    [entry] = parse_feed(body, content_type=RSS, url=BASE).entries
    assert entry.title == "XML security"
    assert entry.summary.startswith("Never expand")


def test_a_feed_behind_a_server_warning_keeps_its_entries() -> None:
    body = b"Warning: session_start(): headers already sent\n" + sample_feed("rss10.rdf")
    feed = parse_feed(body, content_type="text/xml", url=BASE)
    assert [entry.title[:22] for entry in feed.entries] == [
        "India-China border tra",
        "Lipulekh Pass In Focus",
    ]


def test_a_latin_1_feed_declared_as_utf_8_is_read() -> None:
    body = _rss("<item><title>Café Nathu La</title><guid>g1</guid></item>", declaration="utf-8")
    wrong = body.decode().encode("latin-1")

    [entry] = parse_feed(wrong, content_type=RSS, url=BASE).entries

    assert entry.title == "Café Nathu La"


def test_an_unknown_declared_encoding_is_read_as_best_it_can() -> None:
    body = _rss("<item><title>Shipki La</title><guid>g1</guid></item>", declaration="bogus")
    [entry] = parse_feed(body, content_type=None, url=BASE).entries
    assert entry.title == "Shipki La"


def test_the_http_charset_is_followed() -> None:
    body = _rss(
        "<item><title>Lipulekh – Taklakot</title><guid>g1</guid></item>", declaration="utf-8"
    )
    as_cp1252 = body.decode().replace('encoding="utf-8"', "").encode("cp1252")
    [entry] = parse_feed(as_cp1252, content_type="text/xml; charset=windows-1252", url=BASE).entries
    assert entry.title == "Lipulekh – Taklakot"


@pytest.mark.parametrize("body", [b"", b"   \n\t "])
def test_an_empty_document(body: bytes) -> None:
    with pytest.raises(FeedParseError) as refused:
        parse_feed(body, content_type=RSS, url=BASE)
    assert str(refused.value) == "empty document"


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><note><to>editors</to><body>not a feed</body></note>',
        b'{"version": "https://jsonfeed.org/version/1.1", "items": []}',
        b"plain words, nothing else",
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
    ],
)
def test_documents_that_are_not_feeds(body: bytes) -> None:
    with pytest.raises(FeedParseError, match=r"^not a feed"):
        parse_feed(body, content_type=None, url=BASE)


def test_a_valid_feed_with_no_entries_is_an_empty_feed() -> None:
    feed = parse_feed(_rss("", title="Nothing new today"), content_type=RSS, url=BASE)
    assert feed == ParsedFeed(title="Nothing new today", entries=())


def test_bytes_that_look_like_a_file_name_or_url_are_never_opened(tmp_path: Path) -> None:
    # feedparser opens a str or bytes argument as a file or URL; parse_feed must never let it.
    path = tmp_path / "feed.xml"
    path.write_bytes(sample_feed("rss20_business.xml"))
    for body in (str(path).encode(), b"http://127.0.0.1:9/feed.xml", b"file:///etc/passwd"):
        with pytest.raises(FeedParseError):
            parse_feed(body, content_type=None, url=BASE)


# --- entries ----------------------------------------------------------------------------------


def test_at_most_200_entries_in_the_feeds_order() -> None:
    items = "".join(
        f'<item><title>Item {n}</title><guid isPermaLink="false">item-{n}</guid></item>'
        for n in range(250)
    )
    feed = parse_feed(_rss(items), content_type=RSS, url=BASE)
    assert len(feed.entries) == 200
    assert feed.entries[0].guid == "item-0"
    assert feed.entries[-1].guid == "item-199"


@pytest.mark.parametrize(
    ("link", "url"),
    [
        ("/news/1", "https://www.business-standard.com/news/1"),
        ("news/1", "https://www.business-standard.com/rss/news/1"),
        ("//cdn.example.org/a", "https://cdn.example.org/a"),
        ("  https://www.example.org/a  ", "https://www.example.org/a"),
        ("http://www.example.org/a", "http://www.example.org/a"),
        ("javascript:alert(1)", None),
        ("data:text/html;base64,PHNjcmlwdD4=", None),
        ("mailto:desk@example.org", None),
        ("ftp://www.example.org/a", None),
        ("https://", None),
        ("vbscript:msgbox(1)", None),
    ],
)
def test_links_are_absolute_http_or_nothing(link: str, url: str | None) -> None:
    body = _rss(
        f'<item><title>A</title><link>{link}</link><guid isPermaLink="false">g</guid></item>'
    )
    [entry] = parse_feed(body, content_type=RSS, url=BASE).entries
    assert entry.url == url


def test_an_entry_without_guid_or_link_gets_a_stable_hash() -> None:
    body = _rss(
        "<item><title>Nathu La trade season</title>"
        "<pubDate>Mon, 01 Jun 2026 09:00:00 +0530</pubDate></item>"
        "<item><title>Nathu La trade season</title></item>"
    )
    dated, undated = parse_feed(body, content_type=RSS, url=BASE).entries
    again = parse_feed(body, content_type=RSS, url=BASE).entries
    assert dated.guid.startswith("sha256:")
    assert dated.guid != undated.guid  # the date is part of it
    assert (dated.guid, undated.guid) == (again[0].guid, again[1].guid)


def test_a_very_long_guid_is_hashed() -> None:
    body = _rss(f"<item><title>A</title><guid>{'g' * 900}</guid></item>")
    [entry] = parse_feed(body, content_type=RSS, url=BASE).entries
    assert entry.guid.startswith("sha256:")
    assert len(entry.guid) <= 500


def test_titles_and_summaries_are_plain_and_capped() -> None:
    long_title = "Rare earth magnets " * 40
    long_summary = "<p>Fertiliser shipments &amp; urea tenders.</p>" * 200
    body = _rss(
        f"<item><title>{long_title}</title><guid>g</guid>"
        f"<description><![CDATA[{long_summary}]]></description></item>"
    )
    [entry] = parse_feed(body, content_type=RSS, url=BASE).entries
    assert len(entry.title) <= 500
    assert entry.title.endswith("…")
    assert entry.title.startswith("Rare earth magnets Rare earth magnets")
    assert len(entry.summary) <= 1000
    assert entry.summary.startswith("Fertiliser shipments & urea tenders. Fertiliser")
    assert "<" not in entry.summary


def test_html_in_a_title_is_text() -> None:
    body = _rss(
        "<item><title>&lt;b&gt;Rare earths&lt;/b&gt; &amp;amp; magnets: 5 &lt; 6</title>"
        "<guid>g</guid></item>"
    )
    [entry] = parse_feed(body, content_type=RSS, url=BASE).entries
    assert entry.title == "Rare earths & magnets: 5 < 6"


def test_a_permalink_guid_is_the_link() -> None:
    body = _rss("<item><title>Shipki La</title><guid>/news/shipki-la</guid></item>")
    [entry] = parse_feed(body, content_type=RSS, url=BASE).entries
    assert entry.url == "https://www.business-standard.com/news/shipki-la"
    assert entry.guid == entry.url


def test_an_entry_with_nothing_to_read_is_dropped() -> None:
    body = _rss(
        "<item><guid>https://www.example.org/only-a-guid</guid></item>"
        "<item><title>Shipki La</title></item>"
    )
    feed = parse_feed(body, content_type=RSS, url=BASE)
    assert [entry.title for entry in feed.entries] == ["Shipki La"]


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>One</p><p>Two</p>", "One Two"),
        ("Line<br>break", "Line break"),
        ("<script>alert(1)</script>Safe", "Safe"),
        ("<style>.a{}</style><noscript>x</noscript>Shown", "Shown"),
        ("A&nbsp;&amp;&#160;B &lt;tag&gt;", "A & B <tag>"),
        ("tab\there\nnew\u200bline\x07", "tab here newline"),
        ("<a href='https://x.example'>link</a> text", "link text"),
        ("5 < 6 and 7 > 3", "5 < 6 and 7 > 3"),
        ("<img src=x onerror=alert(1)>", ""),
    ],
)
def test_plain_text(html: str, text: str) -> None:
    assert plain_text(html) == text
