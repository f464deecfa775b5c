"""Audit that holds up: replaying the history onto the seeded records gives the records now.

For each write path (a one-line edit, the guided edit's service call, a figure, a source cited
by an edit, an import, an undo, and all of them mixed), hypothesis generates a sequence of
writes on a fresh copy of the seeded database. The history rows written after the seed are
then replayed, in order, onto the records as the seed left them: each row sets its field to its
new value and the record's bookkeeping to the row's `bookkeeping_after`, and each write (batch)
adds one to the version. Every record must come out exactly as it is, field by field.
"""

from __future__ import annotations

import copy
import csv
import io
import itertools
import json
import shlex
import shutil
import string
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func
from sqlmodel import Session, SQLModel, col, select

from bot import db
from bot.bootstrap import seed
from bot.config import Settings
from bot.models import (
    BorderPass,
    CommodityDeal,
    ContextNote,
    FlightRoute,
    Source,
    StatusChange,
    TradeFigure,
)
from bot.partial_date import PartialDate
from bot.services import editing, figure_editing
from bot.services.answers import load_catalog
from bot.services.dataset import figure_key, load_bundled_dataset
from bot.services.edit_parsing import FieldKind, FieldSpec
from bot.services.export import build_dataset, write_json
from bot.services.history import Bookkeeping
from bot.services.importing import apply_import, read_import_bytes
from bot.vocabulary import RecordType, Series, Stage
from tests.conftest import TODAY

