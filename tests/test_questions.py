"""The plain-English question parser (bot/services/questions/).

Every phrasing in tests/corpus/questions.yaml is parsed with the catalog of the bundled dataset
and compared field by field: a field the entry leaves out must have its default (no entities,
no period, ...), so a stray match fails as surely as a missed one. `suggestions` is checked
only where an entry gives it. The same file drives the answer-level test, through each
entry's `expect_in_answer`; here those strings are only checked to come from the dataset.
"""

from __future__ import annotations

import dataclasses
import random
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.partial_date import PartialDate
from bot.services.dataset import Dataset, load_bundled_dataset
from bot.services.questions import (
    Catalog,
    CatalogEntry,
    EntityRef,
    Intent,
    PeriodKind,
    PeriodRef,
    Question,
    State,
    catalog_from_dataset,
    parse_question,
)
from bot.vocabulary import DealStatus, Direction, Quantity, RecordType, Series

CORPUS = Path(__file__).parent / "corpus" / "questions.yaml"
MIN_CORPUS_SIZE = 170
ENTRY_KEYS = {
    "text",
    "pad_to",
    "intent",
    "series",
    "quantity",
    "periods",
    "since_year",
    "extreme",
    "entities",
    "deal_category",
    "deal_status",
    "direction",
    "suggestions",
    "about",
    "yes_no",
    "amounts",
    "answer_starts_with",
    "expect_in_answer",
    "expect_not_in_answer",
}


