"""The composition root: `build_application(settings)` wires every handler in one list."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from telegram import BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeAllPrivateChats
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot.rendering import Renderer
from bot.telegram.answer_cache import AnswerCache
from bot.telegram.errors import ErrorHandler
from bot.telegram.handlers.buttons import ButtonHandlers
from bot.telegram.handlers.inline import InlineHandlers
from bot.telegram.handlers.questions import COMMAND_INTENTS, QuestionHandlers
from bot.telegram.services import BotServices

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from sqlalchemy import Engine
    from telegram.request import BaseRequest

    from bot.config import Settings

logger = logging.getLogger(__name__)

# PTB's Application is generic over six types we do not customise.
AnyApplication = Application[Any, Any, Any, Any, Any, Any]

# New messages only: an edited message is not a new question.
NEW_MESSAGES = filters.UpdateType.MESSAGE


def build_application(
    settings: Settings,
    *,
    engine: Engine,
    request: BaseRequest | None = None,
    clock: Callable[[], datetime] | None = None,
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

    services = BotServices(
        settings,
        engine,
        Renderer(settings.templates_dir),
        AnswerCache(settings.answer_cache_seconds),
    )
    if clock is not None:
        services.clock = clock
    questions = QuestionHandlers(services)
    buttons = ButtonHandlers(services)
    inline = InlineHandlers(services)
    application.add_handlers(
        [
            # Commands first: /start (with deep links), /help, then every topic command.
            CommandHandler("start", questions.start, filters=NEW_MESSAGES),
            CommandHandler("help", questions.help, filters=NEW_MESSAGES),
            CommandHandler(list(COMMAND_INTENTS), questions.command, filters=NEW_MESSAGES),
            # Buttons and inline mode.
            CallbackQueryHandler(buttons.press),
            InlineQueryHandler(inline.query),
            # Plain-English questions (groups: only when the bot is mentioned or replied to).
            MessageHandler(NEW_MESSAGES & filters.TEXT & ~filters.COMMAND, questions.text),
            # Anything else in a private chat gets a hint; in groups it is ignored.
            MessageHandler(
                NEW_MESSAGES & filters.ChatType.PRIVATE & ~filters.TEXT, questions.not_text
            ),
        ]
    )
    application.add_error_handler(ErrorHandler(services))
    return application


async def _register_commands(application: AnyApplication) -> None:
    renderer = Renderer()
    commands = [
        BotCommand(name, renderer.label(f"commands.{name}"))
        for name in ("start", "help", *COMMAND_INTENTS)
    ]
    for scope in (BotCommandScopeAllPrivateChats(), BotCommandScopeAllGroupChats()):
        await application.bot.set_my_commands(commands, scope=scope)


def run_bot(settings: Settings, engine: Engine) -> None:
    """Polling in the foreground until interrupted."""
    application = build_application(settings, engine=engine)
    logger.info("Starting the Telegram bot (polling).")
    application.run_polling()
