"""Load a dataset into the database: the bundled seed and file imports.

(Just over 500 lines since product groups joined the sections: each section's loader follows
the same rules below, kept beside them.)

Rules, so that loading is safe to repeat:
- a record that is missing is inserted;
- a record whose last writer is the loading actor (e.g. "seed") is brought up to date, and each
  changed field is written to the history;
- a record someone else changed since (an editor) is kept as it is: the seed never overwrites.
  An import is an editor's action (`overwrite=True`): it brings every record up to date,
  whoever changed it last, with the same history rows;
- a file may state only some fields of an item (a CSV's columns, `stated`): the others are
  already the record's own. A changed status starts on the date the file gives for it, or on
  the day of the load when it gives none; a record whose content changes cites the source and
  as-of date the file gives, or else the editors' source as of the day of the load, never its
  own older source. A change of the source or as-of date alone is one history event;
- sources, figure reports and history rows are inserted once, keyed by their natural keys
  (every history row carries an `event_key`); an import also updates the details of a source
  and the value of a figure report that differ;
- feeds and news items are matched by URL, and keep what the bot learnt by polling and
  reviewing (see `bot.services.news.backup`).

The report lists every field change and inserted row, so an import can show its plan first.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from bot.models import (
    BorderPass,
    CommodityDeal,
    ContextNote,
    EditableRecord,
    FigureReport,
    FlightRoute,
    Source,
    StatusChange,
    TradeComposition,
    TradeFigure,
    utcnow,
)
from bot.partial_date import PartialDate
from bot.services.bilingual import Coverage
from bot.services.dataset import (
    BorderPassItem,
    CommodityDealItem,
    CompositionItem,
    ContextNoteItem,
    Dataset,
    FlightRouteItem,
    HistoryItem,
    TradeFigureItem,
)
from bot.services.history import (
    EDITORS_SOURCE_KEY,
    STATUS_SINCE,
    Bookkeeping,
    RecordWrite,
    editors_source,
    value_text,
)
from bot.services.news.backup import load_feeds, load_news
from bot.vocabulary import Quantity, RecordType

if TYPE_CHECKING:
    from pydantic import BaseModel

logger = logging.getLogger(__name__)

# Dataset fields that are not columns of the record itself.
_NOT_COLUMNS = frozenset({"source", "updated_by", "updated_at", "reports"})
# The columns that say where a record's content comes from (bookkeeping, not content).
_CITATION = frozenset({"source_id", "as_of"})

RecordItem = (
    TradeFigureItem
    | BorderPassItem
    | CommodityDealItem
    | FlightRouteItem
    | ContextNoteItem
    | CompositionItem
)


# Called as items are processed: (items done, items in the dataset).
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field of an existing record that the load changed: kind is the table name."""

    kind: str
    key: str
    field: str
    old: str | None
    new: str | None


@dataclass(frozen=True, slots=True)
class InsertedRow:
    """A row the load added: a record, a source, a figure report or a history row.

    `about` names the record a figure report or history row belongs to, e.g. "pass nathu-la".
    """

    kind: str
    key: str
    about: str | None = None


@dataclass
class LoadReport:
    """What a load did, counted per kind: inserted, updated, kept (edited since), unchanged.

    `changes` and `inserted` list the same work row by row, in the order it was done.
    """

    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    kept: list[str] = field(default_factory=list)
    changes: list[FieldChange] = field(default_factory=list)
    inserted: list[InsertedRow] = field(default_factory=list)
    history_rows: int = 0  # every history row written: the file's own and the load's
    # The dataset's reader-facing texts with and without a Hindi version.
    hindi: Coverage = field(default_factory=lambda: Coverage(0, 0))

    def add(self, kind: str, outcome: str) -> None:
        self.counts[(kind, outcome)] += 1

    def add_inserted(self, kind: str, key: str, about: str | None = None) -> None:
        self.add(kind, "inserted")
        self.inserted.append(InsertedRow(kind, key, about))

    def add_change(self, kind: str, key: str, name: str, old: str | None, new: str | None) -> None:
        self.changes.append(FieldChange(kind, key, name, old, new))

    def total(self, outcome: str) -> int:
        return sum(n for (_, seen), n in self.counts.items() if seen == outcome)

    @property
    def changed_anything(self) -> bool:
        return self.total("inserted") + self.total("updated") > 0


