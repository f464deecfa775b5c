"""Migrations: up, all the way down, up again; and the models never drift from them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlmodel import Session, SQLModel, select

import bot.models  # noqa: F401  (registers the tables)
from bot import db
from bot.models import ContextNote
from bot.services import search

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


def _hindi_texts_round_trip(settings: Settings) -> None:
    """0009 on a database with data: the English stays indexed, the Hindi columns take text
    that the Hindi index finds, and going back to 0007 leaves the English index working."""
    engine = db.make_engine(settings)
    postgres = engine.dialect.name == "postgresql"
    english_hits = (
        "SELECT id FROM search_index WHERE document @@ to_tsquery('english', 'yak')"
        if postgres
        else "SELECT rowid FROM search_index WHERE search_index MATCH '\"yak\"'"
    )
    now = "2026-12-06 10:00:00+00:00"
    try:
        db.upgrade(engine, "0007")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO source (id, key, title, publisher, created_at) "
                    "VALUES (1, 'desk', 'Desk', 'Desk', :now)"
                ),
                {"now": now},
            )
            connection.execute(
                text(
                    "INSERT INTO context_note (id, key, topic, text, source_id, as_of, updated_by,"
                    " updated_at, version) VALUES (1, 'yaks', 'passes', 'Yak caravans cross.', 1,"
                    " '2026', 'seed', :now, 1)"
                ),
                {"now": now},
            )
        db.upgrade(engine)
        columns = {c["name"] for c in inspect(engine).get_columns("context_note")}
        assert {"note_hi", "text_hi"} <= columns
        with Session(engine) as session:
            assert [p.text.en for p in search.search(session, "yak caravans")] == [
                "Yak caravans cross."
            ]
            assert search.search(session, "याक कारवां") == ()
        with db.session_scope(engine) as session:
            note = session.exec(select(ContextNote)).one()
            note.text_hi = "याक कारवां दर्रा पार करते हैं।"
            session.add(note)
        with Session(engine) as session:
            (found,) = search.search(session, "याक कारवां")
            assert found.text.hi == "याक कारवां दर्रा पार करते हैं।"

        db.downgrade(engine, "0007")
        columns = {c["name"] for c in inspect(engine).get_columns("context_note")}
        assert "text_hi" not in columns
        assert "search_index_hi" not in inspect(engine).get_table_names()
        with engine.begin() as connection:
            assert connection.execute(text(english_hits)).scalars().all() == [1 * 8 + 1]
            # The English triggers work after the downgrade rebuilt the tables.
            connection.execute(text("UPDATE context_note SET text = 'Sheep cross.' WHERE id = 1"))
            assert connection.execute(text(english_hits)).scalars().all() == []
    finally:
        engine.dispose()


def test_sqlite_hindi_texts_upgrade_and_downgrade_with_data(settings: Settings) -> None:
    _hindi_texts_round_trip(settings)


@pytest.mark.postgres
def test_postgres_hindi_texts_upgrade_and_downgrade_with_data(
    make_settings: Callable[..., Settings], postgres_empty_url: str
) -> None:
    _hindi_texts_round_trip(make_settings(database_url=postgres_empty_url))
