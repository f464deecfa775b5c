"""Button presses: decode the callback data, answer it, edit the message in place."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from telegram.error import BadRequest

from bot.services import answers as a
from bot.services.questions import Intent, PeriodKind, PeriodRef, Question
from bot.telegram.callbacks import Action, read_press
from bot.telegram.presenter import Presenter
from bot.vocabulary import DealStatus, Series

if TYPE_CHECKING:
    from sqlmodel import Session
    from telegram import Update
    from telegram.ext import ContextTypes

    from bot.telegram.services import BotServices

logger = logging.getLogger(__name__)


class ButtonHandlers:
    def __init__(self, services: BotServices) -> None:
        self.services = services
        self.presenter = Presenter(services)

    async def press(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        pressed = read_press(query)
        if pressed is None:
            await self.presenter.expired(query)
            return
        action, message = pressed
        key = ("button", query.data, self.services.clock().date())
        rendered = self.services.answers.get(key)
        if rendered is None:
            with self.services.session() as session:
                answer = self._answer(session, action)
                if isinstance(answer, a.ChartAnswer):
                    await query.answer()
                    await self.presenter.send_chart(message, answer, session)
                    return
            if answer is None:
                await self.presenter.expired(query)
                return
            rendered = self.presenter.render(answer, bot_username=message.get_bot().username)
            self.services.answers.put(key, rendered)
        await query.answer()
        try:
            await self.presenter.edit(message, rendered)
        except BadRequest as error:
            if "message is not modified" not in str(error).lower():
                raise

    def _answer(self, session: Session, action: Action) -> a.Answer | None:
        freshness = self.services.freshness()
        match action.verb:
            case "passes":
                return a.answer_question(session, _question(Intent.PASSES), freshness)
            case "pass":
                return a.pass_detail(session, action.arg("key"), freshness)
            case "hist":
                return a.history_page(session, action.record_type, action.arg("key"), action.page)
            case "deals":
                return a.deals_answer(
                    session, _question(Intent.DEALS, deal_status=action.deal_status), freshness
                )
            case "flights":
                return a.answer_question(session, _question(Intent.FLIGHTS), freshness)
            case "sources":
                return a.sources_answer(session, action.page)
            case "chart":
                return a.ChartAnswer("deficit" if action.arg("kind") == "deficit" else "trade")
            case "latest":
                intent = Intent.DEFICIT if action.arg("focus") == "deficit" else Intent.TRADE
                return a.answer_question(session, _question(intent), freshness)
            case "fig":
                return self._figure(session, action)
        return None

    def _figure(self, session: Session, action: Action) -> a.Answer | None:
        period = action.arg("period")
        if period.startswith("FY"):
            ref = PeriodRef(PeriodKind.FISCAL, int(period[2:6]))
        else:
            ref = PeriodRef(PeriodKind.CALENDAR, int(period))
        intent = Intent.DEFICIT if action.arg("focus") == "deficit" else Intent.TRADE
        question = _question(intent, series=action.series, periods=(ref,))
        answer = a.answer_question(session, question, self.services.freshness())
        # A period that no longer exists (an editor removed it) is an expired button.
        if isinstance(answer, a.FiguresAnswer) and not any(sf.views for sf in answer.series):
            return None
        return answer


def _question(
    intent: Intent,
    *,
    series: Series | None = None,
    periods: tuple[PeriodRef, ...] = (),
    deal_status: DealStatus | None = None,
) -> Question:
    """The question a button stands for."""
    return Question(text="", intent=intent, series=series, periods=periods, deal_status=deal_status)
