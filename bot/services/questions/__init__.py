"""Questions in English or Hindi (Devanagari or romanised) to a structured `Question`: what is
asked, about which series, quantity, periods and named records, and in which language.

    model       Question, Intent, PeriodRef, EntityRef: what a parsed question is
    normalise   text to lower-case words (Latin or Devanagari); the spelling-insensitive keys
                of names
    language    the language a question is written in (Hindi for Devanagari)
    catalog     Catalog: the records' names, found in a text exactly, by prefix or by typo
    reading     a question read once: keyword typos corrected, the lexicon's cues compiled
    periods     fiscal and calendar years, "last year", "since 2020"
    figures     quantity, series, largest or smallest
    amounts     amounts as written ("116.12", "the 116 bn figure"), for a figure's source
    yes_no      whether a question about records asks for a yes or a no, and about which state
    classify    the intent, and the deal filters
    parser      parse_question, putting them together

The words the rules look for are data, in `bot/lexicon/lexicon.yaml`; names of records come
from the catalog (the database).
"""

from bot.services.questions.catalog import Catalog, CatalogEntry, Names, catalog_from_dataset
from bot.services.questions.language import question_language
from bot.services.questions.model import (
    EntityRef,
    Intent,
    PeriodKind,
    PeriodRef,
    Question,
    State,
)
from bot.services.questions.normalise import MAX_TEXT_CHARS
from bot.services.questions.parser import parse_question

__all__ = [
    "MAX_TEXT_CHARS",
    "Catalog",
    "CatalogEntry",
    "EntityRef",
    "Intent",
    "Names",
    "PeriodKind",
    "PeriodRef",
    "Question",
    "State",
    "catalog_from_dataset",
    "parse_question",
    "question_language",
]
