"""Plain-English questions to a structured `Question`: what is asked, about which series, quantity,
periods and named records.

The parser is pure and deterministic: no network, no database, no clock and no state between
calls. Names come from a `Catalog` the caller builds (from the database, or from the bundled
dataset with `catalog_from_dataset`); everything else is keyword rules over normalised tokens.
It never raises on user text: whatever it cannot place is `Intent.UNKNOWN`.

Names are matched on n-grams of the text, spaces removed ("nathu la" = "nathula"), first
exactly, then by a category prefix ("pharma" -> pharmaceuticals), then by edit distance with
rapidfuzz. Fuzzy matching needs at least six letters, the same first letter and an n-gram that
does not begin or end with a common word, so "is the market open" or "pass me the data" match
nothing.
"""

from __future__ import annotations

import html
import logging
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import islice
from types import MappingProxyType
from typing import Literal

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.services.dataset import Dataset
from bot.vocabulary import DealStatus, Direction, Quantity, RecordType, Series

logger = logging.getLogger(__name__)

MAX_TEXT_CHARS = 4096  # Telegram's message limit; anything longer is cut, not rejected
MAX_TOKENS = 256  # a question is far shorter; this bounds the n-gram work on junk input
_MAX_NGRAM = 5
_MIN_FUZZY_LEN = 6  # shorter words are too easily one edit away from an unrelated name
_MIN_PREFIX_LEN = 5  # "pharma" for pharmaceuticals, but not "rare" for rare earths
_SUGGESTION_CUTOFF = 75.0  # rapidfuzz ratio for "did you mean", looser than a match
_MAX_SUGGESTIONS = 3
_MAX_SUGGESTION_SPANS = 64  # enough to find a misspelt name in any real question
_FUZZY_WINDOW = 64  # words searched for misspelt names; exact names are found anywhere
_MAX_PERIODS = 16  # period mentions read; a question has one or two


class Intent(StrEnum):
    DEFICIT = "deficit"
    TRADE = "trade"
    COMPARE = "compare"
    EXTREME = "extreme"
    TREND = "trend"
    PASS = "pass"
    PASSES = "passes"
    DEALS = "deals"
    FLIGHTS = "flights"
    HISTORY = "history"
    SOURCES = "sources"
    CHART = "chart"
    HELP = "help"
    UNKNOWN = "unknown"


class PeriodKind(StrEnum):
    FISCAL = "fiscal"
    CALENDAR = "calendar"
    LATEST = "latest"
    PREVIOUS = "previous"


@dataclass(frozen=True, slots=True)
class PeriodRef:
    kind: PeriodKind
    year: int | None = None  # FISCAL: the year the fiscal year starts; CALENDAR: the year

    def label(self) -> str:
        """'FY2024-25', '2025', 'latest' or 'last year'."""
        if self.kind is PeriodKind.FISCAL:
            if self.year is None:
                return "FY?"
            return f"FY{self.year}-{(self.year + 1) % 100:02d}"
        if self.kind is PeriodKind.CALENDAR:
            return "?" if self.year is None else str(self.year)
        return "latest" if self.kind is PeriodKind.LATEST else "last year"


@dataclass(frozen=True, slots=True)
class EntityRef:
    record_type: RecordType  # PASS, DEAL or FLIGHT
    key: str  # slug
    name: str  # display name


@dataclass(frozen=True, slots=True)
class Question:
    text: str  # the original text
    intent: Intent
    series: Series | None = None  # None: not specified, answer both series
    quantity: Quantity | None = None
    periods: tuple[PeriodRef, ...] = ()  # 0, 1 or 2 (COMPARE), in the order asked
    since_year: int | None = None
    extreme: Literal["max", "min"] | None = None
    entities: tuple[EntityRef, ...] = ()
    deal_category: str | None = None
    deal_status: DealStatus | None = None
    direction: Direction | None = None
    suggestions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    record_type: RecordType
    key: str
    name: str
    aliases: tuple[str, ...]
    category: str | None = None  # deals only


@dataclass(frozen=True, slots=True)
class _Target:
    """What a name stands for: records, and the deal category when the name is a category."""

    refs: tuple[EntityRef, ...]
    category: str | None = None
    guessed: bool = False  # a category prefix or a typo close to several names: any of them


