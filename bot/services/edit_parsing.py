"""What editors type, read into a validated `Edit`: `/set` lines and the guided edit's answers.

Nothing here writes: values are parsed and typed, the record is named by its slug or found the
way questions find it, and anything that cannot be applied is an `EditError` whose code and
details the templates in `templates/admin/` word.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from rapidfuzz import fuzz, process
from sqlmodel import col, select

from bot.models import BorderPass, CommodityDeal, EditableRecord, FlightRoute
from bot.partial_date import PartialDate
from bot.services.bilingual import is_hindi, normalise_hindi
from bot.services.history import value_text
from bot.services.questions import Catalog, parse_question
from bot.vocabulary import DealStatus, FlightStatus, PassStatus, RecordType

if TYPE_CHECKING:
    from sqlmodel import Session

KIND_NAMES = {"pass": RecordType.PASS, "deal": RecordType.DEAL, "flight": RecordType.FLIGHT}
MODELS: dict[RecordType, type[EditableRecord]] = {
    RecordType.PASS: BorderPass,
    RecordType.DEAL: CommodityDeal,
    RecordType.FLIGHT: FlightRoute,
}


class FieldKind(StrEnum):
    STATUS = "status"
    DATE = "date"
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    kind: FieldKind
    vocabulary: tuple[str, ...] = ()
    max_length: int = 300


_STATUS_VOCABULARIES: dict[RecordType, tuple[str, ...]] = {
    RecordType.PASS: tuple(s.value for s in PassStatus),
    RecordType.DEAL: tuple(s.value for s in DealStatus),
    RecordType.FLIGHT: tuple(s.value for s in FlightStatus),
}

# What an editor may change on each kind of record; option names as typed in /set. Each text
# readers see has its Hindi option beside it (`description_hi=` is the column `note_hi`).
EDITABLE: dict[RecordType, dict[str, FieldSpec]] = {
    RecordType.PASS: {
        "status": FieldSpec("status", FieldKind.STATUS, _STATUS_VOCABULARIES[RecordType.PASS]),
        "since": FieldSpec("status_since", FieldKind.DATE),
        "expected": FieldSpec("expected_reopening", FieldKind.DATE),
        "season": FieldSpec("season", FieldKind.TEXT),
        "season_hi": FieldSpec("season_hi", FieldKind.TEXT, max_length=450),
        "season_start": FieldSpec("season_start", FieldKind.DATE),
        "season_end": FieldSpec("season_end", FieldKind.DATE),
        "description": FieldSpec("note", FieldKind.TEXT, max_length=2000),
        "description_hi": FieldSpec("note_hi", FieldKind.TEXT, max_length=3000),
    },
    RecordType.DEAL: {
        "status": FieldSpec("status", FieldKind.STATUS, _STATUS_VOCABULARIES[RecordType.DEAL]),
        "since": FieldSpec("status_since", FieldKind.DATE),
        "until": FieldSpec("status_until", FieldKind.DATE),
        "until_note": FieldSpec("until_note", FieldKind.TEXT),
        "until_note_hi": FieldSpec("until_note_hi", FieldKind.TEXT, max_length=450),
        "description": FieldSpec("note", FieldKind.TEXT, max_length=2000),
        "description_hi": FieldSpec("note_hi", FieldKind.TEXT, max_length=3000),
    },
    RecordType.FLIGHT: {
        "status": FieldSpec("status", FieldKind.STATUS, _STATUS_VOCABULARIES[RecordType.FLIGHT]),
        "since": FieldSpec("since", FieldKind.DATE),
        "starts": FieldSpec("starts_on", FieldKind.DATE),
        "frequency": FieldSpec("frequency", FieldKind.TEXT, max_length=64),
        "frequency_hi": FieldSpec("frequency_hi", FieldKind.TEXT, max_length=100),
        "description": FieldSpec("note", FieldKind.TEXT, max_length=2000),
        "description_hi": FieldSpec("note_hi", FieldKind.TEXT, max_length=3000),
    },
}
# A history note's length, in English and in Hindi (the columns' limits).
NOTE_LIMIT, NOTE_HI_LIMIT = 2000, 3000

# What an editor types (or the guided edit's button sends) to clear an optional field.
CLEAR_WORDS = frozenset({"none", "clear"})


class EditError(Exception):
    """Something an editor typed cannot be applied; `code` and `details` say what and how."""

    def __init__(self, code: str, **details: Any) -> None:
        super().__init__(code)
        self.code = code
        self.details = details


@dataclass(frozen=True, slots=True)
class SourceRef:
    """An existing source (by key) or a new one to create from a URL.

    A URL from a news item comes with the article's title, publisher and date, which the new
    source takes instead of the URL and its host.
    """

    key: str | None = None
    url: str | None = None
    title: str | None = None
    publisher: str | None = None
    published_on: str | None = None  # ISO date

    def to_json(self) -> dict[str, str | None]:
        return {
            "key": self.key,
            "url": self.url,
            "title": self.title,
            "publisher": self.publisher,
            "published_on": self.published_on,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SourceRef:
        return cls(
            data.get("key"),
            data.get("url"),
            data.get("title"),
            data.get("publisher"),
            data.get("published_on"),
        )


@dataclass(frozen=True, slots=True)
class Edit:
    record_type: RecordType
    key: str
    changes: dict[str, Any]  # column -> new value (already validated and typed)
    note: str | None = None
    source: SourceRef | None = None
    expected_version: int | None = None
    note_hi: str | None = None  # the history note in Hindi (never without `note`)

    def to_payload(self) -> dict[str, Any]:
        """JSON for a draft awaiting confirmation."""
        return {
            "record_type": self.record_type.value,
            "key": self.key,
            "changes": {name: to_json(value) for name, value in self.changes.items()},
            "note": self.note,
            "source": None if self.source is None else self.source.to_json(),
            "expected_version": self.expected_version,
            "note_hi": self.note_hi,
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Edit:
        record_type = RecordType(payload["record_type"])
        specs = {spec.name: spec for spec in EDITABLE[record_type].values()}
        source = payload.get("source")
        return cls(
            record_type,
            payload["key"],
            {name: from_text(specs[name], value) for name, value in payload["changes"].items()},
            payload.get("note"),
            SourceRef.from_json(source) if source else None,
            payload.get("expected_version"),
            payload.get("note_hi"),
        )


_MONTH_FORMATS = ("%d %B %Y", "%d %b %Y", "%B %d %Y", "%b %d %Y")
_MONTH_ONLY = ("%B %Y", "%b %Y")


def parse_date(text: str, *, option: str) -> PartialDate:
    """ISO ("2026-05-01", "2026-05", "2026") or written ("1 May 2026", "May 2026")."""
    cleaned = " ".join(text.replace(",", " ").split())
    try:
        return PartialDate.parse(cleaned)
    except ValueError:
        pass
    for pattern in _MONTH_FORMATS:
        try:
            return PartialDate.of(datetime.strptime(cleaned, pattern).date())
        except ValueError:
            continue
    for pattern in _MONTH_ONLY:
        try:
            parsed = datetime.strptime(cleaned, pattern)
            return PartialDate(parsed.year, parsed.month)
        except ValueError:
            continue
    raise EditError("bad_date", option=option, value=text)


def parse_value(record_type: RecordType, option: str, text: str) -> tuple[str, Any]:
    """The column and typed value for `option=text` on a record type."""
    spec = EDITABLE[record_type].get(option)
    if spec is None:
        raise EditError(
            "unknown_option",
            kind=record_type.value,
            option=option,
            allowed=tuple(EDITABLE[record_type]),
        )
    if spec.kind is FieldKind.STATUS:
        value = _status_text(text)
        if value not in spec.vocabulary:
            raise _bad_status(record_type, text)
        return spec.name, value
    if text.strip().lower() in CLEAR_WORDS:
        return spec.name, None  # every field but the status is optional
    if spec.kind is FieldKind.DATE:
        return spec.name, parse_date(text, option=option)
    value = text.strip()
    if not value:
        raise EditError("empty_value", option=option)
    if is_hindi(spec.name):
        value = normalise_hindi(value)
    if len(value) > spec.max_length:
        raise EditError("too_long", option=option, limit=spec.max_length)
    return spec.name, value


def _status_text(text: str) -> str:
    return text.strip().lower().replace(" ", "_").replace("-", "_")


def closest_statuses(record_type: RecordType, text: str) -> tuple[str, ...]:
    """The statuses `text` was probably meant as ("opne" → open), best first, at most three."""
    vocabulary = _STATUS_VOCABULARIES[record_type]
    found = process.extract(
        _status_text(text), vocabulary, scorer=fuzz.WRatio, limit=3, score_cutoff=70
    )
    best = max((score for _, score, _ in found), default=0.0)
    return tuple(status for status, score, _ in found if score >= best - 10)


def _bad_status(record_type: RecordType, text: str) -> EditError:
    return EditError(
        "bad_status",
        kind=record_type.value,
        value=text,
        allowed=_STATUS_VOCABULARIES[record_type],
        suggestions=closest_statuses(record_type, text),
    )


def history_note(text: str | None, *, hindi: bool = False) -> str | None:
    """The note of an edit's history rows (`hindi`: its Hindi version, `note_hi=`)."""
    if text is None or not text.strip():
        return None
    note = normalise_hindi(text.strip()) if hindi else text.strip()
    option, limit = ("note_hi", NOTE_HI_LIMIT) if hindi else ("note", NOTE_LIMIT)
    if len(note) > limit:
        raise EditError("too_long", option=option, limit=limit)
    return note


