"""Inline keyboards for each kind of answer: drill down, page, step between periods."""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.services import answers as a
from bot.telegram.callbacks import encode
from bot.telegram.prepared import PreparedKeyboard
from bot.vocabulary import DealStatus, RecordType

if TYPE_CHECKING:
    from bot.rendering import Renderer
# Deal statuses offered as filters, most asked first.
_DEAL_FILTERS = (DealStatus.IN_EFFECT, DealStatus.RESTRICTED, DealStatus.PROPOSED)


def button(text: str, verb: str, *args: str | int) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=encode(verb, *args))


def main_menu(labels: Renderer) -> InlineKeyboardMarkup:
    return PreparedKeyboard(
        [
            [
                button(labels.label("deficit"), "latest", "deficit"),
                button(labels.label("passes"), "passes"),
            ],
            [
                button(labels.label("deals"), "deals", "all"),
                button(labels.label("flights"), "flights"),
            ],
            [button(labels.label("sources"), "sources", 0)],
        ]
    )


def for_answer(answer: a.Answer, labels: Renderer) -> InlineKeyboardMarkup | None:
    match answer:
        case a.PassesAnswer(views=views):
            rows = [
                [button(labels.label("record", v.record.name), "pass", v.record.slug)]
                for v in views
            ]
            return PreparedKeyboard(rows)
        case a.PassAnswer(view=view):
            return PreparedKeyboard(
                [
                    [
                        button(labels.label("history"), "hist", "pass", view.record.slug, 0),
                        button(labels.label("all_passes"), "passes"),
                    ]
                ]
            )
        case a.DealsAnswer():
            return _deals_keyboard(answer, labels)
        case a.FlightsAnswer(views=views):
            rows = [
                [
                    button(
                        labels.label("history_of", v.record.route),
                        "hist",
                        "flight",
                        v.record.slug,
                        0,
                    )
                ]
                for v in views
            ]
            return PreparedKeyboard(rows) if rows else None
        case a.HistoryAnswer():
            return _history_keyboard(answer, labels)
        case a.SourcesAnswer(page=page, pages=pages):
            row = []
            if page > 0:
                row.append(button(labels.label("page_back"), "sources", page - 1))
            if page + 1 < pages:
                row.append(button(labels.label("page_more"), "sources", page + 1))
            return PreparedKeyboard([row]) if row else None
        case a.FiguresAnswer():
            return _figures_keyboard(answer, labels)
        case a.UnknownAnswer() | a.HelpAnswer() | a.NotFoundAnswer():
            return main_menu(labels)
        case _:
            return None


def _deals_keyboard(answer: a.DealsAnswer, labels: Renderer) -> InlineKeyboardMarkup:
    filters = [
        button(labels.label("deal_status", status.value), "deals", status.value)
        for status in _DEAL_FILTERS
        if status is not answer.status
    ]
    rows = [filters, [button(labels.label("all_deals"), "deals", "all")]]
    if len(answer.views) == 1:
        deal = answer.views[0].record
        rows.insert(0, [button(labels.label("history"), "hist", "deal", deal.slug, 0)])
    return PreparedKeyboard(rows)


def _history_keyboard(answer: a.HistoryAnswer, labels: Renderer) -> InlineKeyboardMarkup:
    kind, key = answer.history.record_type, answer.history.key
    row = []
    if answer.page > 0:
        row.append(button(labels.label("page_previous"), "hist", kind.value, key, answer.page - 1))
    if answer.page + 1 < answer.pages:
        row.append(button(labels.label("page_next"), "hist", kind.value, key, answer.page + 1))
    rows = [row] if row else []
    if kind is RecordType.PASS:
        rows.append([button(labels.label("back_to", answer.history.name), "pass", key)])
    elif kind is RecordType.FLIGHT:
        rows.append([button(labels.label("flights"), "flights")])
    elif kind is RecordType.DEAL:
        rows.append([button(labels.label("all_deals"), "deals", "all")])
    return PreparedKeyboard(rows)


def _figures_keyboard(answer: a.FiguresAnswer, labels: Renderer) -> InlineKeyboardMarkup | None:
    """Previous / next period when one period of one series is shown; a chart button."""
    rows = []
    if len(answer.series) == 1 and len(answer.series[0].views) == 1:
        shown = answer.series[0]
        neighbours = answer.neighbours.get(shown.series)
        if neighbours is not None:
            before, after = neighbours
            row = [
                button(
                    labels.label(name, view.figure.period),
                    "fig",
                    answer.focus,
                    shown.series.value,
                    view.figure.period,
                )
                for name, view in (("previous", before), ("next", after))
                if view is not None
            ]
            rows.append(row)
    rows.append(
        [
            button(
                labels.label("chart"), "chart", "deficit" if answer.focus == "deficit" else "trade"
            )
        ]
    )
    return PreparedKeyboard(rows)
