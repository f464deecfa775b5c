"""Load a dataset into the database: the bundled seed and file imports.

Rules, so that loading is safe to repeat:
- a record that is missing is inserted;
- a record whose last writer is the loading actor (e.g. "seed") is brought up to date, and each
  changed field is written to the history;
- a record someone else changed since (an editor) is kept as it is: the seed never overwrites.
  An import is an editor's action (`overwrite=True`): it brings every record up to date,
  whoever changed it last, with the same history rows;
- sources, figure reports and history rows are inserted once, keyed by their natural keys
  (every history row carries an `event_key`); an import also updates the details of a source
  and the value of a figure report that differ.

The report lists every field change and inserted row, so an import can show its plan first.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
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
    TradeFigure,
    utcnow,
)
from bot.services.dataset import (
    BorderPassItem,
    CommodityDealItem,
    ContextNoteItem,
    Dataset,
    FlightRouteItem,
    HistoryItem,
    TradeFigureItem,
)
from bot.vocabulary import Quantity, RecordType

if TYPE_CHECKING:
    from pydantic import BaseModel

logger = logging.getLogger(__name__)

# Dataset fields that are not columns of the record itself.
_NOT_COLUMNS = frozenset({"source", "updated_by", "updated_at", "reports"})

RecordItem = (
    TradeFigureItem | BorderPassItem | CommodityDealItem | FlightRouteItem | ContextNoteItem
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

    def add(self, kind: str, outcome: str) -> None:
        self.counts[(kind, outcome)] += 1

    def add_inserted(self, kind: str, key: str, about: str | None = None) -> None:
        self.add(kind, "inserted")
        self.inserted.append(InsertedRow(kind, key, about))

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
)


@dataclass(frozen=True)
class _Load:
    """The settings of one load, passed down instead of a long list of arguments."""

    actor: str
    now: datetime
    overwrite: bool
    change_note: str
    tick: Callable[[], None]


def load_dataset(
    session: Session,
    dataset: Dataset,
    *,
    actor: str,
    overwrite: bool = False,
    change_note: str = "bundled dataset revised",
    progress: Progress | None = None,
) -> LoadReport:
    """Apply `dataset` inside the caller's transaction (the caller commits or rolls back).

    `overwrite` updates records whoever changed them last (an import); `change_note` is the
    note of the history rows written for changed fields.
    """
    report = LoadReport()
    total = len(dataset.sources) + len(dataset.history)
    total += sum(len(getattr(dataset, section)) for _, _, section, _ in _KINDS)
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    load = _Load(actor, utcnow(), overwrite, change_note, tick)
    sources = _load_sources(session, dataset, report, load)
    for model, record_type, section, identity in _KINDS:
        items: tuple[RecordItem, ...] = getattr(dataset, section)
        for item in items:
            where = {column: getattr(item, column) for column in identity}
            record = _upsert(session, model, item, where, record_type, sources, load, report)
            if isinstance(item, TradeFigureItem):
                _load_reports(session, record, item, sources, load, report)
            load.tick()
    _load_history(session, dataset.history, sources, load, report)
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


def _upsert(
    session: Session,
    model: type[EditableRecord],
    item: RecordItem,
    identity: dict[str, Any],
    record_type: RecordType,
    sources: dict[str, Source],
    load: _Load,
    report: LoadReport,
) -> EditableRecord:
    kind = model.__tablename__
    assert isinstance(kind, str)
    query = select(model)
    for column, value in identity.items():
        query = query.where(getattr(model, column) == value)
    existing = session.exec(query).one_or_none()
    values = _columns(item, sources)

    if existing is None:
        record = model(
            **values,
            updated_by=item.updated_by or load.actor,
            updated_at=item.updated_at or load.now,
        )
        session.add(record)
        report.add_inserted(kind, item.key)
        return record

    changed = {name: value for name, value in values.items() if getattr(existing, name) != value}
    if not changed:
        report.add(kind, "unchanged")
        return existing
    if existing.updated_by != load.actor and not load.overwrite:
        # Someone (an editor) changed it after it was loaded: theirs is the newer truth.
        report.add(kind, "kept")
        report.kept.append(f"{kind} {item.key} (last changed by {existing.updated_by})")
        return existing

    source_keys = {source.id: key for key, source in sources.items()}
    for name, value in changed.items():
        old = getattr(existing, name)
        if name == "source_id":
            # Readers know sources by key, not by id.
            report.changes.append(
                FieldChange(kind, item.key, "source", source_keys.get(old), item.source)
            )
        else:
            report.changes.append(FieldChange(kind, item.key, name, _as_text(old), _as_text(value)))
        if name not in ("source_id", "as_of"):
            session.add(
                StatusChange(
                    record_type=record_type,
                    record_key=item.key,
                    field=name,
                    old_value=_as_text(old),
                    new_value=_as_text(value),
                    note=load.change_note,
                    source_id=values["source_id"],
                    actor=load.actor,
                    at=load.now,
                )
            )
        setattr(existing, name, value)
    existing.version += 1
    existing.updated_by = load.actor
    existing.updated_at = load.now
    report.add(kind, "updated")
    return existing


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
            FieldChange(kind, label, name, _as_text(getattr(row, name)), _as_text(value))
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
                    source_id=sources[item.source].id if item.source else None,
                    occurred_on=item.occurred_on,
                    actor=item.actor or load.actor,
                    at=item.at or load.now,
                )
            )
            known.add(item.key)
            report.add_inserted(
                "status_change", item.key, f"{item.record_type.value} {item.record_key}"
            )
        load.tick()


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return ", ".join(str(part) for part in value)
    return str(value)
