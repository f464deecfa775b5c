"""Channels, managed by editors from their private chat (/subscribe_channel,
/unsubscribe_channel, /settings @channel), and what Telegram says about chats: the bot blocked
or removed, added to a group, a group become a supergroup.

The editor's role is checked before the bot asks Telegram about the channel (`getChat`, then
`getChatMember` to see that the bot may post there).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from telegram import ChatMemberAdministrator
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.services import languages, subscriptions
from bot.telegram.handlers.access import ADMINISTRATORS, GROUPS, private_sender, require_role
from bot.telegram.handlers.base import answers_refusals
from bot.telegram.handlers.subscription_pages import Page, SubscriptionPages, active
from bot.vocabulary import Role

if TYPE_CHECKING:
    from sqlmodel import Session
    from telegram import Bot, ChatFullInfo, ChatMember, Message, Update, User
    from telegram.ext import ContextTypes

logger = logging.getLogger(__name__)

# A channel as editors name it: @name, t.me/name, or its numeric id.
_CHANNEL_NAME = re.compile(r"^(?:@|(?:https?://)?t\.me/)?(?P<name>[A-Za-z]\w{3,31})$")
_CHANNEL_ID = re.compile(r"^-100\d{5,13}$")
_IN_CHAT = (*ADMINISTRATORS, ChatMemberStatus.MEMBER)


@dataclass(frozen=True, slots=True)
class _Channel:
    """A channel an editor named: its id, how to call it in replies, its title."""

    id: int
    name: str
    title: str | None = None


class ChannelHandlers(SubscriptionPages):
    @answers_refusals
    async def subscribe_channel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        editor = await self._editor(update, "/subscribe_channel")
        if editor is None:
            return
        message, user = editor
        channel = await self._channel(message, context, "subscribe_channel")
        if channel is None:
            return
        problem = await _cannot_post(context.bot, channel.id)
        if problem is not None:
            text = self.render(
                "subscriptions/channel_problem.html.j2", reason=problem, name=channel.name
            )
            await self.reply(message, text)
            return

        def subscribe(session: Session) -> str:
            subscription = subscriptions.subscribe(
                session,
                chat_id=channel.id,
                chat_type=ChatType.CHANNEL,
                title=channel.title,
                now=self.services.clock(),
                default_timezone=self.services.settings.default_timezone,
                added_by=user.id,
            )
            return self.subscribed(subscription, channel=channel.name)

        text = await self.services.run(subscribe)
        logger.info("User %s subscribed channel %s", user.id, channel.id)
        await self.reply(message, text)

    @answers_refusals
    async def unsubscribe_channel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        editor = await self._editor(update, "/unsubscribe_channel")
        if editor is None:
            return
        message, user = editor
        channel = await self._channel(message, context, "unsubscribe_channel", removable=True)
        if channel is None:
            return

        def unsubscribe(session: Session) -> bool:
            subscriber = subscriptions.find(session, chat_id=channel.id)
            return (
                subscriber is not None
                and subscriber.chat_type == ChatType.CHANNEL
                and subscriptions.unsubscribe(
                    session, chat_id=channel.id, now=self.services.clock()
                )
            )

        stopped = await self.services.run(unsubscribe)
        logger.info("User %s unsubscribed channel %s: %s", user.id, channel.id, stopped)
        text = self.render(
            "subscriptions/unsubscribed.html.j2", stopped=stopped, channel=channel.name
        )
        await self.reply(message, text)

    @answers_refusals
    async def settings(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/settings @channel: the channel's settings, with buttons that manage it from here."""
        editor = await self._editor(update, "/settings @channel")
        if editor is None:
            return
        message = editor[0]
        channel = await self._channel(message, context, "settings")
        if channel is None:
            return

        def page(session: Session) -> Page:
            subscriber = active(subscriptions.find(session, chat_id=channel.id))
            if subscriber is None or subscriber.chat_type != ChatType.CHANNEL:
                return self.not_subscribed(channel.id, is_channel=True, channel=channel.name)
            return self.settings_page(session, subscriber, "main")

        await self.reply(message, *await self.services.run(page))

    async def membership(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The bot's own membership changed: blocked, removed, demoted, or added to a group."""
        change = update.my_chat_member
        if change is None:
            return
        chat, old, new = change.chat, change.old_chat_member, change.new_chat_member
        reason = _gone_reason(chat.type, new)
        if reason is not None:
            await self.services.run(
                lambda session: subscriptions.deactivate(
                    session, chat_id=chat.id, reason=reason, now=self.services.clock()
                )
            )
            return
        if chat.type in GROUPS and not _in_chat(old) and _in_chat(new):
            # Added to a group (or the group became a supergroup, which arrives the same way).
            subscriber = await self.services.run(
                lambda session: active(subscriptions.find(session, chat_id=chat.id))
            )
            if subscriber is not None:
                return
            try:
                await context.bot.send_message(
                    chat.id, self.render("subscriptions/added_to_group.html.j2")
                )
            except TelegramError as error:
                logger.info("Could not greet chat %s: %s", chat.id, error)

    async def migrated(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A group became a supergroup: Telegram says so in both chats; the first one moves it."""
        message = update.effective_message
        if message is None:
            return
        if message.migrate_to_chat_id is not None:
            old, new = message.chat.id, message.migrate_to_chat_id
        elif message.migrate_from_chat_id is not None:
            old, new = message.migrate_from_chat_id, message.chat.id
        else:
            return
        now = self.services.clock()

        def move(session: Session) -> None:
            subscriptions.migrate_chat(session, old_chat_id=old, new_chat_id=new)
            languages.move(session, old_chat_id=old, new_chat_id=new, now=now)

        await self.services.run(move)
        await self.services.reload_chat_languages()

    async def _editor(self, update: Update, action: str) -> tuple[Message, User] | None:
        """The message and its sender, an editor or owner in their private chat (else refused)."""
        sender = private_sender(update, action)
        if sender is not None:
            user_id = sender[1].id
            await self.services.run(
                lambda session: require_role(session, user_id, Role.EDITOR, action)
            )
        return sender

    async def _channel(
        self,
        message: Message,
        context: ContextTypes.DEFAULT_TYPE,
        command: str,
        *,
        removable: bool = False,
    ) -> _Channel | None:
        """The channel named in the command's arguments, or None after saying what is wrong.

        `removable`: a numeric id Telegram no longer shows (the bot was removed) still names
        the channel, so its subscription can be stopped.
        """
        args = context.args or []
        return await self._channel_named(
            message, args[0] if len(args) == 1 else None, command, removable=removable
        )

    async def named_channel(self, message: Message, name: str, command: str) -> int | None:
        """The id of the channel `name` (@name or its numeric id), or None after saying what is
        wrong. Whether the sender may manage it is checked by the caller."""
        channel = await self._channel_named(message, name, command)
        return None if channel is None else channel.id

    async def _channel_named(
        self, message: Message, name: str | None, command: str, *, removable: bool = False
    ) -> _Channel | None:
        reference = _channel_reference(name) if name is not None else None
        problem: dict[str, object] = {"reason": "usage", "command": command}
        if reference is not None:
            try:
                chat = await message.get_bot().get_chat(reference)
            except (BadRequest, Forbidden) as error:
                logger.info("getChat %s failed: %s", reference, error)
                if removable and isinstance(reference, int):
                    return _Channel(reference, str(reference))
                problem = {"reason": "unknown", "name": name}
            else:
                if chat.type == ChatType.CHANNEL:
                    return _Channel(chat.id, _display_name(chat), chat.title)
                problem = {
                    "reason": "not_channel",
                    "name": _display_name(chat),
                    "chat_type": chat.type,
                }
        await self.reply(message, self.render("subscriptions/channel_problem.html.j2", **problem))
        return None


async def _cannot_post(bot: Bot, channel_id: int) -> str | None:
    """Why the bot cannot post in the channel ("not_admin", "cannot_post"), or None."""
    try:
        member = await bot.get_chat_member(channel_id, bot.id)
    except (BadRequest, Forbidden) as error:
        logger.info("No bot member status in %s: %s", channel_id, error)
        return "not_admin"
    if not isinstance(member, ChatMemberAdministrator):
        return "not_admin"
    return None if member.can_post_messages else "cannot_post"


def _in_chat(member: ChatMember) -> bool:
    if member.status == ChatMemberStatus.RESTRICTED:
        return bool(getattr(member, "is_member", False))
    return member.status in _IN_CHAT


def _gone_reason(chat_type: str, member: ChatMember) -> str | None:
    """Why the bot can no longer deliver to the chat after this change, or None."""
    if chat_type == ChatType.PRIVATE:
        return "blocked by the user" if member.status == ChatMemberStatus.BANNED else None
    if chat_type == ChatType.CHANNEL:
        if not isinstance(member, ChatMemberAdministrator):
            return "removed from the channel"
        return None if member.can_post_messages else "may no longer post in the channel"
    return None if _in_chat(member) else "removed from the group"


def _channel_reference(text: str) -> str | int | None:
    if _CHANNEL_ID.fullmatch(text):
        return int(text)
    match = _CHANNEL_NAME.fullmatch(text)
    return f"@{match['name']}" if match is not None else None


def _display_name(chat: ChatFullInfo) -> str:
    if chat.username:
        return f"@{chat.username}"
    return chat.title or str(chat.id)
