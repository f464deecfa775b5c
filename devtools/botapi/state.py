"""The emulator's state: records of what the bot did, and the world as Telegram would know it."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import threading
import time
import zlib
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from devtools.botapi.api import BOT_ID, BOT_USER, ChatKey, Params, int_param, json_param
from devtools.botapi.content import PHOTO_SIZE_LIMITS, format_text, image_size, scaled

# setWebhook's max_connections when none is given (and after deleteWebhook).
DEFAULT_MAX_CONNECTIONS: Final = 40


# -- records ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SentMessage:
    """One message the bot sent (or edited), as recorded when the emulator accepted it."""

    chat_id: ChatKey
    message_id: int
    method: str
    text: str | None  # the text or caption as sent, markup included
    parse_mode: str | None
    reply_markup: dict[str, Any] | None
    time: float  # time.monotonic() when recorded
    date: int  # the message's Unix date, as Telegram reports it
    file_id: str | None = None  # sendPhoto: the largest size's file_id
    params: Mapping[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One Bot API request and how it was answered (status 0: the connection was dropped)."""

    method: str
    params: Mapping[str, Any]
    status: int
    description: str | None
    time: float


@dataclass(frozen=True, slots=True)
class InlineAnswer:
    inline_query_id: str
    results: list[dict[str, Any]]
    params: Mapping[str, Any]
    time: float


@dataclass(frozen=True, slots=True)
class CallbackAnswer:
    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    time: float


@dataclass(frozen=True, slots=True)
class WebhookAttempt:
    """One POST of an update to the webhook, and how it ended."""

    update_id: int
    url: str
    status: int | None  # the HTTP status answered; None when no answer came
    error: str | None  # None: delivered (2xx); else getWebhookInfo's last_error_message
    secret_token: str | None  # the X-Telegram-Bot-Api-Secret-Token header sent, if any
    time: float  # time.monotonic() when the attempt ended


@dataclass(slots=True)
class Photo:
    sizes: list[dict[str, Any]]  # PhotoSize JSON, smallest first
    content: bytes
    file_path: str


# -- the state --------------------------------------------------------------------------------


