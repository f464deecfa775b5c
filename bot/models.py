"""SQLModel tables: the sourced records, their history, and the delivery bookkeeping.

Conventions:
- Every record a reader sees points at a `Source` and carries `as_of`, the date its content
  was current according to that source.
- Records that editors change carry `updated_by` (an actor: "seed", "import", "cli" or
  "tg:<user id>"), `updated_at` and `version` (for the optimistic check of concurrent edits).
- Timestamps are timezone-aware UTC on every backend (`UTCDateTime`); Telegram ids are BigInteger.
- Vocabularies are stored as short strings and validated by SQLAlchemy's non-native `Enum`, so a
  new status value needs no database type migration.

One module a little over 500 lines: every table in one place is how migrations are checked
against the models (autogenerate) and how the schema is read.
"""

# No `from __future__ import annotations`: SQLModel reads the annotations at class creation.

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from bot.partial_date import PartialDate
from bot.vocabulary import (
    DealStatus,
    DeliveryKind,
    DeliveryState,
    Direction,
    FlightStatus,
    Frequency,
    Granularity,
    Language,
    NewsScope,
    NewsState,
    PassStatus,
    Quantity,
    RecordType,
    Role,
    Series,
    Stage,
    Topic,
)

# Constraint names are explicit so migrations can address them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_event_key() -> str:
    return f"change-{uuid.uuid4().hex}"


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp that always comes back as UTC (SQLite drops the offset)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass a timezone-aware value")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Amount(TypeDecorator[Decimal]):
    """A money figure in USD billions, read back as the exact Decimal that was reported.

    SQLite has no decimal type; values with up to three decimals survive its REAL storage, and
    `Decimal(str(float))` recovers the shortest exact text ("99.2", not "99.200000001").
    Trailing zeros are dropped, so 99.20 reads back as 99.2 everywhere.
    """

    impl = sa.Numeric(14, 3, asdecimal=False)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Decimal | None:
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        # One canonical form on every backend: PostgreSQL says 37.000, SQLite 37.
        amount = Decimal(str(value))
        return amount.quantize(Decimal(1)) if amount == amount.to_integral() else amount.normalize()


class PartialDateType(TypeDecorator[PartialDate]):
    """A `PartialDate` stored as its ISO prefix ("1992", "2022-12", "2020-04-22")."""

    impl = sa.String(10)
    cache_ok = True

    def process_bind_param(self, value: PartialDate | None, dialect: Dialect) -> str | None:
        return None if value is None else value.isoformat()

    def process_result_value(self, value: str | None, dialect: Dialect) -> PartialDate | None:
        return None if value is None else PartialDate.parse(value)


def _enum(enum: type[StrEnum]) -> sa.Enum:
    return sa.Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


def enum_column(enum: type[StrEnum], *, index: bool = False) -> Any:
    return Field(sa_type=cast(Any, _enum(enum)), index=index)


def utc_column(*, index: bool = False, default: bool = False) -> Any:
    # Nullability follows the annotation (`datetime | None`), as for every sa_type column.
    if default:
        return Field(default_factory=utcnow, sa_type=UTCDateTime, index=index)
    return Field(default=None, sa_type=UTCDateTime, index=index)


def partial_date_column() -> Any:
    return Field(default=None, sa_type=PartialDateType)


def amount_column() -> Any:
    return Field(default=None, sa_type=Amount)


def json_list_column() -> Any:
    return Field(default_factory=list, sa_type=sa.JSON)


def json_object_column() -> Any:
    # none_as_null: a missing object is SQL NULL, not the JSON text 'null'.
    return Field(default=None, sa_type=sa.JSON(none_as_null=True))


def telegram_id_column(*, unique: bool = False, optional: bool = False) -> Any:
    if optional:
        return Field(default=None, sa_type=sa.BigInteger, unique=unique)
    return Field(sa_type=sa.BigInteger, unique=unique)


