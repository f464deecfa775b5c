"""/language: the language a chat reads in (answers, digests and alerts).

Anyone in their own private chat; a group's administrators for the group; editors for a
channel, from their private chat (`/language @channel hi`), as for a channel's other settings.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.i18n import active_language
from bot.services import languages
from bot.telegram import keyboards
from bot.telegram.handlers.access import SubscriptionManager, subscription_manager
from bot.telegram.handlers.base import HandlerGroup, Press, answers_refusals, button_press
from bot.vocabulary import Language

if TYPE_CHECKING:
    from sqlmodel import Session
    from telegram import Message, Update
    from telegram.ext import ContextTypes

    from bot.telegram.handlers.channels import ChannelHandlers
    from bot.telegram.services import BotServices

logger = logging.getLogger(__name__)

# What may follow /language, as people type it: codes, and each language's name in both.
_NAMES = {
    "en": Language.EN,
    "english": Language.EN,
    "angrezi": Language.EN,
    "अंग्रेज़ी": Language.EN,
    "अंग्रेजी": Language.EN,
    "hi": Language.HI,
    "hindi": Language.HI,
    "हिन्दी": Language.HI,
    "हिंदी": Language.HI,
}


def language_named(text: str) -> Language | None:
    return _NAMES.get(text.strip().lower()) or Language.from_code(text)


class LanguageHandlers(HandlerGroup):
    def __init__(self, services: BotServices, channels: ChannelHandlers) -> None:
        super().__init__(services)
        self.channels = channels  # /language @channel hi

    @answers_refusals
    async def language(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/language shows the choice as buttons; /language hi (or हिन्दी, english) sets it."""
        message = update.effective_message
        if message is None:
            return
        args = list(context.args or [])
        target = message.chat.id
        if args and (args[0].startswith("@") or args[0].lstrip("-").isdigit()):
            channel = await self.channels.named_channel(message, args[0], "language")
            if channel is None:
                return
            target = channel
            args = args[1:]
        manager = await subscription_manager(
            message.get_bot(),
            chat=message.chat,
            user=message.from_user,
            target=target,
            sender_chat=message.sender_chat,
        )
        if not args:
            await self._prompt(message, target)
            return
        chosen = language_named(" ".join(args))
        if chosen is None:
            typed = " ".join(args)[:40]
            text = self.render("language.html.j2", unknown=typed, current=active_language())
            await self.reply(message, text, keyboards.languages(target, self.services.renderer))
            return
        await self.reply(message, await self._choose(manager, chosen))

    @button_press
    async def press(self, press: Press, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A language button: checked like the command (a forged chat id is refused)."""
        target, chosen = int(press.action.args["chat"]), Language(press.action.args["language"])
        message = press.message
        manager = await subscription_manager(
            message.get_bot(), chat=message.chat, user=press.user, target=target
        )
        text = await self._choose(manager, chosen)
        await press.query.answer()
        await self.presenter.replace(message, text, None)

    async def _prompt(self, message: Message, target: int) -> None:
        current = await self.services.chat_language(target) or active_language()
        text = self.render("language.html.j2", unknown=None, current=current)
        await self.reply(message, text, keyboards.languages(target, self.services.renderer))

    async def _choose(self, manager: SubscriptionManager, chosen: Language) -> str:
        now, target = self.services.clock(), manager.target

        def choose(session: Session) -> None:
            manager.confirm(session)  # an editor managing a channel: checked in the database
            languages.choose(session, chat_id=target, language=chosen, now=now)

        await self.services.run(choose)
        self.services.remember_chat_language(target, chosen)
        # The confirmation is the first text in the new language.
        return self.services.renderer.render("language_set.html.j2", language=chosen)
