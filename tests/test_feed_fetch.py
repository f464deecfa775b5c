"""Fetching feeds from the local feed server: every outcome, every bad server, the guard.

Nothing here leaves the machine: the feed server is on 127.0.0.1, and the guard's tests reach
it under public-looking names through `FakeInternet`, which refuses any other address.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
import trustme
from pytest_httpserver import HTTPServer
from werkzeug import Response

from bot.services.feeds.fetch import (
    FeedFetcher,
    FetchOutcome,
    FetchRequest,
    FetchResult,
    parse_retry_after,
    size_text,
)
from bot.services.feeds.transport import GuardedTransport
from bot.services.feeds.urls import resolve_host
from tests.feedserver import ATOM, RSS, FakeInternet, FeedServer, sample_feed

MAX_BYTES = 64_000
TIMEOUT = 0.5
USER_AGENT = "TradeWatch-test/1.0"
LAST_MODIFIED = "Wed, 16 Apr 2025 06:30:00 GMT"
PUBLIC_IP = "93.184.215.14"

MakeFetcher = Callable[..., FeedFetcher]
Fetch = Callable[..., Awaitable[FetchResult]]


@pytest.fixture
async def make_fetcher() -> AsyncIterator[MakeFetcher]:
    """Fetchers with the test limits (0.5 s, 64 KB); private hosts allowed unless told."""
    fetchers: list[FeedFetcher] = []

    def make(**overrides: Any) -> FeedFetcher:
        options: dict[str, Any] = {
            "timeout_seconds": TIMEOUT,
            "max_bytes": MAX_BYTES,
            "allow_private_hosts": True,
            "user_agent": USER_AGENT,
            **overrides,
        }
        fetcher = FeedFetcher(**options)
        fetchers.append(fetcher)
        return fetcher

    yield make
    for fetcher in fetchers:
        await fetcher.aclose()


@pytest.fixture
def fetch(make_fetcher: MakeFetcher) -> Fetch:
    fetcher = make_fetcher()

    async def fetch_url(
        url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        return await fetcher.fetch(FetchRequest(url, etag=etag, last_modified=last_modified))

    return fetch_url


def _failed(result: FetchResult, error: str) -> None:
    assert result.outcome is FetchOutcome.FAILED, result
    assert result.error == error
    assert result.body is None


# --- a healthy feed ---------------------------------------------------------------------------


async def test_a_feed_is_fetched_with_its_validators(feed_server: FeedServer, fetch: Fetch) -> None:
    body = sample_feed("rss20_business.xml")
    url = feed_server.add_feed("/trade.xml", body, etag='"v1"', last_modified=LAST_MODIFIED)

    result = await fetch(url)

    assert result == FetchResult(
        outcome=FetchOutcome.OK,
        url=url,
        status=200,
        body=body,
        content_type=RSS,
        etag='"v1"',
        last_modified=LAST_MODIFIED,
        retry_after=None,
        error=None,
    )
    [sent] = feed_server.requests("/trade.xml")
    assert sent.headers["user-agent"] == USER_AGENT
    assert sent.headers["accept-encoding"] == "gzip, deflate"
    assert "rss+xml" in sent.headers["accept"]
    assert "if-none-match" not in sent.headers
    assert "if-modified-since" not in sent.headers


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("rss10.rdf", "application/rdf+xml"),
        ("rss091.xml", "text/xml; charset=iso-8859-1"),
        ("atom.xml", ATOM),
        ("google_news.xml", "application/xml; charset=utf-8"),
    ],
)
async def test_every_feed_format_is_fetched_as_it_is(
    feed_server: FeedServer, fetch: Fetch, name: str, content_type: str
) -> None:
    url = feed_server.add_feed(f"/{name}", sample_feed(name), content_type=content_type)
    result = await fetch(url)
    assert result.outcome is FetchOutcome.OK
    assert result.body == sample_feed(name)
    assert result.content_type == content_type


async def test_an_unchanged_feed_is_not_modified(feed_server: FeedServer, fetch: Fetch) -> None:
    url = feed_server.add_feed(
        "/trade.xml", sample_feed("rss20_business.xml"), etag='"v1"', last_modified=LAST_MODIFIED
    )

    by_etag = await fetch(url, etag='"v1"', last_modified=LAST_MODIFIED)
    by_date = await fetch(url, last_modified=LAST_MODIFIED)

    for result in (by_etag, by_date):
        assert result.outcome is FetchOutcome.NOT_MODIFIED
        assert (result.status, result.body, result.error) == (304, None, None)
    assert (by_etag.etag, by_etag.last_modified) == ('"v1"', LAST_MODIFIED)
    first, second = feed_server.requests("/trade.xml")
    assert first.headers["if-none-match"] == '"v1"'
    assert first.headers["if-modified-since"] == LAST_MODIFIED
    assert "if-none-match" not in second.headers
    assert second.headers["if-modified-since"] == LAST_MODIFIED


async def test_a_304_without_validators_keeps_the_ones_sent(
    feed_server: FeedServer, fetch: Fetch
) -> None:
    url = feed_server.add_response("/bare-304.xml", status=304)
    result = await fetch(url, etag='"v7"', last_modified=LAST_MODIFIED)
    assert result.outcome is FetchOutcome.NOT_MODIFIED
    assert (result.etag, result.last_modified) == ('"v7"', LAST_MODIFIED)


async def test_a_changed_feed_is_fetched_again(feed_server: FeedServer, fetch: Fetch) -> None:
    url = feed_server.add_feed("/trade.xml", sample_feed("rss20_business.xml"), etag='"v1"')
    feed_server.add_feed("/trade.xml", sample_feed("google_news.xml"), etag='"v2"')

    result = await fetch(url, etag='"v1"')

    assert result.outcome is FetchOutcome.OK
    assert result.body == sample_feed("google_news.xml")
    assert result.etag == '"v2"'


async def test_compressed_feeds_are_inflated(feed_server: FeedServer, fetch: Fetch) -> None:
    body = sample_feed("atom.xml")
    raw_deflate = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    answers = {
        "/gzip.xml": ("gzip", None),
        "/zlib.xml": ("deflate", zlib.compress(body)),
        "/raw-deflate.xml": ("deflate", raw_deflate.compress(body) + raw_deflate.flush()),
    }
    feed_server.add_feed("/gzip.xml", body, content_type=ATOM, compress=True)
    for path, (encoding, sent) in answers.items():
        if sent is not None:
            feed_server.add_response(
                path, sent, content_type=ATOM, headers={"Content-Encoding": encoding}
            )

    for path in answers:
        result = await fetch(feed_server.url(path))
        assert result.outcome is FetchOutcome.OK, path
        assert result.body == body, path


async def test_many_feeds_at_once_through_one_fetcher(
    feed_server: FeedServer, fetch: Fetch
) -> None:
    urls = [
        feed_server.add_feed(f"/feed-{n}.xml", sample_feed("rss10.rdf"), etag=f'"{n}"')
        for n in range(20)
    ]
    results = await asyncio.gather(*(fetch(url) for url in urls))
    assert [result.outcome for result in results] == [FetchOutcome.OK] * 20
    assert [result.etag for result in results] == [f'"{n}"' for n in range(20)]


async def test_the_fetcher_is_an_async_context_manager(feed_server: FeedServer) -> None:
    url = feed_server.add_feed("/trade.xml", sample_feed("rss091.xml"))
    async with FeedFetcher(
        timeout_seconds=TIMEOUT, max_bytes=MAX_BYTES, allow_private_hosts=True, user_agent="x"
    ) as fetcher:
        result = await fetcher.fetch(FetchRequest(url))
    assert result.outcome is FetchOutcome.OK


# --- what the server says ---------------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 401, 403, 404, 500, 502, 504])
async def test_an_http_error_fails_with_its_status(
    feed_server: FeedServer, fetch: Fetch, status: int
) -> None:
    url = feed_server.add_status("/feed.xml", status)
    result = await fetch(url)
    _failed(result, f"HTTP {status}")
    assert result.status == status


async def test_410_means_gone(feed_server: FeedServer, fetch: Fetch) -> None:
    result = await fetch(feed_server.add_status("/feed.xml", 410))
    assert (result.outcome, result.status, result.error) == (FetchOutcome.GONE, 410, "HTTP 410")


@pytest.mark.parametrize(
    ("status", "retry_after", "expected"),
    [
        (429, "120", 120.0),
        (503, "0", 0.0),
        (429, "864000", 86_400.0),  # ten days asked, a day at most
        (503, None, None),
        (429, "soon", None),
        (429, "-5", None),
    ],
)
async def test_429_and_503_mean_retry_later(
    feed_server: FeedServer, fetch: Fetch, status: int, retry_after: str | None, expected: float
) -> None:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    result = await fetch(feed_server.add_status("/feed.xml", status, headers=headers))
    assert result.outcome is FetchOutcome.RETRY_LATER
    assert (result.status, result.retry_after, result.error) == (status, expected, f"HTTP {status}")


async def test_retry_after_as_an_http_date(feed_server: FeedServer, fetch: Fetch) -> None:
    when = datetime.now(UTC) + timedelta(hours=1)
    headers = {"Retry-After": format_datetime(when, usegmt=True)}
    result = await fetch(feed_server.add_status("/feed.xml", 429, headers=headers))
    assert result.retry_after is not None
    assert 3000 < result.retry_after <= 3600


def test_parse_retry_after() -> None:
    now = datetime(2025, 10, 26, 12, 0, tzinfo=UTC)
    assert parse_retry_after("30", now=now) == 30.0
    assert parse_retry_after(" 30 ", now=now) == 30.0
    assert parse_retry_after("Sun, 26 Oct 2025 12:05:00 GMT", now=now) == 300.0
    assert parse_retry_after("Sun, 26 Oct 2025 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("Sun, 02 Nov 2025 12:00:00 GMT", now=now) == 86_400.0
    assert parse_retry_after("Sun, 26 Oct 2025 12:05:00 -0000", now=now) == 300.0
    for garbage in (None, "", "soon", "1.5", "Sun, 99 Foo 2025", "-1"):
        assert parse_retry_after(garbage, now=now) is None


def test_sizes_are_said_in_round_figures() -> None:
    assert size_text(5_000_000) == "5 MB"
    assert size_text(5 * 1024 * 1024) == "5.2 MB"
    assert size_text(64_000) == "64 KB"
    assert size_text(512) == "512 bytes"


# --- bodies -----------------------------------------------------------------------------------


async def test_a_body_over_the_limit_fails(feed_server: FeedServer, fetch: Fetch) -> None:
    big = b"<rss>" + b" " * MAX_BYTES + b"</rss>"
    declared = feed_server.add_response("/declared.xml", big, content_type=RSS)
    streamed = feed_server.add_response("/chunked.xml", iter([big[:40_000], big[40_000:]]))
    just_fits = feed_server.add_response("/fits.xml", big[:MAX_BYTES], content_type=RSS)

    _failed(await fetch(declared), "larger than 64 KB")
    _failed(await fetch(streamed), "larger than 64 KB")
    assert (await fetch(just_fits)).body == big[:MAX_BYTES]


async def test_a_content_length_over_the_limit_is_refused_before_reading(
    feed_server: FeedServer, fetch: Fetch
) -> None:
    url = feed_server.add(
        "/huge.xml",
        lambda request: Response(
            iter([b"<rss>"]), headers={"Content-Length": "900000000", "Content-Type": RSS}
        ),
    )
    _failed(await fetch(url), "larger than 64 KB")


def _gzip_bomb(inflated_size: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    zeros = b"\0" * 1_000_000
    parts = [packer.compress(zeros) for _ in range(inflated_size // len(zeros))]
    return b"".join(parts) + packer.flush()


async def test_a_gzip_bomb_is_refused(feed_server: FeedServer, fetch: Fetch) -> None:
    bomb = _gzip_bomb(60_000_000)  # 60 MB of zeros in about 60 KB: under the wire limit
    assert len(bomb) < MAX_BYTES
    url = feed_server.add_response(
        "/bomb.xml", bomb, content_type=RSS, headers={"Content-Encoding": "gzip"}
    )
    _failed(await fetch(url), "larger than 64 KB")


@contextlib.asynccontextmanager
async def _answering(response: bytes) -> AsyncIterator[str]:
    """A bare HTTP server in this event loop that sends `response` to every request.

    For measuring the client's memory: tracemalloc counts every thread, and the threaded
    feed server allocates megabytes of its own when a client hangs up on it.
    """

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(response)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/bomb.xml"
    finally:
        server.close()
        await server.wait_closed()


async def test_a_gzip_bomb_is_never_inflated_in_memory(fetch: Fetch) -> None:
    bomb = _gzip_bomb(60_000_000)
    head = (
        "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Encoding: gzip\r\n"
        f"Content-Length: {len(bomb)}\r\nConnection: close\r\n\r\n"
    )
    async with _answering(head.encode() + bomb) as url:
        await fetch(url)  # the first fetch imports and sets up what it needs
        tracemalloc.start()
        try:
            result = await fetch(url)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

    _failed(result, "larger than 64 KB")
    # Inflating one 64 KB network chunk in one go, as httpx's own decoder does, takes 64 MB.
    assert peak < 2_000_000


async def test_a_corrupt_or_cut_compressed_body_fails(
    feed_server: FeedServer, fetch: Fetch
) -> None:
    compressed = zlib.compress(sample_feed("atom.xml"))
    corrupt = feed_server.add_response(
        "/corrupt.xml",
        b"\x1f\x8b\x08\x00\0\0\0\0\0\xff" + b"\xff" * 40,
        headers={"Content-Encoding": "gzip"},
    )
    cut = feed_server.add_response(
        "/cut.xml", compressed[: len(compressed) // 2], headers={"Content-Encoding": "deflate"}
    )
    brotli = feed_server.add_response("/br.xml", b"\x0b\x02", headers={"Content-Encoding": "br"})

    _failed(await fetch(corrupt), "could not decompress the body (gzip)")
    _failed(await fetch(cut), "the compressed body is cut short (deflate)")
    _failed(await fetch(brotli), "unsupported content encoding (br)")


@pytest.mark.parametrize(
    "content_type",
    ["image/png", "audio/mpeg", "video/mp4", "application/pdf", "application/zip", "font/woff2"],
)
async def test_a_type_that_is_never_a_feed_is_refused(
    feed_server: FeedServer, fetch: Fetch, content_type: str
) -> None:
    url = feed_server.add_response("/feed.xml", b"\x89PNG....", content_type=content_type)
    result = await fetch(url)
    _failed(result, f"not a feed ({content_type})")
    assert result.status == 200


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/html; charset=utf-8",
        "application/octet-stream",
        "text/plain",
        "application/json",
    ],
)
async def test_other_types_are_left_to_the_parser(
    feed_server: FeedServer, fetch: Fetch, content_type: str | None
) -> None:
    body = sample_feed("rss20_business.xml")
    url = feed_server.add_response("/feed.xml", body, content_type=content_type)
    result = await fetch(url)
    assert (result.outcome, result.body, result.content_type) == (
        FetchOutcome.OK,
        body,
        content_type,
    )


# --- slow servers ----------------------------------------------------------------------------


async def test_a_server_that_never_answers_times_out(feed_server: FeedServer, fetch: Fetch) -> None:
    result = await fetch(feed_server.add_silent("/hangs.xml"))
    _failed(result, "timed out after 0.5 s")
    assert result.status is None


async def test_a_server_that_trickles_is_cut_at_the_deadline(
    feed_server: FeedServer, fetch: Fetch
) -> None:
    # One byte every 50 ms never trips a read timeout: only the whole-fetch deadline ends it.
    result = await fetch(feed_server.add_trickle("/trickle.xml", interval=0.05))
    _failed(result, "timed out after 0.5 s")
    assert result.status == 200


async def test_the_deadline_covers_redirect_hops(feed_server: FeedServer, fetch: Fetch) -> None:
    feed_server.add_silent("/hangs.xml")
    result = await fetch(feed_server.add_redirect("/moved.xml", "/hangs.xml"))
    _failed(result, "timed out after 0.5 s")
    assert result.url == feed_server.url("/hangs.xml")


async def test_a_closed_port_fails_to_connect(fetch: Fetch) -> None:
    with socket_bound_but_not_listening() as port:
        result = await fetch(f"http://127.0.0.1:{port}/feed.xml")
    _failed(result, "could not connect")


# --- redirects --------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_a_redirect_is_followed_to_the_feed(
    feed_server: FeedServer, fetch: Fetch, status: int
) -> None:
    final = feed_server.add_feed("/new/feed.xml", sample_feed("atom.xml"), etag='"a"')
    feed_server.add_redirect("/old/feed.xml", "../new/feed.xml", status=status)  # relative

    result = await fetch(feed_server.url("/old/feed.xml"), etag='"z"')

    assert (result.outcome, result.url, result.etag) == (FetchOutcome.OK, final, '"a"')
    # The conditional headers go along: the validators belong to the feed, wherever it is.
    assert feed_server.requests("/new/feed.xml")[0].headers["if-none-match"] == '"z"'


async def test_five_redirects_are_followed_six_are_not(
    feed_server: FeedServer, fetch: Fetch
) -> None:
    feed_server.add_feed("/hop-0.xml", sample_feed("rss10.rdf"))
    for hop in range(1, 7):
        feed_server.add_redirect(f"/hop-{hop}.xml", f"/hop-{hop - 1}.xml")

    assert (await fetch(feed_server.url("/hop-5.xml"))).outcome is FetchOutcome.OK
    result = await fetch(feed_server.url("/hop-6.xml"))
    _failed(result, "more than 5 redirects")
    assert len(feed_server.requests("/hop-0.xml")) == 1  # the sixth hop was never followed


async def test_a_redirect_loop_is_named(feed_server: FeedServer, fetch: Fetch) -> None:
    feed_server.add_redirect("/a.xml", "/b.xml")
    feed_server.add_redirect("/b.xml", "/a.xml")
    feed_server.add_redirect("/self.xml", "/self.xml", status=302)

    _failed(await fetch(feed_server.url("/a.xml")), "redirect loop")
    _failed(await fetch(feed_server.url("/self.xml")), "redirect loop")


@pytest.mark.parametrize(
    "location",
    ["ftp://127.0.0.1/feed.xml", "file:///etc/passwd", "javascript:alert(1)", "gopher://x/"],
)
async def test_a_redirect_to_another_scheme_is_refused(
    feed_server: FeedServer, fetch: Fetch, location: str
) -> None:
    result = await fetch(feed_server.add_redirect("/feed.xml", location))
    _failed(result, "redirect refused: only http and https feeds are allowed")
    assert result.status == 301


async def test_a_redirect_without_a_location_fails(feed_server: FeedServer, fetch: Fetch) -> None:
    result = await fetch(feed_server.add_response("/feed.xml", status=302))
    _failed(result, "HTTP 302 without a Location")


async def test_a_feed_address_that_is_not_http_is_refused(fetch: Fetch) -> None:
    _failed(await fetch("file:///etc/passwd"), "refused: only http and https feeds are allowed")


# --- the guard: every connection checked --------------------------------------------------------


@pytest.fixture
def internet(feed_server: FeedServer) -> FakeInternet:
    return FakeInternet(
        server_port=feed_server.port,
        names={
            "news.example.com": [PUBLIC_IP],
            "metadata.example": ["169.254.169.254"],
            "intranet.example.com": ["10.0.0.5"],
            "split.example.com": [PUBLIC_IP, "192.168.1.10"],
        },
    )


@pytest.fixture
def guarded_fetch(make_fetcher: MakeFetcher, internet: FakeInternet) -> Fetch:
    """Private hosts NOT allowed; the local server is reachable only as a public address."""
    transport = GuardedTransport(
        allow_private_hosts=False, resolver=internet.resolve, network_backend=internet.backend
    )
    fetcher = make_fetcher(allow_private_hosts=False, transport=transport)

    async def fetch_url(url: str) -> FetchResult:
        return await fetcher.fetch(FetchRequest(url))

    return fetch_url


async def test_a_public_host_is_fetched(
    feed_server: FeedServer, internet: FakeInternet, guarded_fetch: Fetch
) -> None:
    feed_server.add_feed("/rss", sample_feed("google_news.xml"))
    result = await guarded_fetch("http://news.example.com/rss")
    assert result.outcome is FetchOutcome.OK
    assert internet.connections == [PUBLIC_IP]


@pytest.mark.parametrize(
    ("location", "refusal"),
    [
        ("http://127.0.0.1/feed.xml", "127.0.0.1 is a loopback address"),
        ("http://[::1]:8080/feed.xml", "::1 is a loopback address"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
        (
            "http://metadata.example/latest/meta-data/",
            "metadata.example resolves to a link-local address (169.254.169.254)",
        ),
        (
            "https://intranet.example.com/admin",
            "intranet.example.com resolves to a private address (10.0.0.5)",
        ),
        (
            "http://split.example.com/feed.xml",
            "split.example.com resolves to a private address (192.168.1.10)",
        ),
        ("http://[::ffff:127.0.0.1]/feed.xml", "::ffff:127.0.0.1 is a loopback address"),
    ],
)
async def test_a_redirect_into_the_network_is_refused_without_connecting(
    feed_server: FeedServer,
    internet: FakeInternet,
    guarded_fetch: Fetch,
    location: str,
    refusal: str,
) -> None:
    feed_server.add_redirect("/rss", location)

    result = await guarded_fetch("http://news.example.com/rss")

    _failed(result, f"refused: {refusal}")
    assert result.url.startswith(location.split("/", 3)[0] + "//")
    assert internet.connections == [PUBLIC_IP]  # the first hop only


async def test_a_feed_that_resolves_inside_the_network_is_never_connected_to(
    internet: FakeInternet, guarded_fetch: Fetch
) -> None:
    result = await guarded_fetch("http://intranet.example.com/feed.xml")
    _failed(result, "refused: intranet.example.com resolves to a private address (10.0.0.5)")
    assert result.status is None
    assert internet.connections == []


async def test_a_name_that_does_not_resolve(internet: FakeInternet, guarded_fetch: Fetch) -> None:
    _failed(
        await guarded_fetch("http://nowhere.example/feed.xml"), "nowhere.example does not resolve"
    )


async def test_dns_that_changes_after_the_check_is_caught_on_the_next_connection(
    feed_server: FeedServer, internet: FakeInternet, guarded_fetch: Fetch
) -> None:
    feed_server.add_feed("/rss", sample_feed("rss10.rdf"))
    assert (await guarded_fetch("http://news.example.com/rss")).outcome is FetchOutcome.OK

    internet.names["news.example.com"] = ["127.0.0.1"]  # rebound to loopback
    result = await guarded_fetch("http://news.example.com/rss")

    _failed(result, "refused: news.example.com resolves to a loopback address (127.0.0.1)")
    assert internet.connections == [PUBLIC_IP]


async def test_the_default_guard_refuses_the_local_server(
    feed_server: FeedServer, make_fetcher: MakeFetcher
) -> None:
    url = feed_server.add_feed("/feed.xml", sample_feed("rss10.rdf"))
    fetcher = make_fetcher(allow_private_hosts=False)

    result = await fetcher.fetch(FetchRequest(url))

    _failed(result, "refused: 127.0.0.1 is a loopback address")
    assert feed_server.requests() == []


async def test_the_default_guard_checks_what_the_system_resolver_answers(
    feed_server: FeedServer, make_fetcher: MakeFetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    addresses: list[str] = []

    async def resolving(host: str, port: int) -> list[str]:
        found = await resolve_host(host, port)
        addresses.extend(found)
        return found

    url = feed_server.add_feed("/feed.xml", sample_feed("rss10.rdf"))
    transport = GuardedTransport(allow_private_hosts=False, resolver=resolving)
    fetcher = make_fetcher(allow_private_hosts=False, transport=transport)

    result = await fetcher.fetch(FetchRequest(url.replace("127.0.0.1", "localhost")))

    assert result.error is not None
    assert result.error.startswith("refused: localhost resolves to a loopback address")
    assert addresses
    assert feed_server.requests() == []


# --- TLS: the address is pinned, the certificate is still checked against the name -----------


@pytest.fixture(scope="module")
def certificate_authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_server(certificate_authority: trustme.CA) -> Iterator[HTTPServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    certificate_authority.issue_cert("news.example.com").configure_cert(context)
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context, threaded=True)
    server.expect_request("/rss").respond_with_data(sample_feed("atom.xml"), content_type=ATOM)
    server.start()
    yield server
    server.clear()
    server.stop()


async def test_tls_is_verified_against_the_host_name_not_the_address(
    tls_server: HTTPServer, certificate_authority: trustme.CA, make_fetcher: MakeFetcher
) -> None:
    internet = FakeInternet(
        server_port=int(tls_server.port),
        names={"news.example.com": [PUBLIC_IP], "other.example.com": [PUBLIC_IP]},
    )
    client_context = ssl.create_default_context()
    certificate_authority.configure_trust(client_context)
    transport = GuardedTransport(
        allow_private_hosts=False,
        resolver=internet.resolve,
        network_backend=internet.backend,
        ssl_context=client_context,
    )
    fetcher = make_fetcher(allow_private_hosts=False, transport=transport)

    good = await fetcher.fetch(FetchRequest("https://news.example.com/rss"))
    wrong_name = await fetcher.fetch(FetchRequest("https://other.example.com/rss"))

    assert good.outcome is FetchOutcome.OK
    assert good.body == sample_feed("atom.xml")
    _failed(wrong_name, "TLS error")
    assert internet.connections == [PUBLIC_IP, PUBLIC_IP]


async def test_an_untrusted_certificate_is_a_tls_error(
    tls_server: HTTPServer, make_fetcher: MakeFetcher
) -> None:
    internet = FakeInternet(
        server_port=int(tls_server.port), names={"news.example.com": [PUBLIC_IP]}
    )
    transport = GuardedTransport(
        allow_private_hosts=False, resolver=internet.resolve, network_backend=internet.backend
    )
    fetcher = make_fetcher(allow_private_hosts=False, transport=transport)
    _failed(await fetcher.fetch(FetchRequest("https://news.example.com/rss")), "TLS error")


# --- never raises, always says ---------------------------------------------------------------


class _BrokenTransport(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise RuntimeError("a defect in the transport")


async def test_an_unexpected_error_is_a_failure_and_a_warning(
    make_fetcher: MakeFetcher, caplog: pytest.LogCaptureFixture
) -> None:
    fetcher = make_fetcher(transport=_BrokenTransport())
    with caplog.at_level(logging.INFO, logger="bot.services.feeds.fetch"):
        result = await fetcher.fetch(FetchRequest("https://news.example.com/rss"))
    _failed(result, "unexpected error (RuntimeError)")
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "https://news.example.com/rss" in warnings[0].getMessage()


async def test_a_failure_is_logged_with_the_feed_url(
    feed_server: FeedServer, fetch: Fetch, caplog: pytest.LogCaptureFixture
) -> None:
    url = feed_server.add_status("/missing.xml", 404)
    with caplog.at_level(logging.INFO, logger="bot.services.feeds.fetch"):
        await fetch(url)
    [record] = [r for r in caplog.records if r.name == "bot.services.feeds.fetch"]
    assert record.levelno == logging.INFO
    assert url in record.getMessage()
    assert "HTTP 404" in record.getMessage()


@contextlib.contextmanager
def socket_bound_but_not_listening() -> Iterator[int]:
    """A port nobody listens on (bound, so no other test takes it meanwhile)."""
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        yield int(bound.getsockname()[1])
