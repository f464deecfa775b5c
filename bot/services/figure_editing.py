"""Editors add trade figures and sources: `/addfigure` and `/addsource`.

A figure needs a source and positive numbers; totals that do not reconcile with their parts
are shown as warnings in the preview, which the editor must confirm. Re-adding an existing
period updates its reported values, each change written to the history.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlmodel import select

from bot.models import Source, TradeFigure, utcnow
from bot.partial_date import PartialDate
from bot.services import figures
from bot.services.dataset import figure_key
from bot.services.editing import (
    EditError,
    SourceRef,
    cited_source,
    find_source,
    parse_date,
    parse_source,
    split_arguments,
)
from bot.services.history import Bookkeeping, RecordWrite
from bot.services.trade import FlagKind, basis, build_view, reported_values
from bot.trade_periods import Period, read_period
from bot.vocabulary import Granularity, Quantity, RecordType, Series, Stage

if TYPE_CHECKING:
    from sqlmodel import Session

    from bot.services.figures import SeriesFigures
    from bot.services.trade import Flag

_QUANTITIES = ("exports", "imports", "total", "deficit")
# Amounts are stored as NUMERIC(14, 3): eleven digits before the point.
MAX_AMOUNT = Decimal(10) ** 11


@dataclass(frozen=True, slots=True)
class FigureEdit:
    series: Series
    period: str
    values: dict[str, Decimal]  # quantity -> reported value
    stage: Stage
    source: SourceRef
    partial: bool = False

    def to_payload(self) -> dict[str, Any]:
        return {
            "series": self.series.value,
            "period": self.period,
            "values": {name: str(value) for name, value in self.values.items()},
            "stage": self.stage.value,
            "source": {"key": self.source.key, "url": self.source.url},
            "partial": self.partial,
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> FigureEdit:
        return cls(
            Series(payload["series"]),
            payload["period"],
            {name: Decimal(value) for name, value in payload["values"].items()},
            Stage(payload["stage"]),
            SourceRef(payload["source"]["key"], payload["source"]["url"]),
            payload.get("partial", False),
        )


@dataclass(frozen=True, slots=True)
class Mismatch:
    """A value of the figure that disagrees with what two of its other values give."""

    quantity: Quantity
    value: Decimal
    expected: Decimal
    basis: tuple[Quantity, Quantity]  # the values `expected` is computed from
    typed: bool  # given in this edit, not already on record


@dataclass(frozen=True, slots=True)
class FigurePreview:
    edit: FigureEdit
    series_figures: SeriesFigures
    quantity: Quantity
    warnings: tuple[Flag, ...]
    replaces: bool  # the period exists already: its values are updated
    mismatches: tuple[Mismatch, ...] = ()  # the warnings' values, and what disagrees with them


@dataclass(frozen=True, slots=True)
class FigureResult:
    key: str
    period: str
    fields: tuple[str, ...]
    created: bool


def period_of(series: Series, period: str) -> Period:
    """A year, a month or a year so far (bot.trade_periods); `EditError` when none."""
    try:
        return read_period(series, period)
    except ValueError:
        raise EditError("bad_period", series=series.value, period=period) from None


def period_bounds(series: Series, period: str) -> tuple[date, date]:
    found = period_of(series, period)
    return found.start, found.end


def parse_add_figure(session: Session, text: str) -> FigureEdit:
    """`india_fy FY2025-26 exports=18.1 imports=120.4 stage=provisional source=URL`."""
    words, options = split_arguments(text)
    if len(words) != 2:
        raise EditError("figure_usage")
    try:
        series = Series(words[0].lower())
    except ValueError:
        raise EditError("bad_series", value=words[0]) from None
    period = words[1].upper()
    period_bounds(series, period)
    values: dict[str, Decimal] = {}
    for name in _QUANTITIES:
        if name in options:
            values[name] = _positive(name, options.pop(name))
    if not values:
        raise EditError("figure_needs_values")
    stage_text = options.pop("stage", "provisional").lower()
    if stage_text not in {stage.value for stage in Stage}:
        raise EditError("bad_stage", value=stage_text)
    source_text = options.pop("source", None)
    if not source_text:
        raise EditError("missing_source")
    if options:
        raise EditError("unknown_figure_option", options=tuple(sorted(options)))
    partial = period_of(series, period).granularity is not Granularity.YEAR
    return FigureEdit(series, period, values, Stage(stage_text), parse_source(source_text), partial)


def _positive(name: str, text: str) -> Decimal:
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise EditError("bad_number", option=name, value=text) from None
    if not value.is_finite() or (value <= 0 and name != "deficit"):
        raise EditError("not_positive", option=name, value=text)
    if abs(value) >= MAX_AMOUNT:
        raise EditError("too_large", option=name, value=text)
    return value


def preview(session: Session, edit: FigureEdit) -> FigurePreview:
    existing = _existing(session, edit)
    figure = _figure_from(edit, existing)
    source = find_source(session, edit.source) or Source(
        key="new",
        title=edit.source.url or "",
        publisher=_host(edit.source.url or ""),
        url=edit.source.url,
    )
    view = build_view(figure, source)
    quantity = Quantity.DEFICIT if Quantity.DEFICIT in view.values else next(iter(view.values))
    warnings = view.flags
    picked = figures.SeriesFigures(edit.series, (view,))
    mismatches = _mismatches(edit, figure, warnings)
    return FigurePreview(edit, picked, quantity, warnings, existing is not None, mismatches)


def _mismatches(
    edit: FigureEdit, figure: TradeFigure, flags: tuple[Flag, ...]
) -> tuple[Mismatch, ...]:
    """Each value blamed for not reconciling, with the pair of values it was checked against.

    `trade.inconsistent` blames one value at a time and checks again without it; this retraces
    its steps to name the pair each check used.
    """
    remaining = reported_values(figure)
    found = []
    for flag in flags:
        if flag.kind is not FlagKind.PARTS:
            continue
        del remaining[flag.quantity]
        pair = basis(remaining)
        assert pair is not None  # a value is only blamed against two others
        typed = flag.quantity.value in edit.values
        found.append(Mismatch(flag.quantity, flag.reported, flag.expected, pair, typed))
    return tuple(found)


def apply(
    session: Session, edit: FigureEdit, *, actor: str, now: datetime | None = None
) -> FigureResult:
    moment = now or utcnow()
    today = moment.astimezone(UTC).date()
    source = cited_source(session, edit.source, today)
    assert source.id is not None
    existing = _existing(session, edit)
    figure = existing or _figure_from(edit, None)
    changed: dict[str, Any] = {
        name: value
        for name, value in edit.values.items()
        if existing is None or value != getattr(figure, name)
    }
    if not changed and existing is not None:
        raise EditError("no_change", kind="figure", key=figure_key(edit.series, edit.period))
    if existing is not None and edit.stage != figure.stage:
        changed["stage"] = edit.stage  # provisional → final is a change readers should see
    write = RecordWrite(
        RecordType.FIGURE,
        figure_key(edit.series, edit.period),
        actor,
        moment,
        before=None if existing is None else Bookkeeping.of(existing),
        after=Bookkeeping(source.id, PartialDate.of(today), actor, moment),
    )
    for name, value in changed.items():
        session.add(write.row(name, getattr(figure, name) if existing is not None else None, value))
        setattr(figure, name, value)
    write.finish(figure)
    session.add(figure)
    session.flush()
    quantities = tuple(name for name in _QUANTITIES if name in changed)
    return FigureResult(write.key, edit.period, quantities, existing is None)


def add_source(session: Session, text: str, *, today: date) -> Source:
    """`KEY title="..." publisher="..." [url=...] [published=1 May 2026]`."""
    words, options = split_arguments(text)
    if (
        len(words) != 1
        or not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", words[0])
        or len(words[0]) > 64
    ):
        raise EditError("source_usage")
    key = words[0]
    if session.exec(select(Source.id).where(Source.key == key)).first() is not None:
        raise EditError("source_exists", value=key)
    title, publisher = options.pop("title", "").strip(), options.pop("publisher", "").strip()
    if not title or not publisher:
        raise EditError("source_usage")
    url = options.pop("url", None)
    if url is not None and parse_source(url).url is None:
        raise EditError("bad_url", value=url)
    published = options.pop("published", None)
    if options:
        raise EditError("unknown_figure_option", options=tuple(sorted(options)))
    source = Source(
        key=key,
        title=title[:300],
        publisher=publisher[:200],
        url=url,
        published_on=parse_date(published, option="published")
        if published
        else PartialDate.of(today),
    )
    session.add(source)
    session.flush()
    return source


def _existing(session: Session, edit: FigureEdit) -> TradeFigure | None:
    return session.exec(
        select(TradeFigure).where(
            TradeFigure.series == edit.series, TradeFigure.period == edit.period
        )
    ).first()


def _figure_from(edit: FigureEdit, existing: TradeFigure | None) -> TradeFigure:
    period = period_of(edit.series, edit.period)
    base = {name: getattr(existing, name) for name in _QUANTITIES} if existing is not None else {}
    values = {**base, **edit.values}
    return TradeFigure(
        series=edit.series,
        period=edit.period,
        period_start=period.start,
        period_end=period.end,
        granularity=period.granularity,
        partial=period.granularity is not Granularity.YEAR,
        stage=edit.stage,
        source_id=0,
        as_of=PartialDate.of(datetime.now(UTC).date()),
        updated_by="preview",
        **values,
    )


def _host(url: str) -> str:
    return urlsplit(url).netloc.removeprefix("www.") or "source"
