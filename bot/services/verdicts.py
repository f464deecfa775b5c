"""Yes or no, for a question about the state of records ("is Nathu La open?").

Each record's status decides, read with its dates against today (`bot.services.timeline`):

- the status answers when it is the state asked about or one that rules it out: a pass is open
  or it is not; a deal in effect is flowing, a restricted one is not;
- when a date the record expected to change by has passed with nothing recorded since (an
  expected reopening, a first flight: `Mark.OVERDUE`), the status still answers, but "as last
  recorded": the reader is told the date has passed;
- a question about what a deal's announced end concerns ("is the rare-earth pause still on?"
  when the end is of a pause, "has it ended?") is answered by that date: not yet passed, yes;
  passed with no update since, it has lapsed;
- where nothing on record decides (curbs lifted on a deal that never had any), the answer is
  "not recorded", never a guess.

Several records give one answer: yes or no when they agree, "partly" when they do not. A list
of deals the question does not name ("is China restricting exports?") is answered by the
deals that are in the state asked about, if any.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from bot.models import BorderPass, CommodityDeal, FlightRoute
from bot.services.questions.model import State
from bot.services.timeline import Mark
from bot.vocabulary import DealStatus, FlightStatus, PassStatus

if TYPE_CHECKING:
    from collections.abc import Iterable, Set

    from bot.services.records import RecordView


class Verdict(StrEnum):
    YES = "yes"
    NO = "no"
    PARTLY = "partly"  # several records: some yes, some no
    NOT_RECORDED = "not_recorded"  # nothing on record decides it
    NONE_RECORDED = "none_recorded"  # a list: no record on file is in the state asked about


class Basis(StrEnum):
    STATUS = "status"  # the record's status
    LAST_RECORDED = "last_recorded"  # the status, though a date it expected has passed
    END = "end"  # the deal's announced end (`status_until`)


@dataclass(frozen=True, slots=True)
class Judgement:
    view: RecordView[Any]
    verdict: Verdict  # YES, NO or NOT_RECORDED
    basis: Basis


# States that a record's being open (running, in effect) answers with yes.
_OPENING = frozenset({State.OPEN, State.LIFTED, State.ENDED})
_RESTRICTING = (DealStatus.RESTRICTED, DealStatus.SUSPENDED)


def judge(
    view: RecordView[Any],
    state: State,
    *,
    ever_restricted: bool = False,
    pause_words: Set[str] = frozenset(),
) -> Judgement:
    """Yes, no or not recorded for one record. `ever_restricted`: its history shows it
    restricted or suspended at some time; `pause_words`: the words that name a pause."""
    record = view.record
    if isinstance(record, CommodityDeal):
        return _deal(view, record, state, ever_restricted, pause_words)
    if isinstance(record, BorderPass):
        is_open = record.status == PassStatus.OPEN
        return _by_status(view, yes=is_open if state in _OPENING else not is_open)
    if isinstance(record, FlightRoute):
        if state in _OPENING:
            return _by_status(view, yes=record.status == FlightStatus.OPERATING)
        return _by_status(view, yes=record.status == FlightStatus.SUSPENDED)
    raise TypeError(f"no yes or no for {type(record).__name__}")


def overall(judgements: Iterable[Judgement]) -> Verdict:
    """One answer for several records: what the decided ones agree on, else partly."""
    decided = {j.verdict for j in judgements if j.verdict is not Verdict.NOT_RECORDED}
    if not decided:
        return Verdict.NOT_RECORDED
    return decided.pop() if len(decided) == 1 else Verdict.PARTLY


def _by_status(view: RecordView[Any], *, yes: bool | None) -> Judgement:
    if yes is None:
        return Judgement(view, Verdict.NOT_RECORDED, Basis.STATUS)
    basis = Basis.LAST_RECORDED if view.outlook.mark is Mark.OVERDUE else Basis.STATUS
    return Judgement(view, Verdict.YES if yes else Verdict.NO, basis)


def _deal(
    view: RecordView[Any],
    deal: CommodityDeal,
    state: State,
    ever_restricted: bool,
    pause_words: Set[str],
) -> Judgement:
    status = deal.status
    if state is State.OPEN:
        return _by_status(view, yes=status == DealStatus.IN_EFFECT)
    if state is State.PAUSED:
        if status == DealStatus.SUSPENDED:
            return _by_status(view, yes=True)
        if _end_names(deal, pause_words):
            return _by_end(view, ongoing=True)
        return _by_status(view, yes=status == DealStatus.RESTRICTED)
    if state is State.ENDED and view.outlook.expected is not None:
        return _by_end(view, ongoing=False)
    if state is State.ENDED and status == DealStatus.LAPSED:
        return _by_status(view, yes=True)
    if state in (State.LIFTED, State.ENDED):
        if status in _RESTRICTING:
            return _by_status(view, yes=False)
        if not ever_restricted:
            return _by_status(view, yes=None)  # no curbs on record to lift
        return _by_status(view, yes=status == DealStatus.IN_EFFECT)
    # CLOSED, RESTRICTED
    if status == DealStatus.LAPSED:
        return _by_status(view, yes=None)
    return _by_status(view, yes=status in _RESTRICTING)


def _end_names(deal: CommodityDeal, words: Set[str]) -> bool:
    """The deal's announced end is of what the question names ("China's one-year pause of
    its controls", asked "is the pause still on")."""
    if deal.status_until is None or deal.until_note is None:
        return False
    note_words = {word.strip(".,;:()'\"").lower() for word in deal.until_note.split()}
    return not note_words.isdisjoint(words)


def _by_end(view: RecordView[Any], *, ongoing: bool) -> Judgement:
    """Decided by the announced end: `ongoing` asks whether what ends is still on."""
    expected = view.outlook.expected
    assert expected is not None
    if not expected.passed:
        return Judgement(view, Verdict.YES if ongoing else Verdict.NO, Basis.END)
    if expected.updated_after:
        return Judgement(view, Verdict.NOT_RECORDED, Basis.END)  # a later update may say more
    return Judgement(view, Verdict.NO if ongoing else Verdict.YES, Basis.END)
