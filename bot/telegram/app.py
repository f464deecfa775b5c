"""The composition root: `build_application(settings)` wires every handler in one list."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    Message,
)
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot.i18n import DEFAULT_LANGUAGE, bind_update_language
from bot.logs import Redactor
from bot.rendering import Renderer
from bot.services import admins
from bot.telegram.answer_cache import AnswerCache
from bot.telegram.delivery_jobs import DeliveryJobs
from bot.telegram.errors import ErrorHandler
from bot.telegram.handlers.buttons import ButtonHandlers
from bot.telegram.handlers.channels import ChannelHandlers
from bot.telegram.handlers.editors import EditHandlers, ImportHandlers, RoleHandlers
from bot.telegram.handlers.editors.news import NewsHandlers
from bot.telegram.handlers.inline import InlineHandlers
from bot.telegram.handlers.languages import LanguageHandlers
from bot.telegram.handlers.questions import COMMAND_INTENTS, QuestionHandlers
from bot.telegram.handlers.subscriptions import SubscriptionHandlers, TimezonePromptReplies
from bot.telegram.metrics import InstrumentedRequest, Metrics
from bot.telegram.news_jobs import NewsJobs
from bot.telegram.operator_alerts import OperatorAlerts
from bot.telegram.presenter import NO_PREVIEW
from bot.telegram.services import BotServices
from bot.telegram.types import AnyApplication
from bot.telegram.update_processor import ChatOrderedUpdateProcessor
from bot.vocabulary import Language, Role

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Coroutine
    from datetime import datetime

    from sqlalchemy import Engine
    from telegram.request import BaseRequest

    from bot.config import Settings

logger = logging.getLogger(__name__)

# New messages only: an edited message is not a new question.
NEW_MESSAGES = filters.UpdateType.MESSAGE
# Callback verbs of editors' drafts (see bot/telegram/callbacks.py).
ADMIN_BUTTONS = r"^tw1\|(ok|oc|no|ek|er|ef|ev|es)\|"
NEWS_BUTTONS = r"^tw1\|(np|nd|nu|nr|ns)\|"
# Callback verbs of the subscription settings.
SUBSCRIPTION_BUTTONS = r"^tw1\|(sub|cfg|opt)\|"
LANGUAGE_BUTTONS = r"^tw1\|lang\|"
SUBSCRIPTION_COMMANDS = (
    "subscribe",
    "unsubscribe",
    "settings",
    "timezone",
    "digest",
    "language",
)
EDITOR_COMMANDS = (
    "set",
    "edit",
    "undo",
    "cancel",
    "addfigure",
    "addsource",
    "subscribe_channel",
    "unsubscribe_channel",
    "review",
    "reviews",
    "feeds",
)
OWNER_COMMANDS = ("grant", "revoke", "admins", "addfeed", "removefeed")
# Every text is Telegram HTML from our templates; links stay links (sources would otherwise
# pull a preview card under every answer); replies follow the question without quoting it.
REPLY_DEFAULTS = Defaults(
    parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW, do_quote=False
)


class _Admins(filters.MessageFilter):
    """Messages from users who may hold a role: the handler confirms (BotServices.is_admin),
    as a filter cannot wait for the database."""

    def __init__(self, services: BotServices) -> None:
        super().__init__(name="admins")
        self.services = services

    def filter(self, message: Message) -> bool:
        user = message.from_user
        return user is not None and self.services.may_be_admin(user.id)


def build_application(
    settings: Settings,
    *,
    engine: Engine,
    request: BaseRequest | None = None,
    clock: Callable[[], datetime] | None = None,
    deliver: bool = False,
    metrics: Metrics | None = None,
    language: Language | None = None,
) -> AnyApplication:
    """The bot's application; with `deliver`, it also sends digests and alerts on schedule
    (off for the terminal chat and for tests that only talk to it); with `language`, every
    update is answered in it, whatever the chat chose (the terminal's --language)."""
    if settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is required to build the Telegram application")
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value())
        .defaults(REPLY_DEFAULTS)
    )
    if settings.telegram_api_base_url is not None:
        base = str(settings.telegram_api_base_url).rstrip("/")
        builder = builder.base_url(f"{base}/bot").base_file_url(f"{base}/file/bot")
    services = BotServices(
        settings,
        engine,
        Renderer(settings.templates_dir),
        AnswerCache(settings.answer_cache_seconds),
        metrics=metrics or Metrics(),
    )
    if clock is not None:
        services.clock = clock
    metrics = services.metrics
    metrics.watch_ledger(engine, services.clock)
    # Replies and 429s are counted on the way out; getUpdates is not a reply.
    if request is None:
        builder = builder.request(
            InstrumentedRequest(HTTPXRequest(connection_pool_size=256), metrics, sender="answers")
        )
    else:
        counted = InstrumentedRequest(request, metrics, sender="answers")
        builder = builder.request(counted).get_updates_request(counted)
    # Chats are handled side by side, each chat's updates in order (update_processor.py).
    builder = builder.concurrent_updates(
        ChatOrderedUpdateProcessor(metrics, concurrency=settings.update_concurrency)
    )
    deliveries = DeliveryJobs(services) if deliver else None
    questions = QuestionHandlers(services)
    buttons = ButtonHandlers(services)
    inline = InlineHandlers(services)
    roles = RoleHandlers(services)
    imports = ImportHandlers(services)
    edits = EditHandlers(services, imports)
    news = NewsHandlers(services, edits)
    channels = ChannelHandlers(services)
    subscriptions = SubscriptionHandlers(services, channels)
    chat_languages = LanguageHandlers(services, channels)
    news_jobs = NewsJobs(services, news) if deliver else None
    alerts = (
        OperatorAlerts(settings.error_chat_id, services.renderer, Redactor.from_settings(settings))
        if settings.error_chat_id is not None
        else None
    )
    register_commands = _register_commands_for(services)

    async def post_init(application: AnyApplication) -> None:
        if alerts is not None:
            await alerts.start(application.bot)
        await register_commands(application)
        if deliveries is not None:
            await deliveries.start(application)
        if news_jobs is not None:
            await news_jobs.start(application)

    async def post_stop(application: AnyApplication) -> None:
        if news_jobs is not None:
            await news_jobs.stop(application)
        if deliveries is not None:
            await deliveries.stop(application)
        # Last while the bot can still send: errors of the shutdown so far reach the operators.
        if alerts is not None:
            await alerts.stop()

    builder = builder.post_init(post_init).post_stop(post_stop)
    if deliveries is not None:
        builder = builder.post_shutdown(deliveries.shutdown)
    application = builder.build()
    # Group -3 runs first of all: it picks the language everything after it renders in.
    application.add_handler(
        TypeHandler(object, _language_binder(services.update_language, language)), group=-3
    )
    # Group -2 runs before everything: a reply to the bot's time-zone prompt sets the zone and
    # stops the update there, so it is neither editor input nor a question.
    application.add_handler(
        MessageHandler(
            NEW_MESSAGES & filters.TEXT & ~filters.COMMAND & TimezonePromptReplies(),
            subscriptions.timezone_reply,
        ),
        group=-2,
    )
    # Group -1 runs next: text an editor types into a guided edit; it stops the update there
    # (ApplicationHandlerStop) so it is not also answered as a question.
    application.add_handler(
        MessageHandler(
            NEW_MESSAGES
            & filters.ChatType.PRIVATE
            & filters.TEXT
            & ~filters.COMMAND
            & _Admins(services),
            edits.typed,
        ),
        group=-1,
    )
    application.add_handlers(
        [
            # Commands first: /start (with deep links), /help, then every topic command.
            CommandHandler("start", questions.start, filters=NEW_MESSAGES),
            CommandHandler("help", questions.help, filters=NEW_MESSAGES),
            CommandHandler(list(COMMAND_INTENTS), questions.command, filters=NEW_MESSAGES),
            CommandHandler("changes", edits.ticker, filters=NEW_MESSAGES),
            # Subscriptions: a private chat's own; a group's by its administrators; channels
            # by editors from a private chat. Each checks who may at the moment of the action.
            CommandHandler("subscribe", subscriptions.subscribe, filters=NEW_MESSAGES),
            CommandHandler("unsubscribe", subscriptions.unsubscribe, filters=NEW_MESSAGES),
            CommandHandler("settings", subscriptions.settings, filters=NEW_MESSAGES),
            CommandHandler("timezone", subscriptions.timezone, filters=NEW_MESSAGES),
            CommandHandler("digest", subscriptions.digest, filters=NEW_MESSAGES),
            CommandHandler("language", chat_languages.language, filters=NEW_MESSAGES),
            CommandHandler("subscribe_channel", channels.subscribe_channel, filters=NEW_MESSAGES),
            CommandHandler(
                "unsubscribe_channel", channels.unsubscribe_channel, filters=NEW_MESSAGES
            ),
            # What Telegram says about chats: the bot blocked, removed or added; a group that
            # became a supergroup (told in both chats).
            ChatMemberHandler(channels.membership, ChatMemberHandler.MY_CHAT_MEMBER),
            MessageHandler(filters.StatusUpdate.MIGRATE, channels.migrated),
            # Editors and owners: each handler checks the role at the moment of the action.
            CommandHandler("grant", roles.grant, filters=NEW_MESSAGES),
            CommandHandler("revoke", roles.revoke, filters=NEW_MESSAGES),
            CommandHandler("admins", roles.list_admins, filters=NEW_MESSAGES),
            CommandHandler("set", edits.set, filters=NEW_MESSAGES),
            CommandHandler("edit", edits.edit, filters=NEW_MESSAGES),
            CommandHandler("undo", edits.undo, filters=NEW_MESSAGES),
            CommandHandler("cancel", edits.cancel, filters=NEW_MESSAGES),
            CommandHandler("addfigure", edits.add_figure, filters=NEW_MESSAGES),
            CommandHandler("addsource", edits.add_source, filters=NEW_MESSAGES),
            CommandHandler("review", news.review, filters=NEW_MESSAGES),
            CommandHandler("reviews", news.reviews, filters=NEW_MESSAGES),
            CommandHandler("feeds", news.feeds, filters=NEW_MESSAGES),
            CommandHandler("addfeed", news.add_feed, filters=NEW_MESSAGES),
            CommandHandler("removefeed", news.remove_feed, filters=NEW_MESSAGES),
            # Documents are imports, an editor's in a private chat; in groups they are chatter.
            MessageHandler(
                NEW_MESSAGES & filters.ChatType.PRIVATE & filters.Document.ALL, imports.document
            ),
            MessageHandler(
                filters.UpdateType.CHANNEL_POST & filters.COMMAND, edits.channel_command
            ),
            # Buttons: editors' drafts, subscription settings, then everyone's; and inline mode.
            CallbackQueryHandler(edits.press, pattern=ADMIN_BUTTONS),
            CallbackQueryHandler(news.press, pattern=NEWS_BUTTONS),
            CallbackQueryHandler(subscriptions.press, pattern=SUBSCRIPTION_BUTTONS),
            CallbackQueryHandler(chat_languages.press, pattern=LANGUAGE_BUTTONS),
            CallbackQueryHandler(buttons.press),
            InlineQueryHandler(inline.query),
            # Plain-English questions (groups: only when the bot is mentioned or replied to).
            MessageHandler(NEW_MESSAGES & filters.TEXT & ~filters.COMMAND, questions.text),
            # Anything else in a private chat gets a hint (a command no handler took, what is
            # not text); in groups it is ignored, and so are service messages (a pinned
            # message), which nobody typed.
            MessageHandler(
                NEW_MESSAGES & filters.ChatType.PRIVATE & filters.COMMAND,
                questions.unknown_command,
            ),
            MessageHandler(
                NEW_MESSAGES & filters.ChatType.PRIVATE & ~filters.TEXT & ~filters.StatusUpdate.ALL,
                questions.not_text,
            ),
        ]
    )
    application.add_error_handler(ErrorHandler(services))
    return application


