"""Items read from a file → a dataset, each item validated on its own so a problem names its line.

A file is checked on its own here: every item against the dataset schema and against what the
database's columns hold, keys that repeat within a section. References are checked later,
against the file and the database together (`references.py`). The `Dataset` validator, which
wants every reference inside one document, stays as strict as it is for the bundled data: the
`ImportedDataset` built here is made of items that were validated one by one.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Protocol

import sqlalchemy as sa
from pydantic import BaseModel, PrivateAttr, TypeAdapter, ValidationError, create_model
from sqlmodel import SQLModel

from bot.models import (
    BorderPass,
    CommodityDeal,
    ContextNote,
    Feed,
    FigureReport,
    FlightRoute,
    NewsItem,
    Source,
    StatusChange,
    TradeComposition,
    TradeFigure,
)
from bot.services.dataset import (
    FORMAT_VERSION,
    SECTION_ITEMS,
    Dataset,
    FigureReportItem,
    figure_key,
)
from bot.services.importing.problems import Problems, Where
from bot.services.importing.read_csv import KEY_COLUMNS, REPORTS, CsvSection, ReportRow
from bot.vocabulary import Series

# The table each section is stored in, and item fields stored under another column name; used
# to check text lengths the schema leaves open (PostgreSQL would refuse them mid-import).
_TABLES: dict[str, tuple[type[SQLModel], dict[str, str]]] = {
    "sources": (Source, {}),
    "trade_figures": (TradeFigure, {}),
    "passes": (BorderPass, {}),
    "deals": (CommodityDeal, {}),
    "flights": (FlightRoute, {}),
    "notes": (ContextNote, {}),
    "composition": (TradeComposition, {}),
    "history": (StatusChange, {"key": "event_key", "old": "old_value", "new": "new_value"}),
    "feeds": (Feed, {}),
    "news": (NewsItem, {}),
    REPORTS: (FigureReport, {}),
}
_TOP_LEVEL_FIELDS = ("format_version", "exported_at")


@dataclass(frozen=True, slots=True)
class PendingReport:
    """A figure report from a CSV: its trade figure must be in the import or the database."""

    series: Series
    period: str
    report: FigureReportItem

    @property
    def figure_key(self) -> str:
        return figure_key(self.series, self.period)


@dataclass(frozen=True, slots=True)
class CsvRows:
    """A CSV's rows of records or sources, each cell checked on its own.

    The items are made once the database is at hand (`complete.py`): a row may leave out
    columns, which the record already in the database fills in.
    """

    section: str
    columns: tuple[str, ...]
    rows: tuple[tuple[dict[str, Any], Where], ...]  # the cells that hold a value, as read


class ImportedDataset(Dataset):
    """A dataset read from a file, with where each item came from (for later messages).

    Built with `model_construct` from items validated one by one: the `Dataset` validator would
    reject references to sources and records that are only in the database. `stated` names the
    fields a CSV gives for each item, by (section, key); items of YAML and JSON give them all.
    """

    _origin: str = PrivateAttr(default="")
    _where: dict[tuple[str, int], Where] = PrivateAttr(default_factory=dict)
    _reports: tuple[tuple[PendingReport, Where], ...] = PrivateAttr(default=())
    _rows: CsvRows | None = PrivateAttr(default=None)
    _stated: dict[tuple[str, str], frozenset[str]] = PrivateAttr(default_factory=dict)

    @property
    def origin(self) -> str:
        return self._origin

    @property
    def figure_reports(self) -> tuple[PendingReport, ...]:
        """Figure reports from a figure_reports.csv, not yet nested into their figures."""
        return tuple(report for report, _ in self._reports)

    @property
    def placed_reports(self) -> tuple[tuple[PendingReport, Where], ...]:
        """The figure reports with the line each came from."""
        return self._reports

    @property
    def csv_rows(self) -> CsvRows | None:
        """A CSV's rows of records or sources, not made into items yet."""
        return self._rows

    @property
    def stated(self) -> dict[tuple[str, str], frozenset[str]]:
        return self._stated

    @property
    def item_count(self) -> int:
        sections = sum(len(getattr(self, section)) for section in SECTION_ITEMS)
        rows = len(self._rows.rows) if self._rows is not None else 0
        return sections + len(self._reports) + rows

    def where(self, section: str, index: int) -> Where | None:
        return self._where.get((section, index))


def origin_of(dataset: Dataset) -> str:
    """The file a dataset came from, as messages name it."""
    return dataset.origin if isinstance(dataset, ImportedDataset) else "dataset"


