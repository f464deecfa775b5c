"""JSON → the document, with the line each object starts on.

The standard library parses (its C scanner, its error messages, its limits), handing every
object to `object_pairs_hook` as the object closes. A scan of the already valid text then
lists the braces outside strings: the n-th object to close in the text is the n-th the hook
saw, so each gets the line of its opening brace. No private part of `json` is involved.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bot.services.importing.problems import Loc, Problems, Where

# A string (escapes included, so a quoted brace or quote is skipped whole), a brace or a line
# break. Valid JSON has no raw line break inside a string.
_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[{}\n]', re.DOTALL)


class JsonObject(dict[str, Any]):
    """A JSON object that knows the line it starts on, and the keys it had twice."""

    line: int | None = None
    duplicates: tuple[str, ...] = ()

    @classmethod
    def from_pairs(cls, pairs: list[tuple[str, Any]]) -> JsonObject:
        obj = cls(pairs)  # as json.loads does, the last of two equal keys wins
        if len(obj) < len(pairs):
            counts = Counter(key for key, _ in pairs)
            obj.duplicates = tuple(key for key, seen in counts.items() if seen > 1)
        return obj


def parse_json(text: str) -> tuple[Any, list[JsonObject]]:
    """`json.loads`, with numbers with a point as `Decimal` and objects as `JsonObject`s.

    Returns the document and every object in it, inner ones first (the order they close).
    Raises what `json.loads` raises: `json.JSONDecodeError`, `ValueError` for an integer too
    long to convert, `RecursionError` for nesting too deep.
    """
    objects: list[JsonObject] = []

    def collect(pairs: list[tuple[str, Any]]) -> JsonObject:
        obj = JsonObject.from_pairs(pairs)
        objects.append(obj)
        return obj

    data = json.loads(text, object_pairs_hook=collect, parse_float=Decimal)
    for obj, line in zip(objects, _object_lines(text), strict=True):
        obj.line = line
    return data, objects


def _object_lines(text: str) -> Iterator[int]:
    """The line each object of a valid JSON text starts on, in the order the objects close."""
    line = 1
    open_lines: list[int] = []
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token == "\n":
            line += 1
        elif token == "{":
            open_lines.append(line)
        elif token == "}":
            yield open_lines.pop()


@dataclass(frozen=True, slots=True)
class _ObjectLines:
    """Field lines inside a JSON item: the line of the innermost object on the path."""

    item: Any

    def line_of(self, loc: Loc) -> int | None:
        line: int | None = None
        value = self.item
        for part in loc:
            try:
                value = value[part]
            except (KeyError, IndexError, TypeError):
                break
            line = getattr(value, "line", line)
        return line


@dataclass(frozen=True, slots=True)
class JsonPositions:
    """Where a JSON document's sections and items are; a section is placed at the top object."""

    top_line: int | None

    def key_line(self, key: str) -> int | None:
        return self.top_line

    def item(self, section: str, index: int, raw: Any) -> Where:
        return Where(getattr(raw, "line", None), f"{section} item {index + 1}", _ObjectLines(raw))


def read_json(text: str, problems: Problems) -> tuple[Any, JsonPositions]:
    """The parsed document and its positions; a key given twice in an object is a problem."""
    try:
        data, objects = parse_json(text)
    except json.JSONDecodeError as exc:
        raise problems.fail(
            f"is not valid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno
        ) from None
    except ValueError:  # int() refuses to convert that many digits
        raise problems.fail(
            f"is not valid JSON: a number has more than {sys.get_int_max_str_digits()} digits"
        ) from None
    for obj in objects:  # every object, even one a repeated key then replaced
        for key in obj.duplicates:
            problems.add(f"duplicate key {key!r} in the object starting here", line=obj.line)
    return data, JsonPositions(getattr(data, "line", None))
