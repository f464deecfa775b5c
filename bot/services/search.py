"""Full-text search over what the bot can quote beyond its figures and statuses.

The passages are context notes, records' history notes, records' own notes (their
descriptions) and the news items readers may see (published or applied). They live in one
index, `search_index` (migration 0007), kept current by triggers on their tables: FTS5 on
SQLite, ranked with bm25; a `tsvector` column with a GIN index on PostgreSQL, ranked with
ts_rank. An index row's id is its passage's row id times `KINDS` plus the code of its table.

A question becomes a query (`read_query`): its words less the lexicon's filler and weak words
are terms, a word of a synonym group stands for its group (a Hindi word of a group, such as
कारण, for its English words: the passages are English). Passages that hold every term are
quoted when there are any; otherwise those that hold most of three or more terms. Only
lower-case ASCII letters and digits, and Devanagari letters and signs, reach the database,
each quoted (FTS5) or a plain lexeme (tsquery), so no text a reader types is read as query
syntax. The question's own words of four letters or more match as prefixes, a synonym
group's words as whole words, both after stemming.

A question with Devanagari words searches the Hindi texts instead (`search_index_hi`,
migration 0009): the same passages, by the same ids, indexed without English stemming. A
Hindi word matches as a prefix of its stem (its final vowel signs dropped: "दर्रे" finds
"दर्रा" and "दर्रों"); its Latin-script words and digits (figures, "DAP") are searched as
written, since the Hindi texts keep them.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
import unicodedata
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import text as sql
from sqlmodel import SQLModel, col, select

from bot.lexicon import lexicon
from bot.models import (
    BorderPass,
    CommodityDeal,
    ContextNote,
    EditableRecord,
    FlightRoute,
    NewsItem,
    Source,
    StatusChange,
    TradeFigure,
)
from bot.partial_date import PartialDate
from bot.services import records
from bot.services.bilingual import Bilingual
from bot.services.news.items import SHOWN_TO_READERS
from bot.services.news.listing import web_link
from bot.services.questions.normalise import clean, key_of, tokens
from bot.vocabulary import RecordType

if TYPE_CHECKING:
    from sqlmodel import Session

# Words of a question read, and terms kept: a question is far shorter; this bounds junk input.
MAX_WORDS = 64
MAX_TERMS = 5
_MIN_TERM_LENGTH = 3  # shorter words ("la", "25") match too much to stand alone
_MIN_PREFIX_LENGTH = 4  # shorter words match as whole words only
KINDS = 8  # index id = row id * KINDS + the code of the passage's table (migration 0007)


class PassageKind(StrEnum):
    NOTE = "note"  # a context note
    HISTORY = "history"  # the note of an entry in a record's history
    DESCRIPTION = "description"  # a record's own note
    NEWS = "news"  # a published or applied news item


_CODES: dict[type[SQLModel], int] = {
    ContextNote: 1,
    StatusChange: 2,
    BorderPass: 3,
    CommodityDeal: 4,
    FlightRoute: 5,
    TradeFigure: 6,
    NewsItem: 7,
}
_MODELS = {code: model for model, code in _CODES.items()}


def index_id(model: type[SQLModel], row_id: int) -> int:
    """The index id of a row's passage (to leave out a passage a card already shows)."""
    return row_id * KINDS + _CODES[model]


@dataclass(frozen=True, slots=True)
class PassageSource:
    title: str
    publisher: str
    link: str | None  # http(s) only
    published_on: PartialDate | None


@dataclass(frozen=True, slots=True)
class Passage:
    kind: PassageKind
    ref: int  # its id in the index
    text: Bilingual  # a news item's title: the same in both (headlines stay as published)
    # When what it says was current: a history entry's date, a note's or record's as-of date,
    # a news item's publication date.
    as_of: PartialDate
    source: PassageSource | None
    record: str | None = None  # the record a history entry or description is about, by name
    detail: str | None = None  # a news item's summary


