"""Owners give and take roles: /grant, /revoke, /admins."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.services import admins
from bot.telegram.handlers.access import private_sender, require_role
from bot.telegram.handlers.base import answers_refusals
from bot.telegram.handlers.editors.base import EditorHandlers
from bot.vocabulary import Actor, Role

if TYPE_CHECKING:
    from sqlmodel import Session
    from telegram import Update
    from telegram.ext import ContextTypes

# Telegram user ids are positive and fit the database's 64-bit integer.
_MAX_USER_ID = 2**63 - 1


class RoleHandlers(EditorHandlers):
    @answers_refusals
    async def grant(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        sender = private_sender(update, "/grant")
        if sender is None:
            return
        message, user = sender
        args = context.args or []

        def grant(session: Session) -> str:
            require_role(session, user.id, Role.OWNER, "/grant")
            if (
                len(args) != 2
                or _user_id(args[0]) is None
                or args[1].lower() not in ("editor", "owner")
            ):
                return self.render("admin/usage.html.j2", command="grant")
            change = admins.grant(
                session,
                by=Actor.telegram(user.id),
                by_user=user.id,
                user_id=int(args[0]),
                role=Role(args[1].lower()),
            )
            return self.render("admin/role_changed.html.j2", change=change)

        text = await self.services.run(grant)
        await self.services.reload_admins()
        await self.reply(message, text)

    @answers_refusals
    async def revoke(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        sender = private_sender(update, "/revoke")
        if sender is None:
            return
        message, user = sender
        args = context.args or []

        def revoke(session: Session) -> str:
            require_role(session, user.id, Role.OWNER, "/revoke")
            if len(args) != 1 or _user_id(args[0]) is None:
                return self.render("admin/usage.html.j2", command="revoke")
            change = admins.revoke(session, by=Actor.telegram(user.id), user_id=int(args[0]))
            return self.render("admin/role_changed.html.j2", change=change)

        try:
            text = await self.services.run(revoke)
        except admins.RoleError as error:
            await self.reply(message, self.render("admin/role_refused.html.j2", reason=str(error)))
            return
        await self.services.reload_admins()
        await self.reply(message, text)

    @answers_refusals
    async def list_admins(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        sender = private_sender(update, "/admins")
        if sender is None:
            return
        message, user = sender

        def team(session: Session) -> str:
            require_role(session, user.id, Role.OWNER, "/admins")
            return self.render("admin/admins.html.j2", team=admins.admins(session))

        await self.reply(message, await self.services.run(team))


def _user_id(text: str) -> int | None:
    """The Telegram user id `text` names, or None (not a number, or no user could have it)."""
    if not text.isascii() or not text.isdigit():
        return None
    user_id = int(text)
    return user_id if 0 < user_id <= _MAX_USER_ID else None
