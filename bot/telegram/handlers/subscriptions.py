"""Subscribing and its settings: /subscribe, /unsubscribe, /settings, /timezone, /digest, the
settings buttons and replies to the time-zone prompt.

Who may change a chat's subscription is checked at every command, button press and typed
reply, never when a menu was drawn (`access.subscription_manager`): anyone in their own private
chat; in a group only its administrators (an anonymous administrator too); a channel only an
editor or owner, from their private chat (bot/telegram/handlers/channels.py). Buttons name the
chat they manage (`tw1|opt|<chat>|hour|8`), so a settings message keeps working after a
restart, and a forged chat id is refused like any other.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from telegram import Message
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop, filters

from bot.i18n import active_language
from bot.services import answers as a
from bot.services import digest, languages, subscriptions
from bot.services.questions import Intent, Question
from bot.services.subscriptions import Outcome, Setting, SettingError
from bot.telegram.handlers.access import (
    SUBSCRIPTION_REFUSED,
    RefusalError,
    SubscriptionManager,
    subscription_manager,
)
from bot.telegram.handlers.base import Press, answers_refusals, button_press
from bot.telegram.handlers.subscription_pages import Page, SubscriptionPages, active
from bot.vocabulary import Frequency, NewsScope, Topic

if TYPE_CHECKING:
    from sqlmodel import Session
    from telegram import Bot, Update, User
    from telegram.ext import ContextTypes

    from bot.models import Subscriber
    from bot.telegram.answer_cache import Rendered
    from bot.telegram.callbacks import Action
    from bot.telegram.handlers.channels import ChannelHandlers
    from bot.telegram.presenter import ChartData
    from bot.telegram.services import BotServices

logger = logging.getLogger(__name__)

# The time-zone prompt starts with an invisible link naming the chat whose zone a reply sets:
# stateless, so a reply works after a restart or on another instance.
_PROMPT_LINK = re.compile(r"^https://t\.me/\w+\?start=tz_(?P<chat>-?\d{1,16})$")


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


class TimezonePromptReplies(filters.MessageFilter):
    """Replies to the bot's time-zone prompt (handled before questions)."""

    def __init__(self) -> None:
        super().__init__(name="timezone_prompt_replies")

    def filter(self, message: Message) -> bool:
        return timezone_prompt_target(message) is not None


