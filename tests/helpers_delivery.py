"""Helpers shared by the delivery tests: subscribers due now, digests counted per chat, ledger
states, and waiting for a condition with a deadline."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from bot import db
from bot.bootstrap import seed
from tests.test_delivery import add_subscribers, digest_counts

if TYPE_CHECKING:
    from collections import Counter
    from collections.abc import Callable

    from sqlalchemy import Engine

    from devtools.botapi import BotApiEmulator


def prepare(engine: Engine, count: int, *, first_chat: int = 10_000, **overrides: Any) -> list[int]:
    """Migrate and seed the database, and add `count` subscribers whose digest is due now."""
    db.upgrade(engine)
    seed(engine)
    due = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    return add_subscribers(engine, count, due=due, first_chat=first_chat, **overrides)


def wait_until(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def wait_until_async(condition: Callable[[], object], seconds: float, what: str) -> None:
    """Poll `condition` (a blocking check is fine: it is quick) until true, or fail."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def digests_per_chat(emulator: BotApiEmulator, chats: list[int]) -> Counter[int]:
    wanted = set(chats)
    counts = digest_counts(emulator)
    for chat in set(counts) - wanted:
        del counts[chat]
    return counts


def states(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT state, count(*) FROM delivery GROUP BY state"))
        return {str(state): int(count) for state, count in rows}


def lost_and_doubled(counts: Counter[int], chats: list[int]) -> tuple[list[int], int]:
    """The chats that got nothing, and how many messages arrived beyond one per chat."""
    lost = [chat for chat in chats if counts[chat] == 0]
    return lost, sum(count - 1 for count in counts.values() if count > 1)