@dataclass(frozen=True, slots=True)
class Query:
    """A question as a search: groups of words (any word of a group counts as the group), of
    which a passage must hold `required`; `context`: the question asks for context (a cause,
    a meaning, a value...), so passages are worth adding below a card.

    A word of the question's own (a group of one) of four letters or more matches as a prefix
    ("shipk", "fertilis"); a synonym group's words match as whole words, after stemming on
    both sides, as their few forms are listed: a prefix costs a scan of every term it starts.
    """

    groups: tuple[tuple[str, ...], ...]
    required: int
    context: bool
    hindi: bool = False  # searches the Hindi texts (the question has Devanagari words)

    @property
    def relaxed(self) -> bool:
        """Whether a passage may lack one of the terms (then those with all come first)."""
        return self.required < len(self.groups)

    def fts5(self, *, every_term: bool = False) -> str:
        """The query in FTS5's syntax: every word quoted, prefixes marked with `*`;
        `every_term`: passages with all the terms only."""
        return self._expression(lambda word: f'"{word}"', '"{}"*', "OR", "AND", every_term)

    def tsquery(self, *, every_term: bool = False) -> str:
        """The query in PostgreSQL's `to_tsquery` syntax."""
        return self._expression(lambda word: word, "{}:*", "|", "&", every_term)

    def _expression(
        self,
        whole: Callable[[str], str],
        prefix: str,
        any_of: str,
        all_of: str,
        every_term: bool,
    ) -> str:
        alternatives = []
        for group in self.groups:
            if len(group) == 1 and _prefix(group[0]):
                alternatives.append(f"({prefix.format(group[0])})")
            else:
                alternatives.append(f"({f' {any_of} '.join(whole(word) for word in group)})")
        # Every group is in as many of the combinations: each weighs alike in the ranking.
        required = len(alternatives) if every_term else self.required
        combinations = itertools.combinations(alternatives, required)
        return f" {any_of} ".join(f"({f' {all_of} '.join(c)})" for c in combinations)


def _prefix(word: str) -> bool:
    if _DEVANAGARI.search(word):
        return True  # a stem (see `_hindi_stem`), long enough by then
    return len(word) >= _MIN_PREFIX_LENGTH and not word.isdigit()


# Devanagari letters and signs (not the danda, the digits or the abbreviation sign).
_DEVANAGARI = re.compile(r"[\u0900-\u0963\u0971-\u097f]+")
_DEVANAGARI_DIGITS = str.maketrans("०१२३४५६७८९", "0123456789")
_ZERO_WIDTH = dict.fromkeys((0x200B, 0x200C, 0x200D, 0xFEFF))
# Endings dropped from a Hindi word to match its other forms: vowel signs, anusvara,
# chandrabindu and visarga ("दर्रा", "दर्रे", "दर्रों" are all "दर्र").
_HINDI_ENDING = re.compile(r"[\u0901-\u0903\u093e-\u094c\u0962\u0963]+$")
_MIN_HINDI_LETTERS = 2  # "ला", one letter and a vowel sign, matches too much to stand alone


def _hindi_words(text: str) -> list[str]:
    """The Devanagari words of a question, in NFC, without zero-width joiners (which would
    split a word in the index as well as here)."""
    text = unicodedata.normalize("NFC", text.translate(_ZERO_WIDTH))
    return _DEVANAGARI.findall(text)


def _hindi_stem(word: str) -> str | None:
    """What a Hindi word is searched by; None for a word too short to search for."""
    stem = _HINDI_ENDING.sub("", word)
    letters = sum(1 for character in stem if unicodedata.category(character).startswith("L"))
    return stem if letters >= _MIN_HINDI_LETTERS else None


@dataclass(frozen=True, slots=True)
class _Vocabulary:
    filler: frozenset[str]
    weak: frozenset[str]
    cues: frozenset[str]
    groups: dict[str, tuple[str, ...]]  # a word -> the words its group searches for


@functools.cache
def _vocabulary() -> _Vocabulary:
    words = lexicon().search
    filler = words.search_filler.words
    cue_groups = (words.cause_terms, words.value_terms, words.share_terms, words.objection_terms)
    groups: dict[str, tuple[str, ...]] = {}
    others = (words.pass_terms, words.fertiliser_terms, words.rise_terms, words.fall_terms)
    for concept in (*cue_groups, *others):
        # The index leaves stop words out ("why", "because"): they ask, they are not sought.
        # A Hindi word of a group (कारण) stands for the group's words, which are sought.
        sought = _distinct_stems(
            word for word in concept.all_entries() if word not in filler and word.isascii()
        )
        groups.update(dict.fromkeys(concept.words, sought))
    cues = words.context_cues.words.union(*(concept.words for concept in cue_groups))
    return _Vocabulary(filler, words.weak_terms.words, cues, groups)


# Endings both stemmers take off, and what they leave: "objected" is "object", "driving"
# is "drive".
_ENDINGS = (("s", ""), ("d", ""), ("es", ""), ("ed", ""), ("ion", ""), ("ing", ""), ("ing", "e"))


