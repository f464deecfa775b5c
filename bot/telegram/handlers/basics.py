"""/start and /help."""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram.constants import ParseMode

from bot.services.overview import overview

if TYPE_CHECKING:
    from telegram import Update
    from telegram.ext import ContextTypes

    from bot.telegram.services import BotServices


class BasicHandlers:
    def __init__(self, services: BotServices) -> None:
        self.services = services

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_message is None:
            return
        with self.services.session() as session:
            summary = overview(session)
        text = self.services.renderer.render("start.html.j2", overview=summary)
        await update.effective_message.reply_text(text, parse_mode=ParseMode.HTML)

    async def help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_message is None:
            return
        text = self.services.renderer.render("help.html.j2")
        await update.effective_message.reply_text(text, parse_mode=ParseMode.HTML)
