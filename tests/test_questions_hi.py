"""Questions in Hindi (tests/corpus/questions_hi.yaml): Devanagari, romanised and mixed with
English, parsed by the one parser with the one vocabulary.

Each phrasing is parsed field by field as the English corpus is (a field left out must have
its default), and where the entry names an English equivalent the two parse alike. The text
forms people type (NFD, zero-width joiners, Devanagari digits, either spelling of a nukta)
read as the plain ones. The answers are checked in tests/test_questions_answers.py.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.lexicon.script import has_devanagari
from bot.services.dataset import load_bundled_dataset
from bot.services.questions import (
    Catalog,
    Intent,
    Question,
    catalog_from_dataset,
    parse_question,
    question_language,
)
from bot.services.questions.normalise import clean, tokens
from bot.vocabulary import Language
from tests.test_questions import ENTRY_KEYS, assert_parsed_as

CORPUS = Path(__file__).parent / "corpus" / "questions_hi.yaml"
MIN_CORPUS_SIZE = 80
HI_ENTRY_KEYS = (ENTRY_KEYS - {"pad_to", "answer_starts_with", "expect_not_in_answer"}) | {
    "form",
    "english",
    "expect_buttons",
}
# Facts any language states alike: amounts and years, and the hosts of cited sources.
_LANGUAGE_FREE_FACT = re.compile(r"[\d.,\-]+|[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}")
_ZERO_WIDTH = re.compile("[\u200b-\u200d\u2060\ufeff]")
_DEVANAGARI_DIGIT = re.compile("[\u0966-\u096f]")
_PRECOMPOSED_NUKTA = re.compile("[\u0958-\u095f]")


def _load() -> list[dict[str, Any]]:
    entries = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
    assert isinstance(entries, list)
    return entries


HI_ENTRIES = _load()


def typed(entry: dict[str, Any]) -> str:
    """The text as sent: in NFD where the entry says so."""
    text = str(entry["text"])
    return unicodedata.normalize("NFD", text) if entry.get("form") == "nfd" else text


def hi_entry_id(entry: dict[str, Any]) -> str:
    text = str(entry["text"])
    shown = text if len(text) <= 40 else text[:39] + "…"
    return f"{entry['form']}:{shown}" if "form" in entry else shown


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return catalog_from_dataset(load_bundled_dataset())


# --- The corpus ---------------------------------------------------------------------------------


def test_corpus_is_well_formed_and_covers_what_people_type() -> None:
    assert len(HI_ENTRIES) >= MIN_CORPUS_SIZE
    texts = [typed(entry) for entry in HI_ENTRIES]
    duplicates = [text for text, count in Counter(texts).items() if count > 1]
    assert not duplicates, f"duplicate phrasings: {duplicates}"
    intents = Counter(Intent(entry["intent"]) for entry in HI_ENTRIES)
    assert set(intents) == set(Intent), f"intents without a phrasing: {set(Intent) - set(intents)}"
    for entry in HI_ENTRIES:
        unknown_keys = set(entry) - HI_ENTRY_KEYS
        assert not unknown_keys, f"{entry['text']!r}: unknown keys {unknown_keys}"
        assert entry.get("form", "nfd") == "nfd", entry["text"]
        facts = entry["expect_in_answer"]
        assert isinstance(facts, list), entry["text"]
        wordy = [fact for fact in facts if not _LANGUAGE_FREE_FACT.fullmatch(str(fact))]
        assert not wordy, f"{entry['text']!r}: facts must not depend on the language: {wordy}"
    kinds = Counter(kind for entry in HI_ENTRIES for kind in _kinds(entry))
    for kind in (
        "devanagari",
        "romanised",
        "mixed",
        "nfd",
        "zero-width",
        "devanagari-digits",
        "precomposed-nukta",
    ):
        assert kinds[kind] >= 2, f"fewer than two {kind} phrasings: {kinds}"
    assert kinds["devanagari"] >= 80


def _kinds(entry: dict[str, Any]) -> list[str]:
    text = str(entry["text"])
    kinds = []
    if has_devanagari(text):
        kinds.append("devanagari")
        if re.search("[A-Za-z]", text):
            kinds.append("mixed")
    else:
        kinds.append("romanised")
    if entry.get("form") == "nfd":
        kinds.append("nfd")
    for kind, pattern in (
        ("zero-width", _ZERO_WIDTH),
        ("devanagari-digits", _DEVANAGARI_DIGIT),
        ("precomposed-nukta", _PRECOMPOSED_NUKTA),
    ):
        if pattern.search(text):
            kinds.append(kind)
    return kinds


# --- Each phrasing ------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", HI_ENTRIES, ids=hi_entry_id)
def test_hindi_phrasing(entry: dict[str, Any], catalog: Catalog) -> None:
    text = typed(entry)
    question = parse_question(text, catalog)
    assert_parsed_as(question, entry, text)
    hindi = has_devanagari(text) or _DEVANAGARI_DIGIT.search(text) is not None
    assert question.language == (Language.HI if hindi else None)


@pytest.mark.parametrize(
    "entry", [entry for entry in HI_ENTRIES if "english" in entry], ids=hi_entry_id
)
def test_hindi_reads_as_its_english_equivalent(entry: dict[str, Any], catalog: Catalog) -> None:
    """One vocabulary: a Hindi word is a cue wherever its English equivalent is."""
    asked = _without_wording(parse_question(typed(entry), catalog))
    assert asked == _without_wording(parse_question(entry["english"], catalog))


def _without_wording(question: Question) -> Question:
    # Suggestions are the names of the records a question names: the same records, in the
    # order the names were found.
    return dataclasses.replace(question, text="", language=None, suggestions=())


# --- Text forms ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variant", "plain"),
    [
        (unicodedata.normalize("NFD", "नाथू ला कब खुलेगा"), "नाथू ला कब खुलेगा"),
        ("नाथू\u200dला", "नाथूला"),  # a zero-width joiner inside a word keeps it whole
        ("शिप\u200cकी ला", "शिपकी ला"),  # and a non-joiner
        ("\ufeffघाटा\u200b", "घाटा"),
        ("उ\u095cान", "उड़ान"),  # ड़ as one code point, or ड and the nukta
        ("\u095eार्मा", "फार्मा"),  # फ़ and फ are one letter
        ("ज़्यादा", "ज्यादा"),
        ("कहाँ", "कहां"),  # chandrabindu as anusvara
        ("वि.व. २०२४-२५", "वि व 2024-25"),
        ("घाटा। कितना॥", "घाटा कितना"),  # the dandas end sentences
        ("Nathu Laका", "nathu la का"),  # a change of script separates words
        ("2025में", "2025 में"),
    ],
)
def test_text_forms_read_as_the_plain_text(variant: str, plain: str) -> None:
    assert clean(variant) == clean(plain)
    assert tokens(clean(variant)) == tokens(clean(plain))


def test_names_are_found_however_their_vowels_are_spelt(catalog: Catalog) -> None:
    for spelling in ("नाथू ला", "नाथु ला", "नाथुला", "नाथूला", "नथुला", "नाथू-ला"):
        assert [e.key for e in parse_question(spelling, catalog).entities] == ["nathu-la"]
    for spelling in ("शिपकी ला", "शिपकी-ला", "शिपकीला", "शिप्की ला"):
        assert [e.key for e in parse_question(spelling, catalog).entities] == ["shipki-la"]


@pytest.mark.parametrize(
    "text",
    [
        "आज का मौसम कैसा है",
        "मेरा नाम राम है",
        "भारत की राजधानी क्या है",
        "चीनी का भाव क्या है",
        "दिल्ली में बारिश",
        "दुकान कब खुलेगी",
        "बाज़ार बंद है क्या",
        "स्कूल कब खुलेंगे",
        "सीमा पर तनाव क्यों है",
        "ला ला ला",
    ],
)
def test_everyday_hindi_is_not_read_as_a_question_about_the_records(
    text: str, catalog: Catalog
) -> None:
    question = parse_question(text, catalog)
    assert question.intent is Intent.UNKNOWN
    assert question.entities == ()


# --- Language -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("नाथू ला कब खुलेगा?", Language.HI),
        ("Nathu La कब खुलेगा?", Language.HI),  # any Devanagari word
        ("is नाथू ला open?", Language.HI),
        ("२०२५?", Language.HI),  # Devanagari digits are a Hindi keyboard too
        (unicodedata.normalize("NFD", "घाटा"), Language.HI),
        ("nathu la kab khulega", None),  # romanised Hindi: the chat's language decides
        ("what is the deficit", None),
        ("।", None),  # punctuation alone says nothing
        ("", None),
        ("中印贸易", None),
    ],
)
def test_question_language(text: str, language: Language | None) -> None:
    assert question_language(text) is language


# Telegram sends IETF tags as the user's app has them; the bot has English and Hindi.
LANGUAGE_CODES: list[tuple[str | None, Language | None]] = [
    ("hi", Language.HI),
    ("hi-IN", Language.HI),
    ("HI", Language.HI),
    ("hi_IN", Language.HI),
    (" hi ", Language.HI),
    ("hi-Latn", Language.HI),
    ("en", Language.EN),
    ("en-GB", Language.EN),
    ("EN-us", Language.EN),
    ("fr", None),
    ("hin", None),  # ISO 639-2 is not what Telegram sends
    ("h", None),
    ("-", None),
    ("", None),
    (None, None),
    ("zz-ZZ-x-private", None),
    ("\u0939\u093f", None),
]


@pytest.mark.parametrize(("code", "language"), LANGUAGE_CODES)
def test_language_from_a_telegram_language_code(
    code: str | None, language: Language | None
) -> None:
    assert Language.from_code(code) is language