def expand(entry: dict[str, Any]) -> str:
    """The question text; `pad_to: N` repeats `text` (space-separated) and cuts it to N chars."""
    text = str(entry["text"])
    if "pad_to" not in entry:
        return text
    size = int(entry["pad_to"])
    return ((text + " ") * (size // (len(text) + 1) + 1))[:size]


def _load_corpus() -> list[dict[str, Any]]:
    entries = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
    assert isinstance(entries, list)
    return entries


ENTRIES = _load_corpus()


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return load_bundled_dataset()


@pytest.fixture(scope="module")
def catalog(dataset: Dataset) -> Catalog:
    return catalog_from_dataset(dataset)


def _entry_id(entry: dict[str, Any]) -> str:
    text = str(entry["text"]).encode("unicode_escape").decode("ascii")
    text = text if len(text) <= 40 else text[:39] + "…"
    return f"{text}*{entry['pad_to']}" if "pad_to" in entry else text or "<empty>"


# --- The corpus ---------------------------------------------------------------------------------


def test_corpus_is_well_formed() -> None:
    assert len(ENTRIES) >= MIN_CORPUS_SIZE
    texts = [expand(entry) for entry in ENTRIES]
    duplicates = [text for text, count in Counter(texts).items() if count > 1]
    assert not duplicates, f"duplicate phrasings: {duplicates}"
    intents = Counter(Intent(entry["intent"]) for entry in ENTRIES)
    assert set(intents) == set(Intent), f"intents without a phrasing: {set(Intent) - set(intents)}"
    assert min(intents.values()) >= 4, intents
    for entry in ENTRIES:
        unknown_keys = set(entry) - ENTRY_KEYS
        assert not unknown_keys, f"{entry['text']!r}: unknown keys {unknown_keys}"
        answer = entry["expect_in_answer"]
        assert isinstance(answer, list), entry["text"]
        assert all(isinstance(item, str) and item for item in answer), entry["text"]
        absent = entry.get("expect_not_in_answer", [])
        assert isinstance(absent, list), entry["text"]
        assert all(isinstance(item, str) and item for item in absent), entry["text"]
        if "yes_no" in entry:
            assert "answer_starts_with" in entry, f"{entry['text']!r}: give its first words"


def _dataset_strings(dataset: Dataset) -> set[str]:
    """What an answer from the bundled data can state: figures as stored (and as other
    sources report them), period labels, names, statuses in words, dates at the precision
    their source gave."""
    strings: set[str] = set()
    dates: list[PartialDate | None] = []
    for figure in dataset.trade_figures:
        strings.add(figure.period)
        strings.update(
            str(value)
            for value in (figure.exports, figure.imports, figure.total, figure.deficit)
            if value is not None
        )
        strings.update(str(report.value) for report in figure.reports)
    for item in dataset.passes:
        strings.update((item.name, item.status.value.replace("_", " ")))
        dates.extend((item.trade_since, item.status_since, item.expected_reopening))
    for deal in dataset.deals:
        strings.update((deal.commodity, deal.status.value.replace("_", " ")))
        dates.extend((deal.status_since, deal.status_until))
    for flight in dataset.flights:
        strings.update((flight.route, flight.airline, flight.status.value.replace("_", " ")))
        strings.update(filter(None, (flight.flight_number, flight.frequency)))
        dates.append(flight.since)
    for row in dataset.history:
        dates.append(row.occurred_on)
        strings.update(value.replace("_", " ") for value in (row.old, row.new) if value)
    for figure in dataset.trade_figures:  # months and years so far, as their months are said
        if figure.partial:
            dates.extend(
                PartialDate(day.year, day.month) for day in (figure.period_start, figure.period_end)
            )
    for group in dataset.composition:  # what India buys and sells
        strings.update(filter(None, (group.product_group, group.note)))
        strings.update(str(value) for value in (group.value, group.growth_pct) if value is not None)
    strings.update(date.human() for date in dates if date is not None)
    # What the full-text search quotes: notes, history notes, descriptions, their sources.
    strings.update(note.text for note in dataset.notes)
    strings.update(row.note for row in dataset.history if row.note)
    for record in (*dataset.trade_figures, *dataset.passes, *dataset.deals, *dataset.flights):
        strings.update(filter(None, (record.note,)))
    strings.update(
        value for source in dataset.sources for value in (source.title, source.publisher)
    )
    return strings


def test_expected_answers_come_from_the_dataset(dataset: Dataset) -> None:
    known = _dataset_strings(dataset)
    unknown = {
        item
        for entry in ENTRIES
        for item in entry["expect_in_answer"]
        if item not in known and not any(item in fact for fact in known)
    }
    assert not unknown, f"expect_in_answer strings the dataset does not hold: {sorted(unknown)}"


def _labels(question: Question) -> list[str]:
    return [period.label() for period in question.periods]


@pytest.mark.parametrize("entry", ENTRIES, ids=_entry_id)
def test_corpus_phrasing(entry: dict[str, Any], catalog: Catalog) -> None:
    text = expand(entry)
    assert_parsed_as(parse_question(text, catalog), entry, text)


def assert_parsed_as(question: Question, entry: dict[str, Any], text: str) -> None:
    """Every field of the parsed question as the corpus entry gives it (its default if left
    out); `suggestions` only where the entry gives them."""
    expected_series = entry.get("series")
    expected_quantity = entry.get("quantity")
    expected_status = entry.get("deal_status")
    expected_direction = entry.get("direction")

    assert question.text == text
    assert question.intent is Intent(entry["intent"])
    assert question.series == (Series(expected_series) if expected_series else None)
    assert question.quantity == (Quantity(expected_quantity) if expected_quantity else None)
    assert _labels(question) == [str(label) for label in entry.get("periods", [])]
    assert question.since_year == entry.get("since_year")
    assert question.extreme == entry.get("extreme")
    assert [e.key for e in question.entities] == entry.get("entities", [])
    assert question.deal_category == entry.get("deal_category")
    assert question.deal_status == (DealStatus(expected_status) if expected_status else None)
    assert question.direction == (Direction(expected_direction) if expected_direction else None)
    assert question.about == (Intent(entry["about"]) if "about" in entry else None)
    assert question.yes_no == (State(entry["yes_no"]) if "yes_no" in entry else None)
    assert question.amounts == tuple(Decimal(str(amount)) for amount in entry.get("amounts", []))
    if "suggestions" in entry:
        assert list(question.suggestions) == entry["suggestions"]


# --- Names that must not match ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "is the market open",
        "pass me the data",
        "la la land",
        "open the pass",
        "trade pass la",
        "the deficit is open to debate",
        "space cooperation",
        "what is the price of rice",
        "delhi weather",
        "water levels",
        "i drank a latte at the plaza",
        "naturally",
        "shipping costs",
        "lip balm",
        "magnificent scenery",
        "a fishy story",
    ],
)
def test_common_words_do_not_match_names(text: str, catalog: Catalog) -> None:
    question = parse_question(text, catalog)
    assert question.entities == ()
    assert question.intent not in (Intent.PASS, Intent.DEALS, Intent.FLIGHTS)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("nathula", "nathu-la"),
        ("NATHU-LA", "nathu-la"),
        ("Nathu   La", "nathu-la"),
        ("natu la", "nathu-la"),
        ("nathu la pas", "nathu-la"),
        ("shipkila", "shipki-la"),
        ("shipki-la pass", "shipki-la"),
        ("shipkl la", "shipki-la"),
        ("lipu-lekh", "lipulekh"),
        ("lipulehk", "lipulekh"),
        ("rare erth magnets", "rare-earth-magnets"),
        ("REE magnet", "rare-earth-magnets"),
        ("tunnel-boring machine", "tunnel-boring-machines"),
        ("pharma api", "pharmaceutical-intermediates"),
        ("KSMs", "pharmaceutical-intermediates"),
        ("speciality fertilizers", "specialty-fertilisers"),
        ("prawns", "seafood-exports"),
        ("6E 1703", "kolkata-guangzhou"),
        ("delhi to guangzhou", "delhi-guangzhou"),
    ],
)
def test_names_are_found_despite_spelling(text: str, key: str, catalog: Catalog) -> None:
    assert [e.key for e in parse_question(text, catalog).entities] == [key]


