"""The delivery ledger: what each subscriber is owed, who is sending it, and how that went.

Exactly-once, as far as Telegram allows (README, "Delivery guarantees"):
- A due digest becomes a `delivery` row in the same transaction that advances the
  subscriber's `next_digest_at`; the unique key (subscriber, kind, due time) makes a second row
  impossible whichever run, restart or instance tries.
- A sender claims rows (pending -> sending) with a lease, sends, and records each message at
  once. A row whose lease ran out (its sender died) is claimed again and resumed from the next
  unsent part. The one gap Telegram leaves: a message sent just before a crash, and not yet
  recorded, is sent again (at most one per request in flight).
- Claims use `FOR UPDATE SKIP LOCKED` on PostgreSQL, and every claim re-checks the row's state
  in its UPDATE, so two instances (or two processes on SQLite) never claim the same row.

Statements are SQLAlchemy Core over the mapped tables: a digest run touches every due
subscriber, and ORM identity-map overhead would dominate.

One module a little over 500 lines, on purpose: every function here writes the same few
tables under the invariants above, and reading them side by side is how they stay true.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.db import insert_ignoring_duplicates, session_scope
from bot.i18n import DEFAULT_LANGUAGE
from bot.models import ChatLanguage, Delivery, DispatchCursor, StatusChange, Subscriber
from bot.services import schedule, subscriptions
from bot.services.digest import topics_of_changes
from bot.vocabulary import DeliveryKind, DeliveryState, Frequency, Language, NewsScope, Topic

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from sqlalchemy import Connection, Engine

logger = logging.getLogger(__name__)

DIGESTS_PER_TRANSACTION = 500
MAX_ATTEMPTS = 5
# Transient failures wait 30 s, 2 min, 10 min, 30 min; the fifth attempt's failure is final.
BACKOFF_SECONDS = (30, 120, 600, 1800)
ALERTS_CURSOR = "alerts"

_subscriber = Subscriber.__table__  # type: ignore[attr-defined]
_delivery = Delivery.__table__  # type: ignore[attr-defined]
_cursor = DispatchCursor.__table__  # type: ignore[attr-defined]
_history = StatusChange.__table__  # type: ignore[attr-defined]
_chat_language = ChatLanguage.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Claim:
    """A delivery this sender holds, with what it needs to render and address it."""

    delivery_id: int
    kind: DeliveryKind
    due_at: datetime
    attempts: int  # including this one
    parts_sent: int
    since: datetime | None
    after_change_id: int | None
    up_to_change_id: int | None
    subscriber_id: int
    chat_id: int
    chat_type: str
    active: bool
    deactivated_reason: str | None
    topics: frozenset[Topic]
    frequency: Frequency
    include_chart: bool
    news_scope: NewsScope
    language: Language

    @property
    def content_key(self) -> tuple[Any, ...]:
        """Everything the rendered text depends on: equal keys share one rendering."""
        if self.kind is DeliveryKind.DIGEST:
            return (
                self.kind,
                self.topics,
                self.since,
                self.frequency,
                self.include_chart,
                self.news_scope,
                self.language,
            )
        return (self.kind, self.topics, self.after_change_id, self.up_to_change_id, self.language)


def _new_delivery(
    subscriber_id: int, kind: DeliveryKind, due_at: datetime, now: datetime, **extra: Any
) -> dict[str, Any]:
    # Pending rows always carry next_attempt_at, so claims walk the (state, next_attempt_at)
    # index in order instead of sorting every pending row.
    row = {
        "subscriber_id": subscriber_id,
        "kind": kind,
        "due_at": due_at,
        "state": DeliveryState.PENDING,
        "attempts": 0,
        "parts_sent": 0,
        "next_attempt_at": now,
        "since": None,
        "after_change_id": None,
        "up_to_change_id": None,
        "created_at": now,
        "updated_at": now,
    }
    row.update(extra)
    return row


# --- Scheduling digests ------------------------------------------------------------------


def schedule_due_digests(
    engine: Engine, *, now: datetime, batch_size: int = DIGESTS_PER_TRANSACTION
) -> int:
    """Write a delivery for every subscriber whose digest is due, advancing their schedule.

    Each subscriber gets one digest for the time that was due, however long the bot was down,
    and the next one at its regular time after `now`. Returns how many were written.
    """
    written = 0
    while True:
        with engine.begin() as connection:
            due = connection.execute(
                sa.select(
                    _subscriber.c.id,
                    _subscriber.c.frequency,
                    _subscriber.c.weekday,
                    _subscriber.c.local_hour,
                    _subscriber.c.timezone,
                    _subscriber.c.next_digest_at,
                    _subscriber.c.last_digest_at,
                    _subscriber.c.created_at,
                )
                .where(_subscriber.c.next_digest_at <= now)
                .order_by(_subscriber.c.next_digest_at)
                .limit(batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            if not due:
                return written
            deliveries = []
            advances = []
            for row in due:
                deliveries.append(
                    _new_delivery(
                        row.id,
                        DeliveryKind.DIGEST,
                        row.next_digest_at,
                        now,
                        since=row.last_digest_at or row.created_at,
                    )
                )
                advances.append(
                    {
                        "subscriber": row.id,
                        "due": row.next_digest_at,
                        "next": schedule.next_digest_at(
                            frequency=Frequency(row.frequency),
                            weekday=row.weekday,
                            local_hour=row.local_hour,
                            timezone=row.timezone,
                            after=max(now, row.next_digest_at),
                        ),
                    }
                )
            connection.execute(insert_ignoring_duplicates(connection, _delivery), deliveries)
            # Compare-and-set: a schedule another process advanced meanwhile is left alone
            # (its delivery row already exists, and the insert above skipped ours).
            connection.execute(
                sa.update(_subscriber)
                .where(
                    _subscriber.c.id == sa.bindparam("subscriber"),
                    _subscriber.c.next_digest_at == sa.bindparam("due"),
                )
                .values(
                    next_digest_at=sa.bindparam("next"),
                    last_digest_at=sa.bindparam("due"),
                    updated_at=now,
                ),
                advances,
            )
            written += len(due)
            logger.info("Scheduled %d digests due by %s", len(due), now.isoformat())


def due_subscribers(engine: Engine, *, now: datetime, limit: int = 1000) -> list[Subscriber]:
    """Subscribers whose digest is due at `now` (read only: what a run at `now` would send)."""

    with session_scope(engine) as session:
        return list(
            session.exec(
                select(Subscriber)
                .where(col(Subscriber.next_digest_at) <= now)
                .order_by(col(Subscriber.next_digest_at), col(Subscriber.id))
                .limit(limit)
            ).all()
        )


# --- Alerts -------------------------------------------------------------------------------


def dispatch_alerts(engine: Engine, *, now: datetime, batch_seconds: int) -> int:
    """Turn changes recorded since the last dispatch into one alert per follower.

    Changes are collected for `batch_seconds` after the first one, so an editor's burst of
    edits is one message. Quiet hours hold an alert until 07:00 local; alerts held for the
    same subscriber are merged into one. Returns how many alert deliveries were written or
    extended.
    """
    with engine.begin() as connection:
        position = connection.execute(
            sa.select(_cursor.c.position)
            .where(_cursor.c.name == ALERTS_CURSOR)
            .with_for_update(skip_locked=True)
        ).scalar()
        if position is None:
            return _start_cursor(connection, now=now)
        first_at, up_to = connection.execute(
            sa.select(sa.func.min(_history.c.at), sa.func.max(_history.c.id)).where(
                _history.c.id > position
            )
        ).one()
        if up_to is None or now < first_at + timedelta(seconds=batch_seconds):
            return 0
        connection.execute(
            sa.update(_cursor)
            .where(_cursor.c.name == ALERTS_CURSOR)
            .values(position=up_to, updated_at=now)
        )
        with Session(bind=connection) as session:
            topics = topics_of_changes(session, after_change_id=position, up_to_change_id=up_to)
        if not topics:
            return 0
        written = _write_alerts(connection, topics=topics, after=position, up_to=up_to, now=now)
        logger.info("Alerts for changes %d..%d (%s): %d", position + 1, up_to, topics, written)
        return written


def _start_cursor(connection: Connection, *, now: datetime) -> int:
    # The first dispatch ever starts after what the database already holds: the bundled
    # history and anything imported before alerts existed are not news.
    latest = connection.execute(sa.select(sa.func.max(_history.c.id))).scalar() or 0
    connection.execute(
        insert_ignoring_duplicates(connection, _cursor),
        [{"name": ALERTS_CURSOR, "position": latest, "updated_at": now}],
    )
    return 0


def _write_alerts(
    connection: Connection, *, topics: frozenset[Topic], after: int, up_to: int, now: datetime
) -> int:
    followers = connection.execute(
        sa.select(
            _subscriber.c.id,
            _subscriber.c.topics,
            _subscriber.c.timezone,
            _subscriber.c.quiet_hours,
        ).where(_subscriber.c.active, _subscriber.c.alerts_enabled)
    ).all()
    # Alerts still waiting (quiet hours, a 429) take the new changes instead of a second message.
    waiting: dict[int, int] = dict(
        connection.execute(
            sa.select(_delivery.c.subscriber_id, _delivery.c.id).where(
                _delivery.c.kind == DeliveryKind.ALERT,
                _delivery.c.state == DeliveryState.PENDING,
                _delivery.c.parts_sent == 0,
            )
        ).all()
    )
    new_rows = []
    written = 0
    for follower in followers:
        if Topic.GENERAL not in topics and not topics.intersection(follower.topics or ()):
            continue
        held_until = (
            schedule.quiet_until(timezone=follower.timezone, at=now)
            if follower.quiet_hours
            else None
        )
        not_before = held_until or now
        existing = waiting.get(follower.id)
        if existing is not None:
            extended = connection.execute(
                sa.update(_delivery)
                .where(_delivery.c.id == existing, _delivery.c.state == DeliveryState.PENDING)
                .values(
                    up_to_change_id=up_to,
                    # Never later than it already was (a retry after a 429 keeps its time).
                    next_attempt_at=sa.case(
                        (_delivery.c.next_attempt_at < not_before, _delivery.c.next_attempt_at),
                        else_=not_before,
                    ),
                    updated_at=now,
                )
            ).rowcount
            if extended:
                written += 1
                continue
        new_rows.append(
            _new_delivery(
                follower.id,
                DeliveryKind.ALERT,
                now,
                now,
                next_attempt_at=not_before,
                after_change_id=after,
                up_to_change_id=up_to,
            )
        )
    if new_rows:
        connection.execute(insert_ignoring_duplicates(connection, _delivery), new_rows)
    return written + len(new_rows)


# --- Claiming and recording ---------------------------------------------------------------


def claim(engine: Engine, *, now: datetime, limit: int, lease_seconds: int) -> list[Claim]:
    """Take up to `limit` deliveries that are due, or whose sender's lease ran out."""
    lease_until = now + timedelta(seconds=lease_seconds)
    with engine.begin() as connection:
        claimed: list[int] = []
        for state in (DeliveryState.PENDING, DeliveryState.SENDING):
            if len(claimed) >= limit:
                break
            # One statement picks and takes the rows, so no other sender can take them in
            # between: SQLite writes one statement at a time, PostgreSQL locks what the
            # subquery picked (and skips rows another instance is taking). The rows are
            # picked through the state index and updated by primary key.
            due = (
                sa.select(_delivery.c.id)
                .where(_delivery.c.state == state, _delivery.c.next_attempt_at <= now)
                .order_by(_delivery.c.next_attempt_at, _delivery.c.id)
                .limit(limit - len(claimed))
                .with_for_update(skip_locked=True)
            )
            claimed += (
                connection.execute(
                    sa.update(_delivery)
                    .where(_delivery.c.id.in_(due.scalar_subquery()))
                    .values(
                        state=DeliveryState.SENDING,
                        attempts=_delivery.c.attempts + 1,
                        next_attempt_at=lease_until,
                        updated_at=now,
                    )
                    .returning(_delivery.c.id)
                )
                .scalars()
                .all()
            )
        if not claimed:
            return []
        rows = connection.execute(
            sa.select(_delivery, _subscriber, _chat_language.c.language)
            .join(_subscriber, _subscriber.c.id == _delivery.c.subscriber_id)
            .outerjoin(_chat_language, _chat_language.c.chat_id == _subscriber.c.chat_id)
            .where(_delivery.c.id.in_(claimed))
            .order_by(_delivery.c.due_at, _delivery.c.id)
        ).all()
    return [_claim_of(row._mapping) for row in rows]


