"""Whether a question about records asks for a yes or a no, and about which state.

"Is Nathu La open?", "did China lift the curbs", "are flights running?", "shipki la band hai
kya": an opener first (after lead words such as "so" or "ok"), a closer last, or a state word
right before a final "?". A question that asks when, why, how much or which, or about another
year ("open in 2026?"), is not one: its answer is the card, which gives the dates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.services.questions.model import State

if TYPE_CHECKING:
    from bot.services.questions.periods import Periods
    from bot.services.questions.reading import Cues, Reading


def asked_state(reading: Reading, periods: Periods) -> State | None:
    """The state a yes-or-no question asks about; None when it is not one."""
    cues = reading.cues
    if periods.since_year is not None or any(ref.year is not None for ref in periods.refs):
        return None  # "open in 2026?", "open since 2020?": what was or will be, not what is
    if reading.has(cues.not_yes_no) or not _asks_yes_or_no(reading):
        return None
    return _state(reading.words, cues)


def _asks_yes_or_no(reading: Reading) -> bool:
    cues, words = reading.cues, reading.words
    first = next((word for word in words if word not in cues.yes_no_lead), "")
    if first in cues.yes_no_openers or words[-1] in cues.yes_no_closers:
        return True
    if not reading.text.rstrip().endswith("?"):
        return False
    # "nathula open?", "khula hai?": a state word last, before any trailing auxiliaries
    end = len(words)
    while end > 1 and words[end - 1] in cues.yes_no_trailing:
        end -= 1
    return _state_of(words[end - 1], cues) is not None


def _state(words: tuple[str, ...], cues: Cues) -> State | None:
    """The last state word's state, but a lifted or ended word wins: "has the ban been
    lifted" asks whether it was lifted, not whether it is banned."""
    states = [state for word in words if (state := _state_of(word, cues)) is not None]
    for decisive in (State.LIFTED, State.ENDED):
        if decisive in states:
            return decisive
    return states[-1] if states else None


def _state_of(word: str, cues: Cues) -> State | None:
    if word in cues.state_open:
        return State.OPEN
    if word in cues.state_closed:
        return State.CLOSED
    if word in cues.state_paused:
        return State.PAUSED
    if word in cues.state_lifted:
        return State.LIFTED
    if word in cues.state_ended:
        return State.ENDED
    if word in cues.state_restricted:
        return State.RESTRICTED
    return None
