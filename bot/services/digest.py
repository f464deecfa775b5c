"""What subscribers receive: the periodic digest and instant alerts, as plain data.

The delivery code renders one text per distinct (topics, since) and sends it to every
subscriber that shares them, so nothing here depends on who receives it. Each build is a
fixed handful of queries, whatever the number of records or changes.

A history row's topic follows its record: figures are trade, deals deals, passes passes,
flights flights, a context note has its own topic, and sources are general. General changes
accompany every subscriber's changes but never make an alert on their own. Seeded history is
not news and role changes are private, so neither ever appears; nor do news reviews and the
feed list, which are audited in the same log but change no record.

News items come in two ways. An editor's publication is a row of the same history, so the
alert for a range of rows carries the items published in it, for the topics followed (a
publication alone makes an alert). The digest's "In the news" lists the items that became
visible since the last digest, as the subscriber's news scope says (see `NewsScope`).

One module a little over 500 lines, on purpose: digests and alerts read the same history with
the same topic rules, and keeping them side by side is what keeps both telling one story.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, or_
from sqlmodel import col, select

from bot.models import (
    BorderPass,
    CommodityDeal,
    ContextNote,
    FlightRoute,
    Source,
    StatusChange,
    TradeComposition,
)
from bot.rendering import split_html
from bot.services import figures, records, timeline
from bot.services.bilingual import Bilingual
from bot.services.history import changes_since, not_translations, of_records
from bot.services.news import items as news
from bot.services.news.listing import Headline, headline
from bot.services.timeline import Standing
from bot.vocabulary import (
    Actor,
    DealStatus,
    Granularity,
    NewsScope,
    Quantity,
    RecordType,
    Series,
    Topic,
)

if TYPE_CHECKING:
    from datetime import date, datetime

    from sqlalchemy.sql.elements import ColumnElement
    from sqlmodel import Session

    from bot.models import NewsItem
    from bot.partial_date import PartialDate
    from bot.rendering import Renderer
    from bot.services.charts import ChartKind
    from bot.services.figures import Change
    from bot.services.records import RecordView
    from bot.services.timeline import Freshness
    from bot.services.trade import FigureView
    from bot.vocabulary import Frequency

DIGEST_TEMPLATE = "digest.html.j2"
ALERT_TEMPLATE = "alert.html.j2"
DIGEST_CHANGES_LIMIT = 10  # the rest is one "and N more" line pointing at /changes
# The chart sent after the digest to chats that want one: exports, imports and total per series.
DIGEST_CHART: ChartKind = "trade"
ALERT_CHANGES_LIMIT = 20
# "In the news": the rest is one "and N more" line pointing at /news.
DIGEST_NEWS_LIMIT = 5
ALERT_NEWS_LIMIT = 10

# Sections of the digest, in the order they appear.
FOLLOWABLE: tuple[Topic, ...] = (Topic.TRADE, Topic.DEALS, Topic.PASSES, Topic.FLIGHTS)

# The topic of a history row by its record type; notes carry their own, admin rows have none.
RECORD_TOPICS: dict[RecordType, Topic] = {
    RecordType.FIGURE: Topic.TRADE,
    RecordType.DEAL: Topic.DEALS,
    RecordType.PASS: Topic.PASSES,
    RecordType.FLIGHT: Topic.FLIGHTS,
    RecordType.SOURCE: Topic.GENERAL,
    RecordType.COMPOSITION: Topic.TRADE,
}

# Deals grouped by status, what is already flowing first.
DEAL_STATUS_ORDER: tuple[DealStatus, ...] = (
    DealStatus.IN_EFFECT,
    DealStatus.AGREED,
    DealStatus.UNDER_NEGOTIATION,
    DealStatus.PROPOSED,
    DealStatus.RESTRICTED,
    DealStatus.SUSPENDED,
    DealStatus.LAPSED,
)


class UpcomingKind(StrEnum):
    REOPENING = "reopening"  # a pass's expected reopening
    SEASON_START = "season_start"  # a pass's trading season opening (no reopening awaited)
    SEASON_END = "season_end"  # a pass's trading season under way, closing
    FLIGHT = "flight"  # an announced route's start
    DEAL = "deal"  # a deal's status starting on a future date
    DEAL_END = "deal_end"  # a deal's announced end (of its status, or of its `until_note`)
    NOTE = "note"  # a context note dated in the future


@dataclass(frozen=True, slots=True)
class SeriesSummary:
    """One trade series as the digest states it; the two series are never compared."""

    series: Series
    deficit: FigureView | None  # the latest full period with a deficit
    change: Change | None  # its deficit against the period just before, when on record
    previous_period: str | None  # that earlier period's label, named when it is missing
    trade: FigureView | None  # the latest full period with exports, imports and total
    partial: FigureView | None  # a newer partial period: stated, never compared


@dataclass(frozen=True, slots=True)
class ChangeLine:
    """One history row with what a reader needs to recognise its record."""

    change: StatusChange
    source: Source | None
    topic: Topic
    # A record's name, a figure's period or a source's title; a note's text in both languages.
    name: str | Bilingual
    series: Series | None = None  # figures only


@dataclass(frozen=True, slots=True)
class ChangeGroup:
    """An alert's changes to one record, oldest first."""

    record_type: RecordType
    name: str | Bilingual
    series: Series | None
    lines: tuple[ChangeLine, ...]


