"""The names of records (passes, deals, flight routes) and where a text names them.

Names come from a `Catalog` the caller builds, from the database (`answers.load_catalog`) or
from the bundled dataset (`catalog_from_dataset`). They are matched on n-grams of the text's
words, spaces removed ("nathu la" = "nathula"), first exactly, then by a category prefix
("pharma" -> pharmaceuticals), then by edit distance with rapidfuzz. Fuzzy matching needs at
least six letters, the same first letter and an n-gram that does not begin or end with a
common word of the lexicon, so "is the market open" or "pass me the data" match nothing.

Building the indexes costs far more than a question; they are kept per distinct list of
entries, so a catalog loaded again from unchanged rows reuses them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.lexicon import lexicon
from bot.services.questions.model import EntityRef
from bot.services.questions.normalise import clean, folded_word, key_of, name_key, tokens
from bot.vocabulary import RecordType

if TYPE_CHECKING:
    from bot.services.dataset import Dataset

_MAX_NGRAM = 5
_MIN_FUZZY_LEN = 6  # shorter words are too easily one edit away from an unrelated name
_MIN_PREFIX_LEN = 5  # "pharma" for pharmaceuticals, but not "rare" for rare earths
_SUGGESTION_CUTOFF = 75.0  # rapidfuzz ratio for "did you mean", looser than a match
_MAX_SUGGESTIONS = 3
_MAX_SUGGESTION_SPANS = 64  # enough to find a misspelt name in any real question
_FUZZY_WINDOW = 64  # words searched for misspelt names; exact names are found anywhere
_INDEXES_KEPT = 8  # distinct catalogs whose indexes are kept (the database's changes rarely)


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    record_type: RecordType
    key: str
    name: str
    aliases: tuple[str, ...]
    category: str | None = None  # deals only


@dataclass(frozen=True, slots=True)
class Names:
    """The records and the deal category a text names, in the order it names them."""

    refs: tuple[EntityRef, ...]
    category: str | None
    explicit: bool  # some record was named itself, not only through its category
    ambiguous: tuple[str, ...]  # names a guessed or shared name could stand for


@dataclass(frozen=True, slots=True)
class _Target:
    """What a name stands for: records, and the deal category when the name is a category."""

    refs: tuple[EntityRef, ...]
    category: str | None = None
    guessed: bool = False  # a category prefix or a typo close to several names: any of them

    @property
    def ambiguous(self) -> bool:
        """Several records, and the text did not name their category: suggest them all."""
        return (self.guessed or self.category is None) and len(self.refs) > 1


Span = tuple[int, int, str]  # start, end (token indexes) and the key of the words between


class Catalog:
    """The names the parser can recognise; built by the caller from the database."""

    def __init__(self, entries: Iterable[CatalogEntry]) -> None:
        self.entries: tuple[CatalogEntry, ...] = tuple(entries)
        self._index = _index_of(self.entries)

    def names_in(self, words: Sequence[str]) -> Names:
        """The records and categories named in the words (as `normalise.tokens` gives them)."""
        index = self._index
        spans = index.spans(words)
        claims = _Claims(len(words))
        # Longest exact names first, so "rare earth magnets" wins over "rare earth"; then
        # the words of a name in another order ("la nathu").
        in_names = [word in index.name_tokens for word in words]
        for start, end, key in spans:
            target = index.exact.get(key)
            if target is None and end - start > 1 and all(in_names[start:end]):
                target = index.unordered.get(name_key(sorted(words[start:end])))
            if target is not None:
                claims.claim_free(start, end, target)
        # Then category prefixes and typos, in the first words only: bounded work on junk.
        candidates = index.guess_spans(words, spans)
        for start, end, key in candidates:
            target = index.prefixes.get(key)
            if target is not None:
                claims.claim_free(start, end, target)
        index.claim_typos(candidates, claims)
        return claims.names()

    def suggest(self, words: Sequence[str]) -> tuple[str, ...]:
        """Names close to words of a text that matched nothing: "did you mean ...?"."""
        index = self._index
        scored: dict[str, float] = {}
        for key in index.suggestion_keys(words):
            for choice, score, _ in process.extract(
                key, index.all_keys, scorer=fuzz.ratio, score_cutoff=_SUGGESTION_CUTOFF
            ):
                for ref in index.exact[choice].refs:
                    scored[ref.name] = max(scored.get(ref.name, 0.0), score)
        ranked = sorted(scored.items(), key=lambda item: (-item[1], item[0]))
        return tuple(name for name, _ in ranked[:_MAX_SUGGESTIONS])


class _Claims:
    """The words already taken by a name, and the names found, for one text."""

    def __init__(self, size: int) -> None:
        self.taken = [False] * size
        self.matches: list[tuple[int, _Target]] = []

    def free(self, start: int, end: int) -> bool:
        return not any(self.taken[start:end])

    def claim_free(self, start: int, end: int, target: _Target) -> None:
        if self.free(start, end):
            self.taken[start:end] = [True] * (end - start)
            self.matches.append((start, target))

    def names(self) -> Names:
        refs: list[EntityRef] = []
        ambiguous: list[str] = []
        category: str | None = None
        explicit = False
        for _, target in sorted(self.matches, key=lambda match: match[0]):
            refs.extend(ref for ref in target.refs if ref not in refs)
            if target.category is None:
                explicit = True
            elif category is None:
                category = target.category
            if target.ambiguous:
                ambiguous.extend(ref.name for ref in target.refs if ref.name not in ambiguous)
        return Names(tuple(refs), category, explicit, tuple(ambiguous))


class _Index:
    """The lookups built from a catalog's entries (`_index_of` keeps them per entries)."""

    def __init__(self, entries: Sequence[CatalogEntry]) -> None:
        exact, unordered, name_tokens, longest = _record_names(entries)
        prefixes, category_words = _add_categories(exact, entries)
        self.exact: Mapping[str, _Target] = MappingProxyType(exact)
        self.unordered: Mapping[str, _Target] = MappingProxyType(unordered)  # any word order
        self.prefixes: Mapping[str, _Target] = MappingProxyType(prefixes)  # of category names
        self.fuzzy_pool = _fuzzy_pool(exact)  # exact keys by first letter
        self.all_keys = tuple(key for key in exact if len(key) >= 4)  # for suggestions
        self.max_ngram = min(max(longest, category_words) + 1, _MAX_NGRAM)  # +1: a split word
        self.max_key_len = max((len(key) for key in exact), default=0) + 2
        self.name_tokens = frozenset(name_tokens)
        self.stopwords = lexicon().common.stopwords.words
        # Common words may close a fuzzy n-gram only where a name ends with them ("nathu la").
        self.blocked_edges = self.stopwords - self.name_tokens

    def spans(self, words: Sequence[str]) -> list[Span]:
        """The n-grams short enough to be a name, longest first."""
        by_length: list[list[Span]] = [[] for _ in range(self.max_ngram)]
        folded = [folded_word(word) for word in words]  # once per word, not per n-gram
        for start in range(len(words)):
            joined = ""
            for end in range(start + 1, min(start + self.max_ngram, len(words)) + 1):
                joined += folded[end - 1]
                if len(joined) > self.max_key_len:
                    break
                by_length[end - start - 1].append((start, end, key_of(joined, folded=True)))
        return [span for spans in reversed(by_length) for span in spans]

    def suggestion_keys(self, words: Sequence[str]) -> list[str]:
        """The keys of single words and pairs of words, not all common ones."""
        keys: dict[str, None] = {}
        for n in (1, 2):
            for i in range(len(words) - n + 1):
                gram = words[i : i + n]
                if len(keys) < _MAX_SUGGESTION_SPANS and not all(w in self.stopwords for w in gram):
                    keys.setdefault(name_key(gram))
        return [key for key in keys if len(key) >= 4]

    def claim_typos(self, candidates: Sequence[Span], claims: _Claims) -> None:
        """Misspelt names in the spans still free, each key looked up once."""
        looked_up: dict[str, _Target | None] = {}
        for start, end, key in candidates:
            if len(key) < _MIN_FUZZY_LEN or not claims.free(start, end):
                continue
            if key not in looked_up:
                looked_up[key] = self.fuzzy(key)
            target = looked_up[key]
            if target is not None:
                claims.claim_free(start, end, target)

    def guess_spans(self, words: Sequence[str], spans: Sequence[Span]) -> list[Span]:
        """The spans that may be a category prefix or a misspelt name."""
        blocked = [word in self.blocked_edges for word in words]
        filler = [word in self.stopwords or word.isdigit() for word in words]
        return [
            (start, end, key)
            for start, end, key in spans
            if start < _FUZZY_WINDOW
            and len(key) >= _MIN_PREFIX_LEN
            and not blocked[start]
            and not blocked[end - 1]
            and not all(filler[start:end])
        ]

    def fuzzy(self, key: str) -> _Target | None:
        pool = self.fuzzy_pool.get(key[0], ())
        if not pool:
            return None
        limit = 1 if len(key) < 9 else 2
        found = process.extract(key, pool, scorer=OSA.distance, score_cutoff=limit, limit=4)
        if not found:
            return None
        best = min(score for _, score, _ in found)
        return _closest([self.exact[choice] for choice, score, _ in found if score == best])


