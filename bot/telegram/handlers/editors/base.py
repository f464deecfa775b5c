"""What every editors' handler shares: drafts, the steps they lead to, change events.

Role checks are in `bot.telegram.handlers.access`: each command, button and document checks
the sender's role inside the unit of work that acts on it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from bot.services import drafts
from bot.services.editing import EditError
from bot.services.events import RecordChanged
from bot.telegram.handlers.base import HandlerGroup
from bot.telegram.keyboards import button
from bot.telegram.prepared import PreparedKeyboard
from bot.vocabulary import Actor

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import date

    from sqlmodel import Session
    from telegram import InlineKeyboardMarkup, Message

    from bot.models import EditDraft
    from bot.services import editing

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Step:
    """What an editor's action leads to: the text to show, and the changes it committed."""

    text: str
    keyboard: InlineKeyboardMarkup | None = None
    in_place: bool = False  # replaces the pressed message instead of following it
    changes: tuple[RecordChanged, ...] = ()


class EditorHandlers(HandlerGroup):
    """Base of the role, edit and import handler groups."""

    async def _act(self, message: Message, work: Callable[[Session], T]) -> T | None:
        """`work` in one unit of work; an EditError rolls it back and is told (None)."""
        try:
            return await self.services.run(work)
        except EditError as error:
            await self.reply(message, self._error(error))
            return None

    async def _show(self, message: Message, step: Step) -> None:
        """Tell the editor where their action led, then tell listeners what changed."""
        for change in step.changes:
            self.services.records_changed(change)
        if step.in_place:
            await self.presenter.replace(message, step.text, step.keyboard)
        else:
            await self.reply(message, step.text, step.keyboard)

    def _error(self, error: EditError) -> str:
        return self.render("admin/error.html.j2", error=error)

    def _step(
        self, template: str, *, keyboard: InlineKeyboardMarkup | None = None, **context: Any
    ) -> Step:
        return Step(self.render(template, **context), keyboard)

    def _published(self, applied: editing.Applied, user_id: int) -> RecordChanged:
        fields = tuple(row.field for row in applied.changes if row.field)
        return RecordChanged(
            applied.record_type, applied.key, fields, Actor.telegram(user_id), applied.batch
        )

    def _draft(
        self,
        session: Session,
        chat_id: int,
        user_id: int,
        kind: str,
        payload: dict[str, Any],
        *,
        stage: str = "preview",
    ) -> EditDraft:
        """Keep an edit awaiting this editor's next step in this chat."""
        return drafts.create(
            session,
            user_id=user_id,
            chat_id=chat_id,
            kind=kind,
            stage=stage,
            payload=payload,
            now=self.services.clock(),
        )

    def _today(self) -> date:
        return self.services.clock().date()


def confirm_keyboard(handlers: EditorHandlers, draft_id: str) -> PreparedKeyboard:
    label = handlers.services.renderer.label
    return PreparedKeyboard(
        [[button(label("confirm"), "ok", draft_id), button(label("cancel"), "no", draft_id)]]
    )


def arguments(message: Message) -> str:
    """Everything after the command, quotes and all (context.args would drop the quoting)."""
    text = message.text or ""
    return text.split(maxsplit=1)[1] if len(text.split(maxsplit=1)) > 1 else ""
