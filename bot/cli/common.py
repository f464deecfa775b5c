"""What every command shares: exit codes, the first line of an error, the collector switch."""

from __future__ import annotations

import argparse
import gc
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Settings

EXIT_USAGE = 2  # bad configuration or arguments, as argparse itself uses
EXIT_FAILURE = 1
MAX_PROBLEMS_SHOWN = 50

# A command: what it needs comes from the settings and its arguments; it returns the exit status.
Handler = Callable[["Settings", argparse.Namespace], int]
# The subcommand registry `add_subparsers` returns; argparse names no public type for it, and
# it is generic only to type checkers.
if TYPE_CHECKING:
    Commands = argparse._SubParsersAction[argparse.ArgumentParser]
else:
    Commands = argparse._SubParsersAction


def steady_state() -> None:
    """Turn the cycle collector back on for a long-running command (see bot/__main__.py).

    Everything allocated so far lives for the whole process: freezing it keeps it out of
    every later collection.
    """
    gc.freeze()
    gc.enable()


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
