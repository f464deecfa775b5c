"""A local feed server for tests: feeds, statuses, redirects and misbehaving servers by path.

Registered as a pytest plugin in conftest.py, so any test can take the `feed_server` fixture:

    url = feed_server.add_feed("/trade.xml", sample_feed("rss20_business.xml"), etag='"v1"')
    feed_server.add_feed("/trade.xml", newer_bytes, etag='"v2"')   # the feed changed
    feed_server.add_redirect("/old.xml", "/trade.xml")
    feed_server.add_status("/gone.xml", 410)
    feed_server.add_silent("/hangs.xml")      # accepts the request and never answers

A feed answers conditional requests as a careful server does: 304 when If-None-Match names its
ETag or If-Modified-Since is its Last-Modified. Every request is recorded (`requests(path)`),
so a test can check what a client sent. Paths can be registered again to change what they
serve. `FakeInternet` lets tests reach this server under public-looking names and addresses,
for the guard against internal addresses, without any real network.

The server is one per test session (and xdist worker), threaded, and cleared after each test;
slow and silent answers are released when their test ends.
"""

from __future__ import annotations

import gzip
import ipaddress
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpcore
import pytest
from pytest_httpserver import HTTPServer, URIPattern
from werkzeug import Request, Response

from bot.services.feeds.urls import UnresolvableHostError

FEEDS_DIR = Path(__file__).parent / "feeds"
RSS = "application/rss+xml; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
# How long a slow or silent answer may hold a server thread if its test never releases it.
_LONGEST_STALL = 10.0


def sample_feed(name: str) -> bytes:
    """A sample document from tests/feeds/ (each says in a comment where its items come from)."""
    return (FEEDS_DIR / name).read_bytes()


@dataclass(frozen=True)
class ReceivedRequest:
    path: str
    headers: dict[str, str]  # lower-cased names


Handler = Callable[[Request], Response]


