"""Subscribing and its settings: /subscribe, /unsubscribe, /settings, /timezone, channels, and
what Telegram says about a chat (the bot blocked or removed, a group become a supergroup).

Who may change a chat's subscription is checked at every command, button press and typed
reply, never when a menu was drawn: anyone in their own private chat; in a group only its
administrators (an anonymous administrator too); a channel only an editor or owner, from
their private chat. Buttons name the chat they manage (`tw1|opt|<chat>|hour|8`), so a settings
message keeps working after a restart, and a forged chat id is refused like any other.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from telegram import ChatMemberAdministrator, ForceReply, Message
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ApplicationHandlerStop, filters

from bot.services import admins, digest, schedule, subscriptions
from bot.services import answers as a
from bot.services.questions import Intent, Question
from bot.services.subscriptions import Outcome, Setting, SettingError
from bot.telegram import keyboards
from bot.telegram.callbacks import Action, read_press
from bot.telegram.prepared import PreparedKeyboard
from bot.telegram.presenter import Presenter, rendered_html
from bot.vocabulary import Frequency, Topic

if TYPE_CHECKING:
    from datetime import datetime

    from sqlmodel import Session
    from telegram import (
        Bot,
        Chat,
        ChatFullInfo,
        ChatMember,
        InlineKeyboardMarkup,
        Update,
        User,
    )
    from telegram.ext import ContextTypes

    from bot.models import Subscriber
    from bot.telegram.services import BotServices

logger = logging.getLogger(__name__)

# The time-zone prompt starts with an invisible link naming the chat whose zone a reply sets:
# stateless, so a reply works after a restart or on another instance.
_PROMPT_LINK = re.compile(r"^https://t\.me/\w+\?start=tz_(?P<chat>-?\d{1,16})$")
# A channel as editors name it: @name, t.me/name, or its numeric id.
_CHANNEL_NAME = re.compile(r"^(?:@|(?:https?://)?t\.me/)?(?P<name>[A-Za-z]\w{3,31})$")
_CHANNEL_ID = re.compile(r"^-100\d{5,13}$")
_GROUPS = (ChatType.GROUP, ChatType.SUPERGROUP)
_ADMINS = (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)
_IN_CHAT = (*_ADMINS, ChatMemberStatus.MEMBER)
# The chart a subscriber with "chart in digest" gets after the digest text.
DIGEST_CHART = a.ChartAnswer(digest.DIGEST_CHART)


def timezone_prompt_target(message: Message) -> int | None:
    """The chat whose time zone `message` sets, when it replies to the bot's prompt."""
    replied = message.reply_to_message
    if replied is None or replied.from_user is None:
        return None
    if replied.from_user.id != message.get_bot().id:
        return None
    for entity in replied.entities:
        match = _PROMPT_LINK.fullmatch(entity.url or "")
        if match is not None:
            return int(match["chat"])
    return None


@dataclass(frozen=True, slots=True)
class _Channel:
    """A channel an editor named: its id, how to call it in replies, its title."""

    id: int
    name: str
    title: str | None = None


class TimezonePromptReplies(filters.MessageFilter):
    """Replies to the bot's time-zone prompt (handled before questions)."""

    def __init__(self) -> None:
        super().__init__(name="timezone_prompt_replies")

    def filter(self, message: Message) -> bool:
        return timezone_prompt_target(message) is not None


