"""The lexicon's typed form: one frozen dataclass per section, one field per concept.

The field names are the file's section and concept names, and each field's type (`Words` or
`Phrases`) is the kind of entry the concept takes; `bot.lexicon.reader` checks the file
against these classes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Concept:
    name: str
    entries: tuple[tuple[str, tuple[str, ...]], ...]  # (language, entries as written)
    pattern: str  # regex source matching any entry, words separated by single spaces

    def all_entries(self) -> tuple[str, ...]:
        """Every language's entries, in file order."""
        return tuple(entry for _, entries in self.entries for entry in entries)


@dataclass(frozen=True, slots=True)
class Words(Concept):
    """Single words: test a text's words against `words`."""

    words: frozenset[str]


@dataclass(frozen=True, slots=True)
class Phrases(Concept):
    """Word sequences: match them in text with `pattern` (see `phrase_regex`)."""


@dataclass(frozen=True, slots=True)
class CommonWords:
    india: Words
    china: Words
    china_adjective: Words
    to_place: Words
    from_place: Words
    to_postposition: Words
    from_postposition: Words
    keywords: Words
    not_typos: Words
    stopwords: Words


@dataclass(frozen=True, slots=True)
class TradeWords:
    deficit: Words
    deficit_loose: Words
    exports: Words
    imports: Words
    total: Words
    comparative: Words
    trade_figures: Words
    trade_verb: Words
    figure_nouns: Words
    maximum: Words
    maximum_phrases: Phrases
    minimum: Words
    minimum_phrases: Phrases
    not_maximum: Phrases
    not_minimum: Phrases
    worse: Words
    better: Words
    trend: Words
    trend_phrases: Phrases
    compare: Words
    compare_phrases: Phrases
    change_over_time: Words
    amount_units: Words
    not_amount_units: Words


@dataclass(frozen=True, slots=True)
class SeriesWords:
    statistics: Phrases
    china_series: Phrases
    china_series_alone: Words
    india_series: Phrases
    both_series: Phrases
    fiscal_hint: Phrases
    calendar_hint: Phrases


@dataclass(frozen=True, slots=True)
class PeriodWords:
    period_words: Words
    fiscal_prefix: Phrases
    calendar_prefix: Phrases
    year_kind: Words
    previous_year: Phrases
    latest: Phrases
    not_latest: Phrases
    since: Words
    after: Words
    starting_from: Words
    onwards: Phrases
    since_postposition: Phrases
    after_postposition: Phrases

    so_far: Phrases
    january: Words
    february: Words
    march: Words
    april: Words
    may: Words
    june: Words
    july: Words
    august: Words
    september: Words
    october: Words
    november: Words
    december: Words


@dataclass(frozen=True, slots=True)
class CompositionWords:
    composition_phrases: Phrases
    composition_leaders: Words
    composition_flows: Words
    year_asked: Words
    growing_phrases: Phrases
    cause_phrases: Phrases


@dataclass(frozen=True, slots=True)
class PassWords:
    passes: Words
    border: Words
    border_context: Words
    pass_word: Words
    pass_context: Words
    mountain: Words
    mountain_context: Words
    pass_phrases: Phrases


@dataclass(frozen=True, slots=True)
class FlightWords:
    flights: Words
    flight_phrases: Phrases


@dataclass(frozen=True, slots=True)
class DealWords:
    deals: Words
    india_to_china: Phrases
    india_sells: Words
    china_to_india: Phrases
    china_sells: Words
    in_effect: Phrases
    restricted: Phrases
    under_negotiation: Phrases
    proposed: Phrases
    agreed: Phrases
    suspended: Phrases
    lapsed: Phrases


@dataclass(frozen=True, slots=True)
class RequestWords:
    history: Words
    record_change: Words
    news: Words
    news_phrases: Phrases
    news_last_word: Words
    sources: Words
    data_nouns: Words
    source_phrases: Phrases
    amount_source_phrases: Phrases
    discrepancy: Words
    chart: Words
    greeting: Words
    help_phrases: Phrases


@dataclass(frozen=True, slots=True)
class YesNoWords:
    yes_no_openers: Words
    yes_no_closers: Words
    yes_no_lead: Words
    yes_no_trailing: Words
    not_yes_no: Words
    state_open: Words
    state_closed: Words
    state_paused: Words
    state_lifted: Words
    state_ended: Words
    state_restricted: Words


@dataclass(frozen=True, slots=True)
class NewsWords:
    india_places: Words
    china_places: Words
    border_trade: Words
    pilgrimage: Words
    border_trade_phrases: Phrases
    other_partners: Words
    deal_actions: Words
    headline_deficit: Words
    deficit_phrases: Phrases
    money: Words


@dataclass(frozen=True, slots=True)
class SearchWords:
    search_filler: Words
    weak_terms: Words
    context_cues: Words
    cause_terms: Words
    value_terms: Words
    share_terms: Words
    objection_terms: Words
    pass_terms: Words
    fertiliser_terms: Words
    rise_terms: Words
    fall_terms: Words


@dataclass(frozen=True, slots=True)
class Lexicon:
    common: CommonWords
    trade: TradeWords
    series: SeriesWords
    periods: PeriodWords
    composition: CompositionWords
    passes: PassWords
    flights: FlightWords
    deals: DealWords
    requests: RequestWords
    yes_no: YesNoWords
    news: NewsWords
    search: SearchWords
