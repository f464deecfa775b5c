"""Real Telegram `Update` objects built from Bot API JSON, as Telegram would send them; and
news items as the feeds would have stored them."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from telegram import Update

from bot.models import NewsItem
from bot.services.news.reading import content_hash
from bot.telegram.offline import BOT_ID, BOT_USERNAME
from bot.vocabulary import NewsState

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlmodel import Session
    from telegram import Bot

_update_ids = itertools.count(1)
_message_ids = itertools.count(1000)
# Telegram's sender of an anonymous group administrator's messages.
ANONYMOUS_ADMIN = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}


def _chat(chat_id: int, chat_type: str) -> dict[str, Any]:
    if chat_type == "private":
        return {"id": chat_id, "type": "private", "first_name": "Asha"}
    return {"id": chat_id, "type": chat_type, "title": "Trade desk"}


def _user(user_id: int, language_code: str | None) -> dict[str, Any]:
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": "Asha"}
    if language_code is not None:
        user["language_code"] = language_code
    return user


def message_update(
    bot: Bot,
    text: str,
    *,
    chat_id: int = 555,
    user_id: int = 555,
    chat_type: str = "private",
    mention: str | None = None,
    sticker: bool = False,
    edited: bool = False,
    forwarded: bool = False,
    document: str | None = None,
    reply_to: dict[str, Any] | None = None,
    anonymous_admin: bool = False,
    language_code: str | None = "en",
) -> Update:
    """A message as Telegram sends it.

    `reply_to`: the message replied to, e.g. what the bot sent (`ApiCall.result`);
    `anonymous_admin`: sent by a group administrator who posts as the group;
    `language_code`: the sender's Telegram language (None: Telegram did not say).
    """
    message: dict[str, Any] = {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "chat": _chat(chat_id, chat_type),
        "from": _user(user_id, language_code),
    }
    if anonymous_admin:
        message["from"] = ANONYMOUS_ADMIN
        message["sender_chat"] = _chat(chat_id, chat_type)
    if reply_to is not None:
        message["reply_to_message"] = reply_to
    if document is not None:
        message["document"] = {
            "file_id": document,
            "file_unique_id": document,
            "file_name": document,
            "file_size": 1000,
        }
    elif sticker:
        message["sticker"] = {
            "file_id": "sticker-1",
            "file_unique_id": "sticker-1",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
    else:
        message["text"] = text
        entities = []
        if text.startswith("/") and len(text.split()[0]) > 1:
            entities.append({"type": "bot_command", "offset": 0, "length": len(text.split()[0])})
        if mention is not None and f"@{mention}" in text:
            offset = text.index(f"@{mention}")
            entities.append({"type": "mention", "offset": offset, "length": len(mention) + 1})
        if entities:
            message["entities"] = entities
    if edited:
        message["edit_date"] = int(time.time())
    if forwarded:
        message["forward_origin"] = {
            "type": "user",
            "date": int(time.time()) - 60,
            "sender_user": {"id": 777, "is_bot": False, "first_name": "Ravi"},
        }
    key = {"channel": "channel_post"}.get(chat_type, "edited_message" if edited else "message")
    update = Update.de_json({"update_id": next(_update_ids), key: message}, bot)
    assert update is not None
    return update


def callback_update(
    bot: Bot,
    data: str,
    *,
    message_id: int = 1,
    user_id: int = 555,
    chat_id: int = 555,
    chat_type: str = "private",
    reply_markup: dict[str, Any] | None = None,
    language_code: str | None = None,
) -> Update:
    """A button press; `language_code`: the presser's Telegram language, when it has one."""
    query = {
        "id": str(next(_update_ids)),
        "from": _user(user_id, language_code),
        "chat_instance": "ci-1",
        "data": data,
        "message": {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": _chat(chat_id, chat_type),
            "from": {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "Trade Watch",
                "username": BOT_USERNAME,
            },
            "text": "…",
            # The keyboard of the message pressed, as Telegram sends it back.
            **({"reply_markup": reply_markup} if reply_markup is not None else {}),
        },
    }
    update = Update.de_json({"update_id": next(_update_ids), "callback_query": query}, bot)
    assert update is not None
    return update


