"""The periods a question names: fiscal years (FY2024-25, FY25, 2024/25), calendar years
(2025, CY2023), "last year", "latest", and a starting bound ("since 2020", "from 2021 on").

The forms with digits are grammar, written here; the words around them (fiscal prefixes,
"last year", "so far", "since", "onwards") come from the lexicon's `periods` section.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING

from bot.lexicon import lexicon
from bot.lexicon.script import DEVANAGARI_LETTERS
from bot.services.questions.model import PeriodKind, PeriodRef
from bot.services.questions.reading import Reading

if TYPE_CHECKING:
    from bot.lexicon.model import PeriodWords

_MAX_PERIODS = 16  # period mentions read; a question has one or two
_SINCE_WINDOW = 40  # characters before a year searched for "since the fiscal year"
_RELATIVE_SINCE_WINDOW = 24  # the same before "last year"
# Word edges in normalised text, where words are Latin or Devanagari (re.ASCII's \b would see
# no edge between a space and a Devanagari letter).
_WORD_CHARS = f"a-z0-9{DEVANAGARI_LETTERS}"
_START = f"(?<![{_WORD_CHARS}])"
_END = f"(?![{_WORD_CHARS}])"


@dataclass(frozen=True, slots=True)
class Periods:
    refs: tuple[PeriodRef, ...]
    since_year: int | None
    since_previous: bool  # "since last year": a comparison with the latest
    kinds: frozenset[PeriodKind]  # of every period named, "since 2020" included


class _Grammar:
    """The period patterns, compiled once per process (`_grammar`)."""

    def __init__(self, words: PeriodWords) -> None:
        fiscal, calendar = words.fiscal_prefix.pattern, words.calendar_prefix.pattern
        latest = rf"(?!{words.not_latest.pattern}{_END}){words.latest.pattern}"
        self.period = re.compile(
            # One word edge before every form: inside a word, nothing more is tried.
            rf"{_START}(?:{fiscal}[\s-]?(?P<fy_a>\d{{4}}|\d{{2}})"
            rf"(?:\s?[-/]\s?(?P<fy_b>\d{{4}}|\d{{2}}))?{_END}"
            rf"|{calendar}[\s-]?(?P<cal>\d{{4}}){_END}"
            rf"|(?P<pair_a>\d{{4}})\s?[-/]\s?(?P<pair_b>\d{{4}}|\d{{2}}){_END}"
            rf"|(?P<year>\d{{4}}){_END}"
            rf"|(?P<prev>{words.previous_year.pattern}){_END}"
            rf"|(?P<latest>{latest}){_END})",
            re.ASCII,
        )
        # a bound word right before a period: "since the", "from fiscal year"
        bound = f"(?:{words.since.pattern}|{words.after.pattern}|{words.starting_from.pattern})"
        kind = words.year_kind.pattern
        self.since_before = re.compile(
            rf"{_START}(?P<word>{bound})[\s-]+(?:the\s+)?(?:{kind}\s+)?(?:years?\s+)?$", re.ASCII
        )
        # Hindi puts the bound after the period: "2020 से" (since), "2019 के बाद" (after); not
        # "2019 से 2022 तक", which names two periods.
        since_after, after_after = words.since_postposition, words.after_postposition
        self.bound_after = re.compile(
            rf" (?:(?P<since>{since_after.pattern})|(?P<after>{after_after.pattern})){_END}(?! \d)",
            re.ASCII,
        )
        # "on", "onwards", "till now" right after a period
        self.onwards_after = re.compile(rf"\s*{words.onwards.pattern}{_END}", re.ASCII)
        # a period written as one word: "fy25", "cy2023"
        prefixes = [
            re.escape(entry)
            for entry in (*words.fiscal_prefix.all_entries(), *words.calendar_prefix.all_entries())
            if " " not in entry
        ]
        self.period_token = re.compile(rf"(?:{'|'.join(prefixes)})\d{{2,4}}")
        self.since = words.since.words  # the bound includes the year
        self.after = words.after.words  # the bound starts the year after


@functools.cache
def _grammar() -> _Grammar:
    return _Grammar(lexicon().periods)


def parse_periods(cleaned: str) -> Periods:
    """The periods named in normalised text (`normalise.clean`), in the order named."""
    grammar = _grammar()
    found = _Found(cleaned, grammar)
    for match in islice(grammar.period.finditer(cleaned), _MAX_PERIODS):
        refs = _period_refs(match)
        if refs:
            found.add(match, refs)
    return found.periods()


def is_period_word(word: str, reading: Reading) -> bool:
    """A word that only names or qualifies a period ("fy25", "last", "2025")."""
    return (
        word in reading.cues.period_words
        or word.isdigit()
        or _grammar().period_token.fullmatch(word) is not None
    )


def settle(periods: Periods, reading: Reading) -> Periods:
    """Drop "now" and "so far" where they only qualify a period or a bound ("the FY2025-26
    deficit so far", "since 2019 to now"), unless the question compares ("FY25 vs now")."""
    refs = periods.refs
    explicit = any(ref.year is not None for ref in refs)
    if periods.since_year is not None or (explicit and not reading.has(reading.cues.compare)):
        refs = tuple(ref for ref in refs if ref.kind is not PeriodKind.LATEST)
    return Periods(refs, periods.since_year, periods.since_previous, periods.kinds)


class _Found:
    """The periods of one text, collected mention by mention."""

    def __init__(self, cleaned: str, grammar: _Grammar) -> None:
        self.cleaned = cleaned
        self.grammar = grammar
        self.refs: list[PeriodRef] = []
        self.since_year: int | None = None
        self.since_previous = False
        self.kinds: set[PeriodKind] = set()

    def periods(self) -> Periods:
        refs = tuple(dict.fromkeys(self.refs))
        return Periods(refs, self.since_year, self.since_previous, frozenset(self.kinds))

    def add(self, match: re.Match[str], refs: list[PeriodRef]) -> None:
        if match["prev"] is not None or match["latest"] is not None:
            self._add_relative(match, refs)
        elif not self._add_bound(match, refs):
            self.refs.extend(refs)
            self.kinds.update(ref.kind for ref in refs)

    def _bound_word(self, match: re.Match[str], window: int) -> str | None:
        start = match.start()
        before = self.grammar.since_before.search(self.cleaned, max(0, start - window), start)
        return None if before is None else before["word"]

    def _add_relative(self, match: re.Match[str], refs: list[PeriodRef]) -> None:
        if match["prev"] is not None:
            word = self._bound_word(match, _RELATIVE_SINCE_WINDOW)
            postposition = self.grammar.bound_after.match(self.cleaned, match.end())
            if word in self.grammar.since or (postposition and postposition["since"]):
                self.since_previous = True  # "since last year"
                return
        self.refs.extend(refs)

    def _add_bound(self, match: re.Match[str], refs: list[PeriodRef]) -> bool:
        """A period that starts a range ("since 2020", "from 2021 onwards"): True if taken."""
        if self.since_year is not None:
            return False
        start = refs[0].year
        if start is None:
            return False
        word = self._bound_word(match, _SINCE_WINDOW)
        if word is not None:
            after = word in self.grammar.after
            onwards = self.grammar.onwards_after.match(self.cleaned, match.end()) is not None
            if not (after or word in self.grammar.since or onwards):
                return False
        else:  # Hindi: "2020 से", "2019 के बाद"
            postposition = self.grammar.bound_after.match(self.cleaned, match.end())
            if postposition is None:
                return False
            after = postposition["after"] is not None
        self.since_year = start + 1 if after else start
        # "since FY2019-20" is India's series; "since 2020" is a bound for both
        self.kinds.update(ref.kind for ref in refs if ref.kind is PeriodKind.FISCAL)
        return True


def _century(two_digits: int) -> int:
    return 2000 + two_digits if two_digits < 70 else 1900 + two_digits


def _plausible(year: int) -> bool:
    return 1900 <= year <= 2100


def _period_refs(match: re.Match[str]) -> list[PeriodRef]:
    if match["fy_a"] is not None:
        return _fiscal_refs(match["fy_a"], match["fy_b"])
    if match["cal"] is not None:
        year = int(match["cal"])
        return [PeriodRef(PeriodKind.CALENDAR, year)] if year >= 1000 else []
    if match["pair_a"] is not None:
        return _pair_refs(match["pair_a"], match["pair_b"])
    if match["year"] is not None:
        year = int(match["year"])
        return [PeriodRef(PeriodKind.CALENDAR, year)] if _plausible(year) else []
    if match["prev"] is not None:
        return [PeriodRef(PeriodKind.PREVIOUS)]
    return [PeriodRef(PeriodKind.LATEST)]


def _fiscal_refs(first_digits: str, second_digits: str | None) -> list[PeriodRef]:
    first = int(first_digits) if len(first_digits) == 4 else _century(int(first_digits))
    start = first if second_digits is not None else first - 1  # "FY25" ends in 2025
    return [PeriodRef(PeriodKind.FISCAL, start)] if start >= 1000 else []


def _pair_refs(first_digits: str, second_digits: str) -> list[PeriodRef]:
    first, second = int(first_digits), int(second_digits)
    if not _plausible(first):
        return []
    following = (first + 1) % 100 if len(second_digits) == 2 else first + 1
    if second == following:
        return [PeriodRef(PeriodKind.FISCAL, first)]  # "2024-25", "2024/2025"
    refs = [PeriodRef(PeriodKind.CALENDAR, first)]
    if len(second_digits) == 4 and _plausible(second) and second > first:
        refs.append(PeriodRef(PeriodKind.CALENDAR, second))  # "2019-2022": a range
    return refs
