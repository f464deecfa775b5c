"""Bot API methods that send, edit and delete messages, and getFile for the photos sent."""

from __future__ import annotations

from typing import Any, Final

from devtools.botapi.api import (
    GET_ME,
    MAX_CAPTION_LENGTH,
    MAX_TEXT_LENGTH,
    ApiError,
    ChatKey,
    Files,
    Params,
    int_param,
    json_param,
    require_chat,
    str_param,
)
from devtools.botapi.content import format_text, parse_reply_markup
from devtools.botapi.state import EmulatorState, Photo, SentMessage

_NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


class MessageMethods(EmulatorState):
    """Messages sent, edited and deleted, as Telegram checks and answers them.

    getMe, sendMessage, sendPhoto, editMessageText, editMessageReplyMarkup, deleteMessage,
    sendChatAction and getFile; like every Bot API method here, called with the lock held.
    """

    def _get_me(self, params: Params, files: Files) -> Any:
        return GET_ME

    def _returns_true(self, params: Params, files: Files) -> Any:
        return True

    def _send_message(self, params: Params, files: Files) -> Any:
        chat = require_chat(params)
        text = str_param(params, "text") or ""
        parse_mode = str_param(params, "parse_mode")
        plain, entities = _message_text(text, parse_mode, params)
        markup = parse_reply_markup(params)
        reply_to = self._reply_target(chat, params)
        record = self._record(
            chat, "sendMessage", params, text=text, parse_mode=parse_mode, reply_markup=markup
        )
        message = self._message_json(record, plain, entities)
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        return message

    def _send_photo(self, params: Params, files: Files) -> Any:
        chat = require_chat(params)
        photo = self._photo_from(params, files)
        caption = str_param(params, "caption")
        parse_mode = str_param(params, "parse_mode")
        plain, entities = format_text(
            caption or "", parse_mode, json_param(params, "caption_entities")
        )
        if len(plain) > MAX_CAPTION_LENGTH:
            raise ApiError(400, "Bad Request: message caption is too long")
        markup = parse_reply_markup(params)
        reply_to = self._reply_target(chat, params)
        record = self._record(
            chat,
            "sendPhoto",
            params,
            text=caption,
            parse_mode=parse_mode,
            reply_markup=markup,
            file_id=photo.sizes[-1]["file_id"],
        )
        message = self._message_json(record, plain, entities)
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        return message

    def _photo_from(self, params: Params, files: Files) -> Photo:
        value = params.get("photo")
        content: bytes | None = None
        if isinstance(value, str) and value.startswith("attach://"):
            content = files.get(value[len("attach://") :])
        elif "photo" in files:
            content = files["photo"]
        if content is not None:
            if not content:
                raise ApiError(400, "Bad Request: file must be non-empty")
            return self._store_photo(content)
        if isinstance(value, str) and value:
            known = self._photos.get(value)
            if known is not None:
                return known
            if value.startswith(("http://", "https://")):
                return self._store_photo(b"")  # never fetched: the emulator stays offline
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        raise ApiError(400, "Bad Request: there is no photo in the request")

    def _editable(self, params: Params) -> tuple[ChatKey, SentMessage]:
        chat = require_chat(params)
        message_id = int_param(params, "message_id")
        if message_id is None:
            raise ApiError(400, "Bad Request: message identifier is not specified")
        current = self._bot_messages.get((chat, message_id))
        if current is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        return chat, current

    def _edit_message_text(self, params: Params, files: Files) -> Any:
        text = str_param(params, "text") or ""
        parse_mode = str_param(params, "parse_mode")
        plain, entities = _message_text(text, parse_mode, params)
        markup = parse_reply_markup(params)
        if params.get("inline_message_id"):
            return True  # inline messages are not tracked
        chat, current = self._editable(params)
        if current.file_id is not None:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        if (plain, entities) == self._formatted(current) and markup == current.reply_markup:
            raise ApiError(400, _NOT_MODIFIED)
        record = self._record(
            chat,
            "editMessageText",
            params,
            text=text,
            parse_mode=parse_mode,
            reply_markup=markup,
            message_id=current.message_id,
            date=current.date,
        )
        return self._message_json(record, plain, entities)

    def _edit_message_reply_markup(self, params: Params, files: Files) -> Any:
        markup = parse_reply_markup(params)
        if params.get("inline_message_id"):
            return True
        chat, current = self._editable(params)
        if markup == current.reply_markup:
            raise ApiError(400, _NOT_MODIFIED)
        record = self._record(
            chat,
            "editMessageReplyMarkup",
            params,
            text=current.text,
            parse_mode=current.parse_mode,
            reply_markup=markup,
            message_id=current.message_id,
            date=current.date,
            file_id=current.file_id,
        )
        return self._rebuild_json(record)

    def _delete_message(self, params: Params, files: Files) -> Any:
        chat = require_chat(params)
        message_id = int_param(params, "message_id")
        key = (chat, message_id or 0)
        if self._bot_messages.pop(key, None) is None and self._user_messages.pop(key, None) is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        return True

    def _send_chat_action(self, params: Params, files: Files) -> Any:
        require_chat(params)
        if not str_param(params, "action"):
            raise ApiError(400, "Bad Request: action is empty")
        return True

    def _get_file(self, params: Params, files: Files) -> Any:
        file_id = str_param(params, "file_id") or ""
        photo = self._photos.get(file_id)
        if photo is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        size = next(size for size in photo.sizes if size["file_id"] == file_id)
        return {
            "file_id": file_id,
            "file_unique_id": size["file_unique_id"],
            "file_size": len(photo.content),
            "file_path": photo.file_path,
        }


def _message_text(text: str, parse_mode: str | None, params: Params) -> tuple[str, Any]:
    """The text as Telegram stores it (plain, with entities), refused as Telegram refuses it."""
    plain, entities = format_text(text, parse_mode, json_param(params, "entities"))
    if not plain.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    if len(plain) > MAX_TEXT_LENGTH:
        raise ApiError(400, "Bad Request: message is too long")
    return plain, entities
