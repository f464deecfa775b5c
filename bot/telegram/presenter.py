"""Turn answers into Telegram messages: render, split to Telegram's limits, attach buttons."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from markupsafe import Markup
from telegram.constants import MessageLimit
from telegram.error import BadRequest

from bot.rendering import split_html as split_html  # moved there; still importable here
from bot.services import answers as a
from bot.services import charts, figures
from bot.telegram import keyboards
from bot.telegram.answer_cache import Rendered
from bot.telegram.prepared import PreparedLinkPreview
from bot.vocabulary import Language, Series

if TYPE_CHECKING:
    from sqlmodel import Session
    from telegram import CallbackQuery, InlineKeyboardMarkup, Message

    from bot.services.composition import Table
    from bot.services.trade import FigureView
    from bot.telegram.services import BotServices

logger = logging.getLogger(__name__)

NO_PREVIEW = PreparedLinkPreview(is_disabled=True)
# The texts drawn inside a chart image (chart.j2) are English in every language: matplotlib's
# fonts have no Devanagari, and one image (one upload, one file id) serves every chat. The
# caption, which Telegram renders, is in the reader's language.
CHART_IMAGE_LANGUAGE = Language.EN
# matplotlib is not thread-safe: charts are drawn one at a time, whichever thread asks.
_DRAWING = threading.Lock()


@dataclass(frozen=True, slots=True)
class Chart:
    key: str  # the data it shows: an upload is reused until the data changes
    photo: str | bytes  # a Telegram file id, or PNG bytes to upload
    caption: str


@dataclass(frozen=True, slots=True)
class ChartData:
    """A chart's content as read from the database, ready to draw without a session."""

    kind: charts.ChartKind | Literal["composition"]
    key: str
    panels: tuple[tuple[str, tuple[FigureView, ...]], ...]  # (title, views) per panel
    caption: str
    groups: tuple[Table, ...] = ()  # a product-group chart's tables, one panel each


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
        # The news changes when an editor publishes, and the search index with every edit and
        # review, on any instance: always read afresh.
        fresh = isinstance(answer, a.NewsAnswer | a.SearchAnswer)
        return Rendered(tuple(chunks), self.keyboard(answer), cacheable=not fresh)

    async def send(self, message: Message, rendered: Rendered) -> None:
        last = len(rendered.chunks) - 1
        for index, chunk in enumerate(rendered.chunks):
            await message.reply_text(
                chunk, reply_markup=rendered.keyboard if index == last else None
            )

    async def edit(self, message: Message, rendered: Rendered) -> None:
        """Replace a message's text and buttons (button presses show the first chunk)."""
        await self.replace(message, rendered.chunks[0], rendered.keyboard)

    async def replace(
        self, message: Message, text: str, keyboard: InlineKeyboardMarkup | None = None
    ) -> None:
        """Edit a message in place; pressing a button that shows what is shown is no error."""
        try:
            await message.edit_text(text, reply_markup=keyboard)
        except BadRequest as error:
            if "message is not modified" not in str(error).lower():
                raise

    async def expired(self, query: CallbackQuery) -> None:
        """Unknown, stale or forged button data, or a message too old to edit: change nothing."""
        logger.info("Expired or unknown button %r from user %s", query.data, query.from_user.id)
        await query.answer(self.services.renderer.render("expired_button.j2"), show_alert=True)

    def answer_chart(self, session: Session, answer: a.ChartAnswer) -> ChartData | None:
        """What a chart answer draws; None for a chart of product groups when none are held
        (the answer's text says so instead)."""
        if answer.kind != "composition":
            return self.chart_data(session, answer.kind)
        tables = tuple(f.table for f in answer.groups.flows if f.table) if answer.groups else ()
        tables = tuple(table for table in tables if any(g.row.value for g in table.groups))
        if not tables:
            return None
        sources = sorted({source.publisher for table in tables for source in table.sources})
        caption = self.services.renderer.render(
            a.ChartAnswer.template, kind="composition", sources=sources, tables=tables
        )
        return ChartData(
            "composition",
            charts.groups_key(tables),
            (),
            caption[: MessageLimit.CAPTION_LENGTH],
            tables,
        )

    def answer_or_chart(
        self, session: Session, answer: a.Answer, *, bot_username: str
    ) -> Rendered | ChartData:
        """A chart's data, or the answer rendered (a chart of groups none of which is held
        is answered in words)."""
        if isinstance(answer, a.ChartAnswer):
            data = self.answer_chart(session, answer)
            if data is not None:
                return data
            if answer.groups is not None:
                return self.render(answer.groups, bot_username=bot_username)
        return self.render(answer, bot_username=bot_username)

    def chart_data(self, session: Session, kind: charts.ChartKind) -> ChartData:
        """What the chart of both series shows, read in the caller's unit of work."""
        india = figures.load_series(session, Series.INDIA_FY)
        china = figures.load_series(session, Series.CHINA_CY)
        sources = sorted(
            {v.source.publisher for v in (*charts.charted(india), *charts.charted(china))}
        )
        caption = self.services.renderer.render(a.ChartAnswer.template, kind=kind, sources=sources)
        label = self.services.renderer.label
        language = CHART_IMAGE_LANGUAGE
        return ChartData(
            kind,
            charts.data_key(kind, (india, china)),
            (
                (label("chart.india_title", language=language), india),
                (label("chart.china_title", language=language), china),
            ),
            caption[: MessageLimit.CAPTION_LENGTH],
        )

    async def send_chart(self, message: Message, data: ChartData) -> None:
        """Send the chart: its earlier upload while the data is unchanged, else drawn anew
        in a worker thread."""
        chart = self.uploaded(data)
        if chart is None:
            chart = await self.services.offload(self.drawn, data)
        sent = await message.reply_photo(chart.photo, caption=chart.caption)
        self.remember_upload(chart, sent)

    def chart(self, kind: charts.ChartKind, session: Session) -> Chart:
        """The chart of both series, read and drawn at once (for code off the event loop)."""
        data = self.chart_data(session, kind)
        return self.uploaded(data) or self.drawn(data)

    def uploaded(self, data: ChartData) -> Chart | None:
        """The chart as the Telegram file id of its earlier upload, if there was one."""
        file_id = self.services.chart_uploads.get(data.key)
        return None if file_id is None else Chart(data.key, file_id, data.caption)

    def drawn(self, data: ChartData) -> Chart:
        label = self.services.renderer.label

        def chart_label(name: str, *args: object) -> str:
            return label(f"chart.{name}", *args, language=CHART_IMAGE_LANGUAGE)

        with _DRAWING:
            if data.kind == "composition":
                png = charts.render_groups_png(data.groups, chart_label)
            else:
                png = charts.render_png(data.kind, data.panels, chart_label)
        return Chart(data.key, png, data.caption)

    def remember_upload(self, chart: Chart, sent: Message) -> None:
        if sent.photo:
            self.services.chart_uploads[chart.key] = sent.photo[-1].file_id