class FeedServer:
    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self._handlers: dict[str, Handler] = {}
        self._received: list[ReceivedRequest] = []
        self._lock = threading.Lock()
        self._released = threading.Event()
        server.expect_request(_ANY_PATH).respond_with_handler(self._dispatch)

    @property
    def port(self) -> int:
        return int(self.server.port)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def requests(self, path: str | None = None) -> list[ReceivedRequest]:
        with self._lock:
            return [r for r in self._received if path is None or r.path == path]

    def add(self, path: str, handler: Handler) -> str:
        """Serve `path` with `handler` (a werkzeug request → response); returns its URL."""
        with self._lock:
            self._handlers[path] = handler
        return self.url(path)

    def add_feed(
        self,
        path: str,
        body: bytes,
        *,
        content_type: str | None = RSS,
        etag: str | None = None,
        last_modified: str | None = None,
        compress: bool = False,
        headers: dict[str, str] | None = None,
    ) -> str:
        """A feed with validators; 304 to a request that names them."""
        sent = gzip.compress(body) if compress else body
        extra = dict(headers or {})
        if compress:
            extra["Content-Encoding"] = "gzip"

        def handler(request: Request) -> Response:
            validators = {}
            if etag is not None:
                validators["ETag"] = etag
            if last_modified is not None:
                validators["Last-Modified"] = last_modified
            if _not_modified(request, etag, last_modified):
                return Response(status=304, headers=validators)
            response = Response(sent, status=200, headers={**validators, **extra})
            _set_content_type(response, content_type)
            return response

        return self.add(path, handler)

    def add_response(
        self,
        path: str,
        body: bytes | Iterable[bytes] = b"",
        *,
        status: int = 200,
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> str:
        """Any answer: a body (bytes, or chunks sent as they come), status and headers."""

        def handler(request: Request) -> Response:
            response = Response(body, status=status, headers=headers or {})
            _set_content_type(response, content_type)
            return response

        return self.add(path, handler)

    def add_status(self, path: str, status: int, *, headers: dict[str, str] | None = None) -> str:
        return self.add_response(
            path, b"error page", status=status, content_type="text/html", headers=headers
        )

    def add_redirect(self, path: str, location: str, *, status: int = 301) -> str:
        return self.add_response(path, status=status, headers={"Location": location})

    def add_silent(self, path: str) -> str:
        """Accepts the request and sends nothing until the test ends."""

        def handler(request: Request) -> Response:
            self._released.wait(_LONGEST_STALL)
            return Response(b"", status=204)

        return self.add(path, handler)

    def add_trickle(self, path: str, *, interval: float = 0.05) -> str:
        """Sends the headers and then one byte every `interval` until the test ends."""

        def chunks() -> Iterator[bytes]:
            yield b"<"
            deadline = time.monotonic() + _LONGEST_STALL
            while not self._released.wait(interval) and time.monotonic() < deadline:
                yield b" "

        def handler(request: Request) -> Response:
            return Response(chunks(), status=200, content_type="application/rss+xml")

        return self.add(path, handler)

    def release(self) -> None:
        """Ends every slow and silent answer (done for you when the test ends)."""
        self._released.set()

    def _dispatch(self, request: Request) -> Response:
        headers = {name.lower(): value for name, value in request.headers.items()}
        with self._lock:
            self._received.append(ReceivedRequest(request.path, headers))
            handler = self._handlers.get(request.path)
        if handler is None:
            return Response(b"not found", status=404, content_type="text/plain")
        return handler(request)


def _not_modified(request: Request, etag: str | None, last_modified: str | None) -> bool:
    if_none_match = request.headers.get("If-None-Match")
    if etag is not None and if_none_match is not None:
        return etag in [tag.strip() for tag in if_none_match.split(",")]
    if_modified_since = request.headers.get("If-Modified-Since")
    return last_modified is not None and if_modified_since == last_modified


def _set_content_type(response: Response, content_type: str | None) -> None:
    if content_type is None:
        del response.headers["Content-Type"]  # werkzeug adds text/plain by default
    else:
        response.headers["Content-Type"] = content_type


class _AnyPath(URIPattern):
    """Every path goes to the dispatcher."""

    def match(self, uri: str) -> bool:
        return True


_ANY_PATH = _AnyPath()


@dataclass
class FakeInternet:
    """Public-looking names and addresses that all lead to the local feed server.

    `resolve` is a resolver for `GuardedTransport` (names map to the addresses given; an IP
    literal is itself); `backend` is the network backend under the guard: it connects a public
    address, on any port, to the feed server, and refuses (without connecting anywhere) any
    other. `connections` lists every address the guard let through, so a test can show that
    an internal one never was.
    """

    server_port: int
    names: dict[str, list[str]] = field(default_factory=dict)
    connections: list[str] = field(default_factory=list)

    async def resolve(self, host: str, port: int) -> list[str]:
        try:
            return [str(ipaddress.ip_address(host.strip("[]")))]
        except ValueError:
            pass
        if host not in self.names:
            raise UnresolvableHostError(f"{host} does not resolve")
        return list(self.names[host])

    @property
    def backend(self) -> httpcore.AsyncNetworkBackend:
        return _InternetBackend(self)


class _InternetBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, internet: FakeInternet) -> None:
        self._internet = internet
        self._local = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self._internet.connections.append(host)
        if not ipaddress.ip_address(host).is_global:
            raise httpcore.ConnectError(f"the fake internet has no route to {host}")
        return await self._local.connect_tcp(
            "127.0.0.1", self._internet.server_port, timeout=timeout
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("no unix sockets on the fake internet")

    async def sleep(self, seconds: float) -> None:
        await self._local.sleep(seconds)


@pytest.fixture(scope="session")
def feed_http_server() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def feed_server(feed_http_server: HTTPServer) -> Iterator[FeedServer]:
    feed_http_server.clear()
    feeds = FeedServer(feed_http_server)
    yield feeds
    feeds.release()
    feed_http_server.clear()