@dataclass(frozen=True, slots=True)
class Upcoming:
    kind: UpcomingKind
    when: PartialDate
    distance: int  # from today, in units of `when`'s precision (days, months or years)
    name: str | Bilingual  # a record's name; a note's text
    # A pass's season, a flight's frequency or what a deal's end ends (texts in both
    # languages); a deal's new status.
    detail: str | Bilingual | None
    source: Source
    as_of: PartialDate


@dataclass(frozen=True, slots=True)
class Digest:
    frequency: Frequency
    freshness: Freshness  # its `today` is the digest's date
    topics: tuple[Topic, ...]  # followed, in section order
    since: datetime | None  # None: "recent changes" instead of "since your last digest"
    series: tuple[SeriesSummary, ...]  # the headline numbers, always
    changes: tuple[ChangeLine, ...]  # newest first
    more_changes: int  # matching changes not listed
    news_scope: NewsScope
    news: tuple[Headline, ...]  # "In the news", newest first
    more_news: int  # items not listed
    deals: tuple[tuple[DealStatus, tuple[RecordView[CommodityDeal], ...]], ...]
    passes: tuple[RecordView[BorderPass], ...]
    flights: tuple[RecordView[FlightRoute], ...]
    upcoming: tuple[Upcoming, ...]  # soonest first
    sources: tuple[Source, ...]  # every source the digest cites, once, in order of citation

    @property
    def today(self) -> date:
        return self.freshness.today

    @property
    def has_derived(self) -> bool:
        """Whether a value shown is derived (marked * with a footnote, as in answers)."""
        trade = Topic.TRADE in self.topics
        shown: list[tuple[FigureView | None, tuple[Quantity, ...]]] = []
        for summary in self.series:
            shown.append((summary.deficit, (Quantity.DEFICIT,)))
            shown.append((summary.partial, tuple(Quantity) if trade else (Quantity.DEFICIT,)))
            if trade:
                shown.append((summary.trade, (Quantity.IMPORTS, Quantity.EXPORTS, Quantity.TOTAL)))
        changes = any(summary.change is not None for summary in self.series)
        return changes or any(
            view.values[quantity].derived
            for view, quantities in shown
            if view is not None
            for quantity in quantities
            if quantity in view.values
        )


