"""Texts kept in English and Hindi side by side, and which of the two a reader gets.

Every free text a reader sees in a record (a description, a context note, a history note, a
deal's `until_note`, a pass's season, a flight's frequency, another source's note on a
figure) has a Hindi column beside it, named `<column>_hi`. Proper names (passes, marts,
routes, airlines), source titles and news headlines stay as published: they have none.

A Hindi answer shows the Hindi text when there is one, and otherwise the English text marked
as such (`Picked.fallback`); the marker's words are a template macro, not Python. A Hindi
text never stands without the English one it translates.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

HINDI = "hi"
SUFFIX = "_hi"  # the Hindi column of `note` is `note_hi`

# The columns of each table that hold reader-facing text, each with a Hindi column beside it.
TEXT_COLUMNS: dict[str, tuple[str, ...]] = {
    "trade_figure": ("note",),
    "figure_report": ("note",),
    "border_pass": ("note", "season"),
    "commodity_deal": ("note", "until_note"),
    "flight_route": ("note", "frequency"),
    "context_note": ("note", "text"),
    "status_change": ("note",),
    "trade_composition": ("note",),
}


def hindi_of(column: str) -> str:
    """The Hindi column of an English one: `note` → `note_hi`."""
    return f"{column}{SUFFIX}"


def is_hindi(column: str) -> bool:
    return column.endswith(SUFFIX)


def english_of(column: str) -> str:
    """The English column a Hindi one translates: `note_hi` → `note`."""
    return column.removesuffix(SUFFIX)


@dataclass(frozen=True, slots=True)
class Bilingual:
    """One text in English and, when someone has written it, in Hindi.

    No `__str__` of its own on purpose: printed without the `localized` filter it shows as
    what it is, so a template that forgets the filter is caught by its tests.
    """

    en: str
    hi: str | None = None

    @classmethod
    def of(cls, en: str | None, hi: str | None) -> Bilingual | None:
        """The pair, or None when there is no English text (then there is no text at all)."""
        return None if en is None else cls(en, hi or None)

    @classmethod
    def columns(cls, row: Any, column: str) -> Bilingual | None:
        """A row's English column and its Hindi column, e.g. `(deal, "until_note")`."""
        return cls.of(getattr(row, column), getattr(row, hindi_of(column), None))


@dataclass(frozen=True, slots=True)
class Picked:
    """The text a reader gets; `fallback`: English shown where Hindi was asked for."""

    text: str
    fallback: bool = False


def pick(text: Bilingual, language: str) -> Picked:
    """The Hindi text when Hindi is asked for and written; otherwise the English one, marked as
    a fallback when the reader asked for Hindi."""
    if language != HINDI:
        return Picked(text.en)
    if text.hi:
        return Picked(text.hi)
    return Picked(text.en, fallback=True)


def normalise_hindi(text: str) -> str:
    """Hindi as stored: NFC, so a word typed with a precomposed nukta letter (U+095B) and one
    typed as letter plus nukta are the same word to the search index and to comparisons."""
    return unicodedata.normalize("NFC", text)


# --- Counting what is still to translate --------------------------------------------------


@dataclass(frozen=True, slots=True)
class Coverage:
    """How many reader-facing texts have a Hindi version, and which ones have none."""

    texts: int
    translated: int
    untranslated: tuple[str, ...] = ()  # where each text without Hindi is, e.g. "pass lipulekh"

    @property
    def missing(self) -> int:
        return self.texts - self.translated

    @classmethod
    def of(cls, texts: Iterable[tuple[str, str | None, str | None]]) -> Coverage:
        """Count (where, English, Hindi) triples; one with no English text is no text."""
        count, translated, untranslated = 0, 0, []
        for where, english, hindi in texts:
            if not english:
                continue
            count += 1
            if hindi:
                translated += 1
            else:
                untranslated.append(where)
        return cls(count, translated, tuple(untranslated))


def text_pairs(
    where: str, item: Any, columns: Iterable[str]
) -> Iterator[tuple[str, str | None, str | None]]:
    """(where, English, Hindi) of each of an item's text `columns`; `where` names the item."""
    for column in columns:
        yield (
            f"{where} {column}",
            getattr(item, column, None),
            getattr(item, hindi_of(column), None),
        )
