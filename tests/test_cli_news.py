"""`feeds` and `news` as an operator uses them: real processes against a local feed server."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from tests.feedserver import FeedServer
from tests.test_cli import tradewatch

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.slow  # every test starts `python -m bot` processes

PRIVATE = {"FEED_ALLOW_PRIVATE_HOSTS": "true"}
FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Trade Desk</title><link>https://desk.example/</link>
<description>d</description>
<item><title>India's trade deficit with China widens to $99.2 billion in FY25</title>
<description>Imports from China rose, commerce ministry data show.</description>
<link>https://desk.example/deficit?utm_medium=feed</link>
<pubDate>Wed, 16 Apr 2025 06:00:00 GMT</pubDate></item>
<item><title>IndiGo starts daily Kolkata-Guangzhou flights</title>
<description>The first direct flight between India and China in five years.</description>
<link>https://desk.example/indigo</link><pubDate>Sun, 26 Oct 2025 06:00:00 GMT</pubDate></item>
<item><title>India-US trade deal talks resume in Washington</title>
<description>Tariffs and market access.</description>
<link>https://desk.example/us</link><pubDate>Mon, 01 Dec 2025 06:00:00 GMT</pubDate></item>
</channel></rss>"""


def test_add_poll_list_news_and_remove(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.add_feed("/desk.xml", FEED, etag='"1"')
    broken = feed_server.add_status("/broken.xml", 500)

    refused = tradewatch(tmp_path, "feeds", "add", url)
    assert refused.returncode == 2
    assert "refused" in refused.stderr
    assert "127.0.0.1" in refused.stderr
    assert tradewatch(tmp_path, "feeds", "add", "ftp://desk.example/x", env=PRIVATE).returncode == 2

    added = tradewatch(tmp_path, "feeds", "add", url, env=PRIVATE)
    assert added.returncode == 0, added.stderr
    assert "added feed" in added.stdout
    again = tradewatch(tmp_path, "feeds", "add", url, env=PRIVATE)
    assert again.returncode == 1
    assert "already in the list" in again.stderr
    tradewatch(tmp_path, "feeds", "add", broken, "--name", "Broken", env=PRIVATE)

    polled = tradewatch(tmp_path, "feeds", "poll", env=PRIVATE)
    assert polled.returncode == 0, polled.stderr  # one feed failed: still 0
    lines = polled.stdout.strip().splitlines()
    assert any(line.startswith("Broken <") and "failed: HTTP 500" in line for line in lines)
    assert any(line.startswith("Trade Desk <") and "2 new items" in line for line in lines)
    assert lines[-1] == "total: 2 feeds, 2 new items, 0 updated, 1 failed"

    # Nothing is published yet: what readers see is empty; the operator's list shows the
    # matched items with their state, and none of the near misses.
    assert "no published news items yet" in tradewatch(tmp_path, "news", "--published").stdout
    listed = tradewatch(tmp_path, "news").stdout
    assert "India's trade deficit with China widens" in listed
    assert "[new]" in listed
    assert "India-US" not in listed
    found = json.loads(tradewatch(tmp_path, "news", "--json").stdout)
    assert [item["url"] for item in found] == [
        "https://desk.example/indigo",
        "https://desk.example/deficit",
    ]
    assert found[1]["topics"] == ["trade"]
    assert found[1]["records"] == ["series:india_fy"]
    assert found[1]["state"] == "new"
    assert found[1]["feed"] == "Trade Desk"
    assert found[1]["published_at"].startswith("2025-04-16")
    assert set(found[0]) >= {"url", "title", "published_at", "feed", "topics", "records", "state"}
    flights = json.loads(tradewatch(tmp_path, "news", "--topic", "flights", "--json").stdout)
    assert [item["title"] for item in flights] == ["IndiGo starts daily Kolkata-Guangzhou flights"]

    # A second poll (every feed, due or not): the feed answers 304.
    second = tradewatch(tmp_path, "feeds", "poll", env=PRIVATE).stdout
    assert "Trade Desk <" in second
    assert "not modified" in second

    listing = tradewatch(tmp_path, "feeds", "list").stdout
    assert "\tok\tTrade Desk\t" in listing
    assert "\tfailing\tBroken\t" in listing
    assert "HTTP 500" in listing

    removed = tradewatch(tmp_path, "feeds", "remove", "broken")
    assert removed.returncode == 0
    assert "removed feed" in removed.stdout
    unknown = tradewatch(tmp_path, "feeds", "remove", "nothing-like-it")
    assert unknown.returncode == 1
    assert "no feed matches" in unknown.stderr
    # The items stay when their feed goes.
    tradewatch(tmp_path, "feeds", "remove", url)
    assert len(json.loads(tradewatch(tmp_path, "news", "--json").stdout)) == 2