@dataclass(frozen=True, slots=True)
class Alert:
    topics: tuple[Topic, ...]  # the followed topics these changes touch, in section order
    groups: tuple[ChangeGroup, ...]  # by record, in the order the records first changed
    more_changes: int  # changes in the range not listed (ALERT_CHANGES_LIMIT)
    news: tuple[Headline, ...]  # published in the range about a followed topic, newest first
    more_news: int  # items not listed (ALERT_NEWS_LIMIT)
    after_change_id: int
    up_to_change_id: int


# --- Building -------------------------------------------------------------------------------


def build_digest(
    session: Session,
    *,
    topics: frozenset[Topic],
    since: datetime | None,
    freshness: Freshness,
    frequency: Frequency,
    news_scope: NewsScope = NewsScope.PUBLISHED,
) -> Digest:
    """The digest for subscribers following `topics` whose last digest was at `since`.

    `since` must be timezone-aware; None (no digest yet) lists the latest changes (and news)
    instead. `news_scope` says which items "In the news" lists.
    """
    followed = tuple(topic for topic in FOLLOWABLE if topic in topics)
    series = tuple(_summary(session, s) for s in (Series.INDIA_FY, Series.CHINA_CY))
    # An edit undone since the last digest is no news, and nor is its undo.
    changes, more = _changes(
        session, topics, changes_since(since), newest_first=True, limit=DIGEST_CHANGES_LIMIT
    )
    deals = records.deals(session, freshness) if Topic.DEALS in followed else []
    passes = records.passes(session, freshness) if Topic.PASSES in followed else []
    flights = records.flights(session, freshness) if Topic.FLIGHTS in followed else []
    upcoming = _upcoming(session, followed, freshness, deals, passes, flights)
    in_the_news, more_news = _news(session, frozenset(followed), since, news_scope)

    cited: list[Source | None] = []
    for summary in series:
        stated = [summary.deficit, summary.partial]
        if Topic.TRADE in followed:
            stated.append(summary.trade)
        cited.extend(view.source for view in stated if view is not None)
    cited.extend(line.source for line in changes)
    cited.extend(view.source for view in deals)
    cited.extend(view.source for view in passes)
    cited.extend(view.source for view in flights)
    cited.extend(item.source for item in upcoming)

    return Digest(
        frequency=frequency,
        freshness=freshness,
        topics=followed,
        since=since,
        series=series,
        changes=tuple(changes),
        more_changes=more,
        news_scope=news_scope,
        news=tuple(headline(item) for item in in_the_news),
        more_news=more_news,
        deals=_by_status(deals),
        passes=tuple(passes),
        flights=tuple(flights),
        upcoming=tuple(upcoming),
        sources=_distinct(cited),
    )


def build_alert(
    session: Session, *, topics: frozenset[Topic], after_change_id: int, up_to_change_id: int
) -> Alert | None:
    """The changes with ids in (after, up_to] for subscribers following `topics`, and the news
    items those rows published about them.

    None when none of them is about a followed topic: general changes alone alert nobody.
    """
    in_range = [
        col(StatusChange.id) > after_change_id,
        col(StatusChange.id) <= up_to_change_id,
    ]
    lines, more = _changes(session, topics, in_range, newest_first=False, limit=ALERT_CHANGES_LIMIT)
    touched = {line.topic for line in lines}
    if more:
        touched |= topics_of_changes(
            session, after_change_id=after_change_id, up_to_change_id=up_to_change_id
        )
    followable = frozenset(topic for topic in FOLLOWABLE if topic in topics)
    published = (
        news.published_between(
            session,
            after_change_id=after_change_id,
            up_to_change_id=up_to_change_id,
            topics=followable,
        )
        if followable
        else []
    )
    touched |= {topic for topic in followable for item in published if topic in item.topics}
    followed = tuple(topic for topic in FOLLOWABLE if topic in followable and topic in touched)
    if not followed:
        return None
    groups: dict[tuple[RecordType, str], list[ChangeLine]] = {}
    for line in lines:
        groups.setdefault((line.change.record_type, line.change.record_key), []).append(line)
    return Alert(
        topics=followed,
        groups=tuple(
            ChangeGroup(record_type, group[0].name, group[0].series, tuple(group))
            for (record_type, _), group in groups.items()
        ),
        more_changes=more,
        news=tuple(headline(item) for item in published[:ALERT_NEWS_LIMIT]),
        more_news=max(len(published) - ALERT_NEWS_LIMIT, 0),
        after_change_id=after_change_id,
        up_to_change_id=up_to_change_id,
    )


