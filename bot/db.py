"""Engine, sessions and schema upgrades.

The engine is built from Settings by the composition root and handed to whoever needs it;
there is no module-level engine. `upgrade_to_head` runs Alembic in-process, so the bot and
the CLI migrate the same way an operator's `alembic upgrade head` does.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlmodel import Session

from bot.resources import migrations_dir

if TYPE_CHECKING:
    from alembic.config import Config

    from bot.config import Settings

logger = logging.getLogger(__name__)


# pg_advisory_lock key for schema upgrades: any constant all instances agree on ("trade").
MIGRATION_LOCK_KEY = 0x7472616465


def make_engine(settings: Settings, **engine_options: Any) -> Engine:
    """Build the engine for DATABASE_URL, creating the default data folder when needed."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        if settings.uses_default_data_dir:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **engine_options)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    connect_args: dict[str, Any] = {
        "connect_timeout": settings.db_connect_timeout,
        "application_name": "tradewatch",
    }
    if settings.db_statement_timeout:
        # A query stuck behind a lock or a dying server fails instead of holding an update.
        connect_args["options"] = f"-c statement_timeout={settings.db_statement_timeout * 1000}"
    options: dict[str, Any] = {
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        "pool_timeout": settings.db_pool_timeout,
        # A connection the server dropped (restart, failover) is replaced at checkout, so the
        # next update after an outage works; connections are also renewed every half hour.
        "pool_pre_ping": True,
        "pool_recycle": 1800,
        "connect_args": connect_args,
    }
    return create_engine(url, **(options | engine_options))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (questions) proceed while a writer (digest run, editor) commits.
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL loses nothing when the process dies, only on power loss; it spares an
    # fsync per commit, and deliveries commit once per message sent.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """Hold the schema-upgrade lock: instances starting together migrate (and seed) once.

    On PostgreSQL a session-level advisory lock, released on exit or when the connection
    dies; the others wait, then find the schema at head. SQLite has one writer at a time
    anyway and runs on one machine.
    """
    if engine.dialect.name != "postgresql":
        yield
        return
    key = {"key": MIGRATION_LOCK_KEY}
    with engine.connect() as connection:
        # Waiting for another instance's migration is not a slow query.
        connection.execute(text("SET LOCAL statement_timeout = 0"))
        if not connection.execute(text("SELECT pg_try_advisory_lock(:key)"), key).scalar():
            logger.info("Waiting for another instance to finish upgrading the database")
            connection.execute(text("SELECT pg_advisory_lock(:key)"), key)
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), key)


# Revision files are numbered (alembic revision --rev-id 0002 ...), see README "Adding a migration".
_REVISION_FILE = re.compile(r"^(\d{4})_\w+\.py$")


def alembic_config(engine: Engine) -> Config:
    """An Alembic config that runs the shipped migrations against `engine`."""
    from alembic.config import Config  # Alembic loads only when migrations run (start-up time)

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str | None:
    """The newest migration, read from the numbered file names without loading Alembic.

    tests/test_migrations.py checks that it agrees with Alembic's own idea of the head.
    """
    numbers = [
        match[1]
        for path in (migrations_dir() / "versions").iterdir()
        if (match := _REVISION_FILE.match(path.name))
    ]
    return max(numbers, default=None)


# The full-text indexes (bot/services/search.py), English and Hindi (`search_index_hi`): a
# table, FTS5's shadow tables on SQLite, a GIN index on PostgreSQL, kept by triggers that
# migrations 0007 and 0009 create rather than by the models.
SEARCH_INDEX = "search_index"


def include_in_autogenerate(
    item: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Whether Alembic's autogenerate (and the drift check) compares a schema object: not the
    full-text index, which no model describes."""
    index_names = (SEARCH_INDEX, f"ix_{SEARCH_INDEX}")
    return not (type_ in ("table", "index") and name is not None and name.startswith(index_names))


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        try:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except (OperationalError, ProgrammingError):
            return None  # no alembic_version table: an empty database


def is_empty(engine: Engine) -> bool:
    return not inspect(engine).get_table_names()


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(engine), revision)


def sqlite_path(engine: Engine) -> Path | None:
    database = engine.url.database
    if engine.url.get_backend_name() == "sqlite" and database and database != ":memory:":
        return Path(database)
    return None


def insert_ignoring_duplicates(connection: Connection, table: sa.Table) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING for the backends we run on."""
    name = connection.dialect.name
    if name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    if name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    raise RuntimeError(f"this needs PostgreSQL or SQLite, not {name}")
