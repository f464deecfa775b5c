"""Updates handled concurrently, each chat's in the order they arrived.

One slow chat (a large import, a database statement waiting on a lock, a chart being drawn)
must not hold up anyone else, yet a reader who sends two questions expects two answers in
that order, and an editor's "/set" must be handled before the "Confirm" pressed after it.
So updates run side by side, and those of one chat form a lane that runs one at a time.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.logs import NO_REQUEST, request_context

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from bot.telegram.metrics import Metrics

# PTB's own bound on updates taken off its queue: those waiting in a lane are cheap tasks, so
# it only caps memory; `concurrency` bounds the work actually running.
QUEUED_UPDATES_LIMIT = 4096


@dataclass(slots=True)
class _Lane:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0  # updates of this chat running or waiting; the lane is dropped at zero


def ordering_key(update: object) -> int | None:
    """The conversation an update belongs to: its chat, or its user where it has no chat
    (inline queries). A private chat's id is its user's id, so both meet in one lane."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None


class ChatOrderedUpdateProcessor(BaseUpdateProcessor):
    """At most `concurrency` updates at once; one at a time per chat, in arrival order.

    The chat's lane is taken before a slot: PTB's semaphore would otherwise let one chat
    that sends fifty messages fill every slot with updates waiting for their own lane.
    Each update is timed and counted, with its request id bound for the log lines.
    """

    def __init__(self, metrics: Metrics, *, concurrency: int) -> None:
        super().__init__(max_concurrent_updates=max(QUEUED_UPDATES_LIMIT, concurrency))
        self.metrics = metrics
        self._slots = asyncio.BoundedSemaphore(concurrency)
        self._lanes: dict[int, _Lane] = {}

    async def initialize(self) -> None:
        """Nothing to set up: lanes are made as chats send updates."""

    async def shutdown(self) -> None:
        """Nothing to free: PTB has awaited every update task before this."""

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = ordering_key(update)
        if key is None:
            await self._run(update, coroutine)
            return
        lane = self._lanes.setdefault(key, _Lane())
        lane.users += 1
        try:
            async with lane.lock:
                await self._run(update, coroutine)
        finally:
            lane.users -= 1
            if lane.users == 0:
                del self._lanes[key]

    async def _run(self, update: object, coroutine: Awaitable[Any]) -> None:
        request_id = f"u{update.update_id}" if isinstance(update, Update) else NO_REQUEST
        async with self._slots:
            started = time.perf_counter()
            try:
                with request_context(request_id):
                    await coroutine
            finally:
                self.metrics.observe_update(update, time.perf_counter() - started)

    @property
    def chats_in_progress(self) -> int:
        """Chats with an update running or waiting (for tests and diagnostics)."""
        return len(self._lanes)
