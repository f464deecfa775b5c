"""Button presses: decode the callback data, answer it, edit the message in place."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.i18n import active_language
from bot.services import answers as a
from bot.services import goods
from bot.services.questions import Intent, PeriodKind, PeriodRef, Question
from bot.telegram.handlers.base import ExpiredButtonError, HandlerGroup, Press, button_press
from bot.telegram.presenter import ChartData
from bot.vocabulary import DealStatus, Quantity, Series

if TYPE_CHECKING:
    from sqlmodel import Session
    from telegram.ext import ContextTypes

    from bot.telegram.answer_cache import Rendered
    from bot.telegram.callbacks import Action

logger = logging.getLogger(__name__)


class ButtonHandlers(HandlerGroup):
    @button_press
    async def press(self, press: Press, context: ContextTypes.DEFAULT_TYPE) -> None:
        query, message = press.query, press.message
        key = ("button", query.data, self.services.clock().date(), active_language())
        rendered = self.services.answers.get(key)
        if rendered is None:
            username = message.get_bot().username
            shown = await self.services.run(
                lambda session: self._rendered(session, press.action, username)
            )
            if isinstance(shown, ChartData):
                await query.answer()
                await self.presenter.send_chart(message, shown)
                return
            rendered = shown
            if rendered.cacheable:
                self.services.answers.put(key, rendered)
        await query.answer()
        await self.presenter.edit(message, rendered)

    def _rendered(
        self, session: Session, action: Action, bot_username: str
    ) -> Rendered | ChartData:
        answer = self._answer(session, action)
        if answer is None:
            raise ExpiredButtonError
        return self.presenter.answer_or_chart(session, answer, bot_username=bot_username)

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
            case "chart" if action.arg("kind") in ("imports", "exports"):
                flow = Quantity(action.arg("kind"))
                groups = goods.composition_answer(
                    session, _question(Intent.COMPOSITION, quantity=flow)
                )
                return a.ChartAnswer("composition", groups)
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
    quantity: Quantity | None = None,
) -> Question:
    """The question a button stands for."""
    return Question(
        text="",
        intent=intent,
        series=series,
        periods=periods,
        deal_status=deal_status,
        quantity=quantity,
    )
