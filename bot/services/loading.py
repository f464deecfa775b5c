"""Load a dataset into the database: the bundled seed now, file imports later.

Rules, so that loading is safe to repeat:
- a record that is missing is inserted;
- a record whose last writer is the loading actor (e.g. "seed") is brought up to date, and each
  changed field is written to the history;
- a record someone else changed since (an editor) is kept as it is: the seed never overwrites;
- sources, figure reports and history rows are inserted once, keyed by their natural keys.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

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
from bot.vocabulary import RecordType

logger = logging.getLogger(__name__)

# Dataset fields that are not columns of the record itself.
_NOT_COLUMNS = frozenset({"source", "updated_by", "updated_at", "reports"})

RecordItem = (
    TradeFigureItem | BorderPassItem | CommodityDealItem | FlightRouteItem | ContextNoteItem
)


@dataclass
class LoadReport:
    """What a load did, counted per kind: inserted, updated, kept (edited since), unchanged."""

    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    kept: list[str] = field(default_factory=list)

    def add(self, kind: str, outcome: str) -> None:
        self.counts[(kind, outcome)] += 1

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


def load_dataset(session: Session, dataset: Dataset, *, actor: str) -> LoadReport:
    """Apply `dataset` inside the caller's transaction (the caller commits or rolls back)."""
    report = LoadReport()
    now = utcnow()
    sources = _load_sources(session, dataset, report)
    for model, record_type, section, identity in _KINDS:
        items: tuple[RecordItem, ...] = getattr(dataset, section)
        for item in items:
            where = {column: getattr(item, column) for column in identity}
            record = _upsert(session, model, item, where, record_type, sources, actor, now, report)
            if isinstance(item, TradeFigureItem):
                _load_reports(session, record, item, sources, report)
    _load_history(session, dataset.history, sources, actor=actor, now=now, report=report)
    session.flush()
    return report


def _load_sources(session: Session, dataset: Dataset, report: LoadReport) -> dict[str, Source]:
    existing = {source.key: source for source in session.exec(select(Source)).all()}
    for item in dataset.sources:
        if item.key in existing:
            report.add("source", "unchanged")
            continue
        source = Source(**{name: getattr(item, name) for name in type(item).model_fields})
        session.add(source)
        existing[item.key] = source
        report.add("source", "inserted")
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
    actor: str,
    now: datetime,
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
            updated_by=item.updated_by or actor,
            updated_at=item.updated_at or now,
        )
        session.add(record)
        report.add(kind, "inserted")
        return record

    changed = {name: value for name, value in values.items() if getattr(existing, name) != value}
    if not changed:
        report.add(kind, "unchanged")
        return existing
    if existing.updated_by != actor:
        # Someone (an editor) changed it after it was loaded: theirs is the newer truth.
        report.add(kind, "kept")
        report.kept.append(f"{kind} {item.key} (last changed by {existing.updated_by})")
        return existing

    for name, value in changed.items():
        if name not in ("source_id", "as_of"):
            session.add(
                StatusChange(
                    record_type=record_type,
                    record_key=item.key,
                    field=name,
                    old_value=_as_text(getattr(existing, name)),
                    new_value=_as_text(value),
                    note="bundled dataset revised",
                    source_id=values["source_id"],
                    actor=actor,
                    at=now,
                )
            )
        setattr(existing, name, value)
    existing.version += 1
    existing.updated_at = now
    report.add(kind, "updated")
    return existing


def _load_reports(
    session: Session,
    figure: EditableRecord,
    item: TradeFigureItem,
    sources: dict[str, Source],
    report: LoadReport,
) -> None:
    session.flush()
    known = {
        (row.quantity, row.source_id)
        for row in session.exec(
            select(FigureReport).where(FigureReport.trade_figure_id == figure.id)
        ).all()
    }
    for entry in item.reports:
        source_id = sources[entry.source].id
        if (entry.quantity, source_id) in known:
            report.add("figure_report", "unchanged")
            continue
        assert figure.id is not None
        assert source_id is not None
        session.add(
            FigureReport(
                trade_figure_id=figure.id,
                quantity=entry.quantity,
                value=entry.value,
                source_id=source_id,
                note=entry.note,
            )
        )
        report.add("figure_report", "inserted")


def _load_history(
    session: Session,
    history: tuple[HistoryItem, ...],
    sources: dict[str, Source],
    *,
    actor: str,
    now: datetime,
    report: LoadReport,
) -> None:
    keys = [item.key for item in history]
    known = set(
        session.exec(
            select(StatusChange.event_key).where(col(StatusChange.event_key).in_(keys))
        ).all()
    )
    for item in history:
        if item.key in known:
            report.add("status_change", "unchanged")
            continue
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
                actor=item.actor or actor,
                at=item.at or now,
            )
        )
        report.add("status_change", "inserted")


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return ", ".join(str(part) for part in value)
    return str(value)
