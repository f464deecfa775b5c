"""Plan and apply an import, and the plan as plain text.

An import is an editor's action: it overwrites records whoever changed them last and writes a
history row per changed field with actor "import" (see `bot.services.loading`). `plan_import`
is the dry run, inside a savepoint it rolls back, so it lists exactly what `apply_import`, the
same work in the caller's transaction, writes.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlmodel import Session

from bot.services.dataset import Dataset
from bot.services.importing.complete import complete_rows
from bot.services.importing.references import check_references, nest_reports
from bot.services.importing.validate import ImportedDataset, origin_of
from bot.services.loading import FieldChange, InsertedRow, LoadReport, Progress, load_dataset
from bot.vocabulary import Actor

logger = logging.getLogger(__name__)

Stated = Mapping[tuple[str, str], frozenset[str]]  # the fields a file gives, by (section, key)

# What a section's rows are called in messages and plans, by table name.
KIND_LABELS = {
    "source": "sources",
    "trade_figure": "trade_figures",
    "figure_report": "figure_reports",
    "border_pass": "passes",
    "commodity_deal": "deals",
    "flight_route": "flights",
    "context_note": "notes",
    "trade_composition": "composition",
    "feed": "feeds",
    "news_item": "news",
    "status_change": "history",
}


@dataclass(frozen=True, slots=True)
class KindCount:
    """How many rows of one kind an import inserts and updates, e.g. "news: 5 inserted"."""

    label: str  # the section, as `KIND_LABELS` names it
    inserted: int
    updated: int

    def __str__(self) -> str:
        done = [(self.inserted, "inserted"), (self.updated, "updated")]
        return f"{self.label}: " + ", ".join(f"{n} {what}" for n, what in done if n)


@dataclass(frozen=True)
class ImportPlan:
    """What an import changes (dry run) or changed (applied), row by row.

    `changes` are field changes of existing records (each writes a history row with actor
    "import", except changes of source and as_of); `inserted` are new records, sources and
    figure reports; `history` the file's history rows that are new.
    """

    origin: str
    applied: bool
    changes: tuple[FieldChange, ...] = ()
    inserted: tuple[InsertedRow, ...] = ()
    history: tuple[InsertedRow, ...] = ()
    unchanged: int = 0
    changed_records: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    # Every history row written, as the loader counted them: the file's own, one per changed
    # field, one for a record whose source or as-of date alone changed.
    history_rows: int = 0
    # Rows inserted and updated per kind, in the order of `KIND_LABELS` (history rows are
    # counted in `history_rows`).
    counts: tuple[KindCount, ...] = ()

    @property
    def changed_anything(self) -> bool:
        return bool(self.changes or self.inserted or self.history)


def plan_import(
    session: Session, dataset: Dataset, *, progress: Progress | None = None
) -> ImportPlan:
    """The dry run: apply inside a savepoint, note what changed, roll the savepoint back."""
    prepared, stated = _prepare(session, dataset)
    savepoint = session.begin_nested()
    try:
        report = _load(session, prepared, stated, origin_of(dataset), progress)
    finally:
        savepoint.rollback()
    return _plan(origin_of(dataset), report, applied=False)


def apply_import(
    session: Session, dataset: Dataset, *, progress: Progress | None = None
) -> ImportPlan:
    """Apply in the caller's transaction: it commits, or rolls back the whole file."""
    origin = origin_of(dataset)
    report = _load(session, *_prepare(session, dataset), origin, progress)
    plan = _plan(origin, report, applied=True)
    logger.info(
        "Imported %s: changed fields %d, inserted rows %d, history rows %d, unchanged %d.",
        origin,
        len(plan.changes),
        len(plan.inserted),
        plan.history_rows,
        plan.unchanged,
    )
    return plan


