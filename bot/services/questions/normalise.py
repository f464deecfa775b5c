"""Text as the parser, the catalog and feed matching read it: lower-case words in Latin
letters or Devanagari, ASCII digits, and names' keys.

Questions mix scripts ("Nathu La कब खुलेगा?"), arrive in NFC or NFD, carry zero-width joiners
from Indic keyboards and Devanagari digits (२०२४-२५): each reads as the same words. Devanagari
spelling is folded as `bot.lexicon.script` describes (nukta, chandrabindu, digits), so the
lexicon's entries and the records' names match however a word was typed.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence

from bot.lexicon.script import DEVANAGARI_LETTERS, fold_devanagari, fold_vowel_length

MAX_TEXT_CHARS = 4096  # Telegram's message limit; anything longer is cut, not rejected

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
# Format characters: zero-width (non-)joiners and spaces, the byte-order mark, direction
# marks, soft hyphens, tag characters. Keyboards put them inside words; they are dropped, not
# read as spaces, so "नाथू\u200dला" and "nat\u200bhu" keep their words whole.
_FORMAT = re.compile(
    "[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb"
    "\U000e0000-\U000e007f]+"
)
_COMBINING = re.compile(r"[\u0300-\u036f]+")
_NOT_LETTERS = re.compile(f"[^\x00-\x7f{DEVANAGARI_LETTERS}]+")
_POSSESSIVE = re.compile(r"'s\b")
_NOT_KEPT = re.compile(f"[^a-z0-9/\\- {DEVANAGARI_LETTERS}]+")
# Where Latin letters or digits meet Devanagari ("2025में", "FY25का"): two words.
_SCRIPT_CHANGE = re.compile(
    f"(?<=[a-z0-9])(?=[{DEVANAGARI_LETTERS}])|(?<=[{DEVANAGARI_LETTERS}])(?=[a-z0-9])"
)
_SPACES = re.compile(r"\s+")
_TOKEN = re.compile(f"[a-z0-9]+|[{DEVANAGARI_LETTERS}]+")


def without_format_characters(text: str) -> str:
    """The text without zero-width joiners, spaces and other format characters."""
    return _FORMAT.sub("", text)


def clean(text: str) -> str:
    """Lower-case words in Latin letters or Devanagari, ASCII digits, '-' and '/' (kept for
    periods like 2024-25), separated by single spaces."""
    text = html.unescape(text[:MAX_TEXT_CHARS])
    text = _URL.sub(" ", _TAG.sub(" ", text)).translate(_TO_ASCII_PUNCT)
    ascii_only = text.isascii()  # most questions: none of the steps below for other scripts
    if not ascii_only:
        # NFKD splits accents off Latin letters, maps full-width digits and spells a nukta
        # letter as its base and the nukta (whatever form it came in); other scripts, emoji and
        # the dandas (।, ॥) become spaces, so they separate words instead of gluing them.
        text = without_format_characters(text)
        text = fold_devanagari(_COMBINING.sub("", unicodedata.normalize("NFKD", text)))
        text = _NOT_LETTERS.sub(" ", text)
    text = _POSSESSIVE.sub("", text.lower()).replace("'", "")
    text = _NOT_KEPT.sub(" ", text)
    if not ascii_only:
        text = _SCRIPT_CHANGE.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def tokens(cleaned: str) -> list[str]:
    return _TOKEN.findall(cleaned)


def folded_word(word: str) -> str:
    """A word spelt as names' keys spell it (long Devanagari i and u as short ones)."""
    return word if word.isascii() else fold_vowel_length(word)


def name_key(words: Sequence[str]) -> str:
    """The spelling-insensitive form of a name: no spaces, 'iz' as 'is', no plural 's', long
    Devanagari i and u as short ones."""
    return key_of("".join(words))


def key_of(joined: str, *, folded: bool = False) -> str:
    """The key of words joined without spaces; `folded`: they are `folded_word`s already."""
    joined = joined.replace("iz", "is")
    if not folded and not joined.isascii():
        joined = fold_vowel_length(joined)
    if len(joined) >= 4 and joined.endswith("s") and not joined.endswith("ss"):
        joined = joined[:-1]
    return joined
