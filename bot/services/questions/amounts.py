"""Amounts a question names, as written: "the 116 bn figure", "99.2", "$116.12 billion".

The digits are grammar, written here; the unit words ("bn", "billion", "arab", "अरब") and the
words that make a number something else ("crore", "%", "tonnes") come from the lexicon. A number is
an amount (USD bn, the unit of every figure) when it has a decimal point, a unit word after it
or a dollar sign before it; a bare integer is a year, a count or a rank, never an amount.
Normalised text loses the decimal point, so amounts are read from the text as typed.
"""

from __future__ import annotations

import html
import re
import unicodedata
from decimal import Decimal
from typing import TYPE_CHECKING

from bot.lexicon.script import DEVANAGARI_LETTERS, fold_devanagari
from bot.services.questions.normalise import MAX_TEXT_CHARS, without_format_characters

if TYPE_CHECKING:
    from bot.services.questions.reading import Cues

MAX_AMOUNTS = 4  # a question sets one or two figures against each other
_LOOK_BEHIND = 24  # characters before a number read for "Rs" or "$"

# A number not glued to a word, a period ("FY25", "2024-25") or another number ("1,000").
_NUMBER = re.compile(r"(?<![\w.,/\-])(\d{1,4}(?:\.\d{1,3})?)(?![\d%/\-]|[.,]\d)")
_ANY_DIGIT = re.compile(r"\d")  # any script's digits: full-width ones become ASCII below
_UNIT = f"[a-z]+|[{DEVANAGARI_LETTERS}]+"  # "bn", "अरब", "crore", "करोड़"
_WORD_AFTER = re.compile(rf"\s*({_UNIT})")
_DOLLAR_BEFORE = re.compile(r"(?:\$|\busd|\bus\$)\s*$")
_WORD_BEFORE = re.compile(rf"({_UNIT})\.?\s*$")


def amounts(text: str, cues: Cues) -> tuple[Decimal, ...]:
    """The amounts in the text, in the order written, each once."""
    if not _ANY_DIGIT.search(text):
        return ()  # most questions: no number at all
    typed = unicodedata.normalize("NFKC", html.unescape(text[:MAX_TEXT_CHARS])).lower()
    typed = fold_devanagari(without_format_characters(typed))  # ९९.२ अरब is 99.2 arab
    found: list[Decimal] = []
    for match in _NUMBER.finditer(typed):
        number = match.group(1)
        after = _WORD_AFTER.match(typed, match.end())
        unit = after.group(1) if after is not None else ""
        window = max(0, match.start() - _LOOK_BEHIND)
        before = _WORD_BEFORE.search(typed, window, match.start())
        if unit in cues.not_amount_units or (
            before is not None and before.group(1) in cues.not_amount_units
        ):
            continue  # rupees, tonnes, per cent: not a figure in USD billions
        dollar = _DOLLAR_BEFORE.search(typed, window, match.start()) is not None
        if "." in number or unit in cues.amount_units or dollar:
            value = Decimal(number)
            if value not in found:
                found.append(value)
        if len(found) == MAX_AMOUNTS:
            break
    return tuple(found)
