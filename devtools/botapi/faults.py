"""Faults on purpose: injected errors, storms, blocked chats, delays and dropped connections.

And Telegram's flood limits, enforced as token buckets while `enforce_limits` is on.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from devtools.botapi.api import (
    ApiError,
    ChatKey,
    Params,
    bool_param,
    chat_key,
    is_group,
    normalize_chat,
)
from devtools.botapi.state import EmulatorState

# Methods that send a message: Telegram's flood limits and fault storms apply to these.
_SEND_METHODS: Final = frozenset({"sendmessage", "sendphoto"})

_EDIT_METHODS: Final = frozenset({"editmessagetext", "editmessagereplymarkup"})

# A blocked user makes every call about their chat fail, not only sends.
_CHAT_METHODS: Final = _SEND_METHODS | _EDIT_METHODS | {"sendchataction", "deletemessage"}

_DEFAULT_DESCRIPTIONS: Final[dict[int, str]] = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Telegram's flood limits as token buckets (used when `enforce_limits` is on).

    A bucket starts full (`*_burst` messages) and refills at the sustained rate. Telegram allows
    brief bursts; these defaults admit whatever PTB's `AIORateLimiter` with its defaults lets
    through (it keeps 30/s overall and 20/min per group, and nothing per private chat), with
    `grace_seconds` of slack for the jitter between the client's clock and our arrival times.
    Three quick messages to one private chat pass; the fourth gets a 429.
    """

    overall_per_second: float = 30.0
    overall_burst: float = 30.0
    private_per_second: float = 1.0
    private_burst: float = 3.0
    group_per_minute: float = 20.0
    group_burst: float = 20.0
    paid_per_second: float = 1000.0  # allow_paid_broadcast=true
    grace_seconds: float = 0.5


class _Bucket:
    __slots__ = ("stamp", "tokens")

    def __init__(self, tokens: float, stamp: float) -> None:
        self.tokens = tokens
        self.stamp = stamp

    def wait(self, rate: float, burst: float, grace: float, now: float) -> float:
        """Seconds until one more message is allowed (0: allowed now); refills first."""
        self.tokens = min(burst, self.tokens + (now - self.stamp) * rate)
        self.stamp = now
        threshold = 1.0 - rate * grace
        return 0.0 if self.tokens >= threshold else (threshold - self.tokens) / rate


@dataclass(slots=True)
class _FaultRule:
    method: str | None  # lower-cased; None matches every method
    chat_id: ChatKey | None
    error: ApiError
    remaining: int


@dataclass(slots=True)
class _Storm:
    fraction: float
    error: ApiError
    methods: frozenset[str]
    rng: random.Random