def _distinct_stems(words: Iterable[str]) -> tuple[str, ...]:
    """The words, less forms of another of them ("causes", "caused" beside "cause"): the
    stemmer joins them, and each would be one more term to look up and to rank."""
    listed = tuple(dict.fromkeys(words))

    def another_form(word: str) -> bool:
        return any(
            word.endswith(ending) and word[: -len(ending)] + stem in listed
            for ending, stem in _ENDINGS
        )

    return tuple(word for word in listed if not another_form(word))


def read_query(text: str) -> Query | None:
    """The search a question asks for; None when no word of it is worth searching for."""
    vocabulary = _vocabulary()
    groups: dict[tuple[str, ...] | str, tuple[str, ...]] = {}
    context = False
    text = text.translate(_DEVANAGARI_DIGITS)
    hindi = _hindi_words(text)[:MAX_WORDS]
    for word in hindi:
        context = context or word in vocabulary.cues
        if word in vocabulary.cues or word in vocabulary.filler or word in vocabulary.weak:
            continue
        stem = _hindi_stem(word)
        if stem is not None:
            groups.setdefault(stem, (stem,))
    for word in tokens(clean(text))[:MAX_WORDS]:
        context = context or word in vocabulary.cues
        group = vocabulary.groups.get(word)
        if group is not None:
            groups.setdefault(group, group)
        elif word in vocabulary.cues or word in vocabulary.filler or word in vocabulary.weak:
            continue
        elif len(word) >= _MIN_TERM_LENGTH and word.isascii():
            groups.setdefault(key_of(word), (word,))  # "import" and "imports" are one term
    terms = tuple(group for group in groups.values() if group)[:MAX_TERMS]
    if not terms or (len(terms) == 1 and len(terms[0]) > 1):
        return None  # a synonym group alone ("la", "passes") is too vague to search for
    required = len(terms) if len(terms) <= 2 else max(2, math.ceil(0.6 * len(terms)))
    return Query(terms, required, context, hindi=bool(hindi))


def wants_context(text: str) -> bool:
    """Whether a question asks for context (why, what it means, its value, its share...)."""
    query = read_query(text)
    return query is not None and query.context


def search(
    session: Session, text: str, limit: int = 2, *, exclude: Collection[int] = ()
) -> tuple[Passage, ...]:
    """The passages that best answer `text`, best first; none for a text with nothing to
    search for. `exclude`: index ids of passages not to give (a card shows them already)."""
    query = read_query(text)
    if query is None or limit <= 0:
        return ()
    found: list[Passage] = []
    seen_ids, seen_texts = set(exclude), set[str]()
    # Passages that hold every term; only when there is none, those that hold most.
    for every_term in (True, False) if query.relaxed else (True,):
        # A few more than needed: some may be excluded, or say what a better one says.
        hits = _ranked(session, query, limit + len(exclude) + 4, every_term=every_term)
        candidates = [hit for hit in hits if hit not in seen_ids]
        seen_ids.update(candidates)
        while candidates and len(found) < limit:
            # Read back only as many as still wanted: the next ones only when one repeats.
            wanted = limit - len(found)
            batch, candidates = candidates[:wanted], candidates[wanted:]
            for passage in _passages(session, batch):
                said = " ".join(passage.text.en.casefold().split())
                if said not in seen_texts:
                    seen_texts.add(said)
                    found.append(passage)
        if found:
            break
    return tuple(found)


def _ranked(session: Session, query: Query, limit: int, *, every_term: bool) -> list[int]:
    """Index ids of the passages that hold every term, or enough of them, best first."""
    if session.get_bind().dialect.name == "postgresql":
        statement = _POSTGRESQL_HINDI if query.hindi else _POSTGRESQL
        expression = query.tsquery(every_term=every_term)
    else:
        statement = _SQLITE_HINDI if query.hindi else _SQLITE
        expression = query.fts5(every_term=every_term)
    rows = session.connection().execute(statement, {"query": expression, "limit": limit})
    return [int(row[0]) for row in rows]


_POSTGRESQL = sql(
    "SELECT id FROM search_index, to_tsquery('english', :query) AS query "
    "WHERE document @@ query ORDER BY ts_rank(document, query, 1) DESC, id LIMIT :limit"
)
_SQLITE = sql(
    "SELECT rowid FROM search_index WHERE search_index MATCH :query "
    "ORDER BY rank, rowid LIMIT :limit"
)
# The Hindi texts' index: no stemming ('simple' on PostgreSQL, no porter on SQLite).
_POSTGRESQL_HINDI = sql(
    "SELECT id FROM search_index_hi, to_tsquery('simple', :query) AS query "
    "WHERE document @@ query ORDER BY ts_rank(document, query, 1) DESC, id LIMIT :limit"
)
_SQLITE_HINDI = sql(
    "SELECT rowid FROM search_index_hi WHERE search_index_hi MATCH :query "
    "ORDER BY rank, rowid LIMIT :limit"
)


