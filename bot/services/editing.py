"""Editors' changes to status records: validate, preview, apply, undo (parsing: `edit_parsing`).

An edit is validated completely before anything is written, then applied in the caller's
transaction: the record's fields, its version, and one history row per changed field, all
sharing a batch id so that `undo` can revert the edit as a whole. A stale `expected_version`
(someone else changed the record since the editor started) refuses the edit and says what
the record holds now.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlmodel import col, select

from bot.models import EditableRecord, Source, StatusChange, utcnow
from bot.partial_date import PartialDate
from bot.services.bilingual import english_of, hindi_of, is_hindi
from bot.services.edit_parsing import (
    EDITABLE,
    KIND_NAMES,
    MODELS,
    Edit,
    EditError,
    SourceRef,
    display_name,
    from_text,
    history_note,
    parse_date,
    parse_set,
    parse_source,
    parse_value,
    split_arguments,
    to_json,
)
from bot.services.history import (
    EDITORS_SOURCE_KEY,
    STATUS_SINCE,
    Bookkeeping,
    RecordWrite,
    changes_since,
    editors_source,
    new_editors_source,
    of_records,
    value_text,
)
from bot.vocabulary import Actor, RecordType

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlmodel import Session

# Callers use this module for the whole of editing, parsing included.
__all__ = [
    "EDITABLE",
    "KIND_NAMES",
    "UNDO_WINDOW",
    "Applied",
    "Edit",
    "EditError",
    "Preview",
    "SourceRef",
    "apply",
    "cited_source",
    "display_name",
    "find_source",
    "history_note",
    "load_record",
    "parse_date",
    "parse_set",
    "parse_source",
    "parse_value",
    "preview",
    "recent_changes",
    "records_of",
    "split_arguments",
    "undo",
]

UNDO_WINDOW = timedelta(hours=24)


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
    # Hindi options whose English text the edit rewrites while their Hindi stays as it was.
    stale_hindi: tuple[str, ...] = ()

    @property
    def rows(self) -> tuple[tuple[str, str | None, str | None], ...]:
        """(field, old, new) as readers would read them."""
        return tuple(
            (name, _human(old), _human(getattr(self.record, name)))
            for name, old in self.old_values.items()
        )


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


def cited_source(session: Session, ref: SourceRef | None, today: date) -> Source:
    """The source an edit cites: an existing one, a new one for a URL, or the editors."""
    if ref is None:
        return editors_source(session)
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
        title=(ref.title or ref.url)[:300],
        publisher=(ref.publisher or host)[:200],
        url=ref.url,
        published_on=PartialDate.parse(ref.published_on)
        if ref.published_on
        else PartialDate.of(today),
    )
    session.add(source)
    session.flush()
    return source


def check_version(record: EditableRecord, edit: Edit) -> None:
    if edit.expected_version is not None and record.version != edit.expected_version:
        raise EditError(
            "changed_since",
            kind=edit.record_type.value,
            key=edit.key,
            updated_by=record.updated_by,
            current={name: to_json(getattr(record, name)) for name in edit.changes},
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
    _check_season(record, changed)
    _check_hindi(edit.record_type, record, changed)
    return record, changed


def _options(record_type: RecordType) -> dict[str, str]:
    """Column → the option editors type for it."""
    return {spec.name: option for option, spec in EDITABLE[record_type].items()}


def _check_hindi(record_type: RecordType, record: EditableRecord, changed: dict[str, Any]) -> None:
    """A Hindi text never stands without the English one it translates."""
    options = _options(record_type)
    for column, option in options.items():
        if not is_hindi(column):
            continue
        hindi = changed.get(column, getattr(record, column))
        english = changed.get(english_of(column), getattr(record, english_of(column)))
        if hindi and not english:
            raise EditError(
                "hindi_without_english", option=option, english=options[english_of(column)]
            )


def _stale_hindi(edit: Edit, record: EditableRecord, changed: dict[str, Any]) -> tuple[str, ...]:
    """Hindi options left as they were while the edit rewrites their English text."""
    options = _options(edit.record_type)
    return tuple(
        option
        for column, option in options.items()
        if is_hindi(column)
        and changed.get(english_of(column)) is not None
        and column not in changed
        and getattr(record, column)
    )


def _check_season(record: EditableRecord, changed: dict[str, Any]) -> None:
    """A pass's season must end after it starts (the dataset schema refuses it otherwise, so
    the next export would fail)."""
    if not {"season_start", "season_end"} & changed.keys():
        return
    start = changed.get("season_start", getattr(record, "season_start", None))
    end = changed.get("season_end", getattr(record, "season_end", None))
    if start is not None and end is not None and end.latest < start.earliest:
        raise EditError("season_order", start=start.human(), end=end.human())


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
    old_values = {name: getattr(record, name) for name in changed}
    return Preview(edit, copy, source, old_values, _stale_hindi(edit, record, changed))


def _unsaved_source(session: Session, ref: SourceRef | None) -> Source:
    """How the source will read once the edit is applied (a preview writes nothing)."""
    if ref is not None and ref.url is not None:
        host = urlsplit(ref.url).netloc.removeprefix("www.")
        return Source(key="preview", title=ref.url, publisher=host, url=ref.url)
    existing = session.exec(select(Source).where(Source.key == EDITORS_SOURCE_KEY)).first()
    return existing or new_editors_source()


def _effective(edit: Edit, record: EditableRecord, today: date) -> dict[str, Any]:
    """The edit's changes plus what follows from them: a new status starts today unless dated,
    and a text cleared takes its Hindi version with it (unless the edit says otherwise)."""
    changes = dict(edit.changes)
    since = STATUS_SINCE[edit.record_type]
    current_status = getattr(record, "status")  # noqa: B009  (every editable kind has one)
    if "status" in changes and changes["status"] != current_status and since not in changes:
        changes[since] = PartialDate.of(today)
    for column, value in edit.changes.items():
        hindi = hindi_of(column)
        if value is None and hindi in _options(edit.record_type) and hindi not in changes:
            changes[hindi] = None
    return changes


def apply(session: Session, edit: Edit, *, actor: str, now: datetime | None = None) -> Applied:
    """Write the edit (in the caller's transaction) with its history rows."""
    moment = now or utcnow()
    today = moment.astimezone(UTC).date()
    record, changes = _pending(session, edit, today)
    source = cited_source(session, edit.source, today)
    assert source.id is not None
    write = RecordWrite(
        edit.record_type,
        edit.key,
        actor,
        moment,
        before=Bookkeeping.of(record),
        after=Bookkeeping(source.id, PartialDate.of(today), actor, moment),
        note=edit.note,
        note_hi=edit.note_hi,
    )
    since_column = STATUS_SINCE[edit.record_type]
    rows = []
    for name, value in changes.items():
        since = changes.get(since_column) if name == "status" else None
        row = write.row(name, getattr(record, name), value, occurred_on=since)
        rows.append(row)
        session.add(row)
        setattr(record, name, value)
    write.finish(record)
    session.flush()
    return Applied(edit.record_type, edit.key, display_name(record), write.batch, tuple(rows))


def undo(session: Session, *, actor: str, now: datetime | None = None) -> Applied:
    """Revert the actor's own last edit made within 24 hours (itself recorded as an edit).

    The record reads exactly as before the edit: its fields, source, as-of date and who last
    updated it when; only its version moves on, so drafts of either state are refused.
    """
    moment = now or utcnow()
    last = _last_undoable(session, actor, moment)
    rows = session.exec(
        select(StatusChange).where(StatusChange.batch == last.batch).order_by(col(StatusChange.id))
    ).all()
    record = load_record(session, last.record_type, last.record_key)
    _check_unchanged_since(record, rows)
    current = Bookkeeping.of(record)
    # Rows written before bookkeeping was kept restore the fields only.
    restored = (
        Bookkeeping.from_json(last.bookkeeping_before)
        if last.bookkeeping_before is not None
        else replace(current, updated_by=actor, updated_at=moment)
    )
    write = RecordWrite(
        last.record_type,
        last.record_key,
        actor,
        moment,
        before=current,
        after=restored,
        reverts=last.batch,
    )
    specs = {spec.name: spec for spec in EDITABLE[last.record_type].values()}
    reverted = []
    for row in rows:
        assert row.field is not None
        reverted_row = write.row(
            row.field,
            row.new_value,
            row.old_value if row.old_value is not None else "",
            note=f"undo of an edit made at {row.at:%d %b %Y %H:%M} UTC",
        )
        session.add(reverted_row)
        reverted.append(reverted_row)
        setattr(record, row.field, from_text(specs.get(row.field), row.old_value))
    write.finish(record)
    session.flush()
    name = display_name(record)
    return Applied(last.record_type, last.record_key, name, write.batch, tuple(reverted))


def _last_undoable(session: Session, actor: str, moment: datetime) -> StatusChange:
    """A row of the actor's last edit of a status record within the window, not undone yet."""
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
    return last


def _check_unchanged_since(record: EditableRecord, rows: Sequence[StatusChange]) -> None:
    """Refuse to undo an edit the record has moved on from (a field or its bookkeeping)."""
    for row in rows:
        assert row.field is not None
        current = value_text(getattr(record, row.field))
        # A cleared value is stored as "" in the history and reads as "not set" (None).
        if (current or "") != (row.new_value or ""):
            raise EditError("undo_conflict", key=row.record_key, field=row.field, current=current)
    after = rows[0].bookkeeping_after
    if after is not None and Bookkeeping.of(record) != Bookkeeping.from_json(after):
        raise EditError(
            "undo_conflict", key=rows[0].record_key, field=None, updated_by=record.updated_by
        )


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

    Only records' changes: role changes stay private, news reviews and the feed list are not
    changes of a record; the bundled history loaded by the seed is not news, and an edit
    undone since `since` shows with its undo as neither.
    """
    return list(
        session.exec(
            select(StatusChange, Source)
            .join(Source, col(Source.id) == StatusChange.source_id, isouter=True)
            .where(
                *changes_since(since, inclusive=True),
                of_records(),
                col(StatusChange.actor) != Actor.SEED,
            )
            .order_by(col(StatusChange.at).desc(), col(StatusChange.id).desc())
            .limit(limit)
        ).all()
    )


def _human(value: Any) -> str | None:
    if isinstance(value, PartialDate):
        return value.human()
    text = value_text(value)
    return None if text is None else text.replace("_", " ")
