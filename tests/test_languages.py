"""A chat's language: /language and its buttons, the user's Telegram language, who may choose,
and what the choice reaches (the answers of the chat's next updates, its digests)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, select

from bot.db import session_scope
from bot.i18n import active_language, using_language
from bot.models import ChatLanguage
from bot.services import admins, languages
from bot.telegram.callbacks import encode
from bot.telegram.handlers.languages import language_named
from bot.telegram.plain import html_to_text
from bot.vocabulary import Language, Role
from tests.conftest import TODAY
from tests.factories import callback_update, inline_update, migration_update

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from tests.conftest import BotUnderTest

ASHA = 555
GROUP, ADMIN, MEMBER = -1001234567890, 777, 888
CHOSEN_HINDI = "अब इस चैट में जवाब, डाइजेस्ट और अलर्ट हिन्दी में आएँगे"
CHOSEN_ENGLISH = "This chat now reads in English"


def texts(calls: list[dict[str, Any]]) -> list[str]:
    return [
        html_to_text(call.get("text") or "")
        for call in calls
        if call["method"] in ("sendMessage", "editMessageText")
    ]


def buttons(calls: list[dict[str, Any]]) -> dict[str, str]:
    sent = next(call["reply_markup"] for call in calls if call.get("reply_markup"))
    rows = (json.loads(sent) if isinstance(sent, str) else sent)["inline_keyboard"]
    return {b["text"]: b["callback_data"] for row in rows for b in row}


def stored(engine: Engine, chat_id: int) -> Language | None:
    with Session(engine) as session:
        return languages.language_of(session, chat_id)


async def press(bot: BotUnderTest, data: str, **kwargs: Any) -> list[dict[str, Any]]:
    return await bot.process(callback_update(bot.application.bot, data, **kwargs))


def test_language_names_as_people_type_them() -> None:
    for typed in ("hi", "HI", "hindi", "Hindi", "हिन्दी", "हिंदी", "hi-IN", "hi_IN"):
        assert language_named(typed) is Language.HI, typed
    for typed in ("en", "English", "en-GB", "अंग्रेज़ी"):
        assert language_named(typed) is Language.EN, typed
    for typed in ("", "klingon", "fr", "h"):
        assert language_named(typed) is None, typed


def test_telegram_language_codes() -> None:
    assert Language.from_code("hi") is Language.HI
    assert Language.from_code("hi-IN") is Language.HI
    assert Language.from_code("en-US") is Language.EN
    assert Language.from_code("ta") is None
    assert Language.from_code(None) is None
    assert Language.from_code("") is None


async def test_language_buttons_switch_the_chat(bot: BotUnderTest, seeded_engine: Engine) -> None:
    shown = await bot.send("/language", chat_id=ASHA, user_id=ASHA)
    (prompt,) = texts(shown)
    assert "This chat reads in English" in prompt
    choices = buttons(shown)
    assert set(choices) == {"English", "हिन्दी"}

    (chosen,) = texts(await press(bot, choices["हिन्दी"], chat_id=ASHA, user_id=ASHA))
    assert CHOSEN_HINDI in chosen
    assert stored(seeded_engine, ASHA) is Language.HI
    # The chat's next update is answered in Hindi, whatever the user's Telegram language.
    (again,) = texts(await bot.send("/language", chat_id=ASHA, user_id=ASHA))
    assert "यह चैट हिन्दी (Hindi) में पढ़ी जाती है" in again

    (back,) = texts(await bot.send("/language english", chat_id=ASHA, user_id=ASHA))
    assert CHOSEN_ENGLISH in back
    assert stored(seeded_engine, ASHA) is Language.EN


async def test_a_hindi_telegram_user_is_answered_in_hindi_until_the_chat_chooses(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    (prompt,) = texts(await bot.send("/language", language_code="hi"))
    assert "यह चैट" in prompt
    assert stored(seeded_engine, ASHA) is None  # reading is not choosing
    (prompt,) = texts(await bot.send("/language", language_code="ta"))  # one the bot lacks
    assert "This chat reads in English" in prompt
    (prompt,) = texts(await bot.send("/language", language_code=None))
    assert "This chat reads in English" in prompt


async def test_an_unknown_language_says_which_there_are(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    calls = await bot.send("/language klingon")
    (reply,) = texts(calls)
    assert "I don't speak “klingon” yet: I answer in English or Hindi." in reply
    assert set(buttons(calls)) == {"English", "हिन्दी"}
    assert stored(seeded_engine, ASHA) is None


async def test_only_group_administrators_choose_a_groups_language(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    bot.request.set_member(GROUP, ADMIN, "administrator")
    group = {"chat_id": GROUP, "chat_type": "supergroup"}
    (refused,) = texts(await bot.send("/language hi", user_id=MEMBER, **group))
    assert "Only the group's administrators" in refused
    assert stored(seeded_engine, GROUP) is None

    shown = await bot.send("/language", user_id=ADMIN, **group)
    by_member = await press(bot, buttons(shown)["हिन्दी"], user_id=MEMBER, **group)
    alert = next(call for call in by_member if call["method"] == "answerCallbackQuery")
    assert alert["show_alert"] is True
    assert stored(seeded_engine, GROUP) is None

    (chosen,) = texts(await bot.send("/language hi", user_id=ADMIN, **group))
    assert CHOSEN_HINDI in chosen
    assert stored(seeded_engine, GROUP) is Language.HI


async def test_a_forged_button_for_another_chat_changes_nothing(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    forged = encode("lang", GROUP, "hi")  # a private chat's button naming a group
    calls = await press(bot, forged, chat_id=ASHA, user_id=ASHA)
    assert any(call.get("show_alert") for call in calls)
    assert stored(seeded_engine, GROUP) is None
    bad = encode("lang", ASHA, "en").replace("|en", "|fr")
    calls = await press(bot, bad, chat_id=ASHA, user_id=ASHA)
    assert "expired" in " ".join(str(call.get("text", "")) for call in calls).lower()
    assert stored(seeded_engine, ASHA) is None


async def test_a_channels_language_is_set_by_an_editor_from_their_private_chat(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    channel, editor = -1009876543210, 4242
    with session_scope(seeded_engine) as session:
        admins.bootstrap_owners(session, [1001])
        admins.grant(session, by="test", by_user=1001, user_id=editor, role=Role.EDITOR)
    bot.request.add_chat(channel, "channel", title="Border desk", username="borderdesk")
    bot.request.set_member(channel, bot.application.bot.id, "administrator")
    await bot.send("/subscribe_channel @borderdesk", chat_id=editor, user_id=editor)

    (refused,) = texts(await bot.send("/language @borderdesk hi", chat_id=ASHA, user_id=ASHA))
    assert "not allowed" in refused
    assert stored(seeded_engine, channel) is None
    (chosen,) = texts(await bot.send("/language @borderdesk hi", chat_id=editor, user_id=editor))
    assert CHOSEN_HINDI in chosen
    assert stored(seeded_engine, channel) is Language.HI
    # The editor's own chat is unchanged.
    assert stored(seeded_engine, editor) is None


async def test_subscribing_keeps_the_language_the_chat_was_answered_in(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    await bot.send("/subscribe", language_code="hi")
    assert stored(seeded_engine, ASHA) is Language.HI
    # A later choice wins, and subscribing again keeps it.
    await bot.send("/language en", language_code="hi")
    await bot.send("/subscribe", language_code="hi")
    assert stored(seeded_engine, ASHA) is Language.EN


async def test_a_group_that_became_a_supergroup_keeps_its_language(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    old, new = -4000, -1004000
    with session_scope(seeded_engine) as session:
        languages.choose(session, chat_id=old, language=Language.HI, now=TODAY)
    await bot.process(
        migration_update(bot.application.bot, group_id=old, supergroup_id=new, in_supergroup=False)
    )
    assert stored(seeded_engine, new) is Language.HI


def test_the_language_of_a_block_is_restored_after_it() -> None:
    assert active_language() is Language.EN
    with using_language(Language.HI):
        assert active_language() is Language.HI
    assert active_language() is Language.EN


def test_rows_are_one_per_chat(seeded_engine: Engine) -> None:
    with session_scope(seeded_engine) as session:
        assert languages.choose(session, chat_id=1, language=Language.HI, now=TODAY)
        assert not languages.choose(session, chat_id=1, language=Language.HI, now=TODAY)
        assert languages.choose(session, chat_id=1, language=Language.EN, now=TODAY)
    with Session(seeded_engine) as session:
        rows = session.exec(select(ChatLanguage)).all()
    assert [(row.chat_id, row.language) for row in rows] == [(1, Language.EN)]


async def test_inline_cards_are_personal(bot: BotUnderTest) -> None:
    calls = await bot.process(inline_update(bot.application.bot, "nathu"))
    (answer,) = [call for call in calls if call["method"] == "answerInlineQuery"]
    assert answer["is_personal"] is True
