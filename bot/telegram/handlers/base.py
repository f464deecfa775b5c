"""What every handler group shares: services, the presenter, replies, refusals, and the
preamble of a button press.

A handler raises `access.RefusalError` wherever it finds the sender may not act (before or
inside its database work); the decorators here word the refusal for the chat: a reply to a
message, an alert to a button press.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from bot.telegram.callbacks import read_press
from bot.telegram.handlers.access import RefusalError
from bot.telegram.presenter import Presenter

if TYPE_CHECKING:
    from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update, User
    from telegram.ext import ContextTypes

    from bot.telegram.callbacks import Action
    from bot.telegram.services import BotServices


class HandlerGroup:
    def __init__(self, services: BotServices) -> None:
        self.services = services
        self.presenter = Presenter(services)

    def render(self, template: str, **context: Any) -> str:
        return self.services.renderer.render(template, **context)

    async def reply(
        self, message: Message, text: str, keyboard: InlineKeyboardMarkup | None = None
    ) -> None:
        await message.reply_text(text, reply_markup=keyboard)

    def refusal(self, refused: RefusalError) -> str:
        return self.render(refused.template, **refused.context)


@dataclass(frozen=True, slots=True)
class Press:
    """A button press whose data decoded, on a message the bot can still edit."""

    query: CallbackQuery
    action: Action
    message: Message

    @property
    def user(self) -> User:
        return self.query.from_user


class ExpiredButtonError(Exception):
    """The button names something that no longer exists (a record, a period)."""


Group = TypeVar("Group", bound=HandlerGroup)


def answers_refusals(
    handle: Callable[[Group, Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]],
) -> Callable[[Group, Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]:
    """A message handler whose refusals are replied to the message."""

    @functools.wraps(handle)
    async def callback(self: Group, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            await handle(self, update, context)
        except RefusalError as refused:
            if update.effective_message is not None:
                await self.reply(update.effective_message, self.refusal(refused))

    return callback


def button_press(
    handle: Callable[[Group, Press, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]],
) -> Callable[[Group, Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]:
    """The preamble of every button: decode the data; unknown, stale or forged data, or a
    button naming what no longer exists, is an expired button; a refusal is an alert."""

    @functools.wraps(handle)
    async def callback(self: Group, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        pressed = read_press(query)
        if pressed is None:
            await self.presenter.expired(query)
            return
        try:
            await handle(self, Press(query, *pressed), context)
        except ExpiredButtonError:
            await self.presenter.expired(query)
        except RefusalError as refused:
            await query.answer(self.refusal(refused), show_alert=True)

    return callback
