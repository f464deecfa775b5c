"""Turn answers into Telegram messages: render, split to Telegram's limits, attach buttons."""

from __future__ import annotations

from typing import TYPE_CHECKING

from markupsafe import Markup
from telegram.constants import MessageLimit, ParseMode

from bot.rendering import split_html as split_html  # moved there; still importable here
from bot.services import answers as a
from bot.services import charts, figures
from bot.telegram import keyboards
from bot.telegram.answer_cache import Rendered
from bot.telegram.prepared import PreparedLinkPreview
from bot.vocabulary import Series

if TYPE_CHECKING:
    from sqlmodel import Session
    from telegram import InlineKeyboardMarkup, Message

    from bot.telegram.services import BotServices

NO_PREVIEW = PreparedLinkPreview(is_disabled=True)


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
                parse_mode=ParseMode.HTML,
                link_preview_options=NO_PREVIEW,
                reply_markup=rendered.keyboard if index == last else None,
                do_quote=False,
            )

    async def edit(self, message: Message, rendered: Rendered) -> None:
        """Replace a message's text and buttons (button presses show the first chunk)."""
        await message.edit_text(
            rendered.chunks[0],
            parse_mode=ParseMode.HTML,
            link_preview_options=NO_PREVIEW,
            reply_markup=rendered.keyboard,
        )

    async def send_chart(self, message: Message, answer: a.ChartAnswer, session: Session) -> None:
        india = figures.load_series(session, Series.INDIA_FY)
        china = figures.load_series(session, Series.CHINA_CY)
        key = charts.data_key(answer.kind, (india, china))
        sources = sorted(
            {v.source.publisher for v in (*charts.charted(india), *charts.charted(china))}
        )
        caption = self.services.renderer.render(answer.template, kind=answer.kind, sources=sources)
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
                answer.kind,
                ((label("chart.india_title"), india), (label("chart.china_title"), china)),
                texts,
            )
        sent = await message.reply_photo(
            photo,
            caption=caption[: MessageLimit.CAPTION_LENGTH],
            parse_mode=ParseMode.HTML,
            do_quote=False,
        )
        if sent.photo:
            self.services.chart_uploads[key] = sent.photo[-1].file_id
