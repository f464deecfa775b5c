"""The dataset format: one schema for the bundled seed data, `export` and `import`.

The bundled data in `bot/data/*.yaml` and an `export --format json` backup are the same
structure, so whatever the bot exports it can read back. Records refer to sources by `key`,
history rows refer to records by (record_type, record_key), and news items refer to their
feed by its URL. The bundled data has no feeds or news (the default feeds are a list of their
own, `bot/data/feeds/`); the sections are optional, so files written before them still read.

Over 500 lines: one item model per section and the cross-section reference checks belong to one
schema that readers must see whole; splitting the items from the references is the next step.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, Self

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.partial_date import PartialDate
from bot.services.bilingual import (
    TEXT_COLUMNS,
    Coverage,
    english_of,
    is_hindi,
    normalise_hindi,
    text_pairs,
)
from bot.services.feeds.urls import canonical_url, check_scheme
from bot.trade_periods import Period, label_of, read_period, read_span
from bot.vocabulary import (
    HISTORY_RECORD_TYPES,
    DealStatus,
    Direction,
    FlightStatus,
    Granularity,
    NewsState,
    PassStatus,
    Quantity,
    RecordType,
    Series,
    Stage,
    Topic,
)

# Feeds and news were added as optional sections: older files read as they are, and an older
# bot refuses a file that has them by naming the unknown section.
FORMAT_VERSION = 1
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


class DatasetError(Exception):
    """The dataset cannot be read; the message says where and what."""


class _Item(BaseModel):
    """Every item of a section. A field named `<field>_hi` is the Hindi text of `<field>`
    (see bot.services.bilingual): stored in NFC, empty is none, and never without the English
    text it translates."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _hindi_as_stored(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        hindi = {
            name: (normalise_hindi(value.strip()) or None)
            for name, value in data.items()
            if isinstance(name, str) and is_hindi(name) and isinstance(value, str)
        }
        return {**data, **hindi} if hindi else data

    @model_validator(mode="after")
    def _hindi_translates_english(self) -> Self:
        for name in type(self).model_fields:
            if is_hindi(name) and getattr(self, name) and not getattr(self, english_of(name)):
                raise ValueError(
                    f"{name} is the Hindi of {english_of(name)}, which is empty: "
                    f"give {english_of(name)} too"
                )
        return self


class SourceItem(_Item):
    key: str = Field(pattern=SLUG_PATTERN, max_length=64)
    title: str = Field(min_length=1, max_length=300)
    publisher: str = Field(min_length=1, max_length=200)
    url: str | None = Field(default=None, pattern=r"^https?://", max_length=500)
    published_on: PartialDate | None = None
    note: str | None = Field(default=None, max_length=1000)


class _Sourced(_Item):
    source: str = Field(description="key of a source")
    as_of: PartialDate
    note: str | None = Field(default=None, max_length=2000)
    note_hi: str | None = Field(default=None, max_length=3000)
    # Who last changed the record; absent in the bundled data (the seed owns it).
    updated_by: str | None = Field(default=None, max_length=32)
    updated_at: datetime | None = None


class FigureReportItem(_Item):
    quantity: Quantity
    value: Decimal = Field(gt=0)
    source: str
    note: str | None = Field(default=None, max_length=1000)
    note_hi: str | None = Field(default=None, max_length=1500)


