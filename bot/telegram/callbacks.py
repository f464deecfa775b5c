"""Callback data: short, versioned, validated strings that stay valid across restarts.

Buttons carry what to show ("tw1|pass|nathu-la"), never state held in memory, so a button
pressed after a restart still works. Anything that does not decode, or names a record that
no longer exists, is answered as an expired button and changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from telegram import Message

from bot.vocabulary import DealStatus, RecordType, Series

if TYPE_CHECKING:
    from telegram import CallbackQuery

PREFIX: Final = "tw1"
MAX_BYTES: Final = 64  # Telegram's limit for callback_data
_KEY = r"[a-z0-9:_-]{1,40}"  # slugs, and figure keys like india_fy:FY2024-25 (with ':')
_PERIOD = r"(?:FY\d{4}-\d{2}|\d{4})"
_CHAT = r"-?\d{1,16}"  # the chat a subscription button manages (a channel's, from a private chat)
# Subscription settings a button may carry, and the values each accepts.
_OPTION_VALUES: Final = {
    "frequency": re.compile(r"weekly|daily|off"),
    "weekday": re.compile(r"[0-6]"),
    "hour": re.compile(r"1?\d|2[0-3]"),
    "timezone": re.compile(r"[A-Z][A-Za-z]+(?:/[A-Za-z0-9_+-]{1,30}){0,2}"),
    "topic": re.compile(r"trade|deals|passes|flights"),
    "alerts": re.compile(r"on|off"),
    "quiet": re.compile(r"on|off"),
    "chart": re.compile(r"on|off"),
    "news": re.compile(r"published|matched"),
}
_SETTING = "|".join(_OPTION_VALUES)

_PATTERNS: Final = {
    "passes": re.compile(r""),
    "pass": re.compile(rf"(?P<key>{_KEY})"),
    "hist": re.compile(rf"(?P<kind>pass|deal|flight|figure)\|(?P<key>{_KEY})\|(?P<page>\d{{1,3}})"),
    "deals": re.compile(r"(?P<status>[a-z_]{1,20})"),
    "cat": re.compile(r"(?P<key>[a-z0-9_]{1,30})"),
    "flights": re.compile(r""),
    "fig": re.compile(
        rf"(?P<focus>deficit|trade)\|(?P<series>india_fy|china_cy)\|(?P<period>{_PERIOD})"
    ),
    "sources": re.compile(r"(?P<page>\d{1,3})"),
    "chart": re.compile(r"(?P<kind>deficit|trade|imports|exports)"),
    "latest": re.compile(r"(?P<focus>deficit|trade)"),
    # Editors' drafts: confirm, cancel, and the guided /edit steps (the draft id is hex).
    "ok": re.compile(r"(?P<draft>[0-9a-f]{12})"),
    # Confirm a pass's opening and clear its expected reopening date with it.
    "oc": re.compile(r"(?P<draft>[0-9a-f]{12})"),
    "no": re.compile(r"(?P<draft>[0-9a-f]{12})"),
    "ek": re.compile(r"(?P<kind>pass|deal|flight)"),
    "er": re.compile(rf"(?P<kind>pass|deal|flight)\|(?P<key>{_KEY})"),
    "ef": re.compile(r"(?P<draft>[0-9a-f]{12})\|(?P<option>[a-z_]{1,20})"),
    "ev": re.compile(r"(?P<draft>[0-9a-f]{12})\|(?P<value>[a-z_]{1,30})"),
    # News review: publish, dismiss, update a record (which one, when several), state.
    "np": re.compile(r"(?P<item>\d{1,12})"),
    "nd": re.compile(r"(?P<item>\d{1,12})"),
    "nu": re.compile(r"(?P<item>\d{1,12})"),
    "nr": re.compile(r"(?P<item>\d{1,12})\|(?P<record>\d{1,2})"),
    "ns": re.compile(r"(?P<item>\d{1,12})"),
    "es": re.compile(r"(?P<draft>[0-9a-f]{12})"),
    # Subscriptions: subscribe a chat, show a page of its settings, change one setting.
    "sub": re.compile(rf"(?P<chat>{_CHAT})"),
    "cfg": re.compile(rf"(?P<chat>{_CHAT})\|(?P<page>main|day|hour|timezone|tzother|done)"),
    "opt": re.compile(rf"(?P<chat>{_CHAT})\|(?P<setting>{_SETTING})\|(?P<value>[\w/+-]{{1,40}})"),
    # A chat's language (/language).
    "lang": re.compile(rf"(?P<chat>{_CHAT})\|(?P<language>en|hi)"),
}


@dataclass(frozen=True, slots=True)
class Action:
    verb: str
    args: dict[str, str]

    def arg(self, name: str) -> str:
        return self.args[name]

    @property
    def page(self) -> int:
        return int(self.args.get("page", "0"))

    @property
    def record_type(self) -> RecordType:
        return RecordType(self.args["kind"])

    @property
    def series(self) -> Series:
        return Series(self.args["series"])

    @property
    def chat_id(self) -> int:
        return int(self.args["chat"])

    @property
    def deal_status(self) -> DealStatus | None:
        status = self.args["status"]
        return None if status == "all" else DealStatus(status)


def encode(verb: str, *args: str | int) -> str:
    data = "|".join([PREFIX, verb, *(str(arg) for arg in args)])
    if len(data.encode()) > MAX_BYTES or decode(data) is None:
        raise ValueError(f"not valid callback data: {data!r}")
    return data


def decode(data: str | None) -> Action | None:
    """The action a button asks for, or None for unknown, stale or forged data."""
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    prefix, _, rest = data.partition("|")
    verb, _, arguments = rest.partition("|")
    pattern = _PATTERNS.get(verb)
    if prefix != PREFIX or pattern is None:
        return None
    match = pattern.fullmatch(arguments)
    if match is None:
        return None
    action = Action(verb, {k: v for k, v in match.groupdict().items() if v is not None})
    known_statuses = {status.value for status in DealStatus} | {"all"}
    if verb == "deals" and action.args["status"] not in known_statuses:
        return None
    if verb == "opt" and not _OPTION_VALUES[action.args["setting"]].fullmatch(action.args["value"]):
        return None
    return action


def read_press(query: CallbackQuery) -> tuple[Action, Message] | None:
    """What a pressed button asks for, on a message the bot can still edit; None if neither."""
    action = decode(query.data)
    message = query.message if isinstance(query.message, Message) else None
    return None if action is None or message is None else (action, message)