def inline_update(bot: Bot, query: str, *, user_id: int = 555) -> Update:
    inline = {
        "id": str(next(_update_ids)),
        "from": {"id": user_id, "is_bot": False, "first_name": "Asha"},
        "query": query,
        "offset": "",
    }
    update = Update.de_json({"update_id": next(_update_ids), "inline_query": inline}, bot)
    assert update is not None
    return update


def migration_update(bot: Bot, *, group_id: int, supergroup_id: int, in_supergroup: bool) -> Update:
    """The service message of a group's upgrade: sent in the old group and in the new one."""
    message: dict[str, Any] = {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "from": {"id": 555, "is_bot": False, "first_name": "Asha"},
    }
    if in_supergroup:
        message.update(chat=_chat(supergroup_id, "supergroup"), migrate_from_chat_id=group_id)
    else:
        message.update(chat=_chat(group_id, "group"), migrate_to_chat_id=supergroup_id)
    update = Update.de_json({"update_id": next(_update_ids), "message": message}, bot)
    assert update is not None
    return update


def bot_member(status: str, chat_type: str, can_post: bool) -> dict[str, Any]:
    """The bot as a chat member with this status, as Telegram describes it."""
    data: dict[str, Any] = {"status": status, "user": {"id": BOT_ID, "is_bot": True,
                                                       "first_name": "Trade Watch"}}  # fmt: skip
    rights: tuple[str, ...]
    if status == "administrator":
        rights = ("can_manage_chat", "can_delete_messages", "can_manage_video_chats",
                  "can_restrict_members", "can_promote_members", "can_change_info",
                  "can_invite_users", "can_post_stories", "can_edit_stories",
                  "can_delete_stories")  # fmt: skip
        data.update(dict.fromkeys(rights, False), can_be_edited=False, is_anonymous=False)
        if chat_type == "channel":
            data["can_post_messages"] = can_post
    elif status == "kicked":
        data["until_date"] = 0
    elif status == "restricted":
        rights = ("can_send_messages", "can_send_audios", "can_send_documents",
                  "can_send_photos", "can_send_videos", "can_send_video_notes",
                  "can_send_voice_notes", "can_send_polls", "can_send_other_messages",
                  "can_add_web_page_previews", "can_change_info", "can_invite_users",
                  "can_pin_messages", "can_manage_topics", "can_edit_tag",
                  "can_react_to_messages")  # fmt: skip
        data.update(dict.fromkeys(rights, False), is_member=can_post, until_date=0)
    elif status == "creator":
        data["is_anonymous"] = False
    return data


def my_chat_member_update(
    bot: Bot,
    *,
    chat_id: int,
    chat_type: str,
    old: str,
    new: str,
    user_id: int = 555,
    can_post_messages: bool = True,
) -> Update:
    """The bot's own membership changed (blocked, kicked, added, promoted, demoted)."""

    change = {
        "chat": _chat(chat_id, chat_type),
        "from": {"id": user_id, "is_bot": False, "first_name": "Asha"},
        "date": int(time.time()),
        "old_chat_member": bot_member(old, chat_type, can_post_messages),
        "new_chat_member": bot_member(new, chat_type, can_post_messages),
    }
    update = Update.de_json({"update_id": next(_update_ids), "my_chat_member": change}, bot)
    assert update is not None
    return update


def news_item(
    session: Session,
    *,
    title: str,
    url: str,
    publisher: str,
    published_at: datetime,
    topics: Sequence[str] = (),
    records: Sequence[str] = (),
    state: NewsState = NewsState.PUBLISHED,
    summary: str = "",
) -> NewsItem:
    """A news item in `state` (published by an editor unless told), added and flushed."""
    reviewed = state is not NewsState.NEW
    item = NewsItem(
        guid=url,
        url=url,
        title=title,
        summary=summary,
        publisher=publisher,
        published_at=published_at,
        fetched_at=published_at,
        updated_at=published_at,
        content_hash=content_hash(title, summary),
        topics=list(topics),
        records=list(records),
        why=", ".join(records or topics),
        state=state,
        state_by="tg:4242" if reviewed else None,
        state_at=datetime.now(UTC) if reviewed else None,
    )
    session.add(item)
    session.flush()
    return item


