"""Shared fixtures: settings built explicitly, and a fresh database for every test.

Migrating (and seeding) a database costs far more than most tests, so each is done once per
session into a template, and every test gets its own copy: a file copy on SQLite, `CREATE
DATABASE ... TEMPLATE` on PostgreSQL. Tests of migrating, seeding and starting up build their
database themselves from an empty one, as a first start does.

PostgreSQL tests use TEST_DATABASE_URL (a server URL; each test creates and drops its own
database). Without it they skip with the reason, unless REQUIRE_POSTGRES=1 (CI), where a
missing server is a failure rather than a silent skip.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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

# The local feed server's fixtures (feed_server), for every test that fetches feeds.
pytest_plugins = ["tests.feedserver"]

FAKE_TOKEN = "123456789:AAE-fake-token-for-tests-0123456789abc"


def pytest_configure(config: pytest.Config) -> None:
    # No test may reach the default feeds (no internet in tests): databases start without them
    # and bots do not poll. Every bot a test starts, in this process or a child, inherits this;
    # the feed tests turn polling on towards their local feed server.
    os.environ["FEED_POLL_SECONDS"] = "0"
    os.environ["FEED_DEFAULTS"] = "false"


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def factory(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "data_dir": tmp_path / "data",
            "database_url": f"sqlite:///{tmp_path / 'test.sqlite3'}",
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)

    return factory


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


def _template_settings(path: Path) -> Settings:
    return Settings(_env_file=None, data_dir=path.parent, database_url=f"sqlite:///{path}")


def _finish_template(engine: Engine) -> None:
    """Fold the WAL into the file and close every connection, so a file copy is complete."""
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty SQLite file, built once per session; tests get copies of it."""
    path = tmp_path_factory.mktemp("templates") / "migrated.sqlite3"
    engine = db.make_engine(_template_settings(path))
    db.upgrade(engine)
    _finish_template(engine)
    return path


@pytest.fixture(scope="session")
def seeded_template(migrated_template: Path) -> Path:
    """The migrated template with the bundled dataset seeded into it."""
    path = migrated_template.with_name("seeded.sqlite3")
    shutil.copyfile(migrated_template, path)
    engine = db.make_engine(_template_settings(path))
    seed(engine)
    _finish_template(engine)
    return path


@pytest.fixture
def engine(settings: Settings, request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A migrated, empty SQLite database of this test's own (at `settings.database_url`).

    When the test uses `seeded_engine` (directly or through `bot`, `edited_engine`, ...) this
    is the same database, seeded: both are one copy of the seeded template.
    """
    seeded = "seeded_engine" in request.fixturenames
    template: Path = request.getfixturevalue("seeded_template" if seeded else "migrated_template")
    database = make_url(settings.database_url).database
    assert database, "the test settings name a SQLite file"
    shutil.copyfile(template, database)
    engine = db.make_engine(settings)
    yield engine
    engine.dispose()


@pytest.fixture
def seeded_engine(engine: Engine) -> Engine:
    """The migrated database with the bundled dataset (a copy of the seeded template)."""
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


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Engine]:
    """An AUTOCOMMIT engine on TEST_DATABASE_URL's server, for creating and dropping databases."""
    admin = create_engine(make_url(_postgres_server_url()), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        admin.dispose()
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            raise
        pytest.skip(f"PostgreSQL at TEST_DATABASE_URL is not reachable: {exc}")
    yield admin
    admin.dispose()


@contextmanager
def _postgres_database(admin: Engine, template: str | None = None) -> Iterator[str]:
    """A new database (a copy of `template` if given) for the block; its URL, then dropped."""
    name = f"tradewatch_test_{uuid.uuid4().hex[:12]}"
    copy_of = f' TEMPLATE "{template}"' if template else ""
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"{copy_of}'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _postgres_template(admin: Engine, build: Callable[[Engine], object]) -> Iterator[str]:
    """A database built once by `build`, to be copied by CREATE DATABASE ... TEMPLATE.

    Its engine is disposed before any copy: PostgreSQL copies only an unused template.
    """
    with _postgres_database(admin) as url:
        engine = db.make_engine(Settings(_env_file=None, database_url=url))
        try:
            build(engine)
        finally:
            engine.dispose()
        yield make_url(url).database or ""


@pytest.fixture(scope="session")
def postgres_migrated_template(postgres_server: Engine) -> Iterator[str]:
    yield from _postgres_template(postgres_server, db.upgrade)


@pytest.fixture(scope="session")
def postgres_seeded_template(postgres_server: Engine) -> Iterator[str]:
    def build(engine: Engine) -> None:
        db.upgrade(engine)
        seed(engine)

    yield from _postgres_template(postgres_server, build)


@pytest.fixture
def postgres_empty_url(postgres_server: Engine) -> Iterator[str]:
    """A brand-new, un-migrated PostgreSQL database, dropped after the test: for tests of
    migrating, seeding and starting up, which must take the real path from nothing."""
    with _postgres_database(postgres_server) as url:
        yield url


@pytest.fixture
def postgres_url(postgres_server: Engine, postgres_migrated_template: str) -> Iterator[str]:
    """A migrated, empty PostgreSQL database of this test's own, dropped after it."""
    with _postgres_database(postgres_server, postgres_migrated_template) as url:
        yield url


@pytest.fixture
def postgres_seeded_url(postgres_server: Engine, postgres_seeded_template: str) -> Iterator[str]:
    """A migrated PostgreSQL database with the bundled dataset, of this test's own."""
    with _postgres_database(postgres_server, postgres_seeded_template) as url:
        yield url


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