def assemble(
    origin: str,
    sections: dict[str, list[tuple[BaseModel, Where]]],
    *,
    reports: Sequence[tuple[PendingReport, Where]] = (),
    exported_at: datetime | None = None,
    rows: CsvRows | None = None,
    stated: dict[tuple[str, str], frozenset[str]] | None = None,
) -> ImportedDataset:
    """An `ImportedDataset` of items already validated, with where each came from."""
    values: dict[str, Any] = {
        section: tuple(item for item, _ in entries) for section, entries in sections.items()
    }
    dataset = ImportedDataset.model_construct(exported_at=exported_at, **values)
    dataset._origin = origin
    dataset._where = {
        (section, index): where
        for section, entries in sections.items()
        for index, (_, where) in enumerate(entries)
    }
    dataset._reports = tuple(reports)
    dataset._rows = rows
    dataset._stated = stated or {}
    return dataset


# --- one item ---------------------------------------------------------------------------------


def _validate(
    section: str, raw: Any, where: Where, problems: Problems, *, in_csv: bool = False
) -> BaseModel | None:
    model = SECTION_ITEMS[section]
    if not isinstance(raw, dict):
        problems.add(f"each item of {section} must be a mapping of fields", where)
        return None
    try:
        item = model.model_validate(raw)
    except ValidationError as exc:
        problems.add_validation(exc, where, in_csv=in_csv)
        return None
    return item if _fits(section, item, where, problems) else None


def _fits(section: str, item: BaseModel, where: Where, problems: Problems) -> bool:
    """What the schema leaves open but the database refuses: long text, naive timestamps."""
    fine = True
    table, renamed = _TABLES[section]
    for name, value in item:
        if isinstance(value, datetime) and value.tzinfo is None:
            problems.add(
                f"{value.isoformat()} has no time zone: write it in UTC, e.g. 2025-08-20T10:00:00Z",
                where,
                column=name,
                loc=(name,),
            )
            fine = False
        limit = _text_limits(table).get(renamed.get(name, name))
        if isinstance(value, str) and limit is not None and len(value) > limit:
            problems.add(
                f"is {len(value)} characters long; at most {limit} fit",
                where,
                column=name,
                loc=(name,),
            )
            fine = False
    return fine


@functools.cache
def _text_limits(table: type[SQLModel]) -> dict[str, int]:
    columns: Iterable[sa.Column[Any]] = table.__table__.columns  # type: ignore[attr-defined]
    # SQLModel's AutoString wraps String, and hands on its length.
    lengths = {column.name: getattr(column.type, "length", None) for column in columns}
    return {name: length for name, length in lengths.items() if isinstance(length, int)}


def _check_unique(
    section: str, entries: Sequence[tuple[BaseModel, Where]], problems: Problems
) -> None:
    first: dict[Any, Where] = {}
    for item, where in entries:
        key = item.key  # type: ignore[attr-defined]  # every item section has a key
        if key in first:
            seen = first[key].line
            problems.add(
                f"duplicate key {key!r} in {section}"
                + (f" (first on line {seen})" if seen is not None else ""),
                where,
            )
        else:
            first[key] = where


# --- YAML and JSON: a mapping of sections -----------------------------------------------------


class Positions(Protocol):
    """Where a YAML or JSON reader found a document's top-level keys and section items."""

    def key_line(self, key: str) -> int | None: ...

    def item(self, section: str, index: int, raw: Any) -> Where: ...


def validate_document(data: Any, positions: Positions, problems: Problems) -> ImportedDataset:
    """A parsed YAML or JSON document → the dataset, or every problem found in it."""
    if not isinstance(data, dict):
        raise problems.fail(
            "expected a mapping of sections at the top level (sources, trade_figures, passes, "
            "deals, flights, notes, composition, history, feeds, news)"
        )
    exported_at = _check_top_level(data, positions, problems)
    sections: dict[str, list[tuple[BaseModel, Where]]] = {}
    for section in SECTION_ITEMS:
        raw_items = data.get(section) or []
        if not isinstance(raw_items, list):
            problems.add(
                f"section {section} must be a list of items", line=positions.key_line(section)
            )
            continue
        entries = sections.setdefault(section, [])
        for index, raw in enumerate(raw_items):
            where = positions.item(section, index, raw)
            item = _validate(section, raw, where, problems)
            if item is not None:
                entries.append((item, where))
        _check_unique(section, entries, problems)
    problems.raise_if_any()
    return assemble(problems.origin, sections, exported_at=exported_at)


