"""Import a file an editor prepared: a JSON backup, YAML like bot/data, or one CSV per section.

Reading checks the file on its own: its format, every item against the dataset schema, keys
that repeat; each problem names the line (and for CSV the column). References (the source a
record cites, the record a history row or figure report belongs to) may point at the
database, so they are checked when the import is planned or applied, against the file and the
database together. The `Dataset` validator, which wants every reference inside one document,
stays as strict as it is for the bundled data: a file read here is built from items that were
validated one by one (`ImportedDataset`).

An import is an editor's action: it overwrites records whoever changed them last and writes a
history row per changed field with actor "import" (see `bot.services.loading`). `plan_import`
is the dry run, `apply_import` the same work in the caller's transaction.
"""

from __future__ import annotations

import bisect
import csv
import functools
import io
import json
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path, PurePath
from typing import Any

import sqlalchemy as sa
import yaml
from pydantic import BaseModel, PrivateAttr, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails
from sqlmodel import Session, SQLModel, select

from bot.models import (
    BorderPass,
    CommodityDeal,
    ContextNote,
    FigureReport,
    FlightRoute,
    Source,
    StatusChange,
    TradeFigure,
)
from bot.services.dataset import (
    FORMAT_VERSION,
    SECTION_ITEMS,
    Dataset,
    FigureReportItem,
    TradeFigureItem,
    figure_key,
)
from bot.services.loading import FieldChange, InsertedRow, LoadReport, Progress, load_dataset
from bot.vocabulary import Actor, RecordType, Series

logger = logging.getLogger(__name__)

LIST_SEPARATOR = "|"  # export joins lists with " | "; spaces around it are optional here
REPORTS = "figure_reports"  # the CSV of figure reports, nested into trade figures elsewhere
CSV_SECTIONS = (*SECTION_ITEMS, REPORTS)
FORMATS = (".json", ".yaml", ".yml", ".csv")

# What a section's rows are called in messages and plans, by table name.
KIND_LABELS = {
    "source": "sources",
    "trade_figure": "trade_figures",
    "figure_report": "figure_reports",
    "border_pass": "passes",
    "commodity_deal": "deals",
    "flight_route": "flights",
    "context_note": "notes",
    "status_change": "history",
}

# The table each section is stored in, and item fields stored under another column name; used
# to check text lengths the schema leaves open (PostgreSQL would refuse them mid-import).
_TABLES: dict[str, tuple[type[SQLModel], dict[str, str]]] = {
    "sources": (Source, {}),
    "trade_figures": (TradeFigure, {}),
    "passes": (BorderPass, {}),
    "deals": (CommodityDeal, {}),
    "flights": (FlightRoute, {}),
    "notes": (ContextNote, {}),
    "history": (StatusChange, {"key": "event_key", "old": "old_value", "new": "new_value"}),
    REPORTS: (FigureReport, {}),
}
# The column holding each kind of record's key (figures are keyed by series and period).
_RECORD_KEYS: dict[RecordType, Any] = {
    RecordType.SOURCE: Source.key,
    RecordType.PASS: BorderPass.slug,
    RecordType.DEAL: CommodityDeal.slug,
    RecordType.FLIGHT: FlightRoute.slug,
    RecordType.NOTE: ContextNote.key,
}
# The columns that name a row; they tell a CSV's section when its file name does not.
_IDENTITY = {
    "sources": {"key", "title"},
    "trade_figures": {"series", "period", "period_start"},
    REPORTS: {"series", "period", "quantity", "value"},
    "passes": {"slug", "name"},
    "deals": {"slug", "commodity"},
    "flights": {"slug", "route"},
    "notes": {"key", "topic", "text"},
    "history": {"key", "record_type", "record_key"},
}


# --- problems ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """One thing wrong with a file, e.g. "passes.csv line 4, status: 'opne' is not one of ..."."""

    file: str
    message: str
    line: int | None = None
    item: str | None = None  # "passes item 3" in YAML and JSON, where lines hold many items
    column: str | None = None  # the CSV column or the item's field, e.g. "reports[0].value"

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f" line {self.line}"
        if self.item is not None:
            where += f" ({self.item})"
        if self.column is not None:
            where += f", {self.column}"
        return f"{where}: {self.message}"


