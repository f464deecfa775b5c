"""What handlers need, built once by the composition root and handed to each handler group.

Handlers run on the event loop, which every update shares; the services they call are
synchronous (SQLAlchemy sessions, matplotlib). `run` and `offload` carry that work to a worker
thread, so one update's query or chart never holds up another update's answer.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Generic, ParamSpec, TypeVar

from telegram import Update

from bot.db import session_scope
from bot.i18n import DEFAULT_LANGUAGE
from bot.services import admins, languages
from bot.services.events import ChangeFeed, RecordChanged
from bot.services.timeline import Freshness
from bot.telegram.answer_cache import AnswerCache
from bot.telegram.metrics import Metrics
from bot.vocabulary import Language

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlmodel import Session

    from bot.config import Settings
    from bot.rendering import Renderer


ADMIN_IDS_TTL_SECONDS = 60
CHAT_LANGUAGES_TTL_SECONDS = 60

T = TypeVar("T")
P = ParamSpec("P")


@dataclass(slots=True)
class Snapshot(Generic[T]):
    """A small table held in memory and re-read once it is `ttl_seconds` old, so an update
    asking it costs no query; changes made in this process are set on it at once."""

    value: T
    ttl_seconds: float
    read_at: float = float("-inf")
    _reading: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def stale(self) -> bool:
        return time.monotonic() - self.read_at > self.ttl_seconds

    async def current(self, read: Callable[[], Awaitable[T]]) -> T:
        if self.stale:
            async with self._reading:  # updates arriving together read it once
                if self.stale:
                    await self.reload(read)
        return self.value

    async def reload(self, read: Callable[[], Awaitable[T]]) -> None:
        self.value = await read()
        self.read_at = time.monotonic()


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class BotServices:
    settings: Settings
    engine: Engine
    renderer: Renderer
    answers: AnswerCache
    changes: ChangeFeed = field(default_factory=ChangeFeed)
    metrics: Metrics = field(default_factory=Metrics)
    clock: Callable[[], datetime] = _utcnow
    # Telegram file_id of each chart already uploaded, by chart data key: re-sent, not redrawn.
    chart_uploads: dict[str, str] = field(default_factory=dict)
    # Who holds a role, re-read at most once a minute: only their plain messages are checked
    # for a guided edit awaiting input, so nobody else's question pays for a query.
    _admin_ids: Snapshot[frozenset[int]] = field(
        default_factory=lambda: Snapshot(frozenset(), ADMIN_IDS_TTL_SECONDS)
    )
    # Each chat's chosen language, re-read at most once a minute (changes made here are seen
    # at once; another process's, such as an import, within the minute).
    _chat_languages: Snapshot[dict[int, Language]] = field(
        default_factory=lambda: Snapshot({}, CHAT_LANGUAGES_TTL_SECONDS)
    )
    _threads: ThreadPoolExecutor | None = None

    def __post_init__(self) -> None:
        # Any change can alter any cached answer (lists, histories, headlines): drop them all.
        self.changes.subscribe(lambda _: self.answers.clear())

    async def run(self, work: Callable[[Session], T]) -> T:
        """`work` in a worker thread, in one unit of work of its own: committed when it returns,
        rolled back when it raises (the exception reaches the caller).

        Handlers put their role check, reads and writes for an update in one `work`, and make
        their Telegram calls outside it: no session is ever open across an `await`. The
        threads are the updates' own (UPDATE_CONCURRENCY of them, as many as updates run at
        once), so a digest run or a health check never takes the one an answer needs.
        """
        if self._threads is None:
            self._threads = ThreadPoolExecutor(
                self.settings.update_concurrency, thread_name_prefix="updates"
            )
        # The log lines' request id (a context variable) follows the work into the thread.
        call = functools.partial(contextvars.copy_context().run, self._unit_of_work, work)
        return await asyncio.get_running_loop().run_in_executor(self._threads, call)

    def _unit_of_work(self, work: Callable[[Session], T]) -> T:
        with session_scope(self.engine) as session:
            return work(session)

    async def offload(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """CPU-bound work with no database (drawing a chart) in a worker thread."""
        return await asyncio.to_thread(function, *args, **kwargs)

    def session(self) -> AbstractContextManager[Session]:
        """One unit of work for code that is already off the event loop (or has no loop)."""
        return session_scope(self.engine)

    def may_be_admin(self, user_id: int) -> bool:
        """Whether `user_id` may hold a role, without waiting: True while the list is stale.

        For message filters, which PTB calls synchronously; `is_admin` gives the answer.
        """
        return self._admin_ids.stale or user_id in self._admin_ids.value

    async def is_admin(self, user_id: int) -> bool:
        return user_id in await self._admin_ids.current(self._read_admin_ids)

    async def reload_admins(self) -> None:
        await self._admin_ids.reload(self._read_admin_ids)

    async def _read_admin_ids(self) -> frozenset[int]:
        return await self.run(admins.admin_ids)

    async def chat_language(self, chat_id: int) -> Language | None:
        """The language `chat_id` chose (or subscribed with); None when it has none."""
        return (await self._chat_languages.current(self._read_chat_languages)).get(chat_id)

    def remember_chat_language(self, chat_id: int, language: Language) -> None:
        """A language this process has just committed: seen by the chat's next update."""
        self._chat_languages.value[chat_id] = language

    async def reload_chat_languages(self) -> None:
        await self._chat_languages.reload(self._read_chat_languages)

    async def _read_chat_languages(self) -> dict[int, Language]:
        return await self.run(languages.chat_languages)

    async def update_language(self, update: object) -> Language:
        """The language to answer `update` in: the chat's choice, else the sender's Telegram
        language when the bot has it, else English."""
        if not isinstance(update, Update):
            return DEFAULT_LANGUAGE
        chat, user = update.effective_chat, update.effective_user
        chosen = None if chat is None else await self.chat_language(chat.id)
        if chosen is not None:
            return chosen
        spoken = None if user is None else Language.from_code(user.language_code)
        return spoken or DEFAULT_LANGUAGE

    def freshness(self) -> Freshness:
        return Freshness(self.clock().date(), self.settings.stale_after_days)

    def records_changed(self, event: RecordChanged) -> None:
        """Call on the event loop after a change is committed: listeners (the answer cache,
        alerts) hear of it."""
        self.changes.publish(event)