def _check_top_level(
    data: dict[str, Any], positions: Positions, problems: Problems
) -> datetime | None:
    """Check the format version and the top-level keys; return the export time, if any."""
    version = data.get("format_version", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        problems.add(
            f"format_version {version!r} is not one this bot reads ({FORMAT_VERSION})",
            line=positions.key_line("format_version"),
        )
    exported_at: datetime | None = None
    try:
        exported_at = TypeAdapter(datetime | None).validate_python(data.get("exported_at"))
    except ValidationError:
        problems.add("exported_at is not a timestamp", line=positions.key_line("exported_at"))
    for key in data:
        if key not in SECTION_ITEMS and key not in _TOP_LEVEL_FIELDS:
            problems.add(
                f"unknown section {key!r}: the sections are {', '.join(SECTION_ITEMS)}",
                line=positions.key_line(key),
            )
    return exported_at


# --- CSV: one section per file ----------------------------------------------------------------


def validate_csv(read: CsvSection, problems: Problems) -> ImportedDataset:
    """A CSV section's rows → the dataset, or every problem found in them."""
    if read.section in KEY_COLUMNS:
        return _validate_cells(read, problems)
    if read.section == REPORTS:
        reports = [
            (report, where)
            for raw, where in read.rows
            if (report := _validate_report(raw, where, problems)) is not None
        ]
        problems.raise_if_any()
        return assemble(problems.origin, {}, reports=reports)
    entries = [
        (item, where)
        for raw, where in read.rows
        if (item := _validate(read.section, raw, where, problems, in_csv=True)) is not None
    ]
    _check_unique(read.section, entries, problems)
    problems.raise_if_any()
    return assemble(problems.origin, {read.section: entries})


def _validate_report(raw: dict[str, Any], where: Where, problems: Problems) -> PendingReport | None:
    try:
        row = ReportRow.model_validate(raw)
    except ValidationError as exc:
        problems.add_validation(exc, where, in_csv=True)
        return None
    report = FigureReportItem.model_validate(row.model_dump(exclude={"series", "period"}))
    return PendingReport(row.series, row.period, report)


def _validate_cells(read: CsvSection, problems: Problems) -> ImportedDataset:
    """Rows of records or sources, cell by cell: what each cell holds, and that a required
    column present in the header is not empty; whole items are made with the database."""
    model = SECTION_ITEMS[read.section]
    cells_model = _cells_model(read.section)
    emptied = [
        name
        for name in read.columns
        if name in model.model_fields
        and model.model_fields[name].is_required()
        and name not in OPTIONAL_IN_CSV
    ]
    first: dict[str, Where] = {}
    for raw, where in read.rows:
        for name in emptied:
            if name not in raw:
                problems.add("is empty; a value is required", where, column=name, loc=(name,))
        try:
            cells = cells_model.model_validate(raw)
        except ValidationError as exc:
            problems.add_validation(exc, where, in_csv=True)
            continue
        _fits(read.section, cells, where, problems)
        key = row_key(read.section, raw)
        if key is not None and key in first:
            seen = first[key].line
            problems.add(
                f"duplicate key {key!r} in {read.section}"
                + (f" (first on line {seen})" if seen is not None else ""),
                where,
            )
        elif key is not None:
            first[key] = where
    problems.raise_if_any()
    return assemble(problems.origin, {}, rows=CsvRows(read.section, read.columns, read.rows))


# A record's source and as-of date may be left empty in a CSV row that updates the record: the
# import then credits the editors, as of its own date, for what the row changes.
OPTIONAL_IN_CSV = frozenset({"source", "as_of"})


def row_key(section: str, raw: dict[str, Any]) -> str | None:
    """The key of the record or source a CSV row names (None while a key cell is empty)."""
    values = [raw.get(column) for column in KEY_COLUMNS[section]]
    if any(not isinstance(value, str) for value in values):
        return None
    if section == "trade_figures":
        series, period = values
        return f"{series}:{period}"
    return str(values[0])


@functools.cache
def _cells_model(section: str) -> type[BaseModel]:
    """The section's item with every field optional and no checks across fields."""
    model = SECTION_ITEMS[section]
    fields: dict[str, Any] = {
        name: (_constrained(info.annotation, info.metadata) | None, None)
        for name, info in model.model_fields.items()
        if name != "reports"
    }
    return create_model(f"{model.__name__}Cells", __config__=model.model_config, **fields)


def _constrained(annotation: Any, metadata: list[Any]) -> Any:
    return Annotated[annotation, *metadata] if metadata else annotation