def test_an_ambiguous_name_gives_every_record_and_suggests_them(catalog: Catalog) -> None:
    question = parse_question("pharma", catalog)
    assert question.intent is Intent.DEALS
    assert {e.key for e in question.entities} == {
        "pharmaceutical-intermediates",
        "pharmaceutical-exports",
    }
    assert set(question.suggestions) == {"Pharmaceutical intermediates", "Pharmaceuticals"}


def test_a_near_miss_is_suggested(catalog: Catalog) -> None:
    question = parse_question("nathu", catalog)
    assert question.intent is Intent.UNKNOWN
    assert question.suggestions == ("Nathu La",)


# --- Hinglish: one vocabulary -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hinglish", "english"),
    [
        ("china ke saath vyapar ghata kitna hai", "what is the trade deficit with china"),
        ("2024-25 mein aayat kitna tha", "imports in 2024-25"),
        ("2022 mein niryat kitna tha", "exports in 2022"),
        ("2025 mein kul vyapar", "total trade in 2025"),
        ("kya vyapar ghata badh raha hai", "is the trade deficit growing"),
        ("niryat ghat raha hai kya", "are exports shrinking"),
        ("nathu la kab khulega", "when will nathu la open"),
        ("kya nathu la khula hai", "is nathu la open"),
        ("shipki la band hai kya", "is shipki la closed"),
        ("kaun sa darra khula hai", "which pass is open"),
        ("kya udaan chalu hai", "are flights running"),
        ("urea par pabandi hati kya", "has the ban on urea been lifted"),
        ("pichhle saal ka ghata", "deficit last year"),
        ("india aur china ke aankde alag kyun hain", "why do india and china figures differ"),
        ("99.2 kahan se aaya", "where does 99.2 come from"),
    ],
)
def test_hinglish_reads_as_english(hinglish: str, english: str, catalog: Catalog) -> None:
    """Romanised Hindi question words are entries of the same concepts as English ones."""
    asked = dataclasses.replace(parse_question(hinglish, catalog), text="")
    assert asked == dataclasses.replace(parse_question(english, catalog), text="")
    assert asked.intent is not Intent.UNKNOWN


# --- A catalog from other records (the database) ------------------------------------------------


