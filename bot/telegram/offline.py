"""An in-process Bot API: a `BaseRequest` that answers like Telegram and records every call.

It lets the real application run with no network: tests drive real `Update` objects through
`application.process_update`, and the terminal front end reads the bot's replies from it.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from telegram.request import BaseRequest

if TYPE_CHECKING:
    from telegram.request import RequestData

BOT_ID = 7_000_000_001
BOT_USERNAME = "TradeWatchBot"


@dataclass(frozen=True, slots=True)
class ApiCall:
    method: str
    params: dict[str, Any]
    files: dict[str, bytes]  # uploaded files by field name (e.g. a chart's PNG)


class OfflineRequest(BaseRequest):
    """Answers Bot API methods locally with realistic JSON; `calls` keeps them in order."""

    def __init__(self) -> None:
        self.calls: list[ApiCall] = []
        # Files a test puts where Telegram keeps uploads: getFile and the download serve them.
        self.files_to_serve: dict[str, bytes] = {}
        self._message_ids = itertools.count(1)

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
        self.calls.append(ApiCall(api_method, params, files))
        result = self._result(api_method, params)
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
            message: dict[str, Any] = {
                "message_id": next(self._message_ids),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Trade Watch"},
            }
            if "text" in params:
                message["text"] = params["text"]
            if method == "sendPhoto":
                file_id = f"photo-{message['message_id']}"
                message["photo"] = [
                    {"file_id": file_id, "file_unique_id": file_id, "width": 880, "height": 704}
                ]
                message["caption"] = params.get("caption", "")
            return message
        if method == "getUpdates":
            return []
        if method == "getFile":
            name = str(params["file_id"])
            size = len(self.files_to_serve.get(name, b""))
            return {"file_id": name, "file_unique_id": name, "file_size": size, "file_path": name}
        return True
