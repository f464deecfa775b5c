"""What a write of a record puts in the history log (`status_change`), and how it is read back.

Every write of a record (an editor's edit, an undo, a figure, an import, the seed bringing its
own records up to date) is a `RecordWrite`: one row per changed field under one batch id, each
row carrying the record's bookkeeping (source, as of, updated by, updated at) before and after
the write. An undo restores the "before" exactly, and replaying the rows onto an earlier state
of the records gives their state now, field by field.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from bot.models import EditableRecord, Source, StatusChange
from bot.partial_date import PartialDate
from bot.services.bilingual import SUFFIX
from bot.vocabulary import AUDIT_ONLY, RecordType

if TYPE_CHECKING:
    from sqlalchemy.sql.elements import ColumnElement
    from sqlmodel import Session

# Changes that cite no source are credited to the editors, never to a record's older source.
EDITORS_SOURCE_KEY = "trade-watch-editors"

# Rows of the audit log that are not a record's history: role changes, news reviews and the
# feed list. They stay in the log, and stay out of digests, the ticker, exports and undo.

# The date that starts with a new status, per kind of status record.
STATUS_SINCE = {
    RecordType.PASS: "status_since",
    RecordType.DEAL: "status_since",
    RecordType.FLIGHT: "since",
}


def new_batch() -> str:
    return secrets.token_hex(8)


def value_text(value: Any) -> str | None:
    """A column's value as the history stores it (old_value, new_value)."""
    if value is None:
        return None
    if isinstance(value, PartialDate):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(str(part) for part in value)
    return str(value.value if isinstance(value, StrEnum) else value)


@dataclass(frozen=True, slots=True)
class Bookkeeping:
    """The columns that say where a record's content comes from and who wrote it last."""

    source_id: int
    as_of: PartialDate
    updated_by: str
    updated_at: datetime

    @classmethod
    def of(cls, record: EditableRecord) -> Bookkeeping:
        return cls(record.source_id, record.as_of, record.updated_by, record.updated_at)

    def to_json(self) -> dict[str, Any]:
        return {
            "source_id": self.source_id,
            "as_of": self.as_of.isoformat(),
            "updated_by": self.updated_by,
            "updated_at": self.updated_at.isoformat(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Bookkeeping:
        return cls(
            int(data["source_id"]),
            PartialDate.parse(data["as_of"]),
            str(data["updated_by"]),
            datetime.fromisoformat(data["updated_at"]),
        )

    def stamp(self, record: EditableRecord) -> None:
        record.source_id = self.source_id
        record.as_of = self.as_of
        record.updated_by = self.updated_by
        record.updated_at = self.updated_at


@dataclass(frozen=True, slots=True)
class RecordWrite:
    """One write of one record: its history rows share the batch, actor, time and bookkeeping.

    The rows credit the source the record cites after the write (`after.source_id`); `before`
    is None when the write creates the record.
    """

    record_type: RecordType
    key: str
    actor: str
    at: datetime
    before: Bookkeeping | None
    after: Bookkeeping
    note: str | None = None
    reverts: str | None = None
    batch: str = field(default_factory=new_batch)
    note_hi: str | None = None  # the note in Hindi

    def row(
        self,
        field: str | None,
        old: Any,
        new: Any,
        *,
        occurred_on: PartialDate | None = None,
        note: str | None = None,
    ) -> StatusChange:
        """A history row of this write; `note` replaces the write's note (and its Hindi) for
        this row alone."""
        return StatusChange(
            record_type=self.record_type,
            record_key=self.key,
            field=field,
            old_value=value_text(old),
            # A cleared value is "" (as readers see it, "not set"): a field change always names
            # its new value, so the history exports and imports as the dataset schema wants.
            new_value=value_text(new) if field is None or new is not None else "",
            note=note if note is not None else self.note,
            note_hi=None if note is not None else self.note_hi,
            source_id=self.after.source_id,
            occurred_on=occurred_on,
            actor=self.actor,
            at=self.at,
            batch=self.batch,
            reverts=self.reverts,
            bookkeeping_before=None if self.before is None else self.before.to_json(),
            bookkeeping_after=self.after.to_json(),
        )

    def finish(self, record: EditableRecord) -> None:
        """Stamp the record with the bookkeeping after the write and count the write."""
        self.after.stamp(record)
        if self.before is not None:  # a new record starts at its first version
            record.version += 1


def editors_source(session: Session) -> Source:
    """The source of changes that cite none (created the first time it is needed)."""
    found = session.exec(select(Source).where(Source.key == EDITORS_SOURCE_KEY)).first()
    if found is None:
        found = new_editors_source()
        session.add(found)
        session.flush()
    return found


def new_editors_source() -> Source:
    return Source(
        key=EDITORS_SOURCE_KEY,
        title="Update recorded by a Trade Watch editor",
        publisher="Trade Watch editors",
    )


def of_records() -> ColumnElement[bool]:
    """The condition on `status_change` for rows of a record's history (see AUDIT_ONLY)."""
    return col(StatusChange.record_type).not_in(AUDIT_ONLY)


def not_translations() -> ColumnElement[bool]:
    """The condition on `status_change` for rows that are not a Hindi text written or changed
    (a `<column>_hi` field): in the history, but no news of the record."""
    return or_(
        col(StatusChange.field).is_(None),
        col(StatusChange.field).not_like(f"%!{SUFFIX}", escape="!"),
    )


def changes_since(since: datetime | None, *, inclusive: bool = False) -> list[ColumnElement[bool]]:
    """Conditions on `status_change` for the rows after `since` (every row when None), leaving
    out an edit and its undo when both are among them: together they changed nothing.

    An edit from before `since` whose undo is after it stays out and its undo stays in: who
    was told of the edit is told of the undo.
    """

    def window(table: Any) -> list[ColumnElement[bool]]:
        if since is None:
            return []
        return [col(table.at) >= since] if inclusive else [col(table.at) > since]

    undo, edit = aliased(StatusChange), aliased(StatusChange)
    undone = select(undo.reverts).where(col(undo.reverts).is_not(None), *window(undo))
    edits = select(edit.batch).where(col(edit.batch).is_not(None), *window(edit))
    return [
        *window(StatusChange),
        or_(col(StatusChange.batch).is_(None), col(StatusChange.batch).not_in(undone)),
        or_(col(StatusChange.reverts).is_(None), col(StatusChange.reverts).not_in(edits)),
    ]
