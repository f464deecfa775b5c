"""The details of a question about trade figures: which quantity, which series, and whether
it asks for the largest or the smallest."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from bot.services.questions.model import PeriodKind
from bot.services.questions.periods import Periods
from bot.services.questions.reading import Cues, Reading
from bot.vocabulary import Quantity, Series


def quantity(reading: Reading) -> Quantity | None:
    """The one quantity asked; None when none or several are (answer all of them)."""
    found = _quantities_named(reading)
    if len(found) == 1:
        return found[0]
    if {Quantity.EXPORTS, Quantity.IMPORTS} <= set(found) and reading.has(reading.cues.comparative):
        return Quantity.DEFICIT  # "how much more does India import than export"
    if found:
        return None
    return _total_trade(reading)


def _quantities_named(reading: Reading) -> list[Quantity]:
    cues, words = reading.cues, reading.words
    found: list[Quantity] = []
    for index in range(len(words)):
        named = _quantity_at(words, index, cues)
        if named is not None and named not in found:
            found.append(named)
    if Quantity.DEFICIT in found and reading.has(cues.deficit_loose) and len(found) > 1:
        found.remove(Quantity.DEFICIT)  # "balance" in "trade balance of exports..." is loose
    return found


def _quantity_at(words: Sequence[str], index: int, cues: Cues) -> Quantity | None:
    word = words[index]
    if word in cues.deficit:
        return Quantity.DEFICIT
    if word in cues.exports:
        return _flow(words, index, cues, exporting=True)
    if word in cues.imports:
        return _flow(words, index, cues, exporting=False)
    return Quantity.TOTAL if word in cues.total else None


def _total_trade(reading: Reading) -> Quantity | None:
    """Total trade when "trade" is asked alone ("trade in 2025"), not "trade data"."""
    words, cues = reading.words, reading.cues
    for index, word in enumerate(words):
        if word in cues.trade_verb:
            following = words[index + 1] if index + 1 < len(words) else ""
            if following not in cues.figure_nouns:
                return Quantity.TOTAL
    return None


def _flow(words: Sequence[str], index: int, cues: Cues, *, exporting: bool) -> Quantity:
    """India's exports or imports, whoever the sentence makes the subject.

    "China's exports to India" are India's imports, and "what does China buy from India" is
    India's exports; "Chinese imports" in Indian usage are goods from China (India's imports).
    """
    by_place = _flow_by_place(words[index + 1 : index + 5], cues)
    if by_place is None:
        by_place = _flow_by_postposition(words[max(0, index - 4) : index], cues)
    if by_place is not None:
        return by_place
    before = words[index - 1] if index > 0 else ""
    if before in cues.china and (index < 2 or words[index - 2] not in cues.india):
        return Quantity.IMPORTS if exporting else Quantity.EXPORTS
    if before in cues.china_adjective:
        return Quantity.IMPORTS
    return Quantity.EXPORTS if exporting else Quantity.IMPORTS


def _flow_by_place(ahead: Sequence[str], cues: Cues) -> Quantity | None:
    """The flow a place right after the verb decides: goods going to India ("to India"), or
    coming from China ("from China"), are India's imports."""
    for position, word in enumerate(ahead[:-1]):
        if word in cues.to_place or word in cues.from_place:
            place = ahead[position + 1]
            if place in cues.india or place in cues.china:
                into_india = (word not in cues.from_place) == (place in cues.india)
                return Quantity.IMPORTS if into_india else Quantity.EXPORTS
    return None


def _flow_by_postposition(behind: Sequence[str], cues: Cues) -> Quantity | None:
    """The flow a place with a Hindi postposition before the verb decides, the nearest first:
    "चीन को निर्यात" (to China) is India's exports, "चीन से आयात" (from China) and "चीन का
    भारत को निर्यात" (to India) are India's imports."""
    for position in range(len(behind) - 1, 0, -1):
        word, place = behind[position], behind[position - 1]
        if (word in cues.to_postposition or word in cues.from_postposition) and (
            place in cues.india or place in cues.china
        ):
            into_india = (word in cues.to_postposition) == (place in cues.india)
            return Quantity.IMPORTS if into_india else Quantity.EXPORTS
    return None


def extreme(reading: Reading, asked: Quantity | None) -> Literal["max", "min"] | None:
    """Whether the largest or the smallest value is asked for, if either."""
    cues, padded = reading.cues, reading.padded
    if cues.minimum_phrases.search(padded):
        return "min"
    if cues.maximum_phrases.search(padded):
        return "max"
    maxima = _cue_words(reading, cues.maximum, cues.not_maximum)
    minima = _cue_words(reading, cues.minimum, cues.not_minimum)
    if maxima and not minima:
        return "max"
    if minima and not maxima:
        return "min"
    judged = _worse_or_better(reading, asked)
    if judged is not None or not (maxima and minima):
        return judged
    return _first_asked(padded, maxima, minima)  # "highest and lowest"


def _first_asked(
    padded: str, maxima: frozenset[str], minima: frozenset[str]
) -> Literal["max", "min"]:
    first_max = min(padded.find(f" {word} ") for word in maxima)
    return "max" if first_max < min(padded.find(f" {word} ") for word in minima) else "min"


def _worse_or_better(reading: Reading, asked: Quantity | None) -> Literal["max", "min"] | None:
    """A worse deficit is a larger one, but worse trade is less of it."""
    cues = reading.cues
    deficit = asked is Quantity.DEFICIT or (asked is None and reading.has(cues.deficit))
    if reading.has(cues.worse):
        return "max" if deficit else "min"
    if reading.has(cues.better):
        return "min" if deficit else "max"
    return None


def _cue_words(
    reading: Reading, cue_words: frozenset[str], exceptions: re.Pattern[str]
) -> frozenset[str]:
    """The cue words in the question, less those inside an exception ("at least")."""
    found = reading.vocab & cue_words
    if found:
        for match in exceptions.finditer(reading.padded):
            found -= frozenset(match.group().split())
    return found


def series(reading: Reading) -> Series | None:
    """The series the question names; None for both or neither."""
    if reading.cues.both_series.search(reading.padded):
        return None
    if reading.china_named and not reading.india_named:
        return Series.CHINA_CY
    if reading.india_named and not reading.china_named:
        return Series.INDIA_FY
    return None


def series_with_periods(reading: Reading, periods: Periods) -> Series | None:
    """The series named, else the one the periods imply: FY2024-25 is India's, 2025 China's."""
    named = series(reading)
    if named is not None or (reading.china_named and reading.india_named):
        return named  # the user's choice (or both) wins over what the periods imply
    cues, padded = reading.cues, reading.padded
    fiscal = PeriodKind.FISCAL in periods.kinds or bool(cues.fiscal_hint.search(padded))
    calendar = PeriodKind.CALENDAR in periods.kinds or bool(cues.calendar_hint.search(padded))
    if fiscal and not calendar:
        return Series.INDIA_FY
    if calendar and not fiscal:
        return Series.CHINA_CY
    return None
