"""The Bot API as the emulator speaks it: who the bot is, errors, parameters and chat ids."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from tornado.httputil import HTTPServerRequest

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

BOT_USER: Final[dict[str, Any]] = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": "Trade Watch",
    "username": BOT_USERNAME,
}

GET_ME: Final[dict[str, Any]] = {
    **BOT_USER,
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": True,
    "can_connect_to_business": False,
    "has_main_web_app": False,
}

TOKEN_RE: Final = re.compile(r"\d+:[A-Za-z0-9_-]+")


def dumps(payload: object) -> bytes:
    # Compact separators: the bytes match Telegram's answers exactly.
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def ok(result: object) -> bytes:
    return dumps({"ok": True, "result": result})


class ApiError(Exception):
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
        return dumps(payload)


# -- parameters -------------------------------------------------------------------------------


def str_param(params: Mapping[str, Any], key: str) -> str | None:
    value = params.get(key)
    if value is None or isinstance(value, str):
        return value
    return str(value)


def int_param(params: Mapping[str, Any], key: str, default: int | None = None) -> int | None:
    value = params.get(key)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(400, f"Bad Request: invalid {key} specified") from None


def float_param(params: Mapping[str, Any], key: str, default: float) -> float:
    value = params.get(key)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ApiError(400, f"Bad Request: invalid {key} specified") from None


def bool_param(params: Mapping[str, Any], key: str) -> bool:
    value = params.get(key)
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1"))


def json_param(params: Mapping[str, Any], key: str) -> Any:
    """JSON-typed parameters arrive as JSON strings in form bodies and as values in JSON ones."""
    value = params.get(key)
    if isinstance(value, str):
        if not value:
            return None
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise ApiError(400, f"Bad Request: can't parse {key} JSON object") from None
    return value


def chat_key(value: object) -> ChatKey | None:
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


def require_chat(params: Params) -> ChatKey:
    raw = params.get("chat_id")
    if raw is None or raw == "":
        raise ApiError(400, "Bad Request: chat_id is empty")
    chat = chat_key(raw)
    if chat is None or chat == 0:
        raise ApiError(400, "Bad Request: chat not found")
    return chat


def normalize_chat(chat_id: ChatKey) -> ChatKey:
    chat = chat_key(chat_id)
    if chat is None:
        raise ValueError(f"not a chat id: {chat_id!r}")
    return chat


def is_group(chat: ChatKey) -> bool:
    return isinstance(chat, str) or chat < 0


def request_params(request: HTTPServerRequest) -> tuple[Params, Files]:
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


def scope_key(scope: object) -> str:
    if not scope:
        scope = {"type": "default"}
    return json.dumps(scope, sort_keys=True, separators=(",", ":"))
