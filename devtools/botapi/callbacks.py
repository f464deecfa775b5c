"""Bot API methods that answer button presses and inline queries, and the command menu."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any, Final

from devtools.botapi.api import (
    ApiError,
    Files,
    Params,
    bool_param,
    json_param,
    scope_key,
    str_param,
)
from devtools.botapi.state import CallbackAnswer, EmulatorState, InlineAnswer

_QUERY_EXPIRED: Final = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)

_COMMAND_RE: Final = re.compile(r"[a-z0-9_]{1,32}")


class CallbackMethods(EmulatorState):
    """Answers to pushed queries, and the command menu per scope and language.

    answerCallbackQuery and answerInlineQuery (for queries the emulator has pushed), and
    setMyCommands, deleteMyCommands and getMyCommands; called with the lock held.
    """

    def _answer_callback_query(self, params: Params, files: Files) -> Any:
        query_id = str_param(params, "callback_query_id") or ""
        if query_id not in self._open_queries:
            raise ApiError(400, _QUERY_EXPIRED)
        self._callback_answers.append(
            CallbackAnswer(
                query_id,
                str_param(params, "text"),
                bool_param(params, "show_alert"),
                str_param(params, "url"),
                time.monotonic(),
            )
        )
        return True

    def _answer_inline_query(self, params: Params, files: Files) -> Any:
        query_id = str_param(params, "inline_query_id") or ""
        if query_id not in self._open_queries:
            raise ApiError(400, _QUERY_EXPIRED)
        results = json_param(params, "results")
        if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
            raise ApiError(400, "Bad Request: can't parse results JSON object")
        if len(results) > 50:
            raise ApiError(400, "Bad Request: RESULTS_TOO_MUCH")
        ids = [str(result.get("id", "")) for result in results]
        if any(not 1 <= len(result_id.encode()) <= 64 for result_id in ids):
            raise ApiError(400, "Bad Request: RESULT_ID_INVALID")
        if len(set(ids)) != len(ids):
            raise ApiError(400, "Bad Request: RESULT_ID_DUPLICATE")
        self._inline_answers.append(InlineAnswer(query_id, results, params, time.monotonic()))
        return True

    def _set_my_commands(self, params: Params, files: Files) -> Any:
        commands = json_param(params, "commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_RE.fullmatch(
                str(command.get("command", ""))
            ):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        key = (scope_key(json_param(params, "scope")), str_param(params, "language_code") or "")
        self._commands[key] = commands
        return True

    def _delete_my_commands(self, params: Params, files: Files) -> Any:
        key = (scope_key(json_param(params, "scope")), str_param(params, "language_code") or "")
        self._commands.pop(key, None)
        return True

    def _get_my_commands(self, params: Params, files: Files) -> Any:
        key = (scope_key(json_param(params, "scope")), str_param(params, "language_code") or "")
        return self._commands.get(key, [])

    def commands(
        self, scope: Mapping[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, Any]]:
        """The command list setMyCommands stored for this scope and language."""
        with self._lock:
            return list(self._commands.get((scope_key(scope), language_code), []))
