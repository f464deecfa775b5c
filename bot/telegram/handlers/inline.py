"""Inline mode: `@TradeWatchBot nathu` in any chat offers sourced answer cards to post."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from telegram import InlineQueryResultArticle, InputTextMessageContent

from bot.i18n import active_language, using_language
from bot.services import answers as a
from bot.services.questions import Intent, Question, parse_question
from bot.services.questions.language import question_language
from bot.telegram.handlers.base import HandlerGroup
from bot.telegram.plain import html_to_text
from bot.telegram.presenter import split_html

if TYPE_CHECKING:
    from sqlmodel import Session
    from telegram import Update
    from telegram.ext import ContextTypes

MAX_RESULTS = 6
# Offered for an empty query, and after the answer to a query, when they differ from it.
_DEFAULT_INTENTS = (Intent.DEFICIT, Intent.PASSES, Intent.DEALS, Intent.FLIGHTS)


class InlineHandlers(HandlerGroup):
    async def query(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        inline = update.inline_query
        if inline is None:
            return
        text = inline.query
        with using_language(question_language(text) or active_language()):
            results = await self.services.run(
                lambda session: [
                    self._card(answer) for answer in self._answers(session, text)[:MAX_RESULTS]
                ]
            )
        # Personal: Telegram would otherwise serve one user's cached cards, in their language,
        # to everyone typing the same query.
        await inline.answer(results, cache_time=60, is_personal=True)

    def _answers(self, session: Session, text: str) -> list[a.Answer]:
        freshness = self.services.freshness()
        found: list[a.Answer] = []
        asked = None
        if text.strip():
            catalog = a.load_catalog(session)
            question = parse_question(text, catalog)
            # Inline queries arrive while the user is still typing ("nathu"): when the text
            # is not a question yet, answer for the names it is close to, then from the notes
            # if they hold it.
            questions = [question]
            if question.intent is Intent.UNKNOWN:
                names = [parse_question(name, catalog) for name in question.suggestions]
                questions = [*names, question]
            for candidate in questions:
                asked = candidate.intent
                answer = a.answer_question(session, candidate, freshness)
                if not isinstance(answer, a.UnknownAnswer | a.ChartAnswer | a.HelpAnswer):
                    found.append(answer)
        found.extend(
            a.answer_question(session, Question(text="", intent=intent), freshness)
            for intent in _DEFAULT_INTENTS
            if intent is not asked
        )
        return found

    def _card(self, answer: a.Answer) -> InlineQueryResultArticle:
        html = split_html(self.presenter.text(answer))[0]
        plain = " ".join(html_to_text(html).split())
        label = self.services.renderer.label
        name = ""
        # Titled as what it is about: the card passages are added to, a yes or no's records.
        titled: a.Answer = answer
        if isinstance(titled, a.SearchAnswer) and titled.card is not None:
            titled = titled.card
        if isinstance(titled, a.YesNoAnswer):
            titled = titled.card
        if isinstance(titled, a.FiguresAnswer):
            name = titled.focus
        elif isinstance(titled, a.PassAnswer):
            name = titled.view.record.name
        elif isinstance(titled, a.HistoryAnswer):
            name = titled.history.name
        elif isinstance(titled, a.NewsAnswer):
            name = titled.subject or titled.topic or ""
        kind = {
            a.FiguresAnswer: "figures",
            a.PassAnswer: "pass",
            a.PassesAnswer: "passes",
            a.DealsAnswer: "deals",
            a.FlightsAnswer: "flights",
            a.HistoryAnswer: "history",
            a.NewsAnswer: "news",
            a.SearchAnswer: "search",
        }.get(type(titled), "other")
        return InlineQueryResultArticle(
            id=hashlib.sha256(html.encode()).hexdigest()[:32],
            title=label("inline.title", kind, name),
            description=label("inline.description", plain),
            input_message_content=InputTextMessageContent(html),
        )