def _claim_of(row: Any) -> Claim:
    d, s = _delivery.c, _subscriber.c
    return Claim(
        delivery_id=row[d.id],
        kind=DeliveryKind(row[d.kind]),
        due_at=row[d.due_at],
        attempts=row[d.attempts],
        parts_sent=row[d.parts_sent],
        since=row[d.since],
        after_change_id=row[d.after_change_id],
        up_to_change_id=row[d.up_to_change_id],
        subscriber_id=row[s.id],
        chat_id=row[s.chat_id],
        chat_type=row[s.chat_type],
        active=row[s.active],
        deactivated_reason=row[s.deactivated_reason],
        topics=frozenset(Topic(topic) for topic in row[s.topics] or ()),
        frequency=Frequency(row[s.frequency]),
        include_chart=row[s.include_chart],
        news_scope=NewsScope(row[s.news_scope]),
        language=Language(row[_chat_language.c.language] or DEFAULT_LANGUAGE),
    )


def _update(engine: Engine, delivery_id: int, **values: Any) -> None:
    with engine.begin() as connection:
        connection.execute(
            sa.update(_delivery).where(_delivery.c.id == delivery_id).values(**values)
        )


def record_sent_part(
    engine: Engine,
    claim: Claim,
    *,
    parts_sent: int,
    total: int,
    message_id: int | None,
    now: datetime,
) -> None:
    """Record one message as sent, at once: this is what keeps a resumed run from repeating it."""
    done = parts_sent >= total
    values: dict[str, Any] = {"parts_sent": parts_sent, "updated_at": now}
    if message_id is not None and parts_sent == 1:
        values["message_id"] = message_id
    if done:
        values.update(state=DeliveryState.SENT, sent_at=now, next_attempt_at=None)
    _update(engine, claim.delivery_id, **values)


