"""Feed addresses: what is refused and why, and the identity of an item's link."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.feeds.urls import (
    TRACKING_PARAMETERS,
    UnresolvableHostError,
    UnsafeFeedURLError,
    canonical_url,
    check_feed_url,
    check_host,
    check_scheme,
    forbidden_address_kind,
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("  https://News.Example.COM/feed.xml \n", "https://news.example.com/feed.xml"),
        ("HTTP://example.com:80/rss?cat=trade", "http://example.com/rss?cat=trade"),
        ("https://example.com:443", "https://example.com/"),
        ("https://example.com:8443/a#top", "https://example.com:8443/a"),
        ("https://bücher.example/feed", "https://xn--bcher-kva.example/feed"),
        ("http://[::1]:8080/feed", "http://[::1]:8080/feed"),
        ("https://example.com./feed", "https://example.com/feed"),
    ],
)
def test_check_scheme_normalises_a_feed_address(url: str, expected: str) -> None:
    assert check_scheme(url) == expected


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.com/feed.xml", "only http and https feeds are allowed"),
        ("file:///etc/passwd", "only http and https feeds are allowed"),
        ("javascript:alert(1)", "only http and https feeds are allowed"),
        ("example.com/feed.xml", "only http and https feeds are allowed"),
        ("gopher://127.0.0.1:6379/_FLUSHALL", "only http and https feeds are allowed"),
        ("https:///feed.xml", "the address has no host name"),
        ("https://user:secret@example.com/feed", "with a user name or password"),
        ("https://user@example.com/feed", "with a user name or password"),
        ("https://example.com:99999/feed", "the address has an invalid port"),
        ("https://example.com:http/feed", "the address has an invalid port"),
        ("https://exa mple.com/feed", "spaces or control characters"),
        ("https://example.com/\x00feed", "spaces or control characters"),
        ("https://example.com/" + "a" * 2000, "longer than 2000 characters"),
        ("https://a..b/feed", "is not a valid host name"),
    ],
)
def test_check_scheme_refuses_with_a_reason(url: str, reason: str) -> None:
    with pytest.raises(UnsafeFeedURLError, match=reason):
        check_scheme(url)


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "a loopback address"),
        ("127.8.9.10", "a loopback address"),
        ("::1", "a loopback address"),
        ("10.0.0.5", "a private address"),
        ("172.16.3.4", "a private address"),
        ("192.168.1.1", "a private address"),
        ("fd00::1", "a private address"),
        ("169.254.169.254", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("224.0.0.1", "a multicast address"),
        ("ff02::1", "a multicast address"),
        ("0.0.0.0", "an unspecified address"),
        ("::", "an unspecified address"),
        ("240.0.0.1", "a private address"),  # reserved, and "private" to ipaddress
        ("100.100.100.200", "a non-public address"),  # carrier-grade NAT (a cloud's metadata)
        ("::ffff:127.0.0.1", "a loopback address"),  # IPv4-mapped IPv6
        ("::ffff:169.254.169.254", "a link-local address"),
        ("64:ff9b::a9fe:a9fe", "a link-local address"),  # NAT64 of 169.254.169.254
        ("2002:7f00:1::", "a loopback address"),  # 6to4 of 127.0.0.1
        ("8.8.8.8", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_internal_addresses_are_named_public_ones_pass(address: str, kind: str | None) -> None:
    assert forbidden_address_kind(address) == kind


def _fake_getaddrinfo(answers: dict[str, list[str]]) -> Any:
    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (
                socket.AF_INET6 if ":" in address else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (address, port),
            )
            for address in answers[host]
        ]

    return getaddrinfo


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """The system resolver, answering from this dict (asyncio resolves through it)."""
    answers: dict[str, list[str]] = {}
    monkeypatch.setattr(socket, "getaddrinfo", _fake_getaddrinfo(answers))
    return answers


async def test_check_host_returns_the_addresses_of_a_public_host(dns: dict[str, list[str]]) -> None:
    dns["feeds.example.com"] = ["93.184.215.14", "93.184.215.14", "2606:2800:21f:cb07::1"]
    addresses = await check_host("feeds.example.com", 443, allow_private_hosts=False)
    assert addresses == ["93.184.215.14", "2606:2800:21f:cb07::1"]


async def test_check_host_refuses_a_name_that_resolves_inside_the_network(
    dns: dict[str, list[str]],
) -> None:
    dns["feed.example"] = ["10.0.0.5"]
    with pytest.raises(UnsafeFeedURLError) as refused:
        await check_host("feed.example", 80, allow_private_hosts=False)
    assert str(refused.value) == "feed.example resolves to a private address (10.0.0.5)"


async def test_one_internal_address_among_public_ones_is_enough_to_refuse(
    dns: dict[str, list[str]],
) -> None:
    dns["mixed.example"] = ["93.184.215.14", "169.254.169.254"]
    with pytest.raises(UnsafeFeedURLError, match=r"link-local address \(169\.254\.169\.254\)"):
        await check_host("mixed.example", 80, allow_private_hosts=False)


async def test_an_ip_literal_is_checked_without_resolving(dns: dict[str, list[str]]) -> None:
    with pytest.raises(UnsafeFeedURLError) as refused:
        await check_host("127.0.0.1", 80, allow_private_hosts=False)
    assert str(refused.value) == "127.0.0.1 is a loopback address"


async def test_a_name_that_does_not_resolve_says_so(dns: dict[str, list[str]]) -> None:
    with pytest.raises(UnresolvableHostError) as failed:
        await check_host("nowhere.example", 80, allow_private_hosts=False)
    assert str(failed.value) == "nowhere.example does not resolve"
    assert isinstance(failed.value, UnsafeFeedURLError)


async def test_private_hosts_are_allowed_when_configured(dns: dict[str, list[str]]) -> None:
    dns["mirror.internal"] = ["10.1.2.3"]
    addresses = await check_host("mirror.internal", 80, allow_private_hosts=True)
    assert addresses == ["10.1.2.3"]


async def test_check_feed_url_checks_the_scheme_and_the_host(dns: dict[str, list[str]]) -> None:
    dns["news.example.com"] = ["93.184.215.14"]
    dns["metadata.example"] = ["169.254.169.254"]
    url = await check_feed_url(" HTTPS://News.Example.com/rss ", allow_private_hosts=False)
    assert url == "https://news.example.com/rss"
    with pytest.raises(UnsafeFeedURLError, match="only http and https"):
        await check_feed_url("ftp://news.example.com/rss", allow_private_hosts=False)
    with pytest.raises(UnsafeFeedURLError, match="resolves to a link-local address"):
        await check_feed_url("http://metadata.example/latest/", allow_private_hosts=False)
    dns["localhost"] = ["127.0.0.1"]
    with pytest.raises(UnsafeFeedURLError, match="localhost resolves to a loopback"):
        await check_feed_url("http://localhost:8080/feed", allow_private_hosts=False)
    assert (
        await check_feed_url("http://localhost:8080/feed", allow_private_hosts=True)
        == "http://localhost:8080/feed"
    )


# --- canonical_url: the identity of an item -------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "HTTPS://WWW.Example.COM:443/News/Story.html?utm_source=rss&utm_medium=feed#comments",
            "https://www.example.com/News/Story.html",
        ),
        (
            "http://example.com:80/a?id=7&fbclid=IwAR0x&page=2&gclid=abc&UTM_Campaign=x",
            "http://example.com/a?id=7&page=2",
        ),
        ("https://example.com/a?mc_cid=1&mc_eid=2&ocid=3&cmpid=4", "https://example.com/a"),
        ("https://example.com/a?b=2&a=1", "https://example.com/a?b=2&a=1"),  # order kept
        ("https://example.com", "https://example.com/"),
        ("https://user:pw@example.com/a", "https://example.com/a"),
        ("https://example.com:8080/a?", "https://example.com:8080/a"),
        ("https://bücher.example/a", "https://xn--bcher-kva.example/a"),
        ("https://example.com/a?utm_source", "https://example.com/a"),
        (
            "https://example.com/a?utm_sourcex=1&xutm_source=2",
            "https://example.com/a?xutm_source=2",
        ),
        ("https://example.com/a?q=utm_source%3Dx", "https://example.com/a?q=utm_source%3Dx"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_canonical_url_refuses_other_schemes() -> None:
    for url in ("javascript:alert(1)", "data:text/html,hi", "mailto:a@example.com", "/relative"):
        with pytest.raises(UnsafeFeedURLError):
            canonical_url(url)


_label = st.from_regex(r"[a-zA-Z0-9]([a-zA-Z0-9-]{0,10}[a-zA-Z0-9])?", fullmatch=True)
_host = st.lists(_label, min_size=1, max_size=4).map(".".join)
_safe = st.text(
    alphabet=st.characters(categories=["L", "N"], include_characters="-._~%!$'()*+,;:@/"),
    max_size=20,
)
_param = st.tuples(_safe.map(lambda s: s.replace("=", "")), _safe).map(lambda kv: "=".join(kv))
_tracker = st.one_of(
    st.sampled_from(sorted(TRACKING_PARAMETERS)),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", max_size=8).map(lambda s: "utm_" + s),
).flatmap(lambda key: st.sampled_from([key, key.upper()]))


@st.composite
def _urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https", "HTTP", "Https"]))
    host = draw(_host)
    port = draw(st.sampled_from(["", ":80", ":443", ":8080"]))
    path = draw(_safe.map(lambda p: "/" + p.lstrip("/") if p else ""))
    params: list[str] = draw(st.lists(_param, max_size=4))
    empty_query: bool = draw(st.booleans())
    query = ("?" + "&".join(params)) if params or empty_query else ""
    fragment = draw(st.sampled_from(["", "#", "#section-2"]))
    return f"{scheme}://{host}{port}{path}{query}{fragment}"


@settings(max_examples=300, derandomize=True, database=None, deadline=None)
@given(_urls())
def test_canonical_url_is_idempotent(url: str) -> None:
    once = canonical_url(url)
    assert canonical_url(once) == once
    assert "#" not in once
    assert once.split("://", 1)[0] in ("http", "https")


@settings(max_examples=300, derandomize=True, database=None, deadline=None)
@given(_urls(), st.lists(st.tuples(_tracker, _safe), min_size=1, max_size=3), st.data())
def test_tracking_parameters_make_no_difference(
    url: str, trackers: list[tuple[str, str]], data: st.DataObject
) -> None:
    base, _, fragment = url.partition("#")
    pieces = [piece for piece in base.partition("?")[2].split("&") if piece]
    for key, value in trackers:
        position = data.draw(st.integers(0, len(pieces)))
        pieces.insert(position, f"{key}={value.replace('&', '').replace('#', '')}")
    tracked = base.partition("?")[0] + "?" + "&".join(pieces) + ("#" + fragment if fragment else "")
    canonical = canonical_url(tracked)
    assert canonical == canonical_url(url)
    kept_keys = {piece.split("=", 1)[0].lower() for piece in canonical.partition("?")[2].split("&")}
    assert not kept_keys & {key.lower() for key, _ in trackers}


@settings(max_examples=300, derandomize=True, database=None, deadline=None)
@given(st.text(max_size=60))
def test_canonical_url_of_any_text_is_refused_or_idempotent(text: str) -> None:
    try:
        once = canonical_url(text)
    except UnsafeFeedURLError:
        return
    assert canonical_url(once) == once
