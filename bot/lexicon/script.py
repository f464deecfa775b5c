"""How the vocabulary reads Devanagari: one spelling for the forms a Hindi writer uses alike.

The question parser, the catalog of names, feed matching and the lexicon's own entries all go
through `fold_devanagari`, so a word is written once, the way a Hindi speaker writes it, and
found however it was typed:

- the nukta is dropped: ज़/ज, फ़/फ, ड़/ड, क़/क are one letter (keyboards and writers use either,
  and NFD or NFC input spells them with a separate nukta or as one code point);
- chandrabindu is read as anusvara: कहाँ/कहां, हाँ/हां;
- Devanagari digits are ASCII digits: २०२४-२५ is 2024-25.

Names' keys go further (`fold_vowel_length`): long and short i and u are one vowel, so नाथू
ला, नाथु ला and नाथुला are one name. Words of the lexicon keep their vowels: कि and की, or
दिन and दीन, are different words.
"""

from __future__ import annotations

import re

NUKTA = "\u093c"
DEVANAGARI = "\u0900-\u097f"
# Letters, vowel signs and the virama: what a Devanagari word is made of. The dandas (।, ॥)
# and the abbreviation sign (॰) are punctuation; the digits become ASCII before words are cut.
DEVANAGARI_LETTERS = "\u0900-\u0963\u0971-\u097f"
_DEVANAGARI_LETTER = re.compile(f"[{DEVANAGARI_LETTERS}]")

_NUKTA_LETTERS = {
    "\u0929": "\u0928",  # ऩ
    "\u0931": "\u0930",  # ऱ
    "\u0934": "\u0933",  # ऴ
    "\u0958": "\u0915",  # क़
    "\u0959": "\u0916",  # ख़
    "\u095a": "\u0917",  # ग़
    "\u095b": "\u091c",  # ज़
    "\u095c": "\u0921",  # ड़
    "\u095d": "\u0922",  # ढ़
    "\u095e": "\u092b",  # फ़
    "\u095f": "\u092f",  # य़
}
_FOLD = str.maketrans(
    {
        NUKTA: None,
        "\u0901": "\u0902",  # chandrabindu -> anusvara
        **_NUKTA_LETTERS,
        **{chr(0x0966 + digit): str(digit) for digit in range(10)},
    }
)
_VOWEL_LENGTH = str.maketrans(
    {
        "\u0940": "\u093f",  # ी -> ि
        "\u0942": "\u0941",  # ू -> ु
        "\u0908": "\u0907",  # ई -> इ
        "\u090a": "\u0909",  # ऊ -> उ
    }
)


def fold_devanagari(text: str) -> str:
    """The text with nuktas dropped, chandrabindu as anusvara and Devanagari digits as ASCII."""
    return text.translate(_FOLD)


def fold_vowel_length(text: str) -> str:
    """Long i and u as short ones: the spelling-insensitive form of a Devanagari name."""
    return text.translate(_VOWEL_LENGTH)


def has_devanagari(text: str) -> bool:
    """Whether the text holds a Devanagari letter or vowel sign."""
    return _DEVANAGARI_LETTER.search(text) is not None