def test_a_catalog_built_from_rows_recognises_their_names() -> None:
    catalog = Catalog(
        [
            CatalogEntry(RecordType.PASS, "demchok", "Demchok", ("Demchok Pass",)),
            CatalogEntry(RecordType.DEAL, "solar-cells", "Solar cells", ("PV", "panels"), "solar"),
            CatalogEntry(RecordType.DEAL, "solar-glass", "Solar glass", ("panels",), "solar"),
            CatalogEntry(RecordType.DEAL, "solar-wafers", "Solar wafers", ("wafers",), "solar"),
            CatalogEntry(RecordType.FLIGHT, "mumbai-beijing", "Mumbai–Beijing", ()),
        ]
    )
    assert parse_question("is demchok open?", catalog).entities == (
        EntityRef(RecordType.PASS, "demchok", "Demchok"),
    )
    shared = parse_question("panels", catalog)
    assert [e.key for e in shared.entities] == ["solar-cells", "solar-glass"]
    assert shared.suggestions == ("Solar cells", "Solar glass")
    category = parse_question("solar supplies", catalog)
    assert category.intent is Intent.DEALS
    assert category.deal_category == "solar"
    assert parse_question("mumbai beijing flights", catalog).entities[0].key == "mumbai-beijing"
    assert parse_question("is nathu la open?", catalog).entities == ()


def test_an_alias_every_deal_of_a_category_shares_names_the_category() -> None:
    """Hindi names a category by a word its deals share (उर्वरक: fertilisers), as English
    names it by the category itself."""
    catalog = Catalog(
        [
            CatalogEntry(RecordType.DEAL, "solar-cells", "Solar cells", ("सौर", "panels"), "solar"),
            CatalogEntry(RecordType.DEAL, "solar-glass", "Solar glass", ("सौर",), "solar"),
            CatalogEntry(RecordType.DEAL, "glass-fibre", "Glass fibre", ("panels",), "fibre"),
        ]
    )
    whole = parse_question("सौर", catalog)
    assert whole.deal_category == "solar"
    assert whole.suggestions == ()
    across = parse_question("panels", catalog)  # two categories: any of the records
    assert across.deal_category is None
    assert across.suggestions == ("Solar cells", "Glass fibre")


def test_an_empty_catalog_still_parses() -> None:
    catalog = Catalog([])
    assert parse_question("deficit FY2024-25", catalog).intent is Intent.DEFICIT
    assert parse_question("is nathu la open?", catalog).intent is Intent.UNKNOWN


# --- Periods ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "label"),
    [
        (PeriodRef(PeriodKind.FISCAL, 2024), "FY2024-25"),
        (PeriodRef(PeriodKind.FISCAL, 2099), "FY2099-00"),
        (PeriodRef(PeriodKind.FISCAL, 1849), "FY1849-50"),
        (PeriodRef(PeriodKind.CALENDAR, 2025), "2025"),
        (PeriodRef(PeriodKind.LATEST), "latest"),
        (PeriodRef(PeriodKind.PREVIOUS), "last year"),
    ],
)
def test_period_labels(ref: PeriodRef, label: str) -> None:
    assert ref.label() == label


@pytest.mark.parametrize(
    ("text", "labels"),
    [
        ("deficit FY2024-25", ["FY2024-25"]),
        ("deficit FY 2024-25", ["FY2024-25"]),
        ("deficit FY24-25", ["FY2024-25"]),
        ("deficit FY25", ["FY2024-25"]),
        ("deficit FY'25", ["FY2024-25"]),
        ("deficit 2024-25", ["FY2024-25"]),
        ("deficit 2024/25", ["FY2024-25"]),
        ("deficit 2024–25", ["FY2024-25"]),
        ("deficit fiscal 2025", ["FY2024-25"]),
        ("deficit financial year 2024-25", ["FY2024-25"]),
        ("deficit 2025", ["2025"]),
        ("deficit calendar 2023", ["2023"]),
        ("deficit in calendar year 2023", ["2023"]),
        ("deficit last year", ["last year"]),
        ("deficit previous year", ["last year"]),
        ("deficit this year", ["latest"]),
        ("deficit FY1850", ["FY1849-50"]),
        ("deficit 2099", ["2099"]),
        ("deficit FY2099-00", ["FY2099-00"]),
        ("deficit in 1850", ["latest"]),  # not a year: a number like any other
    ],
)
def test_period_forms(text: str, labels: list[str], catalog: Catalog) -> None:
    assert _labels(parse_question(text, catalog)) == labels