def _prepare(session: Session, dataset: Dataset) -> tuple[Dataset, Stated]:
    """The dataset as the loader takes it, and the fields its CSV states (if it is one)."""
    if isinstance(dataset, ImportedDataset):
        dataset = complete_rows(session, dataset)
    check_references(session, dataset)
    stated = dataset.stated if isinstance(dataset, ImportedDataset) else {}
    return nest_reports(session, dataset), stated


def _load(
    session: Session, dataset: Dataset, stated: Stated, origin: str, progress: Progress | None
) -> LoadReport:
    return load_dataset(
        session,
        dataset,
        actor=Actor.IMPORT,
        overwrite=True,
        change_note=f"imported from {origin[:100]}",
        progress=progress,
        stated=stated,
    )


def _plan(origin: str, report: LoadReport, *, applied: bool) -> ImportPlan:
    history = tuple(row for row in report.inserted if row.kind == "status_change")
    return ImportPlan(
        origin=origin,
        applied=applied,
        changes=tuple(report.changes),
        inserted=tuple(row for row in report.inserted if row.kind != "status_change"),
        history=history,
        unchanged=report.total("unchanged"),
        changed_records=tuple(dict.fromkeys((c.kind, c.key) for c in report.changes)),
        history_rows=report.history_rows,
        counts=_counts(report),
    )


def _counts(report: LoadReport) -> tuple[KindCount, ...]:
    counts = (
        KindCount(label, report.counts[(kind, "inserted")], report.counts[(kind, "updated")])
        for kind, label in KIND_LABELS.items()
        if kind != "status_change"
    )
    return tuple(count for count in counts if count.inserted or count.updated)


# --- the plan as text -------------------------------------------------------------------------


def describe_plan(plan: ImportPlan, *, limit: int = 20) -> list[str]:
    """Plain-text lines: one per changed field, inserted rows (`limit` per kind), the counts of
    each kind, a summary."""
    lines = [
        f"{KIND_LABELS.get(c.kind, c.kind)} {c.key}: {c.field} {_show(c.old)} → {_show(c.new)}"
        for c in plan.changes
    ]
    lines += _inserted_lines(plan, limit)
    lines += [str(count) for count in plan.counts]
    lines.append(_summary(plan))
    return lines


def _inserted_lines(plan: ImportPlan, limit: int) -> list[str]:
    groups: dict[str, list[InsertedRow]] = {}
    for row in (*plan.inserted, *plan.history):
        groups.setdefault(row.kind, []).append(row)
    lines = []
    for kind, rows in groups.items():
        label = KIND_LABELS.get(kind, kind)
        for row in rows[:limit]:
            about = f"{row.about}, " if row.about else ""
            lines.append(f"+ {label} {row.key} ({about}inserted)")
        if len(rows) > limit:
            rows_of = " rows" if kind == "status_change" else ""
            lines.append(f"+ {len(rows) - limit} more {label}{rows_of} (inserted)")
    return lines


def _summary(plan: ImportPlan) -> str:
    if not plan.changed_anything:
        return (
            f"{plan.origin}: nothing to change ({_count(plan.unchanged, 'row')} already up to date)"
        )
    fields = _count(len(plan.changes), "field")
    records = _count(len(plan.changed_records), "record")
    # (past tense, dry-run verb, what, how many) for each kind of work; zeros say nothing.
    work = [
        ("changed", "change", f"{fields} in {records}", len(plan.changes)),
        ("inserted", "insert", _count(len(plan.inserted), "row"), len(plan.inserted)),
        ("added", "add", _count(plan.history_rows, "history row"), plan.history_rows),
    ]
    parts = [f"{done if plan.applied else verb} {what}" for done, verb, what, n in work if n]
    summary = ", ".join(parts) if plan.applied else "would " + ", ".join(parts)
    return f"{plan.origin}: {summary}; {plan.unchanged} unchanged"


def _show(value: str | None, width: int = 60) -> str:
    if value is None or value == "":
        return "(empty)"
    value = " ".join(value.split())
    return value if len(value) <= width else value[: width - 1] + "…"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
