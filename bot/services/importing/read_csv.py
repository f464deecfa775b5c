"""CSV (one section per file, as export writes it) → its section and rows, each with its line.

The section comes from the file name, or else from the columns. The header is checked here
(unknown, repeated and missing columns); cells are trimmed, empty ones left out (no value),
and list columns split on "|". A CSV of records or sources may leave out columns: it changes
only the columns it has, so its header needs only the columns that name a row (`KEY_COLUMNS`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from pydantic import BaseModel

from bot.services.dataset import SECTION_ITEMS, FigureReportItem
from bot.services.importing.problems import Problems, Where
from bot.vocabulary import Series

LIST_SEPARATOR = "|"  # export joins lists with " | "; spaces around it are optional here
REPORTS = "figure_reports"  # the CSV of figure reports, nested into trade figures elsewhere
CSV_SECTIONS = (*SECTION_ITEMS, REPORTS)

# The columns that name a row; they tell a CSV's section when its file name does not.
_IDENTITY = {
    "sources": {"key", "title"},
    "trade_figures": {"series", "period", "period_start"},
    REPORTS: {"series", "period", "quantity", "value"},
    "passes": {"slug", "name"},
    "deals": {"slug", "commodity"},
    "flights": {"slug", "route"},
    "notes": {"key", "topic", "text"},
    "composition": {"key", "flow", "product_group"},
    "history": {"key", "record_type", "record_key"},
    "feeds": {"url", "name"},
    "news": {"url", "publisher", "published_at"},
}


# The columns that name a record or source: all a CSV that updates them must have.
KEY_COLUMNS = {
    "sources": ("key",),
    "trade_figures": ("series", "period"),
    "passes": ("slug",),
    "deals": ("slug",),
    "flights": ("slug",),
    "notes": ("key",),
    "composition": ("key",),
}


class ReportRow(FigureReportItem):
    """A row of figure_reports.csv: a report and the trade figure it belongs to."""

    series: Series
    period: str


def row_model(section: str) -> type[BaseModel]:
    """The model one row of a section's CSV is validated with."""
    return ReportRow if section == REPORTS else SECTION_ITEMS[section]


def csv_columns(section: str) -> list[str]:
    """The columns export writes for a section, in its order."""
    if section == REPORTS:
        return ["series", "period", *FigureReportItem.model_fields]
    return [name for name in SECTION_ITEMS[section].model_fields if name != "reports"]


@dataclass(frozen=True, slots=True)
class CsvSection:
    """The rows of one section's CSV: the cells that hold a value, by column, and their line."""

    section: str
    columns: tuple[str, ...]
    rows: tuple[tuple[dict[str, Any], Where], ...]


def read_csv(text: str, problems: Problems) -> CsvSection:
    """The section and its rows; a row with more cells than the header is a problem."""
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[dict[str, Any], Where]] = []
    try:
        lines = _lines(reader)
        header_line, header = next(lines, (1, []))
        header = [name.strip() for name in header]
        section = _section(header, problems)
        _check_header(section, header, header_line, problems)
        lists = _list_columns(section)
        for line, cells in lines:
            if len(cells) > len(header):
                problems.add(
                    f"has {len(cells)} cells but the header has {len(header)} columns",
                    line=line,
                )
                continue
            rows.append((_values(header, cells, lists), Where(line)))
    except csv.Error as exc:
        raise problems.fail(f"is not valid CSV: {exc}", line=reader.line_num) from None
    return CsvSection(section, tuple(header), tuple(rows))


def _lines(reader: Any) -> Iterator[tuple[int, list[str]]]:
    """Rows that are not blank, each with the line it starts on (cells may span lines)."""
    start = 1
    for cells in reader:
        if any(cell.strip() for cell in cells):
            yield start, cells
        start = reader.line_num + 1


def _values(header: list[str], cells: list[str], lists: set[str]) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    for name, cell in zip(header, cells, strict=False):
        value = cell.strip()
        if value:  # an empty cell is "no value": None, an empty list, the default
            raw[name] = _split(value) if name in lists else value
    return raw


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(LIST_SEPARATOR) if part.strip()]


def _list_columns(section: str) -> set[str]:
    return {
        name
        for name, info in row_model(section).model_fields.items()
        if getattr(info.annotation, "__origin__", None) is tuple
    }


def _section(header: list[str], problems: Problems) -> str:
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


def _check_header(section: str, header: list[str], line: int, problems: Problems) -> None:
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
    required = KEY_COLUMNS.get(section) or [
        name for name, info in row_model(section).model_fields.items() if info.is_required()
    ]
    for name in required:
        if name not in seen:
            problems.add(f"{section}.csv needs a column {name!r}", line=line)
    problems.raise_if_any()
