"""Feed addresses: which ones may be fetched, and the identity of an item's link.

A feed URL is attacker-controlled input. `check_scheme` refuses what is never a feed address
(other schemes, passwords, no host); `check_host` refuses a host that resolves to an address
inside the network (loopback, private, link-local such as the cloud metadata service 169.254.
169.254, multicast, reserved, unspecified) unless private hosts are allowed. The fetcher applies
the same check to every connection it opens (see `transport.py`), because DNS can change
between the day a feed is added and each poll, and between redirect hops.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import SplitResult, unquote_plus, urlsplit, urlunsplit

import idna

MAX_URL_LENGTH = 2000
ALLOWED_SCHEMES = frozenset({"http", "https"})
DEFAULT_PORTS = {"http": 80, "https": 443}

# Query parameters that only say where a click came from. Kept short on purpose: a parameter
# that might select content (an article id, a page) must never be dropped.
TRACKING_PARAMETERS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "ocid",
        "cmpid",
    }
)
TRACKING_PREFIXES = ("utm_",)

# IPv6 prefixes that carry an IPv4 address a gateway may forward to (NAT64).
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")

Resolver = Callable[[str, int], Awaitable[list[str]]]


class UnsafeFeedURLError(ValueError):
    """A feed address that is not fetched; the message is one line a person can read."""


class UnresolvableHostError(UnsafeFeedURLError):
    """The host name does not resolve (not a safety refusal, but the feed cannot be fetched)."""


def check_scheme(url: str) -> str:
    """The address normalised for fetching, or UnsafeFeedURLError saying why it is refused.

    Normalised: surrounding whitespace stripped, scheme and host lower-cased (an international
    host in its ASCII form), the default port and the fragment dropped, an empty path made "/".
    The query is kept as it is: a feed's query selects the feed.
    """
    text = url.strip()
    if len(text) > MAX_URL_LENGTH:
        raise UnsafeFeedURLError(f"the address is longer than {MAX_URL_LENGTH} characters")
    if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in text):
        raise UnsafeFeedURLError("the address contains spaces or control characters")
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise UnsafeFeedURLError("only http and https feeds are allowed")
    if parts.username is not None or parts.password is not None:
        raise UnsafeFeedURLError("feed addresses with a user name or password are not allowed")
    host = _ascii_host(parts.hostname)
    netloc = _netloc(scheme, host, _port(parts))
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def canonical_url(url: str) -> str:
    """The identity of an item's link, so the same story reached two ways is one item.

    Scheme and host lower-cased (an international host in its ASCII form), the default port,
    user name, fragment and click-tracking parameters (`utm_*`, `fbclid`, `gclid`, ...)
    dropped; every other query parameter kept, in order and as written. Idempotent.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise UnsafeFeedURLError("only http and https links are allowed")
    host = _ascii_host(parts.hostname)
    netloc = _netloc(scheme, host, _port(parts))
    query = "&".join(piece for piece in parts.query.split("&") if piece and not _is_tracking(piece))
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


async def resolve_host(host: str, port: int) -> list[str]:
    """The host's addresses (an IP literal is its own), in the resolver's order, once each."""
    literal = _ip_literal(host)
    if literal is not None:
        return [str(literal)]
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnresolvableHostError(f"{host} does not resolve") from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise UnresolvableHostError(f"{host} does not resolve")
    return addresses


def refuse_private_addresses(host: str, addresses: list[str]) -> None:
    """Raise UnsafeFeedURLError when ANY of the host's addresses is not a public one.

    Any, not all: a name that answers with one public and one internal address would let a
    connection land inside the network.
    """
    for address in addresses:
        kind = forbidden_address_kind(address)
        if kind is None:
            continue
        if _ip_literal(host) is not None:
            raise UnsafeFeedURLError(f"{host} is {kind}")
        raise UnsafeFeedURLError(f"{host} resolves to {kind} ({address})")


async def check_host(
    host: str, port: int, *, allow_private_hosts: bool, resolver: Resolver = resolve_host
) -> list[str]:
    """The host's addresses, refused (UnsafeFeedURLError) as `refuse_private_addresses` says."""
    addresses = await resolver(host, port)
    if not allow_private_hosts:
        refuse_private_addresses(host, addresses)
    return addresses


async def check_feed_url(url: str, *, allow_private_hosts: bool) -> str:
    """`check_scheme` and `check_host` together, for an operator adding a feed."""
    normalised = check_scheme(url)
    parts = urlsplit(normalised)
    assert parts.hostname is not None  # check_scheme refused an address without one
    port = parts.port or DEFAULT_PORTS[parts.scheme]
    await check_host(parts.hostname, port, allow_private_hosts=allow_private_hosts)
    return normalised


def forbidden_address_kind(address: str) -> str | None:
    """What kind of internal address this is ("a private address"), or None if public."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone index is not the address
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return forbidden_address_kind(str(embedded))
    # Order matters: 127.0.0.1 is also "private" to the ipaddress module, and the most
    # specific name is the most useful in a refusal.
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_private:
        return "a private address"
    if ip.is_reserved:
        return "a reserved address"
    if not ip.is_global:  # shared address space (100.64.0.0/10, carrier-grade NAT), ...
        return "a non-public address"
    return None


def _is_tracking(piece: str) -> bool:
    key = unquote_plus(piece.split("=", 1)[0]).strip().lower()
    return key in TRACKING_PARAMETERS or key.startswith(TRACKING_PREFIXES)


def _ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _ascii_host(hostname: str | None) -> str:
    if not hostname:
        raise UnsafeFeedURLError("the address has no host name")
    host = hostname.rstrip(".")  # "example.com." is example.com
    if not host:
        raise UnsafeFeedURLError("the address has no host name")
    if _ip_literal(host) is not None:
        return host.lower()
    if host.isascii():
        if any(not label for label in host.split(".")) or any(c in host for c in "@/\\%"):
            raise UnsafeFeedURLError(f"{hostname} is not a valid host name")
        return host.lower()
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise UnsafeFeedURLError(f"{hostname} is not a valid host name") from exc


def _port(parts: SplitResult) -> int | None:
    try:
        return parts.port
    except ValueError as exc:  # not a number, or out of range
        raise UnsafeFeedURLError("the address has an invalid port") from exc


def _netloc(scheme: str, host: str, port: int | None) -> str:
    shown = f"[{host}]" if ":" in host else host
    if port is None or port == DEFAULT_PORTS[scheme]:
        return shown
    return f"{shown}:{port}"