@pytest.mark.parametrize(
    ("text", "since_year"),
    [
        ("deficit since 2020", 2020),
        ("deficit after 2019", 2020),
        ("deficit from 2021 onwards", 2021),
        ("deficit since FY2019-20", 2019),
        ("deficit since FY21", 2020),
    ],
)
def test_since(text: str, since_year: int, catalog: Catalog) -> None:
    question = parse_question(text, catalog)
    assert question.intent is Intent.TREND
    assert question.since_year == since_year
    assert question.periods == ()


def test_a_named_series_wins_over_the_one_a_period_implies(catalog: Catalog) -> None:
    assert parse_question("deficit FY2024-25", catalog).series is Series.INDIA_FY
    assert parse_question("deficit 2025", catalog).series is Series.CHINA_CY
    named = parse_question("deficit in 2025 according to the commerce ministry", catalog)
    assert named.series is Series.INDIA_FY
    named = parse_question("FY2024-25 deficit in chinese customs data", catalog)
    assert named.series is Series.CHINA_CY
    assert parse_question("deficit FY2024-25 and 2025", catalog).series is None


# --- Robustness ---------------------------------------------------------------------------------

JUNK = [
    "",
    " ",
    "\n\t\r",
    "\x00",
    "\ud800",  # a lone surrogate
    "\u200f\u202e\u2066",  # direction marks
    "\ufeff",
    "Z̷̡̛a̶̢͝l̵̨̛g̷͔̈o̸̧͝",
    "🇮🇳" * 50,
    "💥" * 4096,
    "中" * 4096,
    "FY",
    "FY-",
    "FY 20",
    "fy99999",
    "2024-",
    "-2024",
    "20242025",
    "9" * 4096,
    "fy2024-25-26-27",
    "since",
    "since since since",
    "from to between and",
    "<" * 1000 + ">" * 1000,
    "<a href='x'>" * 300,
    "&amp;" * 800,
    "&#x110000;&#0;&#xd800;",
    "[nathu la](javascript:alert(1))",
    "`` ``` **__~~||",
    "'s 's 's",
    "la " * 1365,
    "pass " * 819,
    "nathu la " * 455,
    "a" * 10_000,
    "deficit " * 2000,
]


@pytest.mark.parametrize("text", JUNK, ids=lambda text: f"{len(text)}:{text[:10]!r}")
def test_never_raises_on_junk(text: str, catalog: Catalog) -> None:
    question = parse_question(text, catalog)
    assert question.text == text
    assert isinstance(question.intent, Intent)


def test_never_raises_on_random_text(catalog: Catalog) -> None:
    """Seeded, so a failure reproduces: random code points, words and punctuation."""
    rng = random.Random(20250819)
    pieces = ["nathu", "la", "FY", "2024", "-", "25", "/", "deficit", "<b>", "&", "'s", " "]
    for _ in range(300):
        length = rng.choice((1, 5, 40, 300, 4096))
        if rng.random() < 0.5:
            text = "".join(chr(rng.randrange(0x110000)) for _ in range(length))
        else:
            text = "".join(rng.choice(pieces) for _ in range(length))[:4096]
        question = parse_question(text, catalog)
        assert question.text == text
        assert len(question.periods) <= 2


def test_a_4096_character_question_is_parsed(catalog: Catalog) -> None:
    text = expand({"text": "is shipki la open?", "pad_to": 4096})
    assert len(text) == 4096
    question = parse_question(text, catalog)
    assert question.intent is Intent.PASS
    assert [e.key for e in question.entities] == ["shipki-la"]


def test_text_beyond_the_telegram_limit_is_cut_not_rejected(catalog: Catalog) -> None:
    text = "deficit in FY2024-25 " + "x " * 5000
    question = parse_question(text, catalog)
    assert question.intent is Intent.DEFICIT
    assert question.text == text


def test_parsing_is_deterministic(catalog: Catalog) -> None:
    for entry in ENTRIES[:40]:
        text = expand(entry)
        assert parse_question(text, catalog) == parse_question(text, catalog)
    assert parse_question("pharma", catalog) == parse_question("pharma", catalog)