def release(
    engine: Engine,
    claims: Iterable[Claim],
    *,
    not_before: datetime,
    now: datetime,
    count_attempt: bool = False,
) -> None:
    """Give claims back unsent (a 429, a shutdown): they wait until `not_before`."""
    ids = [claim.delivery_id for claim in claims]
    if not ids:
        return
    attempts = _delivery.c.attempts if count_attempt else _delivery.c.attempts - 1
    with engine.begin() as connection:
        connection.execute(
            sa.update(_delivery)
            .where(_delivery.c.id.in_(ids), _delivery.c.state == DeliveryState.SENDING)
            .values(
                state=DeliveryState.PENDING,
                attempts=attempts,
                next_attempt_at=not_before,
                updated_at=now,
            )
        )


def retry_later(engine: Engine, claim: Claim, *, error: str, now: datetime) -> DeliveryState:
    """A transient failure: back off and retry, or give up after MAX_ATTEMPTS."""
    if claim.attempts >= MAX_ATTEMPTS:
        fail(engine, claim, error=error, now=now)
        return DeliveryState.FAILED
    wait = BACKOFF_SECONDS[min(claim.attempts, len(BACKOFF_SECONDS)) - 1]
    _update(
        engine,
        claim.delivery_id,
        state=DeliveryState.PENDING,
        next_attempt_at=now + timedelta(seconds=wait),
        last_error=error[:1000],
        updated_at=now,
    )
    return DeliveryState.PENDING


