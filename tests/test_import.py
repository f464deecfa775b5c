"""Import: files read back exactly what export writes, a dry run changes nothing, an applied
import overwrites as an editor would, and every broken file gets clear problems."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import func
from sqlmodel import Session, SQLModel, col, select

from bot import db
from bot.bootstrap import seed
from bot.models import BorderPass, FigureReport, Source, StatusChange, utcnow
from bot.partial_date import PartialDate
from bot.services.dataset import DatasetError, parse_dataset
from bot.services.export import build_dataset, write_csv, write_json
from bot.services.importing import (
    ImportFileError,
    ImportPlan,
    apply_import,
    describe_plan,
    plan_import,
    read_import_bytes,
    read_import_file,
)
from bot.services.loading import FieldChange
from bot.vocabulary import Actor, PassStatus
from tests.test_cli import tradewatch

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from sqlalchemy import Engine

    from bot.config import Settings

# The order a CSV export folder is imported in: what others cite comes first.
CSV_ORDER = (
    "sources", "trade_figures", "figure_reports", "passes", "deals", "flights", "notes",
    "composition", "history",
)  # fmt: skip
PASS_STATUSES = "open, closed_for_season, suspended, reopening_agreed or reopening_scheduled"


def row_counts(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        return {
            table.name: session.exec(select(func.count()).select_from(table)).one()
            for table in SQLModel.metadata.sorted_tables
        }


def exported(engine: Engine) -> dict[str, Any]:
    """The JSON backup of a database, without the export time (which always differs)."""
    with Session(engine) as session:
        dataset = build_dataset(session)
    buffer = io.StringIO()
    write_json(dataset, buffer)
    document: dict[str, Any] = json.loads(buffer.getvalue())
    document.pop("exported_at")
    return document


def empty_engine(make_settings: Callable[..., Settings], path: Path) -> Engine:
    """A migrated database with no rows at all (not seeded)."""
    engine = db.make_engine(make_settings(database_url=f"sqlite:///{path}"))
    db.upgrade(engine)
    return engine


def export_csv(engine: Engine, folder: Path) -> Path:
    with Session(engine) as session:
        write_csv(build_dataset(session), folder)
    return folder


def edit_csv(source: Path, target: Path, key: str, **changes: str) -> Path:
    """Copy a CSV, changing the cells of the row whose first key column is `key`."""
    with source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    key_column = "slug" if "slug" in rows[0] else "key"
    for row in rows:
        if row[key_column] == key:
            row.update(changes)
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return target


def nathu_la(engine: Engine) -> BorderPass:
    with Session(engine) as session:
        return session.exec(select(BorderPass).where(BorderPass.slug == "nathu-la")).one()


def problems_of(name: str, content: bytes) -> list[str]:
    with pytest.raises(ImportFileError) as caught:
        read_import_bytes(name, content)
    return [str(problem) for problem in caught.value.problems]


def plan_problems(engine: Engine, path: Path) -> list[str]:
    with Session(engine) as session, pytest.raises(ImportFileError) as caught:
        plan_import(session, read_import_file(path))
    return [str(problem) for problem in caught.value.problems]


def apply_file(engine: Engine, path: Path) -> ImportPlan:
    with db.session_scope(engine) as session:
        return apply_import(session, read_import_file(path))


# --- CSV ------------------------------------------------------------------------------------


def test_a_csv_with_one_bad_line_changes_nothing_and_names_line_and_column(
    seeded_engine: Engine, tmp_path: Path
) -> None:
    exported_passes = export_csv(seeded_engine, tmp_path / "backup") / "passes.csv"
    good = edit_csv(exported_passes, tmp_path / "passes.csv", "shipki-la", status="open")
    bad = edit_csv(good, good, "nathu-la", status="opne")  # lipulekh, shipki-la, nathu-la
    counts = row_counts(seeded_engine)

    with pytest.raises(ImportFileError) as caught:
        read_import_file(bad)

    assert [str(p) for p in caught.value.problems] == [
        f"passes.csv line 4, status: 'opne' is not one of {PASS_STATUSES}"
    ]
    (problem,) = caught.value.problems
    assert (problem.line, problem.column) == (4, "status")
    assert row_counts(seeded_engine) == counts
    with Session(seeded_engine) as session:
        shipki = session.exec(select(BorderPass).where(BorderPass.slug == "shipki-la")).one()
    assert shipki.status is PassStatus.REOPENING_SCHEDULED  # the good row was not applied


def test_a_csv_export_folder_imported_section_by_section_reproduces_every_record(
    edited_engine: Engine, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    folder = export_csv(edited_engine, tmp_path / "backup")
    empty = empty_engine(make_settings, tmp_path / "empty.sqlite3")

    for section in CSV_ORDER:
        plan = apply_file(empty, folder / f"{section}.csv")
        assert plan.inserted or plan.history, section
        assert not plan.changes, section

    assert exported(empty) == exported(edited_engine)
    empty.dispose()


def test_a_csv_section_is_told_by_its_header_when_the_name_says_nothing(
    seeded_engine: Engine, tmp_path: Path
) -> None:
    exported_passes = export_csv(seeded_engine, tmp_path / "backup") / "passes.csv"
    renamed = edit_csv(exported_passes, tmp_path / "Nathu update.csv", "nathu-la", status="open")
    with Session(seeded_engine) as session:
        plan = plan_import(session, read_import_file(renamed))
    assert [(c.kind, c.key, c.field) for c in plan.changes] == [
        ("border_pass", "nathu-la", "status")
    ]

    (problem,) = problems_of("changes.csv", b"slug,status\nnathu-la,open\n")
    assert problem.startswith("changes.csv line 1: cannot tell which section this CSV holds")


def test_figure_reports_csv_needs_its_figures_and_adds_reports_once(
    seeded_engine: Engine, tmp_path: Path
) -> None:
    header = "series,period,quantity,value,source,note\n"
    reports = tmp_path / "figure_reports.csv"
    reports.write_text(header + "india_fy,FY2024-25,imports,113.5,pti-2026-01-10,Rounded.\n")
    before = row_counts(seeded_engine)["figure_report"]

    first = apply_file(seeded_engine, reports)
    second = apply_file(seeded_engine, reports)

    assert [(r.kind, r.about) for r in first.inserted] == [
        ("figure_report", "figure india_fy:FY2024-25")
    ]
    assert not second.changed_anything
    assert row_counts(seeded_engine)["figure_report"] == before + 1
    with Session(seeded_engine) as session:
        added = session.exec(select(FigureReport).where(FigureReport.note == "Rounded.")).one()
    assert str(added.value) == "113.5"

    unknown = tmp_path / "more" / "figure_reports.csv"
    unknown.parent.mkdir()
    unknown.write_text(header + "china_cy,2024,exports,18,pti-2026-01-10,\n")
    assert plan_problems(seeded_engine, unknown) == [
        "figure_reports.csv line 2, period: there is no trade figure china_cy 2024 in the "
        "database: import its trade_figures row first"
    ]


# --- JSON backup ----------------------------------------------------------------------------


def test_a_json_backup_reimported_into_its_own_database_changes_nothing(
    edited_engine: Engine, tmp_path: Path
) -> None:
    backup = tmp_path / "backup.json"
    backup.write_text(json.dumps(exported(edited_engine)), encoding="utf-8")
    counts = row_counts(edited_engine)

    plan = apply_file(edited_engine, backup)

    # The editor's history row has no key in the database; it is matched, not copied.
    assert not plan.changed_anything, describe_plan(plan)
    assert row_counts(edited_engine) == counts


def test_a_json_backup_into_a_seeded_database_overwrites_and_then_plans_nothing(
    edited_engine: Engine, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    backup = tmp_path / "backup.json"
    backup.write_text(json.dumps(exported(edited_engine)), encoding="utf-8")
    other = empty_engine(make_settings, tmp_path / "other.sqlite3")
    seed(other)

    first = apply_file(other, backup)
    second = apply_file(other, backup)

    assert first.changes == (
        FieldChange("border_pass", "nathu-la", "status", "reopening_agreed", "reopening_scheduled"),
    )
    assert [row.about for row in first.history] == ["pass nathu-la"]  # the editor's row
    assert not second.changed_anything
    assert exported(other)["history"][-1]["actor"] == "tg:42"
    other.dispose()


def test_json_problems_name_the_item_and_the_line_it_starts_on(
    seeded_engine: Engine, tmp_path: Path
) -> None:
    document = exported(seeded_engine)
    document["passes"][2]["status"] = "opne"
    document["trade_figures"][0]["reports"] = [
        {"quantity": "exports", "value": "-1", "source": "x"}
    ]
    text = json.dumps(document, indent=2)
    nathu_brace = text.rindex("{", 0, text.index('"slug": "nathu-la"'))
    nathu_line = text[:nathu_brace].count("\n") + 1
    figure_line = text[: text.index('"reports": [')].count("\n") + 2

    problems = problems_of("backup.json", text.encode())

    assert f"backup.json line {nathu_line} (passes item 3), status: 'opne' is not one of " in (
        "\n".join(problems)
    )
    assert (
        f"backup.json line {figure_line} (trade_figures item 1), reports[0].value: "
        "Input should be greater than 0 (got '-1')"
    ) in problems


# --- YAML -----------------------------------------------------------------------------------


def test_the_bundled_yaml_imports_with_no_change_into_a_seeded_database(
    seeded_engine: Engine,
) -> None:
    from bot.services.dataset import bundled_data_dir

    for path in sorted(bundled_data_dir().glob("*.yaml")):
        with Session(seeded_engine) as session:
            plan = plan_import(session, read_import_file(path))
        assert not plan.changed_anything, (path.name, describe_plan(plan))


YAML_PASS = """\
passes:
  - slug: new-pass
    name: New Pass
    region: Somewhere
    status: {status}
    source: {source}
    as_of: {as_of}
