"""Generated updates through the real application: see tests/fuzzing.py for the properties.

Each example is a sequence of updates through one application and one fresh copy of the seeded
database (building them costs far more than an update), so later updates press the buttons,
reply to the messages and name the drafts earlier ones produced. The seed is fixed
(`derandomize`), nothing is written to a `.hypothesis` folder, and the test fails if fewer
than `MIN_UPDATES` updates ran. The tests after it pin down what the generated updates found.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect
from sqlmodel import Session, select
from telegram import Update
from telegram.ext import CommandHandler

from bot.models import BorderPass, EditDraft, StatusChange
from bot.vocabulary import PassStatus
from tests.factories import message_update
from tests.fuzzing import (
    COMMANDS,
    DATA_TABLES,
    EDITOR,
    HARNESS_TABLES,
    INDEX_TABLES,
    LANGUAGE_CODES,
    OWNER,
    READER,
    STATE_TABLES,
    Case,
    Harness,
    Tally,
    hindi_texts,
    prepare_database,
)

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import BotUnderTest

TODAY = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
EXAMPLES, UPDATES_PER_EXAMPLE = 50, 200
MIN_UPDATES = 10_000
_runs = itertools.count()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return prepare_database(tmp_path_factory.mktemp("fuzz-template"))


@pytest.fixture(scope="module")
def tally() -> Tally:
    return Tally()


async def _sequence(harness: Harness, draw: Any, count: int) -> None:
    async with harness:
        for _ in range(count):
            await harness.run(draw(harness.cases))


@pytest.mark.slow
def test_fuzz_generated_updates(
    template: Path, tmp_path_factory: pytest.TempPathFactory, tally: Tally
) -> None:
    folder = tmp_path_factory.mktemp("fuzz")

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        print_blob=False,
        # No shrinking: a sequence of 200 updates would take minutes to shrink, and the failure
        # already names the update, the properties it broke and the calls it caused.
        phases=(Phase.explicit, Phase.reuse, Phase.generate),
    )
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        harness = Harness(template, folder / str(next(_runs)), clock=lambda: TODAY)
        try:
            asyncio.run(_sequence(harness, data.draw, UPDATES_PER_EXAMPLE))
        finally:
            tally.add(harness.tally)

    run()
    assert tally.updates >= MIN_UPDATES, f"only {tally.updates} updates ran"
    print(f"\n{tally.updates} generated updates: {dict(tally.scenarios.most_common(12))}")


def test_the_generators_know_every_command_and_table(template: Path, tmp_path: Path) -> None:
    harness = Harness(template, tmp_path, clock=lambda: TODAY)
    registered = {
        command
        for group in harness.application.handlers.values()
        for handler in group
        if isinstance(handler, CommandHandler)
        for command in handler.commands
    }
    assert registered == set(COMMANDS)
    tables = set(inspect(harness.engine).get_table_names())
    assert tables == set(DATA_TABLES) | set(STATE_TABLES) | set(HARNESS_TABLES) | set(INDEX_TABLES)
    harness.engine.dispose()


def _message(user: int, text: str) -> Case:
    command = text.split()[0]
    message = {
        "message_id": 1,
        "date": 1_763_715_600,
        "chat": {"id": user, "type": "private", "first_name": "E"},
        "from": {"id": user, "is_bot": False, "first_name": "E"},
        "text": text,
        "entities": [{"type": "bot_command", "offset": 0, "length": len(command)}]
        if text.startswith("/")
        else [],
    }
    return Case("editor", {"message": message})


def _press(user: int, data: str) -> Case:
    query = {
        "id": "1",
        "from": {"id": user, "is_bot": False, "first_name": "E"},
        "chat_instance": "ci",
        "data": data,
        "message": {
            "message_id": 1,
            "date": 1_763_715_600,
            "chat": {"id": user, "type": "private", "first_name": "E"},
            "text": "…",
        },
    }
    return Case("editor press", {"callback_query": query})


def _history(engine: Any) -> list[tuple[str, str | None, str | None]]:
    with Session(engine) as session:
        rows = session.exec(select(StatusChange).order_by(StatusChange.id)).all()  # type: ignore[arg-type]
        return [(row.record_key, row.field, row.new_value) for row in rows]


@given(
    status=st.sampled_from(list(PassStatus)),
    slug=st.sampled_from(("nathu-la", "shipki-la", "lipulekh")),
    noise=st.lists(st.sampled_from(("/pass nathu la", "hello", "/deals", "/set pass")), max_size=3),
    reader_first=st.booleans(),
)
@settings(max_examples=8, derandomize=True, database=None, deadline=None)
def test_a_confirmed_set_writes_exactly_what_was_previewed(
    template: Path,
    tmp_path_factory: pytest.TempPathFactory,
    status: PassStatus,
    slug: str,
    noise: list[str],
    reader_first: bool,
) -> None:
    """An editor's `/set` preview, confirmed: the record and its history change as previewed,
    nothing else does; a reader pressing the same Confirm first changes nothing."""
    harness = Harness(template, tmp_path_factory.mktemp("set"), clock=lambda: TODAY)

    async def scenario() -> None:
        async with harness:
            for text in noise:
                await harness.run(_message(READER, text))
            calls = await harness.run(_message(EDITOR, f"/set pass {slug} {status.value}"))
            with Session(harness.engine) as session:
                draft = session.exec(select(EditDraft)).one_or_none()
                before = session.exec(select(BorderPass).where(BorderPass.slug == slug)).one()
            if draft is None:  # the record already has that status: an error, not a preview
                assert "already" in json.dumps([c.params for c in calls], ensure_ascii=False)
                return
            assert draft.payload["changes"] == {"status": status.value}
            history = _history(harness.engine)
            if reader_first:
                await harness.run(_press(READER, f"tw1|ok|{draft.id}"))
                assert _history(harness.engine) == history
            await harness.run(_press(EDITOR, f"tw1|ok|{draft.id}"))
            with Session(harness.engine) as session:
                after = session.exec(select(BorderPass).where(BorderPass.slug == slug)).one()
            changed = {
                name
                for name in BorderPass.model_fields
                if getattr(before, name) != getattr(after, name)
            }
            # The confirmed change, and what every edit records: when, by whom, on what source.
            assert changed - {"as_of", "source_id", "status_since"} == {
                "status", "updated_by", "updated_at", "version"
            }  # fmt: skip
            assert (after.status, after.version) == (status, before.version + 1)
            assert after.updated_by == f"tg:{EDITOR}"
            new_rows = _history(harness.engine)[len(history) :]
            assert {row[0] for row in new_rows} == {slug}
            assert (slug, "status", status.value) in new_rows
            assert {row[1] for row in new_rows} <= changed
            with Session(harness.engine) as session:
                others = session.exec(select(BorderPass).where(BorderPass.slug != slug)).all()
            assert all(row.version == 1 for row in others)

    asyncio.run(scenario())


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


def _replies_to(harness: Harness, *steps: Case) -> list[list[Any]]:
    """Run the steps (each checked like a generated update); the calls of each."""

    async def run() -> list[list[Any]]:
        async with harness:
            return [await harness.run(step) for step in steps]

    return asyncio.run(run())


def test_a_user_id_no_user_can_have_is_a_usage_error(template: Path, tmp_path: Path) -> None:
    harness = Harness(template, tmp_path, clock=lambda: TODAY)
    for calls in _replies_to(
        harness,
        _message(OWNER, "/grant 99999999999999999999999 editor"),
        _message(OWNER, "/revoke 99999999999999999999999"),
        _message(OWNER, "/grant -5 editor"),
        _message(OWNER, "/grant ５５５ editor"),  # full-width digits: isdigit(), not an id
    ):
        (reply,) = calls
        assert "Usage" in reply.params["text"]


def test_a_refused_guided_step_answers_the_press_once(template: Path, tmp_path: Path) -> None:
    harness = Harness(template, tmp_path, clock=lambda: TODAY)

    async def run() -> list[Any]:
        async with harness:
            await harness.run(_message(EDITOR, "/edit"))
            await harness.run(_press(EDITOR, "tw1|er|pass|nathu-la"))
            (draft,) = harness.world.drafts
            await harness.run(_press(EDITOR, f"tw1|ef|{draft}|bogus"))
            await harness.run(_press(EDITOR, f"tw1|ef|{draft}|status"))
            return await harness.run(_press(EDITOR, f"tw1|ev|{draft}|bogus"))

    calls = asyncio.run(run())  # harness.run checks: one answerCallbackQuery, one message
    assert [call.method for call in calls] == ["answerCallbackQuery", "sendMessage"]


def test_a_figure_too_large_to_store_is_refused(template: Path, tmp_path: Path) -> None:
    harness = Harness(template, tmp_path, clock=lambda: TODAY)
    (calls,) = _replies_to(
        harness,
        _message(EDITOR, "/addfigure india_fy FY2025-26 exports=1e999 source=https://x.org"),
    )
    assert "too large" in calls[0].params["text"]


def test_a_guided_step_on_another_kind_of_draft_is_an_expired_button(
    template: Path, tmp_path: Path
) -> None:
    """`tw1|ef|<id>|status` naming a figure draft (or Confirm on an unfinished guided edit)."""
    harness = Harness(template, tmp_path, clock=lambda: TODAY)

    async def run() -> list[list[Any]]:
        async with harness:
            await harness.run(
                _message(EDITOR, "/addfigure india_fy FY2025-26 exports=18.1 source=https://x.org")
            )
            (figure,) = harness.world.drafts
            pressed = [
                await harness.run(_press(EDITOR, f"tw1|{v}|{figure}|status")) for v in ["ef", "ev"]
            ]
            pressed.append(await harness.run(_press(EDITOR, f"tw1|es|{figure}")))
            await harness.run(_message(EDITOR, "/edit"))
            await harness.run(_press(EDITOR, "tw1|er|pass|nathu-la"))
            (guided,) = harness.world.drafts
            pressed.append(await harness.run(_press(EDITOR, f"tw1|ok|{guided}")))
            return pressed

    for calls in asyncio.run(run()):
        (answer,) = calls
        assert answer.method == "answerCallbackQuery"
        assert answer.params["show_alert"] is True


@given(data=st.data())
@settings(max_examples=3, derandomize=True, database=None, deadline=None)
def test_hindi_from_any_language_code_gets_one_answer(
    template: Path, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    """Devanagari, mixed scripts, zero-width characters and normal forms, in private chats and
    inline queries, from users whose `language_code` is Hindi, English, unknown, malformed or
    absent: each message gets exactly one answer, none empty or past Telegram's limits (the
    harness checks every property of tests/fuzzing.py)."""
    harness = Harness(template, tmp_path_factory.mktemp("hindi"), clock=lambda: TODAY)

    async def scenario() -> None:
        async with harness:
            for index in range(120):
                text = data.draw(hindi_texts)
                user: dict[str, Any] = {"id": READER, "is_bot": False, "first_name": "R"}
                code = data.draw(st.sampled_from(LANGUAGE_CODES))
                if code is not None:
                    user["language_code"] = code
                if index % 4:
                    message = {
                        "message_id": index + 1,
                        "date": 1_763_715_600,
                        "chat": {"id": READER, "type": "private", "first_name": "R"},
                        "from": user,
                        "text": text[:4096],
                    }
                    calls = await harness.run(Case("hindi", {"message": message}))
                    answers = [c for c in calls if c.method in ("sendMessage", "sendPhoto")]
                    assert answers, f"no answer to {text!r}"
                else:
                    inline = {"id": str(index), "from": user, "query": text[:256], "offset": ""}
                    await harness.run(Case("hindi inline", {"inline_query": inline}))

    asyncio.run(scenario())
    assert harness.tally.updates == 120