def fail(engine: Engine, claim: Claim, *, error: str, now: datetime) -> None:
    _update(
        engine,
        claim.delivery_id,
        state=DeliveryState.FAILED,
        next_attempt_at=None,
        last_error=error[:1000],
        updated_at=now,
    )


def block(engine: Engine, claim: Claim, *, reason: str, now: datetime) -> None:
    """The chat is gone for us (blocked, kicked, deleted): never retried, subscriber inactive."""
    with session_scope(engine) as session:
        chat_id = session.exec(
            select(Subscriber.chat_id).where(Subscriber.id == claim.subscriber_id)
        ).one()
        subscriptions.deactivate(session, chat_id=chat_id, reason=reason, now=now)
    _update(
        engine,
        claim.delivery_id,
        state=DeliveryState.BLOCKED,
        next_attempt_at=None,
        last_error=reason[:1000],
        updated_at=now,
    )


def move_chat(engine: Engine, *, old_chat_id: int, new_chat_id: int) -> None:
    """A group became a supergroup while we were sending to it: follow it to its new id."""
    with session_scope(engine) as session:
        subscriptions.migrate_chat(session, old_chat_id=old_chat_id, new_chat_id=new_chat_id)


# --- Reporting ----------------------------------------------------------------------------


def counts_by_state(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        rows: Sequence[Any] = connection.execute(
            sa.select(_delivery.c.state, sa.func.count()).group_by(_delivery.c.state)
        ).all()
    return {str(state): count for state, count in rows}


def count_due(engine: Engine, *, now: datetime) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                sa.select(sa.func.count()).where(_subscriber.c.next_digest_at <= now)
            ).scalar_one()
        )


def due_backlog(engine: Engine, *, now: datetime) -> int:
    """What is owed right now: due digests not yet scheduled, plus deliveries whose (next)
    attempt time has come, or whose sender's lease ran out."""
    unscheduled = sa.select(sa.func.count()).where(_subscriber.c.next_digest_at <= now)
    waiting = sa.select(sa.func.count()).where(
        _delivery.c.state.in_((DeliveryState.PENDING, DeliveryState.SENDING)),
        _delivery.c.next_attempt_at <= now,
    )
    with engine.connect() as connection:
        return sum(int(connection.execute(query).scalar_one()) for query in (unscheduled, waiting))