class SubscriptionHandlers(SubscriptionPages):
    def __init__(self, services: BotServices, channels: ChannelHandlers) -> None:
        super().__init__(services)
        self.channels = channels  # /settings @channel

    @answers_refusals
    async def subscribe(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None:
            return
        await _manager_here(message, context.bot)
        chat, username = message.chat, message.get_bot().username

        now, language = self.services.clock(), active_language()

        def subscribe(session: Session) -> tuple[str, Rendered | None]:
            subscription = subscriptions.subscribe(
                session,
                chat_id=chat.id,
                chat_type=chat.type,
                title=chat.effective_name,
                now=now,
                default_timezone=self.services.settings.default_timezone,
                added_by=_added_by(message),
            )
            # Digests go out in the language this chat is answered in now, until it chooses.
            languages.keep_if_unset(session, chat_id=chat.id, language=language, now=now)
            headline = None
            if subscription.outcome is not Outcome.ALREADY:
                answer = a.answer_question(
                    session, Question(text="", intent=Intent.DEFICIT), self.services.freshness()
                )
                headline = self.presenter.render(answer, bot_username=username)
            return self.subscribed(subscription, channel=None), headline

        text, headline = await self.services.run(subscribe)
        if await self.services.chat_language(chat.id) is None:
            self.services.remember_chat_language(chat.id, language)
        await self.reply(message, text)
        if headline is not None:
            await self.presenter.send(message, headline)

    @answers_refusals
    async def unsubscribe(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None:
            return
        await _manager_here(message, context.bot)
        chat_id = message.chat.id
        stopped = await self.services.run(
            lambda session: subscriptions.unsubscribe(
                session, chat_id=chat_id, now=self.services.clock()
            )
        )
        text = self.render("subscriptions/unsubscribed.html.j2", stopped=stopped, channel=None)
        await self.reply(message, text)

    @answers_refusals
    async def settings(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/settings for this chat; /settings @channel for a channel (editors, in private)."""
        message = update.effective_message
        if message is None:
            return
        if context.args:
            await self.channels.settings(update, context)
            return
        await _manager_here(message, context.bot)
        chat_id = message.chat.id
        await self.reply(message, *await self.services.run(lambda s: self._page(s, chat_id)))

    async def digest(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/digest: the digest now, as it would arrive (anyone may read it, as any answer).

        A subscribed chat gets its own topics and frequency, with the changes since its last
        digest; any other chat the weekly digest of every topic with recent changes.
        """
        message = update.effective_message
        if message is None:
            return
        chat_id = message.chat.id

        def build(session: Session) -> tuple[list[str], ChartData | None]:
            subscriber = active(subscriptions.find(session, chat_id=chat_id))
            scope = NewsScope.PUBLISHED
            if subscriber is None:
                topics, since, frequency = frozenset(digest.FOLLOWABLE), None, Frequency.WEEKLY
            else:
                topics = frozenset(Topic(topic) for topic in subscriber.topics)
                since, frequency = subscriber.last_digest_at, subscriber.frequency
                scope = subscriber.news_scope
            built = digest.build_digest(
                session,
                topics=topics,
                since=since,
                freshness=self.services.freshness(),
                frequency=frequency,
                news_scope=scope,
            )
            chart = None
            if subscriber is not None and subscriber.include_chart:
                chart = self.presenter.chart_data(session, digest.DIGEST_CHART)
            return list(digest.render_digest(self.services.renderer, built)), chart

        parts, chart = await self.services.run(build)
        for part in parts:
            await self.reply(message, part)
        if chart is not None:
            await self.presenter.send_chart(message, chart)

    @answers_refusals
    async def timezone(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/timezone NAME sets this chat's zone; /timezone alone asks for one."""
        message = update.effective_message
        if message is None:
            return
        manager = await _manager_here(message, context.bot)
        chat_id = message.chat.id
        typed = " ".join(context.args or [])
        if not typed:
            subscriber = await self.services.run(
                lambda session: active(subscriptions.find(session, chat_id=chat_id))
            )
            if subscriber is None:
                await self.reply(message, *self.not_subscribed(chat_id, is_channel=False))
                return
            await self.prompt_timezone(message, subscriber, quote=True)
            return
        try:
            page = await self.services.run(lambda session: self._set_zone(session, manager, typed))
        except SettingError as error:
            await self.reply(message, self.setting_error(error), self.suggestions(chat_id, error))
            return
        await self.reply(message, *page)

    async def timezone_reply(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A reply to the time-zone prompt: set it, or say why not and ask again.

        Runs before the question handlers and stops the update there: a reply to the prompt
        is never also answered as a question.
        """
        message = update.effective_message
        target = timezone_prompt_target(message) if message is not None else None
        if message is None or target is None:
            return
        try:
            await self._timezone_typed(message, target, context.bot)
        except RefusalError as refused:
            await self.reply(message, self.refusal(refused))
        raise ApplicationHandlerStop

    async def _timezone_typed(self, message: Message, target: int, bot: Bot) -> None:
        manager = await subscription_manager(
            bot,
            chat=message.chat,
            user=message.from_user,
            target=target,
            sender_chat=message.sender_chat,
        )
        # In a group a reply may also mention the bot: "@TradeWatchBot Europe/Paris".
        typed = (message.text or "").replace(f"@{bot.username}", " ")
        try:
            page = await self.services.run(lambda session: self._set_zone(session, manager, typed))
        except SettingError as error:
            current = await self.services.run(
                lambda session: active(subscriptions.find(session, chat_id=target))
            )
            if current is None or error.reason != "unknown_timezone":
                await self.reply(message, self.setting_error(error))
            else:
                await self.prompt_timezone(
                    message, current, quote=True, error=self.setting_error(error)
                )
            return
        await self.reply(message, *page)

    @button_press
    async def press(self, press: Press, context: ContextTypes.DEFAULT_TYPE) -> None:
        action, message, user = press.action, press.message, press.user
        target = action.chat_id
        manager = await subscription_manager(
            context.bot, chat=message.chat, user=user, target=target
        )
        if action.verb == "sub" and target != message.chat.id:
            # Channels are subscribed with /subscribe_channel.
            logger.warning("Refused %s for chat %s from user %s", press.query.data, target, user.id)
            raise RefusalError(SUBSCRIPTION_REFUSED, reason="not_allowed")

        def pressed(session: Session) -> Page | Subscriber:
            manager.confirm(session)
            found = subscriptions.find(session, chat_id=target)
            subscriber = self._pressed(session, action, message, user)
            if subscriber is None:
                is_channel = target != message.chat.id
                channel = found.title if found is not None and is_channel else None
                return self.not_subscribed(target, is_channel=is_channel, channel=channel)
            if action.verb == "cfg" and action.arg("page") == "tzother":
                return subscriber  # asked for a zone by name: the prompt follows
            page = action.arg("page") if action.verb == "cfg" else "main"
            return self.settings_page(session, subscriber, page)

        try:
            shown = await self.services.run(pressed)
        except SettingError as error:
            await press.query.answer(self.setting_error(error), show_alert=True)
            return
        await press.query.answer()
        if action.verb == "sub" and await self.services.chat_language(target) is None:
            self.services.remember_chat_language(target, active_language())
        if isinstance(shown, tuple):
            await self.presenter.replace(message, *shown)
        else:
            await self.prompt_timezone(message, shown, quote=False, presser=user)

    def _pressed(
        self, session: Session, action: Action, message: Message, user: User
    ) -> Subscriber | None:
        """What a permitted press changes; the subscription shown next (None: not subscribed)."""
        target = action.chat_id
        if action.verb == "sub":
            now = self.services.clock()
            subscriber = subscriptions.subscribe(
                session,
                chat_id=target,
                chat_type=message.chat.type,
                title=message.chat.effective_name,
                now=now,
                default_timezone=self.services.settings.default_timezone,
                added_by=None if message.chat.type == ChatType.PRIVATE else user.id,
            ).subscriber
            # As /subscribe: digests go out in the language this chat is answered in now.
            languages.keep_if_unset(session, chat_id=target, language=active_language(), now=now)
            return subscriber
        if active(subscriptions.find(session, chat_id=target)) is None:
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

    def _page(self, session: Session, chat_id: int) -> Page:
        subscriber = active(subscriptions.find(session, chat_id=chat_id))
        if subscriber is None:
            return self.not_subscribed(chat_id, is_channel=False)
        return self.settings_page(session, subscriber, "main")

    def _set_zone(self, session: Session, manager: SubscriptionManager, typed: str) -> Page:
        """Set the time zone typed for the manager's chat (a refusal changes nothing)."""
        manager.confirm(session)
        subscriber = subscriptions.change_setting(
            session,
            chat_id=manager.target,
            setting=Setting.TIMEZONE,
            value=typed,
            now=self.services.clock(),
        )
        return self.settings_page(session, subscriber, "main", notice="timezone_set")


async def _manager_here(message: Message, bot: Bot) -> SubscriptionManager:
    """The sender as manager of this chat's own subscription (RefusalError if they may not)."""
    return await subscription_manager(
        bot,
        chat=message.chat,
        user=message.from_user,
        target=message.chat.id,
        sender_chat=message.sender_chat,
    )


def _added_by(message: Message) -> int | None:
    """Who subscribed a group (None in a private chat, or for an anonymous administrator)."""
    if message.chat.type == ChatType.PRIVATE or message.sender_chat is not None:
        return None
    return message.from_user.id if message.from_user else None
