"""`parse_question`: a user's text and the catalog of names to a `Question`.

The parser is pure and deterministic: no network, no database, no clock and no state between
calls beyond what it compiles once from the lexicon and the catalog. It never raises on user
text: whatever it cannot place is `Intent.UNKNOWN`.
"""

from __future__ import annotations

import dataclasses
import logging

from bot.services.questions.amounts import amounts
from bot.services.questions.catalog import Catalog, Names
from bot.services.questions.classify import (
    asks_goods,
    asks_growing_goods,
    classify,
    deal_status,
    direction,
    subject,
)
from bot.services.questions.figures import extreme, quantity, series, series_with_periods
from bot.services.questions.language import question_language
from bot.services.questions.model import EntityRef, Intent, PeriodKind, PeriodRef, Question
from bot.services.questions.periods import Periods, parse_periods, settle
from bot.services.questions.reading import Reading, read
from bot.services.questions.yes_no import asked_state
from bot.vocabulary import Quantity

logger = logging.getLogger(__name__)

_FIGURE_INTENTS = frozenset(
    {Intent.DEFICIT, Intent.TRADE, Intent.COMPARE, Intent.EXTREME, Intent.TREND, Intent.CHART}
)
_RECORD_INTENTS = frozenset(
    {Intent.PASS, Intent.DEALS, Intent.FLIGHTS, Intent.HISTORY, Intent.SOURCES}
)
# Questions about the state of records, which can be asked for a yes or a no.
_YES_NO_INTENTS = frozenset({Intent.PASS, Intent.PASSES, Intent.DEALS, Intent.FLIGHTS})


def parse_question(text: str, catalog: Catalog) -> Question:
    """The structured form of a user's question; `Intent.UNKNOWN` when it cannot be placed."""
    try:
        return _parse(text, catalog)
    except Exception:  # a parser bug must not cost the user an answer
        logger.exception("question parser failed on a text of %d characters", len(text))
        return Question(text=text, intent=Intent.UNKNOWN, language=question_language(text))


def _parse(text: str, catalog: Catalog) -> Question:
    reading = read(text)
    if reading is None:
        return Question(text=text, intent=Intent.UNKNOWN, language=question_language(text))
    language = reading.language
    names = catalog.names_in(reading.raw)
    periods = settle(parse_periods(reading.clean), reading)
    asked = quantity(reading)
    named_amounts = amounts(text, reading.cues)

    intent = classify(reading, names, periods, asked, named_amounts)
    if intent is Intent.UNKNOWN:
        suggestions = catalog.suggest(reading.raw)
        return Question(text=text, intent=intent, suggestions=suggestions, language=language)
    if intent is Intent.HELP:
        return Question(text=text, intent=intent, language=language)
    if intent is Intent.NEWS:
        return _news_question(reading, names, periods, asked)
    if intent is Intent.DISCREPANCY:
        return Question(
            text=text, intent=intent, quantity=asked, amounts=named_amounts, language=language
        )
    question = _details(reading, intent, names, periods, asked)
    if intent is Intent.SOURCES and named_amounts:
        return dataclasses.replace(question, amounts=named_amounts)
    return question


def _details(
    reading: Reading, intent: Intent, names: Names, periods: Periods, asked: Quantity | None
) -> Question:
    if intent in (Intent.COMPOSITION, Intent.CAUSES):
        return _goods_question(reading, intent, periods, asked)
    if intent is Intent.CHART and asks_goods(reading):
        chart = _goods_question(reading, Intent.COMPOSITION, periods, asked)
        return dataclasses.replace(chart, intent=Intent.CHART, about=Intent.COMPOSITION)
    if intent in _FIGURE_INTENTS:
        return _figures_question(reading, intent, periods, asked)
    question = _records_question(reading, intent, names)
    if intent in _YES_NO_INTENTS:
        return dataclasses.replace(question, yes_no=asked_state(reading, periods))
    return question


def _news_question(
    reading: Reading, names: Names, periods: Periods, asked: Quantity | None
) -> Question:
    """The news, about what the rest of the question names (with its details), if anything."""
    about = subject(reading, names, periods, asked, periods_alone=False)
    if about is None:
        return Question(text=reading.text, intent=Intent.NEWS, language=reading.language)
    asked_about = _details(reading, about, names, periods, asked)
    return dataclasses.replace(asked_about, intent=Intent.NEWS, about=about)


def _records_question(reading: Reading, intent: Intent, names: Names) -> Question:
    entities: tuple[EntityRef, ...] = names.refs if intent in _RECORD_INTENTS else ()
    suggestions = names.ambiguous if entities else ()
    if intent is Intent.DEALS or intent is Intent.HISTORY:
        # A status or direction filters a list; for a record named it would only hide it.
        filters = intent is Intent.DEALS and not names.explicit
        return Question(
            text=reading.text,
            intent=intent,
            language=reading.language,
            entities=entities,
            deal_category=names.category,
            deal_status=deal_status(reading) if filters else None,
            direction=direction(reading) if filters else None,
            suggestions=suggestions,
        )
    return Question(
        text=reading.text,
        intent=intent,
        language=reading.language,
        series=series(reading) if intent is Intent.SOURCES else None,
        entities=entities,
        suggestions=suggestions,
    )


def _figures_question(
    reading: Reading, intent: Intent, periods: Periods, asked: Quantity | None
) -> Question:
    refs, since_year = _periods_asked(intent, periods)
    return Question(
        text=reading.text,
        intent=intent,
        language=reading.language,
        series=series_with_periods(reading, periods),
        quantity=asked,
        periods=refs,
        since_year=since_year,
        extreme=extreme(reading, asked) if intent is Intent.EXTREME else None,
    )


def _goods_question(
    reading: Reading, intent: Intent, periods: Periods, asked: Quantity | None
) -> Question:
    """Which goods (imports, exports or both), in the periods named, whose data."""
    flow = asked if asked in (Quantity.IMPORTS, Quantity.EXPORTS) else None
    return Question(
        text=reading.text,
        intent=intent,
        series=series(reading),
        quantity=flow if intent is Intent.COMPOSITION else None,
        periods=periods.refs,
        by_growth=intent is Intent.COMPOSITION and asks_growing_goods(reading),
    )


def _first_year(refs: tuple[PeriodRef, ...]) -> int | None:
    return min((ref.year for ref in refs if ref.year is not None), default=None)


def _periods_asked(intent: Intent, periods: Periods) -> tuple[tuple[PeriodRef, ...], int | None]:
    """The periods and the starting year the answer needs, from those the question named."""
    refs = periods.refs
    since_year = periods.since_year
    if intent is Intent.COMPARE and periods.since_previous:
        refs = (PeriodRef(PeriodKind.PREVIOUS), PeriodRef(PeriodKind.LATEST))
    elif intent is Intent.COMPARE and refs == (PeriodRef(PeriodKind.PREVIOUS),):
        refs = (*refs, PeriodRef(PeriodKind.LATEST))  # "change from last year": to the latest
    if len(refs) > 2:  # a list of years is a trend over them
        since_year = _first_year(refs) if since_year is None else since_year
        refs = ()
    if intent in (Intent.DEFICIT, Intent.TRADE) and not refs:
        refs = (PeriodRef(PeriodKind.LATEST),)  # a point question without a period: the latest
    return refs, since_year
