"""The one-table benchmark report (bench/run_all.py), on fake script outputs.

The real benchmarks take minutes; here scripts are stand-ins: rows as a benchmark prints them,
a missing script, one that crashes, one that prints no rows, one that hangs.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import pytest

from bench import run_all
from bench.run_all import DID_NOT_RUN, ScriptRun, report, rows_of, run_script

if TYPE_CHECKING:
    from pathlib import Path

ROWS = [
    {"scenario": "crash loop: lost", "figure": "0 of 1,000", "target": "0", "result": "pass"},
    {
        "scenario": "fan-out | rate",
        "figure": "235 messages/s",
        "target": "≥ 1,000/s",
        "result": "falls short",
    },
]
HOST = {"CPU": "Test CPU", "cores": "2", "RAM": "4.0 GiB", "Python": "3.11.7", "OS": "Linux"}


def _report(runs: list[ScriptRun]) -> tuple[str, int]:
    from datetime import UTC, datetime

    return report(runs, HOST, command="python -m bench", started=datetime(2026, 11, 22, tzinfo=UTC))


def _script(tmp_path: Path, name: str, body: str) -> list[str]:
    path = tmp_path / name
    path.write_text(body)
    return [sys.executable, str(path), "--json"]


@pytest.mark.slow
@pytest.mark.slow
def test_rows_missing_and_failing_scripts_make_one_table(tmp_path: Path) -> None:
    good = run_script(
        "good",
        _script(
            tmp_path,
            "good.py",
            f"print('progress', file=__import__('sys').stderr)\n"
            f"print({json.dumps(json.dumps(ROWS))})\n",
        ),
        timeout=60,
    )
    missing = run_script("fuzz", [sys.executable, str(tmp_path / "fuzz.py"), "--json"], timeout=60)
    failing = run_script(
        "faults",
        _script(
            tmp_path,
            "faults.py",
            "import sys\nprint('starting', file=sys.stderr)\n"
            "sys.exit('RuntimeError: the emulator did not start')\n",
        ),
        timeout=60,
    )

    text, status = _report([good, missing, failing])

    lines = text.splitlines()
    header = lines.index("| scenario | figure | target | result |")
    body = lines[header + 2 : header + 6]
    assert body[0] == "| crash loop: lost | 0 of 1,000 | 0 | pass |"
    assert body[1] == "| fan-out \\| rate | 235 messages/s | ≥ 1,000/s | falls short |"
    assert body[2].startswith("| fuzz (`")
    assert "fuzz.py not found" in body[2]
    assert body[2].endswith(f"| {DID_NOT_RUN} |")
    assert "exit status 1: RuntimeError: the emulator did not start" in body[3]
    assert body[3].endswith(f"| {DID_NOT_RUN} |")
    assert "Machine: CPU Test CPU; cores 2; RAM 4.0 GiB; Python 3.11.7; OS Linux" in text
    assert status == 1


def test_all_pass_exits_0_and_anything_else_1() -> None:
    passing = ScriptRun("qa", "qa.py --json", returncode=0, stdout=json.dumps(ROWS[:1]))
    assert _report([passing])[1] == 0
    short = ScriptRun("fanout", "fanout.py --json", returncode=0, stdout=json.dumps(ROWS))
    assert _report([passing, short])[1] == 1
    assert _report([])[1] == 1  # nothing measured is not a pass


def test_output_that_is_not_rows_did_not_run() -> None:
    cases = {
        "a table, not JSON": "| a | b |\n",
        "[]": "[]",
        "a bad result": json.dumps([{**ROWS[0], "result": "ok"}]),
        "a missing key": json.dumps([{"scenario": "x", "figure": "1"}]),
    }
    for what, stdout in cases.items():
        [row] = rows_of(ScriptRun("qa", "qa.py --json", returncode=0, stdout=stdout))
        assert row.result == DID_NOT_RUN, what
        assert "no JSON rows" in row.figure, what


def test_rows_after_progress_lines_and_a_nonzero_exit_still_count() -> None:
    # A benchmark that falls short exits 1 but still prints its rows: they are the report.
    stdout = "some progress\n" + json.dumps(ROWS)
    rows = rows_of(ScriptRun("fanout", "fanout.py --json", returncode=1, stdout=stdout))
    assert [row.result for row in rows] == ["pass", "falls short"]


@pytest.mark.slow
@pytest.mark.slow
def test_a_script_past_its_timeout_is_stopped_and_did_not_run(tmp_path: Path) -> None:
    hanging = _script(tmp_path, "slow.py", "import time\ntime.sleep(60)\n")
    run = run_script("slow", hanging, timeout=0.5)
    [row] = rows_of(run)
    assert row.result == DID_NOT_RUN
    assert "timed out after" in row.figure
    assert run.seconds < 30


def test_the_suite_and_its_options() -> None:
    names = [benchmark.name for benchmark in run_all.BENCHMARKS]
    assert names == ["qa", "fanout", "crashloop", "fuzz", "faults", "feeds"]
    crashloop = next(b for b in run_all.BENCHMARKS if b.name == "crashloop")
    assert run_all.command_of(crashloop, quick=True)[2:] == ["--json", "--quick"]
    assert run_all.command_of(crashloop, quick=False)[2:] == ["--json"]
    assert {"CPU", "cores", "RAM", "Python", "OS"} <= set(run_all.machine())
