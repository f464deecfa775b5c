"""The language a question is written in, from its text alone.

A question with a Devanagari letter in it is Hindi: whoever types Devanagari reads it, and a
question that mixes scripts ("Nathu La कब खुलेगा?", "is नाथू ला open?") was typed on a Hindi
keyboard for at least one word. Devanagari digits alone (२०२५) say the same. Anything else is
None, romanised Hindi included ("nathu la kab khulega"): its words are English ones too ("hai",
"me", "the"), and people who write Hinglish in Latin letters read Latin letters, so the chat's
language decides.
"""

from __future__ import annotations

import re

from bot.lexicon.script import DEVANAGARI_LETTERS
from bot.vocabulary import Language

_DEVANAGARI = re.compile(f"[{DEVANAGARI_LETTERS}\u0966-\u096f]")


def question_language(text: str) -> Language | None:
    """Hindi for a text holding a Devanagari letter, vowel sign or digit; None otherwise."""
    return Language.HI if _DEVANAGARI.search(text) else None
