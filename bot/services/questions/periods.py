"""The periods a question names: fiscal years (FY2024-25, FY25, 2024/25), calendar years
(2025, CY2023), "last year", "latest", months ("October 2025", "2025-10"), runs of months
("April to January", "Apr-Jul 2025"), the year so far ("so far this year"), and a starting
bound ("since 2020", "from 2021 on").

The forms with digits are grammar, written here; the words around them (fiscal prefixes,
month names, "last year", "so far", "since", "onwards") come from the lexicon's `periods`
section.
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
from bot.trade_periods import FISCAL_FIRST_MONTH

if TYPE_CHECKING:
    from bot.lexicon.model import PeriodWords

_MAX_PERIODS = 16  # period mentions read; a question has one or two
_MONTH_CONCEPTS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
# Words that name the month May only before a year ("May 2025"); alone a verb.
_MAY = 5
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
        concepts = [getattr(words, name) for name in _MONTH_CONCEPTS]
        self.month_numbers = {
            word: number for number, concept in enumerate(concepts, 1) for word in concept.words
        }
        month = "(?:" + "|".join(sorted(map(re.escape, self.month_numbers), key=len, reverse=True))
        month += ")"
        through = r"(?:-|to|till|until|through|thru|upto|up\s+to)"
        alone = r"(?![-/]\d)"  # "January 2024-25" names a fiscal year, not January 2024
        self.period = re.compile(
            # One word edge before every form: inside a word, nothing more is tried.
            rf"{_START}(?:{fiscal}[\s-]?(?P<fy_a>\d{{4}}|\d{{2}})"
            rf"(?:\s?[-/]\s?(?P<fy_b>\d{{4}}|\d{{2}}))?{_END}"
            rf"|{calendar}[\s-]?(?P<cal>\d{{4}}){_END}"
            rf"|(?P<run_a>{month})(?:\s+(?P<run_ay>\d{{4}}){alone})?\s*{through}\s*"
            rf"(?P<run_b>{month})(?:\s+(?P<run_by>\d{{4}}){alone})?{_END}"
            rf"|(?P<month>{month})(?:\s+(?:of\s+)?(?P<month_y>\d{{4}}){alone})?{_END}"
            rf"|(?P<pair_a>\d{{4}})\s?[-/]\s?(?P<pair_b>\d{{4}}|\d{{2}}){_END}"
            rf"|(?P<year>\d{{4}}){_END}"
            rf"|(?P<prev>{words.previous_year.pattern}){_END}"
            rf"|(?P<so_far>{words.so_far.pattern}){_END}"
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
        refs = _period_refs(match, grammar)
        if refs:
            found.add(match, refs)
    return found.periods()


def is_period_word(word: str, reading: Reading) -> bool:
    """A word that only names or qualifies a period ("fy25", "last", "2025")."""
    grammar = _grammar()
    return (
        word in reading.cues.period_words
        or word in grammar.month_numbers
        or word.isdigit()
        or grammar.period_token.fullmatch(word) is not None
    )


_YEARS = (PeriodKind.FISCAL, PeriodKind.CALENDAR)
_PARTS = (PeriodKind.MONTH, PeriodKind.MONTHS, PeriodKind.SO_FAR)


def settle(periods: Periods, reading: Reading) -> Periods:
    """Drop "now" and "so far" where they only qualify a period or a bound ("the FY2025-26
    deficit so far", "since 2019 to now"), unless the question compares ("FY25 vs now"); and
    give a month or a run of months the year named beside it ("Apr-Jan FY2025-26")."""
    refs, kinds = _months_with_their_year(periods.refs, periods.kinds)
    explicit = any(ref.year is not None for ref in refs)
    dated_years = any(ref.year is not None and ref.kind in _YEARS for ref in refs)
    months = any(ref.kind in (PeriodKind.MONTH, PeriodKind.MONTHS) for ref in refs)
    since = periods.since_year is not None
    if since or months or (dated_years and not reading.has(reading.cues.compare)):
        refs = tuple(ref for ref in refs if ref.kind is not PeriodKind.LATEST)
    if since or explicit or months:
        # "FY2025-26 so far": the year asked, whose latest part answers while it is not over.
        refs = tuple(ref for ref in refs if ref.kind is not PeriodKind.SO_FAR)
    elif any(ref.kind is PeriodKind.SO_FAR for ref in refs):
        refs = tuple(ref for ref in refs if ref.kind is not PeriodKind.LATEST)
    return Periods(refs, periods.since_year, periods.since_previous, kinds)


def _months_with_their_year(
    refs: tuple[PeriodRef, ...], kinds: frozenset[PeriodKind]
) -> tuple[tuple[PeriodRef, ...], frozenset[PeriodKind]]:
    """A month or a run of months named without a year takes the one year named beside it:
    a fiscal year's months from April are in its first year, the others in its second."""
    undated = [r for r in refs if r.kind in (PeriodKind.MONTH, PeriodKind.MONTHS) and not r.year]
    years = [ref for ref in refs if ref.kind in _YEARS and ref.year is not None]
    if len(undated) != 1 or len(years) != 1:
        return refs, kinds
    part, year = undated[0], years[0]
    assert part.month is not None
    assert year.year is not None
    first = year.year
    if year.kind is PeriodKind.FISCAL and part.month < FISCAL_FIRST_MONTH:
        first += 1
    dated = PeriodRef(part.kind, first, part.month, part.end_month)
    settled = tuple(dated if ref is part else ref for ref in refs if ref is not year)
    if year.kind is PeriodKind.CALENDAR:  # the year dates the month: no calendar-year series
        kinds = kinds - {PeriodKind.CALENDAR}
    return settled, kinds


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
        if any(ref.kind in _PARTS for ref in refs):
            self.refs.extend(refs)  # a month or the year so far is never a bound
        elif match["prev"] is not None or match["latest"] is not None:
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


def _period_refs(match: re.Match[str], grammar: _Grammar) -> list[PeriodRef]:
    months = grammar.month_numbers
    if match["run_a"] is not None:
        first_year = match["run_ay"] or match["run_by"]
        year = int(first_year) if first_year is not None else None
        if (
            match["run_ay"] is None
            and year is not None
            and months[match["run_b"]] < months[match["run_a"]]
        ):
            year -= 1  # "April to January 2026" starts in April 2025
        return [PeriodRef(PeriodKind.MONTHS, year, months[match["run_a"]], months[match["run_b"]])]
    if match["month"] is not None:
        number = months[match["month"]]
        year = int(match["month_y"]) if match["month_y"] is not None else None
        if year is None and number == _MAY:
            return []
        if year is not None and not _plausible(year):
            return []
        return [PeriodRef(PeriodKind.MONTH, year, number)]
    if match["so_far"] is not None:
        return [PeriodRef(PeriodKind.SO_FAR)]
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
    if len(second_digits) == 2 and 1 <= second <= 12:
        return [PeriodRef(PeriodKind.MONTH, first, second)]  # "2025-10"
    refs = [PeriodRef(PeriodKind.CALENDAR, first)]
    if len(second_digits) == 4 and _plausible(second) and second > first:
        refs.append(PeriodRef(PeriodKind.CALENDAR, second))  # "2019-2022": a range
    return refs
