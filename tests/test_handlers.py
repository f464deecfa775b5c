"""Commands, buttons, groups and bad input through the real application (in-process Bot API)."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import event
from sqlmodel import Session, select

from bot.models import BorderPass
from bot.services import charts
from bot.telegram.callbacks import MAX_BYTES, decode, encode
from bot.telegram.offline import BOT_USERNAME
from bot.telegram.presenter import split_html
from tests.factories import callback_update, message_update

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from tests.conftest import BotUnderTest


def buttons(call: dict[str, Any]) -> list[tuple[str, str]]:
    markup = call.get("reply_markup")
    if markup is None:
        return []
    data = json.loads(markup) if isinstance(markup, str) else markup
    return [(b["text"], b["callback_data"]) for row in data["inline_keyboard"] for b in row]


async def test_start_welcomes_with_a_menu(bot: BotUnderTest) -> None:
    (call,) = await bot.send("/start")
    assert "Trade Watch" in call["text"]
    assert "Nathu La" in call["text"]
    assert [label for label, _ in buttons(call)][:2] == ["Trade deficit", "Border passes"]


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("pass-nathu-la", "Nathu La"),
        ("deal-urea", "Urea"),
        ("history-shipki-la", "History: Shipki La"),
    ],
)
async def test_start_deep_links_open_the_record(
    bot: BotUnderTest, link: str, expected: str
) -> None:
    (text,) = await bot.replies(f"/start {link}")
    assert expected in text


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        # The latest whole year first, then the newer part of a year, named as partial.
        (
            "/deficit",
            ["FY2024-25", "99.2", "Apr 2025 – Jan 2026 (FY2025-26 so far)", "92.3", "116.12"],
        ),
        ("/deficit FY2022-23", ["FY2022-23", "83.2*", "derived"]),
        ("/deficit 2025 china", ["2025", "116.12", "Chinese customs"]),
        ("/trade 2022", ["2022", "135.98"]),
        ("/pass shipki la", ["Shipki La", "reopening scheduled", "15 Dec 2025", "Jun 2026"]),
        ("/pass nathula", ["Nathu La", "reopening agreed", "19 Aug 2025"]),
        ("/passes", ["Lipulekh", "Shipki La", "Nathu La"]),
        ("/deals", ["Rare-earth magnets", "Urea"]),
        ("/deals restricted", ["Specialty fertilisers", "restricted"]),
        ("/flights", ["Kolkata", "Guangzhou", "operating"]),
        ("/history nathu la", ["History: Nathu La", "6 Jul 2006", "22 Apr 2020", "19 Aug 2025"]),
        ("/sources", ["Sources", "Cited", "Key: gac-pti-tribune-2026-01-14", "source=KEY"]),
    ],
)
async def test_commands_answer_with_sourced_facts(
    bot: BotUnderTest, command: str, expected: list[str]
) -> None:
    texts = await bot.replies(command)
    assert texts, f"no reply to {command}"
    joined = "\n".join(texts)
    for fact in expected:
        assert fact in joined, f"{fact!r} missing from the answer to {command}:\n{joined}"


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/pass atlantis", "I don't know a border pass called"),
        ("/history nowhere", "I don't know"),
        ("/deficit banana", "I didn't understand “banana” for /deficit"),
        ("/deficit FY1850-51", "No figure for FY1850-51"),
        ("/deficit 2099", "No figure for 2099"),
        ("/pass", "I don't know a border pass"),
    ],
)
async def test_bad_arguments_get_a_clear_reply(
    bot: BotUnderTest, command: str, expected: str
) -> None:
    (text,) = await bot.replies(command)
    assert expected in text


async def test_every_answer_is_sourced_or_says_why_not(bot: BotUnderTest) -> None:
    for command in ("/deficit", "/trade", "/passes", "/deals", "/flights", "/pass lipulekh"):
        for text in await bot.replies(command):
            assert "Source:" in text, command


async def test_a_record_long_quiet_in_a_passing_stage_says_so(bot: BotUnderTest) -> None:
    # The clock is 21 Nov 2026; Nathu La's reopening was agreed, last heard of 15 Sep 2025.
    (text,) = await bot.replies("/pass nathu la")
    assert (
        "⏳ No update recorded since 15 Sep 2025, and “reopening agreed” is a stage that moves "
        "on: this may have changed." in text
    )
    # Routes operating since Nov 2025 are as old, but nothing says they should have changed.
    (flights,) = await bot.replies("/flights")
    assert "⏳" not in flights


async def test_a_discrepancy_is_flagged_in_the_answer(bot: BotUnderTest) -> None:
    (text,) = await bot.replies("/trade 2025")
    assert "reports exports of USD 20.5 bn; this record gives 19.75" in text


async def test_passes_list_drills_down_to_a_pass_and_its_history(bot: BotUnderTest) -> None:
    (listing,) = await bot.send("/passes")
    labels = dict(buttons(listing))
    pressed = await bot.process(
        callback_update(
            bot.application.bot, labels["Nathu La"], message_id=listing.get("message_id", 1)
        )
    )
    edit = next(call for call in pressed if call["method"] == "editMessageText")
    assert "Nathu La" in edit["text"]
    history_data = dict(buttons(edit))["History"]
    pressed = await bot.process(callback_update(bot.application.bot, history_data))
    edit = next(call for call in pressed if call["method"] == "editMessageText")
    assert "History: Nathu La" in edit["text"]
    assert "22 Apr 2020" in edit["text"]


async def test_deficit_steps_to_the_previous_year(bot: BotUnderTest) -> None:
    (answer,) = await bot.send("/deficit FY2023-24")
    previous = dict(buttons(answer))["◀ FY2022-23"]
    pressed = await bot.process(callback_update(bot.application.bot, previous))
    edit = next(call for call in pressed if call["method"] == "editMessageText")
    assert "FY2022-23" in edit["text"]
    assert "83.2" in edit["text"]


@pytest.mark.parametrize(
    "data",
    [
        "garbage",
        "tw1|pass|atlantis",
        "tw0|pass|nathu-la",
        "tw1|hist|pass|nathu-la|abc",
        "tw1|fig|deficit|india_fy|FY1850-51",
        "tw1|deals|bogus_status",
        "tw1|pass|" + "x" * 70,
        "",
    ],
)
async def test_forged_or_stale_buttons_expire_and_change_nothing(
    bot: BotUnderTest, seeded_engine: Engine, data: str
) -> None:
    with Session(seeded_engine) as session:
        before = [p.model_dump() for p in session.exec(select(BorderPass)).all()]
    calls = await bot.process(callback_update(bot.application.bot, data))
    (answer,) = [call for call in calls if call["method"] == "answerCallbackQuery"]
    assert "This button has expired" in answer["text"]
    assert not [call for call in calls if call["method"] in ("editMessageText", "sendMessage")]
    with Session(seeded_engine) as session:
        assert [p.model_dump() for p in session.exec(select(BorderPass)).all()] == before


def test_callback_data_fits_telegram_and_round_trips() -> None:
    data = encode("hist", "flight", "kolkata-guangzhou", 12)
    assert len(data.encode()) <= MAX_BYTES
    action = decode(data)
    assert action is not None
    assert (action.verb, action.arg("key"), action.page) == ("hist", "kolkata-guangzhou", 12)
    with pytest.raises(ValueError, match="not valid callback data"):
        encode("pass", "x" * 80)


async def test_every_button_the_bot_sends_decodes(bot: BotUnderTest) -> None:
    for command in (
        "/start",
        "/passes",
        "/pass nathu la",
        "/deals",
        "/flights",
        "/deficit FY2023-24",
        "/sources",
        "/history urea",
    ):
        for call in await bot.send(command):
            for _, data in buttons(call):
                assert decode(data) is not None, (command, data)
                assert len(data.encode()) <= MAX_BYTES


async def test_groups_answer_only_when_addressed(bot: BotUnderTest) -> None:
    group = {"chat_type": "group", "chat_id": -100123}
    assert await bot.send("is nathula open", **group) == []
    mention = f"@{BOT_USERNAME} is nathula open"
    texts = await bot.replies(mention, mention=BOT_USERNAME, **group)
    assert texts
    assert "Nathu La" in texts[0]
    # Commands work in groups, also addressed as /cmd@bot.
    (text,) = await bot.replies(f"/pass@{BOT_USERNAME} shipki", **group)
    assert "Shipki La" in text


async def test_non_text_in_private_gets_a_hint_and_is_ignored_in_groups(bot: BotUnderTest) -> None:
    sticker = message_update(bot.application.bot, "", sticker=True)
    (call,) = await bot.process(sticker)
    assert "I answer text questions" in call["text"]
    group_sticker = message_update(
        bot.application.bot, "", sticker=True, chat_type="group", chat_id=-5
    )
    assert await bot.process(group_sticker) == []


async def test_a_forwarded_question_is_answered(bot: BotUnderTest) -> None:
    forwarded = message_update(bot.application.bot, "is shipki la open?", forwarded=True)
    (call,) = await bot.process(forwarded)
    assert "Shipki La" in call["text"]


async def test_channel_posts_are_ignored(bot: BotUnderTest) -> None:
    post = message_update(bot.application.bot, "/deficit", chat_type="channel", chat_id=-1009)
    assert await bot.process(post) == []


async def test_edited_messages_are_not_answered_again(bot: BotUnderTest) -> None:
    edited = message_update(bot.application.bot, "is nathula open", edited=True)
    assert await bot.process(edited) == []


@pytest.mark.parametrize(
    "text",
    [
        "x" * 4096,
        "🇮🇳🇨🇳 " * 500,
        "中印贸易逆差是多少？",
        "<b>deficit</b> <script>alert(1)</script>",
        "*deficit* _FY25_ [link](http://example.com)",
        "/",
        "   ",
    ],
)
async def test_odd_text_gets_one_valid_reply(bot: BotUnderTest, text: str) -> None:
    calls = await bot.send(text)
    sent = [call for call in calls if call["method"] == "sendMessage"]
    if not text.strip() or text == "/":
        assert len(sent) <= 1
        return
    assert len(sent) >= 1
    for call in sent:
        assert len(call["text"]) <= 4096
        assert "<script>" not in call["text"]


async def test_chart_is_a_png_with_a_sourced_caption_and_is_reused(bot: BotUnderTest) -> None:
    (first,) = [c for c in await bot.send("/chart deficit") if c["method"] == "sendPhoto"]
    assert "India's trade deficit with China" in first["caption"]
    assert "Sources:" in first["caption"]
    photo_call = bot.request.calls[-1]
    assert photo_call.files["photo"].startswith(b"\x89PNG")
    (second,) = [c for c in await bot.send("/chart deficit") if c["method"] == "sendPhoto"]
    assert second["photo"] == "photo-1" or isinstance(second["photo"], str)
    assert not bot.request.calls[-1].files  # re-sent by file_id, not uploaded again


@pytest.mark.parametrize(
    "text",
    ["short", ("para " * 300 + "\n\n") * 10, "x" * 9000, ("<b>line</b>\n" * 900) + "end"],
)
def test_long_answers_split_within_telegram_limits_losing_nothing(text: str) -> None:
    chunks = split_html(text)
    assert all(0 < len(chunk) <= 4096 for chunk in chunks)
    assert "".join(chunks).replace("\n", "") == text.replace("\n", "")
    assert all(chunk.count("<b>") == chunk.count("</b>") for chunk in chunks)


async def test_a_fiscal_year_is_never_compared_with_a_calendar_year(bot: BotUnderTest) -> None:
    (text,) = await bot.replies("how did the deficit change from FY2022-23 to 2022")
    assert "two series that are never compared" in text
    assert "0 bn" not in text


class Gate:
    """Holds a worker thread inside slow work until released, and tells when one is held: the
    other update's answer must arrive while it is held (no timing involved)."""

    def __init__(self) -> None:
        self.held = threading.Event()
        self.release = threading.Event()

    def hold(self) -> None:
        self.held.set()
        assert self.release.wait(DEADLOCK_SECONDS), "never released: the other update hung"

    async def wait_until_held(self) -> None:
        assert await asyncio.to_thread(self.held.wait, DEADLOCK_SECONDS)