class Catalog:
    """The names the parser can recognise; built by the caller from the database."""

    def __init__(self, entries: Iterable[CatalogEntry]) -> None:
        self.entries: tuple[CatalogEntry, ...] = tuple(entries)
        exact: dict[str, _Target] = {}
        unordered: dict[str, _Target] = {}  # names of several words, in any order
        by_category: dict[str, list[EntityRef]] = {}
        phrase_tokens: set[str] = set()
        longest = 1
        for entry in self.entries:
            ref = EntityRef(entry.record_type, entry.key, entry.name)
            if entry.record_type is RecordType.DEAL and entry.category:
                by_category.setdefault(entry.category, []).append(ref)
            for phrase in (entry.name, entry.key, *entry.aliases):
                tokens = _tokens(_clean(phrase))
                if not tokens:
                    continue
                phrase_tokens.update(tokens)
                longest = max(longest, len(tokens))
                _add(exact, _key(tokens), ref)
                if len(tokens) > 1:
                    _add(unordered, _key(sorted(tokens)), ref)

        # A category name outranks a record alias that spells the same ("fertilisers" is an
        # alias of urea and the category of two deals), and a proper prefix of a category
        # name ("pharma") stands for the whole category.
        prefixes: dict[str, _Target] = {}
        for category, refs in by_category.items():
            tokens = _tokens(_clean(category))
            if not tokens:
                continue
            longest = max(longest, len(tokens))
            key = _key(tokens)
            exact[key] = _Target(tuple(refs), category)
            for end in range(_MIN_PREFIX_LEN, len(key)):
                prefixes.setdefault(key[:end], _Target(tuple(refs), category, guessed=True))
        for key, target in prefixes.items():
            if key in exact and exact[key].category is None:
                exact[key] = target

        by_initial: dict[str, list[str]] = {}
        for key in exact:
            if len(key) >= _MIN_FUZZY_LEN - 1 and not key.isdigit():  # one edit from a query
                by_initial.setdefault(key[0], []).append(key)

        self._exact: Mapping[str, _Target] = MappingProxyType(exact)
        self._unordered: Mapping[str, _Target] = MappingProxyType(unordered)
        self._prefixes: Mapping[str, _Target] = MappingProxyType(prefixes)
        self._fuzzy_pool: Mapping[str, tuple[str, ...]] = MappingProxyType(
            {initial: tuple(keys) for initial, keys in by_initial.items()}
        )
        self._all_keys: tuple[str, ...] = tuple(k for k in exact if len(k) >= 4)
        self._max_ngram = min(longest + 1, _MAX_NGRAM)  # +1: a name typed with a split word
        self._max_key_len = max((len(k) for k in exact), default=0) + 2
        # Common words may close a fuzzy n-gram only where a name ends with them ("nathu la").
        self._blocked_edges: frozenset[str] = _STOPWORDS - phrase_tokens
        self._name_tokens: frozenset[str] = frozenset(phrase_tokens)

    def _spans(self, tokens: Sequence[str]) -> list[tuple[int, int, str]]:
        """(start, end, key) of the n-grams short enough to be a name, longest first."""
        spans: list[tuple[int, int, str]] = []
        for start in range(len(tokens)):
            joined = ""
            for end in range(start + 1, min(start + self._max_ngram, len(tokens)) + 1):
                joined += tokens[end - 1]
                if len(joined) > self._max_key_len:
                    break
                spans.append((start, end, _key_of(joined)))
        spans.sort(key=lambda span: (span[0] - span[1], span[0]))
        return spans

    def _names_in(self, tokens: Sequence[str]) -> _Names:
        """The records and categories named in the tokens, in the order they are named."""
        taken = [False] * len(tokens)
        matches: list[tuple[int, _Target]] = []
        spans = self._spans(tokens)
        in_names = [t in self._name_tokens for t in tokens]

        def claim(start: int, end: int, target: _Target) -> None:
            taken[start:end] = [True] * (end - start)
            matches.append((start, target))

        # Longest exact names first, so "rare earth magnets" wins over "rare earth"; then
        # the words of a name in another order ("la nathu").
        for start, end, key in spans:
            target = self._exact.get(key)
            if target is None and end - start > 1 and all(in_names[start:end]):
                target = self._unordered.get(_key(sorted(tokens[start:end])))
            if target is not None and not any(taken[start:end]):
                claim(start, end, target)

        # Then category prefixes and typos, in the first words only: bounded work on junk.
        blocked = [t in self._blocked_edges for t in tokens]
        filler = [t in _STOPWORDS or t.isdigit() for t in tokens]
        candidates = [
            (start, end, key)
            for start, end, key in spans
            if start < _FUZZY_WINDOW
            and len(key) >= _MIN_PREFIX_LEN
            and not blocked[start]
            and not blocked[end - 1]
            and not all(filler[start:end])
        ]
        for start, end, key in candidates:
            target = self._prefixes.get(key)
            if target is not None and not any(taken[start:end]):
                claim(start, end, target)
        looked_up: dict[str, _Target | None] = {}
        for start, end, key in candidates:
            if len(key) < _MIN_FUZZY_LEN or any(taken[start:end]):
                continue
            if key not in looked_up:
                looked_up[key] = self._fuzzy(key)
            target = looked_up[key]
            if target is not None:
                claim(start, end, target)

        matches.sort(key=lambda match: match[0])
        refs: list[EntityRef] = []
        ambiguous: list[str] = []
        category: str | None = None
        explicit = False
        for _, target in matches:
            refs.extend(ref for ref in target.refs if ref not in refs)
            if target.category is None:
                explicit = True
            elif category is None:
                category = target.category
            if (target.guessed or target.category is None) and len(target.refs) > 1:
                ambiguous.extend(ref.name for ref in target.refs if ref.name not in ambiguous)
        return _Names(tuple(refs), category, explicit, tuple(ambiguous))

    def _fuzzy(self, key: str) -> _Target | None:
        pool = self._fuzzy_pool.get(key[0], ())
        if not pool:
            return None
        limit = 1 if len(key) < 9 else 2
        found = process.extract(key, pool, scorer=OSA.distance, score_cutoff=limit, limit=4)
        if not found:
            return None
        best = min(score for _, score, _ in found)
        targets = [self._exact[choice] for choice, score, _ in found if score == best]
        if len(targets) == 1:
            return targets[0]
        refs: list[EntityRef] = []
        for target in targets:
            refs.extend(ref for ref in target.refs if ref not in refs)
        return _Target(tuple(refs), guessed=True)  # equally close to several names

    def _suggest(self, tokens: Sequence[str]) -> tuple[str, ...]:
        """Names close to words of a question that matched nothing: "did you mean ...?"."""
        keys: dict[str, None] = {}
        for n in (1, 2):
            for i in range(len(tokens) - n + 1):
                gram = tokens[i : i + n]
                if len(keys) < _MAX_SUGGESTION_SPANS and not all(t in _STOPWORDS for t in gram):
                    keys.setdefault(_key(gram))
        scored: dict[str, float] = {}
        for key in keys:
            if len(key) < 4:
                continue
            for choice, score, _ in process.extract(
                key, self._all_keys, scorer=fuzz.ratio, score_cutoff=_SUGGESTION_CUTOFF
            ):
                for ref in self._exact[choice].refs:
                    scored[ref.name] = max(scored.get(ref.name, 0.0), score)
        ranked = sorted(scored.items(), key=lambda item: (-item[1], item[0]))
        return tuple(name for name, _ in ranked[:_MAX_SUGGESTIONS])


