"""What handlers need, built once by the composition root and handed to each handler group."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.db import session_scope
from bot.services.records import Freshness
from bot.telegram.answer_cache import AnswerCache

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlmodel import Session

    from bot.config import Settings
    from bot.rendering import Renderer


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class BotServices:
    settings: Settings
    engine: Engine
    renderer: Renderer
    answers: AnswerCache
    clock: Callable[[], datetime] = _utcnow
    # Telegram file_id of each chart already uploaded, by chart data key: re-sent, not redrawn.
    chart_uploads: dict[str, str] = field(default_factory=dict)

    def session(self) -> AbstractContextManager[Session]:
        """One unit of work for one update: commit on success, roll back on error."""
        return session_scope(self.engine)

    def freshness(self) -> Freshness:
        return Freshness(self.clock().date(), self.settings.stale_after_days)

    def records_changed(self) -> None:
        """Call after any change to the records: cached answers would be out of date."""
        self.answers.clear()
