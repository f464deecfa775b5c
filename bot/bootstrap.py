"""Open the database ready for use: migrated to head, and seeded on first start."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot import db
from bot.vocabulary import Actor

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from bot.config import Settings
    from bot.services.bilingual import Coverage
    from bot.services.loading import LoadReport

logger = logging.getLogger(__name__)


def seed(engine: Engine) -> LoadReport:
    """Load the bundled dataset in one transaction (safe to repeat; see services.loading)."""
    # Only a first start or `seed` needs the YAML loader: keep it off the start-up path.
    from bot.services.dataset import load_bundled_dataset
    from bot.services.loading import load_dataset

    dataset = load_bundled_dataset()
    with db.session_scope(engine) as session:
        return load_dataset(session, dataset, actor=Actor.SEED)


def describe_hindi(coverage: Coverage) -> str:
    """'Hindi texts: 142 of 142; 0 missing': how much of what readers see is in Hindi too."""
    return f"Hindi texts: {coverage.translated} of {coverage.texts}; {coverage.missing} missing"


def open_database(settings: Settings) -> Engine:
    """The engine for DATABASE_URL, with the schema at head; an empty database is seeded."""
    engine = db.make_engine(settings)
    # Everything that writes on start-up, under the lock: replicas starting together would
    # otherwise both migrate, seed and add the same owners.
    with db.migration_lock(engine):
        _migrate_and_seed(engine, with_default_feeds=settings.feed_defaults)
        if settings.admin_ids:
            from bot.services.admins import bootstrap_owners

            with db.session_scope(engine) as session:
                added = bootstrap_owners(session, settings.admin_ids)
            if added:
                logger.info("Owners from ADMIN_IDS: %s.", ", ".join(map(str, added)))
    return engine


# The revision that brought feeds: a database from before it gets the default feeds once.
FEEDS_REVISION = "0005"


def add_default_feeds(engine: Engine) -> int:
    """Watch the bundled feeds marked enabled (bot/data/feeds/defaults.yaml)."""
    from bot.models import utcnow
    from bot.services.feeds import registry

    with db.session_scope(engine) as session:
        return len(registry.add_defaults(session, actor=Actor.SEED, now=utcnow()))


def _migrate_and_seed(engine: Engine, *, with_default_feeds: bool) -> None:
    first_start = db.is_empty(engine)
    current = None if first_start else db.current_revision(engine)
    head = db.head_revision()
    if current != head:
        db.upgrade(engine)
    if with_default_feeds and (current is None or current < FEEDS_REVISION):
        added = add_default_feeds(engine)
        logger.info("Watching the %d default news feeds (see `tradewatch feeds list`).", added)
    if first_start:
        report = seed(engine)
        logger.info(
            "First start: created the database at %s, migrated it to %s and loaded the "
            "bundled dataset (%d rows; %s).",
            engine.url.render_as_string(hide_password=True),
            head,
            report.total("inserted"),
            describe_hindi(report.hindi),
        )
    elif current != head:
        logger.info("Migrated the database from %s to %s.", current, head)
