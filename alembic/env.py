"""Alembic environment: the models' metadata, and the engine the bot hands in.

`bot.db.alembic_config()` passes the running engine in `config.attributes["engine"]`; the
plain `alembic` command line builds one from Settings (DATABASE_URL / .env) instead.
"""

from __future__ import annotations

from logging.config import fileConfig
from typing import Any

import sqlalchemy as sa
from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Engine
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

import bot.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from bot.config import load_settings
from bot.db import include_in_autogenerate, make_engine

config = context.config
target_metadata = SQLModel.metadata

if config.config_file_name is not None and "engine" not in config.attributes:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | bool:
    """Render the project's column types as their plain SQLAlchemy storage type.

    Migrations then never import application code, which may change after they are written.
    """
    if type_ != "type":
        return False
    if isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    if isinstance(obj, sa.Enum) and not obj.native_enum:
        # Vocabularies are validated in Python; the column is a plain VARCHAR.
        return f"sa.String(length={obj.length})"
    return False


def _engine() -> Engine:
    engine = config.attributes.get("engine")
    if isinstance(engine, Engine):
        return engine
    return make_engine(load_settings())


def run_migrations() -> None:
    engine = _engine()
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            render_item=render_item,
            compare_type=True,
            # The full-text index is the triggers' business, not the models'.
            include_object=include_in_autogenerate,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
run_migrations()
