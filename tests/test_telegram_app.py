"""The composition root through the real PTB application and an in-process Bot API."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text
from telegram import LinkPreviewOptions

from bot.telegram.app import build_application
from bot.telegram.offline import OfflineRequest
from tests.conftest import FAKE_TOKEN
from tests.factories import message_update

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from sqlalchemy import Engine

    from bot.config import Settings
    from bot.telegram.types import AnyApplication


@pytest.fixture
async def app(
    make_settings: Callable[..., Settings], seeded_engine: Engine
) -> AsyncIterator[tuple[AnyApplication, OfflineRequest]]:
    settings = make_settings(telegram_bot_token=FAKE_TOKEN)
    request = OfflineRequest()
    application = build_application(settings, engine=seeded_engine, request=request)
    async with application:
        yield application, request


async def test_start_says_what_the_bot_covers(app: tuple[AnyApplication, OfflineRequest]) -> None:
    application, request = app
    await application.process_update(message_update(application.bot, "/start"))
    (reply,) = request.sent()
    assert reply["chat_id"] == 555
    assert reply["parse_mode"] == "HTML"
    text = reply["text"]
    assert (
        "India's fiscal years (Ministry of Commerce): 10 years, FY2015-16 to FY2024-25; "
        "and 20 months or years so far, to Jan 2026"
    ) in text
    assert "China's calendar years (Chinese customs): 6 years, 2019 to 2025" in text
    assert "Lipulekh, Nathu La, Shipki La" in text


async def test_help_lists_commands(app: tuple[AnyApplication, OfflineRequest]) -> None:
    application, request = app
    await application.process_update(
        message_update(application.bot, "/help", chat_type="group", chat_id=-100)
    )
    (reply,) = request.sent()
    assert reply["chat_id"] == -100
    assert "/deficit" in reply["text"]


async def test_commands_are_registered_for_private_chats_and_groups(
    make_settings: Callable[..., Settings], seeded_engine: Engine
) -> None:
    request = OfflineRequest()
    application = build_application(
        make_settings(telegram_bot_token=FAKE_TOKEN), engine=seeded_engine, request=request
    )
    async with application:
        assert application.post_init is not None
        await application.post_init(application)
    scopes = [call["scope"] for call in request.sent("setMyCommands")]
    assert {scope["type"] if isinstance(scope, dict) else scope for scope in scopes} == {
        "all_private_chats",
        "all_group_chats",
    }


async def test_an_error_is_logged_and_the_user_told_without_internals(
    app: tuple[AnyApplication, OfflineRequest],
    seeded_engine: Engine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    application, request = app
    with seeded_engine.begin() as connection:  # the next /start fails inside the service
        connection.execute(text("DROP TABLE border_pass"))
    await application.process_update(message_update(application.bot, "/start"))
    (reply,) = request.sent()
    assert "something went wrong" in reply["text"]
    assert "border_pass" not in reply["text"]
    assert any("Error while handling an update" in r.getMessage() for r in caplog.records)


async def test_replies_carry_the_defaults_set_once(
    app: tuple[AnyApplication, OfflineRequest],
) -> None:
    """HTML, no link preview cards and no quoting: PTB Defaults, not arguments at each call."""
    application, request = app
    await application.process_update(
        message_update(application.bot, "/help", chat_type="group", chat_id=-100)
    )
    await application.process_update(message_update(application.bot, "/pass nathu la"))
    for reply in request.sent():
        assert reply["parse_mode"] == "HTML"
        preview = reply["link_preview_options"]
        assert (json.loads(preview) if isinstance(preview, str) else preview) == {
            "is_disabled": True
        }
        assert "reply_parameters" not in reply


async def test_a_call_may_still_pass_its_own_link_preview_options(
    app: tuple[AnyApplication, OfflineRequest],
) -> None:
    """PTB merges them field by field with the defaults' prepared options."""
    application, request = app
    await application.bot.send_message(
        555,
        "See https://example.org",
        link_preview_options=LinkPreviewOptions(prefer_small_media=True),
    )
    (sent,) = request.sent()
    preview = sent["link_preview_options"]
    assert (json.loads(preview) if isinstance(preview, str) else preview) == {
        "is_disabled": True,
        "prefer_small_media": True,
    }
