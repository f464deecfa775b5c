"""Log lines: text or JSON, each with its request id, and never a secret."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest

from bot.config import Settings
from bot.logs import (
    REDACTED,
    Redactor,
    bind_request_id,
    configure_logging,
    request_context,
    reset_request_id,
)
from tests.conftest import FAKE_TOKEN

WEBHOOK_SECRET = "hook-Secret_0123456789"
DB_PASSWORD = 'p@ss"w/rd-42'
# The password as it sits in DATABASE_URL: percent-encoded.
DATABASE_URL = "postgresql+psycopg://tradewatch:p%40ss%22w%2Frd-42@db.internal:5432/tradewatch"
SECRETS = (FAKE_TOKEN, FAKE_TOKEN.partition(":")[2], WEBHOOK_SECRET, DB_PASSWORD)

log = logging.getLogger("tests.logs")


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """configure_logging changes the root logger; put it back as pytest set it up."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quieted = {name: logging.getLogger(name).level for name in ("httpx", "alembic")}
    yield
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
    for name, old in quieted.items():
        logging.getLogger(name).setLevel(old)


@pytest.fixture
def output(make_settings: Callable[..., Settings]) -> Callable[..., io.StringIO]:
    """Configure logging with these settings (and the test secrets) into a string buffer."""

    def configure(**overrides: object) -> io.StringIO:
        values: dict[str, object] = {
            "telegram_bot_token": FAKE_TOKEN,
            "webhook_secret": WEBHOOK_SECRET,
            "database_url": DATABASE_URL,
        }
        values.update(overrides)
        stream = io.StringIO()
        configure_logging(make_settings(**values), stream=stream)
        return stream

    return configure


def lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def test_text_lines_carry_the_request_id(output: Callable[..., io.StringIO]) -> None:
    stream = output()
    log.info("outside")
    with request_context("u1234"):
        log.info("answering %s", "nathu la")
    log.info("after")

    first, second, third = lines(stream)
    assert first.endswith("INFO tests.logs [-] outside")
    assert second.endswith("INFO tests.logs [u1234] answering nathu la")
    assert third.endswith("INFO tests.logs [-] after")


async def test_tasks_started_inside_an_update_inherit_its_id(
    output: Callable[..., io.StringIO],
) -> None:
    stream = output()

    async def background() -> None:
        await asyncio.sleep(0)
        log.info("in a task")

    token = bind_request_id("u7")
    try:
        task = asyncio.create_task(background())
    finally:
        reset_request_id(token)
    await task
    log.info("back outside")

    assert [line.split(" ", 3)[3] for line in lines(stream)] == [
        "tests.logs [u7] in a task",
        "tests.logs [-] back outside",
    ]


def test_json_lines(output: Callable[..., io.StringIO]) -> None:
    stream = output(log_format="json")
    with request_context("u99"):
        log.warning("slow answer for %s", "passes", extra={"chat_id": 555, "seconds": 2.5})
        try:
            empty: dict[str, int] = {}
            empty["missing"]
        except KeyError:
            log.exception("Could not answer")
    log.info("stack here", stack_info=True)

    warning, error, info = (json.loads(line) for line in lines(stream))
    assert warning == {
        "time": warning["time"],
        "level": "WARNING",
        "logger": "tests.logs",
        "message": "slow answer for passes",
        "request_id": "u99",
        "chat_id": 555,
        "seconds": 2.5,
    }
    moment = datetime.fromisoformat(warning["time"])
    assert moment.utcoffset() == timedelta(0)
    assert abs(datetime.now(moment.tzinfo) - moment) < timedelta(minutes=1)
    assert (error["level"], error["message"], error["request_id"]) == (
        "ERROR",
        "Could not answer",
        "u99",
    )
    assert error["exc_info"].startswith("Traceback (most recent call last):")
    assert error["exc_info"].endswith("KeyError: 'missing'")
    assert "exc_info" not in warning
    assert "stack_info" not in warning
    assert info["request_id"] == "-"
    assert info["stack_info"].startswith("Stack (most recent call last):")


def _log_every_secret() -> None:
    log.info("token %s, secret %s, password %s", FAKE_TOKEN, WEBHOOK_SECRET, DB_PASSWORD)
    log.info("extras", extra={"url": f"https://api.telegram.org/bot{FAKE_TOKEN}/getMe"})
    try:
        # As an HTTP client words a failed request: the token sits in the URL.
        raise ConnectionError(
            f"POST https://api.telegram.org/bot{FAKE_TOKEN}/sendMessage failed; "
            f"secret={WEBHOOK_SECRET} dsn={DATABASE_URL} password={DB_PASSWORD!r}"
        )
    except ConnectionError:
        log.exception("Request failed")


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_secrets_never_appear(output: Callable[..., io.StringIO], log_format: str) -> None:
    stream = output(log_format=log_format)
    _log_every_secret()

    text = stream.getvalue()
    assert "ConnectionError" in text
    assert "api.telegram.org/bot" in text
    for secret in (*SECRETS, "p%40ss%22w%2Frd-42", json.dumps(DB_PASSWORD)[1:-1]):
        assert secret not in text
    assert f"/bot{REDACTED}/sendMessage" in text


def test_the_redactor_alone() -> None:
    redactor = Redactor(["s3cr3t:value", "abc"])  # too short to redact without mangling words
    assert redactor.redact("a s3cr3t:value, abc") == f"a {REDACTED}, abc"
    assert redactor.redact("/s3cr3t%3Avalue/") == f"/{REDACTED}/"  # percent-encoded as well
    assert Redactor([]).redact("anything") == "anything"


def test_redactor_from_settings_without_secrets(make_settings: Callable[..., Settings]) -> None:
    redactor = Redactor.from_settings(make_settings())  # SQLite: no password
    assert redactor.redact("sqlite:///data/tradewatch.sqlite3") == (
        "sqlite:///data/tradewatch.sqlite3"
    )


def test_configuring_twice_does_not_duplicate_lines(
    output: Callable[..., io.StringIO], caplog: pytest.LogCaptureFixture
) -> None:
    first = output()
    second = output(log_format="json")
    log.warning("once")

    assert first.getvalue() == ""
    assert len(lines(second)) == 1
    assert json.loads(second.getvalue())["message"] == "once"
    # pytest's own handler is still there.
    assert [record.getMessage() for record in caplog.records] == ["once"]


def test_levels_and_quieting(output: Callable[..., io.StringIO]) -> None:
    stream = output(log_level="WARNING")
    log.info("hidden")
    logging.getLogger("httpx").info("HTTP Request: POST ...")
    assert stream.getvalue() == ""
    assert logging.getLogger("alembic").level == logging.WARNING

    stream = output(log_level="DEBUG")
    log.debug("shown")
    logging.getLogger("httpx").info("HTTP Request: POST ...")
    assert [line.rsplit("] ", 1)[1] for line in lines(stream)] == ["shown"]
    assert logging.getLogger("alembic").getEffectiveLevel() == logging.DEBUG
