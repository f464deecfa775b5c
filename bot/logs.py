"""Logging: one handler on the root logger, plain text or JSON lines, request ids, no secrets.

`configure_logging(settings)` is called once by the entry point (tests may call it again; it
replaces its own handler and leaves any other, such as pytest's, alone). Every line carries the
request id bound with `request_context` (or `bind_request_id`), "-" outside an update, and
passes through a `Redactor` after formatting, so the bot token, the webhook secret and the
database password cannot reach the output by any path: messages, extras, tracebacks, JSON.
"""

from __future__ import annotations

import contextvars
import html
import json
import logging
import re
import sys
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_plus

from pythonjsonlogger.json import JsonFormatter
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from typing import TextIO

    from bot.config import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
REDACTED = "[redacted]"
NO_REQUEST = "-"
# Shorter values would blank out ordinary words in every line, and guard nothing anyway.
MIN_SECRET_LENGTH = 4

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar(
    "tradewatch_request_id", default=NO_REQUEST
)


def current_request_id() -> str:
    return _request_id.get()


def bind_request_id(value: str) -> contextvars.Token[str]:
    """Tag every record logged in this context (and tasks created from it) with `value`."""
    return _request_id.set(value)


def reset_request_id(token: contextvars.Token[str]) -> None:
    _request_id.reset(token)


@contextmanager
def request_context(value: str) -> Iterator[None]:
    """`with request_context(f"u{update.update_id}"):` around one update's processing."""
    token = bind_request_id(value)
    try:
        yield
    finally:
        reset_request_id(token)


class RequestIdFilter(logging.Filter):
    """Puts `record.request_id` on every record a handler sees, whichever logger made it."""

    def filter(self, record: logging.LogRecord) -> bool:
        # A record handed on from another context (a queue, extra=) keeps the id it came with.
        if not hasattr(record, "request_id"):
            record.request_id = _request_id.get()
        return True


class Redactor:
    """Replaces each secret, as written raw, URL-, JSON- or HTML-escaped, by "[redacted]"."""

    def __init__(self, secrets: Iterable[str]) -> None:
        variants: set[str] = set()
        for secret in secrets:
            if len(secret) < MIN_SECRET_LENGTH:
                continue
            variants.update(
                (
                    secret,
                    quote(secret, safe=""),
                    quote(secret),
                    quote_plus(secret),
                    json.dumps(secret)[1:-1],
                    json.dumps(secret, ensure_ascii=False)[1:-1],
                    html.escape(secret),
                    html.escape(secret, quote=False),
                )
            )
        # Longest first, so a secret containing another is replaced whole.
        ordered = sorted(variants, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    @classmethod
    def from_settings(cls, settings: Settings) -> Redactor:
        secrets: list[str] = []
        if settings.telegram_bot_token is not None:
            token = settings.telegram_bot_token.get_secret_value()
            # The part after the bot id is the secret; it may appear on its own or re-encoded.
            secrets += [token, token.partition(":")[2]]
        if settings.webhook_secret is not None:
            secrets.append(settings.webhook_secret.get_secret_value())
        password = _database_password(settings.database_url)
        if password:
            secrets.append(password)
        return cls(secrets)

    def redact(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(REDACTED, text)


def _database_password(url: str) -> str | None:
    try:
        return make_url(url).password
    except ArgumentError:
        return None


class RedactingFormatter(logging.Formatter):
    """Formats with `inner`, then redacts the finished line (traceback and JSON included)."""

    def __init__(self, inner: logging.Formatter, redactor: Redactor) -> None:
        super().__init__()
        self.inner = inner
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        return self.redactor.redact(self.inner.format(record))


class JsonLineFormatter(JsonFormatter):
    """One JSON object per line: time (UTC), level, logger, message, request_id, extras."""

    def __init__(self) -> None:
        super().__init__(
            ["levelname", "name", "message", "request_id"],
            rename_fields={"levelname": "level", "name": "logger"},
        )

    def add_fields(
        self,
        log_data: dict[str, Any],
        record: logging.LogRecord,
        message_dict: dict[str, Any],
    ) -> None:
        log_data["time"] = datetime.fromtimestamp(record.created, tz=UTC).isoformat(
            timespec="milliseconds"
        )
        super().add_fields(log_data, record, message_dict)


class _RootHandler(logging.StreamHandler["TextIO"]):
    """The handler configure_logging installs; its class is how a second call finds it.

    Without an explicit stream it writes to whatever `sys.stderr` is at the time of each
    record (as logging's last-resort handler does), so replacing stderr later still works.
    """

    def __init__(self, stream: TextIO | None) -> None:
        logging.Handler.__init__(self)
        self._fixed_stream = stream

    @property
    def stream(self) -> TextIO:
        return self._fixed_stream if self._fixed_stream is not None else sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:  # StreamHandler.setStream
        self._fixed_stream = value


def configure_logging(settings: Settings, *, stream: TextIO | None = None) -> None:
    """Send every record to standard error (or `stream`) as LOG_FORMAT says, at LOG_LEVEL."""
    root = logging.getLogger()
    for old in [handler for handler in root.handlers if isinstance(handler, _RootHandler)]:
        root.removeHandler(old)
        old.close()
    inner: logging.Formatter = (
        JsonLineFormatter() if settings.log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    handler = _RootHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(RedactingFormatter(inner, Redactor.from_settings(settings)))
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    # httpx logs every request URL, and Bot API URLs contain the token (redacted, but noisy).
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # Alembic narrates each step; bot.bootstrap logs one line per migration run instead.
    logging.getLogger("alembic").setLevel(
        logging.NOTSET if settings.log_level == "DEBUG" else logging.WARNING
    )
