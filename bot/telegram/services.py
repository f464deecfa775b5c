"""What handlers need, built once by the composition root and handed to each handler group."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.db import session_scope

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlmodel import Session

    from bot.config import Settings
    from bot.rendering import Renderer


@dataclass(frozen=True, slots=True)
class BotServices:
    settings: Settings
    engine: Engine
    renderer: Renderer

    def session(self) -> AbstractContextManager[Session]:
        """One unit of work for one update: commit on success, roll back on error."""
        return session_scope(self.engine)
