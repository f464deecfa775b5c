"""Export: every record with its source, as-of date and history; and it reads back losslessly."""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING, Any

import pytest
from sqlmodel import Session

from bot import db
from bot.bootstrap import open_database
from bot.services.dataset import parse_dataset
from bot.services.export import build_dataset, write_csv, write_json
from bot.services.loading import load_dataset
from bot.vocabulary import Actor

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from sqlalchemy import Engine

    from bot.config import Settings

INDIA_FY = [f"FY{year}-{(year + 1) % 100:02d}" for year in range(2016, 2025)]
CHINA_CY = ["2019", "2020", "2021", "2022", "2023", "2025"]


def export_json(engine: Engine) -> dict[str, Any]:
    with Session(engine) as session:
        dataset = build_dataset(session)
    buffer = io.StringIO()
    write_json(dataset, buffer)
    document: dict[str, Any] = json.loads(buffer.getvalue())
    return document


def test_json_export_holds_every_record_with_source_and_date(seeded_engine: Engine) -> None:
    exported = export_json(seeded_engine)

    assert {p["slug"] for p in exported["passes"]} == {"lipulekh", "shipki-la", "nathu-la"}
    periods = {(f["series"], f["period"]) for f in exported["trade_figures"]}
    assert {("india_fy", p) for p in INDIA_FY} <= periods
    assert {("china_cy", p) for p in CHINA_CY} <= periods
    assert ("china_cy", "2024") not in periods
    assert {"rare-earth-magnets", "urea", "specialty-fertilisers"} <= {
        d["slug"] for d in exported["deals"]
    }
    assert {f["slug"] for f in exported["flights"]} == {
        "kolkata-guangzhou", "shanghai-delhi", "delhi-guangzhou", "air-india-delhi-shanghai",
    }  # fmt: skip

    source_keys = {s["key"] for s in exported["sources"]}
    for section in ("trade_figures", "passes", "deals", "flights", "notes"):
        for record in exported[section]:
            assert record["source"] in source_keys, (section, record)
            assert record["as_of"], (section, record)
            assert record["updated_by"] == Actor.SEED

    nathu_history = [h for h in exported["history"] if h["record_key"] == "nathu-la"]
    assert {"2006-07-06", "2020-04-22", "2025-08-19"} <= {h["occurred_on"] for h in nathu_history}
    assert all(h["actor"] == Actor.SEED and h["at"] for h in exported["history"])

    cy2025 = next(f for f in exported["trade_figures"] if f["period"] == "2025")
    assert {"quantity": "exports", "value": "20.5"}.items() <= cy2025["reports"][0].items()


def _round_trip(engine: Engine, empty: Engine) -> None:
    first = export_json(engine)
    with db.session_scope(empty) as session:
        load_dataset(session, parse_dataset(first, origin="backup"), actor=Actor.IMPORT)
    second = export_json(empty)
    first.pop("exported_at")
    second.pop("exported_at")
    for section, items in first.items():
        assert second[section] == items, section
    assert any(h["actor"] == "tg:42" for h in second["history"])


def test_export_then_load_into_an_empty_database_reproduces_everything(
    edited_engine: Engine, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    empty = db.make_engine(make_settings(database_url=f"sqlite:///{tmp_path / 'empty.sqlite3'}"))
    db.upgrade(empty)
    _round_trip(edited_engine, empty)


@pytest.mark.postgres
def test_export_round_trip_from_sqlite_to_postgres(
    edited_engine: Engine, postgres_settings: Settings
) -> None:
    empty = db.make_engine(postgres_settings)
    _round_trip(edited_engine, empty)
    empty.dispose()


def test_csv_export_writes_one_file_per_table(seeded_engine: Engine, tmp_path: Path) -> None:
    with Session(seeded_engine) as session:
        dataset = build_dataset(session)
    files = write_csv(dataset, tmp_path / "backup")
    assert {f.name for f in files} == {
        "sources.csv", "trade_figures.csv", "figure_reports.csv", "passes.csv", "deals.csv",
        "flights.csv", "notes.csv", "composition.csv", "history.csv", "feeds.csv", "news.csv",
    }  # fmt: skip
    with (tmp_path / "backup" / "passes.csv").open(encoding="utf-8") as handle:
        passes = {row["slug"]: row for row in csv.DictReader(handle)}
    assert passes["nathu-la"]["status"] == "reopening_agreed"
    assert "Nathula" in passes["nathu-la"]["aliases"].split(" | ")
    with (tmp_path / "backup" / "trade_figures.csv").open(encoding="utf-8") as handle:
        figures = {row["period"]: row for row in csv.DictReader(handle)}
    assert figures["FY2024-25"]["deficit"] == "99.2"
    assert figures["FY2017-18"]["deficit"] == ""  # derived, never stored
    assert figures["2025-10"]["granularity"] == "month"
    assert figures["2025-04/2026-01"]["granularity"] == "cumulative"
    with (tmp_path / "backup" / "composition.csv").open(encoding="utf-8") as handle:
        groups = {row["key"]: row for row in csv.DictReader(handle)}
    electronics = groups["imports-2025-jan-oct-electronics"]
    assert (electronics["product_group"], electronics["value"]) == ("Electronics", "38")
    assert electronics["source"] == "newsdrum-pti-2025-12-19"


def test_open_database_is_what_export_uses(settings: Settings) -> None:
    engine = open_database(settings)
    assert export_json(engine)["format_version"] == 1


def test_the_hindi_texts_are_exported_beside_the_english(
    seeded_engine: Engine, tmp_path: Path
) -> None:
    document = export_json(seeded_engine)
    nathu = next(p for p in document["passes"] if p["slug"] == "nathu-la")
    assert nathu["note_hi"].startswith("44 साल बंद रहने के बाद 6 जुलाई 2006 को व्यापार फिर शुरू हुआ।")
    assert nathu["season_hi"] == "1 मई – 30 नवंबर, सोमवार से गुरुवार"
    magnets = next(d for d in document["deals"] if d["slug"] == "rare-earth-magnets")
    assert magnets["until_note_hi"].startswith("9 अक्टूबर 2025 के व्यापक")
    history = next(h for h in document["history"] if h["key"] == "nathu-la:status:2006-07-06")
    assert history["note_hi"] == "1962 के युद्ध के बाद से बंद नाथू ला के रास्ते व्यापार फिर शुरू हुआ।"
    cy2025 = next(f for f in document["trade_figures"] if f["period"] == "2025")
    assert cy2025["reports"][0]["note_hi"].startswith("बिना स्रोत बताए एक खबर में")

    folder = tmp_path / "csv"
    with Session(seeded_engine) as session:
        write_csv(build_dataset(session), folder)
    with (folder / "passes.csv").open(encoding="utf-8", newline="") as handle:
        passes = {row["slug"]: row for row in csv.DictReader(handle)}
    assert passes["nathu-la"]["note_hi"] == nathu["note_hi"]
    with (folder / "figure_reports.csv").open(encoding="utf-8", newline="") as handle:
        reports = list(csv.DictReader(handle))
    assert "note_hi" in reports[0]
    assert sum(1 for row in reports if row["note_hi"]) == 22
