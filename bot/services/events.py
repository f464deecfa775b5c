"""Change events: what editors changed, for whoever listens in this process.

The durable record of every change is the `status_change` table (history and audit log);
these events only tell listeners in the same process at once (the answer cache, alerts), so
the editing code needs to know nothing about them. Listeners in other processes read the
table instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from bot.vocabulary import RecordType

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RecordChanged:
    record_type: RecordType
    key: str
    fields: tuple[str, ...]
    actor: str
    batch: str | None = None


class ChangeFeed:
    def __init__(self) -> None:
        self._listeners: list[Callable[[RecordChanged], None]] = []

    def subscribe(self, listener: Callable[[RecordChanged], None]) -> None:
        self._listeners.append(listener)

    def publish(self, event: RecordChanged) -> None:
        """Tell every listener; one failing listener never stops the others or the edit."""
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:
                logger.exception("A change listener failed on %s %s", event.record_type, event.key)