def _add(index: dict[str, _Target], key: str, ref: EntityRef) -> None:
    known = index.get(key)
    if known is None:
        index[key] = _Target((ref,))
    elif ref not in known.refs:  # one alias, several records: keep them all
        index[key] = _Target((*known.refs, ref))


def catalog_from_dataset(dataset: Dataset) -> Catalog:
    """The catalog of a dataset's passes, deals and flights (the bundled data, or an import)."""
    entries: list[CatalogEntry] = [
        CatalogEntry(RecordType.PASS, item.slug, item.name, item.aliases) for item in dataset.passes
    ]
    entries.extend(
        CatalogEntry(RecordType.DEAL, item.slug, item.commodity, item.aliases, item.category)
        for item in dataset.deals
    )
    entries.extend(
        CatalogEntry(
            RecordType.FLIGHT,
            item.slug,
            item.route,
            (*item.aliases, *((item.flight_number,) if item.flight_number else ())),
        )
        for item in dataset.flights
    )
    return Catalog(entries)


# --- Normalisation --------------------------------------------------------------------------------

_TAG = re.compile(r"</?[a-zA-Z][^<>]{0,500}>")
_URL = re.compile(r"(?:https?://|www\.)\S+")
_TO_ASCII_PUNCT = str.maketrans(
    {
        "\u2013": "-",
        "\u2014": "-",
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2212": "-",
        "\u2018": "'",
        "\u2019": "'",
        "\u02bc": "'",
        "`": "'",
        "\u00b4": "'",
    }
)
_COMBINING = re.compile(r"[\u0300-\u036f]+")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_POSSESSIVE = re.compile(r"'s\b")
_NOT_KEPT = re.compile(r"[^a-z0-9/\- ]+")
_SPACES = re.compile(r"\s+")
_TOKEN = re.compile(r"[a-z0-9]+")


def _clean(text: str) -> str:
    """Lower-case ASCII words, digits, '-' and '/' (kept for periods like 2024-25)."""
    text = html.unescape(text[:MAX_TEXT_CHARS])
    text = _URL.sub(" ", _TAG.sub(" ", text)).translate(_TO_ASCII_PUNCT)
    # NFKD splits accents off letters and maps full-width digits; other scripts and emoji
    # become spaces, so they separate words instead of gluing them together.
    text = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
    text = _NON_ASCII.sub(" ", text).lower()
    text = _POSSESSIVE.sub("", text).replace("'", "")
    return _SPACES.sub(" ", _NOT_KEPT.sub(" ", text)).strip()


def _tokens(clean: str) -> list[str]:
    return _TOKEN.findall(clean)


def _key(tokens: Sequence[str]) -> str:
    """The spelling-insensitive form of a name: no spaces, 'iz' as 'is', no plural 's'."""
    return _key_of("".join(tokens))


def _key_of(joined: str) -> str:
    joined = joined.replace("iz", "is")
    if len(joined) >= 4 and joined.endswith("s") and not joined.endswith("ss"):
        joined = joined[:-1]
    return joined


# --- Vocabulary -----------------------------------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_DEFICIT_WORDS = _words("deficit deficits gap imbalance surplus shortfall balance")
_EXPORT_WORDS = _words(
    "export exports exported exporting exporter exporters sell sells sold selling sales"
)
_IMPORT_WORDS = _words(
    "import imports imported importing importer importers buy buys bought buying purchase "
    "purchases purchased dependence dependent"
)
_TOTAL_WORDS = _words("total bilateral overall combined turnover volume")
_TRADE_WORDS = _words("trade trading traded trades figures figure statistics stats numbers value")
_FIGURE_NOUNS = _words("data figures figure numbers statistics stats overview summary")
_MAX_WORDS = _words("largest highest biggest maximum max peak record greatest most top widest")
_MIN_WORDS = _words("lowest smallest least minimum min bottom narrowest weakest")
_TREND_WORDS = _words(
    "trend trends growing grown grow grew widening widen widened narrowing narrowed shrinking "
    "shrink shrank shrunk rising rise rose risen falling fall fell fallen increasing increase "
    "increased decreasing decrease decreased declining decline declined dropping drop dropped "
    "changed change changing evolution evolved trajectory years annual yearly climbing soaring "
    "worsening"
)
_COMPARE_WORDS = _words(
    "compare compared comparison comparing versus vs difference change changed differ than"
)
_CHART_WORDS = _words(
    "chart charts plot plots graph graphs visualise visualize diagram draw sparkline histogram"
)
_HISTORY_WORDS = _words("history timeline chronology chronological changelog")
_ENTITY_CHANGE_WORDS = _words("changed change changes happened evolved events developments")
_SOURCE_WORDS = _words(
    "source sources sourced citation citations cite references methodology provenance"
)
_GREETING_WORDS = _words(
    "help hello hi hey hiya namaste greetings start commands menu howdy yo hallo hola morning "
    "evening afternoon thanks thank thx cheers"
)
_PASS_WORDS = _words("passes")
_MOUNTAIN_WORDS = _words("mountain himalayan himalaya himalayas")
_PASS_CONTEXT = _words(
    "open opened reopen reopened reopening reopens closed close shut status border borders "
    "himalayan mountain which any"
)
_BORDER_CONTEXT = _words(
    "trade trading pass passes point points post posts market markets mart marts crossing "
    "crossings open reopen reopened reopening closed status traders"
)
_FLIGHT_WORDS = _words(
    "flight flights fly flying flies airline airlines plane planes aviation airlink airlinks "
    "indigo airport airports airways"
)
_DEAL_WORDS = _words(
    "deal deals curb curbs restriction restrictions restricted restrict restricting ban bans "
    "banned embargo licence licences license licenses licensing supply supplies supplying "
    "supplied commodity commodities shortage shortages proposal proposals proposed negotiation "
    "negotiations negotiated negotiating agreement agreements opening openings opportunity "
    "opportunities lifted lift eased ease easing halted halt"
)
_INDIA_WORDS = _words("india indian indias delhi bharat")
_CHINA_WORDS = _words("china chinas beijing prc")
_PERIOD_WORDS = _words(
    "fy fiscal financial calendar cy year yr last previous prior latest now current currently "
    "today recent so far present"
)

