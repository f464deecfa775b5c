"""Rendered answers kept in memory, so a popular question costs about as much as an echo.

An answer depends only on the records, on today's date (stale-data notes) and on the language
it is rendered in, so it is cached by (language, what was asked, today) until the records
change: `clear()` is called on every change made through this process, and entries expire
after ANSWER_CACHE_SECONDS so that changes made by another process (the CLI, a second
instance) are seen within that time. The least recently asked answers make room when the
cache is full.

Answers that show news are not cached (`Rendered.cacheable`): an item an editor publishes on
another instance must be in the very next answer, and a news question costs one query.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cachetools import TTLCache

from bot.i18n import active_language

if TYPE_CHECKING:
    from telegram import InlineKeyboardMarkup


@dataclass(frozen=True, slots=True)
class Rendered:
    chunks: tuple[str, ...]
    keyboard: InlineKeyboardMarkup | None
    cacheable: bool = True


class AnswerCache:
    """Used from the event loop only (cachetools' caches are not thread-safe)."""

    def __init__(
        self,
        ttl_seconds: float,
        *,
        max_entries: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl_seconds
        self._entries: TTLCache[Hashable, Rendered] | None = (
            TTLCache(maxsize=max_entries, ttl=ttl_seconds, timer=clock) if ttl_seconds > 0 else None
        )

    def get(self, key: Hashable) -> Rendered | None:
        """The answer to `key` as rendered in the language of the update being handled."""
        return None if self._entries is None else self._entries.get((active_language(), key))

    def put(self, key: Hashable, rendered: Rendered) -> None:
        if self._entries is not None:
            self._entries[(active_language(), key)] = rendered

    def clear(self) -> None:
        if self._entries is not None:
            self._entries.clear()

    def __len__(self) -> int:
        return 0 if self._entries is None else len(self._entries)


def normalise(text: str) -> str:
    """The cache key of a question: case and spacing do not change the answer."""
    return " ".join(text.casefold().split())
