"""An in-memory Telegram Bot API server for tests and benchmarks.

The real bot process runs against it unchanged: set
``TELEGRAM_API_BASE_URL=http://127.0.0.1:PORT`` and python-telegram-bot sends
``POST /bot<TOKEN>/<method>`` here instead of to api.telegram.org. The server binds 127.0.0.1
only and opens no connection of its own, except to the webhook URL the bot sets.

In tests, run it in a background thread with its own event loop::

    with BotApiEmulator() as emulator:
        bot = Bot(TOKEN, base_url=f"{emulator.base_url}/bot",
                  base_file_url=f"{emulator.base_url}/file/bot")
        emulator.push_message(555, "/start")           # the bot receives it via getUpdates
        (reply,) = emulator.wait_for_messages(555, 1)   # what the bot sent back
        emulator.fail_next("sendMessage", 429, retry_after=3)

Every public method is thread-safe. From a coroutine on the loop that also runs the bot, use
``await emulator.wait_for_messages_async(...)``: the blocking version would stall that loop.

Webhooks work as Telegram's do, so a bot in webhook mode runs against the emulator too. While
``setWebhook`` has set a URL, getUpdates answers 409 Conflict and a pusher on the emulator's loop
POSTs each queued update (those already queued first) to the URL as JSON, with the
``X-Telegram-Bot-Api-Secret-Token`` header when a secret_token was set. A 2xx answer takes the
update off the queue; anything else (another status, a refused connection, a timeout) keeps it
queued, shows in getWebhookInfo's ``last_error_date`` and ``last_error_message`` in Telegram's
words, and is retried after a backoff (``webhook_retry_seconds`` doubling up to
``webhook_retry_max_seconds``: short, so tests stay fast). ``allowed_updates`` drops pushed
updates of other types, as Telegram never stores them. Unlike Telegram, a plain http:// URL is
accepted: a test's receiver has no certificate. ``webhook_attempts()`` lists every delivery and
its outcome; ``wait_for_webhook_idle()`` waits until the queue has drained::

    emulator.push_message(555, "/start")          # POSTed to the webhook, retried until a 2xx
    emulator.wait_for_webhook_idle()
    assert emulator.webhook_attempts()[0].status == 200

As a process, for benchmarks or a manual run of the bot::

    python -m devtools.botapi --port 8081 [--enforce-limits]

The first stdout line is ``listening on http://127.0.0.1:PORT`` (``--port 0`` picks a free
port); SIGTERM or SIGINT stops it. Control endpoints, all JSON, answer
``{"ok": true, "result": ...}``:

- ``POST /_emulator/updates``: a raw update, or a shorthand ``{"message": {"chat_id": 1,
  "text": "/start"}}``, ``{"callback_query": {"chat_id", "message_id", "data"}}``,
  ``{"inline_query": {"user_id", "query"}}``; the result is ``{"update_id": N}``.
- ``GET /_emulator/messages?chat_id=&method=``: the sent-message log.
- ``GET /_emulator/calls?method=``, ``GET /_emulator/inline_answers``,
  ``GET /_emulator/callback_answers``, ``GET /_emulator/webhook_attempts``.
- ``POST /_emulator/faults``: an object whose keys name the Python methods below and whose
  values are their keyword arguments (or a list of them), for example
  ``{"fail_next": {"method": "sendMessage", "error_code": 429, "retry_after": 5},
  "block_chat": {"chat_id": 42}, "set_delay": {"delay_seconds": 0.05},
  "enforce_limits": true}``.
- ``POST /_emulator/reset``; ``GET /_emulator/stats``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import hashlib
import json
import logging
import math
import random
import re
import signal
import socket
import struct
import threading
import time
import zlib
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from tornado.httpclient import HTTPRequest, HTTPResponse
from tornado.httpserver import HTTPServer
from tornado.iostream import IOStream, StreamClosedError
from tornado.netutil import Resolver, bind_sockets
from tornado.simple_httpclient import (
    HTTPStreamClosedError,
    HTTPTimeoutError,
    SimpleAsyncHTTPClient,
)
from tornado.tcpclient import TCPClient
from tornado.web import Application, RequestHandler

from bot.telegram.html_entities import HtmlEntityError, parse_html, utf16_len

if TYPE_CHECKING:
    import datetime
    import ssl
    from types import TracebackType

    from tornado.httputil import HTTPServerRequest

logger = logging.getLogger(__name__)

HOST: Final = "127.0.0.1"
BOT_ID: Final = 7_000_000_001
BOT_USERNAME: Final = "TradeWatchBot"
# Who "sends" pushed group messages and callback queries when no user id is given.
DEFAULT_USER_ID: Final = 555

MAX_TEXT_LENGTH: Final = 4096
MAX_CAPTION_LENGTH: Final = 1024
MAX_CALLBACK_DATA_BYTES: Final = 64

ChatKey = int | str
Params = dict[str, Any]
Files = dict[str, bytes]

_BOT_USER: Final[dict[str, Any]] = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": "Trade Watch",
    "username": BOT_USERNAME,
}
_GET_ME: Final[dict[str, Any]] = {
    **_BOT_USER,
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": True,
    "can_connect_to_business": False,
    "has_main_web_app": False,
}
_TOKEN_RE: Final = re.compile(r"\d+:[A-Za-z0-9_-]+")
_TOKEN_IN_PATH_RE: Final = re.compile(r"/bot[^/]+/")
_COMMAND_RE: Final = re.compile(r"[a-z0-9_]{1,32}")
_MENTION_RE: Final = re.compile(r"(?<![\w@])@[A-Za-z]\w{3,31}\b")
_LEADING_COMMAND_RE: Final = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z]\w{3,31})?(?=\s|$)")

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
_INLINE_BUTTON_ACTIONS: Final = frozenset(
    {
        "url",
        "callback_data",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    }
)
# The Python methods POST /_emulator/faults may call, by name.
_FAULT_ACTIONS: Final = frozenset(
    {
        "fail_next",
        "fail_fraction",
        "block_chat",
        "unblock_chat",
        "set_delay",
        "drop_connections",
        "set_enforce_limits",
        "set_chat_member",
        "clear_faults",
    }
)
# Waiters poll: cheaper for the server than a notification on every message it records.
_WAIT_POLL_SECONDS: Final = 0.01
_QUERY_EXPIRED: Final = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)
_NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
# setWebhook's rules: the secret's alphabet, and max_connections (clamped into 1-100).
_SECRET_TOKEN_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,256}")
_SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"
_DEFAULT_MAX_CONNECTIONS: Final = 40
_MAX_CONNECTIONS: Final = 100


def _dumps(payload: object) -> bytes:
    # Compact separators: the bytes match Telegram's answers exactly.
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def _ok(result: object) -> bytes:
    return _dumps({"ok": True, "result": result})


class _ApiError(Exception):
    """A Bot API error answer; raised anywhere in a method, turned into JSON by the server."""

    def __init__(
        self, code: int, description: str, parameters: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = dict(parameters) if parameters else None

    def body(self) -> bytes:
        payload: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            payload["parameters"] = self.parameters
        return _dumps(payload)


class _UnknownEndpointError(Exception):
    pass


def _too_many_requests(retry_after: int) -> _ApiError:
    return _ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


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
    error: _ApiError
    remaining: int


@dataclass(slots=True)
class _Storm:
    fraction: float
    error: _ApiError
    methods: frozenset[str]
    rng: random.Random


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


@dataclass(slots=True)
class _Photo:
    sizes: list[dict[str, Any]]  # PhotoSize JSON, smallest first
    content: bytes
    file_path: str


def _format_text(
    text: str, parse_mode: str | None, entities: object
) -> tuple[str, list[dict[str, Any]] | None]:
    """The plain text and entities Telegram would store for `text` sent with `parse_mode`."""
    if parse_mode:
        mode = parse_mode.lower()
        if mode == "html":
            if "<" not in text and "&" not in text:
                return text, None
            try:
                return parse_html(text)
            except HtmlEntityError as exc:
                raise _ApiError(400, f"Bad Request: can't parse entities: {exc}") from None
        if mode in ("markdown", "markdownv2"):
            return text, None  # not parsed: passed through as plain text
        raise _ApiError(400, "Bad Request: unsupported parse_mode")
    if entities is None:
        return text, None
    if not isinstance(entities, list) or not all(isinstance(e, dict) for e in entities):
        raise _ApiError(400, "Bad Request: can't parse entities JSON object")
    return text, entities or None


# -- parameters -------------------------------------------------------------------------------


def _str_param(params: Mapping[str, Any], key: str) -> str | None:
    value = params.get(key)
    if value is None or isinstance(value, str):
        return value
    return str(value)


def _int_param(params: Mapping[str, Any], key: str, default: int | None = None) -> int | None:
    value = params.get(key)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _ApiError(400, f"Bad Request: invalid {key} specified") from None


def _float_param(params: Mapping[str, Any], key: str, default: float) -> float:
    value = params.get(key)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        raise _ApiError(400, f"Bad Request: invalid {key} specified") from None


def _bool_param(params: Mapping[str, Any], key: str) -> bool:
    value = params.get(key)
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1"))


def _json_param(params: Mapping[str, Any], key: str) -> Any:
    """JSON-typed parameters arrive as JSON strings in form bodies and as values in JSON ones."""
    value = params.get(key)
    if isinstance(value, str):
        if not value:
            return None
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise _ApiError(400, f"Bad Request: can't parse {key} JSON object") from None
    return value


def _chat_key(value: object) -> ChatKey | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        value = value.strip()
        if value.startswith("@") and len(value) > 1:
            return value
        with contextlib.suppress(ValueError):
            return int(value)
    return None


def _require_chat(params: Params) -> ChatKey:
    raw = params.get("chat_id")
    if raw is None or raw == "":
        raise _ApiError(400, "Bad Request: chat_id is empty")
    chat = _chat_key(raw)
    if chat is None or chat == 0:
        raise _ApiError(400, "Bad Request: chat not found")
    return chat


def _normalize_chat(chat_id: ChatKey) -> ChatKey:
    chat = _chat_key(chat_id)
    if chat is None:
        raise ValueError(f"not a chat id: {chat_id!r}")
    return chat


def _is_group(chat: ChatKey) -> bool:
    return isinstance(chat, str) or chat < 0


def _request_params(request: HTTPServerRequest) -> tuple[Params, Files]:
    """Parameters from the query string and a form, multipart or JSON body; uploads apart."""
    params: Params = {key: values[-1].decode() for key, values in request.query_arguments.items()}
    if request.headers.get("Content-Type", "").startswith("application/json"):
        if request.body:
            body = json.loads(request.body)
            if not isinstance(body, dict):
                raise ValueError("the JSON body must be an object")
            params.update(body)
    else:
        for key, values in request.body_arguments.items():
            params[key] = values[-1].decode()
    files = {name: parts[0].body for name, parts in request.files.items() if parts}
    return params, files


# -- images -----------------------------------------------------------------------------------

_PHOTO_SIZE_LIMITS: Final = ((90, "s"), (320, "m"), (800, "x"), (1280, "y"))


def _image_size(content: bytes) -> tuple[int, int]:
    """Width and height from a PNG or JPEG header; a plausible default for anything else."""
    if content[:8] == b"\x89PNG\r\n\x1a\n" and len(content) >= 24:
        width, height = struct.unpack(">II", content[16:24])
        return int(width), int(height)
    if content[:2] == b"\xff\xd8":
        index = 2
        while index + 9 < len(content):
            if content[index] != 0xFF:
                break
            marker = content[index + 1]
            (length,) = struct.unpack(">H", content[index + 2 : index + 4])
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", content[index + 5 : index + 9])
                return int(width), int(height)
            index += 2 + length
    return 800, 600


def _scaled(width: int, height: int, limit: int) -> tuple[int, int]:
    scale = limit / max(width, height, 1)
    return max(1, round(width * scale)), max(1, round(height * scale))


# -- the emulator -----------------------------------------------------------------------------


class BotApiEmulator:
    """The Bot API as python-telegram-bot uses it, in memory, with faults and flood limits.

    All state sits behind one lock, so the test thread may drive it while the server thread
    answers requests.
    """

    def __init__(
        self,
        *,
        port: int = 0,
        enforce_limits: bool = False,
        limits: RateLimits | None = None,
        delay_seconds: float = 0.0,
        webhook_timeout_seconds: float = 10.0,
        webhook_retry_seconds: float = 0.1,
        webhook_retry_max_seconds: float = 2.0,
    ) -> None:
        """Start with no traffic; `serve()` or `start()` opens the server.

        `webhook_timeout_seconds` bounds one webhook delivery (connecting, and then the whole
        answer); after a failed one the pusher waits `webhook_retry_seconds`, doubled per
        failure up to `webhook_retry_max_seconds`. Telegram's waits are far longer; these keep
        a test's retries quick.
        """
        self.enforce_limits = enforce_limits
        self.limits = limits or RateLimits()
        self._requested_port = port
        self._port: int | None = None
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._thread_error: BaseException | None = None
        self._closing = False
        self._inflight = 0
        self._pollers: list[asyncio.Future[None]] = []
        self._webhook_timeout = webhook_timeout_seconds
        self._webhook_retry = webhook_retry_seconds
        self._webhook_retry_max = webhook_retry_max_seconds
        # Loop-side webhook machinery: the pusher (with the webhook generation it serves),
        # every pusher task not yet finished, and its wake-up (made by serve()).
        self._pusher: tuple[int, asyncio.Task[None]] | None = None
        self._pusher_tasks: set[asyncio.Task[None]] = set()
        self._pusher_wake: asyncio.Event | None = None
        # Bumped whenever the webhook is set, deleted or reset: a delivery that started under
        # an older generation is abandoned, and its outcome is not recorded.
        self._webhook_generation = 0
        self._methods: dict[str, tuple[str, Callable[[Params, Files], Any]]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "sendMessage": self._send_message,
                "sendPhoto": self._send_photo,
                "editMessageText": self._edit_message_text,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "sendChatAction": self._send_chat_action,
                "answerCallbackQuery": self._answer_callback_query,
                "answerInlineQuery": self._answer_inline_query,
                "setMyCommands": self._set_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "getMyCommands": self._get_my_commands,
                "getChat": self._get_chat,
                "getChatMember": self._get_chat_member,
                "getChatAdministrators": self._get_chat_administrators,
                "getFile": self._get_file,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "close": self._returns_true,
                "logOut": self._returns_true,
            }.items()
        }
        self._default_delay = delay_seconds
        self._clear_state()

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
        self._photos: dict[str, _Photo] = {}
        self._file_paths: dict[str, _Photo] = {}
        # The webhook as setWebhook left it; "" means none, and getUpdates serves the queue.
        self._webhook_url = ""
        self._webhook_secret: str | None = None
        self._webhook_allowed: list[str] = []  # empty: every update type
        self._webhook_max_connections = _DEFAULT_MAX_CONNECTIONS
        self._webhook_error: tuple[int, str] | None = None  # Unix date and message
        self._webhook_attempts: list[WebhookAttempt] = []
        self._delivering: int | None = None  # the update_id being POSTed
        self._webhook_generation += 1
        # Faults and limits.
        self._faults: list[_FaultRule] = []
        self._storm: _Storm | None = None
        self._blocked: dict[ChatKey, str] = {}
        self._delay_all = self._default_delay
        self._delays: dict[str, float] = {}
        self._drops: dict[str, int] = {}
        self._overall_bucket: _Bucket | None = None
        self._paid_bucket: _Bucket | None = None
        self._chat_buckets: dict[ChatKey, _Bucket] = {}

    # -- lifecycle ----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the emulator has not started")
        return self._port

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT`: PTB's base_url is this plus "/bot"."""
        return f"http://{HOST}:{self.port}"

    def start(self) -> BotApiEmulator:
        """Serve from a background thread with its own event loop; returns once listening."""
        if self._thread is not None:
            raise RuntimeError("the emulator is already running")
        ready = threading.Event()
        self._thread_error = None
        self._thread = threading.Thread(
            target=self._run_thread, args=(ready,), name="botapi-emulator", daemon=True
        )
        self._thread.start()
        if not ready.wait(10.0) or self._thread_error is not None:
            self.stop()
            raise RuntimeError("the Bot API emulator did not start") from self._thread_error
        return self

    def stop(self) -> None:
        """Stop serving and join the thread; pending long polls answer with no updates."""
        loop, event, thread = self._loop, self._stop_event, self._thread
        if loop is not None and event is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already closed
                loop.call_soon_threadsafe(event.set)
        if thread is not None and thread is not threading.current_thread():
            thread.join(10.0)
            if thread.is_alive():
                logger.warning("The Bot API emulator thread did not stop within 10 s")
        self._thread = None

    def __enter__(self) -> BotApiEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _run_thread(self, ready: threading.Event) -> None:
        try:
            asyncio.run(self.serve(ready=lambda _url: ready.set()))
        except BaseException as exc:
            self._thread_error = exc
            logger.exception("The Bot API emulator failed")
        finally:
            ready.set()

    async def serve(
        self, *, ready: Callable[[str], None] | None = None, handle_signals: bool = False
    ) -> None:
        """Serve on the running loop until `stop()` (or SIGTERM/SIGINT with handle_signals)."""
        loop = asyncio.get_running_loop()
        sockets = bind_sockets(self._requested_port, HOST)
        application = Application(
            [
                (r"/bot([^/]+)/([^/]+)", _ApiHandler, {"emulator": self}),
                (r"/file/bot([^/]+)/(.+)", _FileHandler, {"emulator": self}),
                (r"/_emulator/([a-z_]+)", _ControlHandler, {"emulator": self}),
            ],
            default_handler_class=_NotFoundHandler,
            log_function=_log_request,
        )
        server = HTTPServer(application)
        server.add_sockets(sockets)
        self._port = int(sockets[0].getsockname()[1])
        self._stop_event = asyncio.Event()
        self._closing = False
        self._pusher_wake = asyncio.Event()
        self._loop = loop
        self._sync_pusher()  # a webhook set before a restart resumes
        signals = (signal.SIGTERM, signal.SIGINT) if handle_signals else ()
        for signum in signals:
            loop.add_signal_handler(signum, self._stop_event.set)
        logger.info("Bot API emulator listening on %s", self.base_url)
        if ready is not None:
            ready(self.base_url)
        try:
            await self._stop_event.wait()
        finally:
            server.stop()
            self._closing = True
            self._wake_pollers()
            await self._stop_pushers()
            self._pusher_wake = None
            # Let woken long polls and cut-short delays answer before the sockets close.
            for _ in range(100):
                if not self._inflight:
                    break
                await asyncio.sleep(0.01)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(server.close_all_connections(), 5.0)
            for signum in signals:
                loop.remove_signal_handler(signum)
            self._loop = None
            self._stop_event = None
            logger.info("Bot API emulator stopped")

    # -- pushing updates (what users do) ------------------------------------------------------

    def push_message(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        chat_type: str = "private",
        reply_to: int | None = None,
        mention: bool = False,
        first_name: str = "Asha",
        username: str | None = None,
        title: str = "Trade desk",
        entities: list[dict[str, Any]] | None = None,
    ) -> int:
        """Queue a user's message for getUpdates; returns its update_id.

        A leading /command gets its bot_command entity and @usernames their mention entities
        (unless `entities` is given). `mention=True` addresses the bot, as group members do:
        "/start@TradeWatchBot" for a command, "@TradeWatchBot text" otherwise. In a channel
        (`chat_type="channel"`) the update is a channel_post.
        """
        if mention:
            if text.startswith("/"):
                command, space, rest = text.partition(" ")
                text = f"{command}@{BOT_USERNAME}{space}{rest}"
            else:
                text = f"@{BOT_USERNAME} {text}"
        if entities is None:
            entities = _detect_entities(text)
        if chat_type == "private":
            user_id = chat_id if user_id is None else user_id
        user: dict[str, Any] = {
            "id": user_id or DEFAULT_USER_ID,
            "is_bot": False,
            "first_name": first_name,
        }
        if username:
            user["username"] = username
        user["language_code"] = "en"
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = first_name
            if username:
                chat["username"] = username
        else:
            chat["title"] = title
        with self._lock:
            replied = (
                None if reply_to is None else self._message_for(chat_id, reply_to, strict=True)
            )
            self._chats[chat_id] = chat
            self._users[user["id"]] = user
            message_id = self._allocate_message_id(chat_id)
            message: dict[str, Any] = {"message_id": message_id}
            if chat_type == "channel":
                message["sender_chat"] = chat
            else:
                message["from"] = user
            message.update(chat=chat, date=int(time.time()), text=text)
            if entities:
                message["entities"] = entities
            if replied is not None:
                message["reply_to_message"] = replied
            self._user_messages[(chat_id, message_id)] = message
            key = "channel_post" if chat_type == "channel" else "message"
            return self._enqueue({key: message})

    def push_callback_query(
        self,
        chat_id: int,
        message_id: int,
        data: str,
        user_id: int | None = None,
        *,
        first_name: str = "Asha",
    ) -> int:
        """Queue a button press on message `message_id`; returns the update_id.

        The query carries the message as the bot last left it; a message the emulator never
        saw arrives as an InaccessibleMessage, as Telegram sends old ones.
        """
        if user_id is None:
            user_id = chat_id if chat_id > 0 else DEFAULT_USER_ID
        with self._lock:
            user = self._users.get(user_id) or {
                "id": user_id,
                "is_bot": False,
                "first_name": first_name,
                "language_code": "en",
            }
            query_id = self._new_query_id("cbq")
            query = {
                "id": query_id,
                "from": user,
                "message": self._message_for(chat_id, message_id, strict=False),
                "chat_instance": str(zlib.crc32(str(chat_id).encode())),
                "data": data,
            }
            return self._enqueue({"callback_query": query})

    def push_inline_query(
        self,
        user_id: int,
        query: str,
        *,
        offset: str = "",
        chat_type: str = "sender",
        first_name: str = "Asha",
    ) -> int:
        """Queue an inline query (`@TradeWatchBot query`); returns the update_id."""
        with self._lock:
            user = self._users.get(user_id) or {
                "id": user_id,
                "is_bot": False,
                "first_name": first_name,
                "language_code": "en",
            }
            inline = {
                "id": self._new_query_id("iq"),
                "from": user,
                "query": query,
                "offset": offset,
                "chat_type": chat_type,
            }
            return self._enqueue({"inline_query": inline})

    def push_update(self, update: Mapping[str, Any]) -> int:
        """Queue a raw update dict (update_id assigned when missing); returns the update_id."""
        raw = json.loads(json.dumps(update))  # a private copy, and proof it is JSON
        with self._lock:
            for key in ("callback_query", "inline_query"):
                if isinstance(raw.get(key), dict) and "id" in raw[key]:
                    self._open_queries.add(str(raw[key]["id"]))
            return self._enqueue(raw)

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

    # -- reading what the bot did ------------------------------------------------------------

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
        return self._sent_by_chat.get(_normalize_chat(chat_id), [])

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
        wanted = None if chat_id is None else str(_normalize_chat(chat_id))
        failed = [
            call
            for call in self._calls
            if call.status != 200
            and (wanted is None or str(_chat_key(call.params.get("chat_id"))) == wanted)
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

    def commands(
        self, scope: Mapping[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, Any]]:
        """The command list setMyCommands stored for this scope and language."""
        with self._lock:
            return list(self._commands.get((_scope_key(scope), language_code), []))

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "calls": dict(self._call_counts),
                "too_many_requests": self._too_many_requests,
                "errors": sum(1 for call in self._calls if call.status != 200),
                "messages": len(self._sent),
                "pending_updates": len(self._updates),
                "enforce_limits": self.enforce_limits,
            }

    def reset(self) -> None:
        """Forget all traffic, chats, files, faults and the webhook (its pusher stops).

        `enforce_limits` and `limits` stay. A webhook delivery under way is cut off, unrecorded.
        """
        with self._lock:
            self._clear_state()
        self._call_on_loop(self._sync_pusher)

    # -- faults and limits ----------------------------------------------------------------------

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
        chat = None if chat_id is None else _normalize_chat(chat_id)
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
            self._blocked[_normalize_chat(chat_id)] = description

    def unblock_chat(self, chat_id: ChatKey) -> None:
        with self._lock:
            self._blocked.pop(_normalize_chat(chat_id), None)

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

    def set_chat_member(self, chat_id: ChatKey, user_id: int, status: str = "member") -> None:
        """What getChatMember and getChatAdministrators report for this user in this chat."""
        if status not in ("creator", "administrator", "member", "left", "kicked"):
            raise ValueError(f"unsupported status: {status}")
        with self._lock:
            self._members.setdefault(_normalize_chat(chat_id), {})[user_id] = status

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
            chat = _chat_key(params.get("chat_id"))
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
            description = self._blocked.get(_chat_key(params.get("chat_id")) or 0)
            if description is not None:
                raise _ApiError(403, description)
        if self.enforce_limits and key in _SEND_METHODS:
            self._check_limits(params)

    def _check_limits(self, params: Params) -> None:
        chat = _chat_key(params.get("chat_id"))
        limits, now = self.limits, time.monotonic()
        if _bool_param(params, "allow_paid_broadcast"):
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
            if _is_group(chat):
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

    # -- request handling ---------------------------------------------------------------------

    async def _handle_api(
        self, token: str, raw_method: str, request: HTTPServerRequest
    ) -> tuple[int, bytes] | None:
        """The HTTP answer to one Bot API request; None means drop the connection."""
        if _TOKEN_RE.fullmatch(token) is None:
            return 401, _ApiError(401, "Unauthorized").body()
        key = raw_method.lower()
        entry = self._methods.get(key)
        name = entry[0] if entry is not None else raw_method
        if key == "getupdates":
            name = "getUpdates"  # served apart: it may wait for an update
        try:
            params, files = _request_params(request)
        except (ValueError, UnicodeDecodeError) as exc:
            error = _ApiError(400, f"Bad Request: can't parse request: {exc}")
            with self._lock:
                self._log_call(name, {}, error.code, error.description)
            return error.code, error.body()
        if self._drops and self._take_drop(key, name, params):
            return None
        delay = self._delays.get(key, self._delay_all) if self._delays else self._delay_all
        if delay > 0:
            await self._pause(delay)
        if key == "getupdates":
            return await self._get_updates(name, params)
        with self._lock:
            try:
                if entry is None:
                    raise _ApiError(404, "Not Found: method not found")
                self._check_faults(key, params)
                result = entry[1](params, files)
            except _ApiError as exc:
                self._log_call(name, params, exc.code, exc.description)
                return exc.code, exc.body()
            self._log_call(name, params, 200, None)
        return 200, _ok(result)

    def _log_call(self, name: str, params: Params, status: int, description: str | None) -> None:
        # Caller holds the lock.
        self._call_counts[name] += 1
        if status == 429:
            self._too_many_requests += 1
        self._calls.append(ApiCall(name, params, status, description, time.monotonic()))

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

    async def _get_updates(self, name: str, params: Params) -> tuple[int, bytes]:
        try:
            with self._lock:
                self._check_faults("getupdates", params)
                if self._webhook_url:
                    raise _ApiError(
                        409,
                        "Conflict: can't use getUpdates method while webhook is active; "
                        "use deleteWebhook to delete the webhook first",
                    )
                offset = _int_param(params, "offset", 0) or 0
                limit = min(100, max(1, _int_param(params, "limit", 100) or 100))
                timeout = max(0.0, _float_param(params, "timeout", 0.0))
                batch = self._confirm_and_take(offset, limit)
            if not batch and timeout > 0 and not self._closing:
                poller = asyncio.get_running_loop().create_future()
                self._pollers.append(poller)
                try:
                    await asyncio.wait_for(poller, timeout)
                except TimeoutError:
                    # Usually still listed; a wake-up in the same loop turn has taken it out.
                    with contextlib.suppress(ValueError):
                        self._pollers.remove(poller)
                with self._lock:
                    batch = self._confirm_and_take(0, limit)
        except _ApiError as exc:
            with self._lock:
                self._log_call(name, params, exc.code, exc.description)
            return exc.code, exc.body()
        with self._lock:
            self._log_call(name, params, 200, None)
        return 200, _ok(batch)

    def _confirm_and_take(self, offset: int, limit: int) -> list[dict[str, Any]]:
        # Caller holds the lock. A positive offset confirms every earlier update; a negative
        # one keeps only the last -offset updates, as Telegram does.
        updates = self._updates
        if offset > 0:
            while updates and updates[0]["update_id"] < offset:
                updates.popleft()
        elif offset < 0:
            while len(updates) > -offset:
                updates.popleft()
        return [updates[i] for i in range(min(limit, len(updates)))]

    # -- chats, users and messages ------------------------------------------------------------

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
            return _BOT_USER
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
            message["from"] = _BOT_USER
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
        return _format_text(record.text or "", record.parse_mode, _json_param(record.params, key))

    def _reply_target(self, chat: ChatKey, params: Params) -> dict[str, Any] | None:
        reply = _json_param(params, "reply_parameters")
        message_id = (
            reply.get("message_id")
            if isinstance(reply, dict)
            else _int_param(params, "reply_to_message_id")
        )
        if not isinstance(message_id, int):
            return None
        # Lenient: tests often reply to updates the emulator never delivered.
        record = self._bot_messages.get((chat, message_id))
        if record is not None:
            return self._rebuild_json(record)
        return self._user_messages.get((chat, message_id))

    # -- Bot API methods (called with the lock held) -------------------------------------------

    def _get_me(self, params: Params, files: Files) -> Any:
        return _GET_ME

    def _returns_true(self, params: Params, files: Files) -> Any:
        return True

    def _send_message(self, params: Params, files: Files) -> Any:
        chat = _require_chat(params)
        text = _str_param(params, "text") or ""
        parse_mode = _str_param(params, "parse_mode")
        plain, entities = _format_text(text, parse_mode, _json_param(params, "entities"))
        if not plain.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if len(plain) > MAX_TEXT_LENGTH:
            raise _ApiError(400, "Bad Request: message is too long")
        markup = _reply_markup(params)
        reply_to = self._reply_target(chat, params)
        record = self._record(
            chat, "sendMessage", params, text=text, parse_mode=parse_mode, reply_markup=markup
        )
        message = self._message_json(record, plain, entities)
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        return message

    def _send_photo(self, params: Params, files: Files) -> Any:
        chat = _require_chat(params)
        photo = self._photo_from(params, files)
        caption = _str_param(params, "caption")
        parse_mode = _str_param(params, "parse_mode")
        plain, entities = _format_text(
            caption or "", parse_mode, _json_param(params, "caption_entities")
        )
        if len(plain) > MAX_CAPTION_LENGTH:
            raise _ApiError(400, "Bad Request: message caption is too long")
        markup = _reply_markup(params)
        reply_to = self._reply_target(chat, params)
        record = self._record(
            chat,
            "sendPhoto",
            params,
            text=caption,
            parse_mode=parse_mode,
            reply_markup=markup,
            file_id=photo.sizes[-1]["file_id"],
        )
        message = self._message_json(record, plain, entities)
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        return message

    def _photo_from(self, params: Params, files: Files) -> _Photo:
        value = params.get("photo")
        content: bytes | None = None
        if isinstance(value, str) and value.startswith("attach://"):
            content = files.get(value[len("attach://") :])
        elif "photo" in files:
            content = files["photo"]
        if content is not None:
            if not content:
                raise _ApiError(400, "Bad Request: file must be non-empty")
            return self._store_photo(content)
        if isinstance(value, str) and value:
            known = self._photos.get(value)
            if known is not None:
                return known
            if value.startswith(("http://", "https://")):
                return self._store_photo(b"")  # never fetched: the emulator stays offline
            raise _ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        raise _ApiError(400, "Bad Request: there is no photo in the request")

    def _store_photo(self, content: bytes) -> _Photo:
        number = len(self._file_paths) + 1
        width, height = _image_size(content) if content else (800, 600)
        unique = hashlib.blake2b(content or str(number).encode(), digest_size=8).hexdigest()
        dimensions = [
            (*_scaled(width, height, limit), letter)
            for limit, letter in _PHOTO_SIZE_LIMITS
            if limit < max(width, height)
        ]
        largest = max(width, height)
        full = (width, height) if largest <= 2560 else _scaled(width, height, 2560)
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
        photo = _Photo(sizes, content, f"photos/file_{number}.jpg")
        for size in sizes:
            self._photos[size["file_id"]] = photo
        self._file_paths[photo.file_path] = photo
        return photo

    def _editable(self, params: Params) -> tuple[ChatKey, SentMessage]:
        chat = _require_chat(params)
        message_id = _int_param(params, "message_id")
        if message_id is None:
            raise _ApiError(400, "Bad Request: message identifier is not specified")
        current = self._bot_messages.get((chat, message_id))
        if current is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        return chat, current

    def _edit_message_text(self, params: Params, files: Files) -> Any:
        text = _str_param(params, "text") or ""
        parse_mode = _str_param(params, "parse_mode")
        plain, entities = _format_text(text, parse_mode, _json_param(params, "entities"))
        if not plain.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if len(plain) > MAX_TEXT_LENGTH:
            raise _ApiError(400, "Bad Request: message is too long")
        markup = _reply_markup(params)
        if params.get("inline_message_id"):
            return True  # inline messages are not tracked
        chat, current = self._editable(params)
        if current.file_id is not None:
            raise _ApiError(400, "Bad Request: there is no text in the message to edit")
        if (plain, entities) == self._formatted(current) and markup == current.reply_markup:
            raise _ApiError(400, _NOT_MODIFIED)
        record = self._record(
            chat,
            "editMessageText",
            params,
            text=text,
            parse_mode=parse_mode,
            reply_markup=markup,
            message_id=current.message_id,
            date=current.date,
        )
        return self._message_json(record, plain, entities)

    def _edit_message_reply_markup(self, params: Params, files: Files) -> Any:
        markup = _reply_markup(params)
        if params.get("inline_message_id"):
            return True
        chat, current = self._editable(params)
        if markup == current.reply_markup:
            raise _ApiError(400, _NOT_MODIFIED)
        record = self._record(
            chat,
            "editMessageReplyMarkup",
            params,
            text=current.text,
            parse_mode=current.parse_mode,
            reply_markup=markup,
            message_id=current.message_id,
            date=current.date,
            file_id=current.file_id,
        )
        return self._rebuild_json(record)

    def _delete_message(self, params: Params, files: Files) -> Any:
        chat = _require_chat(params)
        message_id = _int_param(params, "message_id")
        key = (chat, message_id or 0)
        if self._bot_messages.pop(key, None) is None and self._user_messages.pop(key, None) is None:
            raise _ApiError(400, "Bad Request: message to delete not found")
        return True

    def _send_chat_action(self, params: Params, files: Files) -> Any:
        _require_chat(params)
        if not _str_param(params, "action"):
            raise _ApiError(400, "Bad Request: action is empty")
        return True

    def _answer_callback_query(self, params: Params, files: Files) -> Any:
        query_id = _str_param(params, "callback_query_id") or ""
        if query_id not in self._open_queries:
            raise _ApiError(400, _QUERY_EXPIRED)
        self._callback_answers.append(
            CallbackAnswer(
                query_id,
                _str_param(params, "text"),
                _bool_param(params, "show_alert"),
                _str_param(params, "url"),
                time.monotonic(),
            )
        )
        return True

    def _answer_inline_query(self, params: Params, files: Files) -> Any:
        query_id = _str_param(params, "inline_query_id") or ""
        if query_id not in self._open_queries:
            raise _ApiError(400, _QUERY_EXPIRED)
        results = _json_param(params, "results")
        if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
            raise _ApiError(400, "Bad Request: can't parse results JSON object")
        if len(results) > 50:
            raise _ApiError(400, "Bad Request: RESULTS_TOO_MUCH")
        ids = [str(result.get("id", "")) for result in results]
        if any(not 1 <= len(result_id.encode()) <= 64 for result_id in ids):
            raise _ApiError(400, "Bad Request: RESULT_ID_INVALID")
        if len(set(ids)) != len(ids):
            raise _ApiError(400, "Bad Request: RESULT_ID_DUPLICATE")
        self._inline_answers.append(InlineAnswer(query_id, results, params, time.monotonic()))
        return True

    def _set_my_commands(self, params: Params, files: Files) -> Any:
        commands = _json_param(params, "commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _ApiError(400, "Bad Request: can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_RE.fullmatch(
                str(command.get("command", ""))
            ):
                raise _ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise _ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        key = (_scope_key(_json_param(params, "scope")), _str_param(params, "language_code") or "")
        self._commands[key] = commands
        return True

    def _delete_my_commands(self, params: Params, files: Files) -> Any:
        key = (_scope_key(_json_param(params, "scope")), _str_param(params, "language_code") or "")
        self._commands.pop(key, None)
        return True

    def _get_my_commands(self, params: Params, files: Files) -> Any:
        key = (_scope_key(_json_param(params, "scope")), _str_param(params, "language_code") or "")
        return self._commands.get(key, [])

    def _get_chat(self, params: Params, files: Files) -> Any:
        chat = self._chat_json(_require_chat(params))
        return {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _get_chat_member(self, params: Params, files: Files) -> Any:
        chat = _require_chat(params)
        user_id = _int_param(params, "user_id")
        if user_id is None:
            raise _ApiError(400, "Bad Request: invalid user_id specified")
        return self._member_json(chat, user_id, self._member_status(chat, user_id))

    def _get_chat_administrators(self, params: Params, files: Files) -> Any:
        chat = _require_chat(params)
        if not _is_group(chat):
            raise _ApiError(400, "Bad Request: there are no administrators in the private chat")
        statuses = self._members.get(chat, {})
        admins = [
            self._member_json(chat, user_id, status)
            for user_id, status in statuses.items()
            if status in ("creator", "administrator")
        ]
        if "creator" not in statuses.values():
            admins.insert(0, self._member_json(chat, 1, "creator"))
        return admins

    def _member_status(self, chat: ChatKey, user_id: int) -> str:
        status = self._members.get(chat, {}).get(user_id)
        if status is not None:
            return status
        if user_id == BOT_ID and self._chat_json(chat)["type"] == "channel":
            return "administrator"  # a bot can only post in channels it administers
        return "member"

    def _member_json(self, chat: ChatKey, user_id: int, status: str) -> dict[str, Any]:
        member: dict[str, Any] = {"status": status, "user": self._user_json(user_id)}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(
                dict.fromkeys(
                    (
                        "can_be_edited",
                        "is_anonymous",
                        "can_promote_members",
                        "can_restrict_members",
                    ),
                    False,
                )
            )
            member.update(
                dict.fromkeys(
                    (
                        "can_manage_chat",
                        "can_delete_messages",
                        "can_manage_video_chats",
                        "can_change_info",
                        "can_invite_users",
                        "can_post_stories",
                        "can_edit_stories",
                        "can_delete_stories",
                        "can_post_messages",
                        "can_edit_messages",
                        "can_pin_messages",
                    ),
                    True,
                )
            )
        elif status == "kicked":
            member["until_date"] = 0
        return member

    def _get_file(self, params: Params, files: Files) -> Any:
        file_id = _str_param(params, "file_id") or ""
        photo = self._photos.get(file_id)
        if photo is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        size = next(size for size in photo.sizes if size["file_id"] == file_id)
        return {
            "file_id": file_id,
            "file_unique_id": size["file_unique_id"],
            "file_size": len(photo.content),
            "file_path": photo.file_path,
        }

    def file_content(self, file_path: str) -> bytes | None:
        """The bytes behind a getFile file_path (served under /file/bot<TOKEN>/)."""
        with self._lock:
            photo = self._file_paths.get(file_path)
            return None if photo is None else photo.content

    def _set_webhook(self, params: Params, files: Files) -> Any:
        url = _str_param(params, "url") or ""
        if not url:  # Telegram: an empty URL removes the webhook
            return self._delete_webhook(params, files)
        try:
            parts = urlsplit(url)
            valid = parts.scheme in ("http", "https") and bool(parts.hostname)
            parts.port  # noqa: B018 (raises ValueError for a malformed port)
        except ValueError:
            valid = False
        if not valid:
            raise _ApiError(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        secret = _str_param(params, "secret_token") or None
        if secret is not None and _SECRET_TOKEN_RE.fullmatch(secret) is None:
            raise _ApiError(400, "Bad Request: secret token contains unallowed characters")
        allowed = _json_param(params, "allowed_updates")
        if allowed is None:
            allowed = []
        if not isinstance(allowed, list) or not all(isinstance(kind, str) for kind in allowed):
            raise _ApiError(400, "Bad Request: can't parse allowed_updates JSON object")
        max_connections = _int_param(params, "max_connections", _DEFAULT_MAX_CONNECTIONS)
        self._configure_webhook(
            url,
            secret=secret,
            allowed=allowed,
            max_connections=min(_MAX_CONNECTIONS, max(1, max_connections or 1)),
            drop_pending=_bool_param(params, "drop_pending_updates"),
        )
        return True

    def _delete_webhook(self, params: Params, files: Files) -> Any:
        self._configure_webhook(
            "",
            secret=None,
            allowed=[],
            max_connections=_DEFAULT_MAX_CONNECTIONS,
            drop_pending=_bool_param(params, "drop_pending_updates"),
        )
        return True

    def _configure_webhook(
        self,
        url: str,
        *,
        secret: str | None,
        allowed: list[str],
        max_connections: int,
        drop_pending: bool,
    ) -> None:
        # Caller holds the lock. A new webhook starts with no error, and a delivery under way
        # to the old one is abandoned: its update stays queued, for the new webhook or getUpdates.
        self._webhook_url = url
        self._webhook_secret = secret
        self._webhook_allowed = allowed
        self._webhook_max_connections = max_connections
        self._webhook_error = None
        self._delivering = None
        self._webhook_generation += 1
        if drop_pending:
            self._updates.clear()
        self._call_on_loop(self._sync_pusher)

    def _get_webhook_info(self, params: Params, files: Files) -> Any:
        info: dict[str, Any] = {
            "url": self._webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self._webhook_error is not None:
            info["last_error_date"], info["last_error_message"] = self._webhook_error
        if self._webhook_url:
            info["max_connections"] = self._webhook_max_connections
            if self._webhook_allowed:
                info["allowed_updates"] = list(self._webhook_allowed)
        return info

    # -- webhook delivery (on the emulator's loop) ----------------------------------------------

    def _sync_pusher(self) -> None:
        """Start, restart or stop the pusher to match the webhook now set (on the loop thread)."""
        wake = self._pusher_wake
        with self._lock:
            active = bool(self._webhook_url) and not self._closing and wake is not None
            wanted = self._webhook_generation if active else None
        current = self._pusher
        if current is not None and current[0] != wanted:
            current[1].cancel()  # mid-delivery, its connection closes and nothing is recorded
            self._pusher = None
        if wanted is not None and wake is not None and self._pusher is None:
            task = asyncio.get_running_loop().create_task(
                self._push_updates(wanted, wake), name="botapi-emulator-webhook"
            )
            self._pusher_tasks.add(task)
            task.add_done_callback(self._pusher_done)
            self._pusher = (wanted, task)

    def _pusher_done(self, task: asyncio.Task[None]) -> None:
        self._pusher_tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("The webhook pusher failed", exc_info=task.exception())

    async def _stop_pushers(self) -> None:
        self._pusher = None
        tasks = list(self._pusher_tasks)
        for task in tasks:
            task.cancel()
        # Awaited, so no task is left pending (and warned about) when the loop closes.
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _push_updates(self, generation: int, wake: asyncio.Event) -> None:
        """POST queued updates to the webhook of this generation until cancelled.

        Telegram may deliver over up to max_connections connections at once. One update at a
        time, in update_id order, is the simple faithful choice: Telegram promises no order
        across connections, and a test gets a deterministic one.
        """
        backoff = self._webhook_retry
        while True:
            wake.clear()  # before looking: an update queued after the look sets it again
            with self._lock:
                if generation != self._webhook_generation:
                    return
                update = self._updates[0] if self._updates else None
                url, secret = self._webhook_url, self._webhook_secret
                if update is not None:
                    self._delivering = update["update_id"]
            if update is None:
                await wake.wait()
                continue
            try:
                status, error = await self._post_update(url, secret, update)
            except asyncio.CancelledError:
                with self._lock:
                    if generation == self._webhook_generation:  # stopping, not reconfigured
                        self._delivering = None
                raise
            with self._lock:
                if generation != self._webhook_generation:
                    return  # the webhook changed meanwhile: this answer is no one's
                self._delivering = None
                self._webhook_attempts.append(
                    WebhookAttempt(
                        update["update_id"], url, status, error, secret, time.monotonic()
                    )
                )
                if error is None:
                    if self._updates and self._updates[0] is update:
                        self._updates.popleft()
                else:
                    self._webhook_error = (int(time.time()), error)
            if error is None:
                backoff = self._webhook_retry
            else:
                await asyncio.sleep(backoff)
                backoff = min(self._webhook_retry_max, backoff * 2)

    async def _post_update(
        self, url: str, secret: str | None, update: dict[str, Any]
    ) -> tuple[int | None, str | None]:
        """One delivery: the status answered (None: none) and the error (None: a 2xx)."""
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[_SECRET_HEADER] = secret
        request = HTTPRequest(
            url,
            method="POST",
            headers=headers,
            body=_dumps(update),
            connect_timeout=self._webhook_timeout,
            request_timeout=self._webhook_timeout,
            follow_redirects=False,  # Telegram does not follow them either
        )
        # The simple client whatever AsyncHTTPClient is configured to be (no new dependency),
        # an instance per delivery with a TCP client of ours, so its connection is ours to close.
        client = SimpleAsyncHTTPClient(force_instance=True)
        connections = _DeliveryConnections(client.resolver)
        client.tcp_client = connections
        try:
            future = client.fetch(request, raise_error=False)
            # A pusher cancelled mid-delivery (the webhook changed, or stop) closes the
            # connection below, which ends tornado's request with an error. Shielded, because
            # cancelling tornado's future would make it log that error; read here, so asyncio
            # does not warn that it was never retrieved.
            future.add_done_callback(_discard_outcome)
            try:
                response = await asyncio.shield(future)
            except Exception as exc:  # anything but an HTTP answer: the webhook failed
                return None, _delivery_error(exc)
        finally:
            connections.close()  # no socket outlives its delivery
            client.close()
        if 200 <= response.code < 300:
            return response.code, None
        return response.code, f"Wrong response from the webhook: {response.code} {response.reason}"

    # -- control endpoints --------------------------------------------------------------------

    def _control(self, action: str, method: str, request: HTTPServerRequest) -> Any:
        """The result of one /_emulator/<action> request; ValueError means a 400 answer."""
        query = {key: values[-1].decode() for key, values in request.query_arguments.items()}
        body = json.loads(request.body) if request.body else {}
        if method == "POST" and not isinstance(body, dict):
            raise ValueError("the body must be a JSON object")
        if (action, method) == ("updates", "POST"):
            return {"update_id": self._push_shorthand(body)}
        if (action, method) == ("faults", "POST"):
            self._apply_faults(body)
            return self.stats()
        if (action, method) == ("reset", "POST"):
            self.reset()
            return True
        if method == "GET" and action == "messages":
            chat = query.get("chat_id")
            records = self.messages(None if chat is None else chat, method=query.get("method"))
            return [dataclasses.asdict(record) for record in records]
        if method == "GET" and action == "calls":
            return [dataclasses.asdict(call) for call in self.calls(query.get("method"))]
        if method == "GET" and action == "inline_answers":
            return [dataclasses.asdict(answer) for answer in self.inline_answers()]
        if method == "GET" and action == "callback_answers":
            return [dataclasses.asdict(answer) for answer in self.callback_answers()]
        if method == "GET" and action == "webhook_attempts":
            return [dataclasses.asdict(attempt) for attempt in self.webhook_attempts()]
        if method == "GET" and action == "stats":
            return self.stats()
        raise _UnknownEndpointError(action)

    def _push_shorthand(self, body: dict[str, Any]) -> int:
        message = body.get("message")
        if isinstance(message, dict) and "chat_id" in message and "chat" not in message:
            options = dict(message)
            return self.push_message(
                int(options.pop("chat_id")), str(options.pop("text")), **options
            )
        callback = body.get("callback_query")
        if isinstance(callback, dict) and "chat_id" in callback:
            return self.push_callback_query(**callback)
        inline = body.get("inline_query")
        if isinstance(inline, dict) and "user_id" in inline and "from" not in inline:
            return self.push_inline_query(**inline)
        return self.push_update(body)

    def _apply_faults(self, body: dict[str, Any]) -> None:
        for action, arguments in body.items():
            if action == "enforce_limits":
                self.set_enforce_limits(bool(arguments))
                continue
            if action not in _FAULT_ACTIONS:
                raise ValueError(f"unknown fault action: {action}")
            for kwargs in arguments if isinstance(arguments, list) else [arguments]:
                if kwargs is True:
                    kwargs = {}
                if not isinstance(kwargs, dict):
                    raise ValueError(f"{action}: arguments must be a JSON object")
                getattr(self, action)(**kwargs)


def _make_error(
    code: int,
    description: str | None,
    retry_after: int | None,
    parameters: Mapping[str, Any] | None,
) -> _ApiError:
    merged = dict(parameters or {})
    if code == 429:
        retry_after = 1 if retry_after is None else retry_after
        description = description or f"Too Many Requests: retry after {retry_after}"
    if retry_after is not None:
        merged["retry_after"] = retry_after
    return _ApiError(code, description or _DEFAULT_DESCRIPTIONS.get(code, "Error"), merged)


def _reply_markup(params: Params) -> dict[str, Any] | None:
    """The parsed reply_markup, checked the way Telegram rejects broken inline keyboards."""
    if params.get("reply_markup") in (None, ""):
        return None
    try:
        markup = _json_param(params, "reply_markup")
    except _ApiError:
        markup = None
    if not isinstance(markup, dict):
        raise _ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    keyboard = markup.get("inline_keyboard")
    if keyboard is None:
        return markup
    if not isinstance(keyboard, list) or not all(isinstance(row, list) for row in keyboard):
        raise _ApiError(400, "Bad Request: can't parse inline keyboard JSON object")
    for row in keyboard:
        for button in row:
            if not isinstance(button, dict) or not button.get("text"):
                raise _ApiError(
                    400, "Bad Request: can't parse inline keyboard button: Text is empty"
                )
            data = button.get("callback_data")
            if data is not None and (
                not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES
            ):
                raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            if _INLINE_BUTTON_ACTIONS.isdisjoint(button):
                raise _ApiError(
                    400,
                    "Bad Request: can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard",
                )
    return markup


class _DeliveryConnections(TCPClient):
    """The connections of one webhook delivery, so it can be cut off when abandoned."""

    def __init__(self, resolver: Resolver) -> None:
        super().__init__(resolver)
        self._streams: list[IOStream] = []
        self._closed = False

    async def connect(
        self,
        host: str,
        port: int,
        af: socket.AddressFamily = socket.AF_UNSPEC,
        ssl_options: dict[str, Any] | ssl.SSLContext | None = None,
        max_buffer_size: int | None = None,
        source_ip: str | None = None,
        source_port: int | None = None,
        timeout: float | datetime.timedelta | None = None,  # noqa: ASYNC109 (TCPClient's)
    ) -> IOStream:
        stream = await super().connect(
            host,
            port,
            af,
            ssl_options,
            max_buffer_size,
            source_ip,
            source_port,
            timeout,
        )
        if self._closed:  # abandoned while connecting
            stream.close()
            raise StreamClosedError
        self._streams.append(stream)
        return stream

    def close(self) -> None:
        self._closed = True
        for stream in self._streams:
            stream.close()
        super().close()


def _update_type(update: Mapping[str, Any]) -> str | None:
    """An update's type, as allowed_updates names it: its one key besides update_id."""
    return next((key for key in update if key != "update_id"), None)


def _discard_outcome(future: asyncio.Future[HTTPResponse]) -> None:
    if not future.cancelled():
        future.exception()


def _delivery_error(exc: BaseException) -> str:
    """Telegram's last_error_message for a delivery that got no HTTP answer."""
    if isinstance(exc, HTTPTimeoutError):
        connecting = "connecting" in (exc.message or "")
        return "Connection timed out" if connecting else "Read timeout expired"
    if isinstance(exc, ConnectionRefusedError):
        return "Connection refused"
    if isinstance(exc, socket.gaierror):
        return "Failed to resolve host: Name or service not known"
    if isinstance(exc, HTTPStreamClosedError | StreamClosedError | ConnectionResetError):
        return "Connection reset by peer"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _scope_key(scope: object) -> str:
    if not scope:
        scope = {"type": "default"}
    return json.dumps(scope, sort_keys=True, separators=(",", ":"))


def _detect_entities(text: str) -> list[dict[str, Any]]:
    """The entities Telegram clients attach: a leading /command, and @username mentions."""
    entities: list[dict[str, Any]] = []
    command = _LEADING_COMMAND_RE.match(text)
    if command is not None:
        entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(command[0])})
    for mention in _MENTION_RE.finditer(text):
        if command is not None and mention.start() < command.end():
            continue
        entities.append(
            {
                "type": "mention",
                "offset": utf16_len(text[: mention.start()]),
                "length": utf16_len(mention[0]),
            }
        )
    return entities


# -- HTTP --------------------------------------------------------------------------------------


def _log_request(handler: RequestHandler) -> None:
    # Tornado logs every request at INFO by default; a broadcast benchmark makes 100k of them.
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug(
            "%d %s %.2fms",
            handler.get_status(),
            _TOKEN_IN_PATH_RE.sub("/bot<token>/", handler.request.path),
            1000.0 * handler.request.request_time(),
        )


class _JsonHandler(RequestHandler):
    emulator: BotApiEmulator

    def initialize(self, emulator: BotApiEmulator) -> None:
        self.emulator = emulator

    def send_json(self, status: int, body: bytes) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(body)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.send_json(status_code, _ApiError(status_code, self._reason).body())


class _ApiHandler(_JsonHandler):
    async def post(self, *args: str, **kwargs: str) -> None:
        token, method = args
        emulator = self.emulator
        emulator._inflight += 1
        try:
            outcome = await emulator._handle_api(token, method, self.request)
        finally:
            emulator._inflight -= 1
        if outcome is None:
            self.detach().close()
        else:
            self.send_json(*outcome)

    get = post


class _FileHandler(_JsonHandler):
    def get(self, *args: str, **kwargs: str) -> None:
        token, path = args
        content = self.emulator.file_content(path) if _TOKEN_RE.fullmatch(token) else None
        if content is None:
            self.send_json(404, _ApiError(404, "Not Found").body())
            return
        self.set_header("Content-Type", "application/octet-stream")
        self.finish(content)


class _ControlHandler(_JsonHandler):
    def get(self, *args: str, **kwargs: str) -> None:
        self._answer(args[0])

    def post(self, *args: str, **kwargs: str) -> None:
        self._answer(args[0])

    def _answer(self, action: str) -> None:
        try:
            result = self.emulator._control(action, self.request.method or "GET", self.request)
        except _UnknownEndpointError:
            self.send_json(404, _ApiError(404, f"Not Found: no control endpoint {action}").body())
        except (ValueError, TypeError, KeyError) as exc:  # bad JSON or arguments
            self.send_json(400, _ApiError(400, f"Bad Request: {exc}").body())
        else:
            self.send_json(200, _ok(result))


class _NotFoundHandler(RequestHandler):
    def prepare(self) -> None:
        self.set_status(404)
        self.set_header("Content-Type", "application/json")
        self.finish(_ApiError(404, "Not Found").body())


# -- process entry point --------------------------------------------------------------------


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