# Each kind of record: its table, its history record type, where it sits in a dataset, and the
# columns that identify it.
_KINDS: tuple[tuple[type[EditableRecord], RecordType, str, tuple[str, ...]], ...] = (
    (TradeFigure, RecordType.FIGURE, "trade_figures", ("series", "period")),
    (BorderPass, RecordType.PASS, "passes", ("slug",)),
    (CommodityDeal, RecordType.DEAL, "deals", ("slug",)),
    (FlightRoute, RecordType.FLIGHT, "flights", ("slug",)),
    (ContextNote, RecordType.NOTE, "notes", ("key",)),
    (TradeComposition, RecordType.COMPOSITION, "composition", ("key",)),
)


@dataclass(frozen=True)
class _Load:
    """The settings of one load, passed down instead of a long list of arguments."""

    actor: str
    now: datetime
    overwrite: bool
    change_note: str
    tick: Callable[[], None]
    stated: Mapping[tuple[str, str], frozenset[str]]

    @property
    def today(self) -> PartialDate:
        return PartialDate.of(self.now.astimezone(UTC).date())


def load_dataset(
    session: Session,
    dataset: Dataset,
    *,
    actor: str,
    overwrite: bool = False,
    change_note: str = "bundled dataset revised",
    progress: Progress | None = None,
    stated: Mapping[tuple[str, str], frozenset[str]] | None = None,
) -> LoadReport:
    """Apply `dataset` inside the caller's transaction (the caller commits or rolls back).

    `overwrite` updates records whoever changed them last (an import); `change_note` is the
    note of the history rows written for changed fields. `stated` names the fields a file
    gives for an item, by (section, key); an item not in it gives all of them.
    """
    report = LoadReport(hindi=dataset.hindi_coverage())
    total = len(dataset.sources) + len(dataset.history) + len(dataset.feeds) + len(dataset.news)
    total += sum(len(getattr(dataset, section)) for _, _, section, _ in _KINDS)
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    load = _Load(actor, utcnow(), overwrite, change_note, tick, stated or {})
    sources = _load_sources(session, dataset, report, load)
    for model, record_type, section, identity in _KINDS:
        items: tuple[RecordItem, ...] = getattr(dataset, section)
        for item in items:
            where = {column: getattr(item, column) for column in identity}
            found = _find(session, model, where)
            if found is None:
                record = _insert(session, model, item, sources, load, report)
            else:
                record = found
                given = load.stated.get((section, item.key))
                _update(session, record, item, record_type, given, sources, load, report)
            if isinstance(item, TradeFigureItem):
                _load_reports(session, record, item, sources, load, report)
            load.tick()
    _load_history(session, dataset.history, sources, load, report)
    load_feeds(
        session,
        dataset.feeds,
        actor=actor,
        now=load.now,
        overwrite=overwrite,
        report=report,
        tick=load.tick,
    )
    load_news(session, dataset.news, actor=actor, now=load.now, report=report, tick=load.tick)
    session.flush()
    return report


def _load_sources(
    session: Session, dataset: Dataset, report: LoadReport, load: _Load
) -> dict[str, Source]:
    existing = {source.key: source for source in session.exec(select(Source)).all()}
    for item in dataset.sources:
        if item.key in existing:
            _refresh(existing[item.key], item, "source", item.key, load, report)
        else:
            source = Source(**{name: getattr(item, name) for name in type(item).model_fields})
            session.add(source)
            existing[item.key] = source
            report.add_inserted("source", item.key)
        load.tick()
    session.flush()  # assigns ids that records refer to
    return existing


def _columns(item: RecordItem, sources: dict[str, Source]) -> dict[str, Any]:
    values = {
        name: getattr(item, name) for name in type(item).model_fields if name not in _NOT_COLUMNS
    }
    for name, value in values.items():
        if isinstance(value, tuple):
            values[name] = list(value)
    values["source_id"] = sources[item.source].id
    return values


