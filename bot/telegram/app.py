"""The composition root: `build_application(settings)` wires every handler in one list."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from telegram import BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeAllPrivateChats
from telegram.ext import Application, ApplicationBuilder, CommandHandler

from bot.rendering import Renderer
from bot.telegram.errors import ErrorHandler
from bot.telegram.handlers.basics import BasicHandlers
from bot.telegram.services import BotServices

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from telegram.request import BaseRequest

    from bot.config import Settings

logger = logging.getLogger(__name__)

# The command menu Telegram shows; the descriptions are short labels, not replies.
COMMANDS = (
    BotCommand("start", "What Trade Watch covers"),
    BotCommand("help", "How to use the bot"),
)


# PTB's Application is generic over six types we do not customise.
AnyApplication = Application[Any, Any, Any, Any, Any, Any]


def build_application(
    settings: Settings, *, engine: Engine, request: BaseRequest | None = None
) -> AnyApplication:
    if settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is required to build the Telegram application")
    builder = ApplicationBuilder().token(settings.telegram_bot_token.get_secret_value())
    if settings.telegram_api_base_url is not None:
        base = str(settings.telegram_api_base_url).rstrip("/")
        builder = builder.base_url(f"{base}/bot").base_file_url(f"{base}/file/bot")
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    application = builder.post_init(_register_commands).build()

    services = BotServices(settings, engine, Renderer(settings.templates_dir))
    basics = BasicHandlers(services)
    application.add_handlers(
        [
            # Group 0, first match wins: commands.
            CommandHandler("start", basics.start),
            CommandHandler("help", basics.help),
        ]
    )
    application.add_error_handler(ErrorHandler(services))
    return application


async def _register_commands(application: AnyApplication) -> None:
    for scope in (BotCommandScopeAllPrivateChats(), BotCommandScopeAllGroupChats()):
        await application.bot.set_my_commands(COMMANDS, scope=scope)


def run_bot(settings: Settings, engine: Engine) -> None:
    """Polling in the foreground until interrupted."""
    application = build_application(settings, engine=engine)
    logger.info("Starting the Telegram bot (polling).")
    application.run_polling()