# Only a bound on a hang; nothing here measures speed (benchmarks do, under bench/).
DEADLOCK_SECONDS = 30


async def _answered_while_held(bot: BotUnderTest, gate: Gate, held: Any, other: Any) -> None:
    app = bot.application
    holding = asyncio.create_task(app.process_update(held))
    try:
        await gate.wait_until_held()
        await asyncio.wait_for(app.process_update(other), DEADLOCK_SECONDS)
        assert not holding.done()  # the other update was answered while this one was held
    finally:
        gate.release.set()
        await holding


async def test_slow_database_work_of_one_update_does_not_hold_up_another(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    """Handlers query in worker threads: while one chat's query is held up, another chat's
    question is answered meanwhile, not after it."""
    slow_chat, gate = 777_001, Gate()

    def slow_for_one_chat(
        _connection: Any, _cursor: Any, _statement: str, parameters: Any, *_: Any
    ) -> None:
        values = parameters.values() if isinstance(parameters, dict) else parameters or ()
        if slow_chat in values:
            gate.hold()

    event.listen(seeded_engine, "before_cursor_execute", slow_for_one_chat)
    try:
        app = bot.application
        await _answered_while_held(
            bot,
            gate,
            message_update(app.bot, "/settings", chat_id=slow_chat),
            message_update(app.bot, "/pass shipki la", chat_id=555),
        )
    finally:
        event.remove(seeded_engine, "before_cursor_execute", slow_for_one_chat)
    texts = {call["chat_id"]: call["text"] for call in bot.request.sent()}
    assert "Shipki La" in texts[555]
    assert "subscribe" in texts[slow_chat].lower()


async def test_drawing_a_chart_does_not_hold_up_another_update(
    bot: BotUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    draw, gate = charts.render_png, Gate()

    def slow_draw(*args: Any, **kwargs: Any) -> bytes:
        gate.hold()
        return draw(*args, **kwargs)

    monkeypatch.setattr(charts, "render_png", slow_draw)
    app = bot.application
    await _answered_while_held(
        bot,
        gate,
        message_update(app.bot, "/chart", chat_id=556),
        message_update(app.bot, "/pass nathu la", chat_id=555),
    )
    assert [call.method for call in bot.request.calls if call.params.get("chat_id") == 556] == [
        "sendPhoto"
    ]
