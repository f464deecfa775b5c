"""Real Telegram `Update` objects built from Bot API JSON, as Telegram would send them."""

from __future__ import annotations

import itertools
import time
from typing import TYPE_CHECKING, Any

from telegram import Update

if TYPE_CHECKING:
    from telegram import Bot

_update_ids = itertools.count(1)
_message_ids = itertools.count(1000)


def message_update(
    bot: Bot, text: str, *, chat_id: int = 555, user_id: int = 555, chat_type: str = "private"
) -> Update:
    message: dict[str, Any] = {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": chat_type, "first_name": "Asha"},
        "from": {"id": user_id, "is_bot": False, "first_name": "Asha", "language_code": "en"},
        "text": text,
    }
    if text.startswith("/"):
        command = text.split()[0]
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    if chat_type != "private":
        message["chat"] = {"id": chat_id, "type": chat_type, "title": "Trade desk"}
    update = Update.de_json({"update_id": next(_update_ids), "message": message}, bot)
    assert update is not None
    return update