def _closest(targets: Sequence[_Target]) -> _Target:
    if len(targets) == 1:
        return targets[0]
    refs: list[EntityRef] = []
    for target in targets:
        refs.extend(ref for ref in target.refs if ref not in refs)
    return _Target(tuple(refs), guessed=True)  # equally close to several names


@functools.lru_cache(maxsize=_INDEXES_KEPT)
def _index_of(entries: tuple[CatalogEntry, ...]) -> _Index:
    return _Index(entries)


def _record_names(
    entries: Sequence[CatalogEntry],
) -> tuple[dict[str, _Target], dict[str, _Target], set[str], int]:
    """Every name, key and alias by its key, and by its sorted words; the words of names;
    the most words in one name."""
    exact: dict[str, _Target] = {}
    unordered: dict[str, _Target] = {}
    name_tokens: set[str] = set()
    longest = 1
    for entry in entries:
        ref = EntityRef(entry.record_type, entry.key, entry.name)
        for phrase in (entry.name, entry.key, *entry.aliases):
            words = tokens(clean(phrase))
            if not words:
                continue
            name_tokens.update(words)
            longest = max(longest, len(words))
            _add(exact, name_key(words), ref)
            if len(words) > 1:
                _add(unordered, name_key(sorted(words)), ref)
    return exact, unordered, name_tokens, longest


