"""Generated updates through the real application, and what the generated updates found."""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram import Update

from tests.factories import message_update

if TYPE_CHECKING:
    from tests.conftest import BotUnderTest

READER = 555


# --- what the fuzzer found, pinned down -------------------------------------------------------


async def test_a_service_message_in_a_private_chat_gets_no_reply(bot: BotUnderTest) -> None:
    """A pinned message is not something the user sent: no "I answer text questions" hint."""
    pinned = {
        "update_id": 1,
        "message": {
            "message_id": 2,
            "date": 1_763_715_600,
            "chat": {"id": READER, "type": "private", "first_name": "Asha"},
            "from": {"id": READER, "is_bot": False, "first_name": "Asha"},
            "pinned_message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": READER, "type": "private", "first_name": "Asha"},
            },
        },
    }
    update = Update.de_json(pinned, bot.application.bot)
    assert await bot.process(update) == []
    assert "I answer text questions" in (await bot.replies("", sticker=True))[0]


async def test_a_document_in_a_group_is_chatter(bot: BotUnderTest) -> None:
    """Only an editor's document in a private chat is an import; in a group nobody is told
    that editing happens in private chats."""
    update = message_update(
        bot.application.bot, "", chat_id=-4001, chat_type="group", document="a.pdf"
    )
    assert await bot.process(update) == []
    (reply,) = await bot.replies("", document="a.csv")
    assert "not allowed" in reply.lower() or "editor" in reply.lower()


async def test_an_unknown_command_in_a_private_chat_gets_a_hint(bot: BotUnderTest) -> None:
    (reply,) = await bot.replies("/foo bar")
    assert reply.startswith("I don't know the command /foo.")
    assert await bot.send("/help@OtherBot") == []  # another bot's command
    assert await bot.send("/foo", chat_id=-4001, chat_type="group") == []  # groups: not ours
    assert len(await bot.replies("/help@TradeWatchBot")) == 1