# Words the rules know, in their canonical spelling: a typo one edit away is read as them.
_KEYWORDS = (
    _DEFICIT_WORDS
    | _EXPORT_WORDS
    | _IMPORT_WORDS
    | _TOTAL_WORDS
    | _TRADE_WORDS
    | _MAX_WORDS
    | _MIN_WORDS
    | _TREND_WORDS
    | _COMPARE_WORDS
    | _CHART_WORDS
    | _HISTORY_WORDS
    | _ENTITY_CHANGE_WORDS
    | _SOURCE_WORDS
    | _PASS_WORDS
    | _PASS_CONTEXT
    | _BORDER_CONTEXT
    | _FLIGHT_WORDS
    | _DEAL_WORDS
    | _words("between customs ministry commerce fiscal financial calendar previous latest")
    | _words("current running direct since")
)
_KEYWORD_POOL: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        initial: tuple(sorted(w for w in _KEYWORDS if w[0] == initial and len(w) >= 5))
        for initial in sorted({w[0] for w in _KEYWORDS})
    }
)

# Ordinary words one edit away from a keyword: never "corrected" into it.
_COMMON = _words(
    "expert experts fights fighter passed trader traders traced deficient totally dealer "
    "dealers closer closes planet planes greater latter recorded sourced trends buyers sellers "
    "seller buyer opener imparts flyers flyer started starts charter helped helper helps "
    "weather market markets"
)

# Small and generic words: a fuzzy name match may not begin or end with one.
_STOPWORDS = _words(
    "a an the is are was were be been being am do does did done have has had will would shall "
    "should can could may might must of in on at to from for with by about as into over under "
    "between through after before since until and or but not no yes if then than so what whats "
    "which who whom whose when where why how much many more most less least this that these "
    "those there here it its i me my we our us you your they them their he she his her all any "
    "some each every other again still yet also just only very too now up down out off please "
    "tell show give get know let like want need pls plz la pass passes open opened reopen "
    "closed trade trading border status update latest current india indian china chinese "
    "deficit export exports import imports total flight flights deal deals history data "
    "figures numbers year years fiscal calendar market running direct s t going happening new "
    "news info information way ways via per vs versus ok okay"
)

