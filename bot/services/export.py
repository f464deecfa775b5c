"""Export every record with its source and history, the feeds and the news items, in the
dataset format `import` reads.

JSON is one self-contained backup. CSV is one file per section (sources.csv, passes.csv,
feeds.csv, news.csv, ...) for spreadsheets: list values are joined with " | ", booleans are
true/false, and figure reports get their own file.
"""

from __future__ import annotations

import csv
import json
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

from pydantic import BaseModel
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
from bot.services.dataset import (
    SECTION_ITEMS,
    BorderPassItem,
    CommodityDealItem,
    CompositionItem,
    ContextNoteItem,
    Dataset,
    FigureReportItem,
    FlightRouteItem,
    HistoryItem,
    SourceItem,
    TradeFigureItem,
)
from bot.services.history import of_records
from bot.services.news.backup import feed_items, news_items

if TYPE_CHECKING:
    from pathlib import Path

LIST_SEPARATOR = " | "
_R = TypeVar("_R", bound=EditableRecord)


def build_dataset(session: Session) -> Dataset:
    sources = session.exec(select(Source).order_by(col(Source.id))).all()
    source_keys = {source.id: source.key for source in sources}

    def item(model: type[BaseModel], record: EditableRecord, **extra: Any) -> Any:
        values = {
            name: getattr(record, name)
            for name in model.model_fields
            if name not in ("source", "reports") and hasattr(record, name)
        }
        return model.model_validate({**values, "source": source_keys[record.source_id], **extra})

    reports: dict[int, list[FigureReportItem]] = {}
    for report in session.exec(select(FigureReport).order_by(col(FigureReport.id))).all():
        reports.setdefault(report.trade_figure_id, []).append(
            FigureReportItem(
                quantity=report.quantity,
                value=report.value,
                source=source_keys[report.source_id],
                note=report.note,
                note_hi=report.note_hi,
            )
        )
    figures = session.exec(
        select(TradeFigure).order_by(col(TradeFigure.series), col(TradeFigure.period_start))
    ).all()
    # Role changes, news reviews and the feed list are audited in the same table but are not
    # part of any record's history (nor would an import know what they point at).
    history = session.exec(
        select(StatusChange).where(of_records()).order_by(col(StatusChange.id))
    ).all()

    return Dataset(
        exported_at=utcnow(),
        sources=tuple(SourceItem.model_validate(s, from_attributes=True) for s in sources),
        trade_figures=tuple(
            item(TradeFigureItem, f, reports=tuple(reports.get(f.id or 0, ()))) for f in figures
        ),
        passes=tuple(item(BorderPassItem, r) for r in _ordered(session, BorderPass)),
        deals=tuple(item(CommodityDealItem, r) for r in _ordered(session, CommodityDeal)),
        flights=tuple(item(FlightRouteItem, r) for r in _ordered(session, FlightRoute)),
        notes=tuple(item(ContextNoteItem, r) for r in _ordered(session, ContextNote)),
        composition=tuple(item(CompositionItem, r) for r in _ordered(session, TradeComposition)),
        history=tuple(
            HistoryItem(
                # Every row gets a key when written; only rows from before keys existed use this.
                key=row.event_key or f"history-{row.id}",
                record_type=row.record_type,
                record_key=row.record_key,
                field=row.field,
                old=row.old_value,
                new=row.new_value,
                note=row.note,
                note_hi=row.note_hi,
                source=source_keys.get(row.source_id) if row.source_id else None,
                occurred_on=row.occurred_on,
                actor=row.actor,
                at=row.at,
            )
            for row in history
        ),
        feeds=feed_items(session),
        news=news_items(session),
    )


def _ordered(session: Session, model: type[_R]) -> list[_R]:
    return list(session.exec(select(model).order_by(col(model.id))).all())


def write_json(dataset: Dataset, stream: TextIO) -> None:
    json.dump(dataset.model_dump(mode="json"), stream, ensure_ascii=False, indent=2)
    stream.write("\n")


def write_csv(dataset: Dataset, folder: Path) -> list[Path]:
    """Write one CSV per section into `folder` (created if needed); return the files."""
    folder.mkdir(parents=True, exist_ok=True)
    figure_reports = [
        {"series": figure.series, "period": figure.period, **report.model_dump(mode="json")}
        for figure in dataset.trade_figures
        for report in figure.reports
    ]
    tables: dict[str, tuple[list[str], list[dict[str, Any]]]] = {
        "figure_reports": (
            ["series", "period", *FigureReportItem.model_fields],
            figure_reports,
        ),
    }
    for section, model in SECTION_ITEMS.items():
        items: tuple[BaseModel, ...] = getattr(dataset, section)
        columns = [name for name in model.model_fields if name != "reports"]
        rows = [item.model_dump(mode="json", exclude={"reports"}) for item in items]
        tables[section] = (columns, rows)

    written = []
    for name, (columns, rows) in sorted(tables.items()):
        path = folder / f"{name}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            for row in rows:
                writer.writerow({column: _cell(row.get(column)) for column in columns})
        written.append(path)
    return written


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return LIST_SEPARATOR.join(str(part) for part in value)
    return str(value)