class FaultInjection(EmulatorState):
    """What goes wrong on purpose: each call passes `_check_faults` (with the lock held)."""

    # Set by BotApiEmulator's constructor: enforce_limits and limits are public, and every
    # call's delay after a reset (the constructor's delay_seconds) is _default_delay.
    enforce_limits: bool
    limits: RateLimits
    _default_delay: float

    def _clear_state(self) -> None:
        super()._clear_state()
        self._faults: list[_FaultRule] = []
        self._storm: _Storm | None = None
        self._blocked: dict[ChatKey, str] = {}
        self._delay_all = self._default_delay
        self._delays: dict[str, float] = {}
        self._drops: dict[str, int] = {}
        self._overall_bucket: _Bucket | None = None
        self._paid_bucket: _Bucket | None = None
        self._chat_buckets: dict[ChatKey, _Bucket] = {}

    def fail_next(
        self,
        method: str | None,
        error_code: int = 429,
        description: str | None = None,
        retry_after: int | None = None,
        count: int = 1,
        chat_id: ChatKey | None = None,
        *,
        parameters: Mapping[str, Any] | None = None,
    ) -> None:
        """Answer the next `count` calls of `method` (None: any) with this error.

        The description defaults to Telegram's wording for the code; a 429 gets
        `retry_after` (default 1) in its parameters. `parameters` adds e.g. migrate_to_chat_id.
        """
        error = _make_error(error_code, description, retry_after, parameters)
        chat = None if chat_id is None else normalize_chat(chat_id)
        with self._lock:
            self._faults.append(
                _FaultRule(None if method is None else method.lower(), chat, error, count)
            )

    def fail_fraction(
        self,
        fraction: float,
        error_code: int = 429,
        retry_after: int | None = 1,
        seed: int | None = None,
        *,
        description: str | None = None,
        methods: Iterable[str] | None = None,
    ) -> None:
        """Fail this fraction of message sends and edits at random (0 turns it off)."""
        if not 0.0 <= fraction <= 1.0:
            raise ValueError("fraction must be between 0 and 1")
        chosen = (
            _SEND_METHODS | _EDIT_METHODS
            if methods is None
            else frozenset(m.lower() for m in methods)
        )
        storm = None
        if fraction > 0:
            error = _make_error(error_code, description, retry_after, None)
            # Seeded for reproducible storms; not used for anything secret.
            storm = _Storm(fraction, error, chosen, random.Random(seed))  # noqa: S311
        with self._lock:
            self._storm = storm

    def block_chat(
        self, chat_id: ChatKey, description: str = "Forbidden: bot was blocked by the user"
    ) -> None:
        """Answer 403 to every send, edit or action in this chat."""
        with self._lock:
            self._blocked[normalize_chat(chat_id)] = description

    def unblock_chat(self, chat_id: ChatKey) -> None:
        with self._lock:
            self._blocked.pop(normalize_chat(chat_id), None)

    def set_delay(self, delay_seconds: float, method: str | None = None) -> None:
        """Answer every call (or every call of `method`) this much later."""
        with self._lock:
            if method is None:
                self._delay_all = delay_seconds
            elif delay_seconds > 0:
                self._delays[method.lower()] = delay_seconds
            else:
                self._delays.pop(method.lower(), None)

    def drop_connections(self, method: str | None, count: int = 1) -> None:
        """Close the socket without an answer for the next `count` calls of `method` (None: any)."""
        with self._lock:
            key = "*" if method is None else method.lower()
            self._drops[key] = self._drops.get(key, 0) + count

    def set_enforce_limits(self, enabled: bool = True) -> None:
        with self._lock:
            self.enforce_limits = enabled
            self._overall_bucket = self._paid_bucket = None
            self._chat_buckets.clear()

    def clear_faults(self) -> None:
        """Drop injected failures, blocks, delays and drops (recorded traffic stays)."""
        with self._lock:
            self._faults.clear()
            self._storm = None
            self._blocked.clear()
            self._delay_all = 0.0
            self._delays.clear()
            self._drops.clear()

    def _check_faults(self, key: str, params: Params) -> None:
        # Caller holds the lock. Order: injected errors, storm, blocked chat, flood limits.
        if self._faults:
            chat = chat_key(params.get("chat_id"))
            for rule in self._faults:
                if (rule.method is None or rule.method == key) and (
                    rule.chat_id is None or rule.chat_id == chat
                ):
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self._faults.remove(rule)
                    raise rule.error
        storm = self._storm
        if storm is not None and key in storm.methods and storm.rng.random() < storm.fraction:
            raise storm.error
        if self._blocked and key in _CHAT_METHODS:
            description = self._blocked.get(chat_key(params.get("chat_id")) or 0)
            if description is not None:
                raise ApiError(403, description)
        if self.enforce_limits and key in _SEND_METHODS:
            self._check_limits(params)

    def _check_limits(self, params: Params) -> None:
        chat = chat_key(params.get("chat_id"))
        limits, now = self.limits, time.monotonic()
        if bool_param(params, "allow_paid_broadcast"):
            overall_rate = overall_burst = limits.paid_per_second
            if self._paid_bucket is None:
                self._paid_bucket = _Bucket(overall_burst, now)
            overall = self._paid_bucket
        else:
            overall_rate, overall_burst = limits.overall_per_second, limits.overall_burst
            if self._overall_bucket is None:
                self._overall_bucket = _Bucket(overall_burst, now)
            overall = self._overall_bucket
        wait = overall.wait(overall_rate, overall_burst, limits.grace_seconds, now)
        per_chat = None
        if chat is not None and chat != 0:
            if is_group(chat):
                rate, burst = limits.group_per_minute / 60.0, limits.group_burst
            else:
                rate, burst = limits.private_per_second, limits.private_burst
            per_chat = self._chat_buckets.get(chat)
            if per_chat is None:
                per_chat = self._chat_buckets[chat] = _Bucket(burst, now)
            wait = max(wait, per_chat.wait(rate, burst, limits.grace_seconds, now))
        if wait > 0:
            raise _too_many_requests(max(1, math.ceil(wait)))
        overall.tokens -= 1
        if per_chat is not None:
            per_chat.tokens -= 1

    def _take_drop(self, key: str, name: str, params: Params) -> bool:
        with self._lock:
            for candidate in (key, "*"):
                remaining = self._drops.get(candidate, 0)
                if remaining > 0:
                    if remaining == 1:
                        del self._drops[candidate]
                    else:
                        self._drops[candidate] = remaining - 1
                    self._log_call(name, params, 0, "connection dropped")
                    return True
        return False

    async def _pause(self, seconds: float) -> None:
        # Cut short by stop(), so shutdown never waits out an injected delay.
        event = self._stop_event
        if event is None:
            await asyncio.sleep(seconds)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)


def _too_many_requests(retry_after: int) -> ApiError:
    return ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


def _make_error(
    code: int,
    description: str | None,
    retry_after: int | None,
    parameters: Mapping[str, Any] | None,
) -> ApiError:
    merged = dict(parameters or {})
    if code == 429:
        retry_after = 1 if retry_after is None else retry_after
        description = description or f"Too Many Requests: retry after {retry_after}"
    if retry_after is not None:
        merged["retry_after"] = retry_after
    return ApiError(code, description or _DEFAULT_DESCRIPTIONS.get(code, "Error"), merged)
