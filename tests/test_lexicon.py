"""The lexicon (bot/lexicon/): the bundled file loads, a malformed file is refused with the file,
the entry and the problem, phrases match as the format says, and nothing is read at import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.lexicon import LEXICON_FILE, LexiconError, lexicon, load_lexicon, phrase_regex
from bot.lexicon.model import Lexicon, Phrases, Words


def _bundled() -> dict[str, Any]:
    content = yaml.safe_load(LEXICON_FILE.read_text(encoding="utf-8"))
    assert isinstance(content, dict)
    return content


def _write(tmp_path: Path, content: object) -> Path:
    path = tmp_path / "lexicon.yaml"
    path.write_text(yaml.safe_dump(content, allow_unicode=True), encoding="utf-8")
    return path


def _refused(tmp_path: Path, content: object) -> str:
    path = _write(tmp_path, content)
    with pytest.raises(LexiconError) as refused:
        load_lexicon(path)
    message = str(refused.value)
    assert message.startswith(f"{path}: "), message
    return message


# --- The bundled file ---------------------------------------------------------------------------


def test_the_bundled_lexicon_loads_once() -> None:
    loaded = lexicon()
    assert isinstance(loaded, Lexicon)
    assert lexicon() is loaded
    assert "deficit" in loaded.trade.deficit.words
    assert loaded.trade.deficit.entries[0][0] == "en"


# Hindi grammar English has no words for: postpositions after a place or a period.
HINDI_ONLY = {"to_postposition", "from_postposition", "since_postposition", "after_postposition"}


def test_every_concept_has_english_entries() -> None:
    for section in _bundled().values():
        for name, languages in section.items():
            if name in HINDI_ONLY:
                assert languages.get("hi"), f"{name} has no Hindi entries"
            else:
                assert languages.get("en"), f"{name} has no English entries"


def test_phrases_match_whole_words_with_slots_alternatives_and_wildcards() -> None:
    loaded = lexicon()
    sources = phrase_regex(loaded.requests.source_phrases)
    assert sources.search(" where does the bot usually get its data ")  # * is one word
    assert sources.search(" where are your figures from ")  # (is|are) (your|the)
    assert sources.search(" where do you get ")
    assert not sources.search(" where do you forget ")  # whole words only
    china = phrase_regex(loaded.series.china_series)
    assert china.search(" deficit in chinese customs data ")  # {china_adjective} {statistics}
    assert china.search(" according to beijing ")
    assert not china.search(" china recorded a deficit ")
    latest = phrase_regex(loaded.periods.latest).search(" this fiscal year ")
    assert latest
    assert latest.group() == " this fiscal year"  # the longer entry first


# --- Malformed files ----------------------------------------------------------------------------


def test_not_yaml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "lexicon.yaml"
    path.write_text("trade: [deficit\n", encoding="utf-8")
    with pytest.raises(LexiconError, match=rf"^{path}: not valid YAML"):
        load_lexicon(path)


def test_an_empty_file_names_the_sections_expected(tmp_path: Path) -> None:
    message = _refused(tmp_path, None)
    assert "the top level: expected a mapping of common, trade, series" in message


def test_an_unknown_section_is_named(tmp_path: Path) -> None:
    content = _bundled()
    content["weather"] = {"rain": {"en": ["rain"]}}
    assert "the top level: unknown weather" in _refused(tmp_path, content)


def test_a_missing_concept_is_named(tmp_path: Path) -> None:
    content = _bundled()
    del content["trade"]["deficit"]
    assert "trade: missing deficit" in _refused(tmp_path, content)


def test_an_unknown_concept_is_named(tmp_path: Path) -> None:
    content = _bundled()
    content["trade"]["tariffs"] = {"en": ["tariff"]}
    assert "trade: unknown tariffs" in _refused(tmp_path, content)


@pytest.mark.parametrize(
    ("section", "concept", "entries", "problem"),
    [
        ("periods", "onwards", ["onwards", True], "periods.onwards.en[1]: expected text, got True"),
        ("trade", "deficit", ["deficit", "Gap"], "trade.deficit.en[1]: 'Gap': entries are written"),
        ("trade", "trend_phrases", ["over  time"], "trade.trend_phrases.en[0]: 'over  time': "),
        ("trade", "deficit", ["deficit", " gap"], "trade.deficit.en[1]: ' gap': expected words"),
        ("trade", "deficit", ["trade gap"], "trade.deficit.en[0]: 'trade gap': this concept takes"),
        ("trade", "deficit", ["gap", "gap"], "trade.deficit.en[1]: 'gap' is repeated"),
        ("trade", "deficit", [], "trade.deficit.en: expected a non-empty list"),
        ("trade", "deficit", "gap", "trade.deficit.en: expected a non-empty list"),
        ("trade", "trend_phrases", ["{nowhere} time"], "{nowhere} names no concept"),
        ("trade", "trend_phrases", ["over {trend_phrases}"], "{trend_phrases} would contain"),
        ("trade", "trend_phrases", ["over (time|)"], "write alternatives as (a|b)"),
        ("trade", "trend_phrases", ["over (time"], "unexpected '('"),
        ("trade", "trend_phrases", ["over time{trend}"], "expected a space after 'time'"),
        ("trade", "trend_phrases", ["* *"], "a phrase needs a word besides *"),
    ],
)
def test_a_malformed_entry_names_the_file_and_the_entry(
    tmp_path: Path, section: str, concept: str, entries: object, problem: str
) -> None:
    content = _bundled()
    content[section][concept]["en"] = entries
    assert problem in _refused(tmp_path, content)


def test_a_slot_cycle_through_another_concept_is_refused(tmp_path: Path) -> None:
    content = _bundled()
    content["trade"]["trend_phrases"]["en"] = ["{compare_phrases} now"]
    content["trade"]["compare_phrases"]["en"] = ["{trend_phrases} then"]
    assert "would contain itself" in _refused(tmp_path, content)


@pytest.mark.parametrize("language", ["EN", "english", "hi_latn"])
def test_a_language_key_must_be_a_language_code(tmp_path: Path, language: str) -> None:
    content = _bundled()
    content["trade"]["deficit"][language] = ["gap"]
    assert f"trade.deficit: '{language}' is not a language code" in _refused(tmp_path, content)


# --- Languages side by side ---------------------------------------------------------------------


def test_another_language_is_read_beside_english_without_code(tmp_path: Path) -> None:
    content = _bundled()
    content["trade"]["deficit"]["hi-latn"] = ["ghaata"]
    content["trade"]["trend_phrases"]["hi-latn"] = ["saal dar saal"]
    loaded = load_lexicon(_write(tmp_path, content))
    deficit: Words = loaded.trade.deficit
    assert {"deficit", "ghaata"} <= deficit.words
    assert [language for language, _ in deficit.entries] == ["en", "hi", "hi-latn"]
    trend: Phrases = loaded.trade.trend_phrases
    assert phrase_regex(trend).search(" deficit saal dar saal ")
    assert phrase_regex(trend).search(" deficit over the years ")


# --- Nothing at import time ---------------------------------------------------------------------


@pytest.mark.slow
def test_importing_the_parser_reads_no_lexicon() -> None:
    """Cold start: the lexicon's classes and file are loaded by the first question only."""
    script = (
        "import sys\n"
        "import bot.services.questions as q\n"
        "import bot.telegram.handlers.questions\n"
        "assert 'bot.lexicon.model' not in sys.modules\n"
        "from bot.lexicon import lexicon\n"
        "assert lexicon.cache_info().currsize == 0\n"
        "q.parse_question('deficit', q.Catalog([]))\n"
        "assert lexicon.cache_info().currsize == 1\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)


def test_devanagari_entries_are_read_as_questions_are_folded(tmp_path: Path) -> None:
    """Written as a Hindi speaker writes them, matched however the question typed them."""
    content = _bundled()
    content["trade"]["maximum"]["hi"] = ["ज़्यादा", "\u095bरूरी"]  # a nukta, then ज़ as one code point
    content["periods"]["latest"]["hi"] = ["अभी यहाँ"]
    loaded = load_lexicon(_write(tmp_path, content))
    assert {"ज्यादा", "जरूरी"} <= loaded.trade.maximum.words
    assert phrase_regex(loaded.periods.latest).search(" घाटा अभी यहां ")


def test_two_entries_that_fold_alike_are_refused(tmp_path: Path) -> None:
    content = _bundled()
    content["trade"]["maximum"]["hi"] = ["ज़्यादा", "ज्यादा"]
    assert "'ज्यादा' is repeated" in _refused(tmp_path, content)
