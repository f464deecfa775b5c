"""Every benchmark and fault scenario, one table: scenario, figure, target, result.

Runs each script of bench/ as a subprocess with this Python, asking it for JSON rows
(`--json`: a list of {"scenario", "figure", "target", "result"}), and prints them as one
Markdown table, then the machine it ran on (CPU model, cores, RAM, Python, OS, and the load
average when the report started: on a shared machine, other work slows every figure). A
script that is missing, fails without rows, prints something that is not rows, or runs past
`--timeout` shows as one row "did not run" with the reason (its last stderr line); the report
itself always completes. Each script's progress (stderr) is passed through as it runs.

    python -m bench [--quick] [--only qa,crashloop] [--timeout 5400]
    python bench/run_all.py ...   # the same

Exit status: 0 when every row passes, 1 when any row falls short or a script did not run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
RESULTS = ("pass", "falls short")
DID_NOT_RUN = "did not run"


@dataclass(frozen=True)
class Benchmark:
    name: str
    script: str  # a file in bench/
    args: tuple[str, ...]
    quick_args: tuple[str, ...] = ()  # added with --quick


BENCHMARKS = (
    Benchmark("qa", "qa.py", ("--json",)),
    Benchmark("fanout", "fanout.py", ("--json", "--quick")),
    Benchmark("crashloop", "crashloop.py", ("--json",), ("--quick",)),
    Benchmark("fuzz", "fuzz.py", ("--json", "--minutes", "2")),
    Benchmark("faults", "faults.py", ("--json", "--quick")),
    Benchmark("feeds", "feeds.py", ("--json",), ("--feeds", "100")),
)


@dataclass
class ScriptRun:
    """What one script left: its exit status and output, or why it could not start."""

    name: str
    command: str
    returncode: int | None = None  # None: it did not start, or was stopped (see `error`)
    stdout: str = ""
    stderr: str = ""
    error: str = ""
    seconds: float = 0.0


@dataclass
class Row:
    scenario: str
    figure: str
    target: str
    result: str  # "pass", "falls short" or "did not run"
    source: str = ""  # the script's name
    extra: dict[str, Any] = field(default_factory=dict)


# --- running the scripts ------------------------------------------------------------------


def command_of(benchmark: Benchmark, *, quick: bool) -> list[str]:
    args = benchmark.args + (benchmark.quick_args if quick else ())
    return [sys.executable, str(BENCH / benchmark.script), *args]


def run_script(
    name: str, command: list[str], *, timeout: float, cwd: Path | None = None
) -> ScriptRun:
    """Run one script, its stderr passed through (and kept), until it ends or times out."""
    script = Path(command[1])
    if script.is_relative_to(BENCH.parent):
        script = script.relative_to(BENCH.parent)
    run = ScriptRun(name, " ".join(["python", str(script), *command[2:]]))
    if not Path(command[1]).is_file():
        run.error = f"{script} not found"
        return run
    started = time.monotonic()
    try:
        process = subprocess.Popen(
            command,
            cwd=cwd or BENCH.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
        )
    except OSError as error:
        run.error = f"could not start: {error}"
        return run
    assert process.stdout is not None
    assert process.stderr is not None
    stderr_lines: list[str] = []
    stdout_parts: list[str] = []

    def relay_stderr(stream: Any) -> None:
        for line in stream:
            stderr_lines.append(line)
            sys.stderr.write(line if line.startswith("[") else f"[{name}] {line}")
            sys.stderr.flush()

    readers = [
        threading.Thread(target=relay_stderr, args=(process.stderr,), daemon=True),
        threading.Thread(target=lambda: stdout_parts.append(process.stdout.read()), daemon=True),  # type: ignore[union-attr]
    ]
    for reader in readers:
        reader.start()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        run.error = f"timed out after {timeout:.0f} s"
    finally:  # timed out, or we were stopped (Ctrl-C, SIGTERM): the script stops too
        if process.poll() is None:
            _stop(process)
    for reader in readers:
        reader.join(timeout=10)
    run.seconds = time.monotonic() - started
    run.stdout = "".join(stdout_parts)
    run.stderr = "".join(stderr_lines)
    if not run.error:
        run.returncode = process.returncode
    return run


def _stop(process: subprocess.Popen[str]) -> None:
    """SIGTERM first: the scripts stop their emulators, bots and databases on it."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --- rows -----------------------------------------------------------------------------------


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _parse_rows(stdout: str) -> list[Row] | None:
    """The script's JSON rows (the whole output, or its last line), or None if there are none."""
    for candidate in (stdout.strip(), _last_line(stdout)):
        try:
            data = json.loads(candidate)
        except ValueError:
            continue
        if not isinstance(data, list) or not data:
            return None
        rows = []
        for item in data:
            if not isinstance(item, dict):
                return None
            try:
                row = Row(
                    str(item["scenario"]), str(item["figure"]), str(item["target"]), item["result"]
                )
            except KeyError:
                return None
            if row.result not in RESULTS:
                return None
            rows.append(row)
        return rows
    return None