class ImportFileError(Exception):
    """The file cannot be imported; `problems` says where and why, one entry each."""

    def __init__(self, problems: Sequence[ImportProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


@dataclass(frozen=True, slots=True)
class _Where:
    """Where an item came from. YAML keeps its node and JSON its objects, for field lines."""

    line: int | None
    item: str | None = None
    node: yaml.Node | None = None
    raw: Any = None

    def line_of(self, loc: Sequence[int | str]) -> int | None:
        line = self.line
        node, raw = self.node, self.raw
        for part in loc:
            if isinstance(node, yaml.MappingNode):
                node = next((v for k, v in node.value if k.value == part), None)
                line = node.start_mark.line + 1 if node is not None else line
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                node = node.value[part] if part < len(node.value) else None
                line = node.start_mark.line + 1 if node is not None else line
            elif isinstance(raw, dict | list):
                try:
                    raw = raw[part]  # type: ignore[index]
                except (KeyError, IndexError, TypeError):
                    break
                line = getattr(raw, "line", line)
            else:
                break
        return line


class _Problems:
    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.found: list[ImportProblem] = []

    def add(
        self,
        message: str,
        where: _Where | None = None,
        *,
        line: int | None = None,
        column: str | None = None,
        loc: Sequence[int | str] = (),
    ) -> None:
        if where is not None:
            line = where.line_of(loc) if loc else where.line
        item = where.item if where is not None else None
        self.found.append(ImportProblem(self.origin, message, line, item, column))

    def add_validation(self, exc: ValidationError, where: _Where, *, in_csv: bool) -> None:
        for error in exc.errors():
            loc = error["loc"]
            column = _loc_text(loc) or None
            self.add(_error_text(error, in_csv=in_csv), where, column=column, loc=loc)

    def raise_if_any(self) -> None:
        if self.found:
            # In file order, whichever check found them (unplaced ones first).
            raise ImportFileError(sorted(self.found, key=lambda problem: problem.line or 0))

    def fail(self, message: str, *, line: int | None = None) -> ImportFileError:
        self.add(message, line=line)
        return ImportFileError(self.found)


def _loc_text(loc: Sequence[int | str]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else part
    return text


def _error_text(error: ErrorDetails, *, in_csv: bool) -> str:
    kind, value = error["type"], error.get("input")
    if kind == "missing":
        return "is empty; a value is required" if in_csv else "is missing; a value is required"
    if kind == "extra_forbidden":
        return "is not a field of this section"
    if kind == "enum":
        expected = str(error.get("ctx", {}).get("expected", "")).replace("'", "")
        return f"{value!r} is not one of {expected}"
    message = str(error["msg"]).removeprefix("Value error, ")
    if isinstance(value, str | int | Decimal) and repr(value) not in message:
        message += f" (got {value!r})"
    return message


# --- the dataset a file holds -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PendingReport:
    """A figure report from a CSV: its trade figure must be in the import or the database."""

    series: Series
    period: str
    report: FigureReportItem

    @property
    def figure_key(self) -> str:
        return figure_key(self.series, self.period)


class ImportedDataset(Dataset):
    """A dataset read from a file, with where each item came from (for later messages).

    Built with `model_construct` from items validated one by one: the `Dataset` validator would
    reject references to sources and records that are only in the database.
    """

    _origin: str = PrivateAttr(default="")
    _where: dict[tuple[str, int], _Where] = PrivateAttr(default_factory=dict)
    _reports: tuple[tuple[PendingReport, _Where], ...] = PrivateAttr(default=())

    @property
    def origin(self) -> str:
        return self._origin

    @property
    def figure_reports(self) -> tuple[PendingReport, ...]:
        """Figure reports from a figure_reports.csv, not yet nested into their figures."""
        return tuple(report for report, _ in self._reports)

    @property
    def item_count(self) -> int:
        sections = sum(len(getattr(self, section)) for section in SECTION_ITEMS)
        return sections + len(self._reports)

    def where(self, section: str, index: int) -> _Where | None:
        return self._where.get((section, index))


def _build(
    origin: str,
    sections: dict[str, list[tuple[BaseModel, _Where]]],
    *,
    reports: Sequence[tuple[PendingReport, _Where]] = (),
    exported_at: datetime | None = None,
) -> ImportedDataset:
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
    return dataset


# --- reading ----------------------------------------------------------------------------------


def read_import_file(path: Path) -> ImportedDataset:
    """Read a file to import; raise `ImportFileError` listing every problem found."""
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(
            [ImportProblem(path.name, f"cannot be read: {exc.strerror or exc}")]
        ) from None
    return read_import_bytes(path.name, content)


def read_import_bytes(name: str, content: bytes) -> ImportedDataset:
    """Read a document sent to the bot: `name` (its file name) tells the format."""
    origin = PurePath(name).name or "file"
    problems = _Problems(origin)
    suffix = PurePath(origin).suffix.lower()
    if suffix not in FORMATS:
        what = f"{suffix} files" if suffix else "a file without an extension"
        raise problems.fail(
            f"cannot import {what}: use .json (an export backup), .yaml/.yml (like bot/data) "
            "or .csv (one section, as export writes it)"
        )
    text = _decode(content, problems)
    try:
        if suffix == ".csv":
            dataset = _read_csv(text, problems)
        elif suffix == ".json":
            dataset = _read_json(text, problems)
        else:
            dataset = _read_yaml(text, problems)
    except RecursionError:
        raise problems.fail("is nested too deeply to be a dataset") from None
    logger.debug("Read %s: %d items", origin, dataset.item_count)
    return dataset


def _decode(content: bytes, problems: _Problems) -> str:
    try:
        text = content.decode("utf-8-sig")  # a spreadsheet's byte order mark is no problem
    except UnicodeDecodeError as exc:
        line = content.count(b"\n", 0, exc.start) + 1
        raise problems.fail(
            f"is not UTF-8 text (byte 0x{content[exc.start]:02x} cannot be read): save it as UTF-8",
            line=line,
        ) from None
    if "\x00" in text:
        raise problems.fail("is not a text file (it contains NUL bytes)")
    if not text.strip():
        raise problems.fail("is empty")
    return text


def _validate(
    section: str, raw: Any, where: _Where, problems: _Problems, *, in_csv: bool = False
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


def _fits(section: str, item: BaseModel, where: _Where, problems: _Problems) -> bool:
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
    section: str, entries: Sequence[tuple[BaseModel, _Where]], problems: _Problems
) -> None:
    first: dict[Any, _Where] = {}
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


def _read_document(
    data: Any, problems: _Problems, locate: Callable[[str, int, Any], _Where], key_line: Any
) -> ImportedDataset:
    """Turn a parsed YAML or JSON document into a dataset; `locate` says where items are."""
    if not isinstance(data, dict):
        raise problems.fail(
            "expected a mapping of sections at the top level (sources, trade_figures, passes, "
            "deals, flights, notes, history)"
        )
    version = data.get("format_version", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        problems.add(
            f"format_version {version!r} is not one this bot reads ({FORMAT_VERSION})",
            line=key_line("format_version"),
        )
    exported_at: datetime | None = None
    try:
        exported_at = TypeAdapter(datetime | None).validate_python(data.get("exported_at"))
    except ValidationError:
        problems.add("exported_at is not a timestamp", line=key_line("exported_at"))
    for key in data:
        if key not in SECTION_ITEMS and key not in ("format_version", "exported_at"):
            problems.add(
                f"unknown section {key!r}: the sections are {', '.join(SECTION_ITEMS)}",
                line=key_line(key),
            )

    sections: dict[str, list[tuple[BaseModel, _Where]]] = {}
    for section in SECTION_ITEMS:
        raw_items = data.get(section) or []
        if not isinstance(raw_items, list):
            problems.add(f"section {section} must be a list of items", line=key_line(section))
            continue
        entries = sections.setdefault(section, [])
        for index, raw in enumerate(raw_items):
            where = locate(section, index, raw)
            item = _validate(section, raw, where, problems)
            if item is not None:
                entries.append((item, where))
        _check_unique(section, entries, problems)
    problems.raise_if_any()
    return _build(problems.origin, sections, exported_at=exported_at)


class _ImportLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text for pydantic to read.

    PyYAML turns 2025-08-19 into a date itself and raises a bare ValueError on 2025-13-01;
    as text, a bad date becomes a problem on its own line like any other bad value.
    """


_ImportLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _read_yaml(text: str, problems: _Problems) -> ImportedDataset:
    loader = _ImportLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise problems.fail(
            f"is not valid YAML: {exc.problem or exc.context}",
            line=mark.line + 1 if mark is not None else None,
        ) from None
    except (yaml.YAMLError, ValueError, TypeError) as exc:  # e.g. an explicit !!int 'x'
        raise problems.fail(f"is not valid YAML: {exc}") from None
    finally:
        loader.dispose()
    if node is None:
        raise problems.fail("is empty")
    _yaml_duplicate_keys(node, problems)

    top = {k.value: (k, v) for k, v in node.value} if isinstance(node, yaml.MappingNode) else {}

    def key_line(key: str) -> int | None:
        return top[key][0].start_mark.line + 1 if key in top else None

    def locate(section: str, index: int, raw: Any) -> _Where:
        items = top[section][1]
        assert isinstance(items, yaml.SequenceNode)
        item = items.value[index]
        return _Where(item.start_mark.line + 1, f"{section} item {index + 1}", node=item)

    return _read_document(data, problems, locate, key_line)


def _yaml_duplicate_keys(root: yaml.Node, problems: _Problems) -> None:
    # SafeLoader keeps the last of two equal keys without a word; an editor meant one of them.
    seen_nodes: set[int] = set()
    pending = [root]
    while pending:
        node = pending.pop()
        if id(node) in seen_nodes:  # an alias: already checked where its anchor is
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            first: dict[str, int] = {}
            for key, value in node.value:
                line = key.start_mark.line + 1
                if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                    if key.value in first:
                        problems.add(
                            f"duplicate key {key.value!r} (first on line {first[key.value]})",
                            line=line,
                        )
                    first.setdefault(key.value, line)
                pending.append(value)
        elif isinstance(node, yaml.SequenceNode):
            pending.extend(node.value)


class _JsonObject(dict[str, Any]):
    """A JSON object that knows the line it starts on, and the keys it had twice."""

    line: int | None = None
    duplicates: tuple[str, ...] = ()

    @classmethod
    def from_pairs(cls, pairs: list[tuple[str, Any]]) -> _JsonObject:
        obj = cls(pairs)
        if len(obj) < len(pairs):
            counts = Counter(key for key, _ in pairs)
            obj.duplicates = tuple(key for key, seen in counts.items() if seen > 1)
        return obj


class _LineDecoder(json.JSONDecoder):
    """`json.loads` that notes where each object starts.

    The C scanner reports no positions; the pure-Python one takes its object parser from the
    decoder, so wrapping that parser sees each object's opening brace.
    """

    def __init__(self, text: str, on_duplicate: Callable[[int | None, str], None]) -> None:
        super().__init__(object_pairs_hook=_JsonObject.from_pairs, parse_float=Decimal)
        newlines = [match.start() for match in re.finditer("\n", text)]
        parse = json.decoder.JSONObject  # type: ignore[attr-defined]

        def parse_object(s_and_end: tuple[str, int], *args: Any) -> tuple[Any, int]:
            obj, end = parse(s_and_end, *args)
            obj.line = bisect.bisect_left(newlines, s_and_end[1] - 1) + 1
            for key in obj.duplicates:
                on_duplicate(obj.line, key)
            return obj, end

        self.parse_object = parse_object
        self.scan_once = json.scanner.py_make_scanner(self)  # type: ignore[attr-defined]


def _read_json(text: str, problems: _Problems) -> ImportedDataset:
    def on_duplicate(line: int | None, key: str) -> None:
        problems.add(f"duplicate key {key!r} in the object starting here", line=line)

    try:
        data = _LineDecoder(text, on_duplicate).decode(text)
    except json.JSONDecodeError as exc:
        raise problems.fail(
            f"is not valid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno
        ) from None
    top_line = getattr(data, "line", None)

    def locate(section: str, index: int, raw: Any) -> _Where:
        return _Where(getattr(raw, "line", None), f"{section} item {index + 1}", raw=raw)

    return _read_document(data, problems, locate, lambda key: top_line)


# --- CSV: one section per file ----------------------------------------------------------------


class _ReportRow(FigureReportItem):
    """A row of figure_reports.csv: a report and the trade figure it belongs to."""

    series: Series
    period: str


def csv_columns(section: str) -> list[str]:
    """The columns export writes for a section, in its order."""
    if section == REPORTS:
        return ["series", "period", *FigureReportItem.model_fields]
    return [name for name in SECTION_ITEMS[section].model_fields if name != "reports"]


def _list_columns(section: str) -> set[str]:
    model = _ReportRow if section == REPORTS else SECTION_ITEMS[section]
    return {
        name
        for name, info in model.model_fields.items()
        if getattr(info.annotation, "__origin__", None) is tuple
    }


def _csv_section(header: list[str], problems: _Problems) -> str:
    stem = PurePath(problems.origin).stem.lower()
    if stem in CSV_SECTIONS:
        return stem
    columns = set(header)
    candidates = [
        (len(columns - set(csv_columns(section))), section)
        for section in CSV_SECTIONS
        if _IDENTITY[section] <= columns
    ]
    if candidates:
        fewest_unknown = min(unknown for unknown, _ in candidates)
        best = [section for unknown, section in candidates if unknown == fewest_unknown]
        if len(best) == 1:
            return best[0]
    names = ", ".join(f"{section}.csv" for section in CSV_SECTIONS)
    raise problems.fail(
        "cannot tell which section this CSV holds from its columns: name the file after its "
        f"section ({names}) or use the columns export writes",
        line=1,
    )


def _read_csv(text: str, problems: _Problems) -> ImportedDataset:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        rows = _csv_rows(reader)
        header_line, header = next(rows, (1, []))
        header = [name.strip() for name in header]
        section = _csv_section(header, problems)
        _check_header(section, header, header_line, problems)
        entries: list[tuple[BaseModel, _Where]] = []
        reports: list[tuple[PendingReport, _Where]] = []
        lists = _list_columns(section)
        for line, cells in rows:
            where = _Where(line)
            if len(cells) > len(header):
                problems.add(
                    f"has {len(cells)} cells but the header has {len(header)} columns", where
                )
                continue
            raw: dict[str, Any] = {}
            for name, cell in zip(header, cells, strict=False):
                value = cell.strip()
                if value:  # an empty cell is "no value": None, an empty list, the default
                    raw[name] = _split(value) if name in lists else value
            if section == REPORTS:
                report = _csv_report(raw, where, problems)
                if report is not None:
                    reports.append((report, where))
            elif (item := _validate(section, raw, where, problems, in_csv=True)) is not None:
                entries.append((item, where))
    except csv.Error as exc:
        raise problems.fail(f"is not valid CSV: {exc}", line=reader.line_num) from None

    if section == REPORTS:
        problems.raise_if_any()
        return _build(problems.origin, {}, reports=reports)
    _check_unique(section, entries, problems)
    problems.raise_if_any()
    return _build(problems.origin, {section: entries})


def _csv_rows(reader: Any) -> Iterator[tuple[int, list[str]]]:
    """Rows that are not blank, each with the line it starts on (cells may span lines)."""
    start = 1
    for cells in reader:
        if any(cell.strip() for cell in cells):
            yield start, cells
        start = reader.line_num + 1


def _check_header(section: str, header: list[str], line: int, problems: _Problems) -> None:
    known = csv_columns(section)
    seen: set[str] = set()
    for name in header:
        if not name:
            problems.add("a column has no name", line=line)
        elif name in seen:
            problems.add("appears twice in the header", line=line, column=name)
        elif name not in known:
            problems.add(
                f"is not a column of {section}.csv (its columns: {', '.join(known)})",
                line=line,
                column=name,
            )
        seen.add(name)
    model = _ReportRow if section == REPORTS else SECTION_ITEMS[section]
    for name, info in model.model_fields.items():
        if info.is_required() and name not in seen:
            problems.add(f"{section}.csv needs a column {name!r}", line=line)
    problems.raise_if_any()


def _csv_report(raw: dict[str, Any], where: _Where, problems: _Problems) -> PendingReport | None:
    try:
        row = _ReportRow.model_validate(raw)
    except ValidationError as exc:
        problems.add_validation(exc, where, in_csv=True)
        return None
    report = FigureReportItem.model_validate(row.model_dump(exclude={"series", "period"}))
    return PendingReport(row.series, row.period, report)


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(LIST_SEPARATOR) if part.strip()]


# --- references against the database ---------------------------------------------------------


def _check_references(session: Session, dataset: Dataset) -> None:
    origin = dataset.origin if isinstance(dataset, ImportedDataset) else "dataset"
    problems = _Problems(origin)

    def where(section: str, index: int) -> _Where:
        found = dataset.where(section, index) if isinstance(dataset, ImportedDataset) else None
        return found or _Where(None, f"{section} item {index + 1}")

    sources = set(session.exec(select(Source.key)).all()) | {s.key for s in dataset.sources}

    def check_source(key: str | None, at: _Where, loc: tuple[int | str, ...]) -> None:
        if key is not None and key not in sources:
            problems.add(
                f"{key!r} is not a source in this file or in the database",
                at,
                column=_loc_text(loc),
                loc=loc,
            )

    for section in ("trade_figures", "passes", "deals", "flights", "notes", "history"):
        for index, item in enumerate(getattr(dataset, section)):
            check_source(item.source, where(section, index), ("source",))
            for number, report in enumerate(getattr(item, "reports", ())):
                check_source(report.source, where(section, index), ("reports", number, "source"))

    records = dataset.record_keys()
    figures = records[RecordType.FIGURE] | _database_figures(session)
    if isinstance(dataset, ImportedDataset):
        for pending, at in dataset._reports:
            check_source(pending.report.source, at, ("source",))
            if pending.figure_key not in figures:
                problems.add(
                    f"there is no trade figure {pending.series.value} {pending.period} in the "
                    "database: import its trade_figures row first",
                    at,
                    column="period",
                )
    wanted = {h.record_type for h in dataset.history} - {RecordType.FIGURE}
    known = {kind: records[kind] | _database_keys(session, kind) for kind in wanted}
    known[RecordType.FIGURE] = figures
    for index, history in enumerate(dataset.history):
        if history.record_key not in known[history.record_type]:
            problems.add(
                f"there is no {history.record_type.value} {history.record_key!r} in this file "
                "or in the database",
                where("history", index),
                column="record_key",
                loc=("record_key",),
            )
    problems.raise_if_any()


def _database_figures(session: Session) -> set[str]:
    rows = session.exec(select(TradeFigure.series, TradeFigure.period)).all()
    return {figure_key(Series(series), period) for series, period in rows}


def _database_keys(session: Session, kind: RecordType) -> set[str]:
    return set(session.exec(select(_RECORD_KEYS[kind])).all())


def _nest_reports(session: Session, dataset: Dataset) -> Dataset:
    """Nest a CSV's figure reports into their trade figures, from the file or the database."""
    if not isinstance(dataset, ImportedDataset) or not dataset.figure_reports:
        return dataset
    reports: dict[str, list[FigureReportItem]] = {}
    for pending in dataset.figure_reports:
        reports.setdefault(pending.figure_key, []).append(pending.report)
    figures = [
        figure.model_copy(update={"reports": (*figure.reports, *reports.pop(figure.key))})
        if figure.key in reports
        else figure
        for figure in dataset.trade_figures
    ]
    # A figure only in the database comes along unchanged, carrying the new reports.
    source_keys = dict(session.exec(select(Source.id, Source.key)).all())
    for row in session.exec(select(TradeFigure)).all():
        key = figure_key(row.series, row.period)
        if key in reports:
            values = {
                name: getattr(row, name)
                for name in TradeFigureItem.model_fields
                if name not in ("source", "reports")
            }
            values.update(source=source_keys[row.source_id], reports=tuple(reports.pop(key)))
            figures.append(TradeFigureItem.model_validate(values))
    return Dataset.model_construct(**{**dict(dataset), "trade_figures": tuple(figures)})


# --- plan and apply ---------------------------------------------------------------------------


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

    @property
    def changed_anything(self) -> bool:
        return bool(self.changes or self.inserted or self.history)

    @property
    def history_rows(self) -> int:
        """History rows the import adds: the file's own, and one per changed field."""
        logged = sum(1 for change in self.changes if change.field not in ("source", "as_of"))
        return len(self.history) + logged


def plan_import(
    session: Session, dataset: Dataset, *, progress: Progress | None = None
) -> ImportPlan:
    """The dry run: apply inside a savepoint, note what changed, roll the savepoint back."""
    prepared = _prepare(session, dataset)
    savepoint = session.begin_nested()
    try:
        report = _load(session, prepared, _origin(dataset), progress)
    finally:
        savepoint.rollback()
    return _plan(_origin(dataset), report, applied=False)


def apply_import(
    session: Session, dataset: Dataset, *, progress: Progress | None = None
) -> ImportPlan:
    """Apply in the caller's transaction: it commits, or rolls back the whole file."""
    origin = _origin(dataset)
    report = _load(session, _prepare(session, dataset), origin, progress)
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


def _origin(dataset: Dataset) -> str:
    return dataset.origin if isinstance(dataset, ImportedDataset) else "dataset"


def _prepare(session: Session, dataset: Dataset) -> Dataset:
    _check_references(session, dataset)
    return _nest_reports(session, dataset)


def _load(session: Session, dataset: Dataset, origin: str, progress: Progress | None) -> LoadReport:
    return load_dataset(
        session,
        dataset,
        actor=Actor.IMPORT,
        overwrite=True,
        change_note=f"imported from {origin[:100]}",
        progress=progress,
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
    )


# --- the plan as text -------------------------------------------------------------------------


def describe_plan(plan: ImportPlan, *, limit: int = 20) -> list[str]:
    """Plain-text lines: one per changed field, inserted rows (`limit` per kind), a summary."""
    lines = [
        f"{KIND_LABELS.get(c.kind, c.kind)} {c.key}: {c.field} {_show(c.old)} → {_show(c.new)}"
        for c in plan.changes
    ]
    groups: dict[str, list[InsertedRow]] = {}
    for row in (*plan.inserted, *plan.history):
        groups.setdefault(row.kind, []).append(row)
    for kind, rows in groups.items():
        label = KIND_LABELS.get(kind, kind)
        for row in rows[:limit]:
            about = f"{row.about}, " if row.about else ""
            lines.append(f"+ {label} {row.key} ({about}inserted)")
        if len(rows) > limit:
            rows_of = " rows" if kind == "status_change" else ""
            lines.append(f"+ {len(rows) - limit} more {label}{rows_of} (inserted)")

    if not plan.changed_anything:
        lines.append(
            f"{plan.origin}: nothing to change ({_count(plan.unchanged, 'row')} already up to date)"
        )
        return lines
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
    lines.append(f"{plan.origin}: {summary}; {plan.unchanged} unchanged")
    return lines


def _show(value: str | None, width: int = 60) -> str:
    if value is None or value == "":
        return "(empty)"
    value = " ".join(value.split())
    return value if len(value) <= width else value[: width - 1] + "…"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