class TradeFigureItem(_Sourced):
    series: Series
    period: str = Field(max_length=16)
    period_start: date
    period_end: date
    # Both follow from the period's label; a file may leave them out.
    granularity: Granularity | None = None
    partial: bool | None = None
    coverage: str | None = Field(default=None, max_length=64)
    stage: Stage
    exports: Decimal | None = Field(default=None, gt=0)
    imports: Decimal | None = Field(default=None, gt=0)
    total: Decimal | None = Field(default=None, gt=0)
    deficit: Decimal | None = None
    exports_growth_pct: Decimal | None = None
    imports_growth_pct: Decimal | None = None
    total_growth_pct: Decimal | None = None
    reports: tuple[FigureReportItem, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _part_of_a_year(cls, data: Any) -> Any:
        """A file written before periods had labels of their own gave a year so far as its
        year's label with `partial` set (FY2025-26 for April–December): read it as the year so
        far it is, as the migration of the database does."""
        if not isinstance(data, dict) or "/" in str(data.get("period", "")):
            return data
        if str(data.get("partial", "")).strip().lower() not in ("true", "1", "yes"):
            return data  # a whole year (CSV cells are text: "false" is false)
        try:
            series = Series(data["series"])
            start = _date(data["period_start"])
            end = _date(data["period_end"])
            year = read_period(series, str(data["period"]))
        except (KeyError, TypeError, ValueError):
            return data  # the field validators say what is wrong
        if year.granularity is not Granularity.YEAR:
            return data
        label = label_of(series, Period(Granularity.CUMULATIVE, start, end))
        return {**data, "period": label, "granularity": Granularity.CUMULATIVE.value}

    @model_validator(mode="after")
    def _period_matches_series(self) -> Self:
        period = read_period(self.series, self.period)  # ValueError: the forms it takes
        if (self.period_start, self.period_end) != (period.start, period.end):
            raise ValueError(
                f"period {self.period!r} runs from {period.start} to {period.end}, "
                f"not from {self.period_start} to {self.period_end}"
            )
        if self.granularity is not None and self.granularity is not period.granularity:
            raise ValueError(
                f"period {self.period!r} is a {period.granularity.value}, "
                f"not a {self.granularity.value}"
            )
        partial = period.granularity is not Granularity.YEAR
        if self.partial is not None and self.partial != partial:
            raise ValueError(
                "partial is true for a month or a year so far, and false for a whole year"
            )
        # The model is frozen; these two are settled here, once, from the period.
        object.__setattr__(self, "granularity", period.granularity)
        object.__setattr__(self, "partial", partial)
        if not any((self.exports, self.imports, self.total, self.deficit)):
            raise ValueError("a trade figure needs one of exports, imports, total or deficit")
        return self

    @property
    def key(self) -> str:
        return figure_key(self.series, self.period)


def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def figure_key(series: Series, period: str) -> str:
    """The record key of a trade figure in history rows, e.g. 'india_fy:FY2024-25'."""
    return f"{series.value}:{period}"


class BorderPassItem(_Sourced):
    slug: str = Field(pattern=SLUG_PATTERN, max_length=64)
    name: str = Field(min_length=1, max_length=100)
    aliases: tuple[str, ...] = ()
    region: str = Field(min_length=1, max_length=200)
    indian_mart: str | None = None
    counterpart_mart: str | None = None
    trade_since: PartialDate | None = None
    season: str | None = Field(default=None, max_length=300)
    season_hi: str | None = Field(default=None, max_length=450)
    status: PassStatus
    status_since: PartialDate | None = None
    expected_reopening: PartialDate | None = None
    # The latest announced trading season, e.g. 2026-06 to 2026-09.
    season_start: PartialDate | None = None
    season_end: PartialDate | None = None

    @model_validator(mode="after")
    def _season_in_order(self) -> Self:
        start, end = self.season_start, self.season_end
        if start is not None and end is not None and end.latest < start.earliest:
            raise ValueError("season_end is before season_start")
        return self

    @property
    def key(self) -> str:
        return self.slug


class CommodityDealItem(_Sourced):
    slug: str = Field(pattern=SLUG_PATTERN, max_length=64)
    commodity: str = Field(min_length=1, max_length=100)
    category: str = Field(min_length=1, max_length=64)
    aliases: tuple[str, ...] = ()
    direction: Direction
    status: DealStatus
    status_since: PartialDate | None = None
    # When the status (or, named by `until_note`, the terms it rests on) is announced to end.
    status_until: PartialDate | None = None
    until_note: str | None = Field(default=None, max_length=300)
    until_note_hi: str | None = Field(default=None, max_length=450)

    @property
    def key(self) -> str:
        return self.slug


class FlightRouteItem(_Sourced):
    slug: str = Field(pattern=SLUG_PATTERN, max_length=64)
    route: str = Field(min_length=1, max_length=100)
    aliases: tuple[str, ...] = ()
    airline: str = Field(min_length=1, max_length=100)
    flight_number: str | None = Field(default=None, max_length=16)
    frequency: str | None = Field(default=None, max_length=64)
    frequency_hi: str | None = Field(default=None, max_length=100)
    status: FlightStatus
    since: PartialDate | None = None
    starts_on: PartialDate | None = None  # an announced route's first flight

    @property
    def key(self) -> str:
        return self.slug


class ContextNoteItem(_Sourced):
    key: str = Field(pattern=SLUG_PATTERN, max_length=64)
    topic: Topic
    subject: str | None = Field(default=None, max_length=80)
    text: str = Field(min_length=1, max_length=2000)
    text_hi: str | None = Field(default=None, max_length=3000)
    occurred_on: PartialDate | None = None


class CompositionItem(_Sourced):
    """A product group's part of India's imports from or exports to China in one period."""

    key: str = Field(pattern=SLUG_PATTERN, max_length=64)
    series: Series  # whose data: India's Ministry of Commerce, or Chinese customs
    period: str = Field(max_length=16)
    # Both follow from the period's label; a file may leave them out.
    period_start: date | None = None
    period_end: date | None = None
    flow: Quantity
    product_group: str = Field(min_length=1, max_length=100)
    value: Decimal | None = Field(default=None, gt=0)
    share_pct: Decimal | None = Field(default=None, gt=0, le=100)
    growth_pct: Decimal | None = None

    @field_validator("flow")
    @classmethod
    def _a_flow(cls, value: Quantity) -> Quantity:
        if value not in (Quantity.IMPORTS, Quantity.EXPORTS):
            raise ValueError("a product group is part of imports or of exports")
        return value

    @model_validator(mode="after")
    def _period_and_a_figure(self) -> Self:
        period = read_span(self.period)
        given = (self.period_start, self.period_end)
        if given != (None, None) and given != (period.start, period.end):
            raise ValueError(
                f"period {self.period!r} runs from {period.start} to {period.end}, "
                f"not from {self.period_start} to {self.period_end}"
            )
        object.__setattr__(self, "period_start", period.start)
        object.__setattr__(self, "period_end", period.end)
        if self.value is None and self.share_pct is None:
            raise ValueError("a product group needs its value or its share")
        return self


class HistoryItem(_Item):
    """One row of a record's history: a field change, or (field absent) an event."""

    key: str = Field(min_length=1, max_length=120)
    record_type: RecordType
    record_key: str = Field(min_length=1, max_length=64)
    field: str | None = Field(default=None, max_length=64)
    old: str | None = None
    new: str | None = None
    note: str | None = Field(default=None, max_length=2000)
    note_hi: str | None = Field(default=None, max_length=3000)
    source: str | None = None
    occurred_on: PartialDate | None = None
    actor: str | None = Field(default=None, max_length=32)
    at: datetime | None = None

    @field_validator("record_type")
    @classmethod
    def _record_with_history(cls, value: RecordType) -> RecordType:
        if value not in HISTORY_RECORD_TYPES:
            kinds = [kind.value for kind in HISTORY_RECORD_TYPES]
            raise ValueError(f"{value.value!r} is not one of {_one_of(kinds)}")
        return value

    @model_validator(mode="after")
    def _field_or_note(self) -> Self:
        if self.field is None and not self.note:
            raise ValueError("a history event without a field needs a note")
        if self.field is not None and self.new is None:
            raise ValueError(f"a change of {self.field!r} needs a new value")
        return self


class FeedItem(_Item):
    """A feed the bot polls. Its polling state (ETag, next poll, failures) is not carried: a
    feed an import adds starts fresh, and one the database has keeps its own."""

    url: str = Field(max_length=2000)
    name: str = Field(min_length=1, max_length=200)
    enabled: bool = True
    disabled_reason: str | None = Field(default=None, max_length=200)
    # Who added it and when; kept for a feed the import adds (the import itself otherwise).
    added_by: str | None = Field(default=None, max_length=32)
    added_at: datetime | None = None

    @field_validator("url")
    @classmethod
    def _feed_address(cls, value: str) -> str:
        return check_scheme(value)  # as `feeds add` stores it: http(s), host lower-cased

    @model_validator(mode="after")
    def _reason_when_disabled(self) -> Self:
        if not self.enabled and not self.disabled_reason:
            raise ValueError("a feed that is not enabled needs a disabled_reason")
        if self.enabled and self.disabled_reason:
            raise ValueError(
                "an enabled feed has no disabled_reason: leave it empty or set enabled to false"
            )
        return self

    @property
    def key(self) -> str:
        return self.url


# The topics a news item can be about (a context note's "general" is not one).
NEWS_TOPICS = (Topic.TRADE, Topic.DEALS, Topic.PASSES, Topic.FLIGHTS)
# What a news item may change: "pass:nathu-la", "deal:urea", "flight:...", "series:india_fy".
_NEWS_RECORD = re.compile(
    r"^(?:(?:pass|deal|flight):[a-z0-9]+(?:-[a-z0-9]+)*|series:(?:india_fy|china_cy))$"
)


class NewsArticleItem(_Item):
    """A news item: the article, what it matched, and where the editors' review left it.

    Matched by its canonical URL (tracking parameters and fragment dropped), as the poller
    stores it, so the same story from a feed and from a file is one item.
    """

    url: str = Field(max_length=2000)
    guid: str | None = Field(default=None, max_length=500)  # none: the URL
    title: str = Field(default="", max_length=500)
    summary: str = Field(default="", max_length=1000)
    publisher: str = Field(max_length=200)
    published_at: datetime
    feed: str | None = Field(default=None, description="the URL of the feed it came from")
    topics: tuple[str, ...] = ()
    records: tuple[str, ...] = ()
    why: str = Field(default="", max_length=500)
    state: NewsState
    state_by: str | None = Field(default=None, max_length=32)
    state_at: datetime | None = None
    # When the bot found it; kept for an item the import adds (the import time otherwise).
    fetched_at: datetime | None = None

    @field_validator("url")
    @classmethod
    def _article_address(cls, value: str) -> str:
        return canonical_url(value)

    @field_validator("feed")
    @classmethod
    def _feed_address(cls, value: str | None) -> str | None:
        return None if value is None else check_scheme(value)

    @field_validator("topics")
    @classmethod
    def _news_topics(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        allowed = [topic.value for topic in NEWS_TOPICS]
        for topic in value:
            if topic not in allowed:
                raise ValueError(f"{topic!r} is not one of {_one_of(allowed)}")
        return tuple(dict.fromkeys(value))

    @field_validator("records")
    @classmethod
    def _record_keys(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for record in value:
            if not _NEWS_RECORD.match(record):
                raise ValueError(
                    f"{record!r} is not a record: write pass:SLUG, deal:SLUG, flight:SLUG, "
                    "series:india_fy or series:china_cy"
                )
        return tuple(dict.fromkeys(value))

    @model_validator(mode="after")
    def _review_has_a_time(self) -> Self:
        if self.state is NewsState.NEW and (self.state_at or self.state_by):
            raise ValueError("an item in state new has not been reviewed: no state_by or state_at")
        if self.state is not NewsState.NEW and self.state_at is None:
            raise ValueError(f"an item in state {self.state.value} needs state_at (when)")
        return self

    @property
    def key(self) -> str:
        return self.url


class Dataset(_Item):
    format_version: int = FORMAT_VERSION
    exported_at: datetime | None = None
    sources: tuple[SourceItem, ...] = ()
    trade_figures: tuple[TradeFigureItem, ...] = ()
    passes: tuple[BorderPassItem, ...] = ()
    deals: tuple[CommodityDealItem, ...] = ()
    flights: tuple[FlightRouteItem, ...] = ()
    notes: tuple[ContextNoteItem, ...] = ()
    composition: tuple[CompositionItem, ...] = ()
    history: tuple[HistoryItem, ...] = ()
    feeds: tuple[FeedItem, ...] = ()
    news: tuple[NewsArticleItem, ...] = ()

    @model_validator(mode="after")
    def _references_resolve(self) -> Self:
        problems: list[str] = []
        _unique("source key", (s.key for s in self.sources), problems)
        _unique("trade figure", (f.key for f in self.trade_figures), problems)
        _unique("pass slug", (p.slug for p in self.passes), problems)
        _unique("deal slug", (d.slug for d in self.deals), problems)
        _unique("flight slug", (f.slug for f in self.flights), problems)
        _unique("note key", (n.key for n in self.notes), problems)
        _unique("composition key", (c.key for c in self.composition), problems)
        _unique(
            "product group",
            (
                f"{c.series.value} {c.period} {c.flow.value} {c.product_group}"
                for c in self.composition
            ),
            problems,
        )
        _unique("history key", (h.key for h in self.history), problems)
        _unique("feed URL", (f.url for f in self.feeds), problems)
        _unique("news URL", (n.url for n in self.news), problems)

        sources = {s.key for s in self.sources}
        cited: list[tuple[str, str | None]] = []
        for figure in self.trade_figures:
            cited.append((f"trade figure {figure.key}", figure.source))
            cited.extend((f"report on {figure.key}", r.source) for r in figure.reports)
        for kind, items in (("pass", self.passes), ("deal", self.deals), ("flight", self.flights)):
            cited.extend((f"{kind} {item.key}", item.source) for item in items)
        cited.extend((f"note {n.key}", n.source) for n in self.notes)
        cited.extend((f"composition {c.key}", c.source) for c in self.composition)
        cited.extend((f"history {h.key}", h.source) for h in self.history)
        problems.extend(
            f"{where} cites unknown source {key!r}"
            for where, key in cited
            if key is not None and key not in sources
        )

        records = self.record_keys()
        problems.extend(
            f"history {h.key} points at unknown {h.record_type.value} {h.record_key!r}"
            for h in self.history
            if h.record_key not in records[h.record_type]
        )
        feeds = {feed.url for feed in self.feeds}
        problems.extend(
            f"news {n.url} comes from unknown feed {n.feed!r}"
            for n in self.news
            if n.feed is not None and n.feed not in feeds
        )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def hindi_coverage(self) -> Coverage:
        """How many of the texts readers see have a Hindi version (what `seed` reports)."""
        items: list[tuple[str, _Item, str]] = []  # (where, item, its table)
        for figure in self.trade_figures:
            items.append((f"trade figure {figure.key}", figure, "trade_figure"))
            items.extend(
                (f"report of {r.quantity.value} by {r.source} on {figure.key}", r, "figure_report")
                for r in figure.reports
            )
        items.extend((f"pass {p.key}", p, "border_pass") for p in self.passes)
        items.extend((f"deal {d.key}", d, "commodity_deal") for d in self.deals)
        items.extend((f"flight {f.key}", f, "flight_route") for f in self.flights)
        items.extend((f"note {n.key}", n, "context_note") for n in self.notes)
        items.extend((f"history {h.key}", h, "status_change") for h in self.history)
        return Coverage.of(
            triple
            for where, item, table in items
            for triple in text_pairs(where, item, TEXT_COLUMNS[table])
        )

    def record_keys(self) -> dict[RecordType, set[str]]:
        return {
            RecordType.SOURCE: {s.key for s in self.sources},
            RecordType.FIGURE: {f.key for f in self.trade_figures},
            RecordType.PASS: {p.slug for p in self.passes},
            RecordType.DEAL: {d.slug for d in self.deals},
            RecordType.FLIGHT: {f.slug for f in self.flights},
            RecordType.NOTE: {n.key for n in self.notes},
            RecordType.COMPOSITION: {c.key for c in self.composition},
        }


# The list sections of a dataset and the item each holds (CSV export writes one file each).
SECTION_ITEMS: dict[str, type[_Item]] = {
    "sources": SourceItem,
    "trade_figures": TradeFigureItem,
    "passes": BorderPassItem,
    "deals": CommodityDealItem,
    "flights": FlightRouteItem,
    "notes": ContextNoteItem,
    "composition": CompositionItem,
    "history": HistoryItem,
    "feeds": FeedItem,
    "news": NewsArticleItem,
}


def _one_of(values: list[str]) -> str:
    """ "a, b or c", as an unknown value of an enum is told."""
    return f"{', '.join(values[:-1])} or {values[-1]}"


def _unique(what: str, keys: Iterable[str], problems: list[str]) -> None:
    problems.extend(
        f"duplicate {what} {key!r}" for key, count in Counter(keys).items() if count > 1
    )


def bundled_data_dir() -> Path:
    return Path(str(resources.files("bot") / "data"))


def load_dataset_dir(folder: Path) -> Dataset:
    """Read every `*.yaml` file of a folder into one dataset (each file adds to the lists)."""
    merged: dict[str, list[Any]] = {}
    for path in sorted(folder.glob("*.yaml")):
        try:
            content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise DatasetError(f"{path.name}: not valid YAML: {exc}") from None
        if not isinstance(content, dict):
            raise DatasetError(f"{path.name}: expected a mapping of sections at the top level")
        for section, items in content.items():
            if not isinstance(items, list):
                raise DatasetError(f"{path.name}: section {section!r} must be a list")
            merged.setdefault(section, []).extend(items)
    return parse_dataset(merged, origin=str(folder))


def parse_dataset(content: dict[str, Any], *, origin: str) -> Dataset:
    try:
        return Dataset.model_validate(content)
    except ValidationError as exc:
        details = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'dataset'}: "
            f"{str(error['msg']).removeprefix('Value error, ')}"
            for error in exc.errors()
        )
        raise DatasetError(f"{origin}: {details}") from None


def load_bundled_dataset() -> Dataset:
    return load_dataset_dir(bundled_data_dir())
