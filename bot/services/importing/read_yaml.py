"""YAML (like bot/data) → the document, with the node each section, item and field came from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from bot.services.importing.problems import Loc, Problems, Where


class _ImportLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text for pydantic to read.

    PyYAML turns 2025-08-19 into a date itself and raises a bare ValueError on 2025-13-01;
    as text, a bad date becomes a problem on its own line like any other bad value.
    """


_ImportLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _child(node: yaml.Node, part: int | str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        return next((value for key, value in node.value if key.value == part), None)
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        child: yaml.Node = node.value[part]
        return child
    return None


@dataclass(frozen=True, slots=True)
class _NodeLines:
    """Field lines inside a YAML item: the line of the innermost node on the path."""

    node: yaml.Node

    def line_of(self, loc: Loc) -> int | None:
        line: int | None = None
        node: yaml.Node | None = self.node
        for part in loc:
            node = _child(node, part) if node is not None else None
            if node is None:
                break
            line = _line(node)
        return line


class YamlPositions:
    """Where a YAML document's top-level keys and section items are."""

    def __init__(self, root: yaml.Node) -> None:
        self._top = (
            {key.value: (key, value) for key, value in root.value}
            if isinstance(root, yaml.MappingNode)
            else {}
        )

    def key_line(self, key: str) -> int | None:
        return _line(self._top[key][0]) if key in self._top else None

    def item(self, section: str, index: int, raw: Any) -> Where:
        items = self._top[section][1]
        assert isinstance(items, yaml.SequenceNode)
        node = items.value[index]
        return Where(_line(node), f"{section} item {index + 1}", _NodeLines(node))


def read_yaml(text: str, problems: Problems) -> tuple[Any, YamlPositions]:
    """The parsed document and its positions; a key given twice in a mapping is a problem."""
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
    _report_duplicate_keys(node, problems)
    return data, YamlPositions(node)


def _report_duplicate_keys(root: yaml.Node, problems: Problems) -> None:
    # SafeLoader keeps the last of two equal keys without a word; an editor meant one of them.
    seen_nodes: set[int] = set()
    pending = [root]
    while pending:
        node = pending.pop()
        if id(node) in seen_nodes:  # an alias: already checked where its anchor is
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            _report_in_mapping(node, problems)
            pending.extend(value for _, value in node.value)
        elif isinstance(node, yaml.SequenceNode):
            pending.extend(node.value)


def _report_in_mapping(node: yaml.MappingNode, problems: Problems) -> None:
    first: dict[str, int] = {}
    for key, _ in node.value:
        if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
            if key.value in first:
                problems.add(
                    f"duplicate key {key.value!r} (first on line {first[key.value]})",
                    line=_line(key),
                )
            first.setdefault(key.value, _line(key))