RECORDS: dict[RecordType, type[SQLModel]] = {
    RecordType.PASS: BorderPass,
    RecordType.DEAL: CommodityDeal,
    RecordType.FLIGHT: FlightRoute,
    RecordType.FIGURE: TradeFigure,
    RecordType.NOTE: ContextNote,
}
EDITORS = ("tg:1002", "tg:1004")
AUDIT = settings(
    max_examples=40,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

_BUNDLED = load_bundled_dataset()
KEYS: dict[RecordType, list[str]] = {
    RecordType.PASS: [p.slug for p in _BUNDLED.passes],
    RecordType.DEAL: [d.slug for d in _BUNDLED.deals],
    RecordType.FLIGHT: [f.slug for f in _BUNDLED.flights],
}
FIGURES = [(f.series, f.period) for f in _BUNDLED.trade_figures]
SOURCE_KEYS = [s.key for s in _BUNDLED.sources][:6]
SECTIONS = {RecordType.PASS: "passes", RecordType.DEAL: "deals", RecordType.FLIGHT: "flights"}


# --- replaying the history ------------------------------------------------------------------


def record_key(record_type: RecordType, record: Any) -> str:
    if record_type is RecordType.FIGURE:
        return figure_key(Series(record.series), record.period)
    return str(getattr(record, "key" if record_type is RecordType.NOTE else "slug"))


State = dict[tuple[RecordType, str], dict[str, Any]]


def snapshot(session: Session) -> State:
    return {
        (record_type, record_key(record_type, record)): {
            name: copy.copy(getattr(record, name)) for name in model.model_fields if name != "id"
        }
        for record_type, model in RECORDS.items()
        for record in session.exec(select(model)).all()
    }


def typed(model: type[SQLModel], name: str, text: str | None) -> Any:
    """A history text back as the column's value."""
    annotation = model.model_fields[name].annotation
    optional = get_origin(annotation) in (Union, types.UnionType)
    kind = next(a for a in get_args(annotation) if a is not type(None)) if optional else annotation
    if text is None or (text == "" and optional):  # an undo that restores "not set"
        return None
    if get_origin(kind) is list:
        return text.split(", ") if text else []
    converters: dict[Any, Callable[[str], Any]] = {
        PartialDate: PartialDate.parse,
        Decimal: Decimal,
        date: date.fromisoformat,
        bool: lambda value: value == "True",
    }
    return converters.get(kind, str)(text)


def replay(seeded: State, rows: list[StatusChange]) -> State:
    state = copy.deepcopy(seeded)
    writes: dict[tuple[RecordType, str], set[str | None]] = {}
    for row in rows:
        assert row.bookkeeping_after is not None, f"row {row.id} does not say what it wrote"
        target = (row.record_type, row.record_key)
        record = state[target]
        if row.field is not None:
            record[row.field] = typed(RECORDS[row.record_type], row.field, row.new_value)
        after = Bookkeeping.from_json(row.bookkeeping_after)
        record.update(
            source_id=after.source_id,
            as_of=after.as_of,
            updated_by=after.updated_by,
            updated_at=after.updated_at,
        )
        writes.setdefault(target, set()).add(row.batch)
    for target, batches in writes.items():
        state[target]["version"] += len(batches)
    return state


@dataclass
class Run:
    """One example: a fresh copy of the seeded database and a clock that moves on per write."""

    engine: Engine
    seeded: State
    last_seeded_id: int
    minutes: Iterator[int]

    def now(self) -> Any:
        return TODAY + timedelta(minutes=next(self.minutes))

    def check(self) -> None:
        with Session(self.engine) as session:
            rows = list(
                session.exec(
                    select(StatusChange)
                    .where(col(StatusChange.id) > self.last_seeded_id)
                    .order_by(col(StatusChange.id))
                ).all()
            )
            now = snapshot(session)
        assert replay(self.seeded, rows) == now


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("audit")
    engine = db.make_engine(_settings(folder / "template.sqlite3"))
    db.upgrade(engine)
    seed(engine)
    engine.dispose()
    return folder / "template.sqlite3"


def _settings(path: Path) -> Settings:
    return Settings(_env_file=None, data_dir=path.parent, database_url=f"sqlite:///{path}")


_copies = itertools.count()


@contextmanager
def fresh_run(template: Path) -> Iterator[Run]:
    folder = template.parent / f"run-{next(_copies)}"
    folder.mkdir()
    shutil.copy(template, folder / "db.sqlite3")
    engine = db.make_engine(_settings(folder / "db.sqlite3"))
    try:
        with Session(engine) as session:
            seeded = snapshot(session)
            last = session.exec(select(func.max(StatusChange.id))).one() or 0
        yield Run(engine, seeded, last, itertools.count(1))
    finally:
        engine.dispose()
        shutil.rmtree(folder)


# --- the writes -----------------------------------------------------------------------------

WORDS = (
    st.text(string.ascii_letters + string.digits + " -", min_size=1, max_size=24)
    .map(lambda text: " ".join(text.split()))
    .filter(bool)
)
DATES = st.one_of(
    st.dates(date(2019, 1, 1), date(2027, 12, 31)).map(date.isoformat),
    st.builds(lambda y, m: f"{y}-{m:02d}", st.integers(2019, 2027), st.integers(1, 12)),
)
AMOUNTS = st.decimals(Decimal("0.1"), Decimal("500"), places=2).map(lambda d: d.normalize())


def _source(draw: st.DrawFn) -> str | None:
    return draw(
        st.none()
        | st.sampled_from(SOURCE_KEYS)
        | WORDS.map(lambda w: "https://example.org/" + "-".join(w.split()))
    )


def _value(draw: st.DrawFn, spec: FieldSpec) -> str:
    if spec.kind is FieldKind.STATUS:
        return draw(st.sampled_from(spec.vocabulary))
    if draw(st.integers(0, 5)) == 0:
        return "none"  # clears the field
    if spec.kind is FieldKind.DATE:
        return draw(DATES)
    return draw(WORDS)


@st.composite
def set_lines(draw: st.DrawFn) -> str:
    """`/set` arguments: a kind, a record, maybe a status, options, a note and a source."""
    kind = draw(st.sampled_from(list(editing.KIND_NAMES)))
    record_type = editing.KIND_NAMES[kind]
    parts = [kind, draw(st.sampled_from(KEYS[record_type]))]
    specs = editing.EDITABLE[record_type]
    if draw(st.booleans()):
        parts.append(_value(draw, specs["status"]))
    for option in draw(st.lists(st.sampled_from(list(specs)), max_size=3, unique=True)):
        parts.append(f"{option}={shlex.quote(_value(draw, specs[option]))}")
    if draw(st.booleans()):
        parts.append(f"note={shlex.quote(draw(WORDS))}")
    source = _source(draw)
    if source is not None:
        parts.append(f"source={source}")
    return " ".join(parts)


def one_line_edit(line: str) -> Callable[[Run, str], None]:
    def write(run: Run, actor: str) -> None:
        with suppress(editing.EditError), db.session_scope(run.engine) as session:
            edit = editing.parse_set(session, load_catalog(session), line)
            editing.apply(session, edit, actor=actor, now=run.now())

    return write


@st.composite
def guided_edits(draw: st.DrawFn) -> Callable[[Run, str], None]:
    """What the guided edit confirms: one field, a note, a source, the version it started on."""
    record_type = draw(st.sampled_from(list(SECTIONS)))
    key = draw(st.sampled_from(KEYS[record_type]))
    option = draw(st.sampled_from(list(editing.EDITABLE[record_type])))
    text = _value(draw, editing.EDITABLE[record_type][option])
    note = draw(st.none() | WORDS)
    source = _source(draw)

    def write(run: Run, actor: str) -> None:
        with suppress(editing.EditError), db.session_scope(run.engine) as session:
            version = editing.load_record(session, record_type, key).version
            column, value = editing.parse_value(record_type, option, text)
            edit = editing.Edit(
                record_type,
                key,
                {column: value},
                editing.history_note(note),
                editing.parse_source(source) if source else None,
                version,
            )
            draft = editing.Edit.from_payload(edit.to_payload())  # as the draft keeps it
            editing.apply(session, draft, actor=actor, now=run.now())

    return write


@st.composite
def figure_edits(draw: st.DrawFn) -> Callable[[Run, str], None]:
    series, period = draw(st.sampled_from(FIGURES))
    quantities = draw(
        st.lists(
            st.sampled_from(["exports", "imports", "total", "deficit"]), min_size=1, unique=True
        )
    )
    values = {name: draw(AMOUNTS) for name in quantities}
    stage = draw(st.sampled_from(list(Stage)))
    source = draw(st.sampled_from(SOURCE_KEYS) | st.just("https://example.org/figures"))

    def write(run: Run, actor: str) -> None:
        edit = figure_editing.FigureEdit(
            series, period, values, stage, editing.parse_source(source)
        )
        with suppress(editing.EditError), db.session_scope(run.engine) as session:
            figure_editing.apply(session, edit, actor=actor, now=run.now())

    return write


@st.composite
def cited_sources(draw: st.DrawFn) -> Callable[[Run, str], None]:
    """`/addsource`, then an edit citing the new source by its key."""
    key = draw(st.from_regex(r"[a-z][a-z0-9]{2,12}", fullmatch=True)) + "-notice"
    line = draw(set_lines()).split(" source=")[0] + f" source={key}"

    def write(run: Run, actor: str) -> None:
        with db.session_scope(run.engine) as session:
            if session.exec(select(Source).where(Source.key == key)).first() is None:
                figure_editing.add_source(
                    session, f'{key} title="A notice" publisher="Someone"', today=TODAY.date()
                )
        one_line_edit(line)(run, actor)

    return write


_CSV_COLUMNS = {
    RecordType.PASS: (
        "status", "status_since", "season", "expected_reopening", "season_start", "season_end",
        "note", "aliases",
    ),
    RecordType.DEAL: ("status", "status_since", "status_until", "until_note", "note", "category"),
    RecordType.FLIGHT: ("status", "since", "starts_on", "frequency", "note", "flight_number"),
}  # fmt: skip
# A season's start before every bundled season's end and its end after every start, so a file
# giving one of them never makes a season end before it starts (such a file is refused whole).
_SEASON_DATES = {
    "season_start": st.dates(date(2019, 1, 1), date(2026, 5, 31)).map(date.isoformat),
    "season_end": st.dates(date(2026, 12, 1), date(2027, 12, 31)).map(date.isoformat),
}
_DATE_COLUMNS = (
    "as_of", "status_since", "since", "expected_reopening", "season_start", "season_end",
    "status_until", "starts_on",
)  # fmt: skip
_REQUIRED = {"category"}  # an empty cell is refused in a required column


@st.composite
def imports(draw: st.DrawFn) -> Callable[[Run, str], None]:
    """A CSV with some columns of some records, a figures CSV, or a JSON backup with a change."""
    form = draw(st.sampled_from(["csv", "figures", "json"]))
    if form == "figures":
        rows = [
            {"series": series.value, "period": period, "exports": str(draw(AMOUNTS))}
            for series, period in draw(st.lists(st.sampled_from(FIGURES), min_size=1, unique=True))
        ]
        return _import_csv("trade_figures.csv", ["series", "period", "exports"], rows)
    record_type = draw(st.sampled_from(list(SECTIONS)))
    if form == "json":
        key = draw(st.sampled_from(KEYS[record_type]))
        status = _value(draw, editing.EDITABLE[record_type]["status"])
        since = draw(st.none() | DATES)
        return _import_json(SECTIONS[record_type], key, status, since)
    # Without content columns, a row can only change what the record cites (a history event).
    columns = draw(st.lists(st.sampled_from(_CSV_COLUMNS[record_type]), unique=True))
    columns += draw(st.lists(st.sampled_from(["source", "as_of"]), unique=True))
    specs = {spec.name: spec for spec in editing.EDITABLE[record_type].values()}
    rows = []
    for key in draw(st.lists(st.sampled_from(KEYS[record_type]), min_size=1, unique=True)):
        row = {"slug": key}
        for column in columns:
            if column == "source":
                row[column] = draw(st.sampled_from(["", *SOURCE_KEYS]))
            elif column in _SEASON_DATES:
                row[column] = draw(st.just("") | _SEASON_DATES[column])
            elif column in _DATE_COLUMNS:
                row[column] = draw(st.just("") | DATES)
            elif column in specs:
                row[column] = _value(draw, specs[column])
            elif column in _REQUIRED:
                row[column] = draw(WORDS)
            else:
                row[column] = draw(st.just("") | WORDS.map(lambda text: text[:16]))
        rows.append(row)
    return _import_csv(f"{SECTIONS[record_type]}.csv", ["slug", *columns], rows)


def _import_csv(
    name: str, columns: list[str], rows: list[dict[str, str]]
) -> Callable[[Run, str], None]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    content = buffer.getvalue().encode()

    def write(run: Run, actor: str) -> None:
        dataset = read_import_bytes(name, content)
        with db.session_scope(run.engine) as session:
            apply_import(session, dataset)

    return write


def _import_json(
    section: str, key: str, status: str, since: str | None
) -> Callable[[Run, str], None]:
    def write(run: Run, actor: str) -> None:
        with Session(run.engine) as session:
            buffer = io.StringIO()
            write_json(build_dataset(session), buffer)
        document = json.loads(buffer.getvalue())
        item = next(item for item in document[section] if item["slug"] == key)
        item["status"] = status
        item["since" if section == "flights" else "status_since"] = since
        dataset = read_import_bytes("backup.json", json.dumps(document).encode())
        with db.session_scope(run.engine) as session:
            apply_import(session, dataset)

    return write


def undo(run: Run, actor: str) -> None:
    with suppress(editing.EditError), db.session_scope(run.engine) as session:
        editing.undo(session, actor=actor, now=run.now())


UNDOS = st.just(undo)
EDITS = set_lines().map(one_line_edit)
WRITERS = st.sampled_from(EDITORS)


def run_writes(template: Path, writes: list[tuple[Callable[[Run, str], None], str]]) -> None:
    with fresh_run(template) as run:
        for write, actor in writes:
            write(run, actor)
        run.check()


def sequences(writes: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(st.tuples(writes, WRITERS), min_size=1, max_size=6)


# --- the properties -------------------------------------------------------------------------


@AUDIT
@given(writes=sequences(EDITS))
def test_one_line_edits_replay(template: Path, writes: Any) -> None:
    run_writes(template, writes)


@AUDIT
@given(writes=sequences(guided_edits()))
def test_guided_edits_replay(template: Path, writes: Any) -> None:
    run_writes(template, writes)


@AUDIT
@given(writes=sequences(figure_edits()))
def test_figure_edits_replay(template: Path, writes: Any) -> None:
    run_writes(template, writes)


@AUDIT
@given(writes=sequences(cited_sources()))
def test_new_sources_cited_by_edits_replay(template: Path, writes: Any) -> None:
    run_writes(template, writes)


@AUDIT
@given(writes=sequences(imports()))
def test_imports_replay(template: Path, writes: Any) -> None:
    run_writes(template, writes)


@AUDIT
@given(writes=sequences(st.one_of(EDITS, guided_edits(), UNDOS, UNDOS)))
def test_undos_replay(template: Path, writes: Any) -> None:
    run_writes(template, writes)


@settings(AUDIT, max_examples=80)
@given(
    writes=sequences(
        st.one_of(EDITS, guided_edits(), figure_edits(), cited_sources(), imports(), UNDOS)
    )
)
def test_every_write_path_mixed_replays(template: Path, writes: Any) -> None:
    run_writes(template, writes)
