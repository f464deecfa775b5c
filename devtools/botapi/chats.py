"""Bot API methods about chats and their members, and the members a test sets."""

from __future__ import annotations

from typing import Any

from devtools.botapi.api import (
    BOT_ID,
    ApiError,
    ChatKey,
    Files,
    Params,
    int_param,
    is_group,
    normalize_chat,
    require_chat,
)
from devtools.botapi.state import EmulatorState


class ChatMethods(EmulatorState):
    """getChat, getChatMember and getChatAdministrators (called with the lock held)."""

    def set_chat_member(self, chat_id: ChatKey, user_id: int, status: str = "member") -> None:
        """What getChatMember and getChatAdministrators report for this user in this chat."""
        if status not in ("creator", "administrator", "member", "left", "kicked"):
            raise ValueError(f"unsupported status: {status}")
        with self._lock:
            self._members.setdefault(normalize_chat(chat_id), {})[user_id] = status

    def _get_chat(self, params: Params, files: Files) -> Any:
        chat = self._chat_json(require_chat(params))
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
        chat = require_chat(params)
        user_id = int_param(params, "user_id")
        if user_id is None:
            raise ApiError(400, "Bad Request: invalid user_id specified")
        return self._member_json(chat, user_id, self._member_status(chat, user_id))

    def _get_chat_administrators(self, params: Params, files: Files) -> Any:
        chat = require_chat(params)
        if not is_group(chat):
            raise ApiError(400, "Bad Request: there are no administrators in the private chat")
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