def topics_of_changes(
    session: Session, *, after_change_id: int, up_to_change_id: int
) -> frozenset[Topic]:
    """The topics of the records' changes (not seeded) with ids in (after, up_to], and of the
    news items published by rows in that range (dismissed or applied items alert nobody).

    May include `Topic.GENERAL`; nobody follows it, so it selects no subscriber by itself.
    """
    rows = session.exec(
        _with_note_topic(select(StatusChange.record_type, ContextNote.topic).distinct()).where(
            *_REPORTED,
            col(StatusChange.id) > after_change_id,
            col(StatusChange.id) <= up_to_change_id,
        )
    ).all()
    found = {RECORD_TOPICS.get(record_type, note_topic) for record_type, note_topic in rows}
    published = news.topics_published_between(
        session, after_change_id=after_change_id, up_to_change_id=up_to_change_id
    )
    return frozenset(topic for topic in found if topic is not None) | published


# --- Rendering ------------------------------------------------------------------------------


def render_digest(renderer: Renderer, digest: Digest) -> list[str]:
    """Telegram HTML messages of at most 4096 characters, split between sections."""
    return split_html(renderer.render(DIGEST_TEMPLATE, digest=digest))


def render_alert(renderer: Renderer, alert: Alert) -> list[str]:
    return split_html(renderer.render(ALERT_TEMPLATE, alert=alert))


# --- Trade figures --------------------------------------------------------------------------


def _summary(session: Session, series: Series) -> SeriesSummary:
    views = figures.load_series(session, series)
    latest = figures.latest_with(views, Quantity.DEFICIT, full_only=True)
    change = None
    previous_period = None
    if latest is not None:
        before = _just_before(views, latest)
        if before is not None and not before.figure.partial:
            change = figures.change(series, Quantity.DEFICIT, before, latest)
        start_year = latest.figure.period_start.year
        previous_period = (
            figures.fiscal_label(start_year - 1)
            if series is Series.INDIA_FY
            else str(start_year - 1)
        )
    parts = figures.load_series(session, series, Granularity.CUMULATIVE)
    newest = figures.latest_part(parts, series)
    partial = (
        newest
        if newest is not None
        and (latest is None or newest.figure.period_end > latest.figure.period_end)
        else None
    )
    trade = figures.latest_with(views, Quantity.TOTAL, full_only=True)
    return SeriesSummary(series, latest, change, previous_period, trade, partial)


def _just_before(views: tuple[FigureView, ...], view: FigureView) -> FigureView | None:
    """The period right before `view` in its series; None when there is a gap (no 2024 row)."""
    index = next(i for i, candidate in enumerate(views) if candidate is view)
    if index == 0:
        return None
    before = views[index - 1]
    return before if (view.figure.period_start - before.figure.period_end).days == 1 else None


# --- History --------------------------------------------------------------------------------

# Seeded history is not news; role changes stay private; news reviews and feeds are no record's.
# A Hindi text written or changed is no news: it stays in the history, not in digests or alerts.
_REPORTED = (col(StatusChange.actor) != Actor.SEED, of_records(), not_translations())


def _with_note_topic(query: Any) -> Any:
    """`query` with the note a history row is about (if it is about a note) joined."""
    return query.join(
        ContextNote,
        and_(
            col(StatusChange.record_type) == RecordType.NOTE,
            col(ContextNote.key) == col(StatusChange.record_key),
        ),
        isouter=True,
    )


