"""The emulator over HTTP (tornado): Bot API routes, files and /_emulator/ control endpoints."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from typing import TYPE_CHECKING, Any, Final

from tornado.web import Application, RequestHandler

from devtools.botapi.api import TOKEN_RE, ApiError, ok

if TYPE_CHECKING:
    from tornado.httputil import HTTPServerRequest

    from devtools.botapi.emulator import BotApiEmulator

logger = logging.getLogger(__name__)

_TOKEN_IN_PATH_RE: Final = re.compile(r"/bot[^/]+/")

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


def make_application(emulator: BotApiEmulator) -> Application:
    """The routes: Bot API methods, the files getFile names, and the control endpoints."""
    return Application(
        [
            (r"/bot([^/]+)/([^/]+)", _ApiHandler, {"emulator": emulator}),
            (r"/file/bot([^/]+)/(.+)", _FileHandler, {"emulator": emulator}),
            (r"/_emulator/([a-z_]+)", _ControlHandler, {"emulator": emulator}),
        ],
        default_handler_class=_NotFoundHandler,
        log_function=_log_request,
    )


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
        self.send_json(status_code, ApiError(status_code, self._reason).body())


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
        content = self.emulator.file_content(path) if TOKEN_RE.fullmatch(token) else None
        if content is None:
            self.send_json(404, ApiError(404, "Not Found").body())
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
            result = _control(self.emulator, action, self.request.method or "GET", self.request)
        except _UnknownEndpointError:
            self.send_json(404, ApiError(404, f"Not Found: no control endpoint {action}").body())
        except (ValueError, TypeError, KeyError) as exc:  # bad JSON or arguments
            self.send_json(400, ApiError(400, f"Bad Request: {exc}").body())
        else:
            self.send_json(200, ok(result))


class _NotFoundHandler(RequestHandler):
    def prepare(self) -> None:
        self.set_status(404)
        self.set_header("Content-Type", "application/json")
        self.finish(ApiError(404, "Not Found").body())


# -- control endpoints ------------------------------------------------------------------------


class _UnknownEndpointError(Exception):
    pass


def _control(emulator: BotApiEmulator, action: str, method: str, request: HTTPServerRequest) -> Any:
    """The result of one /_emulator/<action> request; ValueError means a 400 answer."""
    query = {key: values[-1].decode() for key, values in request.query_arguments.items()}
    body = json.loads(request.body) if request.body else {}
    if method == "POST" and not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    if (action, method) == ("updates", "POST"):
        return {"update_id": _push_shorthand(emulator, body)}
    if (action, method) == ("faults", "POST"):
        _apply_faults(emulator, body)
        return emulator.stats()
    if (action, method) == ("reset", "POST"):
        emulator.reset()
        return True
    if method == "GET" and action == "messages":
        chat = query.get("chat_id")
        records = emulator.messages(None if chat is None else chat, method=query.get("method"))
        return [dataclasses.asdict(record) for record in records]
    if method == "GET" and action == "calls":
        return [dataclasses.asdict(call) for call in emulator.calls(query.get("method"))]
    if method == "GET" and action == "inline_answers":
        return [dataclasses.asdict(answer) for answer in emulator.inline_answers()]
    if method == "GET" and action == "callback_answers":
        return [dataclasses.asdict(answer) for answer in emulator.callback_answers()]
    if method == "GET" and action == "webhook_attempts":
        return [dataclasses.asdict(attempt) for attempt in emulator.webhook_attempts()]
    if method == "GET" and action == "stats":
        return emulator.stats()
    raise _UnknownEndpointError(action)


def _push_shorthand(emulator: BotApiEmulator, body: dict[str, Any]) -> int:
    message = body.get("message")
    if isinstance(message, dict) and "chat_id" in message and "chat" not in message:
        options = dict(message)
        return emulator.push_message(
            int(options.pop("chat_id")), str(options.pop("text")), **options
        )
    callback = body.get("callback_query")
    if isinstance(callback, dict) and "chat_id" in callback:
        return emulator.push_callback_query(**callback)
    inline = body.get("inline_query")
    if isinstance(inline, dict) and "user_id" in inline and "from" not in inline:
        return emulator.push_inline_query(**inline)
    return emulator.push_update(body)


def _apply_faults(emulator: BotApiEmulator, body: dict[str, Any]) -> None:
    for action, arguments in body.items():
        if action == "enforce_limits":
            emulator.set_enforce_limits(bool(arguments))
            continue
        if action not in _FAULT_ACTIONS:
            raise ValueError(f"unknown fault action: {action}")
        for kwargs in arguments if isinstance(arguments, list) else [arguments]:
            if kwargs is True:
                kwargs = {}
            if not isinstance(kwargs, dict):
                raise ValueError(f"{action}: arguments must be a JSON object")
            getattr(emulator, action)(**kwargs)
