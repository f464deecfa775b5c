"""Rendered answers kept in memory, so a popular question costs about as much as an echo.

An answer depends only on the records and on today's date (stale-data notes), so it is cached
by (what was asked, today) until the records change: `clear()` is called on every change made
through this process, and entries expire after ANSWER_CACHE_SECONDS so that changes made by
another process (the CLI, a second instance) are seen within that time.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from telegram import InlineKeyboardMarkup


@dataclass(frozen=True, slots=True)
class Rendered:
    chunks: tuple[str, ...]
    keyboard: InlineKeyboardMarkup | None


class AnswerCache:
    def __init__(
        self,
        ttl_seconds: float,
        *,
        max_entries: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, Rendered]] = OrderedDict()

    def get(self, key: Hashable) -> Rendered | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        stored_at, rendered = entry
        if self._clock() - stored_at > self.ttl:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return rendered

    def put(self, key: Hashable, rendered: Rendered) -> None:
        if self.ttl <= 0:
            return
        self._entries[key] = (self._clock(), rendered)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def normalise(text: str) -> str:
    """The cache key of a question: case and spacing do not change the answer."""
    return " ".join(text.casefold().split())