# Phrases (canonical tokens joined by single spaces) tested against " text " padded likewise.
_CHINA_SERIES = re.compile(
    r" (?:china|chinese|beijing|prc) (?:customs|data|figures?|numbers?|statistics|stats|side"
    r"|records?|books?|version|count|official data)"
    r"| gac | general administration of customs| according to (?:china|chinese|beijing) "
    r"|(?<!indian)(?<!india) customs "
)
_INDIA_SERIES = re.compile(
    r" (?:india|indian|new delhi|delhi|bharat) (?:data|figures?|numbers?|statistics|stats|side"
    r"|records?|books?|government|govt|version|count|official data|customs)"
    r"| ministry of commerce| commerce ministry| commerce department| department of commerce"
    r"| dgci(?: s)? | dgcis | according to (?:india|indian|new delhi) | government of india "
)
_BOTH_SERIES = re.compile(
    r" (?:chinese|china) and (?:indian|india) (?:data|figures?|numbers?|statistics|series)"
    r"| (?:indian|india) and (?:chinese|china) (?:data|figures?|numbers?|statistics|series)"
    r"| chinese and indian | indian and chinese | both series "
)
_FISCAL_HINT = re.compile(r" (?:fiscal|financial) (?:years?|yrs?) | fiscal ")
_CALENDAR_HINT = re.compile(r" calendar (?:years?|yrs?) ")
_INDIA_TO_CHINA = re.compile(
    r" (?:what|which|where) (?:else )?(?:can|could|does|do|will|would|might) (?:india|indian"
    r"|indian exporters|we) (?:export|exports|sell|ship|supply|send)"
    r"| export (?:openings?|opportunit(?:y|ies)|potential|prospects?|markets?|access|window)"
    r"| (?:openings?|opportunit(?:y|ies)|market access) (?:for|to) (?:india|indian|exports?)"
    r"| (?:what|which) (?:can|could|will|would|might) china (?:buy|import|purchase|take)"
    r"| (?:indian|india) (?:goods|products|exporters) | india to china "
)
_CHINA_TO_INDIA = re.compile(
    r" (?:what|which) (?:else )?(?:can|could|does|do|will|would|is|might) china (?:export|sell"
    r"|supply|supplying|offer|give|send|ship)"
    r"| (?:what|which) (?:can|could|will|would|might) india (?:import|buy|get|source)"
    r"| (?:china|chinese) suppl(?:y|ies) | suppl(?:y|ies) from china | china to india "
)
_DEAL_STATUS_PHRASES: tuple[tuple[re.Pattern[str], DealStatus], ...] = (
    (
        re.compile(r" in (?:effect|force) | effective | active | implemented "),
        DealStatus.IN_EFFECT,
    ),
    (re.compile(r" restricted | banned | blocked | halted "), DealStatus.RESTRICTED),
    (
        re.compile(r" under negotiation | being negotiated | negotiating "),
        DealStatus.UNDER_NEGOTIATION,
    ),
    (re.compile(r" proposed | proposals? | on offer | offered "), DealStatus.PROPOSED),
    (re.compile(r" agreed | signed "), DealStatus.AGREED),
    (re.compile(r" suspended | paused "), DealStatus.SUSPENDED),
    (re.compile(r" lapsed | expired "), DealStatus.LAPSED),
)
_SOURCE_PHRASES = re.compile(
    r" (?:data|figures?|numbers?|information|info|facts|stats|statistics) (?:\w+ )?come from "
    r"| where (?:do|does) (?:you|your|the bot|this bot|the data|it) (?:\w+ )?(?:get|find|take)"
    r"| where (?:is|are) (?:your|the) (?:data|figures?|numbers?) from "
    r"| how (?:do|does) you know | how reliable | can i trust | who (?:publishes|reports) "
)
_HELP_PHRASES = re.compile(
    r" what (?:can|do) you (?:do|know|answer|tell)| how (?:does|do) (?:this|it|you) work"
    r"| how (?:do|can) i use | who are you | what are you | what can i ask | about you "
    r"| what is this bot | list of commands "
)
_PERIOD = re.compile(
    r"""
    \b(?:fy|fiscal(?:\s+year)?|financial\s+year|fiscal\s+yr)[\s-]?(?P<fy_a>\d{4}|\d{2})
        (?:\s?[-/]\s?(?P<fy_b>\d{4}|\d{2}))?\b
    | \b(?:calendar(?:\s+year)?|cy)[\s-]?(?P<cal>\d{4})\b
    | \b(?P<pair_a>\d{4})\s?[-/]\s?(?P<pair_b>\d{4}|\d{2})\b
    | \b(?P<year>\d{4})\b
    | \b(?P<prev>(?:last|previous|prior|past)\s+(?:(?:fiscal|financial|calendar)\s+)?year
        |(?:last|previous)\s+(?:fiscal|financial)|a\s+year\s+ago)\b
    | \b(?P<latest>latest|now|current|currently|today|this\s+year|this\s+fiscal(?:\s+year)?
        |most\s+recent|recent(?!\s+years)|so\s+far|present)\b
    """,
    re.VERBOSE | re.ASCII,
)
_SINCE_BEFORE = re.compile(
    r"\b(?P<word>since|after|from|post)[\s-]+(?:the\s+)?(?:(?:fiscal|calendar|financial)\s+)?"
    r"(?:years?\s+)?$",
    re.ASCII,
)
_PERIOD_TOKEN = re.compile(r"(?:fy|cy)\d{2,4}")
_ONWARDS_AFTER = re.compile(
    r"\s*(?:onwards?|on\b|forwards?|till\s+(?:date|now)|to\s+(?:date|now)|until\s+now)",
    re.ASCII,
)


# --- Parsing --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Periods:
    refs: tuple[PeriodRef, ...]
    since_year: int | None
    since_previous: bool  # "since last year": a comparison with the latest
    kinds: frozenset[PeriodKind]  # of every period named, "since 2020" included


@dataclass(frozen=True, slots=True)
class _Names:
    refs: tuple[EntityRef, ...]
    category: str | None
    explicit: bool  # some record was named itself, not only through its category
    ambiguous: tuple[str, ...]  # names a guessed or shared name could stand for


def parse_question(text: str, catalog: Catalog) -> Question:
    """The structured form of a user's question; `Intent.UNKNOWN` when it cannot be placed."""
    try:
        return _parse(text, catalog)
    except Exception:  # a parser bug must not cost the user an answer
        logger.exception("question parser failed on a text of %d characters", len(text))
        return Question(text=text, intent=Intent.UNKNOWN)