def _passages(session: Session, hits: Sequence[int]) -> list[Passage]:
    """The passages of index ids, in their order; a row gone since it was found is skipped."""
    wanted: dict[int, list[int]] = {}
    for hit in hits:
        wanted.setdefault(hit % KINDS, []).append(hit // KINDS)
    loaded: dict[int, Passage] = {}
    for code, ids in wanted.items():
        model = _MODELS.get(code)
        if model is not None:
            loaded.update((p.ref, p) for p in _LOADERS[model](session, ids))
    return [loaded[hit] for hit in hits if hit in loaded]


def _source(source: Source | None) -> PassageSource | None:
    if source is None:
        return None
    link = web_link(source.url) if source.url else None
    return PassageSource(source.title, source.publisher, link, source.published_on)


def _notes(session: Session, ids: list[int]) -> list[Passage]:
    rows = session.exec(
        select(ContextNote, Source)
        .join(Source, col(Source.id) == ContextNote.source_id)
        .where(col(ContextNote.id).in_(ids))
    ).all()
    return [
        Passage(
            PassageKind.NOTE,
            index_id(ContextNote, _id(note)),
            Bilingual(note.text, note.text_hi),
            note.as_of,
            _source(source),
        )
        for note, source in rows
    ]


def _history(session: Session, ids: list[int]) -> list[Passage]:
    rows = session.exec(
        select(StatusChange, Source)
        .join(Source, col(Source.id) == StatusChange.source_id, isouter=True)
        .where(col(StatusChange.id).in_(ids), col(StatusChange.note).is_not(None))
    ).all()
    found = []
    for change, source in rows:
        name = records.record_name(session, RecordType(change.record_type), change.record_key)
        happened = change.occurred_on or PartialDate.of(change.at.date())
        found.append(
            Passage(
                PassageKind.HISTORY,
                index_id(StatusChange, _id(change)),
                Bilingual(change.note or "", change.note_hi),
                happened,
                _source(source),
                record=name or change.record_key,
            )
        )
    return found


Loader = Callable[["Session", list[int]], list[Passage]]


def _descriptions(model: type[EditableRecord], name: str) -> Loader:
    """The loader of a kind of record's own notes; `name`: the attribute that names one."""

    def load(session: Session, ids: list[int]) -> list[Passage]:
        rows = session.exec(
            select(model, Source)
            .join(Source, col(Source.id) == model.source_id)
            .where(col(model.id).in_(ids), col(model.note).is_not(None))
        ).all()
        return [
            Passage(
                PassageKind.DESCRIPTION,
                index_id(model, _id(record)),
                Bilingual(record.note or "", record.note_hi),
                record.as_of,
                _source(source),
                record=getattr(record, name),
            )
            for record, source in rows
        ]

    return load


def _news(session: Session, ids: list[int]) -> list[Passage]:
    rows = session.exec(
        select(NewsItem).where(
            col(NewsItem.id).in_(ids), col(NewsItem.state).in_(list(SHOWN_TO_READERS))
        )
    ).all()
    found = []
    for item in rows:
        published = PartialDate.of(item.published_at.date())
        title, publisher = " ".join(item.title.split()), " ".join(item.publisher.split())
        source = PassageSource(title, publisher, web_link(item.url), published)
        found.append(
            Passage(
                PassageKind.NEWS,
                index_id(NewsItem, _id(item)),
                Bilingual(title, title),  # a headline stays as published, in any language
                published,
                source,
                detail=" ".join(item.summary.split()) or None,
            )
        )
    return found


def _id(row: EditableRecord | StatusChange | NewsItem) -> int:
    assert row.id is not None  # read from the database
    return row.id


_LOADERS: dict[type[SQLModel], Loader] = {
    ContextNote: _notes,
    StatusChange: _history,
    BorderPass: _descriptions(BorderPass, "name"),
    CommodityDeal: _descriptions(CommodityDeal, "commodity"),
    FlightRoute: _descriptions(FlightRoute, "route"),
    TradeFigure: _descriptions(TradeFigure, "period"),
    NewsItem: _news,
}
