"""Digests and alerts on schedule: the JobQueue's ticks, the one sender they start, and the
same run for the command line (`python -m bot digest run-due`)."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from bot.rendering import Renderer
from bot.telegram.answer_cache import AnswerCache
from bot.telegram.broadcast import Broadcaster, RunReport, make_broadcast_bot
from bot.telegram.services import BotServices

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy import Engine

    from bot.config import Settings
    from bot.telegram.types import AnyApplication

logger = logging.getLogger(__name__)


class DeliveryJobs:
    """The minutely digest tick and the alert check on PTB's JobQueue, and their one sender.

    The ticks only write to the ledger and start a drain in the background, so a long run never
    holds up the JobQueue (or the next tick), and the drain stops cleanly with the application.
    """

    ALERT_CHECK_SECONDS = 10

    def __init__(self, services: BotServices) -> None:
        self.services = services
        self.broadcaster: Broadcaster | None = None
        self._drain_task: asyncio.Task[RunReport] | None = None

    async def start(self, application: AnyApplication) -> None:
        bot = make_broadcast_bot(self.services)
        await bot.initialize()
        self.broadcaster = Broadcaster(self.services, bot)
        jobs = application.job_queue
        if jobs is None:
            raise RuntimeError("python-telegram-bot[job-queue] is required for deliveries")
        # Digests at once (what fell due while we were down), then on each minute (a due time
        # is always a whole hour); alerts every few seconds.
        now = self.services.clock()
        jobs.run_once(self.digest_tick, when=0.5, name="digests-on-start")
        jobs.run_repeating(
            self.digest_tick,
            interval=60,
            first=61 - now.second - now.microsecond / 1e6,
            name="digests",
        )
        jobs.run_repeating(
            self.alert_tick, interval=self.ALERT_CHECK_SECONDS, first=1, name="alerts"
        )
        logger.info(
            "Deliveries on: digest tick every minute, alert check every %d s",
            self.ALERT_CHECK_SECONDS,
        )

    async def digest_tick(self, _context: object) -> None:
        if self.broadcaster is None:
            return
        await self.broadcaster.schedule_due()
        self._start_drain(self.broadcaster)

    async def alert_tick(self, _context: object) -> None:
        if self.broadcaster is None:
            return
        await self.broadcaster.dispatch_alerts()
        self._start_drain(self.broadcaster)

    def _start_drain(self, broadcaster: Broadcaster) -> None:
        if self._drain_task and not self._drain_task.done():
            return
        self._drain_task = asyncio.create_task(broadcaster.drain(), name="deliveries")
        self._drain_task.add_done_callback(_log_drain_failure)

    async def stop(self, _application: AnyApplication) -> None:
        """Let messages in flight finish (bounded), claim nothing more."""
        if self.broadcaster is not None:
            self.broadcaster.stop()
        if self._drain_task is not None and not self._drain_task.done():
            grace = self.services.settings.shutdown_grace_seconds
            try:
                await asyncio.wait_for(self._drain_task, timeout=grace)
            except TimeoutError:
                logger.warning(
                    "Deliveries still in flight after %d s; they resume after their lease "
                    "(DELIVERY_LEASE_SECONDS) on restart",
                    grace,
                )

    async def shutdown(self, _application: AnyApplication) -> None:
        if self.broadcaster is not None:
            await self.broadcaster.bot.shutdown()
            self.broadcaster.close()


def _log_drain_failure(task: asyncio.Task[RunReport]) -> None:
    # E.g. the database went away mid-run: the claimed rows resume once their lease ends, and
    # the next tick starts a new drain.
    if not task.cancelled() and (error := task.exception()) is not None:
        logger.error("Delivery run stopped: %s", error, exc_info=error)


async def send_due_now(settings: Settings, engine: Engine, *, now: datetime) -> RunReport:
    """One run from the command line, as the bot's tick would do it, at `now`."""
    services = BotServices(
        settings, engine, Renderer(settings.templates_dir), AnswerCache(0), clock=lambda: now
    )
    bot = make_broadcast_bot(services)
    broadcaster = Broadcaster(services, bot)
    try:
        async with bot:
            return await broadcaster.run_due()
    finally:
        broadcaster.close()