def _topic_condition(topics: frozenset[Topic]) -> ColumnElement[bool]:
    shown = {*topics, Topic.GENERAL}
    record_types = [kind for kind, topic in RECORD_TOPICS.items() if topic in shown]
    return or_(
        col(StatusChange.record_type).in_(record_types),
        col(ContextNote.topic).in_(shown),
    )


def _changes(
    session: Session,
    topics: frozenset[Topic],
    conditions: list[Any],
    *,
    newest_first: bool,
    limit: int,
) -> tuple[list[ChangeLine], int]:
    """Up to `limit` reported rows about `topics` (or general) matching `conditions`, and how
    many more there are."""
    where = (*_REPORTED, _topic_condition(topics), *conditions)
    order = (
        (col(StatusChange.at).desc(), col(StatusChange.id).desc())
        if newest_first
        else (col(StatusChange.id),)
    )
    rows = session.exec(
        _with_note_topic(select(StatusChange, Source, ContextNote))
        .join(Source, col(Source.id) == col(StatusChange.source_id), isouter=True)
        .where(*where)
        .order_by(*order)
        .limit(limit)
    ).all()
    total = len(rows)
    if total == limit:
        total = session.exec(
            _with_note_topic(select(func.count()).select_from(StatusChange)).where(*where)
        ).one()
    names = _names(session, [change for change, _, _ in rows])
    lines = []
    for change, source, note in rows:
        topic = note.topic if note is not None else RECORD_TOPICS[change.record_type]
        name, series = _name(change, note, names)
        lines.append(ChangeLine(change, source, topic, name, series))
    return lines, total - len(lines)


def _names(session: Session, changes: list[StatusChange]) -> dict[tuple[RecordType, str], str]:
    """Display names of the passes, deals, flights and sources `changes` are about."""
    columns: dict[RecordType, tuple[Any, Any]] = {
        RecordType.PASS: (BorderPass.slug, BorderPass.name),
        RecordType.DEAL: (CommodityDeal.slug, CommodityDeal.commodity),
        RecordType.FLIGHT: (FlightRoute.slug, FlightRoute.route),
        RecordType.SOURCE: (Source.key, Source.title),
        RecordType.COMPOSITION: (TradeComposition.key, TradeComposition.product_group),
    }
    wanted: dict[RecordType, set[str]] = {}
    for change in changes:
        if change.record_type in columns:
            wanted.setdefault(change.record_type, set()).add(change.record_key)
    names: dict[tuple[RecordType, str], str] = {}
    for record_type, keys in wanted.items():
        key_column, name_column = columns[record_type]
        for key, name in session.exec(
            select(key_column, name_column).where(col(key_column).in_(keys))
        ).all():
            names[(record_type, key)] = name
    return names


def _name(
    change: StatusChange,
    note: ContextNote | None,
    names: dict[tuple[RecordType, str], str],
) -> tuple[str | Bilingual, Series | None]:
    if change.record_type is RecordType.FIGURE:
        series, _, period = change.record_key.partition(":")
        return period, Series(series) if series in set(Series) else None
    if note is not None:
        return Bilingual(note.text, note.text_hi), None
    # A record that no longer exists is still named by its key.
    return names.get((change.record_type, change.record_key), change.record_key), None


# --- News -----------------------------------------------------------------------------------


def _news(
    session: Session, topics: frozenset[Topic], since: datetime | None, scope: NewsScope
) -> tuple[list[NewsItem], int]:
    """ "In the news": up to DIGEST_NEWS_LIMIT items, and how many more there are."""
    listed = news.for_digest(
        session, topics=topics, since=since, scope=scope, limit=DIGEST_NEWS_LIMIT
    )
    if len(listed) < DIGEST_NEWS_LIMIT:
        return listed, 0
    total = news.count_for_digest(session, topics=topics, since=since, scope=scope)
    return listed, total - len(listed)


# --- Status records and dates ---------------------------------------------------------------


