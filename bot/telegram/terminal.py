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
from bot.vocabulary import Language

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

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
    message_id: int = 0  # the bot's message it sits under


@dataclass
class Reply:
    text: str
    buttons: dict[int, Button] = field(default_factory=dict)  # by the number typed to press
    photo: Path | None = None
    alert: str | None = None
    expects_reply: bool = False  # a prompt: the next message typed answers it


class TerminalSession:
    """One private chat with the bot; replies are collected from the recorded API calls."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        *,
        charts_dir: Path,
        clock: Callable[[], datetime] | None = None,
        language: Language | None = None,
    ) -> None:
        """`language`: answer in it whatever the chat chose (else as Telegram would: the
        chat's choice, else this user's language, English)."""
        offline = settings.model_copy(update={"telegram_bot_token": SecretStr(OFFLINE_TOKEN)})
        self.request = OfflineRequest()
        self.application: AnyApplication = build_application(
            offline, engine=engine, request=self.request, clock=clock, language=language
        )
        self.charts_dir = charts_dir
        # The buttons that can be pressed now (the last keyboard shown), by number.
        self.buttons: dict[int, Button] = {}
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._seen = 0
        # The bot's prompt awaiting an answer (a ForceReply), as Telegram stores it: the next
        # message typed is sent as a reply to it, as a Telegram app would.
        self._prompt: dict[str, Any] | None = None
        # Charts saved so far, by Telegram file id: a chart sent again by id is the same file.
        self._charts: dict[str, Path] = {}
        # Each message's keyboard as the bot last left it: a press carries it, as Telegram's
        # callback queries do (a review message reads its items from its buttons).
        self._keyboards: dict[int, dict[str, Any]] = {}

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
        elif self._prompt is not None:
            message["reply_to_message"] = self._prompt
        self._prompt = None
        return await self._process({"update_id": next(self._update_ids), "message": message})

    async def press(self, number: int) -> list[Reply]:
        """Press the button shown as [number] under the last keyboard."""
        if number not in self.buttons:
            raise IndexError(number)
        button = self.buttons[number]
        message: dict[str, Any] = {
            "message_id": button.message_id,
            "date": int(time.time()),
            "chat": CHAT,
            "from": {"id": 7_000_000_001, "is_bot": True, "first_name": "Trade Watch"},
            "text": "…",
        }
        keyboard = self._keyboards.get(button.message_id)
        if keyboard is not None:
            message["reply_markup"] = keyboard
        query = {
            "id": str(next(self._update_ids)),
            "from": USER,
            "chat_instance": "terminal",
            "data": button.callback_data,
            "message": message,
        }
        return await self._process({"update_id": next(self._update_ids), "callback_query": query})

    async def _process(self, data: dict[str, Any]) -> list[Reply]:
        update = Update.de_json(data, self.application.bot)
        await self.application.process_update(update)
        calls = self.request.calls[self._seen :]
        self._seen = len(self.request.calls)
        return [reply for call in calls if (reply := self._reply(call)) is not None]

    def _reply(self, call: ApiCall) -> Reply | None:
        params = call.params
        if call.method in ("sendMessage", "editMessageText"):
            markup = _markup(params.get("reply_markup"))
            reply = Reply(html_to_text(params["text"]))
            if call.method == "editMessageText":
                message_id = int(params["message_id"])
                reply.buttons = self._renumbered(message_id, markup)
            else:
                message_id = int(call.result["message_id"])
                reply.buttons = self._numbered(message_id, markup)
            if markup.get("inline_keyboard"):
                self._keyboards[message_id] = markup
            if markup.get("force_reply"):
                self._prompt = call.result
                reply.expects_reply = True
            return reply
        if call.method == "sendPhoto":
            return Reply(html_to_text(params.get("caption", "")), photo=self._saved_chart(call))
        if call.method == "answerCallbackQuery" and params.get("text"):
            return Reply("", alert=str(params["text"]))
        return None

    def _numbered(self, message_id: int, markup: dict[str, Any]) -> dict[int, Button]:
        """A new message's buttons, numbered from 1: they replace the keyboard shown."""
        buttons = _buttons(message_id, markup)
        if buttons:
            self.buttons = dict(enumerate(buttons, start=1))
        return self.buttons if buttons else {}

    def _renumbered(self, message_id: int, markup: dict[str, Any]) -> dict[int, Button]:
        """A message edited in place keeps its buttons' numbers: a button that is still there
        (the same action, else the same label) keeps its number, a new one takes the next
        free number, so the number someone read a moment ago still means what it meant."""
        old = {n: b for n, b in self.buttons.items() if b.message_id == message_id}
        by_action = {b.callback_data: n for n, b in old.items()}
        by_label = {b.text: n for n, b in old.items()}
        numbered: dict[int, Button] = {}
        fresh = itertools.count(max(self.buttons, default=0) + 1)
        for button in _buttons(message_id, markup):
            number = by_action.get(button.callback_data) or by_label.get(button.text)
            if number is None or number in numbered:
                number = next(fresh)
            numbered[number] = button
        if numbered:
            self.buttons = dict(sorted(numbered.items()))
        return self.buttons if numbered else {}

    def _saved_chart(self, call: ApiCall) -> Path | None:
        """Where the chart's PNG is: saved now if uploaded, or the file sent before by id."""
        content = call.files.get("photo")
        if content is None:
            return self._charts.get(str(call.params.get("photo")))
        path = self.charts_dir / f"chart-{int(time.time() * 1000)}.png"
        self.charts_dir.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        for size in call.result.get("photo", ()):
            self._charts[size["file_id"]] = path
        return path


def _markup(markup: Any) -> dict[str, Any]:
    if markup is None:
        return {}
    data = json.loads(markup) if isinstance(markup, str) else markup
    return data if isinstance(data, dict) else {}


def _buttons(message_id: int, markup: dict[str, Any]) -> list[Button]:
    return [
        Button(button["text"], button["callback_data"], message_id)
        for row in markup.get("inline_keyboard", [])
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
            choices = "  ".join(f"[{n}] {b.text}" for n, b in reply.buttons.items())
            out.write(f"Buttons: {choices}\n")
        if reply.expects_reply:
            out.write("(Your next message answers this.)\n")
        out.write("\n")
