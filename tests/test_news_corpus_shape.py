"""The shape of the labelled headline corpus (tests/corpus/news.yaml) and of the default feed
list (bot/data/feeds/defaults.yaml).

Only the files are checked here, not the matcher: every item carries its fields, labels are
consistent, the corpus is large and balanced enough to measure precision and recall on, and the
records an item names exist in the bundled dataset.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from bot.services.dataset import Dataset, load_bundled_dataset
from bot.vocabulary import Series

ROOT = Path(__file__).parent.parent
CORPUS = ROOT / "tests" / "corpus" / "news.yaml"
FEEDS = ROOT / "bot" / "data" / "feeds" / "defaults.yaml"

MIN_ITEMS = 120
MIN_SHARE = 0.4
TOPICS = {"trade", "deals", "passes", "flights"}
COMMON_FIELDS = {"title", "summary", "publisher", "published", "url", "relevant"}
RELEVANT_FIELDS = COMMON_FIELDS | {"topics", "records"}
MISS_FIELDS = COMMON_FIELDS | {"miss"}
DATE = re.compile(r"^20(2[0-6])-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?$")
KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
FEED_FIELDS = {"name", "url", "enabled", "covers", "documented_at"}


def _load(path: Path, key: str) -> list[dict[str, Any]]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    items = document.get(key)
    assert isinstance(items, list)
    return items


ITEMS = _load(CORPUS, "items")
FEED_LIST = _load(FEEDS, "feeds")


def _is_http_url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


@pytest.fixture(scope="module")
def known_records() -> set[str]:
    dataset: Dataset = load_bundled_dataset()
    return (
        {f"pass:{p.slug}" for p in dataset.passes}
        | {f"deal:{d.slug}" for d in dataset.deals}
        | {f"flight:{f.slug}" for f in dataset.flights}
        | {f"series:{s.value}" for s in Series}
    )


@pytest.mark.parametrize("item", ITEMS, ids=lambda item: str(item.get("title", "?"))[:60])
def test_item_has_its_fields(item: dict[str, Any]) -> None:
    expected = RELEVANT_FIELDS if item.get("relevant") is True else MISS_FIELDS
    assert set(item) == expected
    for field in ("title", "summary", "publisher"):
        assert isinstance(item[field], str)
        assert item[field].strip() == item[field] != ""
    assert "<" not in item["summary"], "summaries are plain text"
    assert DATE.match(str(item["published"])), item["published"]
    assert _is_http_url(item["url"])


@pytest.mark.parametrize("item", ITEMS, ids=lambda item: str(item.get("title", "?"))[:60])
def test_labels_are_consistent(item: dict[str, Any], known_records: set[str]) -> None:
    if item["relevant"] is True:
        topics = item["topics"]
        assert isinstance(topics, list)
        assert topics
        assert set(topics) <= TOPICS
        assert len(set(topics)) == len(topics)
        records = item["records"]
        assert isinstance(records, list)
        assert len(set(records)) == len(records)
        assert set(records) <= known_records, set(records) - known_records
    else:
        assert item["relevant"] is False
        assert isinstance(item["miss"], str)
        assert KEBAB.match(item["miss"])


def test_corpus_is_large_balanced_and_unique() -> None:
    assert len(ITEMS) >= MIN_ITEMS
    relevant = sum(1 for item in ITEMS if item["relevant"] is True)
    assert min(relevant, len(ITEMS) - relevant) >= MIN_SHARE * len(ITEMS)
    titles = Counter(" ".join(str(item["title"]).casefold().split()) for item in ITEMS)
    assert [t for t, n in titles.items() if n > 1] == []
    urls = Counter(str(item["url"]) for item in ITEMS)
    assert [u for u, n in urls.items() if n > 1] == []


def test_feed_list_shape() -> None:
    assert FEED_LIST
    for feed in FEED_LIST:
        assert set(feed) == FEED_FIELDS, feed
        assert isinstance(feed["name"], str)
        assert feed["name"].strip()
        assert _is_http_url(feed["url"])
        assert _is_http_url(feed["documented_at"])
        assert isinstance(feed["enabled"], bool)
        assert isinstance(feed["covers"], list)
        assert feed["covers"]
        assert set(feed["covers"]) <= TOPICS
    for field in ("name", "url"):
        counts = Counter(str(feed[field]) for feed in FEED_LIST)
        assert [v for v, n in counts.items() if n > 1] == [], field
    assert any(feed["enabled"] for feed in FEED_LIST)
