"""The bot's main job: the application, its HTTP port and its updates, from start to SIGTERM.

One lifecycle for both modes, in the order PTB's `run_polling`/`run_webhook` use (initialize,
post_init, start, ... stop, post_stop, shutdown, post_shutdown), because the webhook needs our
own HTTP server (see http_server.py) and shutdown needs answers and deliveries to finish side
by side within one bound.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import TYPE_CHECKING

from telegram import Update
from telegram.error import NetworkError, RetryAfter

from bot.telegram.app import build_application
from bot.telegram.broadcast import retry_after_seconds
from bot.telegram.http_server import HttpServer, Webhook
from bot.telegram.metrics import Metrics

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from sqlalchemy import Engine
    from telegram import Bot

    from bot.config import Settings
    from bot.telegram.types import AnyApplication

logger = logging.getLogger(__name__)

SET_WEBHOOK_ATTEMPTS = 5
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def run_bot(settings: Settings, engine: Engine) -> None:
    """Run until SIGTERM or Ctrl-C."""
    asyncio.run(serve(settings, engine))


async def serve(
    settings: Settings, engine: Engine, *, stopping: asyncio.Event | None = None
) -> None:
    """Answer updates and send deliveries until `stopping` is set (or a stop signal arrives),
    then finish what is in flight within SHUTDOWN_GRACE_SECONDS."""
    stopping = stopping or asyncio.Event()
    loop = asyncio.get_running_loop()
    for stop_signal in STOP_SIGNALS:
        loop.add_signal_handler(stop_signal, stopping.set)
    metrics = Metrics()
    application = build_application(settings, engine=engine, deliver=True, metrics=metrics)
    server: HttpServer | None = None
    stopped = False
    await application.initialize()
    try:
        await _call(application.post_init, application)
        if settings.http_port is not None:
            server = HttpServer(engine, metrics, _webhook(settings, application))
            await server.start(settings.listen_address, settings.http_port)
        await application.start()
        await _receive_updates(settings, application)
        await stopping.wait()
        logger.info(
            "Stopping: finishing answers and deliveries in flight (up to %d s)",
            settings.shutdown_grace_seconds,
        )
        if server is not None:
            server.closing()
        await asyncio.gather(
            _stop_answering(application, settings.shutdown_grace_seconds),
            _call(application.post_stop, application),
        )
        stopped = True
    finally:
        for stop_signal in STOP_SIGNALS:
            loop.remove_signal_handler(stop_signal)
        if not stopped:  # start-up failed half-way
            await _stop_answering(application, settings.shutdown_grace_seconds)
            await _call(application.post_stop, application)
        await application.shutdown()
        await _call(application.post_shutdown, application)
        if server is not None:
            await server.stop()
        logger.info("Stopped.")


def _webhook(settings: Settings, application: AnyApplication) -> Webhook | None:
    if settings.bot_mode != "webhook" or settings.webhook_secret is None:
        return None
    return Webhook(
        bot=application.bot,
        update_queue=application.update_queue,
        secret=settings.webhook_secret.get_secret_value(),
        path=settings.webhook_path,
    )


async def _receive_updates(settings: Settings, application: AnyApplication) -> None:
    """Tell Telegram where updates go: our webhook, or long polling (which drops any webhook)."""
    # Every update type, stated: my_chat_member (blocked, removed) is how subscriptions end.
    if settings.bot_mode == "webhook" and settings.webhook_secret is not None:
        url = str(settings.webhook_url)
        await _set_webhook(
            application.bot,
            url=url,
            secret=settings.webhook_secret.get_secret_value(),
            drop_pending_updates=settings.drop_pending_updates,
        )
        logger.info("Receiving updates at the webhook %s", url)
        return
    updater = application.updater
    if updater is None:
        raise RuntimeError("polling needs the application's updater")
    await updater.start_polling(
        allowed_updates=Update.ALL_TYPES, drop_pending_updates=settings.drop_pending_updates
    )
    logger.info("Receiving updates by polling")


async def _set_webhook(bot: Bot, *, url: str, secret: str, drop_pending_updates: bool) -> None:
    # Replicas start together and Telegram rate-limits setWebhook: wait as told, and retry
    # network failures a few times before giving up on the start.
    for attempt in range(1, SET_WEBHOOK_ATTEMPTS + 1):
        try:
            await bot.set_webhook(
                url=url,
                secret_token=secret,
                allowed_updates=Update.ALL_TYPES,
                drop_pending_updates=drop_pending_updates,
            )
            return
        except RetryAfter as error:
            wait = retry_after_seconds(error)
        except NetworkError as error:
            if attempt == SET_WEBHOOK_ATTEMPTS:
                raise
            wait = float(2**attempt)
            logger.warning("setWebhook failed (%s); retrying in %.0f s", error, wait)
        await asyncio.sleep(wait)
    raise RuntimeError(f"setWebhook still refused after {SET_WEBHOOK_ATTEMPTS} attempts")


async def _stop_answering(application: AnyApplication, grace: int) -> None:
    """Stop fetching updates, then let the queued and running ones finish (bounded)."""
    updater = application.updater
    if updater is not None and updater.running:
        await updater.stop()
    if not application.running:
        return
    try:
        await asyncio.wait_for(application.stop(), timeout=grace)
    except TimeoutError:
        logger.warning("Answers still in flight after %d s; stopping without them", grace)


async def _call(
    hook: Callable[[AnyApplication], Awaitable[object]] | None, application: AnyApplication
) -> None:
    if hook is not None:
        await hook(application)