def _parse(text: str, catalog: Catalog) -> Question:
    clean = _clean(text)
    raw = _tokens(clean)[:MAX_TOKENS]
    if not raw:
        return Question(text=text, intent=Intent.UNKNOWN)
    words = _canonical(raw)
    padded = f" {' '.join(words)} "
    vocab = frozenset(words)
    names = catalog._names_in(raw)
    periods = _settle(_parse_periods(clean), vocab)
    quantity = _quantity(words, vocab)

    intent = _classify(padded, vocab, words, names, periods, quantity)
    if intent is Intent.UNKNOWN:
        return Question(text=text, intent=intent, suggestions=catalog._suggest(raw))
    if intent is Intent.HELP:
        return Question(text=text, intent=intent)

    entities: tuple[EntityRef, ...] = ()
    if intent in (Intent.PASS, Intent.DEALS, Intent.FLIGHTS, Intent.HISTORY, Intent.SOURCES):
        entities = names.refs
    suggestions = names.ambiguous if entities else ()

    if intent is Intent.DEALS or intent is Intent.HISTORY:
        # A status or direction filters a list; for a record named it would only hide it.
        filters = intent is Intent.DEALS and not names.explicit
        return Question(
            text=text,
            intent=intent,
            entities=entities,
            deal_category=names.category,
            deal_status=_deal_status(padded) if filters else None,
            direction=_direction(padded) if filters else None,
            suggestions=suggestions,
        )
    if intent not in _FIGURE_INTENTS:
        series = _series(padded) if intent is Intent.SOURCES else None
        return Question(
            text=text, intent=intent, series=series, entities=entities, suggestions=suggestions
        )

    refs = periods.refs
    since_year = periods.since_year
    if intent is Intent.COMPARE and periods.since_previous:
        refs = (PeriodRef(PeriodKind.PREVIOUS), PeriodRef(PeriodKind.LATEST))
    elif intent is Intent.COMPARE and refs == (PeriodRef(PeriodKind.PREVIOUS),):
        refs = (*refs, PeriodRef(PeriodKind.LATEST))  # "change from last year": to the latest
    if len(refs) > 2:  # a list of years is a trend over them
        explicit = [r.year for r in refs if r.year is not None]
        since_year = min(explicit) if explicit and since_year is None else since_year
        refs = ()
    if intent in (Intent.DEFICIT, Intent.TRADE) and not refs:
        refs = (PeriodRef(PeriodKind.LATEST),)  # a point question without a period: the latest

    return Question(
        text=text,
        intent=intent,
        series=_series_with_periods(padded, periods),
        quantity=quantity,
        periods=refs,
        since_year=since_year,
        extreme=_extreme(padded, vocab, quantity) if intent is Intent.EXTREME else None,
    )


_FIGURE_INTENTS = frozenset(
    {Intent.DEFICIT, Intent.TRADE, Intent.COMPARE, Intent.EXTREME, Intent.TREND, Intent.CHART}
)


def _canonical(tokens: Sequence[str]) -> list[str]:
    """The tokens with typos of keywords corrected ("defecit" -> "deficit")."""
    corrected: dict[str, str] = {}
    out: list[str] = []
    for token in tokens:
        canon = corrected.get(token)
        if canon is None:
            canon = token
            if (
                len(token) >= _MIN_FUZZY_LEN
                and token not in _KEYWORDS
                and token not in _COMMON
                and token.isalpha()
            ):
                pool = _KEYWORD_POOL.get(token[0], ())
                limit = 1 if len(token) < 9 else 2
                found = process.extractOne(token, pool, scorer=OSA.distance, score_cutoff=limit)
                if found is not None:
                    canon = found[0]
            corrected[token] = canon
        out.append(canon)
    return out


def _classify(
    padded: str,
    vocab: frozenset[str],
    words: Sequence[str],
    names: _Names,
    periods: _Periods,
    quantity: Quantity | None,
) -> Intent:
    """The first rule that applies: sources, chart, history; a record named (its kind);
    passes, flights, deals by keyword; trade figures; greetings; else unknown. Named records
    come before figure words because "urea imports" or "border trade" are about them."""
    quantity_words = vocab & (_DEFICIT_WORDS | _EXPORT_WORDS | _IMPORT_WORDS | _TOTAL_WORDS)
    series_named = bool(_CHINA_SERIES.search(padded) or _INDIA_SERIES.search(padded))
    figures = bool(quantity_words or vocab & _TRADE_WORDS or series_named)
    first_type = names.refs[0].record_type if names.refs else None

    if vocab & _SOURCE_WORDS or _SOURCE_PHRASES.search(padded):
        return Intent.SOURCES
    if vocab & _CHART_WORDS:
        return Intent.CHART
    if vocab & _HISTORY_WORDS:
        if not names.refs and quantity_words:
            return Intent.TREND  # "history of the deficit" is the series over time
        return Intent.HISTORY
    if names.refs and vocab & _ENTITY_CHANGE_WORDS:
        return Intent.HISTORY
    if first_type is RecordType.PASS:
        return Intent.PASS
    if first_type is RecordType.FLIGHT:
        return Intent.FLIGHTS
    if first_type is RecordType.DEAL or names.category:
        return Intent.DEALS
    if _about_passes(padded, vocab):
        return Intent.PASSES
    if vocab & _FLIGHT_WORDS or _has_any(padded, _FLIGHT_PHRASES):
        return Intent.FLIGHTS
    if _about_deals(padded, vocab):
        return Intent.DEALS
    if figures or ((periods.refs or periods.since_year) and _only_filler(words)):
        return _figure_intent(padded, vocab, periods, quantity)
    if vocab & _GREETING_WORDS or _HELP_PHRASES.search(padded):
        return Intent.HELP
    return Intent.UNKNOWN


_FLIGHT_PHRASES = (
    " air link",
    " air links ",
    " air connectivity ",
    " air services ",
    " air travel ",
    " air india ",
    " china eastern ",
    " air route",
)


def _has_any(padded: str, phrases: Iterable[str]) -> bool:
    return any(phrase in padded for phrase in phrases)


def _about_passes(padded: str, vocab: frozenset[str]) -> bool:
    if vocab & _PASS_WORDS:
        return True
    if {"border", "borders"} & vocab and vocab & _BORDER_CONTEXT:
        return True
    if "pass" in vocab and vocab & _PASS_CONTEXT:
        return True
    if vocab & _MOUNTAIN_WORDS and vocab & {"trade", "pass"}:
        return True
    return " trading point" in padded or " trade point" in padded


