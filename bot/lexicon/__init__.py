"""The vocabulary of questions and topics, read from `lexicon.yaml` beside this module.

Each concept (deficit words, the phrases that name China's statistics, ...) holds entries per
language; readers use every language at once. A concept is either `Words` (single words,
tested against the words of a text) or `Phrases` (word sequences with `{concept}` slots,
`(a|b)` alternatives and `*` wildcards), and each carries `pattern`, a regular expression
source matching any of its entries. The file's format is described at its top; the typed form
is `bot.lexicon.model`.

`lexicon()` reads the bundled file once per process, on first use: never at import time, and
the model's classes are imported only then, as defining them is a cost on every start-up
(`ask "/help"` needs no lexicon). `load_lexicon(path)` reads another file, for tests. A file
that does not follow the format raises `LexiconError` naming the file, the entry and the
problem.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.lexicon.model import Concept, Lexicon, Words

LEXICON_FILE = Path(__file__).resolve().parent / "lexicon.yaml"


class LexiconError(ValueError):
    """The lexicon file does not follow its format; the message names the file and entry."""


@functools.cache
def lexicon() -> Lexicon:
    """The bundled lexicon, read on first use and kept for the life of the process."""
    return load_lexicon(LEXICON_FILE)


def load_lexicon(path: Path) -> Lexicon:
    from bot.lexicon.reader import read_lexicon

    return read_lexicon(path)


def words_of(*concepts: Words) -> frozenset[str]:
    """The words of several concepts together."""
    return frozenset().union(*(concept.words for concept in concepts))


def phrase_regex(*concepts: Concept) -> re.Pattern[str]:
    """Any entry of the concepts, as whole words, in text whose words are separated by single
    spaces and that has a space at each end (" is nathu la open "); a match starts at the
    space before the entry."""
    return re.compile(rf" (?:{'|'.join(concept.pattern for concept in concepts)})(?= )")
