"""The news on a schedule: polling the feeds that are due, and offering new items to editors.

Polling runs in the JobQueue's loop as async I/O; reading the feeds goes to a worker process
(FEED_PARSE_PROCESSES), started at the first round, so a round of hundreds of feeds leaves the
interpreter to the answers. A round still running when the next tick comes is not doubled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import TYPE_CHECKING

from bot.services.feeds.polling import FeedPoller, fetcher_for, poller_for

if TYPE_CHECKING:
    from bot.services.feeds.fetch import FeedFetcher
    from bot.telegram.handlers.editors.news import NewsHandlers
    from bot.telegram.services import BotServices
    from bot.telegram.types import AnyApplication

logger = logging.getLogger(__name__)

POLL_CHECK_SECONDS = 60  # how often due feeds are looked for (each feed: FEED_POLL_SECONDS)
REVIEW_CHECK_SECONDS = 30  # how often new items are looked for (one batch per NEWS_REVIEW_SECONDS)


class NewsJobs:
    def __init__(self, services: BotServices, news: NewsHandlers) -> None:
        self.services = services
        self.news = news
        self._fetcher: FeedFetcher | None = None
        self._poller: FeedPoller | None = None
        self._reader: Executor | None = None
        self._round: asyncio.Task[object] | None = None

    async def start(self, application: AnyApplication) -> None:
        jobs = application.job_queue
        if jobs is None:
            raise RuntimeError("python-telegram-bot[job-queue] is required for the news")
        settings = self.services.settings
        if settings.feed_poll_seconds > 0:
            jobs.run_repeating(
                self.poll_tick,
                interval=min(POLL_CHECK_SECONDS, settings.feed_poll_seconds),
                first=2,
                name="feeds",
            )
            logger.info("Feeds on: each polled every %d s.", settings.feed_poll_seconds)
        jobs.run_repeating(
            self.review_tick, interval=REVIEW_CHECK_SECONDS, first=5, name="news-review"
        )

    async def poll_tick(self, context: object) -> None:
        if self._round is not None and not self._round.done():
            return  # the last round is still going: each feed is polled once at a time
        self._round = asyncio.create_task(self._poller_now().poll())
        try:
            await self._round
        except asyncio.CancelledError:
            pass  # stopped: `stop` cancelled the round
        except Exception:
            logger.exception("A feed polling round failed")

    async def review_tick(self, context: object) -> None:
        bot = getattr(context, "bot", None)
        if bot is None:
            return
        try:
            await self.news.send_review_batch(bot)
        except Exception:
            logger.exception("Offering news for review failed")

    def _poller_now(self) -> FeedPoller:
        if self._poller is None:
            settings = self.services.settings
            if settings.feed_parse_processes > 0:
                # spawn: a forked child would inherit the bot's threads and locks mid-use.
                self._reader = ProcessPoolExecutor(
                    max_workers=settings.feed_parse_processes,
                    mp_context=multiprocessing.get_context("spawn"),
                )
            self._fetcher = fetcher_for(settings)
            self._poller = poller_for(
                settings, self.services.engine, reader=self._reader, fetcher=self._fetcher
            )
        return self._poller

    async def stop(self, _application: AnyApplication) -> None:
        # A round in progress stops between feeds' transactions: what a feed read is stored
        # whole or not at all, and a feed left claimed is polled again when its lease ends.
        if self._round is not None and not self._round.done():
            self._round.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._round
        if self._fetcher is not None:
            await self._fetcher.aclose()
        if self._poller is not None:
            self._poller.close()
        if self._reader is not None:
            self._reader.shutdown(wait=False, cancel_futures=True)
