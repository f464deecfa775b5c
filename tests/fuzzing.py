"""Generated Telegram updates for the real application, and the properties every update keeps.

Shared by `tests/test_fuzz.py` (a fixed seed, in CI) and `bench/fuzz.py` (a bigger budget).
A `Harness` runs the application `build_application` makes, with the in-process Bot API
(`OfflineRequest`) and its own copy of a migrated, seeded SQLite database in which 4242 is an
editor and 4343 an owner. `cases(world)` draws one update at a time, so later updates can
press the buttons, reply to the messages and name the drafts that earlier ones produced.

What "deserves a reply" means (`expected`), decided from the update alone:

- **A message in a private chat** gets exactly one answer: text (a question, or what an editor
  types into a guided edit), a command for this bot, a command the bot does not know (a hint),
  a sticker, photo, document... Not: a command addressed to another bot (`/help@OtherBot`),
  and not a service message (a pinned message, a chat's new title), which nobody typed.
- **In a group or supergroup** only what is addressed to the bot is answered, once: a command
  the bot knows, bare or `@TradeWatchBot`; text that @mentions the bot or replies to one of its
  messages. Everything else (chatter, unknown commands, other bots' commands, stickers,
  documents, members joining, a group's migration) gets no reply.
- **Channel posts, edited messages and edited channel posts** get no reply: an edit is not a
  new question, and nobody can be identified in a channel.
- **A callback query** gets exactly one `answerCallbackQuery`, and at most one answer besides
  (the message edited in place, or a new one such as the time-zone prompt or a chart).
- **An inline query** gets exactly one `answerInlineQuery` and nothing else.
- **`my_chat_member`** gets at most one message (the greeting when added to a group).

An *answer* is `sendMessage`, `sendPhoto` or `editMessageText`. One answer may be several
messages: `split_html` cuts a long text at blank lines (then lines) into chunks of at most 4096
characters, with the buttons on the last chunk only. A message therefore continues the
previous one when that one is a `sendMessage` without buttons that could not have taken this
one's first paragraph (or first line) without passing 4096 characters: exactly when `_pack`
starts a new chunk. Two commands answer twice by design: `/subscribe` in a chat that was not
subscribed (the confirmation, then the current headline), and `/digest` for a subscriber who
chose the chart (the digest, then the chart).

Every update, whoever sends it:

- reaches no error handler (an apology from `ErrorHandler` is a failure);
- makes no Bot API call that Telegram refuses (every text and caption parses as Telegram HTML:
  `html_entities.parse_html`, which also checks that tags balance);
- stays within Telegram's limits: a text of at most 4096 and a caption of at most 1024 UTF-16
  code units after entity parsing; callback data of at most 64 bytes that `callbacks.decode`
  accepts; non-blank button texts and at most 100 buttons; at most 50 inline results, each
  with a title and a valid HTML text; `answerCallbackQuery` text of at most 200 characters
  and plain (it is shown as is: no tags, no HTML character references);
- sends only to the chat it came from;
- changes no *data* (the tables in `DATA_TABLES`: records, sources, figures, history, roles)
  unless an editor (or owner) did one of the deliberate things that write: pressed Confirm
  (`tw1|ok|...`), sent `/undo`, or `/addsource` (a new source is written at once: it changes no
  record and needs no preview), or an owner sent `/grant` or `/revoke` (the `admin` table).
  Subscriptions, chat languages, deliveries, the dispatch cursor and edit drafts
  (`STATE_TABLES`) may change.

Text is any Unicode without surrogates (astral characters, right-to-left marks, zero-width
joiners, HTML-like `<b>` and `&`) except control characters other than newline and tab, which
Telegram's apps do not send; Hindi as people type it among it (Devanagari, its digits and
dandas, mixed with English, zero-width characters inside words, any Unicode normal form).
Users come with any `language_code`: Hindi, English, another language, a malformed one, none.
Unknown commands in a private chat get a hint (the bot's choice: silence there reads as a
broken bot); in groups they are left to the bots they are for.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import string
import unicodedata
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from hypothesis import strategies as st
from sqlalchemy import text as sql
from telegram import Update
from telegram.constants import MessageLimit

from bot import db
from bot.bootstrap import seed
from bot.config import Settings
from bot.rendering import MAX_MESSAGE_LENGTH
from bot.services import admins
from bot.telegram import callbacks
from bot.telegram.app import (
    EDITOR_COMMANDS,
    OWNER_COMMANDS,
    SUBSCRIPTION_COMMANDS,
    build_application,
)
from bot.telegram.handlers.questions import COMMAND_INTENTS
from bot.telegram.html_entities import HtmlEntityError, parse_html, utf16_len
from bot.telegram.offline import BOT_ID, BOT_USERNAME, OfflineRequest
from bot.vocabulary import Role
from tests.factories import bot_member

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from telegram.ext import ContextTypes

TOKEN = "123456789:AAE-fake-token-for-tests-0123456789abc"

READER, GROUP_ADMIN, EDITOR, OWNER = 555, 556, 4242, 4343
USERS = (READER, GROUP_ADMIN, EDITOR, OWNER)
GROUP, SUPERGROUP, CHANNEL = -4001, -1001234567890, -1009876543210
OTHER_CHANNEL = -1005550001111  # a channel the bot is not in
CHATS = {GROUP: "group", SUPERGROUP: "supergroup", CHANNEL: "channel"}

# Every command build_application registers (test_fuzz checks this against the application).
COMMANDS = (
    "start",
    "help",
    *COMMAND_INTENTS,
    "changes",
    *SUBSCRIPTION_COMMANDS,
    *EDITOR_COMMANDS,
    *OWNER_COMMANDS,
)
# Tables whose rows only editors change (records, sources, figures, history, roles) and tables
# any update may change (test_fuzz checks that these two cover the schema).
DATA_TABLES = (
    "source",
    "trade_figure",
    "figure_report",
    "border_pass",
    "commodity_deal",
    "flight_route",
    "context_note",
    "trade_composition",
    "status_change",
    "admin",
    "feed",
    "news_item",
)
STATE_TABLES = (
    "subscriber",
    "chat_language",
    "delivery",
    "dispatch_cursor",
    "edit_draft",
    "alembic_version",
)
# The full-text index and FTS5's shadow tables: written only by triggers on DATA_TABLES.
INDEX_TABLES = tuple(
    f"search_index{language}{suffix}"
    for language in ("", "_hi")  # the English and the Hindi texts' indexes
    for suffix in ("", "_data", "_idx", "_content", "_docsize", "_config")
)
# The harness's own: counts rows written to DATA_TABLES (see prepare_database).
HARNESS_TABLES = ("fuzz_data_writes",)

MESSAGE_METHODS = frozenset({"sendMessage", "sendPhoto", "editMessageText"})
_HTML_IN_PLAIN = re.compile(r"</?[a-z][a-z-]*[\s/>]|&(?:amp|lt|gt|quot|#\d+|#x[0-9a-f]+);", re.I)


# --- what the generated updates are ----------------------------------------------------------


class Expect:
    ANSWER = "one answer"
    SILENT = "no reply"
    CALLBACK = "one answerCallbackQuery"
    INLINE = "one answerInlineQuery"
    AT_MOST_ONE = "at most one message"


@dataclass(frozen=True, slots=True)
class Case:
    """One generated update: its Bot API JSON (no update_id yet) and what it is for reports."""

    scenario: str
    update: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    later: timedelta = timedelta()  # how much later than the previous update it arrives

    @property
    def kind(self) -> str:
        return next(iter(self.update))


@dataclass(slots=True)
class World:
    """What earlier updates left behind, for later ones to press, reply to and name."""

    buttons: list[str] = field(default_factory=list)  # callback data the bot has sent
    bot_messages: list[dict[str, Any]] = field(default_factory=list)  # as Telegram stores them
    drafts: list[str] = field(default_factory=list)  # ids of edit drafts in the database
    # Drafts that were confirmed, cancelled, replaced or expired: their buttons are stale.
    old_drafts: list[str] = field(default_factory=list)

    def remember(self, calls: list[Any]) -> None:
        for call in calls:
            if call.method in MESSAGE_METHODS and isinstance(call.result, dict):
                self.bot_messages.append(call.result)
                del self.bot_messages[:-20]
            for data in _button_data(call.params.get("reply_markup")):
                if data not in self.buttons:
                    self.buttons.append(data)
        del self.buttons[:-60]


def _keyboard(markup: Any) -> list[list[dict[str, Any]]]:
    if isinstance(markup, str):
        markup = json.loads(markup)
    if not isinstance(markup, dict):
        return []
    rows = markup.get("inline_keyboard") or []
    return [list(row) for row in rows]


def _button_data(markup: Any) -> list[str]:
    return [b["callback_data"] for row in _keyboard(markup) for b in row if "callback_data" in b]


# --- strategies -------------------------------------------------------------------------------

_ODD = (
    "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u202e", "\u202d", "\u200f", "\u061c",
    "مرحبا بالعالم", "שלום", "नाथू ला", "乃堆拉山口", "🇮🇳🇨🇳", "👨‍👩‍👧‍👦", "e\u0301", "𝔑𝔞𝔱𝔥𝔲",
    "<b>", "</b>", "<i>x</i>", "<a href=\"https://x.org\">", "</a>", "<", ">", "&", "&amp;",
    "&lt;", "&#0;", "&#x110000;", "<tg-spoiler>", "<script>", "<!--", "]]>", "\"", "'",
    "\n", "\n\n", "\r\n", "\t", " ", "  ", "@TradeWatchBot", "@tradewatchbot", "@OtherBot",
    "/", "//", "/start", "#tag", "$", "%", "{{ x }}", "{% raw %}", "\\", "NaN", "1e999",
)  # fmt: skip
_DOMAIN = (
    "nathu la", "nathula", "shipki", "shipki la", "lipulekh", "is nathu la open?", "deficit",
    "trade deficit with china", "FY2024-25", "FY24", "FY2030-31", "2025", "1999", "china",
    "india", "exports", "imports", "total trade", "compare FY24 and FY25", "since 2020",
    "rare earth", "urea", "fertiliser", "flights", "kolkata guangzhou", "history nathu la",
    "sources", "chart", "deals", "restricted", "in_effect", "proposed", "biggest deficit",
    "trend", "did china lift the fertiliser curbs?", "pass", "passes", "how are you",
    "Europe/Paris", "Asia/Kolkata", "UTC", "Mars/Olympus", "+05:30", "skip", "-", "no",
    "open", "suspended", "closed", "reopening_scheduled", "2026-05-01", "31/02/2026",
    "https://example.org/x", "note=\"x\"", "since=2026-05-01", "source=https://x.org",
    "latest on shipki la", "any news", "what's new with flights", "headlines",
)  # fmt: skip
# Hindi as people type it: Devanagari (with its digits, the dandas and either spelling of a
# nukta), romanised, and mixed with English.
HINDI = (
    "नाथू ला कब खुलेगा?", "क्या नाथू ला खुला है?", "शिपकी-ला बंद है क्या?", "लिपुलेख दर्रा",
    "वित्त वर्ष 2024-25 में व्यापार घाटा", "वि.व. २०२४-२५", "घाटा", "चीन से आयात कितना है",
    "यूरिया पर पाबंदी हटी क्या", "क्या उड़ानें चल रही हैं?", "रेयर अर्थ", "दुर्लभ पृथ्वी चुंबक",
    "Nathu La कब खुलेगा", "is नाथू ला open?", "११६.१२ अरब", "सबसे ज़्यादा घाटा", "2020 से घाटा",
    "99.2 या 116.12?", "नाथू ला की ताज़ा ख़बर", "नमस्ते", "।", "॥", "उ\u095cान", "\u095eार्मा",
    "nathu la kab khulega", "ghata kitna hai", "2019 से 2022 तक", "भारत चीन को क्या बेच सकता है",
)  # fmt: skip
_ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff")
# Telegram's `language_code` as apps send it, and as they might: unknown, malformed, absent.
LANGUAGE_CODES = (
    None, "en", "hi", "hi-IN", "HI", "hi_IN", "hi-Latn", "en-GB", "fr", "zh-hans", "", "-",
    "x" * 40, "हि",
)  # fmt: skip
_language_codes = st.sampled_from(LANGUAGE_CODES) | st.text(max_size=12)

_chars = st.characters(exclude_categories=("Cs", "Cc"))
_devanagari = st.characters(min_codepoint=0x0900, max_codepoint=0x097F)
_NORMAL_FORMS: tuple[Literal["NFC", "NFD", "NFKC", "NFKD"] | None, ...] = (
    None,
    "NFC",
    "NFD",
    "NFKC",
    "NFKD",
)


@st.composite
def _typed_hindi(draw: st.DrawFn) -> str:
    """A Hindi phrase as a keyboard may send it: zero-width characters inside its words, in
    any Unicode normal form."""
    text = draw(st.sampled_from(HINDI))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(_ZERO_WIDTH)) + text[at:]
    form = draw(st.sampled_from(_NORMAL_FORMS))
    return text if form is None else unicodedata.normalize(form, text)


hindi_texts = st.one_of(
    _typed_hindi(),
    st.text(_devanagari, min_size=1, max_size=40),
    st.lists(
        _typed_hindi() | st.text(_devanagari, max_size=8) | st.sampled_from(_DOMAIN),
        min_size=1,
        max_size=5,
    ).map(" ".join),
).filter(lambda text: text.strip() != "")
_fragment = st.one_of(
    st.text(_chars, max_size=12),
    st.sampled_from(_ODD),
    st.sampled_from(_DOMAIN),
    _typed_hindi(),
    st.text(_devanagari, max_size=12),
    st.characters(min_codepoint=0x10000, max_codepoint=0x10FFFF, exclude_categories=["Cs"]),
)


@st.composite
def _long_text(draw: st.DrawFn) -> str:
    """Up to 4096 characters from little entropy: a short piece repeated, or a cut of it."""
    piece = draw(st.text(_chars, min_size=1, max_size=8) | st.sampled_from(_ODD + _DOMAIN + HINDI))
    size = draw(st.sampled_from((512, 2000, 4095, 4096)))
    return (piece * (size // len(piece) + 1))[:size]


texts = st.one_of(
    st.lists(_fragment, min_size=1, max_size=8).map(" ".join),
    st.lists(_fragment, min_size=1, max_size=6).map("".join),
    st.sampled_from(_DOMAIN),
    hindi_texts,
    _long_text(),
).filter(lambda text: text.strip() != "")
_args = st.one_of(
    st.just(""),
    texts.map(lambda text: text[:300]),
    st.sampled_from(_DOMAIN),
    st.sampled_from(
        (
            "pass nathu-la open",
            'pass nathu-la suspended since=2026-05-01 note="x"',
            "deal urea in_effect",
            "flight kolkata-guangzhou suspended",
            "pass atlantis open",
            "pass",
            "india_fy FY2025-26 exports=18.1 source=https://x.org",
            "mars FY1 x=1",
            'src-1 title="T" publisher="P"',
            'src-1 title="T"',
            "Bad_Key title=x",
            "7d",
            "24h",
            "999d",
            "0h",
            "2026-11-01",
            "yesterday",
            "@somechannel",
            "@TradeWatchChannel",
            "t.me/somechannel",
            "-1009876543210",
            "-1005550001111",
            "-100",
            "4242 editor",
            "555 editor",
            "555 owner",
            "555",
            "4343",
            "99999999999999999999999 editor",
            "-1 editor",
            "555 admin",
            "99999999999999999999999",
            "pass-nathu-la",
            "history-nathu-la",
            "deal-urea",
            "tz_-4001",
            "flight-x",
            "Europe/Paris",
            "Asia/Kolkata",
            "Nowhere/City",
        )
    ),
)


def _user(user_id: int, language_code: str | None = "en") -> dict[str, Any]:
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}
    if language_code is not None:
        user["language_code"] = language_code
    return user


def _chat(chat_id: int, *, titled: bool = True) -> dict[str, Any]:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": f"User {chat_id}"}
    chat: dict[str, Any] = {"id": chat_id, "type": CHATS.get(chat_id, "supergroup")}
    if titled:
        chat["title"] = "Trade desk ✨"
    return chat


def _command_text(name: str, target: str | None, args: str) -> tuple[str, int]:
    command = f"/{name}" + (f"@{target}" if target else "")
    return (f"{command} {args}" if args else command), len(command)


_command_names = st.one_of(
    st.sampled_from(COMMANDS),
    st.sampled_from(("foo", "Start", "HELP", "set_", "a" * 32, "pass2", "subscribe_channelx")),
)
_targets = st.sampled_from((None, None, None, BOT_USERNAME, "tradewatchbot", "OtherBot"))


@st.composite
def _message_body(draw: st.DrawFn, world: World, chat_id: int) -> tuple[str, dict[str, Any]]:
    """What a message carries: (scenario, fields)."""
    kind = draw(
        st.sampled_from(
            ("text", "text", "text", "command", "command", "command", "mention", "reply",
             "document", "sticker", "photo", "location", "service", "empty_entities")
        )
    )  # fmt: skip
    if kind == "command":
        text, length = _command_text(draw(_command_names), draw(_targets), draw(_args))
        return "command", {
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": length}],
        }
    if kind == "mention":
        mention = draw(st.sampled_from((f"@{BOT_USERNAME}", "@tradewatchbot", "@OtherBot")))
        before, after = draw(texts), draw(texts)
        text = f"{before[:200]} {mention} {after[:200]}"
        offset = utf16_len(f"{before[:200]} ")
        return "mention", {
            "text": text,
            "entities": [{"type": "mention", "offset": offset, "length": len(mention)}],
        }
    if kind == "reply":
        replied: dict[str, Any]
        if bool(world.bot_messages) and draw(st.booleans()):
            replied = dict(draw(st.sampled_from(world.bot_messages)))
            replied["chat"] = _chat(chat_id)
        else:
            replied = {
                "message_id": 1,
                "date": 1_700_000_000,
                "chat": _chat(chat_id),
                "from": _user(777),
                "text": "earlier",
            }
        return "reply", {"text": draw(texts), "reply_to_message": replied}
    if kind == "document":
        return "document", draw(_document())
    if kind == "sticker":
        return "sticker", {
            "sticker": {
                "file_id": "s1",
                "file_unique_id": "s1",
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
            }
        }
    if kind == "photo":
        photo = {"file_id": "p1", "file_unique_id": "p1", "width": 90, "height": 90}
        caption = draw(st.none() | texts.map(lambda text: text[:1024]))
        return "photo", {"photo": [photo]} | ({"caption": caption} if caption else {})
    if kind == "location":
        return "location", {"location": {"latitude": 27.38, "longitude": 88.83}}
    if kind == "service":
        service = draw(
            st.sampled_from(
                (
                    {"new_chat_members": [_user(888)]},
                    {"left_chat_member": _user(888)},
                    {"new_chat_title": "Renamed ✨"},
                    {"pinned_message": {"message_id": 1, "date": 0, "chat": _chat(chat_id)}},
                    {"group_chat_created": True},
                )
            )
        )
        return "service", service
    if kind == "empty_entities":
        return "text", {"text": draw(texts), "entities": []}
    return "text", {"text": draw(texts)}


_BROKEN_FILES = (
    b"",
    b"\xff\xfe\x00garbage",
    b'slug,name\nnathu-la,"unterminated\n',
    b"section,key\n" + b"x," * 5000,
    b'{"passes": [',
    b'{"passes": [{"slug": "nathu-la", "status": "sideways"}]}',
    b'{"trade_figures": "not a list"}',
    b"[1, 2, 3]",
    b"null",
    b'{"a": ' * 2000 + b"1" + b"}" * 2000,
    b"passes:\n  - slug: nathu-la\n    status: open\n",
    b"passes: [&a [*a]]\n",
    b"- - - - -\n",
    b"key: !!python/object/apply:os.system ['true']\n",
    b"a: &x 1\nb: *y\n",
    b"\xef\xbb\xbfslug,status\nshipki-la,open\n",
    "passes:\n  - slug: nathu-la\n    name: नाथू ला\n".encode(),
)
_FILE_NAMES = (
    "data.csv", "data.json", "data.yaml", "data.yml", "DATA.JSON", "notes.txt", "report.pdf",
    "noextension", ".json", "a.b.c.csv", "../../etc/passwd.yaml", "名前.yaml", "x" * 200 + ".csv",
)  # fmt: skip


@st.composite
def _document(draw: st.DrawFn) -> dict[str, Any]:
    file_id = f"doc-{draw(st.integers(0, 10**6))}"
    content = draw(st.sampled_from(_BROKEN_FILES) | st.binary(max_size=200))
    name = draw(st.sampled_from(_FILE_NAMES) | st.text(_chars, max_size=30) | st.none())
    document: dict[str, Any] = {"file_id": file_id, "file_unique_id": file_id}
    if name is not None:
        document["file_name"] = name
    mime = draw(st.sampled_from((None, "text/csv", "application/json", "text/yaml", "a/b")))
    if mime is not None:
        document["mime_type"] = mime
    size = draw(st.sampled_from(("exact", "missing", "huge", "zero")))
    if size != "missing":
        document["file_size"] = {"exact": len(content), "huge": 3 * 1024 * 1024, "zero": 0}[size]
    return {"document": document, "__file__": content}


_senders = st.sampled_from(USERS)
_EDITOR_ARGS = {
    "set": (
        "pass nathu-la open", "pass shipki-la suspended since=2026-05-01 note=\"Snow\"",
        "deal urea restricted source=https://example.org/x", "flight delhi-guangzhou suspended",
        "pass nathu-la open since=9999-99-99", "pass nathu-la open since=0001-01-01",
        "pass nathu-la open source=javascript:alert(1)", "deal urea sideways", "pass",
        "pass nathu-la open note=" + "n" * 3000, "pass nathu-la open source=unknown-key",
    ),
    "addfigure": (
        "india_fy FY2025-26 exports=18.1 imports=120.4 source=https://x.org",
        "china_cy 2026 deficit=-5 source=https://x.org stage=final",
        "india_fy FY2025-26 exports=1e999 source=https://x.org",
        "india_fy FY2025-26 exports=-1e999 deficit=1e-999 source=https://x.org",
        "india_fy FY1899-00 exports=1 source=https://x.org", "china_cy 99999 exports=1 source=x",
        "india_fy FY2025-26 exports=NaN source=https://x.org", "india_fy FY2025-26",
    ),
    "addsource": (
        'new-src title="T" publisher="P"', 'new-src title="T" publisher="P" url=ftp://x',
        'x title="T" publisher="P" published=31/02/2026',
        'a title="' + "t" * 400 + '" publisher="P"',
    ),
    "grant": ("555 editor", "556 owner", "99999999999999999999999 editor", "-5 editor", "4242"),
    "revoke": ("555", "4343", "4242", "99999999999999999999999", "x"),
    "changes": ("7d", "999d", "0h", "2026-11-01", "31/02/2026", "1000000d"),
    "subscribe_channel": ("@twnews", "-1009876543210", "-1005550001111", "@nope", "t.me/twnews"),
    "unsubscribe_channel": ("@twnews", "-1009876543210", "-1005550001111"),
    "settings": ("@twnews", "-1009876543210", "@nope"),
}  # fmt: skip


@st.composite
def _editor_command(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """What editors and owners type: their own commands, with plausible and hostile arguments."""
    name = draw(st.sampled_from((*_EDITOR_ARGS, "edit", "undo", "cancel", "admins")))
    args = draw(st.sampled_from(_EDITOR_ARGS.get(name, ("",))) | _args)
    text, length = _command_text(name, None, args)
    return "editor command", {
        "text": text,
        "entities": [{"type": "bot_command", "offset": 0, "length": length}],
    }


@st.composite
def _message_case(draw: st.DrawFn, world: World) -> Case:
    where = draw(st.sampled_from(("private", "private", "private", "group", "channel")))
    user = draw(_senders)
    if where == "private":
        chat_id = user
    elif where == "group":
        chat_id = draw(st.sampled_from((GROUP, SUPERGROUP, -1007770001111)))
    else:
        chat_id = CHANNEL
    if where == "private" and user in (EDITOR, OWNER) and draw(st.booleans()):
        scenario, body = draw(_editor_command())
    else:
        scenario, body = draw(_message_body(world, chat_id))
    content = body.pop("__file__", None)
    message: dict[str, Any] = {
        "message_id": draw(st.integers(1, 2**31 - 1)),
        "date": 1_763_715_600,
        "chat": _chat(chat_id, titled=draw(st.booleans()) if chat_id < 0 else True),
        **body,
    }
    sender = "user"
    if where == "channel":
        message["sender_chat"] = message["chat"]
        sender = "channel"
    elif where == "group" and draw(st.integers(0, 5)) == 0:
        # An anonymous administrator: no user, the group itself is the sender.
        message["from"] = {
            "id": 1087968824,
            "is_bot": True,
            "first_name": "Group",
            "username": "GroupAnonymousBot",
        }
        message["sender_chat"] = message["chat"]
        sender = "anonymous admin"
    else:
        message["from"] = _user(user, draw(_language_codes))
    if draw(st.integers(0, 7)) == 0:
        message["forward_origin"] = draw(
            st.sampled_from(
                (
                    {"type": "user", "date": 1, "sender_user": _user(777)},
                    {"type": "hidden_user", "date": 1, "sender_user_name": "Someone"},
                    {"type": "channel", "date": 1, "chat": _chat(CHANNEL), "message_id": 5},
                )
            )
        )
        scenario = f"forwarded {scenario}"
    edited = draw(st.integers(0, 7)) == 0
    if edited:
        message["edit_date"] = 1_763_715_660
    key = {
        ("channel", False): "channel_post",
        ("channel", True): "edited_channel_post",
    }.get((where, edited), "edited_message" if edited else "message")
    label = f"{'edited ' if edited else ''}{where} {scenario}"
    if sender != "user":
        label += f" ({sender})"
    files = {message["document"]["file_id"]: content} if content is not None else {}
    return Case(label, {key: message}, files)


_CALLBACK_VERBS = tuple(callbacks._PATTERNS)


@st.composite
def _callback_data(draw: st.DrawFn, world: World) -> tuple[str, str]:
    kind = draw(st.sampled_from(("seen", "seen", "seen", "forged", "forged", "random", "draft")))
    if kind == "seen" and world.buttons:
        return "button", draw(st.sampled_from(world.buttons))
    if kind == "draft":
        known = world.drafts + world.old_drafts[-10:]
        draft = draw(st.sampled_from(known)) if known else "0123456789ab"
        verb = draw(st.sampled_from(("ok", "no", "ef", "ev", "es")))
        tail = draw(st.sampled_from(("", "|status", "|note", "|bogus", "|open", "|in_effect")))
        return "draft button", f"tw1|{verb}|{draft}{tail}"[:64]
    if kind == "forged":
        verb = draw(st.sampled_from(_CALLBACK_VERBS))
        parts = draw(
            st.lists(
                st.sampled_from(
                    (
                        "nathu-la",
                        "atlantis",
                        "pass",
                        "deal",
                        "figure",
                        "flight",
                        "0",
                        "999",
                        "-1",
                        "all",
                        "lapsed",
                        "deficit",
                        "india_fy",
                        "china_cy",
                        "FY2024-25",
                        "FY1999-00",
                        "2025",
                        str(GROUP),
                        str(SUPERGROUP),
                        str(CHANNEL),
                        str(OTHER_CHANNEL),
                        str(READER),
                        str(EDITOR),
                        "main",
                        "tzother",
                        "day",
                        "hour",
                        "timezone",
                        "Europe/Paris",
                        "Mars/Base",
                        "hi",
                        "en",
                        "fr",
                        "frequency",
                        "daily",
                        "topic",
                        "trade",
                        "alerts",
                        "on",
                        "99",
                        "23",
                        "24",
                        "weekday",
                        "6",
                        "7",
                        "0123456789ab",
                        "status",
                        "in_effect",
                    )
                )
                | st.text(string.printable, max_size=10),
                max_size=4,
            )
        )
        return "forged button", "|".join(["tw1", verb, *parts])[:64]
    raw = draw(st.text(_chars, max_size=64))
    return "random callback data", raw.encode()[:64].decode(errors="ignore")


@st.composite
def _callback_case(draw: st.DrawFn, world: World) -> Case:
    scenario, data = draw(_callback_data(world))
    user = draw(_senders)
    chat_id = draw(st.sampled_from((user, user, GROUP, SUPERGROUP, READER, EDITOR)))
    query: dict[str, Any] = {
        "id": str(draw(st.integers(1, 10**12))),
        "from": _user(user, draw(_language_codes)),
        "chat_instance": "ci",
    }
    if draw(st.integers(0, 9)):
        query["data"] = data
    where = draw(st.sampled_from(("message", "message", "message", "inaccessible", "inline")))
    if where == "message":
        message: dict[str, Any]
        if bool(world.bot_messages) and draw(st.booleans()):
            message = dict(draw(st.sampled_from(world.bot_messages)))
            message["chat"] = _chat(chat_id)
        else:
            message = {
                "message_id": draw(st.integers(1, 10**6)),
                "date": 1_763_715_600,
                "chat": _chat(chat_id),
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Trade Watch"},
                "text": "…",
            }
        query["message"] = message
    elif where == "inaccessible":
        query["message"] = {"message_id": 3, "date": 0, "chat": _chat(chat_id)}
    else:
        query["inline_message_id"] = "inline-1"
    return Case(f"callback: {scenario} ({where})", {"callback_query": query})


@st.composite
def _inline_case(draw: st.DrawFn, world: World) -> Case:
    inline: dict[str, Any] = {
        "id": str(draw(st.integers(1, 10**12))),
        "from": _user(draw(_senders), draw(_language_codes)),
        "query": draw(st.just("") | texts.map(lambda text: text[:256])),
        "offset": draw(st.sampled_from(("", "", "6", "garbage"))),
    }
    chat_type = draw(st.sampled_from((None, "sender", "private", "group", "supergroup")))
    if chat_type is not None:
        inline["chat_type"] = chat_type
    return Case("inline query", {"inline_query": inline})


_STATUSES = ("member", "administrator", "left", "kicked", "restricted", "creator")


@st.composite
def _membership_case(draw: st.DrawFn, world: World) -> Case:
    user = draw(_senders)
    chat_id = draw(st.sampled_from((user, GROUP, SUPERGROUP, CHANNEL, OTHER_CHANNEL)))
    chat_type = _chat(chat_id)["type"]
    old, new = draw(st.sampled_from(_STATUSES)), draw(st.sampled_from(_STATUSES))
    if chat_type == "private":
        old, new = draw(st.sampled_from((("member", "kicked"), ("kicked", "member"))))
    change = {
        "chat": _chat(chat_id, titled=draw(st.booleans())),
        "from": _user(user, draw(_language_codes)),
        "date": 1_763_715_600,
        "old_chat_member": bot_member(old, chat_type, draw(st.booleans())),
        "new_chat_member": bot_member(new, chat_type, draw(st.booleans())),
    }
    return Case(f"my_chat_member {chat_type} {old}→{new}", {"my_chat_member": change})


@st.composite
def _migration_case(draw: st.DrawFn, world: World) -> Case:
    in_new = draw(st.booleans())
    old, new = draw(st.sampled_from(((GROUP, SUPERGROUP), (-4002, -1004440001111))))
    message: dict[str, Any] = {
        "message_id": 9,
        "date": 1_763_715_600,
        "from": _user(draw(_senders)),
    }
    if in_new:
        message.update(chat=_chat(new), migrate_from_chat_id=old)
    else:
        message.update(chat={"id": old, "type": "group", "title": "Old"}, migrate_to_chat_id=new)
    return Case("group migrated", {"message": message})


def cases(world: World) -> st.SearchStrategy[Case]:
    """One update of any kind, drawn with what `world` knows; now and then half an hour later
    than the one before, so drafts expire (after 30 minutes) and digests fall due."""
    return st.builds(
        lambda case, later: replace(case, later=later),
        _any_case(world),
        st.sampled_from((timedelta(),) * 19 + (timedelta(minutes=31),)),
    )


def _any_case(world: World) -> st.SearchStrategy[Case]:
    return st.one_of(
        _message_case(world),
        _message_case(world),
        _message_case(world),
        _message_case(world),
        _callback_case(world),
        _callback_case(world),
        _inline_case(world),
        _membership_case(world),
        _migration_case(world),
    )


# --- what deserves a reply --------------------------------------------------------------------


def _command(message: dict[str, Any]) -> tuple[str, str | None] | None:
    """(name, @target) when the message starts with a bot_command entity, as Telegram marks it."""
    entities = message.get("entities") or []
    text = message.get("text") or ""
    if not any(e["type"] == "bot_command" and e["offset"] == 0 for e in entities):
        return None
    first = text.split(maxsplit=1)[0] if text.split() else ""
    name, _, target = first[1:].partition("@")
    return name.lower(), target or None


def _addressed(message: dict[str, Any]) -> bool:
    """Text in a group meant for the bot: it @mentions the bot or replies to its message."""
    text = message.get("text") or ""
    encoded = text.encode("utf-16-le")
    for entity in message.get("entities") or []:
        if entity["type"] == "mention":
            start, end = entity["offset"] * 2, (entity["offset"] + entity["length"]) * 2
            if encoded[start:end].decode("utf-16-le").lower() == f"@{BOT_USERNAME}".lower():
                return True
    replied = message.get("reply_to_message") or {}
    return (replied.get("from") or {}).get("id") == BOT_ID


_SERVICE_FIELDS = (
    "new_chat_members", "left_chat_member", "new_chat_title", "pinned_message",
    "group_chat_created", "migrate_to_chat_id", "migrate_from_chat_id",
)  # fmt: skip


def expected(update: dict[str, Any]) -> str:
    """What the update deserves (see the module docstring)."""
    if "callback_query" in update:
        return Expect.CALLBACK
    if "inline_query" in update:
        return Expect.INLINE
    if "my_chat_member" in update:
        return Expect.AT_MOST_ONE
    if "message" not in update:
        return Expect.SILENT  # edited messages, channel posts
    message = update["message"]
    if any(name in message for name in _SERVICE_FIELDS):
        return Expect.SILENT
    command = _command(message)
    private = message["chat"]["type"] == "private"
    if command is not None:
        name, target = command
        if target is not None and target.lower() != BOT_USERNAME.lower():
            return Expect.SILENT
        if private or name in COMMANDS:
            return Expect.ANSWER
        return Expect.SILENT
    if private:
        return Expect.ANSWER
    if "text" in message and _addressed(message):
        return Expect.ANSWER
    return Expect.SILENT


def allows_data_change(update: dict[str, Any], role: Role | None) -> bool:
    """Whether this update may write DATA_TABLES: an editor's deliberate action."""
    if role is None:
        return False
    if "callback_query" in update:
        # Confirming a draft; publishing or dismissing a news item.
        data = str(update["callback_query"].get("data", ""))
        return data.startswith(("tw1|ok|", "tw1|np|", "tw1|nd|"))
    message = update.get("message")
    if message is None or message["chat"]["type"] != "private":
        return False
    command = _command(message)
    if command is None or command[1] not in (None, BOT_USERNAME):
        return False
    allowed = {"undo", "addsource", "reviews"}
    if role is Role.OWNER:
        allowed |= {"grant", "revoke", "addfeed", "removefeed"}
    return command[0] in allowed


