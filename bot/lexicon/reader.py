"""Reading `lexicon.yaml` into `bot.lexicon.model`: every section and concept the classes name,
every entry checked and its Devanagari folded as questions are (`bot.lexicon.script`), each
concept's `pattern` built with its slots filled in."""

from __future__ import annotations

import re
import typing
import unicodedata
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

import yaml

from bot.lexicon import LexiconError
from bot.lexicon.model import Concept, Lexicon, Phrases, Words
from bot.lexicon.script import fold_devanagari

_LANGUAGE = re.compile(r"[a-z]{2,3}(?:-[a-z]{2,8})?")
_WORD = r"[^\s{}()|*]+"
_PLAIN_WORD = re.compile(_WORD)
_PLAIN_WORDS = re.compile(rf"{_WORD}(?: {_WORD})*")
_ELEMENT = re.compile(
    rf"\{{(?P<slot>[^{{}}]*)\}}|\((?P<choice>[^()]*)\)|(?P<any>\*)|(?P<word>{_WORD})"
)


def read_lexicon(path: Path) -> Lexicon:
    try:
        content = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    except yaml.YAMLError as exc:
        raise LexiconError(f"{path}: not valid YAML: {exc}") from None
    return _Reader(path, content).lexicon()


def _fields(cls: type[Any]) -> dict[str, type[Any]]:
    hints = typing.get_type_hints(cls)
    return {field.name: hints[field.name] for field in fields(cls)}


class _Reader:
    """Validates the file against the dataclasses above and builds each concept's pattern."""

    def __init__(self, path: Path, content: object) -> None:
        self.path = path
        self.content = content
        self.raw: dict[str, tuple[str, type[Any], dict[str, list[str]]]] = {}  # name -> where
        self.patterns: dict[str, str] = {}

    def error(self, where: str, problem: str) -> LexiconError:
        return LexiconError(f"{self.path}: {where}: {problem}")

    def lexicon(self) -> Lexicon:
        schema = {section: _fields(cls) for section, cls in _fields(Lexicon).items()}
        sections = self._mapping(self.content, "the top level", schema)
        for section, kinds in schema.items():
            concepts = self._mapping(sections[section], section, kinds)
            for name, kind in kinds.items():
                where = f"{section}.{name}"
                if name in self.raw:
                    raise self.error(where, f"the concept name is used in {self.raw[name][0]} too")
                self.raw[name] = (where, kind, self._languages(concepts[name], where, kind))
        built = {
            section: cls(**{name: self._concept(name) for name in schema[section]})
            for section, cls in _fields(Lexicon).items()
        }
        return Lexicon(**built)

    def _mapping(self, value: object, where: str, expected: Mapping[str, object]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.error(where, f"expected a mapping of {', '.join(expected)}")
        unknown = [str(key) for key in value if key not in expected]
        if unknown:
            raise self.error(
                where, f"unknown {', '.join(unknown)} (expected {', '.join(expected)})"
            )
        missing = [key for key in expected if key not in value]
        if missing:
            raise self.error(where, f"missing {', '.join(missing)}")
        return value

    def _languages(self, value: object, where: str, kind: type[Any]) -> dict[str, list[str]]:
        if not isinstance(value, dict) or not value:
            raise self.error(where, "expected a mapping of languages (en: [...]) to entries")
        languages: dict[str, list[str]] = {}
        for language, entries in value.items():
            if not isinstance(language, str) or not _LANGUAGE.fullmatch(language):
                raise self.error(where, f"{language!r} is not a language code such as en or hi")
            if not isinstance(entries, list) or not entries:
                raise self.error(f"{where}.{language}", "expected a non-empty list of entries")
            read: dict[str, None] = {}
            for index, entry in enumerate(entries):
                self._check_entry(entry, f"{where}.{language}[{index}]", kind)
                # Written as a Hindi speaker writes it (ज़्यादा, कहाँ), read as questions are.
                folded = fold_devanagari(unicodedata.normalize("NFC", entry))
                if folded in read:
                    same = "" if folded == entry else f" (read as {folded!r})"
                    raise self.error(f"{where}.{language}[{index}]", f"{entry!r} is repeated{same}")
                read[folded] = None
            languages[language] = list(read)
        return languages

    def _check_entry(self, entry: object, where: str, kind: type[Any]) -> None:
        if not isinstance(entry, str):
            raise self.error(where, f"expected text, got {entry!r} (quote it)")
        if not entry or entry != entry.strip() or "  " in entry:
            raise self.error(where, f"{entry!r}: expected words separated by single spaces")
        if entry != entry.lower():
            raise self.error(where, f"{entry!r}: entries are written in lower case")
        if kind is Words and not _PLAIN_WORD.fullmatch(entry):
            raise self.error(where, f"{entry!r}: this concept takes single words")

    def _concept(self, name: str) -> Concept:
        _, kind, languages = self.raw[name]
        entries = tuple((language, tuple(items)) for language, items in languages.items())
        pattern = self._pattern(name, ())
        if kind is Words:
            words = frozenset(entry for _, items in entries for entry in items)
            return Words(name, entries, pattern, words)
        return Phrases(name, entries, pattern)

    def _pattern(self, name: str, resolving: tuple[str, ...]) -> str:
        """`(?:...)` matching any entry of the concept, its slots filled in."""
        known = self.patterns.get(name)
        if known is not None:
            return known
        where, _, languages = self.raw[name]
        alternatives: dict[str, None] = {}
        for language, entries in languages.items():
            for index, entry in enumerate(entries):
                entry_where = f"{where}.{language}[{index}]"
                alternatives.setdefault(self._entry_pattern(entry, entry_where, (*resolving, name)))
        # Longest first, so a regex tries "this fiscal year" before "this fiscal".
        ordered = sorted(alternatives, key=len, reverse=True)
        pattern = f"(?:{'|'.join(ordered)})"
        self.patterns[name] = pattern
        return pattern

    def _entry_pattern(self, entry: str, where: str, resolving: tuple[str, ...]) -> str:
        parts: list[str] = []
        anchored = False  # a word, choice or slot besides the wildcards
        position = 0
        while position < len(entry):
            match = _ELEMENT.match(entry, position)
            if match is None:
                raise self.error(where, f"{entry!r}: unexpected {entry[position]!r}")
            parts.append(self._element(match, entry, where, resolving))
            position = match.end()
            if match["any"] is None:
                anchored = True
            if position < len(entry) and entry[position] != " ":
                raise self.error(where, f"{entry!r}: expected a space after {match.group()!r}")
            position += 1
        if not anchored:
            raise self.error(where, f"{entry!r}: a phrase needs a word besides *")
        return " ".join(parts)

    def _element(
        self, match: re.Match[str], entry: str, where: str, resolving: tuple[str, ...]
    ) -> str:
        if match["word"] is not None:
            return re.escape(match["word"])
        if match["any"] is not None:
            return "[^ ]+"
        if match["choice"] is not None:
            choices = match["choice"].split("|")
            if len(choices) < 2 or not all(_PLAIN_WORDS.fullmatch(c) for c in choices):
                raise self.error(where, f"{entry!r}: write alternatives as (a|b), each plain words")
            return f"(?:{'|'.join(re.escape(c) for c in sorted(choices, key=len, reverse=True))})"
        slot = match["slot"]
        if slot not in self.raw:
            raise self.error(where, f"{entry!r}: {{{slot}}} names no concept")
        if slot in resolving:
            raise self.error(where, f"{entry!r}: {{{slot}}} would contain itself")
        return self._pattern(slot, resolving)
