"""full-text search over notes, history, record descriptions and news

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06

One index, `search_index`, holds a row per passage a reader may be quoted: a context note, a
record's history note, a record's own note (its description), a published or applied news
item. Its id is the passage's row id times 8 plus the kind of passage (the table it comes
from), so a trigger finds the passage's index row without a lookup, and the search service
reads both back from the id (`bot.services.search.PassageKind` repeats the codes).

- SQLite: an FTS5 table that keeps its own copy of the text (porter stemming, diacritics
  folded). External content needs one content table, and the passages come from seven;
  a contentless table can only forget a row when given the exact text it indexed.
- PostgreSQL: a table of `tsvector`s (English configuration) with a GIN index, written
  through at once (`fastupdate = off`: no pending list for every search to scan).

Triggers on the seven tables keep it current on both: every insert, delete and update of the
indexed columns, whoever writes (editors, imports, the seed, news reviews). Alembic's batch
mode on SQLite rebuilds a table and drops its triggers: a later migration that batch-alters
one of these tables must create its triggers again (tests/test_search.py checks they are all
there at head). Autogenerate ignores the index (`bot.db.include_in_autogenerate`).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The record kinds whose history notes are passages (not the admin, news or feed audit rows).
_RECORD_ROWS = "{row}.record_type IN ('pass', 'deal', 'flight', 'figure')"

# (table, kind code, the passage's text, which rows are passages, the columns whose update
# changes either). `{row}` is NEW or OLD in a trigger, the table itself in the backfill.
_PASSAGES: tuple[tuple[str, int, str, str, tuple[str, ...]], ...] = (
    ("context_note", 1, "{row}.text", "TRUE", ("text",)),
    (
        "status_change",
        2,
        "{row}.note",
        f"{{row}}.note IS NOT NULL AND {_RECORD_ROWS}",
        ("note", "record_type"),
    ),
    ("border_pass", 3, "{row}.note", "{row}.note IS NOT NULL", ("note",)),
    ("commodity_deal", 4, "{row}.note", "{row}.note IS NOT NULL", ("note",)),
    ("flight_route", 5, "{row}.note", "{row}.note IS NOT NULL", ("note",)),
    ("trade_figure", 6, "{row}.note", "{row}.note IS NOT NULL", ("note",)),
    (
        "news_item",
        7,
        "{row}.title || ' ' || {row}.summary",
        "{row}.state IN ('published', 'applied')",
        ("title", "summary", "state"),
    ),
)
KINDS = 8  # id = row id * KINDS + kind code


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_postgresql()
    else:
        _upgrade_sqlite()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, *_ in _PASSAGES:
            op.execute(f"DROP TRIGGER search_index_{table} ON {table}")
            op.execute(f"DROP FUNCTION search_index_{table}()")
    else:
        for table, *_ in _PASSAGES:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER search_index_{table}_{event}")
    op.execute("DROP TABLE search_index")


def _upgrade_sqlite() -> None:
    op.execute(
        "CREATE VIRTUAL TABLE search_index USING fts5("
        "body, tokenize = 'porter unicode61 remove_diacritics 2')"
    )
    for table, kind, text, condition, columns in _PASSAGES:
        old_id, new_id = f"old.id * {KINDS} + {kind}", f"new.id * {KINDS} + {kind}"
        insert = (
            f"INSERT INTO search_index (rowid, body) SELECT {new_id}, "
            f"{text.format(row='new')} WHERE {condition.format(row='new')};"
        )
        delete = f"DELETE FROM search_index WHERE rowid = {old_id};"
        op.execute(
            f"CREATE TRIGGER search_index_{table}_insert AFTER INSERT ON {table} BEGIN {insert} END"
        )
        op.execute(
            f"CREATE TRIGGER search_index_{table}_update "
            f"AFTER UPDATE OF {', '.join(columns)} ON {table} BEGIN {delete} {insert} END"
        )
        op.execute(
            f"CREATE TRIGGER search_index_{table}_delete AFTER DELETE ON {table} BEGIN {delete} END"
        )
        op.execute(
            f"INSERT INTO search_index (rowid, body) SELECT id * {KINDS} + {kind}, "
            f"{text.format(row=table)} FROM {table} WHERE {condition.format(row=table)}"
        )


def _upgrade_postgresql() -> None:
    op.execute("CREATE TABLE search_index (id BIGINT PRIMARY KEY, document TSVECTOR NOT NULL)")
    # Without fastupdate a write goes into the index at once: writes are few (edits, news
    # reviews) and every search would otherwise scan the pending list of recent ones.
    op.execute(
        "CREATE INDEX ix_search_index_document ON search_index USING GIN (document) "
        "WITH (fastupdate = off)"
    )
    for table, kind, text, condition, columns in _PASSAGES:
        op.execute(
            f"""
            CREATE FUNCTION search_index_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP <> 'INSERT' THEN
                    DELETE FROM search_index WHERE id = OLD.id * {KINDS} + {kind};
                END IF;
                IF TG_OP <> 'DELETE' AND {condition.format(row="NEW")} THEN
                    INSERT INTO search_index (id, document) VALUES (
                        NEW.id * {KINDS} + {kind},
                        to_tsvector('english', {text.format(row="NEW")})
                    );
                END IF;
                RETURN NULL;
            END
            $$
            """
        )
        op.execute(
            f"CREATE TRIGGER search_index_{table} "
            f"AFTER INSERT OR DELETE OR UPDATE OF {', '.join(columns)} ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION search_index_{table}()"
        )
        op.execute(
            f"INSERT INTO search_index (id, document) SELECT id * {KINDS} + {kind}, "
            f"to_tsvector('english', {text.format(row=table)}) FROM {table} "
            f"WHERE {condition.format(row=table)}"
        )
