"""What messages carry: text in a parse mode, entities, inline keyboards and photos' sizes."""

from __future__ import annotations

import re
import struct
from typing import Any, Final

from bot.telegram.html_entities import HtmlEntityError, parse_html, utf16_len
from devtools.botapi.api import MAX_CALLBACK_DATA_BYTES, ApiError, Params, json_param

_MENTION_RE: Final = re.compile(r"(?<![\w@])@[A-Za-z]\w{3,31}\b")

_LEADING_COMMAND_RE: Final = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z]\w{3,31})?(?=\s|$)")

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

PHOTO_SIZE_LIMITS: Final = ((90, "s"), (320, "m"), (800, "x"), (1280, "y"))


def format_text(
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
                raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from None
        if mode in ("markdown", "markdownv2"):
            return text, None  # not parsed: passed through as plain text
        raise ApiError(400, "Bad Request: unsupported parse_mode")
    if entities is None:
        return text, None
    if not isinstance(entities, list) or not all(isinstance(e, dict) for e in entities):
        raise ApiError(400, "Bad Request: can't parse entities JSON object")
    return text, entities or None


def parse_reply_markup(params: Params) -> dict[str, Any] | None:
    """The parsed reply_markup, checked the way Telegram rejects broken inline keyboards."""
    if params.get("reply_markup") in (None, ""):
        return None
    try:
        markup = json_param(params, "reply_markup")
    except ApiError:
        markup = None
    if not isinstance(markup, dict):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    keyboard = markup.get("inline_keyboard")
    if keyboard is None:
        return markup
    if not isinstance(keyboard, list) or not all(isinstance(row, list) for row in keyboard):
        raise ApiError(400, "Bad Request: can't parse inline keyboard JSON object")
    for row in keyboard:
        for button in row:
            if not isinstance(button, dict) or not button.get("text"):
                raise ApiError(
                    400, "Bad Request: can't parse inline keyboard button: Text is empty"
                )
            data = button.get("callback_data")
            if data is not None and (
                not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES
            ):
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            if _INLINE_BUTTON_ACTIONS.isdisjoint(button):
                raise ApiError(
                    400,
                    "Bad Request: can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard",
                )
    return markup


def detect_entities(text: str) -> list[dict[str, Any]]:
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


def image_size(content: bytes) -> tuple[int, int]:
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


def scaled(width: int, height: int, limit: int) -> tuple[int, int]:
    scale = limit / max(width, height, 1)
    return max(1, round(width * scale)), max(1, round(height * scale))
