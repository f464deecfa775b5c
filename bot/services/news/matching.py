"""Which published articles concern India–China trade in the bot's topics, and which records.

An article is read as a question is: the same normalised words, the lexicon's concepts and the
records' own names and aliases through the question parser's `Catalog` (typos included), so
there is one vocabulary in the project, and a Hindi headline ("नाथू ला से सीमा व्यापार फिर
शुरू होगा") is read with the Hindi entries of the same concepts. The rules, per topic:

- passes: a pass is named (or "border trade") with a trade word; a pass with pilgrimage words
  and no trade word is a yatra story.
- flights: a flight word with India and China both named, or a route named.
- deals: a commodity record (or its category) named, with a deal word, India and China.
- trade: a trade quantity (deficit, exports, imports, bilateral trade) with India and China.

India and China must both be named (a pass or a route stands for both), and a headline that
names another trading partner but not China is about that partner. Everything is local and
deterministic: no network, no model.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.lexicon import lexicon, phrase_regex, words_of
from bot.services.questions.catalog import Catalog, CatalogEntry
from bot.services.questions.normalise import clean, tokens
from bot.vocabulary import RecordType, Series, Topic

# Record keys as items store them: "pass:nathu-la", "series:india_fy".
_PREFIX = {RecordType.PASS: "pass", RecordType.DEAL: "deal", RecordType.FLIGHT: "flight"}


@dataclass(frozen=True, slots=True)
class NewsMatch:
    topics: tuple[Topic, ...]  # in Topic order
    records: tuple[str, ...]  # "pass:nathu-la", "deal:urea", "flight:...", "series:india_fy"
    why: tuple[str, ...]  # the names and cue words that decided it, for editors


def record_key(record_type: RecordType | str, key: str) -> str:
    prefix = _PREFIX.get(RecordType(record_type), str(record_type))
    return f"{prefix}:{key}"


@dataclass(frozen=True, slots=True)
class _Text:
    words: frozenset[str]
    spaced: str  # " words separated by single spaces ", for phrase patterns
    ordered: tuple[str, ...]

    @classmethod
    def of(cls, text: str) -> _Text:
        ordered = tokens(clean(text))
        return cls(frozenset(ordered), f" {' '.join(ordered)} ", tuple(ordered))


class NewsMatcher:
    """Decides for one article; built once per poll from the records' catalog."""

    def __init__(self, catalog: Catalog) -> None:
        lex = lexicon()
        self._catalog = catalog
        self._india = words_of(lex.common.india, lex.news.india_places)
        self._china = words_of(lex.common.china, lex.common.china_adjective, lex.news.china_places)
        self._deficit = words_of(lex.news.headline_deficit)
        self._deficit_phrases = phrase_regex(lex.news.deficit_phrases)
        self._trade_quantities = words_of(
            lex.news.headline_deficit, lex.trade.exports, lex.trade.imports, lex.trade.total
        )
        self._trade_words = words_of(lex.trade.trade_verb)
        self._money = words_of(lex.news.money)
        self._border_trade = words_of(lex.news.border_trade)
        self._pilgrimage = words_of(lex.news.pilgrimage)
        self._border_trade_phrases = phrase_regex(lex.news.border_trade_phrases)
        self._partners = words_of(lex.news.other_partners)
        self._deal_actions = words_of(lex.news.deal_actions, lex.deals.deals)
        self._flights = words_of(lex.flights.flights)
        self._flight_phrases = phrase_regex(lex.flights.flight_phrases)
        self._china_series = phrase_regex(lex.series.china_series, lex.series.calendar_hint)
        self._india_series = phrase_regex(lex.series.india_series, lex.series.fiscal_hint)
        self._fiscal_period = re.compile(r" (?:fy ?\d{2,4}|\d{4} \d{2}) ")
        # A calendar year on its own ("in 2023", "2023 में") is how China's customs figures
        # are reported.
        self._calendar_year = re.compile(
            r" (?:(?:in|for|during) 20\d\d (?!\d)|20\d\d (?:में|के दौरान) )"
        )

    def match(self, title: str, summary: str = "") -> NewsMatch | None:
        headline = _Text.of(title)
        text = _Text.of(f"{title} . {summary}")
        named = self._named(headline, text)
        passes, flights = named[RecordType.PASS], named[RecordType.FLIGHT]
        deals = named[RecordType.DEAL]

        # A fiscal year ("FY25", "2024-25") is India's way of counting: the figures are India's.
        fiscal = bool(self._fiscal_period.search(text.spaced))
        india = bool(text.words & self._india) or bool(passes or flights) or fiscal
        china = bool(text.words & self._china) or bool(passes or flights)
        if not (india and china):
            return None
        # "India-US trade deal", "EU-China summit": another partner leads the headline.
        elsewhere = bool(headline.words & self._partners) and not (
            headline.words & self._china or passes or flights
        )

        topics: set[Topic] = set()
        records: list[str] = []
        why: list[str] = []

        trade_cues = text.words & self._border_trade
        border_trade = bool(self._border_trade_phrases.search(text.spaced))
        if (passes and trade_cues) or border_trade:
            topics.add(Topic.PASSES)
            records += [record_key(RecordType.PASS, key) for key, _ in passes]
            why += [name for _, name in passes] + (sorted(trade_cues)[:3] or ["border trade"])
        # Otherwise a pass named is a pilgrimage or a place, not its trade.

        flight_cues = text.words & self._flights
        if not elsewhere and (flights or flight_cues or self._flight_phrases.search(text.spaced)):
            topics.add(Topic.FLIGHTS)
            records += [record_key(RecordType.FLIGHT, key) for key, _ in flights]
            why += [name for _, name in flights] + sorted(flight_cues)[:2]

        deal_cues = text.words & self._deal_actions
        if deals and deal_cues and not elsewhere:
            topics.add(Topic.DEALS)
            records += [record_key(RecordType.DEAL, key) for key, _ in deals]
            why += [name for _, name in deals] + sorted(deal_cues)[:2]

        # Exports or imports in a deal or pass story are that story's; a deficit is trade's,
        # and so is trade with an amount ("trade touches $126 bn") in a story of its own.
        quantities = set(text.words & self._trade_quantities)
        deficit = bool(quantities & self._deficit) or bool(
            self._deficit_phrases.search(text.spaced)
        )
        if text.words & self._trade_words and text.words & self._money:
            quantities.add("trade")
        if quantities and not elsewhere and (deficit or not topics):
            topics.add(Topic.TRADE)
            records += self._series(text)
            why += sorted(quantities)[:3]

        if not topics:
            return None
        why += ["India", "China"]
        return NewsMatch(
            topics=tuple(topic for topic in Topic if topic in topics),
            records=tuple(dict.fromkeys(records)),
            why=tuple(dict.fromkeys(why)),
        )

    def _named(self, headline: _Text, text: _Text) -> dict[RecordType, list[tuple[str, str]]]:
        """(key, name) of the records named, by kind: those the headline names when it names
        any of that kind (a summary mentions other records in passing), else the text's."""
        named: dict[RecordType, list[tuple[str, str]]] = {kind: [] for kind in _PREFIX}
        in_headline: dict[RecordType, list[tuple[str, str]]] = {kind: [] for kind in _PREFIX}
        for found, names in (
            (named, self._catalog.names_in(text.ordered)),
            (in_headline, self._catalog.names_in(headline.ordered)),
        ):
            for ref in names.refs:
                if ref.record_type in found and (ref.key, ref.name) not in found[ref.record_type]:
                    found[ref.record_type].append((ref.key, ref.name))
        return {kind: in_headline[kind] or named[kind] for kind in _PREFIX}

    def _series(self, text: _Text) -> list[str]:
        found = []
        if self._india_series.search(text.spaced) or self._fiscal_period.search(text.spaced):
            found.append(f"series:{Series.INDIA_FY}")
        if self._china_series.search(text.spaced) or (
            not found and self._calendar_year.search(text.spaced)
        ):
            found.append(f"series:{Series.CHINA_CY}")
        return found


def matcher_for(entries: Iterable[CatalogEntry]) -> NewsMatcher:
    return NewsMatcher(Catalog(entries))
