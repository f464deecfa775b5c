"""Fuzzing with a bigger budget: the generated updates of tests/test_fuzz.py, for longer.

Runs sequences of generated updates (tests/fuzzing.py) through the real application, each
sequence on a fresh copy of the seeded database, until `--updates` have run or `--minutes`
have passed, and counts every property an update broke instead of stopping at the first.
Prints a one-line summary; with `--json`, a JSON list of rows
`{"scenario", "figure", "target", "result"}` (one per property, and the volume), after which
the first example of each broken property is printed to stderr.

    python bench/fuzz.py [--updates 200000] [--minutes N] [--seed N] [--per-sequence 200] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests package

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from tests.fuzzing import Harness, PropertyError, Tally, prepare_database

TODAY = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
# Each property as tests/fuzzing.py names its violations, and how the row describes it.
PROPERTIES = {
    "unhandled error": "updates that reached the error handler",
    "answers": "updates answered other than as they deserve",
    "invalid HTML": "texts Telegram would refuse to parse",
    "too long": "texts, captions or result lists over Telegram's limits",
    "empty": "blank texts",
    "keyboard": "buttons Telegram would refuse or the bot cannot decode",
    "inline": "inline results without a title or with a long id",
    "refused": "Bot API calls Telegram refused",
    "wrong chat": "messages sent to another chat",
    "data changed": "data changes without an editor's action",
}
PER_MINUTE = 5_000
# Hypothesis bounds the data one example may draw: longer sequences overrun it, are thrown
# away and drawn again, and the run stalls.
MAX_PER_SEQUENCE = 250


def fuzz(budget: int, minutes: float | None, seed_value: int, per_sequence: int) -> Tally:
    tally = Tally()
    deadline = time.monotonic() + minutes * 60 if minutes is not None else None
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        template = prepare_database(folder / "template")

        async def sequence(harness: Harness, draw: Any) -> None:
            async with harness:
                for _ in range(per_sequence):
                    if deadline is not None and time.monotonic() > deadline:
                        return
                    try:
                        await harness.run(draw(harness.cases))
                    except PropertyError:
                        continue  # counted in the harness's tally

        def one_sequence(number: int) -> None:
            @seed(seed_value * 1_000_003 + number)
            @settings(
                max_examples=1,
                database=None,
                deadline=None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(data=st.data())
            def run(data: st.DataObject) -> None:
                harness = Harness(template, folder / str(number), clock=lambda: TODAY)
                try:
                    asyncio.run(sequence(harness, data.draw))
                finally:
                    tally.add(harness.tally)

            run()

        number = 0
        while tally.updates < budget and (deadline is None or time.monotonic() < deadline):
            one_sequence(number)
            number += 1
    return tally


def rows(tally: Tally, minutes: float | None, budget: int) -> list[dict[str, str]]:
    # A time-bound run is held to the pace CI needs (10,000 updates in well under 3 minutes).
    wanted = round(PER_MINUTE * minutes) if minutes is not None else budget
    target = f"≥ {wanted:,} ({PER_MINUTE:,}/min)" if minutes is not None else f"≥ {wanted:,}"
    out = [
        {
            "scenario": "fuzzing: generated updates run"
            + (f" in {minutes:g} min" if minutes is not None else ""),
            "figure": f"{tally.updates:,}",
            "target": target,
            "result": "pass" if tally.updates >= wanted else "falls short",
        }
    ]
    for name, description in PROPERTIES.items():
        count = tally.violations.get(name, 0)
        out.append(
            {
                "scenario": f"fuzzing: {description}",
                "figure": f"{count} of {tally.updates:,}",
                "target": "0",
                "result": "pass" if count == 0 else "falls short",
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--updates", type=int, default=200_000)
    parser.add_argument("--minutes", type=float, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--per-sequence", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not 1 <= args.per_sequence <= MAX_PER_SEQUENCE:
        parser.error(f"--per-sequence must be 1 to {MAX_PER_SEQUENCE}")
    logging.disable(logging.CRITICAL)  # refusals are logged by design; the tally counts
    budget = args.updates if args.minutes is None else 10**12
    start = time.perf_counter()
    tally = fuzz(budget, args.minutes, args.seed, args.per_sequence)
    elapsed = time.perf_counter() - start
    broken = sum(tally.violations.values())
    summary = (
        f"fuzz: {tally.updates:,} updates in {elapsed:.0f} s "
        f"({tally.updates / max(elapsed, 1e-9):.0f}/s), {len(tally.scenarios)} scenarios, "
        f"{broken} property violations" + (f" ({dict(tally.violations)})" if broken else "")
    )
    if args.json:
        print(json.dumps(rows(tally, args.minutes, budget), ensure_ascii=False))
        print(summary, file=sys.stderr)
    else:
        print(summary)
    for name, example in tally.examples.items():
        print(f"--- first {name}: {example}", file=sys.stderr)


if __name__ == "__main__":
    main()
