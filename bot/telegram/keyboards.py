"""Inline keyboards for each kind of answer: drill down, page, step between periods."""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.services import answers as a
from bot.services.goods import CompositionAnswer
from bot.services.subscriptions import TOPICS
from bot.telegram.callbacks import encode
from bot.telegram.prepared import PreparedKeyboard
from bot.vocabulary import DealStatus, Frequency, Language, NewsScope, RecordType

if TYPE_CHECKING:
    from bot.models import Subscriber
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
        case CompositionAnswer(flows=flows):
            charted = [f.flow.value for f in flows if f.table is not None]
            return (
                PreparedKeyboard(
                    [[button(labels.label("chart_of", flow), "chart", flow) for flow in charted]]
                )
                if charted
                else None
            )
        case a.SourcesAnswer(page=page, pages=pages):
            row = []
            if page > 0:
                row.append(button(labels.label("page_back"), "sources", page - 1))
            if page + 1 < pages:
                row.append(button(labels.label("page_more"), "sources", page + 1))
            return PreparedKeyboard([row]) if row else None
        case a.FiguresAnswer():
            return _figures_keyboard(answer, labels)
        case a.NewsAnswer(card=card):
            return None if card is None else for_answer(card, labels)
        case a.SearchAnswer(card=card):
            return main_menu(labels) if card is None else for_answer(card, labels)
        case a.YesNoAnswer(card=card):
            return for_answer(card, labels)
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


# Time zones offered as buttons in /settings; "Other…" asks for any IANA name.
TIMEZONE_CHOICES = (
    "Asia/Kolkata",
    "Asia/Shanghai",
    "Asia/Kathmandu",
    "Asia/Singapore",
    "Asia/Dubai",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "UTC",
)


def subscribe_button(chat_id: int, labels: Renderer) -> InlineKeyboardMarkup:
    return PreparedKeyboard([[button(labels.label("sub_subscribe"), "sub", chat_id)]])


def subscription_settings(
    subscriber: Subscriber, page: str, labels: Renderer
) -> InlineKeyboardMarkup | None:
    """The /settings keyboard: the main page, or the day, hour or time zone picker."""
    chat, label = subscriber.chat_id, labels.label
    back = [button(label("sub_back"), "cfg", chat, "main")]
    if page == "done":
        return None
    if page == "day":
        days = [
            button(
                label("sub_weekday", day, day == subscriber.weekday), "opt", chat, "weekday", day
            )
            for day in range(7)
        ]
        return PreparedKeyboard([days[:4], days[4:], back])
    if page == "hour":
        hours = [
            button(
                label("sub_hour", hour, hour == subscriber.local_hour), "opt", chat, "hour", hour
            )
            for hour in range(24)
        ]
        return PreparedKeyboard([*(hours[i : i + 6] for i in range(0, 24, 6)), back])
    if page == "timezone":
        zones = [
            button(
                label("sub_timezone", zone, zone == subscriber.timezone),
                "opt",
                chat,
                "timezone",
                zone,
            )
            for zone in TIMEZONE_CHOICES
        ]
        zones.append(button(label("sub_timezone_other"), "cfg", chat, "tzother"))
        return PreparedKeyboard([*(zones[i : i + 2] for i in range(0, len(zones), 2)), back])
    frequencies = [
        button(
            label("sub_frequency", f.value, f is subscriber.frequency),
            "opt",
            chat,
            "frequency",
            f.value,
        )
        for f in Frequency
    ]
    when = [button(label("sub_hour_menu", subscriber.local_hour), "cfg", chat, "hour")]
    if subscriber.frequency is Frequency.WEEKLY:
        when.insert(0, button(label("sub_day_menu", subscriber.weekday), "cfg", chat, "day"))
    topics = [
        button(label("sub_topic", topic, topic in subscriber.topics), "opt", chat, "topic", topic)
        for topic in TOPICS
    ]
    # A switch between the two news scopes, as for the on/off settings.
    other_scope = (
        NewsScope.MATCHED if subscriber.news_scope is NewsScope.PUBLISHED else NewsScope.PUBLISHED
    )
    return PreparedKeyboard(
        [
            frequencies,
            when,
            [button(label("sub_timezone_menu", subscriber.timezone), "cfg", chat, "timezone")],
            topics[:2],
            topics[2:],
            [
                button(
                    label("sub_alerts", subscriber.alerts_enabled),
                    "opt",
                    chat,
                    "alerts",
                    _switch(not subscriber.alerts_enabled),
                ),
                button(
                    label("sub_quiet", subscriber.quiet_hours),
                    "opt",
                    chat,
                    "quiet",
                    _switch(not subscriber.quiet_hours),
                ),
            ],
            [
                button(
                    label("sub_chart", subscriber.include_chart),
                    "opt",
                    chat,
                    "chart",
                    _switch(not subscriber.include_chart),
                )
            ],
            [button(label("sub_news", subscriber.news_scope), "opt", chat, "news", other_scope)],
            [button(label("sub_done"), "cfg", chat, "done")],
        ]
    )


def _switch(on: bool) -> str:
    return "on" if on else "off"


def languages(chat_id: int, labels: Renderer) -> InlineKeyboardMarkup:
    """English / हिन्दी, each label in its own language (a reader finds theirs either way)."""
    return PreparedKeyboard(
        [
            [
                button(
                    labels.label("language_choice", language.value), "lang", chat_id, language.value
                )
                for language in Language
            ]
        ]
    )
