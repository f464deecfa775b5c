"""What handlers need, built once by the composition root and handed to each handler group."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.db import session_scope
from bot.services import admins
from bot.services.events import ChangeFeed, RecordChanged
from bot.services.records import Freshness
from bot.telegram.answer_cache import AnswerCache
from bot.telegram.metrics import Metrics

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlmodel import Session

    from bot.config import Settings
    from bot.rendering import Renderer


ADMIN_IDS_TTL_SECONDS = 60


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class BotServices:
    settings: Settings
    engine: Engine
    renderer: Renderer
    answers: AnswerCache
    changes: ChangeFeed = field(default_factory=ChangeFeed)
    metrics: Metrics = field(default_factory=Metrics)
    clock: Callable[[], datetime] = _utcnow
    # Telegram file_id of each chart already uploaded, by chart data key: re-sent, not redrawn.
    chart_uploads: dict[str, str] = field(default_factory=dict)
    # Who holds a role, re-read at most once a minute: only their plain messages are checked
    # for a guided edit awaiting input, so nobody else's question pays for a query.
    _admin_ids: frozenset[int] = frozenset()
    _admins_read_at: float = float("-inf")

    def __post_init__(self) -> None:
        # Any change can alter any cached answer (lists, histories, headlines): drop them all.
        self.changes.subscribe(lambda _: self.answers.clear())

    def session(self) -> AbstractContextManager[Session]:
        """One unit of work for one update: commit on success, roll back on error."""
        return session_scope(self.engine)

    def is_admin(self, user_id: int) -> bool:
        if time.monotonic() - self._admins_read_at > ADMIN_IDS_TTL_SECONDS:
            self.reload_admins()
        return user_id in self._admin_ids

    def reload_admins(self) -> None:
        with self.session() as session:
            self._admin_ids = admins.admin_ids(session)
        self._admins_read_at = time.monotonic()

    def freshness(self) -> Freshness:
        return Freshness(self.clock().date(), self.settings.stale_after_days)

    def records_changed(self, event: RecordChanged) -> None:
        """Call after a change is committed: listeners (the answer cache, alerts) hear of it."""
        self.changes.publish(event)