class Source(SQLModel, table=True):
    """A published page or document that records cite."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64, unique=True)
    title: str = Field(max_length=300)
    publisher: str = Field(max_length=200)
    url: str | None = Field(default=None, max_length=500)
    published_on: PartialDate | None = partial_date_column()
    note: str | None = Field(default=None, max_length=1000)
    created_at: datetime = utc_column(default=True)


class EditableRecord(SQLModel):
    """Columns every editable, sourced record shares (a mixin, not a table)."""

    id: int | None = Field(default=None, primary_key=True)
    note: str | None = Field(default=None, max_length=2000)
    # Each reader-facing text has its Hindi beside it (`<column>_hi`, see
    # bot.services.bilingual), with room for Hindi's longer spelling of the same words.
    note_hi: str | None = Field(default=None, max_length=3000)
    source_id: int = Field(foreign_key="source.id", index=True)
    # As precise as the source: "Dec 2022" stays a month (see bot.partial_date).
    as_of: PartialDate = Field(sa_type=PartialDateType)
    updated_by: str = Field(max_length=32)
    updated_at: datetime = utc_column(default=True)
    version: int = Field(default=1)


class TradeFigure(EditableRecord, table=True):
    """One period of one series. Only reported values are stored; the rest are derived.

    Any two of exports, imports, total and deficit determine the other two, so e.g. FY2017-18's
    imports are computed from its exports and deficit (see `bot.services.trade`).
    """

    __tablename__ = "trade_figure"
    __table_args__ = (
        sa.UniqueConstraint("series", "period"),
        sa.CheckConstraint("period_end >= period_start", name="period_order"),
    )

    series: Series = enum_column(Series)
    # "FY2024-25" or "2025" (a year), "2025-04/2026-01" (the year so far), "2025-10" (a
    # month): see bot.trade_periods.
    period: str = Field(max_length=16)
    period_start: date
    period_end: date
    # Whole years, years so far and months are read apart: an answer about one never
    # silently uses another (bot.services.trade).
    granularity: Granularity = Field(
        default=Granularity.YEAR, sa_type=cast(Any, _enum(Granularity))
    )
    # Anything but a whole year; a partial period is never compared with a full one.
    partial: bool = False
    coverage: str | None = Field(default=None, max_length=64)
    stage: Stage = enum_column(Stage)
    exports: Decimal | None = amount_column()
    imports: Decimal | None = amount_column()
    total: Decimal | None = amount_column()
    deficit: Decimal | None = amount_column()
    # Growth as the source reported it (vs the same period a year earlier), in per cent.
    exports_growth_pct: Decimal | None = amount_column()
    imports_growth_pct: Decimal | None = amount_column()
    total_growth_pct: Decimal | None = amount_column()


class FigureReport(SQLModel, table=True):
    """Another source's value for one quantity of a trade figure, kept so disagreements show.

    E.g. seed article 003 gives India's 2025 exports to China as 20.5 where Chinese customs'
    own parts give 19.75.
    """

    __tablename__ = "figure_report"
    __table_args__ = (sa.UniqueConstraint("trade_figure_id", "quantity", "source_id"),)

    id: int | None = Field(default=None, primary_key=True)
    trade_figure_id: int = Field(foreign_key="trade_figure.id", index=True)
    quantity: Quantity = enum_column(Quantity)
    value: Decimal = Field(sa_type=Amount)
    source_id: int = Field(foreign_key="source.id")
    note: str | None = Field(default=None, max_length=1000)
    note_hi: str | None = Field(default=None, max_length=1500)


class TradeComposition(EditableRecord, table=True):
    """One product group's part of India's imports from or exports to China in one period:
    "electronics, USD 38 bn of India's imports in January–October 2025".

    `series` names whose data it is (India's Ministry of Commerce or Chinese customs); the
    period is as reported, which may be calendar months of India's data. Only reported values
    are stored: a share or growth rate the bot computes is derived on read
    (`bot.services.composition`).
    """

    __tablename__ = "trade_composition"
    __table_args__ = (
        sa.UniqueConstraint("series", "period", "flow", "product_group"),
        sa.CheckConstraint("period_end >= period_start", name="period_order"),
    )

    key: str = Field(max_length=64, unique=True)
    series: Series = enum_column(Series)
    period: str = Field(max_length=16)  # as bot.trade_periods labels it
    period_start: date
    period_end: date
    flow: Quantity = enum_column(Quantity)  # imports or exports
    product_group: str = Field(max_length=100)
    value: Decimal | None = amount_column()  # USD bn
    # Of the flow in the period, in per cent, as reported.
    share_pct: Decimal | None = amount_column()
    # Against the same months a year earlier, in per cent, as reported.
    growth_pct: Decimal | None = amount_column()


class BorderPass(EditableRecord, table=True):
    __tablename__ = "border_pass"

    slug: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=100)
    aliases: list[str] = json_list_column()
    region: str = Field(max_length=200)
    indian_mart: str | None = Field(default=None, max_length=200)
    counterpart_mart: str | None = Field(default=None, max_length=200)
    trade_since: PartialDate | None = partial_date_column()
    season: str | None = Field(default=None, max_length=300)
    season_hi: str | None = Field(default=None, max_length=450)
    status: PassStatus = enum_column(PassStatus)
    status_since: PartialDate | None = partial_date_column()
    expected_reopening: PartialDate | None = partial_date_column()
    # The latest announced trading season (e.g. Jun-Sep 2026), as precise as reported.
    season_start: PartialDate | None = partial_date_column()
    season_end: PartialDate | None = partial_date_column()


class CommodityDeal(EditableRecord, table=True):
    __tablename__ = "commodity_deal"

    slug: str = Field(max_length=64, unique=True)
    commodity: str = Field(max_length=100)
    category: str = Field(max_length=64)
    aliases: list[str] = json_list_column()
    direction: Direction = enum_column(Direction)
    status: DealStatus = enum_column(DealStatus)
    status_since: PartialDate | None = partial_date_column()
    # When the status, or the terms it rests on, is announced to end (a pause for a year, a
    # halt for two months), and what ends then when it is not the status itself.
    status_until: PartialDate | None = partial_date_column()
    until_note: str | None = Field(default=None, max_length=300)
    until_note_hi: str | None = Field(default=None, max_length=450)


class FlightRoute(EditableRecord, table=True):
    __tablename__ = "flight_route"

    slug: str = Field(max_length=64, unique=True)
    route: str = Field(max_length=100)
    aliases: list[str] = json_list_column()
    airline: str = Field(max_length=100)
    flight_number: str | None = Field(default=None, max_length=16)
    frequency: str | None = Field(default=None, max_length=64)
    frequency_hi: str | None = Field(default=None, max_length=100)
    status: FlightStatus = enum_column(FlightStatus)
    since: PartialDate | None = partial_date_column()
    # An announced route's first flight.
    starts_on: PartialDate | None = partial_date_column()


class ContextNote(EditableRecord, table=True):
    """A sourced statement that is neither a figure nor a status: context the bot can quote."""

    __tablename__ = "context_note"

    key: str = Field(max_length=64, unique=True)
    topic: Topic = enum_column(Topic, index=True)
    # The record it is about, as "pass:nathu-la"; None for the relationship as a whole.
    subject: str | None = Field(default=None, max_length=80, index=True)
    text: str = Field(max_length=2000)
    text_hi: str | None = Field(default=None, max_length=3000)
    occurred_on: PartialDate | None = partial_date_column()


class StatusChange(SQLModel, table=True):
    """History and audit log in one: what changed, when it happened, who recorded it.

    A row with `field` None is an event on the record's timeline that changed no field
    (e.g. "MEA says India is engaged with China on resuming border trade").
    """

    __tablename__ = "status_change"
    __table_args__ = (sa.Index("ix_status_change_record", "record_type", "record_key", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    # Stable identity: loading the same seeded, imported or exported row twice adds nothing.
    event_key: str | None = Field(default_factory=new_event_key, max_length=120, unique=True)
    record_type: RecordType = enum_column(RecordType)
    record_key: str = Field(max_length=64)
    field: str | None = Field(default=None, max_length=64)
    old_value: str | None = Field(default=None, max_length=2000)
    new_value: str | None = Field(default=None, max_length=2000)
    note: str | None = Field(default=None, max_length=2000)
    note_hi: str | None = Field(default=None, max_length=3000)
    source_id: int | None = Field(default=None, foreign_key="source.id")
    occurred_on: PartialDate | None = partial_date_column()
    actor: str = Field(max_length=32)
    at: datetime = utc_column(default=True, index=True)
    # The rows one edit wrote share a batch; an undo writes a new batch that `reverts` it.
    batch: str | None = Field(default=None, max_length=32, index=True)
    reverts: str | None = Field(default=None, max_length=32, index=True)
    # The record's bookkeeping (source_id, as_of, updated_by, updated_at) before and after the
    # write this row belongs to: what an undo restores, and what replaying the history sets.
    # NULL on rows that changed no record: a file's own history, role changes.
    bookkeeping_before: dict[str, Any] | None = json_object_column()
    bookkeeping_after: dict[str, Any] | None = json_object_column()


class EditDraft(SQLModel, table=True):
    """An edit an editor has started in Telegram but not confirmed yet.

    Kept in the database, so a confirm button still works after a restart or on another
    instance; past `expires_at` it is refused as expired.
    """

    __tablename__ = "edit_draft"

    id: str = Field(primary_key=True, max_length=16)
    user_id: int = telegram_id_column()
    chat_id: int = telegram_id_column()
    kind: str = Field(max_length=16)  # "set", "figure", "source", "import", "guided"
    stage: str = Field(
        max_length=16
    )  # where a guided edit is: "value", "note", "note_hi", "source", "preview"
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    created_at: datetime = utc_column(default=True)
    expires_at: datetime = utc_column(index=True)


class Admin(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = telegram_id_column(unique=True)
    role: Role = enum_column(Role)
    added_by: int | None = telegram_id_column(optional=True)
    added_at: datetime = utc_column(default=True)
    # Whether new matched news items reach this owner or editor for review.
    news_reviews: bool = True


class Subscriber(SQLModel, table=True):
    """A chat that receives digests and alerts.

    Invariant: `next_digest_at` is NULL unless the subscriber is active with a digest frequency,
    so the minutely tick is an index range scan over due rows only.
    """

    __table_args__ = (
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        sa.CheckConstraint("local_hour BETWEEN 0 AND 23", name="local_hour_range"),
    )

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = telegram_id_column(unique=True)
    chat_type: str = Field(max_length=16)
    title: str | None = Field(default=None, max_length=256)
    frequency: Frequency = enum_column(Frequency)
    weekday: int = Field(default=0, ge=0, le=6)  # Monday = 0
    local_hour: int = Field(default=9, ge=0, le=23)
    timezone: str = Field(max_length=64)
    topics: list[str] = json_list_column()
    alerts_enabled: bool = True
    quiet_hours: bool = True  # hold alerts between 22:00 and 07:00 local
    include_chart: bool = False  # the trade chart after the digest text
    # Which news the digest's "In the news" carries (see NewsScope).
    news_scope: NewsScope = Field(default=NewsScope.PUBLISHED, sa_type=cast(Any, _enum(NewsScope)))
    active: bool = True
    deactivated_reason: str | None = Field(default=None, max_length=200)
    # Who subscribed a channel or group (a Telegram user id); None for a private chat.
    added_by: int | None = telegram_id_column(optional=True)
    next_digest_at: datetime | None = utc_column(index=True)
    last_digest_at: datetime | None = utc_column()
    created_at: datetime = utc_column(default=True)
    updated_at: datetime = utc_column(default=True)


class ChatLanguage(SQLModel, table=True):
    """The language a chat chose with /language (a group's or channel's by its administrators),
    or, for a private chat that subscribed without choosing, its user's Telegram language then.

    A chat with no row is answered in its user's Telegram language, else English; digests and
    alerts go out in the row's language, else English. Kept apart from `Subscriber`: a chat
    that never subscribes may choose a language too.
    """

    __tablename__ = "chat_language"

    chat_id: int = Field(
        sa_type=sa.BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    language: Language = enum_column(Language)
    updated_at: datetime = utc_column(default=True)


class Delivery(SQLModel, table=True):
    """One message owed to one subscriber: a digest for a due time, or an alert batch.

    The unique key makes a second copy impossible, whichever instance or restart tries.
    """

    __table_args__ = (
        sa.UniqueConstraint("subscriber_id", "kind", "due_at"),
        sa.Index("ix_delivery_state_next_attempt", "state", "next_attempt_at"),
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subscriber_id: int = Field(foreign_key="subscriber.id")
    kind: DeliveryKind = enum_column(DeliveryKind)
    due_at: datetime = Field(sa_type=UTCDateTime)
    state: DeliveryState = enum_column(DeliveryState)
    attempts: int = 0
    # Pending: not before this moment (a retry's backoff, a 429, quiet hours).
    # Sending: the claim's lease; past it, the claimant is presumed dead and the row is resumed.
    next_attempt_at: datetime | None = utc_column()
    # A digest reports what changed after `since` (the previous digest's due time).
    since: datetime | None = utc_column()
    # An alert reports the history rows with after_change_id < id <= up_to_change_id.
    after_change_id: int | None = None
    up_to_change_id: int | None = None
    # A long digest is several messages: a resumed delivery continues after the last sent part.
    parts_sent: int = 0
    message_id: int | None = telegram_id_column(optional=True)
    last_error: str | None = Field(default=None, max_length=1000)
    created_at: datetime = utc_column(default=True)
    updated_at: datetime = utc_column(default=True)
    sent_at: datetime | None = utc_column()


class DispatchCursor(SQLModel, table=True):
    """How far a dispatcher has read the history (`status_change.id`): alerts resume from here.

    Its row is locked while alerts are written, so two instances never alert the same change.
    """

    __tablename__ = "dispatch_cursor"

    name: str = Field(primary_key=True, max_length=32)
    position: int = 0
    updated_at: datetime = utc_column(default=True)


class Feed(SQLModel, table=True):
    """A public RSS or Atom feed the bot polls for news.

    Invariant: `next_poll_at` is NULL once the feed is disabled (`disabled_reason` set), so the
    poller's due scan walks its index over live feeds only.
    """

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=2000, unique=True)
    name: str = Field(max_length=200)
    added_by: str = Field(max_length=32)
    added_at: datetime = utc_column(default=True)
    # Conditional GET: what the server said last time, sent back so it can answer 304.
    etag: str | None = Field(default=None, max_length=500)
    last_modified: str | None = Field(default=None, max_length=100)
    next_poll_at: datetime | None = utc_column(index=True)
    # A poller's lease on the feed (as deliveries are claimed); past it another may poll.
    claimed_until: datetime | None = utc_column()
    consecutive_failures: int = 0
    last_error: str | None = Field(default=None, max_length=500)
    last_polled_at: datetime | None = utc_column()
    last_success_at: datetime | None = utc_column()
    disabled_reason: str | None = Field(default=None, max_length=200)
    # Hashes of the entries already read (matched or not), newest first and bounded: an entry
    # that matched nothing is remembered here only, and an edited one hashes differently.
    seen: list[str] = json_list_column()


class NewsItem(SQLModel, table=True):
    """A published article that concerns the bot's topics, found in a feed.

    One row per canonical URL, so the same story in two feeds is one item. Items that matched
    nothing are never stored (only their hash, in the feed's `seen`).
    """

    __tablename__ = "news_item"
    __table_args__ = (sa.Index("ix_news_item_state_published", "state", "published_at"),)

    id: int | None = Field(default=None, primary_key=True)
    # A removed feed leaves its items (editors may have published them).
    feed_id: int | None = Field(default=None, foreign_key="feed.id", ondelete="SET NULL")
    guid: str = Field(max_length=500)
    url: str = Field(max_length=2000, unique=True)
    title: str = Field(max_length=500)
    summary: str = Field(default="", max_length=1000)
    publisher: str = Field(max_length=200)
    # When the publisher dated it: the fetch time when the feed gives none, never the future.
    published_at: datetime = Field(sa_type=UTCDateTime)
    fetched_at: datetime = utc_column(default=True)
    updated_at: datetime = utc_column(default=True)
    # Of the title and summary: a change means the item was edited at the source.
    content_hash: str = Field(max_length=32)
    topics: list[str] = json_list_column()
    # The records it may change, as "pass:nathu-la", "deal:urea", "series:india_fy".
    records: list[str] = json_list_column()
    why: str = Field(max_length=500)
    state: NewsState = enum_column(NewsState)
    state_by: str | None = Field(default=None, max_length=32)
    state_at: datetime | None = utc_column()
    # When it went to editors for review (NULL: not yet), so each item is offered once.
    offered_at: datetime | None = utc_column(index=True)
