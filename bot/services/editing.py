"""Editors' changes to status records: parse, validate, preview, apply, undo.

An edit is validated completely before anything is written, then applied in the caller's
transaction: the record's fields, its version, and one history row per changed field, all
sharing a batch id so that `undo` can revert the edit as a whole. A stale `expected_version`
(someone else changed the record since the editor started) refuses the edit and says what
the record holds now.
"""

from __future__ import annotations

import re
import secrets
import shlex
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlmodel import col, select

from bot.models import (
    BorderPass,
    CommodityDeal,
    EditableRecord,
    FlightRoute,
    Source,
    StatusChange,
    utcnow,
)
from bot.partial_date import PartialDate
from bot.services.questions import Catalog, parse_question
from bot.vocabulary import Actor, DealStatus, FlightStatus, PassStatus, RecordType

if TYPE_CHECKING:
    from sqlmodel import Session

UNDO_WINDOW = timedelta(hours=24)
EDITORS_SOURCE_KEY = "trade-watch-editors"

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

# What an editor may change on each kind of record; option names as typed in /set.
EDITABLE: dict[RecordType, dict[str, FieldSpec]] = {
    RecordType.PASS: {
        "status": FieldSpec("status", FieldKind.STATUS, _STATUS_VOCABULARIES[RecordType.PASS]),
        "since": FieldSpec("status_since", FieldKind.DATE),
        "expected": FieldSpec("expected_reopening", FieldKind.DATE),
        "season": FieldSpec("season", FieldKind.TEXT),
        "description": FieldSpec("note", FieldKind.TEXT, max_length=2000),
    },
    RecordType.DEAL: {
        "status": FieldSpec("status", FieldKind.STATUS, _STATUS_VOCABULARIES[RecordType.DEAL]),
        "since": FieldSpec("status_since", FieldKind.DATE),
        "description": FieldSpec("note", FieldKind.TEXT, max_length=2000),
    },
    RecordType.FLIGHT: {
        "status": FieldSpec("status", FieldKind.STATUS, _STATUS_VOCABULARIES[RecordType.FLIGHT]),
        "since": FieldSpec("since", FieldKind.DATE),
        "frequency": FieldSpec("frequency", FieldKind.TEXT, max_length=64),
        "description": FieldSpec("note", FieldKind.TEXT, max_length=2000),
    },
}
# The date that starts with a new status, per kind.
STATUS_SINCE = {
    RecordType.PASS: "status_since",
    RecordType.DEAL: "status_since",
    RecordType.FLIGHT: "since",
}


class EditError(Exception):
    """Something an editor typed cannot be applied; `code` and `details` say what and how."""

    def __init__(self, code: str, **details: Any) -> None:
        super().__init__(code)
        self.code = code
        self.details = details


