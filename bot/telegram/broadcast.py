"""Sending digests and alerts: the ledger's deliveries, throttled, through a bot of their own.

Broadcasts use their own `Bot` and HTTP connection pool and their own throttle, so a digest run
never queues in front of the answers to questions (those go through the application's bot).
The run itself is a background task: updates keep being handled while it sends.

Per message: wait for the throttle, send, record the message in the ledger at once (in a thread
of the run's own, so the event loop never waits on the database). Telegram's answers decide
what happens next (README, "Delivery guarantees"): 429 pauses every sender for `retry_after`;
403 and "chat not found" deactivate the subscriber and are never retried; a group that became a
supergroup is followed to its new id; timeouts and network errors back off and retry; other
refusals fail the delivery with the reason kept.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import warnings
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from aiolimiter import AsyncLimiter
from sqlalchemy.exc import SQLAlchemyError
from telegram import Bot, Message
from telegram.constants import ChatType, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from bot.i18n import using_language
from bot.services import delivery
from bot.services import digest as content
from bot.telegram.metrics import InstrumentedRequest
from bot.telegram.presenter import NO_PREVIEW, Chart, Presenter
from bot.telegram.services import BotServices
from bot.vocabulary import DeliveryKind, DeliveryState

if TYPE_CHECKING:
    from collections.abc import Callable

    from bot.services.delivery import Claim

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

# Between two messages to the same chat (a digest in several parts): Telegram asks for at most
# one a second in a private chat and 20 a minute in a group or channel.
PRIVATE_SPACING = 1.05
GROUP_SPACING = 3.05
# Deliveries in progress per request in flight: the others wait for their chat's spacing
# (a digest in two parts) without holding a connection.
DELIVERIES_PER_REQUEST = 8
# A claim is sent only within this share of its lease, leaving the rest for the request itself.
LEASE_SAFETY = 0.5
# Telegram's "chat not found" is a 400, but means the same as a 403 for a subscriber.
GONE_CHAT_ERRORS = ("chat not found", "user not found", "peer_id_invalid", "group chat was deleted")


@dataclass(slots=True)
class RunReport:
    """What one run did, for logs, the CLI and the benchmarks."""

    scheduled: int = 0
    alerts: int = 0
    sent: int = 0  # messages
    delivered: int = 0  # deliveries completed
    blocked: int = 0
    failed: int = 0
    retried: int = 0
    rate_limited: int = 0  # 429s seen
    released: int = 0  # handed back unsent (a 429 pause, a shutdown)
    errors: list[str] = field(default_factory=list)


Part = str | Chart
# Claimed deliveries waiting for a sender, with the monotonic time of their claim.
Queue = deque[tuple["Claim", float]]


def make_broadcast_bot(services: BotServices) -> Bot:
    settings = services.settings
    if settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is required to send digests")
    base_url = "https://api.telegram.org/bot"
    if settings.telegram_api_base_url is not None:
        base_url = f"{str(settings.telegram_api_base_url).rstrip('/')}/bot"
    request = InstrumentedRequest(
        HTTPXRequest(
            connection_pool_size=settings.broadcast_concurrency + 1,
            read_timeout=15,
            write_timeout=15,
            pool_timeout=15,
        ),
        services.metrics,
        sender="deliveries",
    )
    return Bot(settings.telegram_bot_token.get_secret_value(), base_url=base_url, request=request)


class Broadcaster:
    def __init__(self, services: BotServices, bot: Bot) -> None:
        self.services = services
        self.bot = bot
        self.presenter = Presenter(services)
        settings = services.settings
        self.concurrency = settings.broadcast_concurrency
        self._in_flight = asyncio.Semaphore(self.concurrency)
        self.lease_seconds = settings.delivery_lease_seconds
        self._limiter = (
            AsyncLimiter(settings.broadcast_rate, 1) if settings.broadcast_rate > 0 else None
        )
        self._paused_until = 0.0  # monotonic: after a 429, nobody sends before this
        self._last_sent: dict[int, float] = {}  # chat id -> monotonic time of its last message
        self._stopping = False
        self._draining = asyncio.Lock()
        # Rendered messages by content key; reset by each drain, since the data may have changed.
        # Senders that need the same content while it is being built wait for that one build.
        self._rendered: dict[tuple[object, ...], asyncio.Future[list[Part]]] = {}
        # The ledger and the rendering run in threads of their own: the event loop stays free
        # for answers, and a run cannot take the threads questions use for their database work.
        self._threads = ThreadPoolExecutor(self.concurrency + 1, thread_name_prefix="deliveries")

    async def _in_thread(self, work: Callable[..., _T], /, *args: Any, **kwargs: Any) -> _T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads, functools.partial(work, *args, **kwargs))

    def close(self) -> None:
        self._threads.shutdown(wait=False)

    # --- the run --------------------------------------------------------------------------

    async def run_due(self) -> RunReport:
        """Schedule what is due (digests, alerts), then send everything claimable."""
        report = RunReport()
        report.scheduled = await self.schedule_due()
        report.alerts = await self.dispatch_alerts()
        await self.drain(report)
        return report

    async def schedule_due(self) -> int:
        """Ledger rows for the digests due now (see `delivery.schedule_due_digests`)."""
        return await self._in_thread(
            delivery.schedule_due_digests, self.services.engine, now=self.services.clock()
        )

    async def dispatch_alerts(self) -> int:
        """Ledger rows for the changes ready to be alerted (see `delivery.dispatch_alerts`)."""
        return await self._in_thread(
            delivery.dispatch_alerts,
            self.services.engine,
            now=self.services.clock(),
            batch_seconds=self.services.settings.alert_batch_seconds,
        )

    async def drain(self, report: RunReport | None = None) -> RunReport:
        """Send claimable deliveries until none is left; one drain at a time per process."""
        report = report or RunReport()
        if self._draining.locked():
            return report
        async with self._draining:
            self._rendered.clear()
            queue: Queue = deque()
            claiming = asyncio.Lock()
            workers = [
                asyncio.create_task(self._work(queue, claiming, report))
                for _ in range(self.concurrency * DELIVERIES_PER_REQUEST)
            ]
            try:
                await asyncio.gather(*workers)
            finally:
                # One worker failed (the ledger is unreachable) or the run was cancelled: the
                # others stop too, rather than go on sending messages nobody can record (each
                # one a duplicate once the rows are resumed) after the run has ended.
                for worker in workers:
                    worker.cancel()
                await asyncio.gather(*workers, return_exceptions=True)
                # Claims not started (a shutdown, a cancelled run) go back at once, so a restart
                # resumes them without waiting for the lease to run out.
                try:
                    await self._release([claim for claim, _ in queue], report, wait=0.0)
                except SQLAlchemyError as error:
                    logger.warning("Unsent claims resume after their lease: %s", error)
                queue.clear()
        if report.sent or report.blocked or report.failed:
            logger.info(
                "Delivery run: %d messages, %d deliveries, %d blocked, %d failed, %d retried, "
                "%d 429s",
                report.sent,
                report.delivered,
                report.blocked,
                report.failed,
                report.retried,
                report.rate_limited,
            )
        return report

    def stop(self) -> None:
        """Finish the messages in flight, claim nothing more (graceful shutdown)."""
        self._stopping = True

    async def _work(self, queue: Queue, claiming: asyncio.Lock, report: RunReport) -> None:
        while not self._stopping:
            if not queue:
                async with claiming:
                    if not queue:
                        await self._wait_for_pause()
                        claimed_at = time.monotonic()
                        claims = await self._in_thread(
                            delivery.claim,
                            self.services.engine,
                            now=self.services.clock(),
                            limit=self.concurrency * DELIVERIES_PER_REQUEST,
                            lease_seconds=self.lease_seconds,
                        )
                        queue.extend((claim, claimed_at) for claim in claims)
                        if not queue:
                            return
                continue
            claimed, claimed_at = queue.popleft()
            try:
                await self._deliver(claimed, queue, report, claimed_at=claimed_at)
            except SQLAlchemyError:
                # The ledger is unreachable (the database is down or locked): the message may
                # have gone out unrecorded, and nothing more can be recorded. The run stops; the
                # row resumes from its last recorded part once its lease runs out.
                raise
            except Exception as error:  # a bug must not stop the other deliveries
                logger.exception("Delivery %d failed unexpectedly", claimed.delivery_id)
                report.errors.append(repr(error))
                await self._retry(claimed, repr(error), report)

    # --- one delivery ---------------------------------------------------------------------

    async def _deliver(
        self, claimed: Claim, queue: Queue, report: RunReport, *, claimed_at: float
    ) -> None:
        engine = self.services.engine
        if not claimed.active:
            await self._in_thread(
                delivery.block,
                engine,
                claimed,
                reason=claimed.deactivated_reason or "unsubscribed",
                now=self._now(),
            )
            report.blocked += 1
            return
        parts = await self._content(claimed)
        if not parts:  # e.g. an alert about topics this subscriber no longer follows
            await self._in_thread(
                delivery.record_sent_part,
                engine,
                claimed,
                parts_sent=0,
                total=0,
                message_id=None,
                now=self._now(),
            )
            report.delivered += 1
            return
        chat_id = claimed.chat_id
        index = claimed.parts_sent
        while index < len(parts):
            await self._space(chat_id, claimed.chat_type)
            try:
                async with self._in_flight:
                    await self._wait_for_pause()
                    if self._limiter is not None:
                        await self._limiter.acquire()
                    if self._stopping or self._lease_running_out(claimed_at):
                        # Shutting down, the message waits for the next run; near the end of
                        # the lease, another sender may take this row and sending now could be
                        # a second copy. Hand it back either way.
                        await self._release([claimed], report, wait=0.0)
                        return
                    self._mark_sending(chat_id)
                    message = await self._send(chat_id, parts[index])
                    # Recorded before the request slot is given back: messages sent but not
                    # yet recorded never outnumber the requests in flight, which is the most a
                    # crash or a database fault can make us send twice.
                    await self._in_thread(
                        delivery.record_sent_part,
                        engine,
                        claimed,
                        parts_sent=index + 1,
                        total=len(parts),
                        message_id=message.message_id,
                        now=self._now(),
                    )
            except RetryAfter as error:
                report.rate_limited += 1
                wait = retry_after_seconds(error)
                self._paused_until = max(self._paused_until, time.monotonic() + wait)
                logger.warning("Telegram asked us to wait %.0f s (429)", wait)
                pending = [claimed, *(waiting for waiting, _ in queue)]
                queue.clear()
                await self._release(pending, report, wait=wait)
                return
            except ChatMigrated as error:
                await self._in_thread(
                    delivery.move_chat, engine, old_chat_id=chat_id, new_chat_id=error.new_chat_id
                )
                chat_id = error.new_chat_id
                continue
            except Forbidden as error:
                await self._block(claimed, error.message, report)
                return
            except BadRequest as error:
                if any(text in error.message.lower() for text in GONE_CHAT_ERRORS):
                    await self._block(claimed, error.message, report)
                else:
                    await self._in_thread(
                        delivery.fail, engine, claimed, error=error.message, now=self._now()
                    )
                    report.failed += 1
                return
            except (NetworkError, TelegramError) as error:  # timeouts included
                await self._retry(claimed, f"{type(error).__name__}: {error.message}", report)
                return
            index += 1
            report.sent += 1
        report.delivered += 1

    async def _content(self, claimed: Claim) -> list[Part]:
        """The messages of a delivery, rendered once per distinct content in this process."""
        key = claimed.content_key
        building = self._rendered.get(key)
        if building is None:
            if len(self._rendered) >= 512:
                self._rendered.clear()
            building = asyncio.ensure_future(self._in_thread(self._build_content, claimed))
            # Its error reaches every sender awaiting it; none may be left to read it.
            building.add_done_callback(lambda done: done.cancelled() or done.exception())
            self._rendered[key] = building
        try:
            return await asyncio.shield(building)
        except Exception:
            # A failed build (the database went away) is not kept: the next claim tries again.
            if self._rendered.get(key) is building:
                del self._rendered[key]
            raise

    def _build_content(self, claimed: Claim) -> list[Part]:
        renderer = self.services.renderer
        parts: list[Part]
        with using_language(claimed.language), self.services.session() as session:
            if claimed.kind is DeliveryKind.DIGEST:
                built = content.build_digest(
                    session,
                    topics=claimed.topics,
                    since=claimed.since,
                    freshness=self.services.freshness(),
                    frequency=claimed.frequency,
                    news_scope=claimed.news_scope,
                )
                parts = list(content.render_digest(renderer, built))
                if claimed.include_chart:
                    parts.append(self.presenter.chart(content.DIGEST_CHART, session))
            else:
                alert = content.build_alert(
                    session,
                    topics=claimed.topics,
                    after_change_id=claimed.after_change_id or 0,
                    up_to_change_id=claimed.up_to_change_id or 0,
                )
                parts = [] if alert is None else list(content.render_alert(renderer, alert))
        return parts

    async def _send(self, chat_id: int, part: Part) -> Message:
        if isinstance(part, Chart):
            sent = await self.bot.send_photo(
                chat_id, part.photo, caption=part.caption, parse_mode=ParseMode.HTML
            )
            self.presenter.remember_upload(part, sent)
            return sent
        return await self.bot.send_message(
            chat_id, part, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW
        )

    # --- pacing ---------------------------------------------------------------------------

    async def _wait_for_pause(self) -> None:
        wait = self._paused_until - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)

    async def _space(self, chat_id: int, chat_type: str) -> None:
        """Wait until this chat may get its next message (Telegram's per-chat limits)."""
        spacing = PRIVATE_SPACING if chat_type == ChatType.PRIVATE else GROUP_SPACING
        last = self._last_sent.get(chat_id)
        if last is not None:
            wait = last + spacing - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)

    def _lease_running_out(self, claimed_at: float) -> bool:
        return time.monotonic() - claimed_at > self.lease_seconds * LEASE_SAFETY

    def _mark_sending(self, chat_id: int) -> None:
        now = time.monotonic()
        self._last_sent[chat_id] = now
        if len(self._last_sent) > 10_000:  # only recent chats matter for spacing
            self._last_sent = {
                chat: at for chat, at in self._last_sent.items() if now - at < GROUP_SPACING
            }

    # --- outcomes -------------------------------------------------------------------------

    def _now(self) -> datetime:
        return self.services.clock()

    async def _block(self, claimed: Claim, reason: str, report: RunReport) -> None:
        logger.info("Chat %s is gone (%s): subscriber deactivated", claimed.chat_id, reason)
        await self._in_thread(
            delivery.block, self.services.engine, claimed, reason=reason, now=self._now()
        )
        report.blocked += 1

    async def _retry(self, claimed: Claim, error: str, report: RunReport) -> None:
        state = await self._in_thread(
            delivery.retry_later, self.services.engine, claimed, error=error, now=self._now()
        )
        if state is DeliveryState.FAILED:
            logger.warning("Delivery %d failed for good: %s", claimed.delivery_id, error)
            report.failed += 1
        else:
            report.retried += 1

    async def _release(self, claims: list[Claim], report: RunReport, *, wait: float) -> None:
        if not claims:
            return
        now = self._now()
        await self._in_thread(
            delivery.release,
            self.services.engine,
            claims,
            not_before=now + timedelta(seconds=wait),
            now=now,
        )
        report.released += len(claims)


def retry_after_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # an int today, a timedelta in PTB's next major version
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
