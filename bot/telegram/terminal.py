"""The bot in a terminal: the real application through the in-process transport.

`python -m bot ask "is nathula open"` sends one message and prints the reply as plain text;
`python -m bot chat` is a conversation where buttons are numbered choices.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from pydantic import SecretStr
from telegram import Update

from bot.telegram.app import build_application
from bot.telegram.offline import OfflineRequest
from bot.telegram.plain import html_to_text

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from bot.config import Settings
    from bot.telegram.offline import ApiCall
    from bot.telegram.types import AnyApplication

# Nothing leaves the process, so any well-formed token will do.
OFFLINE_TOKEN = "1:terminal-offline-transport-no-network-access"
USER = {"id": 1, "is_bot": False, "first_name": "You", "language_code": "en"}
CHAT = {"id": 1, "type": "private", "first_name": "You"}


@dataclass
class Button:
    text: str
    callback_data: str


@dataclass
class Reply:
    text: str
    buttons: list[Button] = field(default_factory=list)
    photo: Path | None = None
    alert: str | None = None


class TerminalSession:
    """One private chat with the bot; replies are collected from the recorded API calls."""

    def __init__(self, settings: Settings, engine: Engine, *, charts_dir: Path) -> None:
        offline = settings.model_copy(update={"telegram_bot_token": SecretStr(OFFLINE_TOKEN)})
        self.request = OfflineRequest()
        self.application: AnyApplication = build_application(
            offline, engine=engine, request=self.request
        )
        self.charts_dir = charts_dir
        self.buttons: list[Button] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._seen = 0

    async def __aenter__(self) -> TerminalSession:
        await self.application.initialize()
        self._seen = len(self.request.calls)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.application.shutdown()

    async def send(self, text: str) -> list[Reply]:
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": CHAT,
            "from": USER,
            "text": text,
        }
        if text.startswith("/"):
            length = len(text.split()[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return await self._process({"update_id": next(self._update_ids), "message": message})

    async def press(self, number: int) -> list[Reply]:
        """Press button `number` (1-based) of the last reply that had buttons."""
        if not 1 <= number <= len(self.buttons):
            raise IndexError(number)
        button = self.buttons[number - 1]
        query = {
            "id": str(next(self._update_ids)),
            "from": USER,
            "chat_instance": "terminal",
            "data": button.callback_data,
            "message": {
                "message_id": 1,
                "date": int(time.time()),
                "chat": CHAT,
                "from": {"id": 7_000_000_001, "is_bot": True, "first_name": "Trade Watch"},
                "text": "…",
            },
        }
        return await self._process({"update_id": next(self._update_ids), "callback_query": query})

    async def _process(self, data: dict[str, Any]) -> list[Reply]:
        update = Update.de_json(data, self.application.bot)
        await self.application.process_update(update)
        calls = self.request.calls[self._seen :]
        self._seen = len(self.request.calls)
        replies = [reply for call in calls if (reply := self._reply(call)) is not None]
        for reply in replies:
            if reply.buttons:
                self.buttons = reply.buttons
        return replies

    def _reply(self, call: ApiCall) -> Reply | None:
        params = call.params
        if call.method in ("sendMessage", "editMessageText"):
            return Reply(html_to_text(params["text"]), _buttons(params.get("reply_markup")))
        if call.method == "sendPhoto":
            path = self.charts_dir / f"chart-{int(time.time() * 1000)}.png"
            content = call.files.get("photo")
            if content is not None:
                self.charts_dir.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)
            return Reply(html_to_text(params.get("caption", "")), photo=path if content else None)
        if call.method == "answerCallbackQuery" and params.get("text"):
            return Reply("", alert=str(params["text"]))
        return None


def _buttons(markup: Any) -> list[Button]:
    if markup is None:
        return []
    data = json.loads(markup) if isinstance(markup, str) else markup
    return [
        Button(button["text"], button["callback_data"])
        for row in data.get("inline_keyboard", [])
        for button in row
        if "callback_data" in button
    ]


def format_replies(replies: list[Reply], out: TextIO) -> None:
    for reply in replies:
        if reply.alert:
            out.write(f"[{reply.alert}]\n")
        if reply.text:
            out.write(reply.text.strip() + "\n")
        if reply.photo is not None:
            out.write(f"[chart saved to {reply.photo}]\n")
        if reply.buttons:
            choices = "  ".join(f"[{n}] {b.text}" for n, b in enumerate(reply.buttons, start=1))
            out.write(f"Buttons: {choices}\n")
        out.write("\n")