def answers(calls: list[Any]) -> list[list[Any]]:
    """The bot's messages grouped into answers: a long answer's chunks are one answer."""
    grouped: list[list[Any]] = []
    for call in calls:
        if call.method not in MESSAGE_METHODS:
            continue
        if grouped and _continues(grouped[-1][-1], call):
            grouped[-1].append(call)
        else:
            grouped.append([call])
    return grouped


def _continues(previous: Any, call: Any) -> bool:
    if previous.method != "sendMessage" or call.method != "sendMessage":
        return False
    if _keyboard(previous.params.get("reply_markup")):
        return False
    if previous.params.get("chat_id") != call.params.get("chat_id"):
        return False
    before, text = str(previous.params.get("text", "")), str(call.params.get("text", ""))
    paragraph, line = text.split("\n\n", 1)[0], text.split("\n", 1)[0]
    return (
        len(before) + 2 + len(paragraph) > MAX_MESSAGE_LENGTH
        or len(before) + 1 + len(line) > MAX_MESSAGE_LENGTH
    )


# --- running updates and checking them ---------------------------------------------------------


def prepare_database(folder: Path) -> Path:
    """A migrated, seeded SQLite file with an editor and an owner, to copy for each run."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "template.sqlite3"
    settings = _settings(folder, path)
    engine = db.make_engine(settings)
    db.upgrade(engine)
    seed(engine)
    with db.session_scope(engine) as session:
        admins.bootstrap_owners(session, [OWNER])
        admins.grant(session, by="fuzz", by_user=OWNER, user_id=EDITOR, role=Role.EDITOR)
        _count_data_writes(session)
    engine.dispose()
    return path


def _count_data_writes(session: Any) -> None:
    """Triggers that count every row written to DATA_TABLES (cheaper than hashing them)."""
    session.execute(sql("CREATE TABLE fuzz_data_writes (n INTEGER NOT NULL)"))
    session.execute(sql("INSERT INTO fuzz_data_writes VALUES (0)"))
    for table in DATA_TABLES:
        for event in ("INSERT", "UPDATE", "DELETE"):
            session.execute(
                sql(
                    f"CREATE TRIGGER fuzz_{table}_{event.lower()} AFTER {event} ON {table} "
                    "BEGIN UPDATE fuzz_data_writes SET n = n + 1; END"
                )
            )


def _settings(folder: Path, database: Path) -> Settings:
    return Settings(
        _env_file=None,
        telegram_bot_token=TOKEN,
        data_dir=folder,
        database_url=f"sqlite:///{database}",
    )


@dataclass(slots=True)
class Tally:
    """Updates run and property violations, by scenario and by property."""

    updates: int = 0
    scenarios: Counter[str] = field(default_factory=Counter)
    violations: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)  # the first of each property

    def add(self, other: Tally) -> None:
        self.updates += other.updates
        self.scenarios.update(other.scenarios)
        self.violations.update(other.violations)
        for key, value in other.examples.items():
            self.examples.setdefault(key, value)


_CHART_UPLOADS: dict[str, str] = {}


class PropertyError(AssertionError):
    """An update broke one or more of the properties in the module docstring."""


class Harness:
    """The real application on its own copy of the database; `run` checks one update."""

    def __init__(self, template: Path, folder: Path, *, clock: Callable[[], datetime]) -> None:
        """`clock` gives the start; a case's `later` moves the application's clock on."""
        folder.mkdir(parents=True, exist_ok=True)
        self.database = folder / "fuzz.sqlite3"
        shutil.copyfile(template, self.database)
        settings = _settings(folder, self.database)
        self.engine = db.make_engine(settings)
        self.request = OfflineRequest()
        self.request.add_chat(GROUP, "group", title="Trade desk")
        self.request.add_chat(SUPERGROUP, "supergroup", title="Trade desk")
        self.request.add_chat(CHANNEL, "channel", title="Trade Watch news", username="twnews")
        self.request.set_member(SUPERGROUP, GROUP_ADMIN, "administrator")
        self.request.set_member(GROUP, GROUP_ADMIN, "creator")
        self.request.set_member(CHANNEL, BOT_ID, "administrator")
        self.application = build_application(
            settings, engine=self.engine, request=self.request, clock=lambda: self.now
        )
        # Charts uploaded once are sent by file id, as a long-running bot does: only the first
        # harness of a process pays for matplotlib.
        callback: Any = self.application.handlers[0][0].callback
        services = callback.__self__.services
        services.chart_uploads = _CHART_UPLOADS
        self.errors: list[BaseException | None] = []
        handlers = dict(self.application.error_handlers)
        self.application.error_handlers.clear()
        self.application.add_error_handler(self._spy)
        self.application.error_handlers.update(handlers)
        self.now = clock()
        self.world = World()
        self.cases = cases(self.world)  # built once: the strategies read the world as they draw
        self.tally = Tally()
        self._update_ids = 0

    async def _spy(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        self.errors.append(context.error)

    async def __aenter__(self) -> Harness:
        await self.application.initialize()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.application.shutdown()
        self.engine.dispose()

    def _state(self, user_id: int | None) -> tuple[int, Role | None]:
        """Rows written to DATA_TABLES so far, the user's role; the drafts go to the world."""
        with self.engine.connect() as connection:
            writes = connection.execute(sql("SELECT n FROM fuzz_data_writes")).scalar_one()
            role = connection.execute(
                sql("SELECT role FROM admin WHERE user_id = :user"), {"user": user_id or 0}
            ).scalar()
            drafts = connection.execute(sql("SELECT id FROM edit_draft ORDER BY id")).all()
        current = [row[0] for row in drafts]
        self.world.old_drafts.extend(d for d in self.world.drafts if d not in current)
        self.world.drafts = current
        return writes, Role(role) if role is not None else None

    def data_fingerprint(self) -> str:
        """A hash of every row of DATA_TABLES (for tests that compare whole tables)."""
        digest = hashlib.sha256()
        with self.engine.connect() as connection:
            for table in DATA_TABLES:
                for row in connection.execute(sql(f"SELECT * FROM {table} ORDER BY 1")):
                    digest.update(repr(tuple(row)).encode())
        return digest.hexdigest()

    async def run(self, case: Case) -> list[Any]:
        """Process one update; raises PropertyError naming every property it broke."""
        self.request.files_to_serve.update(case.files)
        self.now += case.later
        self._update_ids += 1
        payload = {"update_id": self._update_ids, **case.update}
        update = Update.de_json(json.loads(json.dumps(payload)), self.application.bot)
        assert update is not None
        user = update.effective_user.id if update.effective_user is not None else None
        before, role = self._state(user)
        seen = len(self.request.calls)
        self.errors.clear()
        await self.application.process_update(update)
        calls = [c for c in self.request.calls[seen:] if c.method != "getMe"]
        problems = self._problems(case, update, calls)
        writes = self._state(None)[0] - before
        if writes and not allows_data_change(case.update, role):
            problems.append(f"data changed: {writes} rows written without an editor's action")
        self.world.remember(calls)
        self.tally.updates += 1
        self.tally.scenarios[case.scenario] += 1
        if problems:
            for problem in problems:
                name = problem.split(":", 1)[0]
                self.tally.violations[name] += 1
                self.tally.examples.setdefault(
                    f"{name} ({case.scenario})",
                    f"{problem}\n  update: {json.dumps(payload, ensure_ascii=False)[:2000]}",
                )
            raise PropertyError(
                f"{case.scenario}: "
                + "; ".join(problems)
                + f"\n  update: {json.dumps(payload, ensure_ascii=False)[:3000]}"
                + f"\n  calls: {[(c.method, c.params) for c in calls]!r:.3000}"
            )
        return calls

    def _problems(self, case: Case, update: Update, calls: list[Any]) -> list[str]:
        problems: list[str] = []
        if self.errors:
            problems.append(f"unhandled error: {self.errors[0]!r}")
        for call in calls:
            problems.extend(_call_problems(call))
        chat = update.effective_chat.id if update.effective_chat is not None else None
        for call in calls:
            target = call.params.get("chat_id")
            if call.method in MESSAGE_METHODS and target is not None and int(target) != chat:
                problems.append(f"wrong chat: {call.method} to {target}, update from {chat}")
        wanted = expected(case.update)
        given = answers(calls)
        counts = Counter(call.method for call in calls)
        if wanted == Expect.CALLBACK:
            if counts["answerCallbackQuery"] != 1 or len(given) > 1:
                problems.append(
                    f"answers: {counts['answerCallbackQuery']} answerCallbackQuery and "
                    f"{len(given)} answers to a callback query"
                )
        elif wanted == Expect.INLINE:
            if counts["answerInlineQuery"] != 1 or given:
                problems.append(
                    f"answers: {counts['answerInlineQuery']} answerInlineQuery and "
                    f"{len(given)} answers to an inline query"
                )
        elif wanted == Expect.AT_MOST_ONE:
            if len(given) > 1:
                problems.append(f"answers: {len(given)} answers, at most one expected")
        elif wanted == Expect.SILENT:
            if given:
                problems.append(f"answers: {len(given)} answers to an update that wants none")
        elif len(given) != 1 and not _two_by_design(case.update, given):
            problems.append(f"answers: {len(given)} answers, exactly one expected")
        if wanted != Expect.CALLBACK and counts["answerCallbackQuery"]:
            problems.append("answers: answerCallbackQuery outside a callback query")
        return problems


