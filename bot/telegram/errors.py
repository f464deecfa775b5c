"""The one error handler: log with the traceback, tell the user without leaking internals."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

if TYPE_CHECKING:
    from telegram.ext import ContextTypes

    from bot.telegram.services import BotServices

logger = logging.getLogger(__name__)


class ErrorHandler:
    def __init__(self, services: BotServices) -> None:
        self.services = services

    async def __call__(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not isinstance(update, Update):  # a job's error (a tick): logged, nobody to tell
            job = context.job.name if context.job is not None else "?"
            logger.error("Error in the background job %s", job, exc_info=context.error)
            return
        logger.error("Error while handling an update", exc_info=context.error)
        if update.effective_chat is not None:
            text = self.services.renderer.render("error.html.j2")
            try:
                await context.bot.send_message(update.effective_chat.id, text)
            except TelegramError:
                logger.warning("Could not tell chat %s about the error", update.effective_chat.id)
        # The update is over: handlers of later groups (the question handler after an editor's
        # guided-edit check, say) would fail the same way and apologise a second time.
        raise ApplicationHandlerStop