def _find(
    session: Session, model: type[EditableRecord], identity: dict[str, Any]
) -> EditableRecord | None:
    query = select(model)
    for column, value in identity.items():
        query = query.where(getattr(model, column) == value)
    return session.exec(query).one_or_none()


def _insert(
    session: Session,
    model: type[EditableRecord],
    item: RecordItem,
    sources: dict[str, Source],
    load: _Load,
    report: LoadReport,
) -> EditableRecord:
    record = model(
        **_columns(item, sources),
        updated_by=item.updated_by or load.actor,
        updated_at=item.updated_at or load.now,
    )
    session.add(record)
    report.add_inserted(_kind(model), item.key)
    return record


def _update(
    session: Session,
    record: EditableRecord,
    item: RecordItem,
    record_type: RecordType,
    stated: frozenset[str] | None,
    sources: dict[str, Source],
    load: _Load,
    report: LoadReport,
) -> None:
    """Bring an existing record up to date with `item`, of which the file states `stated`."""
    kind = _kind(type(record))
    values = _columns(item, sources)
    content = {name: value for name, value in values.items() if name not in _CITATION}
    changed = {name: value for name, value in content.items() if getattr(record, name) != value}
    since = STATUS_SINCE.get(record_type)
    given_since = since is not None and content[since] is not None and _states(stated, since)
    if since is not None and "status" in changed and not given_since:
        # The file gives no date for the new status: it starts today, not on the old date.
        changed.pop(since, None)
        if getattr(record, since) != load.today:
            changed[since] = load.today
    source_id, as_of = _citation(session, record, values, bool(changed), stated, sources, load)
    if not changed and (source_id, as_of) == (record.source_id, record.as_of):
        report.add(kind, "unchanged")
        return
    if record.updated_by != load.actor and not load.overwrite:
        # Someone (an editor) changed it after it was loaded: theirs is the newer truth.
        report.add(kind, "kept")
        report.kept.append(f"{kind} {item.key} (last changed by {record.updated_by})")
        return

    write = RecordWrite(
        record_type,
        item.key,
        load.actor,
        load.now,
        before=Bookkeeping.of(record),
        after=Bookkeeping(source_id, as_of, load.actor, load.now),
        note=load.change_note,
    )
    # The status row says when the new status started, as an editor's edit does.
    started = changed.get(since, getattr(record, since)) if since is not None else None
    rows = []
    for name, value in changed.items():
        status_start = started if name == "status" else None
        rows.append(write.row(name, getattr(record, name), value, occurred_on=status_start))
    report.changes.extend(
        FieldChange(kind, item.key, name, value_text(getattr(record, name)), value_text(value))
        for name, value in changed.items()
    )
    cited: list[str] = []
    if source_id != record.source_id:
        # Readers know sources by key, not by id.
        keys = {source.id: key for key, source in sources.items()}
        old_key, new_key = keys.get(record.source_id), keys.get(source_id)
        report.changes.append(FieldChange(kind, item.key, "source", old_key, new_key))
        cited.append(f"source {new_key}")
    if as_of != record.as_of:
        report.changes.append(
            FieldChange(kind, item.key, "as_of", value_text(record.as_of), value_text(as_of))
        )
        cited.append(f"as of {as_of.human()}")
    if not rows:  # only what the record cites changed: one event says so
        rows.append(write.row(None, None, None, note=f"{load.change_note}: {', '.join(cited)}"))
    session.add_all(rows)
    report.history_rows += len(rows)
    for name, value in changed.items():
        setattr(record, name, value)
    write.finish(record)
    report.add(kind, "updated")


