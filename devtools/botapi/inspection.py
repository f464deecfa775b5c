"""Reading what the bot did (messages, calls, answers, webhook deliveries), and waiting for it."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, Final

from devtools.botapi.api import ChatKey, chat_key, normalize_chat
from devtools.botapi.state import (
    ApiCall,
    CallbackAnswer,
    EmulatorState,
    InlineAnswer,
    SentMessage,
    WebhookAttempt,
)

# Waiters poll: cheaper for the server than a notification on every message it records.
_WAIT_POLL_SECONDS: Final = 0.01


class _Tally:
    """Counts matching records as a log grows, so waiting for 100k messages stays O(n)."""

    def __init__(self, method: str | None) -> None:
        self._method = None if method is None else method.lower()
        self._records: list[SentMessage] | None = None
        self._seen = 0
        self._matched = 0

    def update(self, records: list[SentMessage]) -> int:
        if records is not self._records or len(records) < self._seen:  # new list, or reset
            self._records, self._seen, self._matched = records, 0, 0
        if self._method is None:
            self._matched = len(records)
        else:
            for index in range(self._seen, len(records)):
                self._matched += records[index].method.lower() == self._method
        self._seen = len(records)
        return self._matched


class TrafficInspection(EmulatorState):
    """The recorded traffic, for tests and the control endpoints (each read takes the lock)."""

    def messages(
        self, chat_id: ChatKey | None = None, *, method: str | None = None
    ) -> list[SentMessage]:
        """The sent-message log (edits included, as their own records), oldest first."""
        with self._lock:
            return self._select(chat_id, method)

    def _select(self, chat_id: ChatKey | None, method: str | None) -> list[SentMessage]:
        records = self._records_of(chat_id)
        if method is None:
            return list(records)
        return [record for record in records if record.method.lower() == method.lower()]

    def _records_of(self, chat_id: ChatKey | None) -> list[SentMessage]:
        if chat_id is None:
            return self._sent
        return self._sent_by_chat.get(normalize_chat(chat_id), [])

    def wait_for_messages(
        self,
        chat_id: ChatKey | None,
        count: int,
        timeout: float = 10.0,
        *,
        method: str | None = None,
    ) -> list[SentMessage]:
        """Block until the chat (None: any chat) has `count` records; returns all of them.

        Raises TimeoutError listing what did arrive and the chat's failed calls. Do not call it
        on the loop that runs the bot (use `wait_for_messages_async`).
        """
        if self._loop is not None and threading.current_thread() is self._thread:
            raise RuntimeError("wait_for_messages would block the emulator's own loop")
        tally = _Tally(method)
        deadline = time.monotonic() + timeout
        while True:
            found = self._arrived(tally, chat_id, count, deadline, timeout, method)
            if found is not None:
                return found
            time.sleep(_WAIT_POLL_SECONDS)

    async def wait_for_messages_async(
        self,
        chat_id: ChatKey | None,
        count: int,
        timeout: float = 10.0,  # noqa: ASYNC109 (the same signature as wait_for_messages)
        *,
        method: str | None = None,
    ) -> list[SentMessage]:
        """`wait_for_messages` for coroutines: polls without blocking the event loop."""
        tally = _Tally(method)
        deadline = time.monotonic() + timeout
        while True:
            found = self._arrived(tally, chat_id, count, deadline, timeout, method)
            if found is not None:
                return found
            await asyncio.sleep(_WAIT_POLL_SECONDS)

    def _arrived(
        self,
        tally: _Tally,
        chat_id: ChatKey | None,
        count: int,
        deadline: float,
        timeout: float,
        method: str | None,
    ) -> list[SentMessage] | None:
        """One look for the awaited messages: them, None to keep waiting, or TimeoutError."""
        with self._lock:
            if tally.update(self._records_of(chat_id)) >= count:
                return self._select(chat_id, method)
            if time.monotonic() >= deadline:
                raise TimeoutError(self._describe_shortfall(chat_id, count, timeout, method))
        return None

    def _describe_shortfall(
        self, chat_id: ChatKey | None, count: int, timeout: float, method: str | None
    ) -> str:
        found = self._select(chat_id, method)
        where = "in all chats" if chat_id is None else f"for chat {chat_id}"
        lines = [f"expected {count} message(s) {where} within {timeout}s, got {len(found)}"]
        lines += [
            f"  #{r.message_id} {r.method} to {r.chat_id}: {(r.text or '')[:120]!r}" for r in found
        ]
        wanted = None if chat_id is None else str(normalize_chat(chat_id))
        failed = [
            call
            for call in self._calls
            if call.status != 200
            and (wanted is None or str(chat_key(call.params.get("chat_id"))) == wanted)
        ]
        lines += [f"  failed {c.method}: {c.status} {c.description}" for c in failed[-10:]]
        return "\n".join(lines)

    def calls(self, method: str | None = None) -> list[ApiCall]:
        """Every API request received (getUpdates polls included), oldest first."""
        with self._lock:
            if method is None:
                return list(self._calls)
            return [call for call in self._calls if call.method.lower() == method.lower()]

    def call_counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._call_counts)

    def inline_answers(self) -> list[InlineAnswer]:
        with self._lock:
            return list(self._inline_answers)

    def callback_answers(self) -> list[CallbackAnswer]:
        with self._lock:
            return list(self._callback_answers)

    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by a getUpdates offset (or accepted by the webhook)."""
        with self._lock:
            return list(self._updates)

    def webhook_attempts(self) -> list[WebhookAttempt]:
        """Every webhook delivery that ended, oldest first.

        setWebhook and deleteWebhook keep the log; `reset` clears it. A delivery abandoned
        because the webhook changed meanwhile is not listed.
        """
        with self._lock:
            return list(self._webhook_attempts)

    def wait_for_webhook_idle(self, timeout: float = 10.0) -> None:
        """Block until no update is queued and no webhook delivery is in flight.

        Raises TimeoutError with the queue, the last error and the latest attempts. Do not call
        it on a loop that serves the webhook (use `wait_for_webhook_idle_async`).
        """
        if self._loop is not None and threading.current_thread() is self._thread:
            raise RuntimeError("wait_for_webhook_idle would block the emulator's own loop")
        deadline = time.monotonic() + timeout
        while True:
            if self._webhook_idle(deadline, timeout):
                return
            time.sleep(_WAIT_POLL_SECONDS)

    async def wait_for_webhook_idle_async(
        self,
        timeout: float = 10.0,  # noqa: ASYNC109 (the same signature as wait_for_webhook_idle)
    ) -> None:
        """`wait_for_webhook_idle` for coroutines: polls without blocking the event loop."""
        deadline = time.monotonic() + timeout
        while True:
            if self._webhook_idle(deadline, timeout):
                return
            await asyncio.sleep(_WAIT_POLL_SECONDS)

    def _webhook_idle(self, deadline: float, timeout: float) -> bool:
        """One look at the webhook queue: True when drained, False to wait, or TimeoutError."""
        with self._lock:
            if not self._updates and self._delivering is None:
                return True
            if time.monotonic() < deadline:
                return False
            lines = [
                f"the webhook queue did not drain within {timeout}s: "
                f"{len(self._updates)} update(s) pending, webhook "
                + (repr(self._webhook_url) if self._webhook_url else "not set")
            ]
            if self._webhook_error is not None:
                lines.append(f"  last error: {self._webhook_error[1]}")
            lines += [
                f"  update {a.update_id}: {a.status} {a.error or 'delivered'}"
                for a in self._webhook_attempts[-10:]
            ]
            raise TimeoutError("\n".join(lines))