def _by_status(
    views: list[RecordView[CommodityDeal]],
) -> tuple[tuple[DealStatus, tuple[RecordView[CommodityDeal], ...]], ...]:
    return tuple(
        (status, found)
        for status in DEAL_STATUS_ORDER
        if (found := tuple(view for view in views if view.record.status is status))
    )


def _upcoming(
    session: Session,
    topics: tuple[Topic, ...],
    freshness: Freshness,
    deals: list[RecordView[CommodityDeal]],
    passes: list[RecordView[BorderPass]],
    flights: list[RecordView[FlightRoute]],
) -> list[Upcoming]:
    """Dates ahead of today in the followed topics' records (and general context notes).

    A date a record waits for (a reopening, a first flight, an announced end) counts until its
    time is over: "Jun 2026" during June, a reopening expected in "2026" only until its season
    has ended. A season counts while it has not begun or is under way; a deal's status or a
    note counts only once it starts after today.
    """
    today = freshness.today

    def item(
        kind: UpcomingKind,
        when: PartialDate,
        name: str | Bilingual,
        detail: str | Bilingual | None,
        source: Source,
        as_of: PartialDate,
    ) -> Upcoming:
        return Upcoming(kind, when, timeline.distance(when, today), name, detail, source, as_of)

    found: list[Upcoming] = []
    for view in passes:
        p, expected, season = view.record, view.outlook.expected, view.outlook.season
        if expected is not None and not expected.passed:
            found.append(
                item(
                    UpcomingKind.REOPENING,
                    expected.when,
                    p.name,
                    Bilingual.columns(p, "season"),
                    view.source,
                    p.as_of,
                )
            )
        elif expected is None and season is not None:  # awaiting no reopening: the season
            if season.standing is Standing.AHEAD and season.start is not None:
                kind, when = UpcomingKind.SEASON_START, season.start
            elif season.standing is Standing.NOW and season.end is not None:
                kind, when = UpcomingKind.SEASON_END, season.end
            else:
                continue
            found.append(item(kind, when, p.name, None, view.source, p.as_of))
    for flight in flights:
        f, expected = flight.record, flight.outlook.expected
        if expected is not None and not expected.passed:
            found.append(
                item(
                    UpcomingKind.FLIGHT,
                    expected.when,
                    f.route,
                    Bilingual.columns(f, "frequency"),
                    flight.source,
                    f.as_of,
                )
            )
    for deal in deals:
        d, expected = deal.record, deal.outlook.expected
        if d.status_since is not None and d.status_since.earliest > today:
            found.append(
                item(UpcomingKind.DEAL, d.status_since, d.commodity, d.status, deal.source, d.as_of)
            )
        if expected is not None and not expected.passed:
            ending = Bilingual.columns(d, "until_note")  # None: the status itself ends
            found.append(
                item(
                    UpcomingKind.DEAL_END, expected.when, d.commodity, ending, deal.source, d.as_of
                )
            )
    notes = session.exec(
        select(ContextNote, Source)
        .join(Source, col(Source.id) == col(ContextNote.source_id))
        .where(
            col(ContextNote.occurred_on).is_not(None),
            col(ContextNote.topic).in_([*topics, Topic.GENERAL]),
        )
    ).all()
    for note, source in notes:
        if note.occurred_on is not None and note.occurred_on.earliest > today:
            found.append(
                item(
                    UpcomingKind.NOTE,
                    note.occurred_on,
                    Bilingual(note.text, note.text_hi),
                    None,
                    source,
                    note.as_of,
                )
            )
    return sorted(found, key=lambda u: (u.when.latest, u.when.earliest, _english(u.name)))


def _english(text: str | Bilingual) -> str:
    return text.en if isinstance(text, Bilingual) else text


def _distinct(sources: list[Source | None]) -> tuple[Source, ...]:
    seen: dict[int | None, Source] = {}
    for source in sources:
        if source is not None and source.id not in seen:
            seen[source.id] = source
    return tuple(seen.values())