class EmulatorState:
    """What Telegram would know (chats, users, members, messages, queued updates, files, the
    webhook as set) and the traffic recorded, behind one lock; every part of the emulator
    builds on it.

    The test thread may drive it while the server thread answers requests: every public method
    takes the lock, and the methods named "caller holds the lock" expect it taken. The loop
    fields name the server's thread and loop (set by `BotApiEmulator.serve`), which a queued
    update wakes.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._closing = False
        self._pollers: list[asyncio.Future[None]] = []
        # The webhook pusher's wake-up (made by serve()).
        self._pusher_wake: asyncio.Event | None = None
        # Bumped whenever the webhook is set, deleted or reset: a delivery that started under
        # an older generation is abandoned, and its outcome is not recorded.
        self._webhook_generation = 0

    def _clear_state(self) -> None:
        # Recorded traffic.
        self._sent: list[SentMessage] = []
        self._sent_by_chat: dict[ChatKey, list[SentMessage]] = {}
        self._calls: list[ApiCall] = []
        self._call_counts: Counter[str] = Counter()
        self._too_many_requests = 0
        self._inline_answers: list[InlineAnswer] = []
        self._callback_answers: list[CallbackAnswer] = []
        # The world as Telegram would know it.
        self._updates: deque[dict[str, Any]] = deque()
        self._next_update_id = 1
        self._last_message_id: dict[ChatKey, int] = {}
        self._bot_messages: dict[tuple[ChatKey, int], SentMessage] = {}
        self._user_messages: dict[tuple[ChatKey, int], dict[str, Any]] = {}
        self._chats: dict[ChatKey, dict[str, Any]] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._members: dict[ChatKey, dict[int, str]] = {}
        self._open_queries: set[str] = set()
        self._next_query_id = 1
        self._commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._photos: dict[str, Photo] = {}
        self._file_paths: dict[str, Photo] = {}
        # The webhook as setWebhook left it; "" means none, and getUpdates serves the queue.
        self._webhook_url = ""
        self._webhook_secret: str | None = None
        self._webhook_allowed: list[str] = []  # empty: every update type
        self._webhook_max_connections = DEFAULT_MAX_CONNECTIONS
        self._webhook_error: tuple[int, str] | None = None  # Unix date and message
        self._webhook_attempts: list[WebhookAttempt] = []
        self._delivering: int | None = None  # the update_id being POSTed
        self._webhook_generation += 1

    # -- the updates queue --------------------------------------------------------------------

    def _enqueue(self, update: dict[str, Any]) -> int:
        # Caller holds the lock.
        update_id = update.get("update_id")
        if isinstance(update_id, int):
            self._next_update_id = max(self._next_update_id, update_id + 1)
        else:
            update_id = self._next_update_id
            self._next_update_id += 1
            update = {"update_id": update_id, **update}
        allowed = self._webhook_allowed
        if self._webhook_url and allowed and _update_type(update) not in allowed:
            return update_id  # Telegram never stores an update the webhook did not ask for
        self._updates.append(update)
        self._call_on_loop(self._updates_arrived)
        return update_id

    def _call_on_loop(self, callback: Callable[[], None]) -> None:
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closing
                loop.call_soon_threadsafe(callback)

    def _new_query_id(self, prefix: str) -> str:
        query_id = f"{prefix}{self._next_query_id:012d}"
        self._next_query_id += 1
        self._open_queries.add(query_id)
        return query_id

    def _updates_arrived(self) -> None:
        # On the loop thread: whichever consumer is active (long polls or the webhook pusher).
        self._wake_pollers()
        if self._pusher_wake is not None:
            self._pusher_wake.set()

    def _wake_pollers(self) -> None:
        pollers, self._pollers = self._pollers, []
        for poller in pollers:
            if not poller.done():
                poller.set_result(None)

    # -- traffic, chats, users and messages ---------------------------------------------------

    def _log_call(self, name: str, params: Params, status: int, description: str | None) -> None:
        # Caller holds the lock.
        self._call_counts[name] += 1
        if status == 429:
            self._too_many_requests += 1
        self._calls.append(ApiCall(name, params, status, description, time.monotonic()))

    def _allocate_message_id(self, chat: ChatKey) -> int:
        message_id = self._last_message_id.get(chat, 0) + 1
        self._last_message_id[chat] = message_id
        return message_id

    def _chat_json(self, chat: ChatKey) -> dict[str, Any]:
        known = self._chats.get(chat)
        if known is not None:
            return known
        if isinstance(chat, str):
            name = chat[1:]
            fake_id = -1_000_000_000_000 - zlib.crc32(name.encode())
            return {"id": fake_id, "type": "channel", "title": name, "username": name}
        if chat > 0:
            return {"id": chat, "type": "private", "first_name": "User"}
        kind = "supergroup" if chat <= -1_000_000_000_000 else "group"
        return {"id": chat, "type": kind, "title": f"Chat {chat}"}

    def _user_json(self, user_id: int) -> dict[str, Any]:
        if user_id == BOT_ID:
            return BOT_USER
        return self._users.get(user_id) or {"id": user_id, "is_bot": False, "first_name": "User"}

    def _message_for(self, chat: ChatKey, message_id: int, *, strict: bool) -> dict[str, Any]:
        """A stored message's JSON, for replies and callback queries."""
        record = self._bot_messages.get((chat, message_id))
        if record is not None:
            return self._rebuild_json(record)
        pushed = self._user_messages.get((chat, message_id))
        if pushed is not None:
            return pushed
        if strict:
            raise ValueError(f"no message {message_id} in chat {chat}")
        return {"chat": self._chat_json(chat), "message_id": message_id, "date": 0}

    def _record(
        self,
        chat: ChatKey,
        method: str,
        params: Params,
        *,
        text: str | None,
        parse_mode: str | None,
        reply_markup: dict[str, Any] | None,
        message_id: int | None = None,
        date: int | None = None,
        file_id: str | None = None,
    ) -> SentMessage:
        # Caller holds the lock.
        record = SentMessage(
            chat_id=chat,
            message_id=self._allocate_message_id(chat) if message_id is None else message_id,
            method=method,
            text=text,
            parse_mode=parse_mode,
            reply_markup=reply_markup,
            time=time.monotonic(),
            date=int(time.time()) if date is None else date,
            file_id=file_id,
            params=params,
        )
        self._sent.append(record)
        per_chat = self._sent_by_chat.get(chat)
        if per_chat is None:
            self._sent_by_chat[chat] = [record]
        else:
            per_chat.append(record)
        self._bot_messages[(chat, record.message_id)] = record
        return record

    def _message_json(
        self, record: SentMessage, plain: str, entities: list[dict[str, Any]] | None
    ) -> dict[str, Any]:
        chat = self._chat_json(record.chat_id)
        message: dict[str, Any] = {"message_id": record.message_id}
        if chat["type"] == "channel":
            message["sender_chat"] = chat
        else:
            message["from"] = BOT_USER
        message["chat"] = chat
        message["date"] = record.date
        if record.method.startswith("edit"):
            message["edit_date"] = int(time.time())
        if record.file_id is not None:
            message["photo"] = self._photos[record.file_id].sizes
            if plain:
                message["caption"] = plain
            if entities:
                message["caption_entities"] = entities
        else:
            message["text"] = plain
            if entities:
                message["entities"] = entities
        markup = record.reply_markup
        if markup is not None and "inline_keyboard" in markup:
            message["reply_markup"] = {"inline_keyboard": markup["inline_keyboard"]}
        return message

    def _rebuild_json(self, record: SentMessage) -> dict[str, Any]:
        plain, entities = self._formatted(record)
        return self._message_json(record, plain, entities)

    def _formatted(self, record: SentMessage) -> tuple[str, list[dict[str, Any]] | None]:
        key = "caption_entities" if record.file_id is not None else "entities"
        return format_text(record.text or "", record.parse_mode, json_param(record.params, key))

    def _reply_target(self, chat: ChatKey, params: Params) -> dict[str, Any] | None:
        reply = json_param(params, "reply_parameters")
        message_id = (
            reply.get("message_id")
            if isinstance(reply, dict)
            else int_param(params, "reply_to_message_id")
        )
        if not isinstance(message_id, int):
            return None
        # Lenient: tests often reply to updates the emulator never delivered.
        record = self._bot_messages.get((chat, message_id))
        if record is not None:
            return self._rebuild_json(record)
        return self._user_messages.get((chat, message_id))

    # -- files --------------------------------------------------------------------------------

    def _store_photo(self, content: bytes) -> Photo:
        number = len(self._file_paths) + 1
        width, height = image_size(content) if content else (800, 600)
        unique = hashlib.blake2b(content or str(number).encode(), digest_size=8).hexdigest()
        dimensions = [
            (*scaled(width, height, limit), letter)
            for limit, letter in PHOTO_SIZE_LIMITS
            if limit < max(width, height)
        ]
        largest = max(width, height)
        full = (width, height) if largest <= 2560 else scaled(width, height, 2560)
        dimensions.append((*full, "w" if largest > 1280 else "y"))
        area = max(1, width * height)
        sizes: list[dict[str, Any]] = [
            {
                "file_id": f"AgACAgIAAxkBAAI{number:07d}{letter}",
                "file_unique_id": f"AQAD{unique}{letter}",
                "file_size": max(1, len(content) * w * h // area),
                "width": w,
                "height": h,
            }
            for w, h, letter in dimensions
        ]
        photo = Photo(sizes, content, f"photos/file_{number}.jpg")
        for size in sizes:
            self._photos[size["file_id"]] = photo
        self._file_paths[photo.file_path] = photo
        return photo

    def file_content(self, file_path: str) -> bytes | None:
        """The bytes behind a getFile file_path (served under /file/bot<TOKEN>/)."""
        with self._lock:
            photo = self._file_paths.get(file_path)
            return None if photo is None else photo.content


def _update_type(update: Mapping[str, Any]) -> str | None:
    """An update's type, as allowed_updates names it: its one key besides update_id."""
    return next((key for key in update if key != "update_id"), None)
