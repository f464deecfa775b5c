"""The JSON reader of imports: the standard library's parse, and the line each object starts on."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.importing import ImportFileError, read_import_bytes
from bot.services.importing.read_json import JsonObject, parse_json

ODD_TEXT = st.text(alphabet=st.sampled_from('{}[]"\\:,\n\t aé/'), max_size=12)
SCALARS = st.none() | st.booleans() | st.integers() | ODD_TEXT


def _tag_objects(value: Any, counter: list[int]) -> Any:
    """The value with every object's first key "@id" numbering it, for the oracle below."""
    if isinstance(value, dict):
        counter[0] += 1
        tagged = {"@id": counter[0]}
        tagged.update({key: _tag_objects(item, counter) for key, item in value.items()})
        return tagged
    if isinstance(value, list):
        return [_tag_objects(item, counter) for item in value]
    return value


DOCUMENTS = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ODD_TEXT, inner, max_size=4),
    max_leaves=20,
).map(lambda value: _tag_objects(value, [0]))
LAYOUTS = st.sampled_from(
    [
        {},
        {"indent": 2},
        {"indent": 0},
        {"indent": "\t"},
        {"separators": (",", ":")},
        {"indent": 1, "separators": (" ,\n", " :\n\n")},
    ]
)


def _objects(value: Any) -> list[JsonObject]:
    if isinstance(value, list):
        return [obj for item in value for obj in _objects(item)]
    if isinstance(value, JsonObject):
        return [value, *(obj for item in value.values() for obj in _objects(item))]
    return []


@settings(max_examples=300, derandomize=True, database=None, deadline=None)
@given(document=DOCUMENTS, layout=LAYOUTS, ascii_only=st.booleans())
def test_every_object_gets_the_line_of_its_opening_brace(
    document: Any, layout: dict[str, Any], ascii_only: bool
) -> None:
    text = json.dumps(document, ensure_ascii=ascii_only, **layout)

    data, objects = parse_json(text)

    assert data == json.loads(text)
    assert len(objects) == len(_objects(data))
    for obj in objects:
        # "@id" is each object's first key, so the brace before it is the object's own.
        brace = text.rindex("{", 0, _key_position(text, obj["@id"], layout))
        assert obj.line == text.count("\n", 0, brace) + 1, (obj["@id"], text)


def _key_position(text: str, number: int, layout: dict[str, Any]) -> int:
    separator = layout.get("separators", (", ", ": "))[1]
    found = re.search(f'"@id"{re.escape(separator)}{number}(?!\\d)', text)
    assert found is not None
    return found.start()


def test_objects_inside_strings_and_replaced_objects_are_placed() -> None:
    text = (
        '{"a": "{ not an object \\" {",\n'
        ' "b": [\n'
        '   {"c": "}}"},\n'
        "   [], {}, {\n"
        '     "d": {"e": null}}],\n'
        ' "f": {"gone": 1},\n'
        ' "f": 2}'
    )

    data, objects = parse_json(text)

    # Objects close inner first: {"c"}, {}, {"e"}, {"d"}, {"gone"} (replaced), the document.
    assert [obj.line for obj in objects] == [3, 4, 5, 4, 6, 1]
    assert data["b"][3]["d"].line == 5
    assert objects[4] == {"gone": 1}
    assert data["f"] == 2
    assert objects[-1].duplicates == ("f",)


def test_numbers_keep_what_json_gives_them() -> None:
    data, _ = parse_json('{"a": 1.10, "b": 12345678901234567890, "c": NaN, "d": -Infinity}')
    assert str(data["a"]) == "1.10"
    assert isinstance(data["a"], Decimal)
    assert data["b"] == 12345678901234567890
    assert data["c"] != data["c"]  # NaN
    assert data["d"] == float("-inf")


def problems_of(text: str) -> list[str]:
    with pytest.raises(ImportFileError) as caught:
        read_import_bytes("backup.json", text.encode())
    return [str(problem) for problem in caught.value.problems]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"passes": [1,]}', "backup.json line 1: is not valid JSON: Expecting value (column 15)"),
        ('{\n"passes"\n1}', "backup.json line 3: is not valid JSON: Expecting ':' delimiter"),
        ("{1: 2}", "backup.json line 1: is not valid JSON: Expecting property name enclosed in"),
        ('{"a": "\\q"}', "backup.json line 1: is not valid JSON: Invalid \\escape (column 8)"),
        ('{"passes": []} x', "backup.json line 1: is not valid JSON: Extra data (column 16)"),
        ('{"passes": ["x\n"]}', "backup.json line 1: is not valid JSON: Invalid control character"),
        (
            '{"passes": [' + "1" * 5000 + "]}",
            "backup.json: is not valid JSON: a number has more than 4300 digits",
        ),
    ],
)
def test_malformed_json_gets_the_standard_librarys_message(text: str, expected: str) -> None:
    assert problems_of(text)[0].startswith(expected)


def test_repeated_keys_are_named_at_the_object_they_are_in_at_any_depth() -> None:
    text = (
        '{"passes": [\n  {"slug": "a",\n   "x": {"k": 1, "k": 2}, "slug": "b"}\n],\n"passes": []}'
    )
    assert problems_of(text) == [
        "backup.json line 1: duplicate key 'passes' in the object starting here",
        "backup.json line 2: duplicate key 'slug' in the object starting here",
        "backup.json line 3: duplicate key 'k' in the object starting here",
    ]


def test_a_field_is_placed_at_the_innermost_object_around_it() -> None:
    text = (
        '{"trade_figures": [\n'
        '  {"series": "china_cy", "period": "2025", "period_start": "2025-01-01",\n'
        '   "period_end": "2025-12-31", "stage": "final", "source": "gacc", "as_of": "2026",\n'
        '   "reports": [\n'
        '     {"quantity": "exports", "value": "1", "source": "gacc"},\n'
        '     {"quantity": "exports", "value": "-1", "source": "gacc"}]}]}'
    )
    assert problems_of(text) == [
        "backup.json line 6 (trade_figures item 1), reports[1].value: "
        "Input should be greater than 0 (got '-1')"
    ]
