"""Owners give and take roles: /grant, /revoke, /admins."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.services import admins
from bot.telegram.handlers.editors.base import EditorHandlers
from bot.vocabulary import Actor, Role

if TYPE_CHECKING:
    from telegram import Update
    from telegram.ext import ContextTypes

# Telegram user ids are positive and fit the database's 64-bit integer.
_MAX_USER_ID = 2**63 - 1


class RoleHandlers(EditorHandlers):
    async def grant(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        allowed = await self._allowed(update, Role.OWNER, "/grant")
        if allowed is None:
            return
        message, user = allowed
        args = context.args or []
        if (
            len(args) != 2
            or _user_id(args[0]) is None
            or args[1].lower() not in ("editor", "owner")
        ):
            await self._reply(message, "admin/usage.html.j2", command="grant")
            return
        with self.services.session() as session:
            change = admins.grant(
                session,
                by=Actor.telegram(user.id),
                by_user=user.id,
                user_id=int(args[0]),
                role=Role(args[1].lower()),
            )
        self.services.reload_admins()
        await self._reply(message, "admin/role_changed.html.j2", change=change)

    async def revoke(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        allowed = await self._allowed(update, Role.OWNER, "/revoke")
        if allowed is None:
            return
        message, user = allowed
        args = context.args or []
        if len(args) != 1 or _user_id(args[0]) is None:
            await self._reply(message, "admin/usage.html.j2", command="revoke")
            return
        try:
            with self.services.session() as session:
                change = admins.revoke(session, by=Actor.telegram(user.id), user_id=int(args[0]))
        except admins.RoleError as error:
            await self._reply(message, "admin/role_refused.html.j2", reason=str(error))
            return
        self.services.reload_admins()
        await self._reply(message, "admin/role_changed.html.j2", change=change)

    async def list_admins(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        allowed = await self._allowed(update, Role.OWNER, "/admins")
        if allowed is None:
            return
        with self.services.session() as session:
            team = admins.admins(session)
        await self._reply(allowed[0], "admin/admins.html.j2", team=team)


def _user_id(text: str) -> int | None:
    """The Telegram user id `text` names, or None (not a number, or no user could have it)."""
    if not text.isascii() or not text.isdigit():
        return None
    user_id = int(text)
    return user_id if 0 < user_id <= _MAX_USER_ID else None