def rows_of(run: ScriptRun) -> list[Row]:
    """The rows one script contributes; a single "did not run" row when it gave none."""

    def did_not_run(reason: str) -> list[Row]:
        return [Row(f"{run.name} (`{run.command}`)", reason, "", DID_NOT_RUN, run.name)]

    if run.error:
        return did_not_run(run.error)
    rows = _parse_rows(run.stdout)
    if rows is None:
        reason = _last_line(run.stderr) or _last_line(run.stdout) or "no output"
        if run.returncode:
            return did_not_run(f"exit status {run.returncode}: {reason}")
        return did_not_run(f"no JSON rows in its output: {reason}")
    for row in rows:
        row.source = run.name
    return rows


# --- the report -----------------------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table(rows: list[Row]) -> str:
    lines = ["| scenario | figure | target | result |", "|---|---|---|---|"]
    lines += [
        f"| {_cell(row.scenario)} | {_cell(row.figure)} | {_cell(row.target)} | {row.result} |"
        for row in rows
    ]
    return "\n".join(lines)


def machine() -> dict[str, str]:
    """CPU model, cores, RAM, Python and OS of this machine."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    host = {
        "CPU": cpu,
        "cores": str(os.cpu_count()),
        "RAM": ram,
        "Python": f"{platform.python_version()} ({platform.python_implementation()})",
        "OS": platform.platform(),
    }
    if hasattr(os, "getloadavg"):  # other work on a shared machine slows every figure
        host["load average (1, 5, 15 min)"] = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    return host


def report(
    runs: list[ScriptRun], host: dict[str, str], *, command: str, started: datetime
) -> tuple[str, int]:
    """The whole report, and the exit status: 1 if any row falls short or did not run."""
    rows = [row for run in runs for row in rows_of(run)]
    minutes = sum(run.seconds for run in runs) / 60
    lines = [
        f"Trade Watch benchmarks: `{command}`, {started:%d %b %Y %H:%M} UTC, {minutes:.1f} min",
        "",
        table(rows),
        "",
        "Machine: " + "; ".join(f"{key} {value}" for key, value in host.items()),
        "",
        "Scripts: "
        + "; ".join(
            f"`{run.command}` {run.seconds:.0f} s"
            + ("" if run.returncode is None else f" (exit {run.returncode})")
            for run in runs
        ),
    ]
    status = 0 if rows and all(row.result == "pass" for row in rows) else 1
    return "\n".join(lines), status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__.splitlines()[0] if __doc__ else None
    )
    names = [benchmark.name for benchmark in BENCHMARKS]
    parser.add_argument("--quick", action="store_true", help="the short version of each")
    parser.add_argument("--only", help="comma-separated, of: " + ", ".join(names))
    parser.add_argument(
        "--timeout", type=float, default=5400.0, help="seconds one script may take (90 min)"
    )
    args = parser.parse_args(argv)
    chosen = list(BENCHMARKS)
    if args.only:
        wanted = [name.strip() for name in args.only.split(",") if name.strip()]
        unknown = sorted(set(wanted) - set(names))
        if unknown:
            parser.error(f"unknown benchmark(s): {', '.join(unknown)} (known: {', '.join(names)})")
        chosen = [benchmark for benchmark in BENCHMARKS if benchmark.name in wanted]
    # SIGTERM unwinds like Ctrl-C: the script running is stopped with it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started, host = datetime.now(UTC), machine()  # the load before our own work adds to it
    runs = []
    for benchmark in chosen:
        command = command_of(benchmark, quick=args.quick)
        print(f"[bench] {benchmark.name}: {' '.join(command[2:])}", file=sys.stderr, flush=True)
        runs.append(run_script(benchmark.name, command, timeout=args.timeout))
    invocation = "python -m bench" + (" --quick" if args.quick else "")
    if args.only:
        invocation += f" --only {args.only}"
    text, status = report(runs, host, command=invocation, started=started)
    print(text)
    return status


if __name__ == "__main__":
    sys.exit(main())
