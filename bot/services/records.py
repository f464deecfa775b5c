"""Status records as readers see them: passes, deals, flights, their history and sources."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.models import (
    BorderPass,
    CommodityDeal,
    ContextNote,
    EditableRecord,
    FigureReport,
    FlightRoute,
    Source,
    StatusChange,
    TradeFigure,
)
from bot.partial_date import PartialDate
from bot.services import timeline
from bot.services.timeline import Freshness, Outlook
from bot.vocabulary import RecordType

if TYPE_CHECKING:
    from bot.vocabulary import DealStatus, Direction

R = TypeVar("R", bound=EditableRecord)

RECORD_MODELS: dict[RecordType, type[EditableRecord]] = {
    RecordType.PASS: BorderPass,
    RecordType.DEAL: CommodityDeal,
    RecordType.FLIGHT: FlightRoute,
}
RECORD_TYPES: dict[type[EditableRecord], RecordType] = {
    model: kind for kind, model in RECORD_MODELS.items()
}


@dataclass(frozen=True, slots=True)
class RecordView(Generic[R]):
    record: R
    source: Source
    outlook: Outlook  # its dates against today, and whether to tell the reader to check it


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    change: StatusChange
    source: Source | None


@dataclass(frozen=True, slots=True)
class History:
    record_type: RecordType
    key: str
    name: str
    entries: tuple[HistoryEntry, ...]  # oldest first, by when it happened


@dataclass(frozen=True, slots=True)
class SourceUse:
    source: Source
    cited_by: int


def _views(
    session: Session, model: type[R], freshness: Freshness, *conditions: object
) -> list[RecordView[R]]:
    query = select(model, Source).join(Source, col(Source.id) == model.source_id)
    for condition in conditions:
        query = query.where(condition)  # type: ignore[arg-type]
    rows = session.exec(query.order_by(col(model.id))).all()
    views = [view_of(record, source, freshness) for record, source in rows]
    # A later event in a record's history can only move its last update on, which matters
    # only where the outlook speaks of it: a mark, or a date that has passed. Only those
    # records' histories are read.
    asked = [_slug(view.record) for view in views if _speaks_of_last_update(view.outlook)]
    if not asked:
        return views
    updates = _last_updates(session, RECORD_TYPES[model], asked)
    return [
        view_of(view.record, view.source, freshness, updates.get(_slug(view.record)))
        if _slug(view.record) in updates
        else view
        for view in views
    ]


def _slug(record: EditableRecord) -> str:
    return str(getattr(record, "slug"))  # noqa: B009  (every status record has one)


def _speaks_of_last_update(outlook: Outlook) -> bool:
    return outlook.mark is not None or (outlook.expected is not None and outlook.expected.passed)


def view_of(
    record: R, source: Source, freshness: Freshness, history_update: PartialDate | None = None
) -> RecordView[R]:
    """A record as readers see it today; `history_update` is the latest event its history
    records (a record's as-of date may be older than a later event about it)."""
    last_update = record.as_of
    if history_update is not None and history_update.earliest > last_update.earliest:
        last_update = history_update
    outlook: Outlook
    if isinstance(record, BorderPass):
        outlook = timeline.pass_outlook(record, last_update, freshness)
    elif isinstance(record, CommodityDeal):
        outlook = timeline.deal_outlook(record, last_update, freshness)
    elif isinstance(record, FlightRoute):
        outlook = timeline.flight_outlook(record, last_update, freshness)
    else:
        outlook = Outlook(last_update)
    return RecordView(record, source, outlook)


# Built once: constructing the statement cost more than running it.
_history = StatusChange.__table__.c  # type: ignore[attr-defined]
_HISTORY_DATES = sa.select(
    _history.record_key, _history.occurred_on, _history.at, _history.batch, _history.reverts
).where(
    _history.record_type == sa.bindparam("kind"),
    _history.record_key.in_(sa.bindparam("keys", expanding=True)),
)


def _last_updates(
    session: Session, record_type: RecordType, keys: list[str]
) -> dict[str, PartialDate]:
    """The latest update each record's history records, by record key.

    A row counts on the day it happened, or on the day it was recorded when it happened later
    than that (a status dated ahead is news of that day). An edit that was undone and its undo
    changed nothing together, so neither counts (both are rows of the same record).
    """
    if not keys:
        return {}
    rows = session.connection().execute(_HISTORY_DATES, {"kind": record_type, "keys": keys}).all()
    undone = {reverts for *_, reverts in rows if reverts is not None}
    latest: dict[str, PartialDate] = {}
    for key, occurred_on, at, batch, reverts in rows:
        if reverts is not None or (batch is not None and batch in undone):
            continue
        recorded = PartialDate.of(at.date())
        happened = recorded if occurred_on is None else min(occurred_on, recorded, key=_start)
        if key not in latest or happened.earliest > latest[key].earliest:
            latest[key] = happened
    return latest


def _start(when: PartialDate) -> date:
    return when.earliest


def passes(session: Session, freshness: Freshness) -> list[RecordView[BorderPass]]:
    return _views(session, BorderPass, freshness)


def border_pass(session: Session, slug: str, freshness: Freshness) -> RecordView[BorderPass] | None:
    found = _views(session, BorderPass, freshness, col(BorderPass.slug) == slug)
    return found[0] if found else None


def deals(
    session: Session,
    freshness: Freshness,
    *,
    slugs: tuple[str, ...] = (),
    category: str | None = None,
    status: DealStatus | None = None,
    direction: Direction | None = None,
) -> list[RecordView[CommodityDeal]]:
    conditions: list[object] = []
    if slugs:
        conditions.append(col(CommodityDeal.slug).in_(slugs))
    if category is not None:
        conditions.append(col(CommodityDeal.category) == category)
    if status is not None:
        conditions.append(col(CommodityDeal.status) == status)
    if direction is not None:
        conditions.append(col(CommodityDeal.direction) == direction)
    return _views(session, CommodityDeal, freshness, *conditions)


def ever_held(
    session: Session, record_type: RecordType, keys: tuple[str, ...], statuses: tuple[str, ...]
) -> set[str]:
    """The records among `keys` whose history shows them in one of `statuses` at some time
    ("did China lift the curbs" concerns the deals that were ever restricted)."""
    if not keys:
        return set()
    rows = session.exec(
        select(StatusChange.record_key)
        .where(
            StatusChange.record_type == record_type,
            col(StatusChange.record_key).in_(keys),
            StatusChange.field == "status",
            col(StatusChange.new_value).in_(statuses),
        )
        .distinct()
    ).all()
    return set(rows)


def deal_categories(session: Session) -> list[str]:
    return list(
        session.exec(
            select(CommodityDeal.category).distinct().order_by(col(CommodityDeal.category))
        ).all()
    )


def flights(
    session: Session, freshness: Freshness, *, slugs: tuple[str, ...] = ()
) -> list[RecordView[FlightRoute]]:
    conditions = [col(FlightRoute.slug).in_(slugs)] if slugs else []
    return _views(session, FlightRoute, freshness, *conditions)


def context_notes(session: Session, *, subject: str) -> list[tuple[ContextNote, Source]]:
    return list(
        session.exec(
            select(ContextNote, Source)
            .join(Source, col(Source.id) == ContextNote.source_id)
            .where(ContextNote.subject == subject)
            .order_by(col(ContextNote.occurred_on))
        ).all()
    )


def names(session: Session, record_type: RecordType) -> list[str]:
    """Display names of every record of a kind, for "did you mean" answers."""
    column = {
        RecordType.PASS: col(BorderPass.name),
        RecordType.DEAL: col(CommodityDeal.commodity),
        RecordType.FLIGHT: col(FlightRoute.route),
    }.get(record_type)
    return [] if column is None else list(session.exec(select(column).order_by(column)).all())


def record_name(session: Session, record_type: RecordType, key: str) -> str | None:
    """The display name of a record, or None when no such record exists."""
    if record_type is RecordType.FIGURE:
        series, _, period = key.partition(":")
        exists = session.exec(
            select(TradeFigure.id).where(
                col(TradeFigure.series) == series, col(TradeFigure.period) == period
            )
        ).first()
        return period if exists is not None else None
    if record_type is RecordType.PASS:
        return session.exec(select(BorderPass.name).where(BorderPass.slug == key)).first()
    if record_type is RecordType.DEAL:
        return session.exec(
            select(CommodityDeal.commodity).where(CommodityDeal.slug == key)
        ).first()
    if record_type is RecordType.FLIGHT:
        return session.exec(select(FlightRoute.route).where(FlightRoute.slug == key)).first()
    return None


def history(session: Session, record_type: RecordType, key: str) -> History | None:
    name = record_name(session, record_type, key)
    if name is None:
        return None
    rows = session.exec(
        select(StatusChange, Source)
        .join(Source, col(Source.id) == StatusChange.source_id, isouter=True)
        .where(StatusChange.record_type == record_type, StatusChange.record_key == key)
        .order_by(col(StatusChange.at), col(StatusChange.id))
    ).all()
    # Order by when it happened; rows without that date (recorded edits) keep their order.
    entries = sorted(
        (HistoryEntry(change, source) for change, source in rows),
        key=lambda entry: (
            entry.change.occurred_on.earliest
            if entry.change.occurred_on
            else entry.change.at.date()
        ),
    )
    return History(record_type, key, name, tuple(entries))


def _happened(entry: HistoryEntry) -> date:
    occurred = entry.change.occurred_on
    return occurred.earliest if occurred is not None else entry.change.at.date()


def sources(session: Session) -> list[SourceUse]:
    """Every source with how many records, reports and history rows cite it."""
    counts: dict[int | None, int] = {}
    citing = (TradeFigure, BorderPass, CommodityDeal, FlightRoute, ContextNote, FigureReport)
    for model in (*citing, StatusChange):
        source_column = col(model.source_id)
        for source_id, count in session.exec(
            select(source_column, func.count())
            .where(source_column.is_not(None))
            .group_by(source_column)
        ).all():
            counts[source_id] = counts.get(source_id, 0) + count
    newest_first = col(Source.published_on).desc().nulls_last()
    rows = session.exec(select(Source).order_by(newest_first, col(Source.id))).all()
    return [SourceUse(source, counts.get(source.id, 0)) for source in rows]
