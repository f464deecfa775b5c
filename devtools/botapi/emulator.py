"""`BotApiEmulator`: the parts of the emulator put together, its lifecycle and its dispatch."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from devtools.botapi.api import HOST, TOKEN_RE, ApiError, Files, Params, ok, request_params
from devtools.botapi.callbacks import CallbackMethods
from devtools.botapi.chats import ChatMethods
from devtools.botapi.faults import FaultInjection, RateLimits
from devtools.botapi.http import make_application
from devtools.botapi.inspection import TrafficInspection
from devtools.botapi.messages import MessageMethods
from devtools.botapi.updates import UpdateDelivery
from devtools.botapi.users import UserActions

if TYPE_CHECKING:
    from types import TracebackType

    from tornado.httputil import HTTPServerRequest

logger = logging.getLogger(__name__)


class BotApiEmulator(
    MessageMethods,
    CallbackMethods,
    ChatMethods,
    UpdateDelivery,
    UserActions,
    TrafficInspection,
    FaultInjection,
):
    """The Bot API as python-telegram-bot uses it, in memory, with faults and flood limits.

    All state sits behind one lock (`EmulatorState`), so the test thread may drive it while the
    server thread answers requests. Each base class is one concern: the methods of an area of
    the Bot API, what users do, reading the traffic, and the faults.
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
        super().__init__()
        self.enforce_limits = enforce_limits
        self.limits = limits or RateLimits()
        self._requested_port = port
        self._port: int | None = None
        self._thread_error: BaseException | None = None
        self._inflight = 0
        self._webhook_timeout = webhook_timeout_seconds
        self._webhook_retry = webhook_retry_seconds
        self._webhook_retry_max = webhook_retry_max_seconds
        self._pusher = None
        self._pusher_tasks = set()
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

    # -- lifecycle ------------------------------------------------------------------------------

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
        server = HTTPServer(make_application(self))
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

    # -- request handling -----------------------------------------------------------------------

    async def _handle_api(
        self, token: str, raw_method: str, request: HTTPServerRequest
    ) -> tuple[int, bytes] | None:
        """The HTTP answer to one Bot API request; None means drop the connection."""
        if TOKEN_RE.fullmatch(token) is None:
            return 401, ApiError(401, "Unauthorized").body()
        key = raw_method.lower()
        entry = self._methods.get(key)
        name = entry[0] if entry is not None else raw_method
        if key == "getupdates":
            name = "getUpdates"  # served apart: it may wait for an update
        try:
            params, files = request_params(request)
        except (ValueError, UnicodeDecodeError) as exc:
            error = ApiError(400, f"Bad Request: can't parse request: {exc}")
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
                    raise ApiError(404, "Not Found: method not found")
                self._check_faults(key, params)
                result = entry[1](params, files)
            except ApiError as exc:
                self._log_call(name, params, exc.code, exc.description)
                return exc.code, exc.body()
            self._log_call(name, params, 200, None)
        return 200, ok(result)
