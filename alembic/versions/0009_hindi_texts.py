"""Hindi texts beside the English ones, and a Hindi full-text index

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06

Every reader-facing text column gets a nullable Hindi column beside it, `<column>_hi`
(record descriptions, context notes, history notes, a deal's `until_note`, a pass's season, a
flight's frequency, another source's note on a figure); `bot.services.bilingual` lists them.

The Hindi texts get an index of their own, `search_index_hi`, with the same ids as
`search_index` (row id × 8 + the passage's kind) and kept by triggers of its own on the same
tables. A separate index rather than a second column of the English one: FTS5's bm25 and
PostgreSQL's `ts_rank(…, 1)` both divide by the length of the whole row, so Hindi text in the
same row would reorder the English results.

- SQLite: FTS5 with `unicode61` told that combining marks are word characters (categories
  `L* N* Co M*`: by default the vowel signs and the virama of Devanagari split a word into
  pieces), no diacritics folded and no stemmer (porter is English).
- PostgreSQL: `tsvector`s of the 'simple' configuration (no English stemming or stop words),
  GIN without the pending list, as for the English index.

The English index and its triggers are not touched. Adding a column is a plain ALTER TABLE on
SQLite (no batch rebuild), so every table keeps its triggers; the downgrade drops the columns
in batch mode, which does rebuild the tables, so it creates 0007's triggers again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, length): Hindi takes more characters than English for the same words.
_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("trade_figure", "note_hi", 3000),
    ("figure_report", "note_hi", 1500),
    ("border_pass", "note_hi", 3000),
    ("border_pass", "season_hi", 450),
    ("commodity_deal", "note_hi", 3000),
    ("commodity_deal", "until_note_hi", 450),
    ("flight_route", "note_hi", 3000),
    ("flight_route", "frequency_hi", 100),
    ("context_note", "note_hi", 3000),
    ("context_note", "text_hi", 3000),
    ("status_change", "note_hi", 3000),
)

KINDS = 8  # index id = row id * KINDS + kind code (as in 0007)
_RECORD_ROWS = "{row}.record_type IN ('pass', 'deal', 'flight', 'figure')"

# (table, kind code, the passage's Hindi text, which rows are Hindi passages, the columns
# whose update changes either). News items have no Hindi text: headlines stay as published.
_HINDI_PASSAGES: tuple[tuple[str, int, str, str, tuple[str, ...]], ...] = (
    ("context_note", 1, "{row}.text_hi", "{row}.text_hi IS NOT NULL", ("text_hi",)),
    (
        "status_change",
        2,
        "{row}.note_hi",
        f"{{row}}.note IS NOT NULL AND {{row}}.note_hi IS NOT NULL AND {_RECORD_ROWS}",
        ("note", "note_hi", "record_type"),
    ),
    *(
        (
            table,
            code,
            "{row}.note_hi",
            "{row}.note IS NOT NULL AND {row}.note_hi IS NOT NULL",
            ("note", "note_hi"),
        )
        for table, code in (
            ("border_pass", 3),
            ("commodity_deal", 4),
            ("flight_route", 5),
            ("trade_figure", 6),
        )
    ),
)

# 0007's English passages, for the triggers a downgrade's table rebuild drops.
_ENGLISH_PASSAGES: tuple[tuple[str, int, str, str, tuple[str, ...]], ...] = (
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
)

_HINDI_TOKENIZER = "unicode61 remove_diacritics 0 categories 'L* N* Co M*'"


def upgrade() -> None:
    for table, column, length in _COLUMNS:
        op.add_column(table, sa.Column(column, sa.String(length=length), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_index("search_index_hi", "simple", _HINDI_PASSAGES)
    else:
        tokenize = f'tokenize = "{_HINDI_TOKENIZER}"'
        op.execute(f"CREATE VIRTUAL TABLE search_index_hi USING fts5(body, {tokenize})")
        _sqlite_triggers("search_index_hi", _HINDI_PASSAGES)


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        _drop_postgresql_triggers("search_index_hi", _HINDI_PASSAGES)
    else:
        _drop_sqlite_triggers("search_index_hi", _HINDI_PASSAGES)
        # Batch mode rebuilds the tables below, which drops their English triggers too.
        _drop_sqlite_triggers("search_index", _ENGLISH_PASSAGES)
    op.execute("DROP TABLE search_index_hi")
    for table in dict.fromkeys(table for table, _, _ in _COLUMNS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for named, column, _ in reversed(_COLUMNS):
                if named == table:
                    batch_op.drop_column(column)
    if not postgresql:
        _sqlite_triggers("search_index", _ENGLISH_PASSAGES, backfill=False)


def _sqlite_triggers(
    index: str,
    passages: tuple[tuple[str, int, str, str, tuple[str, ...]], ...],
    *,
    backfill: bool = True,
) -> None:
    for table, kind, text, condition, columns in passages:
        old_id, new_id = f"old.id * {KINDS} + {kind}", f"new.id * {KINDS} + {kind}"
        insert = (
            f"INSERT INTO {index} (rowid, body) SELECT {new_id}, "
            f"{text.format(row='new')} WHERE {condition.format(row='new')};"
        )
        delete = f"DELETE FROM {index} WHERE rowid = {old_id};"
        op.execute(
            f"CREATE TRIGGER {index}_{table}_insert AFTER INSERT ON {table} BEGIN {insert} END"
        )
        op.execute(
            f"CREATE TRIGGER {index}_{table}_update "
            f"AFTER UPDATE OF {', '.join(columns)} ON {table} BEGIN {delete} {insert} END"
        )
        op.execute(
            f"CREATE TRIGGER {index}_{table}_delete AFTER DELETE ON {table} BEGIN {delete} END"
        )
        if backfill:
            op.execute(
                f"INSERT INTO {index} (rowid, body) SELECT id * {KINDS} + {kind}, "
                f"{text.format(row=table)} FROM {table} WHERE {condition.format(row=table)}"
            )


def _drop_sqlite_triggers(
    index: str, passages: tuple[tuple[str, int, str, str, tuple[str, ...]], ...]
) -> None:
    for table, *_ in passages:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {index}_{table}_{event}")


def _postgresql_index(
    index: str, configuration: str, passages: tuple[tuple[str, int, str, str, tuple[str, ...]], ...]
) -> None:
    op.execute(f"CREATE TABLE {index} (id BIGINT PRIMARY KEY, document TSVECTOR NOT NULL)")
    op.execute(
        f"CREATE INDEX ix_{index}_document ON {index} USING GIN (document) WITH (fastupdate = off)"
    )
    for table, kind, text, condition, columns in passages:
        op.execute(
            f"""
            CREATE FUNCTION {index}_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP <> 'INSERT' THEN
                    DELETE FROM {index} WHERE id = OLD.id * {KINDS} + {kind};
                END IF;
                IF TG_OP <> 'DELETE' AND {condition.format(row="NEW")} THEN
                    INSERT INTO {index} (id, document) VALUES (
                        NEW.id * {KINDS} + {kind},
                        to_tsvector('{configuration}', {text.format(row="NEW")})
                    );
                END IF;
                RETURN NULL;
            END
            $$
            """
        )
        op.execute(
            f"CREATE TRIGGER {index}_{table} "
            f"AFTER INSERT OR DELETE OR UPDATE OF {', '.join(columns)} ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {index}_{table}()"
        )
        op.execute(
            f"INSERT INTO {index} (id, document) SELECT id * {KINDS} + {kind}, "
            f"to_tsvector('{configuration}', {text.format(row=table)}) FROM {table} "
            f"WHERE {condition.format(row=table)}"
        )


def _drop_postgresql_triggers(
    index: str, passages: tuple[tuple[str, int, str, str, tuple[str, ...]], ...]
) -> None:
    for table, *_ in passages:
        op.execute(f"DROP TRIGGER {index}_{table} ON {table}")
        op.execute(f"DROP FUNCTION {index}_{table}()")
