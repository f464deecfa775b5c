"""Turn answers into Telegram messages: render, split to Telegram's limits, attach buttons."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from markupsafe import Markup
from telegram.constants import MessageLimit

from bot.rendering import split_html as split_html  # moved there; still importable here
from bot.services import answers as a
from bot.services import charts, figures
from bot.telegram import keyboards
from bot.telegram.answer_cache import Rendered
from bot.telegram.prepared import PreparedLinkPreview
from bot.vocabulary import Series

if TYPE_CHECKING:
    from sqlmodel import Session
    from telegram import CallbackQuery, InlineKeyboardMarkup, Message

    from bot.telegram.services import BotServices

logger = logging.getLogger(__name__)

NO_PREVIEW = PreparedLinkPreview(is_disabled=True)


@dataclass(frozen=True, slots=True)
class Chart:
    key: str  # the data it shows: an upload is reused until the data changes
    photo: str | bytes  # a Telegram file id, or PNG bytes to upload
    caption: str


def rendered_html(text: str) -> Markup:
    """Mark text our own autoescaping templates produced as safe to embed in another one."""
    return Markup(text)  # noqa: S704  (every value in it was escaped when it was rendered)


class Presenter:
    def __init__(self, services: BotServices) -> None:
        self.services = services

    def text(self, answer: a.Answer, *, bot_username: str = "") -> str:
        return self.services.renderer.render(
            answer.template,
            answer=answer,
            freshness=self.services.freshness(),
            bot_username=bot_username,
        )

    def keyboard(self, answer: a.Answer) -> InlineKeyboardMarkup | None:
        return keyboards.for_answer(answer, self.services.renderer)

    def render(self, answer: a.Answer, *, bot_username: str) -> Rendered:
        chunks = split_html(self.text(answer, bot_username=bot_username))
        return Rendered(tuple(chunks), self.keyboard(answer))

    async def send(self, message: Message, rendered: Rendered) -> None:
        last = len(rendered.chunks) - 1
        for index, chunk in enumerate(rendered.chunks):
            await message.reply_text(
                chunk,
                reply_markup=rendered.keyboard if index == last else None,
            )

    async def edit(self, message: Message, rendered: Rendered) -> None:
        """Replace a message's text and buttons (button presses show the first chunk)."""
        await message.edit_text(
            rendered.chunks[0],
            reply_markup=rendered.keyboard,
        )

    async def expired(self, query: CallbackQuery) -> None:
        """Unknown, stale or forged button data, or a message too old to edit: change nothing."""
        logger.info("Expired or unknown button %r from user %s", query.data, query.from_user.id)
        await query.answer(self.services.renderer.render("expired_button.j2"), show_alert=True)

    async def send_chart(self, message: Message, answer: a.ChartAnswer, session: Session) -> None:
        chart = self.chart(answer.kind, session)
        sent = await message.reply_photo(chart.photo, caption=chart.caption)
        self.remember_upload(chart, sent)

    def chart(self, kind: charts.ChartKind, session: Session) -> Chart:
        """The chart of both series, as a Telegram file id when this one was uploaded before."""
        india = figures.load_series(session, Series.INDIA_FY)
        china = figures.load_series(session, Series.CHINA_CY)
        key = charts.data_key(kind, (india, china))
        sources = sorted(
            {v.source.publisher for v in (*charts.charted(india), *charts.charted(china))}
        )
        caption = self.services.renderer.render(a.ChartAnswer.template, kind=kind, sources=sources)
        photo: str | bytes
        if key in self.services.chart_uploads:
            photo = self.services.chart_uploads[key]
        else:
            label = self.services.renderer.label
            texts = {
                name: label(f"chart.{name}")
                for name in ("imports", "exports", "deficit", "total", "unit")
            }
            photo = charts.render_png(
                kind,
                ((label("chart.india_title"), india), (label("chart.china_title"), china)),
                texts,
            )
        return Chart(key, photo, caption[: MessageLimit.CAPTION_LENGTH])

    def remember_upload(self, chart: Chart, sent: Message) -> None:
        if sent.photo:
            self.services.chart_uploads[chart.key] = sent.photo[-1].file_id
