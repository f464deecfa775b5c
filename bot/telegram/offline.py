"""An in-process Bot API: a `BaseRequest` that answers like Telegram and records every call.

It lets the real application run with no network: tests drive real `Update` objects through
`application.process_update`, and the terminal front end reads the bot's replies from it.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from telegram.request import BaseRequest

from bot.telegram.html_entities import HtmlEntityError, parse_html

if TYPE_CHECKING:
    from telegram.request import RequestData

BOT_ID = 7_000_000_001
BOT_USERNAME = "TradeWatchBot"


# The statuses getChatMember answers with (Telegram calls the owner "creator").
MEMBER_STATUSES = ("creator", "administrator", "member", "restricted", "left", "kicked")
_ADMIN_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
)


@dataclass(frozen=True, slots=True)
class ApiCall:
    method: str
    params: dict[str, Any]
    files: dict[str, bytes]  # uploaded files by field name (e.g. a chart's PNG)
    # What the method answered, e.g. the message as Telegram stores it (text and entities).
    result: Any = field(default=None, compare=False)


class OfflineApiError(Exception):
    """An error answer, as Telegram words it ("Bad Request: chat not found")."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


class OfflineRequest(BaseRequest):
    """Answers Bot API methods locally with realistic JSON; `calls` keeps them in order."""

    def __init__(self) -> None:
        self.calls: list[ApiCall] = []
        # Files a test puts where Telegram keeps uploads: getFile and the download serve them.
        self.files_to_serve: dict[str, bytes] = {}
        # Chats getChat knows (see add_chat) and members getChatMember reports (set_member).
        self.chats: dict[int, dict[str, Any]] = {}
        self.members: dict[tuple[int, int], dict[str, Any]] = {}
        self._message_ids = itertools.count(1)

    def add_chat(
        self, chat_id: int, chat_type: str, *, title: str | None = None, username: str | None = None
    ) -> None:
        """A chat getChat finds by id or @username (unknown chats are "chat not found")."""
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        if title is not None:
            chat["title"] = title
        if username is not None:
            chat["username"] = username
        self.chats[chat_id] = chat

    def set_member(
        self,
        chat_id: int,
        user_id: int,
        status: str,
        *,
        can_post_messages: bool = True,
        is_anonymous: bool = False,
    ) -> None:
        """What getChatMember answers for this user in this chat.

        Unset, a user is a "member" of a group and has "left" a channel.
        """
        if status not in MEMBER_STATUSES:
            raise ValueError(f"unknown chat member status: {status!r}")
        user = {"id": user_id, "is_bot": user_id == BOT_ID, "first_name": f"User {user_id}"}
        member: dict[str, Any] = {"status": status, "user": user}
        if status == "creator":
            member["is_anonymous"] = is_anonymous
        elif status == "administrator":
            member.update(dict.fromkeys(_ADMIN_RIGHTS, False))
            member.update(can_be_edited=False, is_anonymous=is_anonymous, can_manage_chat=True)
            if self.chats.get(chat_id, {}).get("type") == "channel":
                member.update(can_post_messages=can_post_messages, can_edit_messages=True)
        elif status == "restricted":
            member.update(is_member=True, until_date=0)
        elif status == "kicked":
            member["until_date"] = 0
        self.members[(chat_id, user_id)] = member

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        if "/file/bot" in url:
            path = url.split("/file/bot", 1)[1].split("/", 1)[1]
            served = self.files_to_serve.get(path)
            return (200, served) if served is not None else (404, b"")
        api_method = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data is not None else {}
        files: dict[str, bytes] = {}
        if request_data is not None and request_data.contains_files:
            for name, (_, upload, _) in request_data.multipart_data.items():
                files[name] = upload if isinstance(upload, bytes) else upload.read()
        try:
            result = self._result(api_method, params)
        except OfflineApiError as error:
            self.calls.append(ApiCall(api_method, params, files))
            answer = {"ok": False, "error_code": error.code, "description": error.description}
            return error.code, json.dumps(answer).encode()
        self.calls.append(ApiCall(api_method, params, files, result))
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def sent(self, method: str = "sendMessage") -> list[dict[str, Any]]:
        return [call.params for call in self.calls if call.method == method]

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "Trade Watch",
                "username": BOT_USERNAME,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": True,
            }
        if method in ("sendMessage", "sendPhoto", "editMessageText"):
            chat_id = int(params["chat_id"])
            chat = self.chats.get(chat_id) or {
                "id": chat_id,
                "type": "private" if chat_id > 0 else "group",
            }
            message: dict[str, Any] = {
                "message_id": next(self._message_ids),
                "date": int(time.time()),
                "chat": chat,
                "from": {
                    "id": BOT_ID,
                    "is_bot": True,
                    "first_name": "Trade Watch",
                    "username": BOT_USERNAME,
                },
            }
            if "text" in params:
                text = str(params["text"])
                entities: list[dict[str, Any]] = []
                if str(params.get("parse_mode", "")).upper() == "HTML":
                    try:
                        text, parsed = parse_html(text)
                    except HtmlEntityError as error:
                        raise OfflineApiError(
                            400, f"Bad Request: can't parse entities: {error}"
                        ) from None
                    entities = list(parsed or ())
                message["text"] = text
                if entities:
                    message["entities"] = entities
            if method == "sendPhoto":
                file_id = f"photo-{message['message_id']}"
                message["photo"] = [
                    {"file_id": file_id, "file_unique_id": file_id, "width": 880, "height": 704}
                ]
                message["caption"] = params.get("caption", "")
            return message
        if method == "getUpdates":
            return []
        if method == "getChat":
            return self._chat(str(params["chat_id"]))
        if method == "getChatMember":
            return self._member(int(params["chat_id"]), int(params["user_id"]))
        if method == "getFile":
            name = str(params["file_id"])
            size = len(self.files_to_serve.get(name, b""))
            return {"file_id": name, "file_unique_id": name, "file_size": size, "file_path": name}
        return True

    def _chat(self, wanted: str) -> dict[str, Any]:
        for chat in self.chats.values():
            username = chat.get("username")
            if wanted == str(chat["id"]) or (
                username is not None and wanted.lower() == f"@{username}".lower()
            ):
                # getChat answers a ChatFullInfo: these fields are required there.
                gifts = dict.fromkeys(
                    (
                        "unlimited_gifts",
                        "limited_gifts",
                        "unique_gifts",
                        "premium_subscription",
                        "gifts_from_channels",
                    ),
                    False,
                )
                return {
                    **chat,
                    "accent_color_id": 0,
                    "max_reaction_count": 11,
                    "accepted_gift_types": gifts,
                }
        raise OfflineApiError(400, "Bad Request: chat not found")

    def _member(self, chat_id: int, user_id: int) -> dict[str, Any]:
        if (chat_id, user_id) not in self.members:
            in_channel = self.chats.get(chat_id, {}).get("type") == "channel"
            self.set_member(chat_id, user_id, "left" if in_channel else "member")
            return self.members.pop((chat_id, user_id))
        return self.members[(chat_id, user_id)]