@dataclass(frozen=True, slots=True)
class SourceRef:
    """An existing source (by key) or a new one to create from a URL."""

    key: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Edit:
    record_type: RecordType
    key: str
    changes: dict[str, Any]  # column -> new value (already validated and typed)
    note: str | None = None
    source: SourceRef | None = None
    expected_version: int | None = None

    def to_payload(self) -> dict[str, Any]:
        """JSON for a draft awaiting confirmation."""
        return {
            "record_type": self.record_type.value,
            "key": self.key,
            "changes": {name: _to_json(value) for name, value in self.changes.items()},
            "note": self.note,
            "source": None
            if self.source is None
            else {"key": self.source.key, "url": self.source.url},
            "expected_version": self.expected_version,
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Edit:
        record_type = RecordType(payload["record_type"])
        specs = {spec.name: spec for spec in EDITABLE[record_type].values()}
        source = payload.get("source")
        return cls(
            record_type,
            payload["key"],
            {name: _from_json(specs[name], value) for name, value in payload["changes"].items()},
            payload.get("note"),
            SourceRef(source["key"], source["url"]) if source else None,
            payload.get("expected_version"),
        )


@dataclass(frozen=True, slots=True)
class Applied:
    record_type: RecordType
    key: str
    name: str
    batch: str
    changes: tuple[StatusChange, ...]


@dataclass(frozen=True, slots=True)
class Preview:
    """The record as readers would see it after the edit (not written)."""

    edit: Edit
    record: EditableRecord
    source: Source
    old_values: dict[str, Any] = field(default_factory=dict)

    @property
    def rows(self) -> tuple[tuple[str, str | None, str | None], ...]:
        """(field, old, new) as readers would read them."""
        return tuple(
            (name, _human(old), _human(getattr(self.record, name)))
            for name, old in self.old_values.items()
        )


# --- Parsing what editors type ----------------------------------------------------------

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
        value = text.strip().lower().replace(" ", "_").replace("-", "_")
        if value not in spec.vocabulary:
            raise EditError(
                "bad_status", kind=record_type.value, value=text, allowed=spec.vocabulary
            )
        return spec.name, value
    if spec.kind is FieldKind.DATE:
        return spec.name, parse_date(text, option=option)
    value = text.strip()
    if not value:
        raise EditError("empty_value", option=option)
    if len(value) > spec.max_length:
        raise EditError("too_long", option=option, limit=spec.max_length)
    return spec.name, value


def history_note(text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    if len(text) > 2000:
        raise EditError("too_long", option="note", limit=2000)
    return text.strip()


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
    """The key of the record of `record_type` that `name` names; asks when it is ambiguous."""
    wanted = name.strip().lower()
    model = MODELS[record_type]
    if session.exec(select(model.id).where(getattr(model, "slug") == wanted)).first() is not None:  # noqa: B009
        return wanted
    question = parse_question(name, catalog)
    found = list(dict.fromkeys(e.key for e in question.entities if e.record_type is record_type))
    if len(found) == 1:
        return found[0]
    names = [e.name for e in question.entities if e.record_type is record_type]
    if len(found) > 1:
        raise EditError("ambiguous", kind=record_type.value, name=name, candidates=tuple(names))
    raise EditError(
        "unknown_record", kind=record_type.value, name=name, suggestions=question.suggestions
    )


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
    if not status_words and len(name_words) > 1:
        # "pass nathu-la opne": the name without its last word is a record, so that word
        # was meant as a status; say so rather than read it as part of the name.
        try:
            resolve(session, catalog, kind, " ".join(name_words[:-1]))
        except EditError:
            pass
        else:
            raise EditError("bad_status", kind=kind.value, value=name_words[-1], allowed=vocabulary)
    key = resolve(session, catalog, kind, " ".join(name_words))
    changes: dict[str, Any] = {}
    if status_words:
        column, value = parse_value(kind, "status", status_words[-1])
        changes[column] = value
    # note= explains the change in the history; description= rewrites the record's own note.
    note = history_note(options.pop("note", None))
    source_text = options.pop("source", None)
    for option, value in options.items():
        column, typed = parse_value(kind, option, value)
        changes[column] = typed
    if not changes:
        raise EditError("nothing_to_change", kind=kind.value)
    return Edit(kind, key, changes, note, parse_source(source_text) if source_text else None)


# --- Validating, previewing and applying ------------------------------------------------


def load_record(session: Session, record_type: RecordType, key: str) -> EditableRecord:
    model = MODELS[record_type]
    record = session.exec(select(model).where(getattr(model, "slug") == key)).first()  # noqa: B009
    if record is None:
        raise EditError("unknown_record", kind=record_type.value, name=key, suggestions=())
    return record


def find_source(session: Session, ref: SourceRef) -> Source | None:
    if ref.key is not None:
        return session.exec(select(Source).where(Source.key == ref.key)).first()
    return session.exec(select(Source).where(Source.url == ref.url)).first()


def _source_for(session: Session, ref: SourceRef | None, today: date) -> Source:
    """The source an edit cites: an existing one, a new one for a URL, or the editors."""
    if ref is None:
        return _editors_source(session)
    found = find_source(session, ref)
    if found is not None:
        return found
    if ref.key is not None:
        raise EditError("unknown_source", value=ref.key)
    assert ref.url is not None
    host = urlsplit(ref.url).netloc.removeprefix("www.")
    key = re.sub(r"[^a-z0-9]+", "-", f"{host}-{today.isoformat()}".lower()).strip("-")[:50]
    if session.exec(select(Source.id).where(Source.key == key)).first() is not None:
        key = f"{key}-{secrets.token_hex(2)}"
    source = Source(
        key=key,
        title=ref.url[:300],
        publisher=host,
        url=ref.url,
        published_on=PartialDate.of(today),
    )
    session.add(source)
    session.flush()
    return source


def _editors_source(session: Session) -> Source:
    """Edits without a cited source are attributed to the editors, never to an old source."""
    found = session.exec(select(Source).where(Source.key == EDITORS_SOURCE_KEY)).first()
    if found is None:
        found = _new_editors_source()
        session.add(found)
        session.flush()
    return found


def _new_editors_source() -> Source:
    return Source(
        key=EDITORS_SOURCE_KEY,
        title="Update recorded by a Trade Watch editor",
        publisher="Trade Watch editors",
    )


def check_version(record: EditableRecord, edit: Edit) -> None:
    if edit.expected_version is not None and record.version != edit.expected_version:
        raise EditError(
            "changed_since",
            kind=edit.record_type.value,
            key=edit.key,
            updated_by=record.updated_by,
            current={name: _to_json(getattr(record, name)) for name in edit.changes},
        )


def _pending(session: Session, edit: Edit, today: date) -> tuple[EditableRecord, dict[str, Any]]:
    """The record as it is now and the columns the edit would change (refusing none)."""
    record = load_record(session, edit.record_type, edit.key)
    check_version(record, edit)
    changed = {
        name: value
        for name, value in _effective(edit, record, today).items()
        if getattr(record, name) != value
    }
    if not changed:
        raise EditError("no_change", kind=edit.record_type.value, key=edit.key)
    return record, changed


def preview(session: Session, edit: Edit, today: date) -> Preview:
    """Validate `edit` against the record as it is now and show the result, writing nothing."""
    record, changed = _pending(session, edit, today)
    source = find_source(session, edit.source) if edit.source else None
    if edit.source is not None and edit.source.key is not None and source is None:
        raise EditError("unknown_source", value=edit.source.key)
    if source is None:
        source = _unsaved_source(session, edit.source)
    model = type(record)
    copy = model(**{name: getattr(record, name) for name in model.model_fields})
    for name, value in changed.items():
        setattr(copy, name, value)
    copy.as_of = PartialDate.of(today)
    return Preview(edit, copy, source, {name: getattr(record, name) for name in changed})


def _unsaved_source(session: Session, ref: SourceRef | None) -> Source:
    """How the source will read once the edit is applied (a preview writes nothing)."""
    if ref is not None and ref.url is not None:
        host = urlsplit(ref.url).netloc.removeprefix("www.")
        return Source(key="preview", title=ref.url, publisher=host, url=ref.url)
    existing = session.exec(select(Source).where(Source.key == EDITORS_SOURCE_KEY)).first()
    return existing or _new_editors_source()


def _effective(edit: Edit, record: EditableRecord, today: date) -> dict[str, Any]:
    """The edit's changes plus what follows from them: a new status starts today unless dated."""
    changes = dict(edit.changes)
    since = STATUS_SINCE[edit.record_type]
    current_status = getattr(record, "status")  # noqa: B009  (every editable kind has one)
    if "status" in changes and changes["status"] != current_status and since not in changes:
        changes[since] = PartialDate.of(today)
    return changes


def apply(session: Session, edit: Edit, *, actor: str, now: datetime | None = None) -> Applied:
    """Write the edit (in the caller's transaction) with its history rows."""
    moment = now or utcnow()
    today = moment.astimezone(UTC).date()
    record, changes = _pending(session, edit, today)
    source = _source_for(session, edit.source, today)
    batch = secrets.token_hex(8)
    since_column = STATUS_SINCE[edit.record_type]
    rows = []
    for name, value in changes.items():
        row = StatusChange(
            record_type=edit.record_type,
            record_key=edit.key,
            field=name,
            old_value=_as_text(getattr(record, name)),
            new_value=_as_text(value),
            note=edit.note,
            source_id=source.id,
            occurred_on=changes.get(since_column) if name == "status" else None,
            actor=actor,
            at=moment,
            batch=batch,
        )
        rows.append(row)
        session.add(row)
        setattr(record, name, value)
    assert source.id is not None
    record.source_id = source.id
    record.as_of = PartialDate.of(today)
    record.updated_by = actor
    record.updated_at = moment
    record.version += 1
    session.flush()
    return Applied(edit.record_type, edit.key, display_name(record), batch, tuple(rows))


def undo(session: Session, *, actor: str, now: datetime | None = None) -> Applied:
    """Revert the actor's own last edit made within 24 hours (itself recorded as an edit)."""
    moment = now or utcnow()
    undone = select(StatusChange.reverts).where(col(StatusChange.reverts).is_not(None))
    last = session.exec(
        select(StatusChange)
        .where(
            StatusChange.actor == actor,
            col(StatusChange.batch).is_not(None),
            col(StatusChange.reverts).is_(None),
            col(StatusChange.batch).not_in(undone),
            col(StatusChange.at) >= moment - UNDO_WINDOW,
            col(StatusChange.record_type).in_(list(MODELS)),
        )
        .order_by(col(StatusChange.at).desc(), col(StatusChange.id).desc())
    ).first()
    if last is None:
        raise EditError("nothing_to_undo")
    rows = session.exec(select(StatusChange).where(StatusChange.batch == last.batch)).all()
    record = load_record(session, last.record_type, last.record_key)
    for row in rows:
        assert row.field is not None
        if _as_text(getattr(record, row.field)) != row.new_value:
            raise EditError(
                "undo_conflict",
                key=row.record_key,
                field=row.field,
                current=_as_text(getattr(record, row.field)),
            )
    batch = secrets.token_hex(8)
    reverted = []
    specs = {spec.name: spec for spec in EDITABLE[last.record_type].values()}
    for row in rows:
        assert row.field is not None
        old = _from_text(specs.get(row.field), row.old_value)
        reverted_row = StatusChange(
            record_type=row.record_type,
            record_key=row.record_key,
            field=row.field,
            old_value=row.new_value,
            new_value=row.old_value if row.old_value is not None else "",
            note=f"undo of an edit made at {row.at:%d %b %Y %H:%M} UTC",
            source_id=row.source_id,
            actor=actor,
            at=moment,
            batch=batch,
            reverts=last.batch,
        )
        session.add(reverted_row)
        reverted.append(reverted_row)
        setattr(record, row.field, old)
    record.updated_by = actor
    record.updated_at = moment
    record.version += 1
    session.flush()
    return Applied(last.record_type, last.record_key, display_name(record), batch, tuple(reverted))


def records_of(session: Session, record_type: RecordType) -> list[tuple[str, str]]:
    """(key, name) of every record of a kind, for the guided edit's buttons."""
    model = MODELS[record_type]
    return [
        (getattr(record, "slug"), display_name(record))  # noqa: B009
        for record in session.exec(select(model).order_by(col(model.id))).all()
    ]


def recent_changes(
    session: Session, *, since: datetime, limit: int = 30
) -> list[tuple[StatusChange, Source | None]]:
    """The ticker: changes made since `since`, newest first.

    Role changes stay private, and the bundled history loaded by the seed is not news.
    """
    return list(
        session.exec(
            select(StatusChange, Source)
            .join(Source, col(Source.id) == StatusChange.source_id, isouter=True)
            .where(
                col(StatusChange.at) >= since,
                col(StatusChange.record_type) != RecordType.ADMIN,
                col(StatusChange.actor) != Actor.SEED,
            )
            .order_by(col(StatusChange.at).desc(), col(StatusChange.id).desc())
            .limit(limit)
        ).all()
    )


def display_name(record: EditableRecord) -> str:
    for attribute in ("name", "commodity", "route"):
        if hasattr(record, attribute):
            return str(getattr(record, attribute))
    return ""


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, PartialDate):
        return value.isoformat()
    return str(value.value if isinstance(value, StrEnum) else value)


def _human(value: Any) -> str | None:
    if isinstance(value, PartialDate):
        return value.human()
    text = _as_text(value)
    return None if text is None else text.replace("_", " ")


def _to_json(value: Any) -> Any:
    return _as_text(value) if isinstance(value, PartialDate | StrEnum) else value


def _from_json(spec: FieldSpec, value: Any) -> Any:
    return _from_text(spec, value)


def _from_text(spec: FieldSpec | None, value: str | None) -> Any:
    if value is None or spec is None:
        return value
    if spec.kind is FieldKind.DATE:
        return PartialDate.parse(value) if value else None
    return value