def _citation(
    session: Session,
    record: EditableRecord,
    values: dict[str, Any],
    content_changed: bool,
    stated: frozenset[str] | None,
    sources: dict[str, Source],
    load: _Load,
) -> tuple[int, PartialDate]:
    """The source and as-of date the record cites after the load.

    What the file states; for what it leaves out, the record's own while its content stays, and
    the editors' as of today once it changes (the older source never said the new value).
    """
    source_id: int | None = values["source_id"]
    as_of: PartialDate = values["as_of"]
    if not _states(stated, "source"):
        source_id = _editors(session, sources).id if content_changed else record.source_id
    if not _states(stated, "as_of"):
        as_of = load.today if content_changed else record.as_of
    assert source_id is not None
    return source_id, as_of


def _states(stated: frozenset[str] | None, name: str) -> bool:
    """Whether the file gives the field `name` (None: every field)."""
    return stated is None or name in stated


def _editors(session: Session, sources: dict[str, Source]) -> Source:
    found = sources.get(EDITORS_SOURCE_KEY) or editors_source(session)
    sources[EDITORS_SOURCE_KEY] = found
    return found


def _kind(model: type[EditableRecord]) -> str:
    kind = model.__tablename__
    assert isinstance(kind, str)
    return kind


def _load_reports(
    session: Session,
    figure: EditableRecord,
    item: TradeFigureItem,
    sources: dict[str, Source],
    load: _Load,
    report: LoadReport,
) -> None:
    session.flush()
    known: dict[tuple[Quantity, int | None], FigureReport] = {
        (row.quantity, row.source_id): row
        for row in session.exec(
            select(FigureReport).where(FigureReport.trade_figure_id == figure.id)
        ).all()
    }
    for entry in item.reports:
        source_id = sources[entry.source].id
        found = known.get((entry.quantity, source_id))
        if found is not None:
            label = f"{entry.quantity} by {entry.source} on {item.key}"
            _refresh(found, entry, "figure_report", label, load, report, skip=("source",))
            continue
        assert figure.id is not None
        assert source_id is not None
        added = FigureReport(
            trade_figure_id=figure.id,
            quantity=entry.quantity,
            value=entry.value,
            source_id=source_id,
            note=entry.note,
            note_hi=entry.note_hi,
        )
        session.add(added)
        known[(entry.quantity, source_id)] = added
        report.add_inserted(
            "figure_report", f"{entry.quantity} by {entry.source}", f"figure {item.key}"
        )


def _refresh(
    row: Source | FigureReport,
    item: BaseModel,
    kind: str,
    label: str,
    load: _Load,
    report: LoadReport,
    *,
    skip: tuple[str, ...] = (),
) -> None:
    """Bring a source or a figure report up to date on an import; the seed leaves them be."""
    changed = {
        name: getattr(item, name)
        for name in type(item).model_fields
        if name not in skip and hasattr(row, name) and getattr(row, name) != getattr(item, name)
    }
    if not changed or not load.overwrite:
        report.add(kind, "unchanged")
        return
    for name, value in changed.items():
        report.changes.append(
            FieldChange(kind, label, name, value_text(getattr(row, name)), value_text(value))
        )
        setattr(row, name, value)
    report.add(kind, "updated")


def _load_history(
    session: Session,
    history: tuple[HistoryItem, ...],
    sources: dict[str, Source],
    load: _Load,
    report: LoadReport,
) -> None:
    if not history:
        return
    keys = [item.key for item in history]
    known = set(
        session.exec(
            select(StatusChange.event_key).where(col(StatusChange.event_key).in_(keys))
        ).all()
    )
    for item in history:
        if item.key in known:
            report.add("status_change", "unchanged")
        else:
            session.add(
                StatusChange(
                    event_key=item.key,
                    record_type=item.record_type,
                    record_key=item.record_key,
                    field=item.field,
                    old_value=item.old,
                    new_value=item.new,
                    note=item.note,
                    note_hi=item.note_hi,
                    source_id=sources[item.source].id if item.source else None,
                    occurred_on=item.occurred_on,
                    actor=item.actor or load.actor,
                    at=item.at or load.now,
                )
            )
            known.add(item.key)
            report.history_rows += 1
            report.add_inserted(
                "status_change", item.key, f"{item.record_type.value} {item.record_key}"
            )
        load.tick()