def parse_source(text: str) -> SourceRef:
    value = text.strip()
    if re.match(r"^https?://", value):
        parts = urlsplit(value)
        if not parts.netloc or len(value) > 500:
            raise EditError("bad_url", value=text)
        return SourceRef(url=value)
    if re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", value):
        return SourceRef(key=value)
    raise EditError("bad_source", value=text)


def split_arguments(text: str) -> tuple[list[str], dict[str, str]]:
    """Positional words and key=value options; quotes group words ("note=\\"Season opens\\"")."""
    try:
        tokens = shlex.split(text)
    except ValueError:
        raise EditError("bad_quotes") from None
    words, options = [], {}
    for token in tokens:
        name, sep, value = token.partition("=")
        if sep and re.fullmatch(r"[a-z_]+", name):
            options[name] = value
        else:
            words.append(token)
    return words, options


def resolve(session: Session, catalog: Catalog, record_type: RecordType, name: str) -> str:
    """The key of the record of `record_type` that `name` names.

    By slug, then as questions find names (aliases, typos), then by whole words of a name or
    alias ("nathu" is Nathu La). A name that fits several records is an "ambiguous" error that
    lists them, so the editor can say which.
    """
    wanted = name.strip().lower()
    model = MODELS[record_type]
    if session.exec(select(model.id).where(getattr(model, "slug") == wanted)).first() is not None:  # noqa: B009
        return wanted
    question = parse_question(name, catalog)
    found = {e.key: e.name for e in question.entities if e.record_type is record_type}
    if not found:
        found = _named_by_words(session, record_type, name)
    if len(found) == 1:
        return next(iter(found))
    if len(found) > 1:
        raise EditError(
            "ambiguous", kind=record_type.value, name=name, candidates=tuple(found.values())
        )
    raise EditError(
        "unknown_record", kind=record_type.value, name=name, suggestions=question.suggestions
    )


