"""A question read once for every rule: its words (keyword typos corrected) and the lexicon's
cues compiled for the parser.

The cues are built from `bot.lexicon` on the first question of the process, not at import
time. Phrase cues are regular expressions over `Reading.padded`, the corrected words joined
by single spaces with a space at each end.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.lexicon import lexicon, phrase_regex, words_of
from bot.services.questions.language import question_language
from bot.services.questions.normalise import clean, tokens
from bot.vocabulary import DealStatus, Language

if TYPE_CHECKING:
    from bot.lexicon.model import Lexicon, Words

MAX_TOKENS = 256  # a question is far shorter; this bounds the n-gram work on junk input
_MIN_TYPO_LEN = 6  # shorter words are too easily one edit away from another keyword
_MIN_KEYWORD_LEN = 5


class Cues:
    """The lexicon as the rules use it: word sets, and phrase patterns compiled to regular
    expressions over `Reading.padded`. Built once per process (`compiled_cues`)."""

    def __init__(self, lex: Lexicon) -> None:
        trade, common, series = lex.trade, lex.common, lex.series
        passes, deals, requests = lex.passes, lex.deals, lex.requests
        # quantities and figure questions
        self.deficit = trade.deficit.words
        self.deficit_loose = trade.deficit_loose.words
        self.exports = trade.exports.words
        self.imports = trade.imports.words
        self.total = trade.total.words
        self.quantity_words = words_of(trade.deficit, trade.exports, trade.imports, trade.total)
        self.comparative = trade.comparative.words
        self.trade_figures = trade.trade_figures.words
        self.trade_verb = trade.trade_verb.words
        self.figure_nouns = trade.figure_nouns.words
        self.maximum = trade.maximum.words
        self.maximum_phrases = phrase_regex(trade.maximum_phrases)
        self.minimum = trade.minimum.words
        self.minimum_phrases = phrase_regex(trade.minimum_phrases)
        self.not_maximum = phrase_regex(trade.not_maximum)
        self.not_minimum = phrase_regex(trade.not_minimum)
        self.worse = trade.worse.words
        self.better = trade.better.words
        self.trend = trade.trend.words
        self.trend_phrases = phrase_regex(trade.trend_phrases)
        self.compare = trade.compare.words
        self.compare_phrases = phrase_regex(trade.compare_phrases)
        self.change_over_time = trade.change_over_time.words
        # flows and series
        self.india = common.india.words
        self.china = common.china.words
        self.china_adjective = common.china_adjective.words
        self.to_place = common.to_place.words
        self.from_place = common.from_place.words
        self.to_postposition = common.to_postposition.words
        self.from_postposition = common.from_postposition.words
        self.china_series = _china_series(lex)
        self.india_series = phrase_regex(series.india_series)
        self.both_series = phrase_regex(series.both_series)
        self.fiscal_hint = phrase_regex(series.fiscal_hint)
        self.calendar_hint = phrase_regex(series.calendar_hint)
        # what India buys and sells, and why the deficit is so big
        composition = lex.composition
        self.composition_phrases = phrase_regex(composition.composition_phrases)
        self.composition_leaders = composition.composition_leaders.words
        self.composition_flows = composition.composition_flows.words
        self.year_asked = composition.year_asked.words
        self.growing_phrases = phrase_regex(composition.growing_phrases)
        self.cause_phrases = phrase_regex(composition.cause_phrases)
        # topics and requests
        self.passes = passes.passes.words
        self.border = passes.border.words
        self.border_context = passes.border_context.words
        self.pass_word = passes.pass_word.words
        self.pass_context = passes.pass_context.words
        self.mountain = passes.mountain.words
        self.mountain_context = passes.mountain_context.words
        self.pass_phrases = phrase_regex(passes.pass_phrases)
        self.flights = lex.flights.flights.words
        self.flight_phrases = phrase_regex(lex.flights.flight_phrases)
        self.deals = deals.deals.words
        self.india_to_china = phrase_regex(deals.india_to_china)
        self.china_to_india = phrase_regex(deals.china_to_india)
        self.deal_status = _deal_status(lex)  # one named group per DealStatus (its value)
        # the statuses that alone make a question about deals
        self.deal_status_cue = phrase_regex(
            deals.in_effect, deals.restricted, deals.under_negotiation
        )
        self.history = requests.history.words
        self.record_change = requests.record_change.words
        self.news = requests.news.words
        self.news_phrases = phrase_regex(requests.news_phrases)
        self.news_last_word = requests.news_last_word.words
        self.sources = requests.sources.words
        self.source_phrases = phrase_regex(requests.source_phrases)
        self.amount_units = trade.amount_units.words
        self.not_amount_units = trade.not_amount_units.words
        self.amount_source_phrases = phrase_regex(requests.amount_source_phrases)
        self.discrepancy = requests.discrepancy.words
        self.chart = requests.chart.words
        self.greeting = requests.greeting.words
        self.help_phrases = phrase_regex(requests.help_phrases)
        # yes-or-no questions and the state they ask about
        yes_no = lex.yes_no
        self.yes_no_openers = yes_no.yes_no_openers.words
        self.yes_no_closers = yes_no.yes_no_closers.words
        self.yes_no_lead = yes_no.yes_no_lead.words
        self.yes_no_trailing = yes_no.yes_no_trailing.words
        self.not_yes_no = yes_no.not_yes_no.words
        self.state_open = yes_no.state_open.words
        self.state_closed = yes_no.state_closed.words
        self.state_paused = yes_no.state_paused.words
        self.state_lifted = yes_no.state_lifted.words
        self.state_ended = yes_no.state_ended.words
        self.state_restricted = yes_no.state_restricted.words
        # filler and spelling
        self.stopwords = common.stopwords.words
        self.period_words = lex.periods.period_words.words
        self.keywords = _keywords(lex)  # words the rules know: a typo one edit away is read as them
        self.not_typos = common.not_typos.words
        self.keyword_pool = _keyword_pool(self.keywords)  # by first letter, for rapidfuzz


@dataclass(frozen=True, slots=True)
class Reading:
    text: str  # as the user typed it
    clean: str  # normalised (`normalise.clean`)
    raw: tuple[str, ...]  # the words as typed, for names
    words: tuple[str, ...]  # the words with keyword typos corrected, for the rules
    padded: str  # " " + the corrected words + " "
    vocab: frozenset[str]
    cues: Cues
    china_named: bool  # China's statistics are named ("chinese customs data")
    india_named: bool
    language: Language | None  # `language.question_language` of the text

    def has(self, words: frozenset[str]) -> bool:
        return not self.vocab.isdisjoint(words)

    def says(self, words: frozenset[str], phrases: re.Pattern[str]) -> bool:
        """One of the words, or one of the phrases."""
        return not self.vocab.isdisjoint(words) or phrases.search(self.padded) is not None


def read(text: str) -> Reading | None:
    """The question read for the rules; None when it holds no word at all."""
    cleaned = clean(text)
    raw = tuple(tokens(cleaned)[:MAX_TOKENS])
    if not raw:
        return None
    cues = compiled_cues()
    words = canonical(raw, cues)
    padded = f" {' '.join(words)} "
    return Reading(
        text=text,
        clean=cleaned,
        raw=raw,
        words=words,
        padded=padded,
        vocab=frozenset(words),
        cues=cues,
        china_named=cues.china_series.search(padded) is not None,
        india_named=cues.india_series.search(padded) is not None,
        language=question_language(text),
    )


def canonical(words: Sequence[str], cues: Cues) -> tuple[str, ...]:
    """The words with typos of keywords corrected ("defecit" -> "deficit")."""
    corrected: dict[str, str] = {}
    out: list[str] = []
    for word in words:
        canon = corrected.get(word)
        if canon is None:
            canon = word
            if (
                len(word) >= _MIN_TYPO_LEN
                and word not in cues.keywords
                and word not in cues.not_typos
                and word.isalpha()
            ):
                pool = cues.keyword_pool.get(word[0], ())
                limit = 1 if len(word) < 9 else 2
                found = process.extractOne(word, pool, scorer=OSA.distance, score_cutoff=limit)
                if found is not None:
                    canon = found[0]
            corrected[word] = canon
        out.append(canon)
    return tuple(out)


@functools.cache
def compiled_cues() -> Cues:
    return Cues(lexicon())


def _deal_status(lex: Lexicon) -> re.Pattern[str]:
    deals = lex.deals
    # Where two statuses start at the same word, the earlier here wins.
    statuses = {
        DealStatus.IN_EFFECT: deals.in_effect,
        DealStatus.RESTRICTED: deals.restricted,
        DealStatus.UNDER_NEGOTIATION: deals.under_negotiation,
        DealStatus.PROPOSED: deals.proposed,
        DealStatus.AGREED: deals.agreed,
        DealStatus.SUSPENDED: deals.suspended,
        DealStatus.LAPSED: deals.lapsed,
    }
    return re.compile(
        "|".join(
            rf" (?P<{status.value}>{phrases.pattern})(?= )" for status, phrases in statuses.items()
        )
    )


def _china_series(lex: Lexicon) -> re.Pattern[str]:
    """China's statistics named, or a word that means them unless an India word precedes it
    ("customs data", but not "indian customs")."""
    not_after_india = "".join(
        f"(?<! {re.escape(word)} )" for word in sorted(lex.common.india.words)
    )
    alone = lex.series.china_series_alone.pattern
    return re.compile(rf" {lex.series.china_series.pattern}(?= )| {not_after_india}{alone}(?= )")


def _keywords(lex: Lexicon) -> frozenset[str]:
    trade, passes, requests = lex.trade, lex.passes, lex.requests
    cue_words: tuple[Words, ...] = (
        trade.deficit,
        trade.exports,
        trade.imports,
        trade.total,
        trade.trade_figures,
        trade.maximum,
        trade.minimum,
        trade.trend,
        trade.compare,
        requests.chart,
        requests.history,
        requests.record_change,
        requests.news,
        requests.sources,
        passes.passes,
        passes.pass_context,
        passes.border_context,
        lex.flights.flights,
        lex.deals.deals,
        lex.common.keywords,
    )
    return words_of(*cue_words)


def _keyword_pool(keywords: frozenset[str]) -> Mapping[str, tuple[str, ...]]:
    by_initial: dict[str, list[str]] = {}
    for word in sorted(keywords):
        if len(word) >= _MIN_KEYWORD_LEN:
            by_initial.setdefault(word[0], []).append(word)
    return MappingProxyType({initial: tuple(words) for initial, words in by_initial.items()})