def _about_deals(padded: str, vocab: frozenset[str]) -> bool:
    if vocab & _DEAL_WORDS:
        return True
    if _INDIA_TO_CHINA.search(padded) or _CHINA_TO_INDIA.search(padded):
        return True
    return any(
        pattern.search(padded)
        for pattern, status in _DEAL_STATUS_PHRASES
        if status in (DealStatus.IN_EFFECT, DealStatus.RESTRICTED, DealStatus.UNDER_NEGOTIATION)
    )


def _figure_intent(
    padded: str, vocab: frozenset[str], periods: _Periods, quantity: Quantity | None
) -> Intent:
    """Which question about figures: a period count and cue words decide."""
    explicit = [r for r in periods.refs if r.year is not None]
    if _extreme(padded, vocab, None) is not None:
        return Intent.EXTREME
    if len(periods.refs) >= 2 or periods.since_previous:
        return Intent.COMPARE if len(periods.refs) <= 2 else Intent.TREND
    compare_cue = bool(vocab & _COMPARE_WORDS) or " from last year" in padded
    if compare_cue and periods.refs and "changed" not in vocab:
        return Intent.COMPARE
    if periods.since_year is not None:
        return Intent.TREND
    trend_cue = bool(vocab & _TREND_WORDS) or _has_any(padded, _TREND_PHRASES)
    if trend_cue and not explicit:
        if periods.refs and compare_cue:
            return Intent.COMPARE
        return Intent.TREND
    if quantity is Quantity.DEFICIT:
        return Intent.DEFICIT
    return Intent.TRADE


_TREND_PHRASES = (
    " over the years ",
    " over time ",
    " year on year ",
    " year by year ",
    " each year ",
    " every year ",
    " going up ",
    " going down ",
    " getting worse ",
    " getting bigger ",
    " getting better ",
    " getting smaller ",
)


def _only_filler(words: Sequence[str]) -> bool:
    """Nothing but periods and small words: "FY2024-25?" asks for that period's figures."""
    return all(
        w in _STOPWORDS
        or w in _PERIOD_WORDS
        or w in _COMPARE_WORDS
        or w.isdigit()
        or _PERIOD_TOKEN.fullmatch(w)
        for w in words
    )


def _quantity(words: Sequence[str], vocab: frozenset[str]) -> Quantity | None:
    found: list[Quantity] = []
    for index, word in enumerate(words):
        quantity: Quantity | None = None
        if word in _DEFICIT_WORDS:
            quantity = Quantity.DEFICIT
        elif word in _EXPORT_WORDS:
            quantity = _flow(words, index, exporting=True)
        elif word in _IMPORT_WORDS:
            quantity = _flow(words, index, exporting=False)
        elif word in _TOTAL_WORDS:
            quantity = Quantity.TOTAL
        if quantity is not None and quantity not in found:
            found.append(quantity)
    if Quantity.DEFICIT in found and "balance" in vocab and len(found) > 1:
        found.remove(Quantity.DEFICIT)  # "balance" in "trade balance of exports..." is loose
    if len(found) == 1:
        return found[0]
    if {Quantity.EXPORTS, Quantity.IMPORTS} <= set(found) and "than" in vocab:
        return Quantity.DEFICIT  # "how much more does India import than export"
    if found:
        return None  # several asked: answer all of them
    trade_at = [i for i, w in enumerate(words) if w in {"trade", "trading", "traded"}]
    for index in trade_at:
        following = words[index + 1] if index + 1 < len(words) else ""
        if following not in _FIGURE_NOUNS:
            return Quantity.TOTAL  # "trade in 2025", "how has trade changed": total trade
    return None


def _flow(words: Sequence[str], index: int, *, exporting: bool) -> Quantity:
    """India's exports or imports, whoever the sentence makes the subject.

    "China's exports to India" are India's imports, and "what does China buy from India" is
    India's exports; "Chinese imports" in Indian usage are goods from China (India's imports).
    """
    ahead = words[index + 1 : index + 5]
    for position, word in enumerate(ahead[:-1]):
        if word in {"to", "into", "from"}:
            place = ahead[position + 1]
            if place in _INDIA_WORDS or place in _CHINA_WORDS:
                # goods going to India, or coming from China, are India's imports
                into_india = (word != "from") == (place in _INDIA_WORDS)
                return Quantity.IMPORTS if into_india else Quantity.EXPORTS
    before = words[index - 1] if index > 0 else ""
    if before in _CHINA_WORDS and (index < 2 or words[index - 2] not in _INDIA_WORDS):
        return Quantity.IMPORTS if exporting else Quantity.EXPORTS
    if before == "chinese":
        return Quantity.IMPORTS
    return Quantity.EXPORTS if exporting else Quantity.IMPORTS


def _extreme(
    padded: str, vocab: frozenset[str], quantity: Quantity | None
) -> Literal["max", "min"] | None:
    if " record low" in padded:
        return "min"
    maxima = vocab & _MAX_WORDS
    if "most" in maxima and (" most recent " in padded or " at most " in padded):
        maxima -= {"most"}
    minima = vocab & _MIN_WORDS
    if "least" in minima and " at least " in padded:
        minima -= {"least"}
    if maxima and not minima:
        return "max"
    if minima and not maxima:
        return "min"
    deficit = quantity is Quantity.DEFICIT or (quantity is None and bool(vocab & _DEFICIT_WORDS))
    if "worst" in vocab:
        return "max" if deficit else "min"  # a worse deficit is a larger one
    if "best" in vocab:
        return "min" if deficit else "max"
    if maxima and minima:  # "highest and lowest": the first asked
        first_max = min(padded.find(f" {word} ") for word in maxima)
        return "max" if first_max < min(padded.find(f" {word} ") for word in minima) else "min"
    return None


