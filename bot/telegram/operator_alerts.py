"""Errors to the operators' chat: each distinct error at most once a window (a minute).

`OperatorAlerts` is a logging handler (level ERROR) on the root logger, so every error the
process logs, whatever its origin, reaches the chat in ERROR_CHAT_ID. Logging may happen on
any thread (asyncio.to_thread), so `emit` only decides and hands over: it never waits on the
network and never raises. Sending happens on the event loop, one message at a time.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import time
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING

from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.logs import RequestIdFilter
from bot.rendering import MAX_MESSAGE_LENGTH

if TYPE_CHECKING:
    from collections.abc import Callable

    from telegram import Bot

    from bot.logs import Redactor
    from bot.rendering import Renderer

logger = logging.getLogger(__name__)

TEMPLATE = "operator_error.html.j2"
TRACEBACK_LINES = 25  # the tail: the innermost frames and the exception say the most
MAX_LINE = 300
MAX_MESSAGE = 1000
MAX_EXCEPTION_MESSAGE = 500
QUEUE_LIMIT = 100  # distinct errors waiting to be sent; more are dropped with a warning
STOP_TIMEOUT_SECONDS = 5.0
# Distinct errors remembered for deduplication before those out of their window are forgotten.
MAX_REMEMBERED = 1024

# (logger, message template, exception type, innermost frame file:line)
_Key = tuple[str, str, str | None, str | None]


@dataclass(frozen=True, slots=True)
class _Report:
    """What the operators see of one record, captured on the thread that logged it."""

    level: str
    logger: str
    request_id: str
    message: str
    exception_type: str | None
    exception_message: str | None
    traceback: list[str]
    suppressed: int


@dataclass(slots=True)
class _Seen:
    sent_at: float
    suppressed: int = 0


class OperatorAlerts(logging.Handler):
    """Posts ERROR records to `chat_id`; repeats of one error within the window are counted.

    An error is its logger, message template, exception type and innermost frame, so the same
    failure with other ids is one error. Its first record is posted at once; later ones within
    `window_seconds` of that message are counted, and the next one after it says how many.
    """

    def __init__(
        self,
        chat_id: int,
        renderer: Renderer,
        redactor: Redactor,
        *,
        window_seconds: float = 60,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(logging.ERROR)
        self.addFilter(RequestIdFilter())
        self.chat_id = chat_id
        self.renderer = renderer
        self.redactor = redactor
        self.window_seconds = window_seconds
        self.clock = clock
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self._seen: dict[_Key, _Seen] = {}
        self._seen_lock = threading.Lock()
        self._bot: Bot | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[_Report] | None = None
        self._consumer: asyncio.Task[None] | None = None

    async def start(self, bot: Bot) -> None:
        """Send through `bot` from now on; call on the loop that runs the bot."""
        if self._consumer is not None:
            raise RuntimeError("OperatorAlerts is already started")
        self._bot = bot
        self._queue = asyncio.Queue(QUEUE_LIMIT)
        self._loop = asyncio.get_running_loop()
        self._consumer = self._loop.create_task(self._consume(), name="operator-alerts")
        logging.getLogger().addHandler(self)

    async def stop(self) -> None:
        """Detach, send what is queued (for a few seconds at most), then end the consumer."""
        logging.getLogger().removeHandler(self)
        consumer, queue = self._consumer, self._queue
        if consumer is None or queue is None:
            return
        # Records handed over from other threads just before removal are scheduled callbacks.
        await asyncio.sleep(0)
        try:
            await asyncio.wait_for(queue.join(), STOP_TIMEOUT_SECONDS)
        except TimeoutError:
            logger.warning("Gave up posting %d error(s) to the operators' chat", queue.qsize())
        self._loop = None
        consumer.cancel()
        await asyncio.wait({consumer})
        self._consumer = self._queue = self._bot = None

    # -- any thread ------------------------------------------------------------------------------

    def emit(self, record: logging.LogRecord) -> None:
        # A failed send logs a warning here; were it ever an error, it must not feed itself.
        if record.name == logger.name:
            return
        loop = self._loop
        if loop is None:
            return
        try:
            report = self._admit(record)
            if report is not None:
                loop.call_soon_threadsafe(self._enqueue, report)
        except Exception:  # a closed loop, a message that will not format: never the caller's
            self.handleError(record)

    def _admit(self, record: logging.LogRecord) -> _Report | None:
        """The report to send now, or None while the same error is inside its window."""
        key = _key(record)
        now = self.clock()
        with self._seen_lock:
            seen = self._seen.get(key)
            if seen is not None and now - seen.sent_at < self.window_seconds:
                seen.suppressed += 1
                return None
            suppressed = seen.suppressed if seen is not None else 0
            self._seen[key] = _Seen(sent_at=now)
            if len(self._seen) > MAX_REMEMBERED:
                self._forget(now)
        return self._report(record, suppressed)

    def _forget(self, now: float) -> None:
        expired = [
            key
            for key, seen in self._seen.items()
            if now - seen.sent_at >= self.window_seconds and not seen.suppressed
        ]
        for key in expired:
            del self._seen[key]

    def _report(self, record: logging.LogRecord, suppressed: int) -> _Report:
        redact = self.redactor.redact
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit the template
            message = f"{record.msg!s} {record.args!r}"
        exception_type = exception_message = None
        lines: list[str] = []
        if record.exc_info is not None and record.exc_info[0] is not None:
            kind, value, trace = record.exc_info
            exception_type = _qualified_name(kind)
            exception_message = _clip(redact(_safe_str(value)), MAX_EXCEPTION_MESSAGE)
            # Redacted before it is cut, so no cut can leave part of a secret behind.
            text = redact("".join(traceback.format_exception(kind, value, trace)))
            lines = [_clip(line, MAX_LINE) for line in text.splitlines()[-TRACEBACK_LINES:]]
        return _Report(
            level=record.levelname,
            logger=_clip(record.name, MAX_LINE),
            request_id=_clip(str(getattr(record, "request_id", "-")), MAX_LINE),
            message=_clip(redact(message), MAX_MESSAGE),
            exception_type=exception_type,
            exception_message=exception_message,
            traceback=lines,
            suppressed=suppressed,
        )

    # -- the event loop --------------------------------------------------------------------------

    def _enqueue(self, report: _Report) -> None:
        if self._queue is None:
            return
        try:
            self._queue.put_nowait(report)
        except asyncio.QueueFull:
            logger.warning("Too many errors waiting for the operators' chat; one was dropped")

    async def _consume(self) -> None:
        assert self._queue is not None
        while True:
            report = await self._queue.get()
            try:
                await self._send(report)
            except Exception:  # the consumer must outlive any one message
                logger.warning("Could not post an error to the operators' chat", exc_info=True)
            finally:
                self._queue.task_done()

    async def _send(self, report: _Report) -> None:
        assert self._bot is not None
        text = self._text(report)
        try:
            await self._bot.send_message(self.chat_id, text, parse_mode=ParseMode.HTML)
        except TelegramError as error:
            logger.warning("Could not post an error to the operators' chat: %s", error)

    def _text(self, report: _Report) -> str:
        """The message: the traceback loses its oldest lines until it fits one message."""
        lines = report.traceback
        while True:
            text = self.redactor.redact(
                self.renderer.render(
                    TEMPLATE,
                    level=report.level,
                    logger=report.logger,
                    request_id=report.request_id,
                    message=report.message,
                    exception_type=report.exception_type,
                    exception_message=report.exception_message,
                    traceback="\n".join(lines),
                    cut=len(lines) < len(report.traceback),
                    host=self.host,
                    pid=self.pid,
                    suppressed=report.suppressed,
                )
            )
            if len(text) <= MAX_MESSAGE_LENGTH or not lines:
                return text
            lines = lines[1:]


def _key(record: logging.LogRecord) -> _Key:
    """The same failure with other ids in its message (or its arguments) is the same error."""
    exception_type = where = None
    if record.exc_info is not None and record.exc_info[0] is not None:
        exception_type = _qualified_name(record.exc_info[0])
        trace = record.exc_info[2]
        while trace is not None and trace.tb_next is not None:
            trace = trace.tb_next
        if trace is not None:
            where = f"{trace.tb_frame.f_code.co_filename}:{trace.tb_lineno}"
    else:
        where = f"{record.pathname}:{record.lineno}"  # no traceback: where it was logged
    return (record.name, str(record.msg), exception_type, where)


def _qualified_name(kind: type[BaseException]) -> str:
    module = kind.__module__
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"


def _safe_str(value: BaseException | None) -> str:
    try:
        return str(value)
    except Exception:
        return f"<{type(value).__name__}>"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
