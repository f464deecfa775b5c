"""Amounts, dates and spans as each language writes them, and Telegram's UTF-16 length."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from bot.i18n import translations
from bot.partial_date import PartialDate
from bot.rendering import MAX_MESSAGE_LENGTH, Formats, split_html, utf16_length
from bot.vocabulary import Language

ENGLISH = Formats(Language.EN, translations(Language.EN))
HINDI = Formats(Language.HI, translations(Language.HI))


@pytest.mark.parametrize(
    ("value", "english", "hindi"),
    [
        ("99.20", "99.2", "99.2"),
        ("113.455", "113.46", "113.46"),
        ("1234567.25", "1,234,567.25", "12,34,567.25"),
        ("0", "0", "0"),
    ],
)
def test_amounts(value: str, english: str, hindi: str) -> None:
    assert ENGLISH.amount(Decimal(value)) == english
    assert HINDI.amount(Decimal(value)) == hindi
    assert ENGLISH.signed(-Decimal(value)) == ("−" + english if Decimal(value) else "0")


def test_dates_keep_the_precision_the_source_gave() -> None:
    assert ENGLISH.human_date(PartialDate(2025, 12, 15)) == "15 Dec 2025"
    assert HINDI.human_date(PartialDate(2025, 12, 15)) == "15 दिसंबर 2025"
    assert ENGLISH.human_date(PartialDate(2025, 9)) == "Sep 2025"
    assert HINDI.human_date(PartialDate(2025, 9)) == "सितंबर 2025"
    assert HINDI.human_date(PartialDate(2025)) == "2025"
    assert HINDI.human_date(date(2026, 6, 1)) == "1 जून 2026"
    assert HINDI.day_time(datetime(2025, 12, 15, 14, 5, tzinfo=UTC)) == "15 दिसंबर 14:05"


def test_spans_say_the_year_once() -> None:
    june, september = PartialDate(2026, 6), PartialDate(2026, 9)
    assert ENGLISH.date_span(june, september) == "Jun–Sep"
    assert HINDI.date_span(june, september) == "जून–सितंबर"
    assert HINDI.date_span(PartialDate(2026, 11), PartialDate(2027, 3)) == "नवंबर 2026 – मार्च 2027"
    assert HINDI.date_span(june, None) == "जून 2026 से"
    assert ENGLISH.date_span(None, september) == "to Sep 2026"


def test_missing_values_are_said_in_the_language() -> None:
    assert ENGLISH.amount(None) == "n/a"
    assert HINDI.amount(None) == "उपलब्ध नहीं"
    assert HINDI.human_date(None) == "तारीख़ नहीं बताई गई"
    assert HINDI.readable("") == "तय नहीं"
    assert HINDI.readable("2025-12-15") == "15 दिसंबर 2025"
    assert ENGLISH.readable("reopening_agreed") == "reopening agreed"


def test_telegram_counts_utf16_units() -> None:
    assert utf16_length("नाथू ला") == 7
    assert utf16_length("📈") == 2
    # Emoji outside the Basic Multilingual Plane: 2,100 of them are 4,200 units, two messages.
    text = "📈" * 2100
    pieces = split_html(text)
    assert len(pieces) == 2
    assert all(utf16_length(piece) <= MAX_MESSAGE_LENGTH for piece in pieces)
    assert "".join(pieces) == text
    hindi = "\n\n".join(["व्यापार घाटा 99.2 अरब डॉलर रहा।" * 20] * 12)
    assert all(utf16_length(piece) <= MAX_MESSAGE_LENGTH for piece in split_html(hindi))