def _language_binder(
    language_of: Callable[[object], Awaitable[Language]], fixed: Language | None
) -> Callable[[object, Any], Coroutine[Any, Any, None]]:
    async def bind_language(update: object, context: Any) -> None:
        bind_update_language(fixed or await language_of(update))

    return bind_language


def _commands(renderer: Renderer, names: tuple[str, ...], language: Language) -> list[BotCommand]:
    return [
        BotCommand(name, renderer.label(f"commands.{name}", language=language)) for name in names
    ]


def _register_commands_for(services: BotServices) -> Callable[[AnyApplication], Any]:
    """The command menus, in English for everyone and in Hindi for users whose Telegram is in
    Hindi (Telegram picks by the user's language; `language_code` "hi")."""

    async def register(application: AnyApplication) -> None:
        renderer = services.renderer
        readers = ("start", "help", *COMMAND_INTENTS, "changes", *SUBSCRIPTION_COMMANDS)
        team = await services.run(admins.admins)
        for language in Language:
            code = None if language is DEFAULT_LANGUAGE else language.value
            for scope in (BotCommandScopeAllPrivateChats(), BotCommandScopeAllGroupChats()):
                await application.bot.set_my_commands(
                    _commands(renderer, readers, language), scope=scope, language_code=code
                )
            # Editors and owners see their commands too, in their private chat with the bot.
            for member in team:
                extra = EDITOR_COMMANDS + (OWNER_COMMANDS if member.role is Role.OWNER else ())
                try:
                    await application.bot.set_my_commands(
                        _commands(renderer, (*readers, *extra), language),
                        scope=BotCommandScopeChat(member.user_id),
                        language_code=code,
                    )
                except TelegramError as error:  # e.g. an editor who never opened the bot
                    logger.info("No command menu for %s: %s", member.user_id, error)

    return register
