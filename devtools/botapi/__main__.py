"""`python -m devtools.botapi --port 8081 [--enforce-limits]`: the emulator as a process.

The first stdout line is ``listening on http://127.0.0.1:PORT`` (``--port 0`` picks a free
port); SIGTERM or SIGINT stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from devtools.botapi.emulator import BotApiEmulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.botapi",
        description="An in-memory Telegram Bot API on 127.0.0.1 for tests and benchmarks.",
    )
    parser.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    parser.add_argument(
        "--enforce-limits", action="store_true", help="answer 429 beyond Telegram's flood limits"
    )
    parser.add_argument("--log-level", default="WARNING", help="e.g. INFO, DEBUG")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    emulator = BotApiEmulator(port=args.port, enforce_limits=args.enforce_limits)

    def announce(url: str) -> None:
        # The first stdout line, which scripts read to find a port chosen with --port 0.
        print(f"listening on {url}", flush=True)

    asyncio.run(emulator.serve(ready=announce, handle_signals=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
