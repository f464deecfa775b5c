"""From a parsed question to an answer: plain data that `templates/answers/*.j2` render.

Every answer is built from database records only; when the data does not hold what was
asked, the answer says so and names what it does hold.

Over 500 lines: yes-or-no verdicts, figures found by value, full-text passages and news joined
the figure and record answers in one turn. Each already has its own module for the work
(verdicts, figure_sources, search, news.listing); what is left here is the dispatch by intent
and the answer types, to be split by intent next (figures, records, text) as one change.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from sqlmodel import select

from bot.lexicon import lexicon
from bot.models import BorderPass, CommodityDeal, ContextNote, FlightRoute
from bot.services import (
    figure_periods,
    figure_sources,
    figures,
    goods,
    records,
    search,
    verdicts,
)
from bot.services.goods import CausesAnswer, CompositionAnswer
from bot.services.news import listing
from bot.services.news.matching import record_key
from bot.services.questions import (
    Catalog,
    CatalogEntry,
    Intent,
    PeriodKind,
    PeriodRef,
    Question,
    State,
)
from bot.services.verdicts import Basis, Judgement, Verdict
from bot.trade_periods import read_period, year_of
from bot.vocabulary import DealStatus, Quantity, RecordType, Series, Topic

if TYPE_CHECKING:
    from datetime import date
    from decimal import Decimal

    from sqlmodel import Session

    from bot.models import Source
    from bot.services.figure_sources import FigureMatch, SideBySide
    from bot.services.figures import Change, Extreme, SeriesFigures
    from bot.services.news.listing import Headline
    from bot.services.records import History, RecordView, SourceUse
    from bot.services.timeline import Freshness
    from bot.services.trade import FigureView
    from bot.vocabulary import Direction

HISTORY_PAGE_SIZE = 8
SOURCES_PAGE_SIZE = 10


class Note(StrEnum):
    """Caveats an answer carries; templates word them."""

    FISCAL_ONLY = "fiscal_only"  # a fiscal year was asked of the calendar-year series
    CALENDAR_FOR_INDIA = "calendar_for_india"  # a calendar year was asked of India's FY series
    MIXED_SERIES = "mixed_series"  # a comparison across the two series was refused
    MIXED_PERIODS = "mixed_periods"  # a month against a year, or a year so far: refused


@dataclass(frozen=True, slots=True)
class FiguresAnswer:
    template: ClassVar[str] = "answers/figures.html.j2"
    focus: Literal["deficit", "trade"]
    quantity: Quantity
    series: tuple[SeriesFigures, ...]
    notes: tuple[Note, ...] = ()
    # For each series shown: the periods just before and after the one shown (for buttons).
    neighbours: dict[Series, tuple[FigureView | None, FigureView | None]] = field(
        default_factory=dict
    )

    @property
    def has_derived(self) -> bool:
        shown = [view for sf in self.series for view in (*sf.views, sf.part) if view]
        return any(view.has_derived for view in shown)


@dataclass(frozen=True, slots=True)
class ChangeAnswer:
    template: ClassVar[str] = "answers/change.html.j2"
    quantity: Quantity
    changes: tuple[Change, ...]
    missing: tuple[tuple[Series, str], ...] = ()
    notes: tuple[Note, ...] = ()


@dataclass(frozen=True, slots=True)
class ExtremeAnswer:
    template: ClassVar[str] = "answers/extreme.html.j2"
    quantity: Quantity
    extremes: tuple[Extreme, ...]


@dataclass(frozen=True, slots=True)
class TrendAnswer:
    template: ClassVar[str] = "answers/trend.html.j2"
    quantity: Quantity
    since_year: int | None
    series: tuple[tuple[Series, tuple[FigureView, ...], Change | None], ...]

    @property
    def has_derived(self) -> bool:
        return any(
            view.values[self.quantity].derived for _, views, _ in self.series for view in views
        )


@dataclass(frozen=True, slots=True)
class PassAnswer:
    template: ClassVar[str] = "answers/pass.html.j2"
    view: RecordView[BorderPass]
    context: tuple[tuple[ContextNote, Source], ...] = ()


@dataclass(frozen=True, slots=True)
class PassesAnswer:
    template: ClassVar[str] = "answers/passes.html.j2"
    views: tuple[RecordView[BorderPass], ...]


@dataclass(frozen=True, slots=True)
class DealsAnswer:
    template: ClassVar[str] = "answers/deals.html.j2"
    views: tuple[RecordView[CommodityDeal], ...]
    category: str | None = None
    status: DealStatus | None = None
    direction: Direction | None = None
    categories: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FlightsAnswer:
    template: ClassVar[str] = "answers/flights.html.j2"
    views: tuple[RecordView[FlightRoute], ...]
    context: tuple[tuple[ContextNote, Source], ...] = ()


@dataclass(frozen=True, slots=True)
class YesNoAnswer:
    """A yes or a no first, then why: each record's status and dates, and its source.

    `card` is the answer the question gets without asking for a yes or a no, narrowed to the
    records judged (its buttons are the answer's)."""

    template: ClassVar[str] = "answers/yes_no.html.j2"
    state: State
    verdict: Verdict
    judgements: tuple[Judgement, ...]
    card: PassAnswer | PassesAnswer | DealsAnswer | FlightsAnswer

    @property
    def last_recorded(self) -> bool:
        """Decided by a status whose expected change date has passed with nothing since."""
        return self.verdict in (Verdict.YES, Verdict.NO) and all(
            j.basis is Basis.LAST_RECORDED for j in self.judgements if j.verdict is self.verdict
        )


@dataclass(frozen=True, slots=True)
class FigureSourceAnswer:
    """Figures found by their values, each with its own source; set against each other
    (`against`), the two series side by side and why they differ."""

    template: ClassVar[str] = "answers/figure_sources.html.j2"
    found: tuple[tuple[Decimal, tuple[FigureMatch, ...]], ...]  # each amount asked, its figures
    against: bool = False
    side_by_side: SideBySide | None = None
    quantity: Quantity = Quantity.DEFICIT

    @property
    def matches(self) -> tuple[FigureMatch, ...]:
        return tuple(match for _, found in self.found for match in found)


@dataclass(frozen=True, slots=True)
class HistoryAnswer:
    template: ClassVar[str] = "answers/history.html.j2"
    history: History
    page: int
    pages: int

    @property
    def entries(self) -> tuple[records.HistoryEntry, ...]:
        start = self.page * HISTORY_PAGE_SIZE
        return self.history.entries[start : start + HISTORY_PAGE_SIZE]


@dataclass(frozen=True, slots=True)
class SourcesAnswer:
    template: ClassVar[str] = "answers/sources.html.j2"
    uses: tuple[SourceUse, ...]
    page: int
    pages: int

    @property
    def shown(self) -> tuple[SourceUse, ...]:
        start = self.page * SOURCES_PAGE_SIZE
        return self.uses[start : start + SOURCES_PAGE_SIZE]


@dataclass(frozen=True, slots=True)
class ChartAnswer:
    template: ClassVar[str] = "answers/chart.html.j2"
    kind: Literal["deficit", "trade", "composition"]
    # A chart of product groups: the answer whose tables it draws.
    groups: CompositionAnswer | None = None


@dataclass(frozen=True, slots=True)
class HelpAnswer:
    template: ClassVar[str] = "answers/help.html.j2"


@dataclass(frozen=True, slots=True)
class NewsAnswer:
    """The newest published items about a topic or records, below the status card asked for.

    Never cached as rendered text: an item an editor publishes (here or on another instance)
    must show in the next answer.
    """

    template: ClassVar[str] = "answers/news.html.j2"
    headlines: tuple[Headline, ...]
    topic: Topic | None = None  # None: every topic
    subject: str | None = None  # the records or deal category asked about, by name
    card: Answer | None = None  # the status of what was asked about, as it would be answered


@dataclass(frozen=True, slots=True)
class NewsTopicUnknownAnswer:
    """`/news` with words that name no topic or record."""

    template: ClassVar[str] = "answers/news_topics.html.j2"
    asked: str
    topics: tuple[Topic, ...] = listing.READER_TOPICS
    suggestions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NotFoundAnswer:
    """A name that matches no record of the kind asked for."""

    template: ClassVar[str] = "answers/not_found.html.j2"
    kind: RecordType
    asked: str
    suggestions: tuple[str, ...] = ()
    known: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BadArgumentsAnswer:
    """A command whose arguments meant nothing for it (e.g. `/deficit banana`)."""

    template: ClassVar[str] = "answers/bad_arguments.html.j2"
    command: str
    arguments: str


@dataclass(frozen=True, slots=True)
class SearchAnswer:
    """Passages from the full-text index, quoted with their sources and dates: alone for a
    question no card answers, or below the card when the question also asks for context.

    Never cached as rendered text: the index follows every edit and news review, on any
    instance.
    """

    template: ClassVar[str] = "answers/search.html.j2"
    passages: tuple[search.Passage, ...]
    card: Answer | None = None
    suggestions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class UnknownAnswer:
    template: ClassVar[str] = "answers/unknown.html.j2"
    suggestions: tuple[str, ...] = field(default=())


Answer = (
    FiguresAnswer
    | ChangeAnswer
    | ExtremeAnswer
    | TrendAnswer
    | PassAnswer
    | PassesAnswer
    | DealsAnswer
    | FlightsAnswer
    | YesNoAnswer
    | FigureSourceAnswer
    | HistoryAnswer
    | SourcesAnswer
    | ChartAnswer
    | CompositionAnswer
    | CausesAnswer
    | HelpAnswer
    | NewsAnswer
    | NewsTopicUnknownAnswer
    | NotFoundAnswer
    | BadArgumentsAnswer
    | SearchAnswer
    | UnknownAnswer
)


def answer_question(session: Session, question: Question, freshness: Freshness) -> Answer:
    """The answer to a parsed question (from free text or from a command's arguments), with
    the passages of the notes, history and news that answer what its card does not."""
    return with_passages(session, question, _card(session, question, freshness))


def _card(session: Session, question: Question, freshness: Freshness) -> Answer:
    card = _status_card(session, question, freshness)
    if card is not None:
        if question.yes_no is None or isinstance(card, NotFoundAnswer):
            return card
        return yes_no_answer(session, question, card)
    match question.intent:
        case Intent.DEFICIT | Intent.TRADE:
            return figures_answer(session, question, freshness.today)
        case Intent.COMPARE:
            return change_answer(session, question, freshness.today)
        case Intent.EXTREME:
            return extreme_answer(session, question)
        case Intent.TREND:
            return trend_answer(session, question)
        case Intent.HISTORY:
            return history_answer(session, question)
        case Intent.SOURCES if question.amounts:
            return figure_source_answer(session, question)
        case Intent.SOURCES:
            return sources_answer(session)
        case Intent.DISCREPANCY:
            return figure_source_answer(session, question, against=True)
        case Intent.CHART if question.about is Intent.COMPOSITION:
            return ChartAnswer("composition", goods.composition_answer(session, question))
        case Intent.CHART:
            quantity = question.quantity or Quantity.DEFICIT
            return ChartAnswer("deficit" if quantity is Quantity.DEFICIT else "trade")
        case Intent.COMPOSITION:
            return goods.composition_answer(session, question)
        case Intent.CAUSES:
            return goods.causes_answer(session, question)
        case Intent.HELP:
            return HelpAnswer()
        case Intent.NEWS:
            return news_answer(session, question, freshness)
        case _:
            return UnknownAnswer(question.suggestions)


# --- Passages from the full-text index -----------------------------------------------------

# Cards a question may ask context of ("what drove imports", "why did Nepal object to
# Lipulekh"); lists of history, sources and news, and refusals, stand as they are.
_CARDS_WITH_CONTEXT = (
    FiguresAnswer,
    ChangeAnswer,
    ExtremeAnswer,
    TrendAnswer,
    PassAnswer,
    PassesAnswer,
    DealsAnswer,
    FlightsAnswer,
    YesNoAnswer,
)


def with_passages(session: Session, question: Question, card: Answer) -> Answer:
    """The card alone, or with the passages that answer the rest of the question.

    A question no card answers is searched whatever it asks (the best two passages); a
    question a card answers only when it also asks for context (a cause, a meaning, a value,
    a share, an objection), and the best passage the card does not show goes below it.
    """
    if isinstance(card, UnknownAnswer):
        found = search.search(session, question.text)
        return SearchAnswer(found, suggestions=card.suggestions) if found else card
    if isinstance(card, _CARDS_WITH_CONTEXT) and search.wants_context(question.text):
        # The card answers the question: one passage below it, the best, is context enough.
        found = search.search(session, question.text, limit=1, exclude=_quoted_by(card))
        if found:
            return SearchAnswer(found, card=card)
    return card


def _quoted_by(card: Answer) -> frozenset[int]:
    """The index ids of the passages a card shows already: its notes, a record's own note."""
    if isinstance(card, YesNoAnswer):
        return _quoted_by(card.card)
    shown: list[int] = []
    if isinstance(card, PassAnswer | FlightsAnswer):
        shown.extend(search.index_id(ContextNote, note.id or 0) for note, _ in card.context)
    if isinstance(card, PassAnswer):
        shown.append(search.index_id(BorderPass, card.view.record.id or 0))
    if isinstance(card, FlightsAnswer | DealsAnswer):
        shown.extend(search.index_id(type(v.record), v.record.id or 0) for v in card.views)
    return frozenset(shown)


def _status_card(
    session: Session, question: Question, freshness: Freshness
) -> PassAnswer | PassesAnswer | DealsAnswer | FlightsAnswer | NotFoundAnswer | None:
    """The status of the records a question asks about; None for other questions."""
    match question.intent:
        case Intent.PASS:
            return pass_answer(session, question, freshness)
        case Intent.PASSES:
            return PassesAnswer(tuple(records.passes(session, freshness)))
        case Intent.DEALS:
            return deals_answer(session, question, freshness)
        case Intent.FLIGHTS:
            return flights_answer(session, question, freshness)
        case _:
            return None


def load_catalog(session: Session) -> Catalog:
    """The names questions can refer to, as the database holds them now."""
    passes = select(BorderPass.slug, BorderPass.name, BorderPass.aliases)
    deals = select(
        CommodityDeal.slug, CommodityDeal.commodity, CommodityDeal.aliases, CommodityDeal.category
    )
    flights = select(FlightRoute.slug, FlightRoute.route, FlightRoute.aliases)
    entries = [
        *(CatalogEntry(RecordType.PASS, *row[:2], tuple(row[2])) for row in session.exec(passes)),
        *(
            CatalogEntry(RecordType.DEAL, *row[:2], tuple(row[2]), row[3])
            for row in session.exec(deals)
        ),
        *(
            CatalogEntry(RecordType.FLIGHT, *row[:2], tuple(row[2]))
            for row in session.exec(flights)
        ),
    ]
    return Catalog(entries)


# --- Trade figures ------------------------------------------------------------------------


def _series_asked(question: Question) -> tuple[Series, ...]:
    return (question.series,) if question.series is not None else (Series.INDIA_FY, Series.CHINA_CY)


def _labels(series: Series, ref: PeriodRef, today: date, notes: list[Note]) -> list[str] | None:
    """The period labels of `series` that `ref` means; None = the latest period."""
    if ref.kind is PeriodKind.LATEST or (ref.year is None and ref.kind is not PeriodKind.PREVIOUS):
        return None
    if ref.kind is PeriodKind.PREVIOUS:
        if series is Series.CHINA_CY:
            return [str(today.year - 1)]
        # The last fiscal year that has ended (April-March).
        return [figures.fiscal_label(today.year - 1 if today.month >= 4 else today.year - 2)]
    assert ref.year is not None
    if ref.kind is PeriodKind.FISCAL:
        if series is Series.CHINA_CY:
            notes.append(Note.FISCAL_ONLY)
            return []
        return [figures.fiscal_label(ref.year)]
    if series is Series.INDIA_FY:
        # India publishes by fiscal year: show the two that overlap the calendar year.
        notes.append(Note.CALENDAR_FOR_INDIA)
        return [figures.fiscal_label(ref.year - 1), figures.fiscal_label(ref.year)]
    return [str(ref.year)]


def figures_answer(session: Session, question: Question, today: date) -> FiguresAnswer:
    focus: Literal["deficit", "trade"] = "deficit" if question.intent is Intent.DEFICIT else "trade"
    quantity = question.quantity or (Quantity.DEFICIT if focus == "deficit" else Quantity.TOTAL)
    notes: list[Note] = []
    answers: list[SeriesFigures] = []
    neighbours: dict[Series, tuple[FigureView | None, FigureView | None]] = {}
    refs = question.periods or (PeriodRef(PeriodKind.LATEST),)
    year_refs = [ref for ref in refs if ref.kind not in figure_periods.PART_KINDS]
    wanted = _series_asked(question)
    parts = figure_periods.load(session, wanted, refs)
    for series, views in figures.load_all_series(session, wanted).items():
        labels: list[str] = []
        latest_asked = False
        for ref in year_refs:
            asked = _labels(series, ref, today, notes)
            if asked is None:
                latest_asked = True
                latest = figures.latest_with(views, quantity)
                labels.extend([latest.figure.period] if latest else [])
            else:
                labels.extend(asked)
        named = question.series is not None
        picked_parts = figure_periods.pick(series, refs, parts, today, named=named)
        if not labels and not picked_parts.anything and not named and len(refs) == 1:
            continue  # e.g. a fiscal year asked without a series: only India's series applies
        picked = figures.pick(views, series, list(dict.fromkeys(labels)))
        part = picked_parts.part or _part_beside(series, picked, parts, latest_asked=latest_asked)
        span = picked_parts.span if picked_parts.missing and not picked.missing else views
        picked = dataclasses.replace(
            picked,
            views=(*picked.views, *picked_parts.views),
            missing=(*picked.missing, *picked_parts.missing),
            first=span[0].figure.period if span else None,
            last=span[-1].figure.period if span else None,
            not_yet=picked_parts.not_yet,
            part=part,
        )
        answers.append(picked)
        if len(picked.views) == 1 and any(view is picked.views[0] for view in views):
            neighbours[series] = figures.neighbours(views, picked.views[0])
    return FiguresAnswer(focus, quantity, tuple(answers), tuple(dict.fromkeys(notes)), neighbours)


def _part_beside(
    series: Series, picked: SeriesFigures, parts: figure_periods.Parts, *, latest_asked: bool
) -> FigureView | None:
    """The latest year so far, shown apart: after the latest whole year ("what is the
    deficit"), or for a year asked whose whole-year figure is not held yet."""
    held = parts.so_far.get(series, ())
    if latest_asked and picked.views:
        newest = figures.latest_part(held, series)
        shown_end = max(view.figure.period_end for view in picked.views)
        return newest if newest is not None and newest.figure.period_end > shown_end else None
    for label in picked.missing:
        try:
            year = read_period(series, label)
        except ValueError:
            continue
        found = figures.latest_part(held, series, year_of(series, year.start))
        if found is not None:
            return found
    return None


def change_answer(session: Session, question: Question, today: date) -> ChangeAnswer:
    quantity = question.quantity or Quantity.DEFICIT
    notes: list[Note] = []
    if len(question.periods) < 2:
        # "how has the deficit changed": the two latest full periods of each series.
        changes = tuple(
            found
            for series in _series_asked(question)
            if (
                found := figures.latest_change(
                    series, figures.load_series(session, series), quantity
                )
            )
        )
        return ChangeAnswer(quantity, changes)
    first, second = question.periods[0], question.periods[1]
    dated = {PeriodKind.FISCAL, PeriodKind.CALENDAR}
    if {first.kind, second.kind} == dated:
        # A fiscal year against a calendar year would compare the two series: refuse.
        return ChangeAnswer(quantity, (), notes=(Note.MIXED_SERIES,))
    if first.kind in figure_periods.PART_KINDS or second.kind in figure_periods.PART_KINDS:
        return _part_change(session, question, quantity, today)
    changes_found: list[Change] = []
    missing: list[tuple[Series, str]] = []
    for series in _series_asked(question):
        before_labels = _labels(series, first, today, notes)
        after_labels = _labels(series, second, today, notes)
        if not before_labels or not after_labels:
            continue
        views = figures.load_series(session, series)
        picked = figures.pick(views, series, [before_labels[-1], after_labels[-1]])
        missing.extend((series, label) for label in picked.missing)
        if len(picked.views) == 2 and picked.views[0] is not picked.views[1]:
            before, after = sorted(picked.views, key=lambda v: v.figure.period_start)
            found = figures.change(series, quantity, before, after)
            if found is not None:
                changes_found.append(found)
    return ChangeAnswer(quantity, tuple(changes_found), tuple(missing), tuple(dict.fromkeys(notes)))


def _part_change(
    session: Session, question: Question, quantity: Quantity, today: date
) -> ChangeAnswer:
    """Two months, or two runs of months, against each other; a month is never compared
    with a year or a year so far."""
    first, second = question.periods[0], question.periods[1]
    if first.kind is not second.kind or first.kind is PeriodKind.SO_FAR:
        return ChangeAnswer(quantity, (), notes=(Note.MIXED_PERIODS,))
    changes_found: list[Change] = []
    missing: list[tuple[Series, str]] = []
    wanted = _series_asked(question)
    parts = figure_periods.load(session, wanted, question.periods)
    for series in wanted:
        picked = figure_periods.pick(
            series, (first, second), parts, today, named=question.series is not None
        )
        missing.extend((series, label) for label in picked.missing)
        if len(picked.views) == 2 and picked.views[0] is not picked.views[1]:
            before, after = sorted(picked.views, key=lambda v: v.figure.period_end)
            found = figures.change(series, quantity, before, after)
            if found is not None:
                changes_found.append(found)
    return ChangeAnswer(quantity, tuple(changes_found), tuple(missing))


def _latest_change(session: Session, series: Series, quantity: Quantity) -> Change | None:
    return figures.latest_change(series, figures.load_series(session, series), quantity)


def extreme_answer(session: Session, question: Question) -> ExtremeAnswer:
    quantity = question.quantity or Quantity.DEFICIT
    kind: Literal["max", "min"] = question.extreme or "max"
    found = tuple(
        best
        for series in _series_asked(question)
        if (best := figures.extreme(series, figures.load_series(session, series), quantity, kind))
    )
    return ExtremeAnswer(quantity, found)


def trend_answer(session: Session, question: Question) -> TrendAnswer:
    quantity = question.quantity or Quantity.DEFICIT
    rows = []
    for series in _series_asked(question):
        views = figures.since(figures.load_series(session, series), question.since_year)
        shown = tuple(v for v in views if quantity in v.values)
        if shown:
            rows.append((series, shown, figures.latest_change(series, shown, quantity)))
    return TrendAnswer(quantity, question.since_year, tuple(rows))


# --- Status records -------------------------------------------------------------------------


def _entity_keys(question: Question, record_type: RecordType) -> tuple[str, ...]:
    return tuple(e.key for e in question.entities if e.record_type is record_type)


def pass_answer(
    session: Session, question: Question, freshness: Freshness
) -> PassAnswer | PassesAnswer | NotFoundAnswer:
    slugs = _entity_keys(question, RecordType.PASS)
    if not slugs:
        return not_found(session, RecordType.PASS, question)
    if len(slugs) > 1:
        views = [records.border_pass(session, slug, freshness) for slug in slugs]
        return PassesAnswer(tuple(v for v in views if v is not None))
    return pass_detail(session, slugs[0], freshness) or not_found(
        session, RecordType.PASS, question
    )


def pass_detail(session: Session, slug: str, freshness: Freshness) -> PassAnswer | None:
    view = records.border_pass(session, slug, freshness)
    if view is None:
        return None
    return PassAnswer(view, tuple(records.context_notes(session, subject=f"pass:{slug}")))


def deals_answer(session: Session, question: Question, freshness: Freshness) -> DealsAnswer:
    slugs = _entity_keys(question, RecordType.DEAL)
    views = records.deals(
        session,
        freshness,
        slugs=slugs,
        category=None if slugs else question.deal_category,
        status=question.deal_status,
        direction=None if slugs else question.direction,
    )
    return DealsAnswer(
        tuple(views),
        category=question.deal_category,
        status=question.deal_status,
        direction=question.direction,
        categories=tuple(records.deal_categories(session)),
    )


def flights_answer(session: Session, question: Question, freshness: Freshness) -> FlightsAnswer:
    slugs = _entity_keys(question, RecordType.FLIGHT)
    views = records.flights(session, freshness, slugs=slugs)
    context = () if slugs else tuple(records.context_notes(session, subject="flights"))
    return FlightsAnswer(tuple(views), context)


# --- Yes or no -------------------------------------------------------------------------------

# A deal whose history holds one of these had curbs that could be lifted.
_RESTRICTING_STATUSES = (DealStatus.RESTRICTED.value, DealStatus.SUSPENDED.value)


def yes_no_answer(
    session: Session,
    question: Question,
    card: PassAnswer | PassesAnswer | DealsAnswer | FlightsAnswer,
) -> YesNoAnswer:
    """Yes or no to a question about the records of `card`, each judged by its status and
    dates (`bot.services.verdicts`)."""
    state = question.yes_no
    assert state is not None
    views: tuple[RecordView[Any], ...] = (
        (card.view,) if isinstance(card, PassAnswer) else tuple(card.views)
    )
    restricted: set[str] = set()
    if isinstance(card, DealsAnswer) and state in (State.LIFTED, State.ENDED):
        slugs = tuple(view.record.slug for view in views)
        restricted = records.ever_held(session, RecordType.DEAL, slugs, _RESTRICTING_STATUSES)
    pause_words = lexicon().yes_no.state_paused.words
    judgements = [
        verdicts.judge(
            view,
            state,
            ever_restricted=view.record.slug in restricted,
            pause_words=pause_words,
        )
        for view in views
    ]
    if isinstance(card, DealsAnswer) and not question.entities:
        return _unnamed_deals(state, judgements, card)
    return YesNoAnswer(state, verdicts.overall(judgements), tuple(judgements), card)


def _unnamed_deals(state: State, judgements: list[Judgement], card: DealsAnswer) -> YesNoAnswer:
    """Deals the question does not name: "did China lift the curbs" concerns the deals that
    had curbs; "is China restricting exports?" is answered by those that are restricted."""
    if state in (State.LIFTED, State.ENDED):
        shown = [j for j in judgements if j.verdict is not Verdict.NOT_RECORDED]
        verdict = verdicts.overall(shown) if shown else Verdict.NONE_RECORDED
    else:
        shown = [j for j in judgements if j.verdict is Verdict.YES]
        verdict = Verdict.YES if shown else Verdict.NONE_RECORDED
    narrowed = dataclasses.replace(card, views=tuple(j.view for j in shown))
    return YesNoAnswer(state, verdict, tuple(shown), narrowed)


# --- A figure's own source ------------------------------------------------------------------


def figure_source_answer(
    session: Session, question: Question, *, against: bool = False
) -> FigureSourceAnswer:
    """The figures the amounts asked stand for, each with its source; `against`: the two
    series set side by side (their latest full periods when no amount is named)."""
    views = figure_sources.load(session)
    found = tuple(
        (amount, figure_sources.find(session, views, amount)) for amount in question.amounts
    )
    matches = [match for _, found_for in found for match in found_for]
    quantity = question.quantity or (matches[0].quantity if matches else Quantity.DEFICIT)
    if not against:
        return FigureSourceAnswer(found, quantity=quantity)
    compared = figure_sources.side_by_side(matches)
    if compared is None and len({m.series for m in matches}) < 2:
        # One series named, or none: set it against the other series' latest full period.
        named = {m.series for m in matches}
        others = [m for m in figure_sources.latest(views, quantity) if m.series not in named]
        compared = figure_sources.side_by_side([*matches, *others])
    return FigureSourceAnswer(found, True, compared, quantity)


def history_answer(session: Session, question: Question, page: int = 0) -> Answer:
    entity = next(iter(question.entities), None)
    if entity is None:
        return not_found(session, RecordType.PASS, question)
    return history_page(session, entity.record_type, entity.key, page) or not_found(
        session, entity.record_type, question
    )


def history_page(
    session: Session, record_type: RecordType, key: str, page: int = 0
) -> HistoryAnswer | None:
    found = records.history(session, record_type, key)
    if found is None:
        return None
    pages = max(1, -(-len(found.entries) // HISTORY_PAGE_SIZE))
    return HistoryAnswer(found, min(max(page, 0), pages - 1), pages)


def sources_answer(session: Session, page: int = 0) -> SourcesAnswer:
    uses = tuple(records.sources(session))
    pages = max(1, -(-len(uses) // SOURCES_PAGE_SIZE))
    return SourcesAnswer(uses, min(max(page, 0), pages - 1), pages)


def not_found(session: Session, kind: RecordType, question: Question) -> NotFoundAnswer:
    known = tuple(records.names(session, kind))
    return NotFoundAnswer(kind, question.text.strip()[:100], question.suggestions, known)


# --- News -----------------------------------------------------------------------------------

# Whose news a question about figures or a kind of record asks for.
_INTENT_TOPICS = {
    Intent.DEFICIT: Topic.TRADE,
    Intent.TRADE: Topic.TRADE,
    Intent.COMPARE: Topic.TRADE,
    Intent.EXTREME: Topic.TRADE,
    Intent.TREND: Topic.TRADE,
    Intent.CHART: Topic.TRADE,
    Intent.COMPOSITION: Topic.TRADE,
    Intent.CAUSES: Topic.TRADE,
    Intent.PASS: Topic.PASSES,
    Intent.PASSES: Topic.PASSES,
    Intent.DEALS: Topic.DEALS,
    Intent.FLIGHTS: Topic.FLIGHTS,
}
_RECORD_TOPICS = {
    RecordType.PASS: Topic.PASSES,
    RecordType.DEAL: Topic.DEALS,
    RecordType.FLIGHT: Topic.FLIGHTS,
}


@dataclass(frozen=True, slots=True)
class _NewsScope:
    topic: Topic
    records: tuple[str, ...] = ()  # "pass:shipki-la": only these records' items
    subject: str | None = None


def news_answer(session: Session, question: Question, freshness: Freshness) -> NewsAnswer:
    """A question for the news: the status card of what it is about, then that news."""
    about = question.about
    scope = _news_scope(question, about)
    if about is None or scope is None:
        return NewsAnswer(listing.headlines(session))
    card = answer_question(
        session, dataclasses.replace(question, intent=about, about=None), freshness
    )
    return _news(session, scope, card=card)


def news_listing(
    session: Session, question: Question | None
) -> NewsAnswer | NewsTopicUnknownAnswer:
    """`/news [topic]`: the newest items of every topic, or of the topic or records named."""
    if question is None or (question.intent is Intent.NEWS and question.about is None):
        return NewsAnswer(listing.headlines(session))
    intent = question.about if question.intent is Intent.NEWS else question.intent
    scope = _news_scope(question, intent)
    if scope is None:
        return NewsTopicUnknownAnswer(question.text.strip()[:100], suggestions=question.suggestions)
    return _news(session, scope)


def _news(session: Session, scope: _NewsScope, *, card: Answer | None = None) -> NewsAnswer:
    if scope.records:
        found = listing.headlines(session, records=scope.records)
    else:
        found = listing.headlines(session, topics=(scope.topic,))
    return NewsAnswer(found, scope.topic, scope.subject, card)


def _news_scope(question: Question, intent: Intent | None) -> _NewsScope | None:
    """The records a question names (their items), else the topic its intent is about."""
    if question.entities:
        names = [entity.name for entity in question.entities]
        subject = question.deal_category.replace("_", " ") if question.deal_category else None
        return _NewsScope(
            _RECORD_TOPICS[question.entities[0].record_type],
            tuple(record_key(e.record_type, e.key) for e in question.entities),
            subject or " and ".join(names),
        )
    topic = _INTENT_TOPICS.get(intent) if intent is not None else None
    return None if topic is None else _NewsScope(topic)
