"""Prometheus metrics: what the bot did (counted as it happens) and what it owes (read from
the ledger at scrape time).

Each application owns its registry, so two in one process (tests) never share counters. The
counting hooks are PTB's own extension points: the update processor
(`bot/telegram/update_processor.py`) around every update, and a request wrapper around every
Bot API call.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError
from telegram import Update
from telegram.request import BaseRequest

from bot.services import delivery
from bot.vocabulary import DeliveryState

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from datetime import datetime

    from prometheus_client import Metric
    from sqlalchemy import Engine
    from telegram._utils.types import ODVInput
    from telegram.request import RequestData

logger = logging.getLogger(__name__)

# Bot API methods that put something in front of a user.
_REPLY_PREFIXES = ("send", "edit", "answer", "copy", "forward")
# An answer refused with a 429 is sent again up to this many times, if Telegram's wait is short.
ANSWER_429_RETRIES = 3
ANSWER_429_MAX_WAIT = 10.0
# Seconds; an answer is mostly database work plus one Bot API call.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The bot's metrics, in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.updates = Counter(
            "tradewatch_updates",
            "Updates handled, by type",
            ["type"],
            registry=self.registry,
        )
        self.update_seconds = Histogram(
            "tradewatch_update_seconds",
            "Time to handle one update, replies included, by type",
            ["type"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.replies = Counter(
            "tradewatch_replies",
            "Bot API calls that showed users something (answers, not digests), by method",
            ["method"],
            registry=self.registry,
        )
        self.delivery_messages = Counter(
            "tradewatch_delivery_messages",
            "Digest and alert messages sent by this process",
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "tradewatch_telegram_429",
            "Bot API answers 429 (Too Many Requests), by sender",
            ["sender"],
            registry=self.registry,
        )
        self.webhook_refused = Counter(
            "tradewatch_webhook_refused",
            "Webhook requests refused for a wrong or missing secret token",
            registry=self.registry,
        )

    def watch_ledger(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self.registry.register(LedgerCollector(engine, clock))

    def observe_update(self, update: object, seconds: float) -> None:
        kind = update_type(update)
        self.updates.labels(kind).inc()
        self.update_seconds.labels(kind).observe(seconds)


def update_type(update: object) -> str:
    """The update's kind as Telegram names it (message, callback_query, ...)."""
    if isinstance(update, Update):
        for kind in Update.ALL_TYPES:
            if getattr(update, kind, None) is not None:
                return str(kind)
    return "other"


class LedgerCollector(Collector):
    """Deliveries by state and the due backlog, read from the database at each scrape.

    They describe the shared ledger, so every instance reports the same figures. When the
    database is down the scrape still succeeds, without these (/readyz says why).
    """

    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.clock = clock

    def collect(self) -> Iterator[Metric]:
        try:
            counts = delivery.counts_by_state(self.engine)
            backlog = delivery.due_backlog(self.engine, now=self.clock())
        except SQLAlchemyError as error:
            logger.warning("Metrics without the ledger: %s", str(error).splitlines()[0])
            return
        states = GaugeMetricFamily(
            "tradewatch_deliveries", "Deliveries in the ledger, by state", labels=["state"]
        )
        for state in DeliveryState:
            states.add_metric([state.value], counts.get(state.value, 0))
        yield states
        yield GaugeMetricFamily(
            "tradewatch_due_backlog",
            "Messages owed now: due digests not yet scheduled, and deliveries whose time has come",
            value=backlog,
        )


class InstrumentedRequest(BaseRequest):
    """A Bot API transport that counts replies and 429s on the way through."""

    def __init__(self, inner: BaseRequest, metrics: Metrics, *, sender: str) -> None:
        self.inner = inner
        self.metrics = metrics
        self.sender = sender

    @property
    def read_timeout(self) -> float | None:
        return self.inner.read_timeout

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        status, payload = await self.inner.do_request(
            url,
            method,
            request_data,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )
        api_method = url.rsplit("/", 1)[-1]
        if status == 429:
            self.metrics.rate_limited.labels(self.sender).inc()
            if self.sender == "answers":
                return await self._after_429(
                    payload,
                    url,
                    method,
                    request_data,
                    read_timeout=read_timeout,
                    write_timeout=write_timeout,
                    connect_timeout=connect_timeout,
                    pool_timeout=pool_timeout,
                )
        elif status == 200 and api_method.startswith(_REPLY_PREFIXES):
            if self.sender == "deliveries":
                self.metrics.delivery_messages.inc()
            else:
                self.metrics.replies.labels(api_method).inc()
        return status, payload

    async def _after_429(
        self,
        payload: bytes,
        url: str,
        method: str,
        request_data: RequestData | None,
        **timeouts: Any,
    ) -> tuple[int, bytes]:
        """An answer refused with a 429 goes again once Telegram's wait is over.

        A 429 means Telegram did not take the message, so sending it again is no duplicate;
        without this, a reader's answer (and then the apology for it) is lost whenever a
        digest run has the bot at its limits. Short waits only: a longer one is passed on as
        the RetryAfter error, as before.
        """
        for _ in range(ANSWER_429_RETRIES):
            wait = _retry_after(payload)
            if wait is None or wait > ANSWER_429_MAX_WAIT:
                break
            await asyncio.sleep(wait)
            status, payload = await self.inner.do_request(url, method, request_data, **timeouts)
            if status != 429:
                if status == 200 and url.rsplit("/", 1)[-1].startswith(_REPLY_PREFIXES):
                    self.metrics.replies.labels(url.rsplit("/", 1)[-1]).inc()
                return status, payload
            self.metrics.rate_limited.labels(self.sender).inc()
        return 429, payload


def _retry_after(payload: bytes) -> float | None:
    try:
        value = json.loads(payload)["parameters"]["retry_after"]
    except (ValueError, KeyError, TypeError):
        return None
    return float(value) if isinstance(value, int | float) else None
