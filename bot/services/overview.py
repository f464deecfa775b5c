"""What the database holds, in one glance: used by /start to say what the bot can answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func
from sqlmodel import col, select

from bot.models import BorderPass, CommodityDeal, FlightRoute, TradeFigure
from bot.partial_date import PartialDate
from bot.vocabulary import Granularity, Series

if TYPE_CHECKING:
    from sqlmodel import Session


@dataclass(frozen=True, slots=True)
class SeriesSpan:
    series: Series
    periods: int  # whole years
    first: str
    last: str
    parts: int = 0  # months and years so far
    parts_end: PartialDate | None = None  # the last month they reach


@dataclass(frozen=True, slots=True)
class Overview:
    series: tuple[SeriesSpan, ...]
    passes: tuple[str, ...]
    deals: int
    flights: int


def overview(session: Session) -> Overview:
    spans = []
    for series in Series:
        periods = session.exec(
            select(TradeFigure.period)
            .where(TradeFigure.series == series, TradeFigure.granularity == Granularity.YEAR)
            .order_by(col(TradeFigure.period_start))
        ).all()
        parts = session.exec(
            select(func.count(), func.max(TradeFigure.period_end)).where(
                TradeFigure.series == series, TradeFigure.granularity != Granularity.YEAR
            )
        ).one()
        if periods:
            end = None if parts[1] is None else PartialDate(parts[1].year, parts[1].month)
            spans.append(SeriesSpan(series, len(periods), periods[0], periods[-1], parts[0], end))
    return Overview(
        series=tuple(spans),
        passes=tuple(session.exec(select(BorderPass.name).order_by(col(BorderPass.name))).all()),
        deals=session.exec(select(func.count()).select_from(CommodityDeal)).one(),
        flights=session.exec(select(func.count()).select_from(FlightRoute)).one(),
    )
