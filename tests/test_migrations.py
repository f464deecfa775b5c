"""Migrations: up, all the way down, up again; and the models never drift from them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlmodel import SQLModel

import bot.models  # noqa: F401  (registers the tables)
from bot import db

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import Engine

    from bot.config import Settings

TABLES = {
    "admin", "border_pass", "commodity_deal", "context_note", "delivery", "figure_report",
    "flight_route", "source", "status_change", "subscriber", "trade_figure",
}  # fmt: skip


def _round_trip(settings: Settings) -> None:
    engine = db.make_engine(settings)
    try:
        db.upgrade(engine)
        assert set(inspect(engine).get_table_names()) >= TABLES
        assert db.current_revision(engine) == db.head_revision()

        db.downgrade(engine, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        assert db.current_revision(engine) is None

        db.upgrade(engine)
        assert set(inspect(engine).get_table_names()) >= TABLES

        with engine.connect() as connection:
            options = {"compare_type": True, "include_object": db.include_in_autogenerate}
            context = MigrationContext.configure(connection, opts=options)
            drift = compare_metadata(context, SQLModel.metadata)
        assert drift == [], f"models and migrations disagree; add a migration: {drift}"
    finally:
        engine.dispose()


def test_the_fast_head_lookup_agrees_with_alembic(engine: Engine) -> None:
    script = ScriptDirectory.from_config(db.alembic_config(engine))
    assert db.head_revision() == script.get_current_head()
    assert len(script.get_heads()) == 1, "migrations must stay linear (numbered --rev-id)"


def test_sqlite_upgrade_downgrade_upgrade_without_drift(settings: Settings) -> None:
    _round_trip(settings)


@pytest.mark.postgres
def test_postgres_upgrade_downgrade_upgrade_without_drift(
    make_settings: Callable[..., Settings], postgres_empty_url: str
) -> None:
    _round_trip(make_settings(database_url=postgres_empty_url))


def test_subscriber_due_time_is_indexed(engine: Engine) -> None:
    indexes = {index["name"]: index for index in inspect(engine).get_indexes("subscriber")}
    assert indexes["ix_subscriber_next_digest_at"]["column_names"] == ["next_digest_at"]
