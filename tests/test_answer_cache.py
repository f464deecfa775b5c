"""The answer cache: entries expire after their time to live; the least recently asked go first."""

from __future__ import annotations

from bot.telegram.answer_cache import AnswerCache, Rendered, normalise


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def rendered(text: str) -> Rendered:
    return Rendered((text,), None)


def test_an_entry_lives_for_its_time_to_live() -> None:
    clock = FakeClock()
    cache = AnswerCache(30, clock=clock)
    cache.put("q", rendered("a"))
    clock.now = 29.5
    assert cache.get("q") == rendered("a")
    clock.now = 30.5
    assert cache.get("q") is None
    assert len(cache) == 0


def test_the_least_recently_asked_answer_makes_room() -> None:
    cache = AnswerCache(30, max_entries=2, clock=FakeClock())
    cache.put("first", rendered("1"))
    cache.put("second", rendered("2"))
    assert cache.get("first") is not None  # asked again: now the most recent
    cache.put("third", rendered("3"))
    assert cache.get("second") is None
    assert cache.get("first") == rendered("1")
    assert cache.get("third") == rendered("3")


def test_clear_forgets_everything_and_zero_seconds_caches_nothing() -> None:
    cache = AnswerCache(30, clock=FakeClock())
    cache.put("q", rendered("a"))
    cache.clear()
    assert cache.get("q") is None
    off = AnswerCache(0)
    off.put("q", rendered("a"))
    assert off.get("q") is None
    assert len(off) == 0


def test_the_key_ignores_case_and_spacing() -> None:
    assert normalise("  Is NATHU   la open? ") == "is nathu la open?"
