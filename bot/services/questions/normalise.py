"""Text as the parser and the catalog read it: lower-case ASCII words, and names' keys."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence

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
_COMBINING = re.compile(r"[\u0300-\u036f]+")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_POSSESSIVE = re.compile(r"'s\b")
_NOT_KEPT = re.compile(r"[^a-z0-9/\- ]+")
_SPACES = re.compile(r"\s+")
_TOKEN = re.compile(r"[a-z0-9]+")


def clean(text: str) -> str:
    """Lower-case ASCII words, digits, '-' and '/' (kept for periods like 2024-25)."""
    text = html.unescape(text[:MAX_TEXT_CHARS])
    text = _URL.sub(" ", _TAG.sub(" ", text)).translate(_TO_ASCII_PUNCT)
    # NFKD splits accents off letters and maps full-width digits; other scripts and emoji
    # become spaces, so they separate words instead of gluing them together.
    text = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
    text = _NON_ASCII.sub(" ", text).lower()
    text = _POSSESSIVE.sub("", text).replace("'", "")
    return _SPACES.sub(" ", _NOT_KEPT.sub(" ", text)).strip()


def tokens(cleaned: str) -> list[str]:
    return _TOKEN.findall(cleaned)


def name_key(words: Sequence[str]) -> str:
    """The spelling-insensitive form of a name: no spaces, 'iz' as 'is', no plural 's'."""
    return key_of("".join(words))


def key_of(joined: str) -> str:
    joined = joined.replace("iz", "is")
    if len(joined) >= 4 and joined.endswith("s") and not joined.endswith("ss"):
        joined = joined[:-1]
    return joined
