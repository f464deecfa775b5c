"""Seeding: first load, repeat loads, editors' changes kept, revisions applied with history."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func
from sqlmodel import Session, SQLModel, col, select

from bot import db
from bot.bootstrap import describe_hindi, open_database, seed
from bot.models import BorderPass, StatusChange, TradeFigure
from bot.services.dataset import load_bundled_dataset
from bot.services.loading import load_dataset
from bot.services.trade import FlagKind, all_flags, series_views
from bot.vocabulary import Actor, Granularity, PassStatus, Quantity, RecordType, Series

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import Engine

    from bot.config import Settings


def row_counts(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        return {
            table.name: session.exec(select(func.count()).select_from(table)).one()
            for table in SQLModel.metadata.sorted_tables
        }


def test_seeding_twice_changes_nothing(engine: Engine) -> None:
    first = seed(engine)
    counts = row_counts(engine)
    second = seed(engine)
    assert first.total("inserted") > 100
    assert second.total("inserted") == second.total("updated") == 0
    assert row_counts(engine) == counts
    assert counts["border_pass"] == 3
    assert counts["trade_figure"] == 36  # 16 years, 7 years so far, 13 months
    assert counts["trade_composition"] == 18


def test_nathu_la_carries_its_real_history(seeded_engine: Engine) -> None:
    with Session(seeded_engine) as session:
        nathu = session.exec(select(BorderPass).where(BorderPass.slug == "nathu-la")).one()
        steps = session.exec(
            select(StatusChange)
            .where(StatusChange.record_key == "nathu-la", StatusChange.field == "status")
            .order_by(col(StatusChange.occurred_on))
        ).all()
    assert nathu.status is PassStatus.REOPENING_AGREED
    assert [(str(s.occurred_on), s.new_value) for s in steps] == [
        ("2006-07-06", "open"),
        ("2020-04-22", "suspended"),
        ("2025-08-19", "reopening_agreed"),
    ]
    assert steps[-1].source_id is not None  # the agreement of 19 Aug 2025 is sourced


def test_seed_never_overwrites_an_editors_change(seeded_engine: Engine) -> None:
    with db.session_scope(seeded_engine) as session:
        nathu = session.exec(select(BorderPass).where(BorderPass.slug == "nathu-la")).one()
        nathu.status = PassStatus.REOPENING_SCHEDULED
        nathu.updated_by = Actor.telegram(42)

    report = seed(seeded_engine)

    with Session(seeded_engine) as session:
        nathu = session.exec(select(BorderPass).where(BorderPass.slug == "nathu-la")).one()
    assert nathu.status is PassStatus.REOPENING_SCHEDULED
    assert report.total("kept") == 1
    assert report.kept == ["border_pass nathu-la (last changed by tg:42)"]


def test_a_revised_dataset_updates_seed_owned_records_with_history(seeded_engine: Engine) -> None:
    dataset = load_bundled_dataset()
    revised_passes = tuple(
        item.model_copy(update={"note": "Revised note."}) if item.slug == "shipki-la" else item
        for item in dataset.passes
    )
    revised = dataset.model_copy(update={"passes": revised_passes})

    with db.session_scope(seeded_engine) as session:
        report = load_dataset(session, revised, actor=Actor.SEED)

    assert report.counts[("border_pass", "updated")] == 1
    with Session(seeded_engine) as session:
        shipki = session.exec(select(BorderPass).where(BorderPass.slug == "shipki-la")).one()
        change = session.exec(
            select(StatusChange).where(
                StatusChange.record_type == RecordType.PASS,
                StatusChange.record_key == "shipki-la",
                StatusChange.field == "note",
            )
        ).one()
    assert shipki.note == "Revised note."
    assert shipki.version == 2
    assert change.new_value == "Revised note."
    assert change.actor == Actor.SEED


def test_a_failed_load_writes_nothing(engine: Engine) -> None:
    dataset = load_bundled_dataset()

    def interrupted_load() -> None:
        with db.session_scope(engine) as session:
            load_dataset(session, dataset, actor=Actor.SEED)
            raise RuntimeError("interrupted before commit")

    with pytest.raises(RuntimeError):
        interrupted_load()
    assert row_counts(engine)["source"] == 0


def test_derived_values_and_flags_after_seeding(seeded_engine: Engine) -> None:
    with Session(seeded_engine) as session:
        india = {view.figure.period: view for view in series_views(session, Series.INDIA_FY)}
        china = {view.figure.period: view for view in series_views(session, Series.CHINA_CY)}
        flags = {(v.figure.period, f.kind, f.quantity) for v, f in all_flags(session)}
        so_far = {
            view.figure.period: view
            for view in series_views(session, Series.INDIA_FY, Granularity.CUMULATIVE)
        }

    fy18 = india["FY2017-18"].values[Quantity.DEFICIT]
    assert (fy18.amount, fy18.derived) == (Decimal("63.05"), True)  # the SBI's 62.94 is a report
    fy23 = india["FY2022-23"].values[Quantity.DEFICIT]
    assert (fy23.amount, fy23.derived) == (Decimal("83.20"), True)
    fy24 = india["FY2023-24"].values[Quantity.DEFICIT]
    assert (fy24.amount, fy24.derived) == (Decimal("85.07"), False)  # reported as computed
    assert "FY2025-26" not in india  # no whole-year figure yet
    partial = so_far["2025-04/2025-12"].values[Quantity.DEFICIT]
    assert (partial.amount, partial.derived) == (Decimal("81.703"), True)  # April–December
    assert china["2025"].values[Quantity.DEFICIT].amount == Decimal("116.12")
    assert "2024" not in china

    assert ("2025", FlagKind.REPORT, Quantity.EXPORTS) in flags  # a news report's 20.5 vs 19.75
    assert ("FY2022-23", FlagKind.REPORT, Quantity.DEFICIT) in flags  # Moneycontrol's 77.6
    # 85.06, 85.08 and 85.09 against 85.07 are rounding, not disagreements.
    assert not any(period == "FY2023-24" for period, _, _ in flags)


def test_first_start_migrates_and_seeds_an_empty_database(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="bot.bootstrap")
    engine = open_database(settings)
    assert db.current_revision(engine) == db.head_revision()
    assert row_counts(engine)["trade_figure"] == 36
    (line,) = [r.getMessage() for r in caplog.records if r.name == "bot.bootstrap"]
    assert line.startswith("First start: created the database")
    assert "Hindi texts: 146 of 146; 0 missing" in line

    caplog.clear()
    open_database(settings)  # the second start neither migrates nor seeds again
    assert [r for r in caplog.records if r.name == "bot.bootstrap"] == []


@pytest.mark.postgres
def test_seed_on_postgres_is_idempotent_and_exact(
    make_settings: Callable[..., Settings], postgres_empty_url: str
) -> None:
    engine = open_database(make_settings(database_url=postgres_empty_url))
    counts = row_counts(engine)
    seed(engine)
    assert row_counts(engine) == counts
    with Session(engine) as session:
        fy25 = session.exec(select(TradeFigure).where(TradeFigure.period == "FY2024-25")).one()
    assert (fy25.exports, fy25.imports, fy25.deficit) == (
        Decimal("14.25"),
        Decimal("113.45"),
        Decimal("99.2"),
    )
    engine.dispose()


def test_the_seed_counts_and_names_the_texts_without_hindi(engine: Engine) -> None:
    bundled = load_bundled_dataset()
    dataset = bundled.model_copy(
        update={
            "passes": tuple(
                p.model_copy(update={"note_hi": None, "season_hi": None})
                if p.slug == "lipulekh"
                else p
                for p in bundled.passes
            ),
            "history": tuple(
                h.model_copy(update={"note_hi": None}) if h.key == "urea:event:2025-08" else h
                for h in bundled.history
            ),
        }
    )
    with db.session_scope(engine) as session:
        report = load_dataset(session, dataset, actor=Actor.SEED)
    assert (report.hindi.texts, report.hindi.translated, report.hindi.missing) == (146, 143, 3)
    assert report.hindi.untranslated == (
        "pass lipulekh note",
        "pass lipulekh season",
        "history urea:event:2025-08 note",
    )
    assert describe_hindi(report.hindi) == "Hindi texts: 143 of 146; 3 missing"