def _named_by_words(session: Session, record_type: RecordType, name: str) -> dict[str, str]:
    """The records (key → name) whose name, slug or one alias has every word of `name`."""
    wanted = set(_words(name))
    if not wanted:
        return {}
    model = MODELS[record_type]
    found = {}
    for record in session.exec(select(model).order_by(col(model.id))).all():
        if any(wanted <= set(_words(text)) for text in _names(record)):
            found[getattr(record, "slug")] = display_name(record)  # noqa: B009
    return found


def _record_words(session: Session, record_type: RecordType, key: str) -> set[str]:
    model = MODELS[record_type]
    record = session.exec(select(model).where(getattr(model, "slug") == key)).one()  # noqa: B009
    return {word for text in _names(record) for word in _words(text)}


def _names(record: EditableRecord) -> tuple[str, ...]:
    """What a record is called: its name, slug and aliases."""
    return (display_name(record), getattr(record, "slug"), *getattr(record, "aliases"))  # noqa: B009


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def display_name(record: EditableRecord) -> str:
    for attribute in ("name", "commodity", "route"):
        if hasattr(record, attribute):
            return str(getattr(record, attribute))
    return ""


def parse_set(session: Session, catalog: Catalog, text: str) -> Edit:
    """`pass nathu-la reopening_scheduled since=2026-05-01 note="..." source=URL`."""
    words, options = split_arguments(text)
    if not words:
        raise EditError("set_usage")
    kind = KIND_NAMES.get(words[0].lower())
    if kind is None:
        raise EditError("unknown_kind", value=words[0])
    vocabulary = EDITABLE[kind]["status"].vocabulary
    rest = words[1:]
    status_words = [w for w in rest if w.lower().replace("-", "_") in vocabulary]
    name_words = [w for w in rest if w not in status_words]
    if not name_words:
        raise EditError("missing_name", kind=kind.value)
    if status_words or len(name_words) == 1:
        key = resolve(session, catalog, kind, " ".join(name_words))
    else:
        key = _resolve_or_blame_status(session, catalog, kind, name_words)
    changes: dict[str, Any] = {}
    if status_words:
        column, value = parse_value(kind, "status", status_words[-1])
        changes[column] = value
    # note= explains the change in the history; description= rewrites the record's own note.
    note = history_note(options.pop("note", None))
    note_hi = history_note(options.pop("note_hi", None), hindi=True)
    if note_hi is not None and note is None:
        raise EditError("hindi_without_english", option="note_hi", english="note")
    source_text = options.pop("source", None)
    for option, value in options.items():
        column, typed = parse_value(kind, option, value)
        changes[column] = typed
    if not changes:
        raise EditError("nothing_to_change", kind=kind.value)
    source = parse_source(source_text) if source_text else None
    return Edit(kind, key, changes, note, source, note_hi=note_hi)


def _resolve_or_blame_status(
    session: Session, catalog: Catalog, kind: RecordType, words: list[str]
) -> str:
    """The record `words` name, or else the error that points at the mistake.

    "pass nathu opne": all the words but the last name a record whose names do not have the
    last, so it was meant as a status; say so, with the statuses it is closest to.
    """
    *name, last = words
    try:
        key = resolve(session, catalog, kind, " ".join(name))
    except EditError as shorter:
        try:
            return resolve(session, catalog, kind, " ".join(words))
        except EditError as whole:
            # The name is wrong, and probably the status too: the name comes first.
            raise shorter if closest_statuses(kind, last) else whole from None
    if last.lower() in _record_words(session, kind, key):
        return key  # "pass nathu la": the last word is part of the name
    raise _bad_status(kind, last)


def to_json(value: Any) -> Any:
    return value_text(value) if isinstance(value, PartialDate | StrEnum) else value


def from_text(spec: FieldSpec | None, value: str | None) -> Any:
    if value is None or spec is None:
        return value
    if spec.kind is FieldKind.DATE:
        return PartialDate.parse(value) if value else None
    return value
