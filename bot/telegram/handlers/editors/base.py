"""What every editors' handler shares: the role check, replies, change events.

Every command, button and document checks the sender's role in the database at the moment
of the action, not when a menu was drawn. Editing happens in private chats only. Refusals are
neutral ("not allowed") and logged with the user id.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from telegram.constants import ChatType

from bot.services import admins, drafts
from bot.services.events import RecordChanged
from bot.telegram.keyboards import button
from bot.telegram.prepared import PreparedKeyboard
from bot.telegram.presenter import Presenter
from bot.vocabulary import Actor, Role

if TYPE_CHECKING:
    from datetime import date

    from sqlmodel import Session
    from telegram import CallbackQuery, Message, Update, User

    from bot.models import EditDraft
    from bot.services import editing
    from bot.telegram.services import BotServices

logger = logging.getLogger(__name__)

_RANK = {Role.EDITOR: 1, Role.OWNER: 2}


class EditorHandlers:
    """Base of the role, edit and import handler groups."""

    def __init__(self, services: BotServices) -> None:
        self.services = services
        self.presenter = Presenter(services)

    async def _allowed(
        self, update: Update, minimum: Role, action: str
    ) -> tuple[Message, User] | None:
        """The message and user when the sender holds `minimum` (or more), else refuse."""
        message, user = update.effective_message, update.effective_user
        if message is None:
            return None
        if user is None or message.chat.type != ChatType.PRIVATE:
            logger.warning("Refused %s outside a private chat (chat %s)", action, message.chat.id)
            if message.chat.type != ChatType.CHANNEL:
                await self._reply(message, "admin/private_only.html.j2")
            return None
        with self.services.session() as session:
            role = admins.role_of(session, user.id)
        if role is None or _RANK[role] < _RANK[minimum]:
            logger.warning("Refused %s from user %s (role %s)", action, user.id, role)
            await self._reply(message, "admin/not_allowed.html.j2")
            return None
        return message, user

    async def _allowed_press(self, query: CallbackQuery, minimum: Role, action: str) -> bool:
        with self.services.session() as session:
            role = admins.role_of(session, query.from_user.id)
        if role is None or _RANK[role] < _RANK[minimum]:
            logger.warning(
                "Refused button %s from user %s (role %s)", action, query.from_user.id, role
            )
            await query.answer(
                self.services.renderer.render("admin/not_allowed.html.j2"), show_alert=True
            )
            return False
        return True

    def _published(self, applied: editing.Applied, user_id: int) -> None:
        fields = tuple(row.field for row in applied.changes if row.field)
        self.services.records_changed(
            RecordChanged(
                applied.record_type, applied.key, fields, Actor.telegram(user_id), applied.batch
            )
        )

    def _draft(
        self,
        session: Session,
        message: Message,
        user: User,
        kind: str,
        payload: dict[str, Any],
        *,
        stage: str = "preview",
    ) -> EditDraft:
        """Keep an edit awaiting this editor's next step in this chat."""
        return drafts.create(
            session,
            user_id=user.id,
            chat_id=message.chat.id,
            kind=kind,
            stage=stage,
            payload=payload,
            now=self.services.clock(),
        )

    def _today(self) -> date:
        return self.services.clock().date()

    async def _reply(
        self, message: Message, template: str, *, keyboard: Any = None, **context: Any
    ) -> None:
        await message.reply_text(
            self.services.renderer.render(template, **context),
            reply_markup=keyboard,
        )


def confirm_keyboard(handlers: EditorHandlers, draft_id: str) -> PreparedKeyboard:
    label = handlers.services.renderer.label
    return PreparedKeyboard(
        [[button(label("confirm"), "ok", draft_id), button(label("cancel"), "no", draft_id)]]
    )


def arguments(message: Message) -> str:
    """Everything after the command, quotes and all (context.args would drop the quoting)."""
    text = message.text or ""
    return text.split(maxsplit=1)[1] if len(text.split(maxsplit=1)) > 1 else ""