def _two_by_design(update: dict[str, Any], given: list[list[Any]]) -> bool:
    """`/subscribe` (confirmation, headline) and `/digest` (digest, chart): see the docstring."""
    command = _command(update.get("message") or {})
    if command is None or len(given) != 2:
        return False
    if command[0] == "subscribe":
        return all(answer[0].method == "sendMessage" for answer in given)
    return command[0] == "digest" and given[1][0].method == "sendPhoto"


def _html_problem(text: str, limit: int, what: str) -> str | None:
    try:
        plain, _ = parse_html(text)
    except HtmlEntityError as error:
        return f"invalid HTML: {what}: {error}"
    if utf16_len(plain) > limit:
        return f"too long: {what} of {utf16_len(plain)} > {limit}"
    if not plain.strip():
        return f"empty: {what} is blank"
    return None


def _call_problems(call: Any) -> list[str]:
    """Telegram's limits on one call. Lookups (getChat, getChatMember) may fail: the bot
    expects "chat not found" and says so."""
    problems: list[str] = []
    params = call.params
    if call.result is None and call.method not in ("getChat", "getChatMember", "getFile"):
        problems.append(f"refused: Telegram refused {call.method}")
    if call.method in ("sendMessage", "editMessageText"):
        problem = _html_problem(str(params.get("text", "")), MessageLimit.MAX_TEXT_LENGTH, "text")
        if problem:
            problems.append(problem)
    if call.method == "sendPhoto" and params.get("caption"):
        problem = _html_problem(str(params["caption"]), MessageLimit.CAPTION_LENGTH, "caption")
        if problem:
            problems.append(problem)
    buttons = [b for row in _keyboard(params.get("reply_markup")) for b in row]
    if len(buttons) > 100:
        problems.append(f"keyboard: {len(buttons)} buttons > 100")
    for button in buttons:
        if not str(button.get("text", "")).strip():
            problems.append("keyboard: a button without text")
        data = button.get("callback_data")
        if data is not None and (len(data.encode()) > 64 or callbacks.decode(data) is None):
            problems.append(f"keyboard: callback data {data!r} does not decode")
    if call.method == "answerCallbackQuery":
        shown = str(params.get("text") or "")
        if len(shown) > 200:
            problems.append(f"too long: answerCallbackQuery text of {len(shown)} > 200")
        if _HTML_IN_PLAIN.search(shown):
            problems.append(f"invalid HTML: answerCallbackQuery shows markup: {shown!r}")
    if call.method == "answerInlineQuery":
        results = params.get("results")
        results = json.loads(results) if isinstance(results, str) else results or []
        if len(results) > 50:
            problems.append(f"too long: {len(results)} inline results > 50")
        for result in results:
            if not str(result.get("title", "")).strip():
                problems.append("inline: a result without a title")
            if len(str(result.get("id", "")).encode()) > 64:
                problems.append("inline: a result id over 64 bytes")
            content = result.get("input_message_content") or {}
            problem = _html_problem(
                str(content.get("message_text", "")), MessageLimit.MAX_TEXT_LENGTH, "inline text"
            )
            if problem:
                problems.append(problem)
    return problems