def _add(index: dict[str, _Target], key: str, ref: EntityRef) -> None:
    known = index.get(key)
    if known is None:
        index[key] = _Target((ref,))
    elif ref not in known.refs:  # one alias, several records: keep them all
        index[key] = _Target((*known.refs, ref))


def _add_categories(
    exact: dict[str, _Target], entries: Sequence[CatalogEntry]
) -> tuple[dict[str, _Target], int]:
    """Deal categories into `exact`, and their prefixes; returns the prefixes and the most
    words in a category name.

    A category name outranks a record alias that spells the same ("fertilisers" is an alias
    of urea and the category of two deals), a proper prefix of a category name ("pharma")
    stands for the whole category, and so does an alias all of its deals share."""
    by_category: dict[str, list[EntityRef]] = {}
    for entry in entries:
        if entry.record_type is RecordType.DEAL and entry.category:
            ref = EntityRef(entry.record_type, entry.key, entry.name)
            by_category.setdefault(entry.category, []).append(ref)
    prefixes: dict[str, _Target] = {}
    longest = 1
    for category, refs in by_category.items():
        words = tokens(clean(category))
        if not words:
            continue
        longest = max(longest, len(words))
        key = name_key(words)
        exact[key] = _Target(tuple(refs), category)
        for end in range(_MIN_PREFIX_LEN, len(key)):
            prefixes.setdefault(key[:end], _Target(tuple(refs), category, guessed=True))
    for key, target in prefixes.items():
        if key in exact and exact[key].category is None:
            exact[key] = target
    # An alias every deal of a category carries, and no other record, names the category: "उर्वरक"
    # (fertilisers) is an alias of urea and of specialty fertilisers.
    categories = {frozenset(refs): category for category, refs in by_category.items()}
    for key, target in exact.items():
        shared = categories.get(frozenset(target.refs)) if len(target.refs) > 1 else None
        if target.category is None and shared is not None:
            exact[key] = _Target(target.refs, shared)
    return prefixes, longest


def _fuzzy_pool(exact: Mapping[str, _Target]) -> Mapping[str, tuple[str, ...]]:
    by_initial: dict[str, list[str]] = {}
    for key in exact:
        if len(key) >= _MIN_FUZZY_LEN - 1 and not key.isdigit():  # one edit from a query
            by_initial.setdefault(key[0], []).append(key)
    return MappingProxyType({initial: tuple(keys) for initial, keys in by_initial.items()})


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