"""


def test_yaml_problems_name_the_line_of_the_field() -> None:
    text = YAML_PASS.format(status="opne", source="pti-2025-12-15", as_of="2025-13-01")
    text += "    name: Again\n"
    assert problems_of("passes.yaml", text.encode()) == [
        f"passes.yaml line 5 (passes item 1), status: 'opne' is not one of {PASS_STATUSES}",
        "passes.yaml line 7 (passes item 1), as_of: month 13 is out of range (got '2025-13-01')",
        "passes.yaml line 8: duplicate key 'name' (first on line 3)",
    ]


def test_a_file_may_cite_sources_that_only_the_database_has(
    seeded_engine: Engine, tmp_path: Path
) -> None:
    content = YAML_PASS.format(status="open", source="pti-2025-12-15", as_of="2025-12-15")
    path = tmp_path / "new.yaml"
    path.write_text(content)
    with Session(seeded_engine) as session:
        plan = plan_import(session, read_import_file(path))
    assert describe_plan(plan) == [
        "+ passes new-pass (inserted)",
        "passes: 1 inserted",
        "new.yaml: would insert 1 row; 0 unchanged",
    ]
    # The bundled data keeps the strict check: every reference inside the document.
    with pytest.raises(DatasetError, match="unknown source 'pti-2025-12-15'"):
        parse_dataset(
            {"passes": [{**_yaml_item(content), "as_of": "2025-12-15"}]}, origin="bundled"
        )

    missing = tmp_path / "missing.yaml"
    missing.write_text(YAML_PASS.format(status="open", source="no-such-source", as_of="2025"))
    assert plan_problems(seeded_engine, missing) == [
        "missing.yaml line 6 (passes item 1), source: 'no-such-source' is not a source in this "
        "file or in the database"
    ]


def _yaml_item(content: str) -> dict[str, Any]:
    import yaml

    item: dict[str, Any] = yaml.safe_load(content)["passes"][0]
    return item


def test_history_must_point_at_a_record_in_the_file_or_the_database(
    seeded_engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "history.csv"
    path.write_text(
        "key,record_type,record_key,field,old,new,note,source,occurred_on,actor,at\n"
        "x:1,pass,nathu-la,,,,Talks held.,,2025-09,,\n"
        "x:2,pass,no-such-pass,,,,Talks held.,,2025-09,,\n"
    )
    assert plan_problems(seeded_engine, path) == [
        "history.csv line 3, record_key: there is no pass 'no-such-pass' in this file or in "
        "the database"
    ]


# --- broken files ---------------------------------------------------------------------------

PASS_HEADER = "slug,name,region,status,source,as_of"


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("garbage.csv", bytes(range(128, 256)) * 4, "garbage.csv line 1: is not UTF-8 text"),
        ("garbage.json", b"{\x00\x01\x02}", "garbage.json: is not a text file"),
        ("empty.csv", b"", "empty.csv: is empty"),
        ("blank.yaml", b"\n  \n", "blank.yaml: is empty"),
        ("backup.xlsx", b"PK\x03\x04", "backup.xlsx: cannot import .xlsx files: use .json"),
        ("README", b"text", "README: cannot import a file without an extension"),
        (
            "passes.csv",
            f"{PASS_HEADER},colour\nx,X,R,open,pti-2025-12-15,2025,red\n".encode(),
            "passes.csv line 1, colour: is not a column of passes.csv (its columns: source, ",
        ),
        (
            "passes.csv",
            f"{PASS_HEADER},status\n".encode(),
            "passes.csv line 1, status: appears twice in the header",
        ),
        (
            "passes.csv",
            f"{PASS_HEADER}\nx,X,R,open,pti-2025-12-15,2025\nx,Y,R,open,pti-2025-12-15,2025\n".encode(),
            "passes.csv line 3: duplicate key 'x' in passes (first on line 2)",
        ),
        (
            "passes.csv",
            f"{PASS_HEADER}\nx,X,R,open,pti-2025-12-15,2025-13-01\n".encode(),
            "passes.csv line 2, as_of: month 13 is out of range (got '2025-13-01')",
        ),
        (
            "passes.csv",
            f"{PASS_HEADER}\nx,X,R,open,pti-2025-12-15,20 Aug 2025\n".encode(),
            "passes.csv line 2, as_of: '20 Aug 2025' is not a date like 2020, 2020-04 or",
        ),
        (
            "passes.csv",
            f"{PASS_HEADER}\nx,X,R,,pti-2025-12-15,2025\n".encode(),
            "passes.csv line 2, status: is empty; a value is required",
        ),
        (
            "passes.csv",
            f"{PASS_HEADER}\nx,X,R,open,pti-2025-12-15,2025,extra\n".encode(),
            "passes.csv line 2: has 7 cells but the header has 6 columns",
        ),
        (
            "trade_figures.csv",
            b"series,period,period_start,period_end,partial,stage,deficit,source,as_of\n"
            b"china_cy,2025,2025-01-01,2025-12-31,maybe,final,116,gacc,2026\n",
            "trade_figures.csv line 2, partial: Input should be a valid boolean",
        ),
        ("backup.json", b'{"passes": [}', "backup.json line 1: is not valid JSON: "),
        ("deep.json", b"[" * 100_000, "deep.json: is nested too deeply to be a dataset"),
        ("list.json", b"[1, 2]", "list.json: expected a mapping of sections at the top level"),
        ("data.yaml", b"passes: [\n", "data.yaml line 2: is not valid YAML: "),
        ("data.yaml", b"bananas: []\n", "data.yaml line 1: unknown section 'bananas'"),
        ("data.yaml", b"passes: 3\n", "data.yaml line 1: section passes must be a list"),
        ("data.yaml", b"passes: [3]\n", "data.yaml line 1 (passes item 1): each item of passes"),
        (
            "data.yml",
            b"history:\n- key: k\n  record_type: pass\n  record_key: x\n  note: n\n"
            b"  at: 2025-08-20 10:00:00\n",
            "data.yml line 6 (history item 1), at: 2025-08-20T10:00:00 has no time zone",
        ),
        (
            "data.yml",
            b"format_version: 2\n",
            "data.yml line 1: format_version 2 is not one this bot reads (1)",
        ),
    ],
)
def test_broken_files_get_clear_problems(name: str, content: bytes, expected: str) -> None:
    problems = problems_of(name, content)
    assert any(problem.startswith(expected) for problem in problems), problems


def test_a_long_value_the_database_would_refuse_is_a_problem() -> None:
    content = f"{PASS_HEADER},indian_mart\nx,X,R,open,s,2025,{'m' * 201}\n".encode()
    assert problems_of("passes.csv", content) == [
        "passes.csv line 2, indian_mart: is 201 characters long; at most 200 fit"
    ]


# --- plan and apply -------------------------------------------------------------------------


def test_a_dry_run_changes_nothing_and_lists_the_change(
    seeded_engine: Engine, tmp_path: Path
) -> None:
    exported_passes = export_csv(seeded_engine, tmp_path / "backup") / "passes.csv"
    path = edit_csv(exported_passes, tmp_path / "passes.csv", "nathu-la", status="open")
    counts = row_counts(seeded_engine)
    progress: list[tuple[int, int]] = []

    with Session(seeded_engine) as session:
        plan = plan_import(session, read_import_file(path), progress=lambda *p: progress.append(p))
        session.commit()  # even a commit after the dry run writes nothing

    assert describe_plan(plan) == [
        "passes nathu-la: status reopening_agreed → open",
        "passes: 1 updated",
        "passes.csv: would change 1 field in 1 record, add 1 history row; 2 unchanged",
    ]
    assert not plan.applied
    assert row_counts(seeded_engine) == counts
    assert nathu_la(seeded_engine).status is PassStatus.REOPENING_AGREED
    assert progress == [(1, 3), (2, 3), (3, 3)]

    applied = apply_file(seeded_engine, path)
    assert applied.applied
    assert (applied.changes, applied.inserted, applied.history, applied.unchanged) == (
        plan.changes,
        plan.inserted,
        plan.history,
        plan.unchanged,
    )


def test_apply_overwrites_an_editors_record_and_writes_history_as_import(
    edited_engine: Engine, tmp_path: Path
) -> None:
    exported_passes = export_csv(edited_engine, tmp_path / "backup") / "passes.csv"
    path = edit_csv(exported_passes, tmp_path / "passes.csv", "nathu-la", status="open")
    assert nathu_la(edited_engine).updated_by == "tg:42"

    plan = apply_file(edited_engine, path)

    nathu = nathu_la(edited_engine)
    assert plan.changes == (
        FieldChange("border_pass", "nathu-la", "status", "reopening_scheduled", "open"),
    )
    assert (nathu.status, nathu.updated_by, nathu.version) == (PassStatus.OPEN, "import", 2)
    with Session(edited_engine) as session:
        change = session.exec(select(StatusChange).where(StatusChange.actor == Actor.IMPORT)).one()
    assert (change.record_key, change.field, change.old_value, change.new_value) == (
        "nathu-la",
        "status",
        "reopening_scheduled",
        "open",
    )
    assert change.note == "imported from passes.csv"
    # The seed treats the import as an editor's change: it keeps it.
    assert seed(edited_engine).kept == ["border_pass nathu-la (last changed by import)"]


def test_an_import_is_one_transaction(
    seeded_engine: Engine, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    backup = tmp_path / "backup.json"
    backup.write_text(json.dumps(exported(seeded_engine)), encoding="utf-8")
    dataset = read_import_file(backup)
    empty = empty_engine(make_settings, tmp_path / "empty.sqlite3")

    def interrupt(done: int, total: int) -> None:
        if done == total // 2:
            raise RuntimeError("interrupted halfway")

    with pytest.raises(RuntimeError), db.session_scope(empty) as session:
        apply_import(session, dataset, progress=interrupt)

    assert set(row_counts(empty).values()) == {0}
    empty.dispose()


# --- the command line -----------------------------------------------------------------------


@pytest.mark.slow
def test_cli_restores_a_json_backup_into_an_empty_database(
    edited_engine: Engine, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    folder = tmp_path / "restore"
    folder.mkdir()
    (folder / "backup.json").write_text(json.dumps(exported(edited_engine)), encoding="utf-8")
    assert tradewatch(folder, "db", "upgrade").returncode == 0  # migrated, not seeded

    dry = tradewatch(folder, "import", "backup.json")
    applied = tradewatch(folder, "import", "backup.json", "--apply")
    again = tradewatch(folder, "import", "backup.json")

    assert dry.returncode == applied.returncode == again.returncode == 0, applied.stderr
    assert "+ passes nathu-la (inserted)" in dry.stdout
    assert dry.stdout.splitlines()[-1] == (
        "Dry run: nothing was changed. Run again with --apply to apply it."
    )
    assert "backup.json: inserted " in applied.stdout
    assert "Dry run" not in applied.stdout
    assert "backup.json: nothing to change" in again.stdout
    restored = db.make_engine(
        make_settings(database_url=f"sqlite:///{folder / 'data' / 'tradewatch.sqlite3'}")
    )
    assert exported(restored) == exported(edited_engine)
    assert any(h["actor"] == "tg:42" for h in exported(restored)["history"])
    restored.dispose()


@pytest.mark.slow
def test_cli_dry_run_then_apply_a_changed_pass(tmp_path: Path) -> None:
    assert tradewatch(tmp_path, "seed").returncode == 0
    assert tradewatch(tmp_path, "export", "--format", "csv", "--out", "backup").returncode == 0
    edit_csv(tmp_path / "backup" / "passes.csv", tmp_path / "passes.csv", "nathu-la",
             status="reopening_scheduled")  # fmt: skip

    dry = tradewatch(tmp_path, "import", "passes.csv")
    assert dry.returncode == 0, dry.stderr
    assert "passes nathu-la: status reopening_agreed → reopening_scheduled" in dry.stdout
    assert "Dry run: nothing was changed." in dry.stdout
    status = json.loads(tradewatch(tmp_path, "export").stdout)["passes"][2]["status"]
    assert status == "reopening_agreed"

    applied = tradewatch(tmp_path, "import", "passes.csv", "--apply")
    assert applied.returncode == 0, applied.stderr
    assert "passes nathu-la: status reopening_agreed → reopening_scheduled" in applied.stdout
    assert "passes.csv: changed 1 field in 1 record, added 1 history row" in applied.stdout
    backup = json.loads(tradewatch(tmp_path, "export").stdout)
    assert backup["passes"][2]["status"] == "reopening_scheduled"
    assert backup["history"][-1]["actor"] == "import"

    again = tradewatch(tmp_path, "import", "passes.csv", "--apply")
    assert "passes.csv: nothing to change (3 rows already up to date)" in again.stdout


@pytest.mark.slow
def test_cli_problems_are_one_line_each_and_exit_1(tmp_path: Path) -> None:
    assert tradewatch(tmp_path, "seed").returncode == 0
    (tmp_path / "passes.csv").write_text(
        f"{PASS_HEADER}\nx,X,R,opne,pti-2025-12-15,2025\ny,Y,R,open,pti-2025-12-15,2025-13\n"
    )
    result = tradewatch(tmp_path, "import", "passes.csv", "--apply")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"tradewatch: passes.csv line 2, status: 'opne' is not one of {PASS_STATUSES}",
        "tradewatch: passes.csv line 3, as_of: month 13 is out of range (got '2025-13')",
    ]

    (tmp_path / "refs.csv").write_text(f"{PASS_HEADER}\nx,X,R,open,nope,2025\n")
    result = tradewatch(tmp_path, "import", "refs.csv", "--apply")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "tradewatch: refs.csv line 2, source: 'nope' is not a source in this file or in the "
        "database"
    ]


@pytest.mark.slow
def test_cli_usage_errors_exit_2(tmp_path: Path) -> None:
    missing = tradewatch(tmp_path, "import", "nowhere.json")
    assert missing.returncode == 2
    assert missing.stderr.splitlines() == ["tradewatch: nowhere.json does not exist"]
    assert not (tmp_path / "data").exists()  # nothing was created for a file that is not there

    no_file = tradewatch(tmp_path, "import")
    assert no_file.returncode == 2
    assert "Traceback" not in no_file.stderr


@pytest.mark.slow
def test_cli_progress_bar_on_large_files_only_when_asked_or_watched(tmp_path: Path) -> None:
    assert tradewatch(tmp_path, "seed").returncode == 0
    rows = "".join(f"note-{n},trade,,Note {n}.,,pti-2025-12-15,2025-12-15\n" for n in range(250))
    (tmp_path / "notes.csv").write_text("key,topic,subject,text,occurred_on,source,as_of\n" + rows)

    quiet = tradewatch(tmp_path, "import", "notes.csv")
    forced = tradewatch(tmp_path, "import", "notes.csv", "--progress")

    assert quiet.returncode == forced.returncode == 0
    assert quiet.stderr == ""  # standard error is not a terminal here
    assert "import: 100%" in forced.stderr
    assert "250/250" in forced.stderr
    assert "notes.csv: would insert 250 rows; 0 unchanged" in forced.stdout
    assert "+ 230 more notes (inserted)" in forced.stdout


# --- PostgreSQL -----------------------------------------------------------------------------


@pytest.mark.postgres
def test_a_json_backup_applies_into_an_empty_postgres_database(
    edited_engine: Engine, postgres_settings: Settings, tmp_path: Path
) -> None:
    backup = tmp_path / "backup.json"
    backup.write_text(json.dumps(exported(edited_engine)), encoding="utf-8")
    engine = db.make_engine(postgres_settings)

    plan = apply_file(engine, backup)
    with Session(engine) as session:  # the dry run's savepoint on PostgreSQL
        again = plan_import(session, read_import_file(backup))

    assert plan.inserted
    assert not plan.changes
    assert not again.changed_anything
    assert exported(engine) == exported(edited_engine)
    engine.dispose()


def test_an_import_updates_a_sources_details(seeded_engine: Engine, tmp_path: Path) -> None:
    folder = export_csv(seeded_engine, tmp_path / "backup")
    changed = edit_csv(
        folder / "sources.csv",
        tmp_path / "sources.csv",
        "pti-2025-12-15",
        url="https://example.org/pti-shipki-la",
    )
    with Session(seeded_engine) as session:
        plan = plan_import(session, read_import_file(changed))
    assert [(c.kind, c.key, c.field, c.new) for c in plan.changes] == [
        ("source", "pti-2025-12-15", "url", "https://example.org/pti-shipki-la")
    ]
    apply_file(seeded_engine, changed)
    with Session(seeded_engine) as session:
        source = session.exec(select(Source).where(Source.key == "pti-2025-12-15")).one()
    assert source.url == "https://example.org/pti-shipki-la"
    with Session(seeded_engine) as session:
        assert not plan_import(session, read_import_file(changed)).changes


def test_an_import_updates_another_sources_reported_value(
    seeded_engine: Engine, tmp_path: Path
) -> None:
    backup = exported(seeded_engine)
    cy2025 = next(f for f in backup["trade_figures"] if f["period"] == "2025")
    cy2025["reports"][0]["value"] = "20.4"
    path = tmp_path / "backup.json"
    path.write_text(json.dumps(backup), encoding="utf-8")
    plan = apply_file(seeded_engine, path)
    assert [(c.kind, c.field, c.old, c.new) for c in plan.changes] == [
        ("figure_report", "value", "20.5", "20.4")
    ]
    with Session(seeded_engine) as session:
        values = session.exec(select(col(FigureReport.value))).all()
    assert Decimal("20.4") in values


# --- what an import changes, and whom its history credits ------------------------------------


def shipki_la(engine: Engine) -> BorderPass:
    with Session(engine) as session:
        return session.exec(select(BorderPass).where(BorderPass.slug == "shipki-la")).one()


def source_key(engine: Engine, source_id: int | None) -> str | None:
    with Session(engine) as session:
        source = session.get(Source, source_id) if source_id is not None else None
        return None if source is None else source.key


def import_rows(engine: Engine) -> list[StatusChange]:
    with Session(engine) as session:
        rows = session.exec(select(StatusChange).where(StatusChange.actor == Actor.IMPORT))
        return list(rows.all())


def test_a_csv_changes_only_the_columns_it_has(seeded_engine: Engine, tmp_path: Path) -> None:
    before = nathu_la(seeded_engine).model_dump()
    path = tmp_path / "passes.csv"
    path.write_text("slug,status,status_since\nnathu-la,reopening_scheduled,2026-05-01\n")

    with Session(seeded_engine) as session:
        plan = plan_import(session, read_import_file(path))
    applied = apply_file(seeded_engine, path)

    today = PartialDate.of(utcnow().date())
    assert (
        plan.changes
        == applied.changes
        == (
            FieldChange(
                "border_pass", "nathu-la", "status", "reopening_agreed", "reopening_scheduled"
            ),
            FieldChange("border_pass", "nathu-la", "status_since", "2025-08-19", "2026-05-01"),
            FieldChange(
                "border_pass",
                "nathu-la",
                "source",
                before_source(seeded_engine, before),
                "trade-watch-editors",
            ),
            FieldChange("border_pass", "nathu-la", "as_of", "2025-08-20", today.isoformat()),
        )
    )
    after = nathu_la(seeded_engine).model_dump()
    assert {name for name in before if before[name] != after[name]} == {
        "status", "status_since", "source_id", "as_of", "updated_by", "updated_at", "version",
    }  # fmt: skip
    # Importing it again changes nothing.
    with Session(seeded_engine) as session:
        assert not plan_import(session, read_import_file(path)).changed_anything


def before_source(engine: Engine, record: dict[str, Any]) -> str | None:
    return source_key(engine, record["source_id"])


def test_an_empty_cell_clears_an_optional_column_and_a_column_left_out_is_kept(
    seeded_engine: Engine, tmp_path: Path
) -> None:
    before = nathu_la(seeded_engine)
    path = tmp_path / "passes.csv"
    path.write_text(
        "slug,season,expected_reopening,source,as_of\nnathu-la,,2026-05,pti-2025-12-15,2025-12-15\n"
    )
    apply_file(seeded_engine, path)
    after = nathu_la(seeded_engine)
    assert (after.season, str(after.expected_reopening)) == (None, "2026-05")
    assert (after.aliases, after.indian_mart, after.note, after.status) == (
        before.aliases, before.indian_mart, before.note, before.status,
    )  # fmt: skip
    assert (source_key(seeded_engine, after.source_id), str(after.as_of)) == (
        "pti-2025-12-15",
        "2025-12-15",
    )
    # The history says the season was cleared, and a backup still exports and imports.
    (cleared,) = [row for row in import_rows(seeded_engine) if row.field == "season"]
    assert (cleared.old_value, cleared.new_value) == (before.season, "")
    backup = tmp_path / "backup.json"
    backup.write_text(json.dumps(exported(seeded_engine)), encoding="utf-8")
    assert not apply_file(seeded_engine, backup).changed_anything


def test_a_status_changed_by_import_starts_on_the_files_date_or_the_import_date(
    seeded_engine: Engine, tmp_path: Path
) -> None:
    today = PartialDate.of(utcnow().date())
    no_column = tmp_path / "a" / "passes.csv"
    no_column.parent.mkdir()
    no_column.write_text("slug,status\nshipki-la,open\n")
    empty_cell = tmp_path / "b" / "passes.csv"
    empty_cell.parent.mkdir()
    empty_cell.write_text("slug,status,status_since\nlipulekh,open,\n")
    backup = exported(seeded_engine)
    nathu = next(p for p in backup["passes"] if p["slug"] == "nathu-la")
    nathu.update(status="open", status_since=None)
    null_date = tmp_path / "backup.json"
    null_date.write_text(json.dumps(backup), encoding="utf-8")
    dated = tmp_path / "c" / "passes.csv"
    dated.parent.mkdir()
    dated.write_text("slug,status,status_since\nshipki-la,suspended,2026-06-02\n")

    for path in (null_date, no_column, empty_cell, dated):
        apply_file(seeded_engine, path)

    with Session(seeded_engine) as session:
        passes = {p.slug: p for p in session.exec(select(BorderPass)).all()}
    assert {slug: (p.status, p.status_since) for slug, p in passes.items()} == {
        "shipki-la": (PassStatus.SUSPENDED, PartialDate(2026, 6, 2)),
        "lipulekh": (PassStatus.OPEN, today),
        "nathu-la": (PassStatus.OPEN, today),
    }
    status_rows = [row for row in import_rows(seeded_engine) if row.field == "status"]
    assert [(row.record_key, row.occurred_on) for row in status_rows] == [
        ("nathu-la", today),
        ("shipki-la", today),
        ("lipulekh", today),
        ("shipki-la", PartialDate(2026, 6, 2)),
    ]


def test_history_rows_credit_the_source_the_file_gives_or_the_editors(
    seeded_engine: Engine, tmp_path: Path
) -> None:
    cited = tmp_path / "a" / "passes.csv"
    cited.parent.mkdir()
    cited.write_text("slug,status,source,as_of\nnathu-la,open,pti-2025-12-15,2025-12-15\n")
    uncited = tmp_path / "b" / "passes.csv"
    uncited.parent.mkdir()
    uncited.write_text("slug,status,source,as_of\nshipki-la,open,,\n")

    apply_file(seeded_engine, cited)
    apply_file(seeded_engine, uncited)

    credited = {
        (row.record_key, row.field): source_key(seeded_engine, row.source_id)
        for row in import_rows(seeded_engine)
    }
    assert credited == {
        ("nathu-la", "status"): "pti-2025-12-15",
        ("nathu-la", "status_since"): "pti-2025-12-15",
        ("shipki-la", "status"): "trade-watch-editors",
        ("shipki-la", "status_since"): "trade-watch-editors",
    }
    shipki = shipki_la(seeded_engine)
    assert (source_key(seeded_engine, shipki.source_id), shipki.as_of) == (
        "trade-watch-editors",
        PartialDate.of(utcnow().date()),
    )


def test_a_new_record_in_a_csv_needs_every_required_column(
    seeded_engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "passes.csv"
    path.write_text("slug,name,region,source,as_of\nx,X,R,pti-2025-12-15,2025\n")
    assert plan_problems(seeded_engine, path) == [
        "passes.csv line 2, status: is needed for a new pass ('x' is not in the database)"
    ]
    path.write_text("slug,status\nnathu-la,open\nnew-pass,open\n")
    assert plan_problems(seeded_engine, path) == [
        f"passes.csv line 3, {column}: is needed for a new pass ('new-pass' is not in the database)"
        for column in ("source", "as_of", "name", "region")
    ]


def test_the_import_summary_counts_the_rows_it_wrote(seeded_engine: Engine, tmp_path: Path) -> None:
    from bot.rendering import Renderer
    from bot.telegram.plain import html_to_text

    exported_passes = export_csv(seeded_engine, tmp_path / "backup") / "passes.csv"
    path = edit_csv(
        exported_passes, tmp_path / "passes.csv", "nathu-la", status="open", status_since="2026-05"
    )
    counts = row_counts(seeded_engine)

    plan = apply_file(seeded_engine, path)

    written = row_counts(seeded_engine)["status_change"] - counts["status_change"]
    assert written == plan.history_rows == 2
    assert describe_plan(plan)[-1] == (
        "passes.csv: changed 2 fields in 1 record, added 2 history rows; 2 unchanged"
    )
    renderer = Renderer()
    for template in ("admin/import_plan.html.j2", "admin/import_applied.html.j2"):
        text = html_to_text(renderer.render(template, name="passes.csv", plan=plan))
        assert ("2 fields" in text, "in 1 record" in text, "2 history rows" in text) == (
            True,
            True,
            True,
        ), text


def test_a_row_that_changes_only_the_citation_writes_one_history_event(
    seeded_engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "passes.csv"
    path.write_text("slug,source,as_of\nnathu-la,pti-2025-12-15,2025-12-15\n")

    plan = apply_file(seeded_engine, path)

    assert [c.field for c in plan.changes] == ["source", "as_of"]
    (event,) = import_rows(seeded_engine)
    assert (event.field, event.note, plan.history_rows) == (
        None,
        "imported from passes.csv: source pti-2025-12-15, as of 15 Dec 2025",
        1,
    )
    assert source_key(seeded_engine, event.source_id) == "pti-2025-12-15"


# --- Hindi texts ----------------------------------------------------------------------------


def test_a_csv_column_of_hindi_changes_the_hindi_alone(
    seeded_engine: Engine, tmp_path: Path
) -> None:
    before = nathu_la(seeded_engine)
    path = tmp_path / "passes.csv"
    path.write_text("slug,note_hi\nnathu-la,नाथू ला से व्यापार 2006 में फिर शुरू हुआ।\n", "utf-8")
    applied = apply_file(seeded_engine, path)
    after = nathu_la(seeded_engine)
    assert after.note_hi == "नाथू ला से व्यापार 2006 में फिर शुरू हुआ।"
    assert (after.note, after.season_hi) == (before.note, before.season_hi)
    assert next(change.field for change in applied.changes) == "note_hi"
    (row,) = [row for row in import_rows(seeded_engine) if row.field == "note_hi"]
    assert (row.old_value, row.new_value) == (before.note_hi, after.note_hi)


def test_a_csv_that_clears_a_text_clears_its_hindi_unless_it_gives_one(
    seeded_engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "passes.csv"
    path.write_text("slug,season\nshipki-la,\n", "utf-8")
    apply_file(seeded_engine, path)
    with Session(seeded_engine) as session:
        shipki = session.exec(select(BorderPass).where(BorderPass.slug == "shipki-la")).one()
    assert (shipki.season, shipki.season_hi) == (None, None)
    # Hindi kept while its English is cleared is refused, naming the line and the column.
    path.write_text("slug,note,note_hi\nnathu-la,,कुछ भी\n", "utf-8")
    assert plan_problems(seeded_engine, path) == [
        "passes.csv line 2: note_hi is the Hindi of note, which is empty: give note too"
    ]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        (
            "passes.csv",
            f"{'slug'},note_hi\nnathu-la,{'क' * 3001}\n".encode(),
            "passes.csv line 2, note_hi: is 3001 characters long; at most 3000 fit",
        ),
        (
            "backup.json",
            json.dumps(
                {
                    "history": [
                        {
                            "key": "k",
                            "record_type": "pass",
                            "record_key": "nathu-la",
                            "note": "Note",
                            "note_hi": 5,
                        }
                    ]
                }
            ).encode(),
            "backup.json line 1 (history item 1), note_hi: Input should be a valid string (got 5)",
        ),
        (
            "notes.yaml",
            "notes:\n  - key: k\n    topic: passes\n    text_hi: कुछ\n    source: s\n"
            "    as_of: 2025\n".encode(),
            "notes.yaml line 2 (notes item 1), text: is missing; a value is required",
        ),
    ],
)
def test_bad_hindi_gets_a_clear_problem(name: str, content: bytes, expected: str) -> None:
    problems = problems_of(name, content)
    assert any(problem.startswith(expected) for problem in problems), problems


def test_a_file_with_one_bad_hindi_text_writes_nothing(
    seeded_engine: Engine, tmp_path: Path
) -> None:
    counts = row_counts(seeded_engine)
    before = nathu_la(seeded_engine)
    path = tmp_path / "passes.csv"
    path.write_text(f"slug,season_hi\nnathu-la,1 मई से\nshipki-la,{'क' * 451}\n", encoding="utf-8")
    with pytest.raises(ImportFileError) as caught:
        apply_file(seeded_engine, path)
    assert [str(p) for p in caught.value.problems] == [
        "passes.csv line 3, season_hi: is 451 characters long; at most 450 fit"
    ]
    assert row_counts(seeded_engine) == counts
    assert nathu_la(seeded_engine).season_hi == before.season_hi


def test_hindi_in_a_file_is_stored_in_nfc(seeded_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "passes.csv"
    path.write_text("slug,season_hi\nnathu-la,\u095b\u092e\u0940\u0928 \n", "utf-8")
    apply_file(seeded_engine, path)
    assert nathu_la(seeded_engine).season_hi == "\u091c\u093c\u092e\u0940\u0928"
