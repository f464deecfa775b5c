"""References a file makes, checked against the file and the database together.

A record cites a source, a history row names a record, a figure report from a CSV belongs to
a trade figure, a news item names its feed: each may be in the file or only in the database.
Figure reports are then nested into their trade figures, as the loader wants them.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from bot.models import (
    BorderPass,
    CommodityDeal,
    ContextNote,
    FlightRoute,
    Source,
    TradeComposition,
    TradeFigure,
)
from bot.services.dataset import Dataset, FigureReportItem, TradeFigureItem, figure_key
from bot.services.importing.problems import Loc, Problems, Where, loc_text
from bot.services.importing.validate import ImportedDataset, origin_of
from bot.services.news.backup import feeds_by_url
from bot.vocabulary import RecordType, Series

# The column holding each kind of record's key (figures are keyed by series and period).
_RECORD_KEYS: dict[RecordType, Any] = {
    RecordType.SOURCE: Source.key,
    RecordType.PASS: BorderPass.slug,
    RecordType.DEAL: CommodityDeal.slug,
    RecordType.FLIGHT: FlightRoute.slug,
    RecordType.NOTE: ContextNote.key,
    RecordType.COMPOSITION: TradeComposition.key,
}
_CITING_SECTIONS = (
    "trade_figures",
    "passes",
    "deals",
    "flights",
    "notes",
    "composition",
    "history",
)


class _References:
    """The checks of one dataset against the file and the database, and what they found."""

    def __init__(self, session: Session, dataset: Dataset) -> None:
        self.session = session
        self.dataset = dataset
        self.problems = Problems(origin_of(dataset))
        file_sources = {source.key for source in dataset.sources}
        self.sources = set(session.exec(select(Source.key)).all()) | file_sources
        self.records = dataset.record_keys()
        self.figures = self.records[RecordType.FIGURE] | _database_figures(session)

    def where(self, section: str, index: int) -> Where:
        dataset = self.dataset
        found = dataset.where(section, index) if isinstance(dataset, ImportedDataset) else None
        return found or Where(None, f"{section} item {index + 1}")

    def check_source(self, key: str | None, at: Where, loc: Loc) -> None:
        if key is not None and key not in self.sources:
            self.problems.add(
                f"{key!r} is not a source in this file or in the database",
                at,
                column=loc_text(loc),
                loc=loc,
            )

    def check_citations(self) -> None:
        for section in _CITING_SECTIONS:
            for index, item in enumerate(getattr(self.dataset, section)):
                at = self.where(section, index)
                self.check_source(item.source, at, ("source",))
                for number, report in enumerate(getattr(item, "reports", ())):
                    self.check_source(report.source, at, ("reports", number, "source"))

    def check_figure_reports(self) -> None:
        if not isinstance(self.dataset, ImportedDataset):
            return
        for pending, at in self.dataset.placed_reports:
            self.check_source(pending.report.source, at, ("source",))
            if pending.figure_key not in self.figures:
                self.problems.add(
                    f"there is no trade figure {pending.series.value} {pending.period} in the "
                    "database: import its trade_figures row first",
                    at,
                    column="period",
                )

    def check_history(self) -> None:
        history = self.dataset.history
        wanted = {row.record_type for row in history} - {RecordType.FIGURE}
        known = {kind: self.records[kind] | _database_keys(self.session, kind) for kind in wanted}
        known[RecordType.FIGURE] = self.figures
        for index, row in enumerate(history):
            if row.record_key not in known[row.record_type]:
                self.problems.add(
                    f"there is no {row.record_type.value} {row.record_key!r} in this file "
                    "or in the database",
                    self.where("history", index),
                    column="record_key",
                    loc=("record_key",),
                )

    def check_feeds(self) -> None:
        cited = {item.feed for item in self.dataset.news if item.feed is not None}
        if not cited:
            return
        known = {feed.url for feed in self.dataset.feeds} | set(feeds_by_url(self.session))
        for index, item in enumerate(self.dataset.news):
            if item.feed is not None and item.feed not in known:
                self.problems.add(
                    f"{item.feed!r} is not a feed in this file or in the database",
                    self.where("news", index),
                    column="feed",
                    loc=("feed",),
                )


def check_references(session: Session, dataset: Dataset) -> None:
    """Raise `ImportFileError` naming every reference neither the file nor the database has."""
    references = _References(session, dataset)
    references.check_citations()
    references.check_figure_reports()
    references.check_history()
    references.check_feeds()
    references.problems.raise_if_any()


def _database_figures(session: Session) -> set[str]:
    rows = session.exec(select(TradeFigure.series, TradeFigure.period)).all()
    return {figure_key(Series(series), period) for series, period in rows}


def _database_keys(session: Session, kind: RecordType) -> set[str]:
    return set(session.exec(select(_RECORD_KEYS[kind])).all())


def nest_reports(session: Session, dataset: Dataset) -> Dataset:
    """Nest a CSV's figure reports into their trade figures, from the file or the database."""
    if not isinstance(dataset, ImportedDataset) or not dataset.figure_reports:
        return dataset
    reports: dict[str, list[FigureReportItem]] = {}
    for pending in dataset.figure_reports:
        reports.setdefault(pending.figure_key, []).append(pending.report)
    figures = [
        figure.model_copy(update={"reports": (*figure.reports, *reports.pop(figure.key))})
        if figure.key in reports
        else figure
        for figure in dataset.trade_figures
    ]
    # A figure only in the database comes along unchanged, carrying the new reports.
    source_keys = dict(session.exec(select(Source.id, Source.key)).all())
    for row in session.exec(select(TradeFigure)).all():
        key = figure_key(row.series, row.period)
        if key in reports:
            values = {
                name: getattr(row, name)
                for name in TradeFigureItem.model_fields
                if name not in ("source", "reports")
            }
            values.update(source=source_keys[row.source_id], reports=tuple(reports.pop(key)))
            figures.append(TradeFigureItem.model_validate(values))
    return Dataset.model_construct(**{**dict(dataset), "trade_figures": tuple(figures)})