# Real articles as their publishers titled and dated them (noon UTC where a page gave no time
# of day), with the topics and records the matcher would give them.
NEWS_ARTICLES: dict[str, dict[str, Any]] = {
    "passes": {
        "title": "India, China agree to resume border trade via Shipki-La, Nathu-La",
        "publisher": "The Tribune",
        "url": "https://www.tribuneindia.com/news/himachal/india-china-agree-to-resume-border-trade-via-shipki-la-nathu-la/",
        "published_at": datetime(2025, 8, 24, 12, 55, tzinfo=UTC),
        "topics": ["passes"],
        "records": ["pass:shipki-la", "pass:nathu-la"],
        "why": "Shipki La, Nathu La, border trade",
    },
    "nathu-la-traders": {
        "title": (
            "It brings hope for us: Sikkim traders welcome announcement of reopening of Nathu La"
            " pass for India-China trade"
        ),
        "publisher": "Lokmat Times",
        "url": "https://www.lokmattimes.com/international/it-brings-hope-for-us-sikkim-traders-welcome-announcement-of-reopening-of-nathu-la-pass-for-india-china-trade/",
        "published_at": datetime(2025, 8, 20, 12, 0, tzinfo=UTC),
        "topics": ["passes"],
        "records": ["pass:nathu-la"],
        "why": "Nathu La, border trade",
    },
    "shipki-la-himachal": {
        "title": "India, China agree on reviving traditional trade from Shipki La: Himachal govt",
        "publisher": "The Hans India",
        "url": "https://www.thehansindia.com/news/national/india-china-agree-on-reviving-traditional-trade-from-shipki-la-himachal-govt-1000090",
        "published_at": datetime(2025, 8, 24, 12, 0, tzinfo=UTC),
        "topics": ["passes"],
        "records": ["pass:shipki-la"],
        "why": "Shipki La, border trade",
    },
    "nathu-la-sikkim-cm": {
        "title": (
            "Sikkim CM bats for Nathula trade revival, stakeholders seek clarity on Centre's move"
        ),
        "publisher": "India Today NE",
        "url": "https://www.indiatodayne.in/sikkim/video/sikkim-cm-bats-for-nathula-trade-revival-stakeholders-seek-clarity-on-centres-move-1277971-2025-09-15",
        "published_at": datetime(2025, 9, 15, 12, 0, tzinfo=UTC),
        "topics": ["passes"],
        "records": ["pass:nathu-la"],
        "why": "Nathu La, border trade",
    },
    "flights": {
        "title": "IndiGo resumes direct flights between Kolkata and Guangzhou after five-year gap",
        "publisher": "The Telegraph",
        "url": "https://www.telegraphindia.com/business/indigo-resumes-direct-flights-between-kolkata-and-guangzhou-after-five-year-gap/cid/2129796",
        "published_at": datetime(2025, 10, 27, 12, 0, tzinfo=UTC),
        "topics": ["flights"],
        "records": ["flight:kolkata-guangzhou"],
        "why": "Kolkata–Guangzhou, direct flights",
    },
    "flights-federal": {
        "title": "IndiGo resumes Kolkata-Guangzhou direct flights",
        "publisher": "The Federal",
        "url": "https://thefederal.com/category/business/indigo-resumes-kolkata-guangzhou-direct-flights-213361",
        "published_at": datetime(2025, 10, 27, 12, 0, tzinfo=UTC),
        "topics": ["flights"],
        "records": ["flight:kolkata-guangzhou"],
        "why": "Kolkata–Guangzhou, direct flights",
    },
    "deals": {
        "title": "China Grants Licences To Indian Companies To Import Rare Earth Magnets",
        "publisher": "ETV Bharat",
        "url": "https://www.etvbharat.com/en/bharat/china-grants-licences-to-indian-companies-to-import-rare-earth-magnets-enn25103006094",
        "published_at": datetime(2025, 10, 30, 12, 0, tzinfo=UTC),
        "topics": ["deals"],
        "records": ["deal:rare-earth-magnets"],
        "why": "rare earth magnets, licences",
    },
}  # fmt: skip


def article_item(
    session: Session, article: str = "passes", *, fetched_at: datetime, **overrides: Any
) -> int:
    """One of NEWS_ARTICLES as the poller stores it (new, not reviewed); its id."""
    values = {**NEWS_ARTICLES[article], **overrides}
    item = NewsItem(
        guid=values["url"][:500],
        summary="",
        fetched_at=fetched_at,
        updated_at=fetched_at,
        content_hash=content_hash(values["title"], ""),
        state=NewsState.NEW,
        **values,
    )
    session.add(item)
    session.flush()
    assert item.id is not None
    return item.id
