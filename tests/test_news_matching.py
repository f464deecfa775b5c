"""The news matcher against the labelled corpus of real headlines (tests/corpus/news.yaml).

The corpus holds published headlines with short summaries, half about India–China trade in the
bot's topics and half near misses; the matcher must tell them apart (precision and recall at
least 0.95), give the right topics, and name the records each may change.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.services.dataset import load_bundled_dataset
from bot.services.news.matching import NewsMatch, NewsMatcher
from bot.services.questions.catalog import catalog_from_dataset
from bot.vocabulary import Topic

CORPUS = Path(__file__).parent / "corpus" / "news.yaml"


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    topics_exact: float  # of the relevant items found, those with exactly the labelled topics
    record_precision: float
    record_recall: float


def score(matcher: NewsMatcher, items: list[dict[str, Any]]) -> Scores:
    found = relevant = hits = topics_exact = 0
    records_found = records_labelled = records_right = 0
    for item in items:
        match: NewsMatch | None = matcher.match(item["title"], item.get("summary") or "")
        found += match is not None
        relevant += bool(item["relevant"])
        if match is None or not item["relevant"]:
            continue
        hits += 1
        topics_exact += {topic.value for topic in match.topics} == set(item["topics"])
        labelled = set(item.get("records") or ())
        records_found += len(match.records)
        records_labelled += len(labelled)
        records_right += len(labelled & set(match.records))
    return Scores(
        precision=hits / found,
        recall=hits / relevant,
        topics_exact=topics_exact / hits,
        record_precision=records_right / records_found,
        record_recall=records_right / records_labelled,
    )


@pytest.fixture(scope="module")
def matcher() -> NewsMatcher:
    return NewsMatcher(catalog_from_dataset(load_bundled_dataset()))


@pytest.fixture(scope="module")
def corpus() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))["items"]
    return items


def test_the_corpus_is_told_apart(matcher: NewsMatcher, corpus: list[dict[str, Any]]) -> None:
    scores = score(matcher, corpus)
    assert len(corpus) >= 120
    assert scores.precision >= 0.95, scores
    assert scores.recall >= 0.95, scores
    assert scores.topics_exact >= 0.95, scores
    # Records are a suggestion for editors, who pick the one to update: most named, few extra.
    assert scores.record_recall >= 0.9, scores
    assert scores.record_precision >= 0.75, scores


@pytest.mark.parametrize(
    ("title", "summary", "topics", "records"),
    [
        (
            "Nathu La traders prepare as border trade set to resume",
            "Sikkim's traders at Sherathang await the season.",
            ["passes"],
            ["pass:nathu-la"],
        ),
        ("China lifts curbs on urea shipments to India", "", ["deals"], ["deal:urea"]),
        (
            "India's trade deficit with China hits $99.2 bn in FY25",
            "",
            ["trade"],
            ["series:india_fy"],
        ),
        ("IndiGo starts Kolkata–Guangzhou flights", "", ["flights"], ["flight:kolkata-guangzhou"]),
        # A misspelt pass is still the pass: the question parser's typo matching.
        (
            "Border trade through Shipkila pass to restart, traders say",
            "",
            ["passes"],
            ["pass:shipki-la"],
        ),
    ],
)
def test_typical_stories_get_their_topics_and_records(
    matcher: NewsMatcher, title: str, summary: str, topics: list[str], records: list[str]
) -> None:
    match = matcher.match(title, summary)
    assert match is not None
    assert [topic.value for topic in match.topics] == topics
    assert list(match.records) == records
    assert "India" in match.why


@pytest.mark.parametrize(
    "title",
    [
        "Kailash Mansarovar Yatra pilgrims cross Lipulekh in first batch",
        "India-US trade deal: negotiators meet in Washington",
        "China's trade surplus with the EU widens to a record",
        "Government raises fertiliser subsidy for the kharif season",
        "India, China hold corps commander talks to narrow the gap at the LAC",
        "",
        "<script>alert(1)</script>",
    ],
)
def test_near_misses_match_nothing(matcher: NewsMatcher, title: str) -> None:
    assert matcher.match(title) is None


def test_topics_come_in_a_fixed_order(matcher: NewsMatcher) -> None:
    match = matcher.match(
        "India–China flights resume and trade deficit widens",
        "IndiGo flies Kolkata to Guangzhou; India's deficit with China rose in FY25.",
    )
    assert match is not None
    assert match.topics == (Topic.TRADE, Topic.FLIGHTS)


# --- Hindi: the same concepts' Hindi entries, the same names ------------------------------------


@pytest.mark.parametrize(
    ("title", "topics", "records"),
    [
        ("नाथू ला से सीमा व्यापार फिर शुरू होगा", ["passes"], ["pass:nathu-la"]),
        ("शिपकी-ला दर्रे से व्यापार जून से", ["passes"], ["pass:shipki-la"]),
        ("चीन ने भारत को यूरिया निर्यात पर रोक लगाई", ["deals"], ["deal:urea"]),
        ("कोलकाता से ग्वांगझोउ के लिए इंडिगो की सीधी उड़ान फिर शुरू", ["flights"],
         ["flight:kolkata-guangzhou"]),
        ("वित्त वर्ष 2024-25 में चीन के साथ व्यापार घाटा 99.2 अरब डॉलर", ["trade"],
         ["series:india_fy"]),
        ("2025 में चीन के साथ भारत का व्यापार घाटा रिकॉर्ड पर", ["trade"], ["series:china_cy"]),
        # Typed in NFD, with a zero-width joiner and Devanagari digits: the same headline.
        (unicodedata.normalize("NFD", "नाथू\u200dला से व्यापार २०२६ में"), ["passes"],
         ["pass:nathu-la"]),
    ],
)  # fmt: skip
def test_hindi_headlines_match_like_english_ones(
    matcher: NewsMatcher, title: str, topics: list[str], records: list[str]
) -> None:
    match = matcher.match(title)
    assert match is not None, title
    assert [topic.value for topic in match.topics] == topics
    assert list(match.records) == records


@pytest.mark.parametrize(
    "title",
    [
        "कैलाश मानसरोवर यात्रा का पहला जत्था लिपुलेख से रवाना",  # a pilgrimage, no trade
        "भारत-अमेरिका व्यापार समझौते पर बातचीत तेज",  # another partner
        "किसानों के लिए उर्वरक सब्सिडी बढ़ी",  # fertilisers without China
        "चीन के सीमा शुल्क विभाग ने नए नियम जारी किए",  # no India, no trade figure
    ],
)
def test_hindi_near_misses_match_nothing(matcher: NewsMatcher, title: str) -> None:
    assert matcher.match(title) is None
