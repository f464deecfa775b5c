"""A CSV's rows of records or sources → items, completed by what the database already holds.

A CSV changes only what it holds. A row that names a record in the database takes the record's
values for the columns the file leaves out; an empty cell in a column the file has clears an
optional value. A row that names no record in the database adds one and needs every required
column. Each item remembers the fields the file stated, for the loader: a record's source and
as-of date are stated only by cells that hold a value (see `bot.services.loading`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError
from sqlmodel import Session, select

from bot.models import (
    BorderPass,
    CommodityDeal,
    ContextNote,
    FlightRoute,
    Source,
    TradeComposition,
    TradeFigure,
)
from bot.services.bilingual import hindi_of
from bot.services.dataset import SECTION_ITEMS
from bot.services.importing.problems import Problems, Where
from bot.services.importing.validate import (
    OPTIONAL_IN_CSV,
    CsvRows,
    ImportedDataset,
    assemble,
    row_key,
)

if TYPE_CHECKING:
    from sqlmodel import SQLModel

# The table of each section a CSV may update, and what one of its rows is called in messages.
_TABLES: dict[str, tuple[type[SQLModel], str]] = {
    "sources": (Source, "source"),
    "trade_figures": (TradeFigure, "trade figure"),
    "passes": (BorderPass, "pass"),
    "deals": (CommodityDeal, "deal"),
    "flights": (FlightRoute, "flight"),
    "notes": (ContextNote, "note"),
    "composition": (TradeComposition, "product group"),
}


def complete_rows(session: Session, dataset: ImportedDataset) -> ImportedDataset:
    """The dataset with a CSV's rows made into items; `ImportFileError` names every problem."""
    rows = dataset.csv_rows
    if rows is None:
        return dataset
    problems = Problems(dataset.origin)
    model = SECTION_ITEMS[rows.section]
    known = _database_items(session, rows.section)
    entries: list[tuple[BaseModel, Where]] = []
    stated: dict[tuple[str, str], frozenset[str]] = {}
    for cells, where in rows.rows:
        key = row_key(rows.section, cells)
        assert key is not None  # a row without its key was refused when read
        base = known.get(key)
        if base is None:
            values = _new(rows.section, model, key, cells, where, problems)
        else:
            values = {**base, **_cleared(model, rows, cells), **cells}
        if values is None:
            continue
        try:
            item = model.model_validate(values)
        except ValidationError as exc:
            problems.add_validation(exc, where, in_csv=True)
            continue
        entries.append((item, where))
        stated[(rows.section, key)] = frozenset(
            name for name in rows.columns if name in cells or name not in OPTIONAL_IN_CSV
        )
    problems.raise_if_any()
    return assemble(dataset.origin, {rows.section: entries}, stated=stated)


def _new(
    section: str,
    model: type[BaseModel],
    key: str,
    cells: dict[str, Any],
    where: Where,
    problems: Problems,
) -> dict[str, Any] | None:
    """A row that adds a record: it must give every required field."""
    missing = [
        name
        for name, info in model.model_fields.items()
        if info.is_required() and name not in cells
    ]
    noun = _TABLES[section][1]
    for name in missing:
        problems.add(
            f"is needed for a new {noun} ({key!r} is not in the database)",
            where,
            column=name,
        )
    return None if missing else cells


def _cleared(model: type[BaseModel], rows: CsvRows, cells: dict[str, Any]) -> dict[str, Any]:
    """The optional fields whose cells are empty: they go back to their default (no value).
    A text cleared takes its Hindi version with it when the file has no column for that."""
    cleared = {
        name: model.model_fields[name].get_default(call_default_factory=True)
        for name in rows.columns
        if name not in cells and name not in OPTIONAL_IN_CSV and name in model.model_fields
    }
    hindi = {
        hindi_of(name): None
        for name in cleared
        if hindi_of(name) in model.model_fields and hindi_of(name) not in rows.columns
    }
    return {**cleared, **hindi}


def _database_items(session: Session, section: str) -> dict[str, dict[str, Any]]:
    """Every record (or source) of a section, by key, as the fields of its item."""
    table, _ = _TABLES[section]
    fields = [name for name in SECTION_ITEMS[section].model_fields if name != "reports"]
    source_keys = dict(session.exec(select(Source.id, Source.key)).all())
    items: dict[str, dict[str, Any]] = {}
    for row in session.exec(select(table)).all():
        values = {name: getattr(row, name) for name in fields if hasattr(row, name)}
        if "source" in fields:
            values["source"] = source_keys[getattr(row, "source_id")]  # noqa: B009
        key = row_key(section, {name: _text(value) for name, value in values.items()})
        assert key is not None
        items[key] = values
    return items


def _text(value: Any) -> Any:
    """A key column's value as a CSV cell gives it (series are enums in the database)."""
    return getattr(value, "value", value)
