"""Fetching one feed: conditional GET, redirects by hand, a size cap, one deadline.

`FeedFetcher.fetch` never raises for what a feed's server can do to it (network faults, HTTP
errors, oversized or compressed-bomb bodies, slow servers, redirects into the network): each
ends as a `FetchResult` with an outcome for the poller and one line for a person.

- One `httpx.AsyncClient` for all fetches (connection pooling), HTTP/1.1, over
  `GuardedTransport`, which checks the address of every connection it opens.
- Redirects are followed here, not by httpx, so each hop's scheme is checked, a loop is told
  apart from a long chain, and the hop count is ours.
- The whole fetch (resolving, connecting, every hop, the body) runs under one deadline, so a
  server that trickles a byte a second still ends at `timeout_seconds`.
- The body is read raw and inflated here with a bounded zlib decompressor: httpx's decoder
  inflates a whole network chunk at once, and 64 KB of gzip can become 64 MB.
"""

from __future__ import annotations

import asyncio
import email.utils
import http.cookiejar
import logging
import ssl
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from types import TracebackType
from typing import Self

import httpx

from bot.services.feeds.transport import GuardedTransport
from bot.services.feeds.urls import UnresolvableHostError, UnsafeFeedURLError, check_scheme

logger = logging.getLogger(__name__)

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
RETRY_LATER_STATUSES = frozenset({429, 503})
MAX_RETRY_AFTER_SECONDS = 86_400.0

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.8, */*;q=0.1"
)

# Media types that are never a feed. Anything else is read and left to the parser, including
# a missing type, text/html (servers label feeds wrongly; the parser says "an HTML page" when it
# is one) and application/octet-stream (what object stores serve a file uploaded without a type).
NOT_FEED_TYPE_PREFIXES = ("image/", "audio/", "video/", "font/", "model/", "multipart/")
NOT_FEED_TYPES = frozenset(
    {
        "application/pdf",
        "application/zip",
        "application/gzip",
        "application/x-gzip",
        "application/x-tar",
        "application/x-7z-compressed",
        "application/vnd.rar",
        "application/x-rar-compressed",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/x-msdownload",
        "application/java-archive",
        "application/wasm",
        "application/x-shockwave-flash",
    }
)


@dataclass(frozen=True, slots=True)
class FetchRequest:
    url: str
    etag: str | None = None
    last_modified: str | None = None


class FetchOutcome(StrEnum):
    OK = "ok"
    NOT_MODIFIED = "not_modified"
    GONE = "gone"
    RETRY_LATER = "retry_later"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class FetchResult:
    outcome: FetchOutcome
    url: str  # the final URL after redirects (the last one tried when it failed)
    status: int | None  # the last HTTP status; None when no response came
    body: bytes | None  # OK only: the decoded body, at most max_bytes
    content_type: str | None
    etag: str | None
    last_modified: str | None
    retry_after: float | None  # seconds, from Retry-After on 429/503, at most a day
    error: str | None  # one line for a person reading /feeds; None when OK or NOT_MODIFIED


class _FetchRefusedError(Exception):
    """A fetch that ends as FAILED with this line (raised inside, never out of fetch)."""


class _Progress:
    """Where a fetch got to, for the result when the deadline cuts it short."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.status: int | None = None


class FeedFetcher:
    def __init__(
        self,
        *,
        timeout_seconds: float,
        max_bytes: int,
        allow_private_hosts: bool,
        user_agent: str,
        max_redirects: int = 5,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """`transport` replaces the guarded transport (tests); it then decides which addresses
        may be reached. Without it every connection is checked as `allow_private_hosts` says."""
        self._timeout_seconds = timeout_seconds
        self._max_bytes = max_bytes
        self._max_redirects = max_redirects
        self._client = httpx.AsyncClient(
            transport=transport or GuardedTransport(allow_private_hosts=allow_private_hosts),
            follow_redirects=False,
            timeout=httpx.Timeout(timeout_seconds),
            headers={
                "User-Agent": user_agent,
                "Accept": ACCEPT,
                # What _BoundedBody can inflate; never br or zstd, whatever is installed.
                "Accept-Encoding": "gzip, deflate",
            },
            # Feeds are fetched anonymously: no proxy or .netrc from the environment, and no
            # cookie carried from one fetch (or one feed) to another.
            trust_env=False,
            event_hooks={"response": [_hold_location]},
            cookies=http.cookiejar.CookieJar(
                policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[])
            ),
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def fetch(self, request: FetchRequest) -> FetchResult:
        progress = _Progress(request.url)
        try:
            async with asyncio.timeout(self._timeout_seconds):
                result = await self._fetch(request, progress)
        except (TimeoutError, httpx.TimeoutException):
            result = _failed(progress, f"timed out after {self._timeout_seconds:g} s")
        except _FetchRefusedError as refusal:
            result = _failed(progress, str(refusal))
        except UnresolvableHostError as exc:
            result = _failed(progress, str(exc))
        except UnsafeFeedURLError as exc:
            result = _failed(progress, f"refused: {exc}")
        except httpx.HTTPError as exc:
            result = _failed(progress, _network_error(exc))
        except httpx.InvalidURL:
            result = _failed(progress, "invalid address")
        except Exception as exc:
            # Never let one feed's fault stop a round; this is a defect to look at.
            logger.warning("feed %s: unexpected error", progress.url, exc_info=True)
            result = _failed(progress, f"unexpected error ({type(exc).__name__})")
        if result.outcome in (FetchOutcome.OK, FetchOutcome.NOT_MODIFIED):
            logger.debug("feed %s: %s", result.url, result.outcome)
        else:
            logger.info("feed %s: %s (%s)", result.url, result.outcome, result.error)
        return result

    async def _fetch(self, request: FetchRequest, progress: _Progress) -> FetchResult:
        url = check_scheme(request.url)
        progress.url = url
        headers = {}
        if request.etag:
            headers["If-None-Match"] = request.etag
        if request.last_modified:
            headers["If-Modified-Since"] = request.last_modified
        visited = {url}
        for hop in range(self._max_redirects + 1):
            async with self._client.stream("GET", url, headers=headers) as response:
                progress.status = response.status_code
                if response.status_code not in REDIRECT_STATUSES:
                    return await self._answer(request, response, url)
                location = response.headers.get(_HELD_LOCATION, "").strip()
                if not location:
                    raise _FetchRefusedError(f"HTTP {response.status_code} without a Location")
                if hop == self._max_redirects:
                    raise _FetchRefusedError(f"more than {self._max_redirects} redirects")
                try:
                    url = check_scheme(str(response.url.join(location)))
                except (UnsafeFeedURLError, httpx.InvalidURL) as exc:
                    raise _FetchRefusedError(f"redirect refused: {exc}") from exc
                if url in visited:
                    raise _FetchRefusedError("redirect loop")
                visited.add(url)
                progress.url = url
        raise AssertionError("unreachable: the loop returns or raises")

    async def _answer(
        self, request: FetchRequest, response: httpx.Response, url: str
    ) -> FetchResult:
        status = response.status_code
        etag = response.headers.get("etag")
        last_modified = response.headers.get("last-modified")
        content_type = response.headers.get("content-type")
        if status == 304:
            return FetchResult(
                outcome=FetchOutcome.NOT_MODIFIED,
                url=url,
                status=status,
                body=None,
                content_type=content_type,
                etag=etag or request.etag,
                last_modified=last_modified or request.last_modified,
                retry_after=None,
                error=None,
            )
        if status in (200, 203):
            media_type = _media_type(content_type)
            if media_type is not None and not _may_be_feed(media_type):
                raise _FetchRefusedError(f"not a feed ({media_type})")
            body = await self._read_body(response)
            return FetchResult(
                outcome=FetchOutcome.OK,
                url=url,
                status=status,
                body=body,
                content_type=content_type,
                etag=etag,
                last_modified=last_modified,
                retry_after=None,
                error=None,
            )
        outcome = FetchOutcome.FAILED
        retry_after = None
        if status == 410:
            outcome = FetchOutcome.GONE
        elif status in RETRY_LATER_STATUSES:
            outcome = FetchOutcome.RETRY_LATER
            retry_after = parse_retry_after(response.headers.get("retry-after"))
        return FetchResult(
            outcome=outcome,
            url=url,
            status=status,
            body=None,
            content_type=content_type,
            etag=None,
            last_modified=None,
            retry_after=retry_after,
            error=f"HTTP {status}",
        )

    async def _read_body(self, response: httpx.Response) -> bytes:
        too_large = f"larger than {size_text(self._max_bytes)}"
        declared = response.headers.get("content-length", "")
        if declared.strip().isdigit() and int(declared) > self._max_bytes:
            raise _FetchRefusedError(too_large)
        body = _BoundedBody(response.headers.get("content-encoding", ""), self._max_bytes)
        raw_size = 0
        async for chunk in response.aiter_raw():
            raw_size += len(chunk)
            # Compressed or not, more than max_bytes on the wire is never a feed we keep.
            if raw_size > self._max_bytes or not body.feed(chunk):
                raise _FetchRefusedError(too_large)
        return body.finish()


class _BoundedBody:
    """The decoded body, refusing (feed returns False) as soon as it passes max_bytes.

    zlib's max_length bounds what one call inflates, so a gzip bomb is never expanded in
    memory beyond max_bytes plus one byte.
    """

    def __init__(self, content_encoding: str, max_bytes: int) -> None:
        self._max_bytes = max_bytes
        self._parts: list[bytes] = []
        self._size = 0
        self._encoding = content_encoding.strip().lower()
        self._inflater: zlib._Decompress | None = None
        if self._encoding in ("gzip", "x-gzip"):
            self._inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        elif self._encoding not in ("", "identity", "deflate"):
            raise _FetchRefusedError(f"unsupported content encoding ({self._encoding})")

    def feed(self, chunk: bytes) -> bool:
        if self._encoding in ("", "identity"):
            return self._keep(chunk)
        if self._inflater is None:  # deflate, first chunk
            # HTTP's deflate is a zlib stream (RFC 9110), but some servers send raw deflate;
            # a zlib header is recognisable by its first two bytes.
            zlib_header = (
                len(chunk) >= 2 and chunk[0] & 0x0F == 8 and ((chunk[0] << 8) | chunk[1]) % 31 == 0
            )
            self._inflater = zlib.decompressobj(zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS)
        data = chunk
        while data and not self._inflater.eof:  # after the end of the stream: not part of it
            try:
                out = self._inflater.decompress(data, self._max_bytes - self._size + 1)
            except zlib.error as exc:
                failure = f"could not decompress the body ({self._encoding})"
                raise _FetchRefusedError(failure) from exc
            if not self._keep(out):
                return False
            data = self._inflater.unconsumed_tail
        return True

    def finish(self) -> bytes:
        if self._inflater is not None and not self._inflater.eof:
            raise _FetchRefusedError(f"the compressed body is cut short ({self._encoding})")
        if self._inflater is None and self._encoding == "deflate" and self._size == 0:
            return b""  # an empty deflate body: nothing was fed
        return b"".join(self._parts)

    def _keep(self, data: bytes) -> bool:
        self._size += len(data)
        if self._size > self._max_bytes:
            return False
        if data:
            self._parts.append(data)
        return True


# httpx builds the request for a redirect even when it is not to follow it, and raises on a
# Location it cannot use (javascript:, a broken host), losing the response. Redirects are ours
# to judge, so the Location header is moved aside before httpx looks at it.
_HELD_LOCATION = "x-feed-fetch-location"


async def _hold_location(response: httpx.Response) -> None:
    response.headers.pop(_HELD_LOCATION, None)
    location = response.headers.pop("location", None)
    if location is not None:
        response.headers[_HELD_LOCATION] = location


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), at most a day.

    None for a missing or unreadable value; a date in the past is 0.
    """
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return min(float(text), MAX_RETRY_AFTER_SECONDS)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000": UTC by RFC 5322
        when = when.replace(tzinfo=UTC)
    seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


def size_text(size: int) -> str:
    """5_000_000 → "5 MB", 5_242_880 → "5.2 MB", 65_536 → "65.5 KB"."""
    for unit, scale in (("MB", 1_000_000), ("KB", 1_000)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


def _media_type(content_type: str | None) -> str | None:
    if content_type is None:
        return None
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type or None


def _may_be_feed(media_type: str) -> bool:
    return media_type not in NOT_FEED_TYPES and not media_type.startswith(NOT_FEED_TYPE_PREFIXES)


def _failed(progress: _Progress, error: str) -> FetchResult:
    return FetchResult(
        outcome=FetchOutcome.FAILED,
        url=progress.url,
        status=progress.status,
        body=None,
        content_type=None,
        etag=None,
        last_modified=None,
        retry_after=None,
        error=error,
    )


def _network_error(exc: httpx.HTTPError) -> str:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLError | ssl.CertificateError):
            return "TLS error"
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, httpx.ConnectError):
        return "could not connect"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the server broke the connection"
    if isinstance(exc, httpx.UnsupportedProtocol):
        return "invalid address"
    if isinstance(exc, httpx.TransportError):
        return "network error"
    return f"HTTP error ({type(exc).__name__})"
