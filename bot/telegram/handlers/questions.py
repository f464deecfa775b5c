"""Questions: the topic commands, plain-English messages, and what is not a question."""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING

from telegram import MessageEntity
from telegram.constants import ChatType

from bot.i18n import active_language, using_language
from bot.services import answers as a
from bot.services.overview import overview
from bot.services.questions import Catalog, Intent, Question, parse_question
from bot.services.questions.language import question_language
from bot.telegram import keyboards
from bot.telegram.answer_cache import Rendered, normalise
from bot.telegram.handlers.base import HandlerGroup
from bot.telegram.presenter import ChartData

if TYPE_CHECKING:
    from sqlmodel import Session
    from telegram import Message, Update
    from telegram.ext import ContextTypes

# /start deep links: t.me/<bot>?start=pass-nathu-la opens that record.
_DEEP_LINK = re.compile(r"^(?P<kind>pass|deal|flight|history)-(?P<key>[a-z0-9-]{1,40})$")

# Which intent each topic command asks for; its arguments are parsed like a question.
COMMAND_INTENTS = {
    "deficit": Intent.DEFICIT,
    "trade": Intent.TRADE,
    "deals": Intent.DEALS,
    "passes": Intent.PASSES,
    "pass": Intent.PASS,
    "flights": Intent.FLIGHTS,
    "history": Intent.HISTORY,
    "chart": Intent.CHART,
    "sources": Intent.SOURCES,
    "news": Intent.NEWS,
}


class QuestionHandlers(HandlerGroup):
    async def command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Any topic command: `/pass shipki la` is the question "shipki la" asked as a pass."""
        message = update.effective_message
        if message is None or message.text is None:
            return
        name = message.text.split()[0].lstrip("/").split("@")[0].lower()
        arguments = " ".join(context.args or [])
        await self._answer(message, arguments, intent=COMMAND_INTENTS[name])

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None:
            return
        link = _DEEP_LINK.fullmatch(context.args[0]) if context.args else None
        if link is not None:
            intent = Intent.HISTORY if link["kind"] == "history" else None
            await self._answer(message, link["key"].replace("-", " "), intent=intent)
            return
        await self._reply_text(message, "start.html.j2", with_menu=True)

    async def help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_message is not None:
            await self._reply_text(update.effective_message, "help.html.j2", with_menu=True)

    async def text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A plain-English question: always in private; in groups only when addressed."""
        message = update.effective_message
        if message is None or message.text is None:
            return
        text = message.text
        if message.chat.type != ChatType.PRIVATE:
            addressed = _strip_mention(message, context.bot.username)
            if addressed is None:
                return  # group chatter not meant for the bot
            text = addressed
        await self._answer(message, text)

    async def not_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Stickers, photos, voice...: say what the bot understands (private chats only)."""
        if update.effective_message is not None:
            await self._reply_text(update.effective_message, "not_text.html.j2", with_menu=True)

    async def unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A command no handler took, in a private chat: say so, unless it names another bot."""
        message = update.effective_message
        if message is None or not message.text:
            return
        name, _, target = message.text.split(maxsplit=1)[0].lstrip("/").partition("@")
        if target and target.lower() != context.bot.username.lower():
            return  # "/help@OtherBot": not for this bot
        text = self.render("unknown_command.html.j2", command=name[:64])
        await self.reply(message, text, keyboards.main_menu(self.services.renderer))

    async def _answer(self, message: Message, text: str, *, intent: Intent | None = None) -> None:
        # A question typed in Devanagari is answered in Hindi, whatever the chat reads in.
        language = question_language(text) or active_language()
        key = ("message", intent, normalise(text), self.services.clock().date(), language)
        with using_language(language):
            rendered = self.services.answers.get(key)
            if rendered is None:
                username = message.get_bot().username
                shown = await self.services.run(
                    lambda session: self._rendered(session, text, intent, username)
                )
                if isinstance(shown, ChartData):
                    await self.presenter.send_chart(message, shown)
                    return
                rendered = shown
                if rendered.cacheable:
                    self.services.answers.put(key, rendered)
            await self.presenter.send(message, rendered)

    def _rendered(
        self, session: Session, text: str, intent: Intent | None, bot_username: str
    ) -> Rendered | ChartData:
        """The answer to `text`, rendered (or the data of the chart it asks for)."""
        # A bare command ("/deficit") names nothing: no need to read the names.
        catalog = a.load_catalog(session) if text.strip() else Catalog(())
        question = parse_question(text, catalog)
        answer: a.Answer
        if intent is Intent.NEWS:  # `/news [topic or name]`: the list alone, no status card
            answer = a.news_listing(session, question if text.strip() else None)
        elif intent is not None and text.strip() and not _understood_for(intent, question):
            answer = a.BadArgumentsAnswer(intent.value, text.strip()[:100])
        else:
            if intent is not None:
                question = dataclasses.replace(question, intent=intent)
            answer = a.answer_question(session, question, self.services.freshness())
        return self.presenter.answer_or_chart(session, answer, bot_username=bot_username)

    async def _reply_text(self, message: Message, template: str, *, with_menu: bool) -> None:
        username = message.get_bot().username
        text = await self.services.run(
            lambda session: self.render(template, overview=overview(session), bot_username=username)
        )
        await self.reply(
            message, text, keyboards.main_menu(self.services.renderer) if with_menu else None
        )


def _understood_for(intent: Intent, question: Question) -> bool:
    """Whether a command's arguments meant something for that command.

    Names that match nothing are answered by the record lookups themselves ("I don't know a
    border pass called ..."); figure commands need a period, a series or a quantity.
    """
    if intent in (Intent.PASS, Intent.HISTORY, Intent.DEALS, Intent.FLIGHTS):
        return True
    if intent is Intent.SOURCES:
        return bool(question.amounts)  # `/sources 116.12`: that figure's source
    if intent is Intent.PASSES:
        return False
    return bool(question.periods or question.series or question.quantity or question.since_year)


def _strip_mention(message: Message, username: str) -> str | None:
    """The text without the bot's @mention, when the message mentions or replies to the bot."""
    text = message.text or ""
    mention = f"@{username}".lower()
    for entity, value in message.parse_entities([MessageEntity.MENTION]).items():
        if value.lower() == mention:
            return (text[: entity.offset] + text[entity.offset + entity.length :]).strip()
    replied = message.reply_to_message
    if (
        replied is not None
        and replied.from_user is not None
        and replied.from_user.username == username
    ):
        return text
    return None