def _series(padded: str) -> Series | None:
    if _BOTH_SERIES.search(padded):
        return None
    china = bool(_CHINA_SERIES.search(padded))
    india = bool(_INDIA_SERIES.search(padded))
    if china and not india:
        return Series.CHINA_CY
    if india and not china:
        return Series.INDIA_FY
    return None


def _series_with_periods(padded: str, periods: _Periods) -> Series | None:
    """The series named, else the one the periods imply: FY2024-25 is India's, 2025 China's."""
    named = _series(padded)
    if named is not None or (_CHINA_SERIES.search(padded) and _INDIA_SERIES.search(padded)):
        return named  # the user's choice (or both) wins over what the periods imply
    fiscal = PeriodKind.FISCAL in periods.kinds or bool(_FISCAL_HINT.search(padded))
    calendar = PeriodKind.CALENDAR in periods.kinds or bool(_CALENDAR_HINT.search(padded))
    if fiscal and not calendar:
        return Series.INDIA_FY
    if calendar and not fiscal:
        return Series.CHINA_CY
    return None


def _deal_status(padded: str) -> DealStatus | None:
    found = [
        (match.start(), status)
        for pattern, status in _DEAL_STATUS_PHRASES
        if (match := pattern.search(padded)) is not None
    ]
    return min(found, key=lambda item: item[0])[1] if found else None


def _direction(padded: str) -> Direction | None:
    if _INDIA_TO_CHINA.search(padded):
        return Direction.INDIA_TO_CHINA
    if _CHINA_TO_INDIA.search(padded):
        return Direction.CHINA_TO_INDIA
    return None


# --- Periods --------------------------------------------------------------------------------------


def _settle(periods: _Periods, vocab: frozenset[str]) -> _Periods:
    """Drop "now" and "so far" where they only qualify a period or a bound ("the FY2025-26
    deficit so far", "since 2019 to now"), unless the question compares ("FY25 vs now")."""
    refs = periods.refs
    explicit = any(ref.year is not None for ref in refs)
    if periods.since_year is not None or (explicit and not vocab & _COMPARE_WORDS):
        refs = tuple(ref for ref in refs if ref.kind is not PeriodKind.LATEST)
    return _Periods(refs, periods.since_year, periods.since_previous, periods.kinds)


def _century(two_digits: int) -> int:
    return 2000 + two_digits if two_digits < 70 else 1900 + two_digits


def _plausible(year: int) -> bool:
    return 1900 <= year <= 2100


def _parse_periods(clean: str) -> _Periods:
    refs: list[PeriodRef] = []
    since_year: int | None = None
    since_previous = False
    kinds: set[PeriodKind] = set()
    for match in islice(_PERIOD.finditer(clean), _MAX_PERIODS):
        found = _period_refs(match)
        if not found:
            continue
        if match.group("prev") is not None or match.group("latest") is not None:
            before = _SINCE_BEFORE.search(clean, max(0, match.start() - 24), match.start())
            if match.group("prev") is not None and before and before["word"] == "since":
                since_previous = True
                continue
            refs.extend(found)
            continue
        before = _SINCE_BEFORE.search(clean, max(0, match.start() - 40), match.start())
        if before is not None and since_year is None:
            word = before["word"]
            onwards = _ONWARDS_AFTER.match(clean, match.end()) is not None
            if word in ("since", "after", "post") or onwards:
                start = found[0].year
                if start is not None:
                    since_year = start + 1 if word in ("after", "post") else start
                    # "since FY2019-20" is India's series; "since 2020" is a bound for both
                    kinds.update(r.kind for r in found if r.kind is PeriodKind.FISCAL)
                    continue
        refs.extend(found)
        kinds.update(ref.kind for ref in found)
    return _Periods(tuple(dict.fromkeys(refs)), since_year, since_previous, frozenset(kinds))


def _period_refs(match: re.Match[str]) -> list[PeriodRef]:
    fy_a, fy_b = match.group("fy_a"), match.group("fy_b")
    if fy_a is not None:
        first = int(fy_a) if len(fy_a) == 4 else _century(int(fy_a))
        start = first if fy_b is not None else first - 1  # "FY25" is the year ending in 2025
        return [PeriodRef(PeriodKind.FISCAL, start)] if start >= 1000 else []
    if match.group("cal") is not None:
        year = int(match.group("cal"))
        return [PeriodRef(PeriodKind.CALENDAR, year)] if year >= 1000 else []
    pair_a, pair_b = match.group("pair_a"), match.group("pair_b")
    if pair_a is not None and pair_b is not None:
        first, second = int(pair_a), int(pair_b)
        if not _plausible(first):
            return []
        following = (first + 1) % 100 if len(pair_b) == 2 else first + 1
        if second == following:
            return [PeriodRef(PeriodKind.FISCAL, first)]  # "2024-25", "2024/2025"
        refs = [PeriodRef(PeriodKind.CALENDAR, first)]
        if len(pair_b) == 4 and _plausible(second) and second > first:
            refs.append(PeriodRef(PeriodKind.CALENDAR, second))  # "2019-2022": a range
        return refs
    if match.group("year") is not None:
        year = int(match.group("year"))
        return [PeriodRef(PeriodKind.CALENDAR, year)] if _plausible(year) else []
    if match.group("prev") is not None:
        return [PeriodRef(PeriodKind.PREVIOUS)]
    return [PeriodRef(PeriodKind.LATEST)]
