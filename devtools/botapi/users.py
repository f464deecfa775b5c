"""What users do: messages, button presses and inline queries, queued as updates for the bot."""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Mapping
from typing import Any

from devtools.botapi.api import BOT_USERNAME, DEFAULT_USER_ID
from devtools.botapi.content import detect_entities
from devtools.botapi.state import EmulatorState


class UserActions(EmulatorState):
    """Updates pushed as a Telegram user would cause them, with the users and chats they imply."""

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
        language_code: str = "en",
    ) -> int:
        """Queue a user's message for getUpdates; returns its update_id.

        A leading /command gets its bot_command entity and @usernames their mention entities
        (unless `entities` is given). `language_code` is the sender's Telegram language.
        `mention=True` addresses the bot, as group members do:
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
            entities = detect_entities(text)
        if chat_type == "private":
            user_id = chat_id if user_id is None else user_id
        user: dict[str, Any] = {
            "id": user_id or DEFAULT_USER_ID,
            "is_bot": False,
            "first_name": first_name,
        }
        if username:
            user["username"] = username
        user["language_code"] = language_code
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
            user = self._sender(user_id, first_name)
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
            user = self._sender(user_id, first_name)
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

    def _sender(self, user_id: int, first_name: str) -> dict[str, Any]:
        """A user pressing or typing: as known to the emulator, else a new one by that name."""
        return self._users.get(user_id) or {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            "language_code": "en",
        }
