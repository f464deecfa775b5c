"""What is wrong with a file to import, and where: its line, its item, its column or field."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from pydantic import ValidationError
from pydantic_core import ErrorDetails

Loc = Sequence[int | str]  # a path into an item, as pydantic reports it: ("reports", 0, "value")


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


class FieldLines(Protocol):
    """The lines of the fields inside one item, as its reader knows them."""

    def line_of(self, loc: Loc) -> int | None:
        """The line of the innermost part of `loc` the reader placed, or None."""
        ...


@dataclass(frozen=True, slots=True)
class Where:
    """Where an item came from: its line, its name in messages, the lines of its fields."""

    line: int | None
    item: str | None = None
    fields: FieldLines | None = None

    def line_of(self, loc: Loc) -> int | None:
        found = self.fields.line_of(loc) if self.fields is not None and loc else None
        return self.line if found is None else found


class Problems:
    """The problems found in one file so far, each placed by line, item and column."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.found: list[ImportProblem] = []

    def add(
        self,
        message: str,
        where: Where | None = None,
        *,
        line: int | None = None,
        column: str | None = None,
        loc: Loc = (),
    ) -> None:
        if where is not None:
            line = where.line_of(loc)
        item = where.item if where is not None else None
        self.found.append(ImportProblem(self.origin, message, line, item, column))

    def add_validation(self, exc: ValidationError, where: Where, *, in_csv: bool) -> None:
        for error in exc.errors():
            loc = error["loc"]
            column = loc_text(loc) or None
            self.add(_error_text(error, in_csv=in_csv), where, column=column, loc=loc)

    def raise_if_any(self) -> None:
        if self.found:
            # In file order, whichever check found them (unplaced ones first).
            raise ImportFileError(sorted(self.found, key=lambda problem: problem.line or 0))

    def fail(self, message: str, *, line: int | None = None) -> ImportFileError:
        self.add(message, line=line)
        return ImportFileError(self.found)


def loc_text(loc: Loc) -> str:
    """A field path as an editor writes it: "reports[0].value"."""
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
    if kind == "string_too_long" and isinstance(value, str):
        # As the database's limits are told: a long text is not worth repeating.
        limit = error.get("ctx", {}).get("max_length")
        return f"is {len(value)} characters long; at most {limit} fit"
    if kind == "enum":
        expected = str(error.get("ctx", {}).get("expected", "")).replace("'", "")
        return f"{value!r} is not one of {expected}"
    message = str(error["msg"]).removeprefix("Value error, ")
    if isinstance(value, str | int | Decimal) and repr(value) not in message:
        message += f" (got {value!r})"
    return message
