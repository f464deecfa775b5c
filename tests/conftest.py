"""Shared fixtures: settings built explicitly, and a fresh database for every test.

PostgreSQL tests use TEST_DATABASE_URL (a server URL; each test creates and drops its own
database). Without it they skip with the reason, unless REQUIRE_POSTGRES=1 (CI), where a
missing server is a failure rather than a silent skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import select

from bot import db
from bot.bootstrap import seed
from bot.config import Settings
from bot.models import BorderPass, StatusChange
from bot.telegram.app import build_application
from bot.telegram.offline import OfflineRequest
from bot.telegram.plain import html_to_text
from bot.vocabulary import Actor, PassStatus, RecordType
from tests.factories import message_update

FAKE_TOKEN = "123456789:AAE-fake-token-for-tests-0123456789abc"


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def factory(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "data_dir": tmp_path / "data",
            "database_url": f"sqlite:///{tmp_path / 'test.sqlite3'}",
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return factory


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    """A migrated, empty SQLite database of this test's own."""
    engine = db.make_engine(settings)
    db.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def seeded_engine(engine: Engine) -> Engine:
    seed(engine)
    return engine


@pytest.fixture
def edited_engine(seeded_engine: Engine) -> Engine:
    """The seeded database after an editor changed Nathu La, with its history row."""
    with db.session_scope(seeded_engine) as session:
        nathu = session.exec(select(BorderPass).where(BorderPass.slug == "nathu-la")).one()
        nathu.status = PassStatus.REOPENING_SCHEDULED
        nathu.updated_by = Actor.telegram(42)
        session.add(
            StatusChange(
                record_type=RecordType.PASS,
                record_key="nathu-la",
                field="status",
                old_value="reopening_agreed",
                new_value="reopening_scheduled",
                note="Dates announced.",
                actor=Actor.telegram(42),
            )
        )
    return seeded_engine


def _postgres_server_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail("REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set")
        pytest.skip(
            "PostgreSQL tests need TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)"
        )
    return url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """The URL of a brand-new PostgreSQL database, dropped after the test."""
    server = make_url(_postgres_server_url())
    name = f"tradewatch_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            raise
        pytest.skip(f"PostgreSQL at TEST_DATABASE_URL is not reachable: {exc}")
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres_settings(make_settings: Callable[..., Settings], postgres_url: str) -> Settings:
    return make_settings(database_url=postgres_url)


TODAY = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


@dataclass
class BotUnderTest:
    """The real application with the in-process Bot API, and helpers to talk to it."""

    application: Any
    request: OfflineRequest

    async def send(self, text: str, **kwargs: Any) -> list[dict[str, Any]]:
        """Send a message; return the Bot API calls it caused (sendMessage, sendPhoto, ...)."""
        return await self.process(message_update(self.application.bot, text, **kwargs))

    async def process(self, update: Any) -> list[dict[str, Any]]:
        seen = len(self.request.calls)
        await self.application.process_update(update)
        return [
            {"method": call.method, **call.params}
            for call in self.request.calls[seen:]
            if call.method not in ("getMe",)
        ]

    async def replies(self, text: str, **kwargs: Any) -> list[str]:
        """The plain text of every message the bot sent in answer to `text`."""
        calls = await self.send(text, **kwargs)
        return [
            html_to_text(call.get("text") or call.get("caption") or "")
            for call in calls
            if call["method"] in ("sendMessage", "sendPhoto", "editMessageText")
        ]


@pytest.fixture
async def bot(make_settings: Callable[..., Settings], seeded_engine: Engine) -> Any:
    settings = make_settings(telegram_bot_token=FAKE_TOKEN)
    request = OfflineRequest()
    application = build_application(
        settings, engine=seeded_engine, request=request, clock=lambda: TODAY
    )
    async with application:
        yield BotUnderTest(application, request)