class SubscriptionHandlers:
    def __init__(self, services: BotServices) -> None:
        self.services = services
        self.presenter = Presenter(services)

    # -- commands in the chat itself --------------------------------------------------------

    async def subscribe(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or not await self._may_manage_here(message, context.bot):
            return
        with self.services.session() as session:
            subscription = subscriptions.subscribe(
                session,
                chat_id=message.chat.id,
                chat_type=message.chat.type,
                title=message.chat.effective_name,
                now=self.services.clock(),
                default_timezone=self.services.settings.default_timezone,
                added_by=_added_by(message),
            )
            text = self._render(
                "subscriptions/subscribed.html.j2",
                subscription=subscription,
                next_local=_next_local(subscription.subscriber),
                channel=None,
            )
            headline = None
            if subscription.outcome is not Outcome.ALREADY:
                headline = a.answer_question(
                    session, Question(text="", intent=Intent.DEFICIT), self.services.freshness()
                )
        await self._reply(message, text)
        if headline is not None:
            rendered = self.presenter.render(headline, bot_username=message.get_bot().username)
            await self.presenter.send(message, rendered)

    async def unsubscribe(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or not await self._may_manage_here(message, context.bot):
            return
        with self.services.session() as session:
            stopped = subscriptions.unsubscribe(
                session, chat_id=message.chat.id, now=self.services.clock()
            )
        await self._reply(
            message,
            self._render("subscriptions/unsubscribed.html.j2", stopped=stopped, channel=None),
        )

    async def settings(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/settings for this chat; /settings @channel for a channel (editors, in private)."""
        message = update.effective_message
        if message is None:
            return
        if context.args:
            await self._channel_settings(update, context)
            return
        if not await self._may_manage_here(message, context.bot):
            return
        with self.services.session() as session:
            subscriber = _active(subscriptions.find(session, chat_id=message.chat.id))
        if subscriber is None:
            text, keyboard = self._not_subscribed(message.chat.id, is_channel=False)
        else:
            text, keyboard = self._settings_page(subscriber, "main")
        await self._reply(message, text, keyboard)

    async def digest(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/digest: the digest now, as it would arrive (anyone may read it, as any answer).

        A subscribed chat gets its own topics and frequency, with the changes since its last
        digest; any other chat the weekly digest of every topic with recent changes.
        """
        message = update.effective_message
        if message is None:
            return
        with self.services.session() as session:
            subscriber = _active(subscriptions.find(session, chat_id=message.chat.id))
            if subscriber is None:
                topics, since, frequency = frozenset(digest.FOLLOWABLE), None, Frequency.WEEKLY
            else:
                topics = frozenset(Topic(topic) for topic in subscriber.topics)
                since, frequency = subscriber.last_digest_at, subscriber.frequency
            built = digest.build_digest(
                session,
                topics=topics,
                since=since,
                freshness=self.services.freshness(),
                frequency=frequency,
            )
            for part in digest.render_digest(self.services.renderer, built):
                await self._reply(message, part)
            if subscriber is not None and subscriber.include_chart:
                await self.presenter.send_chart(message, DIGEST_CHART, session)

    async def timezone(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/timezone NAME sets this chat's zone; /timezone alone asks for one."""
        message = update.effective_message
        if message is None or not await self._may_manage_here(message, context.bot):
            return
        typed = " ".join(context.args or [])
        if not typed:
            with self.services.session() as session:
                subscriber = _active(subscriptions.find(session, chat_id=message.chat.id))
            if subscriber is None:
                text, keyboard = self._not_subscribed(message.chat.id, is_channel=False)
                await self._reply(message, text, keyboard)
                return
            await self._prompt_timezone(message, subscriber, quote=True)
            return
        try:
            subscriber = self._change(message.chat.id, Setting.TIMEZONE, typed)
        except SettingError as error:
            await self._reply(
                message, self._setting_error(error), self._suggestions(message.chat.id, error)
            )
            return
        text, keyboard = self._settings_page(subscriber, "main", notice="timezone_set")
        await self._reply(message, text, keyboard)

    async def timezone_reply(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A reply to the time-zone prompt: set it, or say why not and ask again.

        Runs before the question handlers and stops the update there: a reply to the prompt
        is never also answered as a question.
        """
        message = update.effective_message
        target = timezone_prompt_target(message) if message is not None else None
        if message is None or target is None:
            return
        await self._timezone_typed(message, target, context.bot)
        raise ApplicationHandlerStop

    async def _timezone_typed(self, message: Message, target: int, bot: Bot) -> None:
        refusal = await self._refusal(
            bot,
            chat=message.chat,
            user=message.from_user,
            target=target,
            sender_chat=message.sender_chat,
        )
        if refusal is not None:
            await self._reply(
                message, self._render("subscriptions/refused.html.j2", reason=refusal)
            )
            return
        try:
            # In a group a reply may also mention the bot: "@TradeWatchBot Europe/Paris".
            typed = (message.text or "").replace(f"@{bot.username}", " ")
            subscriber = self._change(target, Setting.TIMEZONE, typed)
        except SettingError as error:
            with self.services.session() as session:
                current = _active(subscriptions.find(session, chat_id=target))
            if current is None or error.reason != "unknown_timezone":
                await self._reply(message, self._setting_error(error))
            else:
                await self._prompt_timezone(
                    message, current, quote=True, error=self._setting_error(error)
                )
            return
        text, keyboard = self._settings_page(subscriber, "main", notice="timezone_set")
        await self._reply(message, text, keyboard)

    # -- buttons ---------------------------------------------------------------------------

    async def press(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        pressed = read_press(query)
        if pressed is None:
            await self.presenter.expired(query)
            return
        action, message = pressed
        target = action.chat_id
        refusal = await self._refusal(
            context.bot, chat=message.chat, user=query.from_user, target=target
        )
        if refusal is None and action.verb == "sub" and target != message.chat.id:
            refusal = "not_allowed"  # channels are subscribed with /subscribe_channel
        if refusal is not None:
            logger.warning(
                "Refused %s for chat %s from user %s", query.data, target, query.from_user.id
            )
            await query.answer(
                self._render("subscriptions/refused.html.j2", reason=refusal), show_alert=True
            )
            return
        try:
            with self.services.session() as session:
                found = subscriptions.find(session, chat_id=target)
                subscriber = self._pressed(session, action, message, query.from_user)
        except SettingError as error:
            await query.answer(self._setting_error(error), show_alert=True)
            return
        await query.answer()
        if subscriber is None:
            is_channel = target != message.chat.id
            channel = found.title if found is not None and is_channel else None
            text, keyboard = self._not_subscribed(target, is_channel=is_channel, channel=channel)
        elif action.verb == "cfg" and action.arg("page") == "tzother":
            await self._prompt_timezone(message, subscriber, quote=False, presser=query.from_user)
            return
        else:
            page = action.arg("page") if action.verb == "cfg" else "main"
            text, keyboard = self._settings_page(subscriber, page)
        await self._edit(message, text, keyboard)

    def _pressed(
        self, session: Session, action: Action, message: Message, user: User
    ) -> Subscriber | None:
        """What a permitted press changes; the subscription shown next (None: not subscribed)."""
        target = action.chat_id
        if action.verb == "sub":
            return subscriptions.subscribe(
                session,
                chat_id=target,
                chat_type=message.chat.type,
                title=message.chat.effective_name,
                now=self.services.clock(),
                default_timezone=self.services.settings.default_timezone,
                added_by=None if message.chat.type == ChatType.PRIVATE else user.id,
            ).subscriber
        if _active(subscriptions.find(session, chat_id=target)) is None:
            return None
        if action.verb == "opt":
            return subscriptions.change_setting(
                session,
                chat_id=target,
                setting=Setting(action.arg("setting")),
                value=action.arg("value"),
                now=self.services.clock(),
            )
        return subscriptions.find(session, chat_id=target)

    # -- channels, managed by editors from a private chat ----------------------------------

    async def subscribe_channel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        allowed = await self._editor_in_private(update, "/subscribe_channel")
        if allowed is None:
            return
        message, user = allowed
        channel = await self._channel(message, context, "subscribe_channel")
        if channel is None:
            return
        name = channel.name
        problem = await self._cannot_post(context.bot, channel.id)
        if problem is not None:
            await self._reply(
                message,
                self._render("subscriptions/channel_problem.html.j2", reason=problem, name=name),
            )
            return
        with self.services.session() as session:
            subscription = subscriptions.subscribe(
                session,
                chat_id=channel.id,
                chat_type=ChatType.CHANNEL,
                title=channel.title,
                now=self.services.clock(),
                default_timezone=self.services.settings.default_timezone,
                added_by=user.id,
            )
            text = self._render(
                "subscriptions/subscribed.html.j2",
                subscription=subscription,
                next_local=_next_local(subscription.subscriber),
                channel=name,
            )
        logger.info("User %s subscribed channel %s", user.id, channel.id)
        await self._reply(message, text)

    async def unsubscribe_channel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        allowed = await self._editor_in_private(update, "/unsubscribe_channel")
        if allowed is None:
            return
        message, user = allowed
        channel = await self._channel(message, context, "unsubscribe_channel", removable=True)
        if channel is None:
            return
        chat_id, name = channel.id, channel.name
        with self.services.session() as session:
            subscriber = subscriptions.find(session, chat_id=chat_id)
            stopped = (
                subscriber is not None
                and subscriber.chat_type == ChatType.CHANNEL
                and subscriptions.unsubscribe(session, chat_id=chat_id, now=self.services.clock())
            )
        logger.info("User %s unsubscribed channel %s: %s", user.id, chat_id, stopped)
        await self._reply(
            message,
            self._render("subscriptions/unsubscribed.html.j2", stopped=stopped, channel=name),
        )

    async def _channel_settings(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        allowed = await self._editor_in_private(update, "/settings @channel")
        if allowed is None:
            return
        message = allowed[0]
        channel = await self._channel(message, context, "settings")
        if channel is None:
            return
        with self.services.session() as session:
            subscriber = _active(subscriptions.find(session, chat_id=channel.id))
        if subscriber is None or subscriber.chat_type != ChatType.CHANNEL:
            text, keyboard = self._not_subscribed(channel.id, is_channel=True, channel=channel.name)
        else:
            text, keyboard = self._settings_page(subscriber, "main")
        await self._reply(message, text, keyboard)

    # -- what Telegram tells about chats ----------------------------------------------------

    async def membership(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The bot's own membership changed: blocked, removed, demoted, or added to a group."""
        change = update.my_chat_member
        if change is None:
            return
        chat, old, new = change.chat, change.old_chat_member, change.new_chat_member
        reason = _gone_reason(chat.type, new)
        if reason is not None:
            with self.services.session() as session:
                subscriptions.deactivate(
                    session, chat_id=chat.id, reason=reason, now=self.services.clock()
                )
            return
        if chat.type in _GROUPS and not _in_chat(old) and _in_chat(new):
            # Added to a group (or the group became a supergroup, which arrives the same way).
            with self.services.session() as session:
                subscriber = _active(subscriptions.find(session, chat_id=chat.id))
            if subscriber is not None:
                return
            try:
                await context.bot.send_message(
                    chat.id,
                    self._render("subscriptions/added_to_group.html.j2"),
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
        with self.services.session() as session:
            subscriptions.migrate_chat(session, old_chat_id=old, new_chat_id=new)

    # -- authorisation ----------------------------------------------------------------------

    async def _may_manage_here(self, message: Message, bot: Bot) -> bool:
        """Whether the sender may change this chat's subscription; refuses (replies) if not."""
        refusal = await self._refusal(
            bot,
            chat=message.chat,
            user=message.from_user,
            target=message.chat.id,
            sender_chat=message.sender_chat,
        )
        if refusal is None:
            return True
        user_id = message.from_user.id if message.from_user else None
        logger.warning(
            "Refused a subscription command in chat %s from %s", message.chat.id, user_id
        )
        await self._reply(message, self._render("subscriptions/refused.html.j2", reason=refusal))
        return False

    async def _refusal(
        self,
        bot: Bot,
        *,
        chat: Chat,
        user: User | None,
        target: int,
        sender_chat: Chat | None = None,
    ) -> str | None:
        """None when this user, in `chat`, may manage the subscription of chat `target`."""
        if target == chat.id:
            if chat.type == ChatType.PRIVATE:
                return None
            if chat.type in _GROUPS:
                if sender_chat is not None and sender_chat.id == chat.id:
                    return None  # an anonymous administrator posts as the group itself
                if user is not None and await self._is_administrator(bot, chat.id, user.id):
                    return None
                return "group_admins_only"
            return "not_allowed"
        # Another chat's settings: only a channel's, by an editor, from their private chat.
        if chat.type != ChatType.PRIVATE or user is None:
            return "not_allowed"
        with self.services.session() as session:
            role = admins.role_of(session, user.id)
            subscriber = subscriptions.find(session, chat_id=target)
        if role is None or subscriber is None or subscriber.chat_type != ChatType.CHANNEL:
            return "not_allowed"
        return None

    async def _is_administrator(self, bot: Bot, chat_id: int, user_id: int) -> bool:
        try:
            member = await bot.get_chat_member(chat_id, user_id)
        except (BadRequest, Forbidden) as error:
            logger.info("No member status for %s in %s: %s", user_id, chat_id, error)
            return False
        return member.status in _ADMINS

    async def _editor_in_private(self, update: Update, action: str) -> tuple[Message, User] | None:
        message, user = update.effective_message, update.effective_user
        if message is None:
            return None
        if user is None or message.chat.type != ChatType.PRIVATE:
            logger.warning("Refused %s outside a private chat (chat %s)", action, message.chat.id)
            await self._reply(message, self._render("admin/private_only.html.j2"))
            return None
        with self.services.session() as session:
            role = admins.role_of(session, user.id)
        if role is None:
            logger.warning("Refused %s from user %s (no role)", action, user.id)
            await self._reply(message, self._render("admin/not_allowed.html.j2"))
            return None
        return message, user

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
        reference = _channel_reference(args[0]) if len(args) == 1 else None
        if reference is None:
            await self._reply(
                message,
                self._render(
                    "subscriptions/channel_problem.html.j2", reason="usage", command=command
                ),
            )
            return None
        try:
            chat = await context.bot.get_chat(reference)
        except (BadRequest, Forbidden) as error:
            logger.info("getChat %s failed: %s", reference, error)
            if removable and isinstance(reference, int):
                return _Channel(reference, str(reference))
            await self._reply(
                message,
                self._render(
                    "subscriptions/channel_problem.html.j2", reason="unknown", name=args[0]
                ),
            )
            return None
        if chat.type != ChatType.CHANNEL:
            await self._reply(
                message,
                self._render(
                    "subscriptions/channel_problem.html.j2",
                    reason="not_channel",
                    name=_display_name(chat),
                    chat_type=chat.type,
                ),
            )
            return None
        return _Channel(chat.id, _display_name(chat), chat.title)

    async def _cannot_post(self, bot: Bot, channel_id: int) -> str | None:
        """Why the bot cannot post in the channel ("not_admin", "cannot_post"), or None."""
        try:
            member = await bot.get_chat_member(channel_id, bot.id)
        except (BadRequest, Forbidden) as error:
            logger.info("No bot member status in %s: %s", channel_id, error)
            return "not_admin"
        if not isinstance(member, ChatMemberAdministrator):
            return "not_admin"
        return None if member.can_post_messages else "cannot_post"

    # -- rendering and replying -------------------------------------------------------------

    def _change(self, chat_id: int, setting: Setting, value: str) -> Subscriber:
        """One setting changed in its own transaction (a refusal rolls everything back)."""
        with self.services.session() as session:
            return subscriptions.change_setting(
                session, chat_id=chat_id, setting=setting, value=value, now=self.services.clock()
            )

    def _settings_page(
        self, subscriber: Subscriber, page: str, *, notice: str | None = None
    ) -> tuple[str, InlineKeyboardMarkup | None]:
        text = self._render(
            "subscriptions/settings.html.j2",
            subscriber=subscriber,
            next_local=_next_local(subscriber),
            page=page,
            notice=notice,
        )
        return text, keyboards.subscription_settings(subscriber, page, self.services.renderer)

    def _not_subscribed(
        self, chat_id: int, *, is_channel: bool, channel: str | None = None
    ) -> tuple[str, InlineKeyboardMarkup | None]:
        text = self._render(
            "subscriptions/not_subscribed.html.j2", is_channel=is_channel, channel=channel
        )
        if is_channel:
            return text, None
        return text, keyboards.subscribe_button(chat_id, self.services.renderer)

    def _setting_error(self, error: SettingError) -> str:
        return self._render(
            "subscriptions/setting_error.html.j2", reason=error.reason, details=error.details
        )

    def _suggestions(self, chat_id: int, error: SettingError) -> InlineKeyboardMarkup | None:
        """Buttons for the time zones a mistyped name may have meant (those that fit a button)."""
        rows = []
        for zone in error.details.get("suggestions", ()):
            try:
                rows.append(
                    [
                        keyboards.button(
                            self.services.renderer.label("sub_timezone", zone),
                            "opt",
                            chat_id,
                            "timezone",
                            zone,
                        )
                    ]
                )
            except ValueError:
                continue  # a name too long for Telegram's 64-byte button data
        return PreparedKeyboard(rows) if rows else None

    async def _prompt_timezone(
        self,
        message: Message,
        subscriber: Subscriber,
        *,
        quote: bool,
        presser: User | None = None,
        error: str | None = None,
    ) -> None:
        """Ask for a time zone with a ForceReply; in groups only the asker is prompted."""
        bot = message.get_bot()
        in_group = subscriber.chat_type in _GROUPS
        text = self._render(
            "subscriptions/timezone_prompt.html.j2",
            link=f"https://t.me/{bot.username}?start=tz_{subscriber.chat_id}",
            mention={"id": presser.id, "name": presser.first_name}
            if presser and in_group
            else None,
            title=subscriber.title if subscriber.chat_type != ChatType.PRIVATE else None,
            current=subscriber.timezone,
            error=rendered_html(error) if error else None,
        )
        placeholder = self.services.renderer.label("sub_timezone_placeholder")
        await message.reply_text(
            text,
            reply_markup=ForceReply(selective=True, input_field_placeholder=placeholder),
            do_quote=quote,
        )

    def _render(self, template: str, **context: Any) -> str:
        return self.services.renderer.render(template, **context)

    async def _reply(
        self, message: Message, text: str, keyboard: InlineKeyboardMarkup | None = None
    ) -> None:
        await message.reply_text(
            text,
            reply_markup=keyboard,
        )

    async def _edit(
        self, message: Message, text: str, keyboard: InlineKeyboardMarkup | None
    ) -> None:
        try:
            await message.edit_text(
                text,
                reply_markup=keyboard,
            )
        except BadRequest as error:
            if "message is not modified" not in str(error).lower():
                raise


def _active(subscriber: Subscriber | None) -> Subscriber | None:
    return subscriber if subscriber is not None and subscriber.active else None


def _next_local(subscriber: Subscriber) -> datetime | None:
    """The next digest on the subscriber's clock, for telling them when it arrives."""
    if subscriber.next_digest_at is None:
        return None
    return schedule.local_time(subscriber.next_digest_at, subscriber.timezone)


def _added_by(message: Message) -> int | None:
    """Who subscribed a group (None in a private chat, or for an anonymous administrator)."""
    if message.chat.type == ChatType.PRIVATE or message.sender_chat is not None:
        return None
    return message.from_user.id if message.from_user else None


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
