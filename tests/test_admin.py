"""Editors and owners through the real application: edits, history, undo, roles, refusals."""

from __future__ import annotations

import json
import logging
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from pydantic import SecretStr
from sqlmodel import Session, col, select

from bot.db import session_scope
from bot.models import BorderPass, CommodityDeal, StatusChange, TradeFigure
from bot.services import admins
from bot.services.events import RecordChanged
from bot.telegram.app import build_application
from bot.telegram.offline import OfflineRequest
from bot.telegram.plain import html_to_text
from bot.vocabulary import PassStatus, Role
from tests.conftest import FAKE_TOKEN, TODAY, BotUnderTest
from tests.factories import callback_update, message_update

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import Engine

    from bot.config import Settings

OWNER, EDITOR, STRANGER, OTHER_EDITOR = 1001, 1002, 1003, 1004
FAKE_TOKEN_SECRET = SecretStr(FAKE_TOKEN)


@pytest.fixture
def team(seeded_engine: Engine) -> None:
    with session_scope(seeded_engine) as session:
        admins.bootstrap_owners(session, [OWNER])
        for editor in (EDITOR, OTHER_EDITOR):
            admins.grant(session, by="test", by_user=OWNER, user_id=editor, role=Role.EDITOR)


def buttons(call: dict[str, Any]) -> dict[str, str]:
    markup = call.get("reply_markup")
    data = json.loads(markup) if isinstance(markup, str) else markup or {"inline_keyboard": []}
    return {b["text"]: b["callback_data"] for row in data["inline_keyboard"] for b in row}


async def say(bot: BotUnderTest, user: int, text: str) -> dict[str, Any]:
    """The bot's one reply to `text`, with its plain text under "plain"."""
    calls = await bot.send(text, user_id=user, chat_id=user)
    (reply,) = [c for c in calls if c["method"] == "sendMessage"]
    return {**reply, "plain": html_to_text(reply["text"])}


async def press(bot: BotUnderTest, user: int, data: str) -> list[dict[str, Any]]:
    return await bot.process(callback_update(bot.application.bot, data, user_id=user, chat_id=user))


def nathu(engine: Engine) -> BorderPass:
    with Session(engine) as session:
        return session.exec(select(BorderPass).where(BorderPass.slug == "nathu-la")).one()


@pytest.mark.usefixtures("team")
async def test_one_line_edit_with_preview_confirm_and_history(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    heard: list[RecordChanged] = []
    services = bot.application.handlers[0][0].callback.__self__.services  # the shared BotServices
    services.changes.subscribe(heard.append)
    await say(bot, EDITOR, "/pass nathu la")  # cached answer before the edit

    preview = await say(
        bot,
        EDITOR,
        '/set pass nathula reopening_scheduled since=2026-05-01 note="Season opens 1 May" source=https://example.org/sikkim',
    )
    assert "Preview" in preview["plain"]
    assert "reopening scheduled since 1 May 2026" in preview["plain"]
    assert "status: reopening agreed → reopening scheduled" in preview["plain"]
    assert nathu(seeded_engine).status is PassStatus.REOPENING_AGREED  # nothing written yet

    calls = await press(bot, EDITOR, buttons(preview)["✅ Confirm"])
    saved = next(c for c in calls if c["method"] == "editMessageText")
    assert "Saved." in saved["text"]
    record = nathu(seeded_engine)
    assert (record.status, str(record.status_since), record.updated_by, record.version) == (
        PassStatus.REOPENING_SCHEDULED, "2026-05-01", f"tg:{EDITOR}", 2,
    )  # fmt: skip
    assert heard
    assert heard[0].key == "nathu-la"
    assert "status" in heard[0].fields

    # Readers see the new status at once (the answer cache was cleared) and the change in history.
    assert "reopening scheduled" in (await say(bot, STRANGER, "/pass nathu la"))["plain"]
    history = (await say(bot, STRANGER, "/history nathu la"))["plain"]
    assert "reopening agreed → reopening scheduled. Season opens 1 May" in history
    assert "example.org" in history
    assert "status reopening agreed → reopening scheduled" in (
        await say(bot, STRANGER, "/changes")
    )["text"].replace("_", " ")


@pytest.mark.usefixtures("team")
async def test_guided_edit(bot: BotUnderTest, seeded_engine: Engine) -> None:
    start = await say(bot, EDITOR, "/edit")
    step = await press(bot, EDITOR, buttons(start)["Border pass"])
    pick = next(c for c in step if c["method"] == "editMessageText")
    step = await press(bot, EDITOR, buttons(pick)["Nathu La"])
    fields = next(c for c in step if c["method"] == "editMessageText")
    step = await press(bot, EDITOR, buttons(fields)["Status"])
    values = next(c for c in step if c["method"] == "sendMessage")
    assert set(buttons(values)) >= {"Open", "Reopening scheduled", "Suspended"}
    step = await press(bot, EDITOR, buttons(values)["Reopening scheduled"])
    assert "short note" in next(c for c in step if c["method"] == "sendMessage")["text"]
    # A note given, the same note in Hindi is asked for next (it may be skipped).
    assert (
        "the same note in Hindi" in (await say(bot, EDITOR, "Sikkim announced the season"))["plain"]
    )
    assert "source" in (await say(bot, EDITOR, "सिक्किम ने सीज़न की घोषणा की"))["plain"]
    preview = await say(bot, EDITOR, "https://example.org/season")
    assert "Preview" in preview["plain"]
    assert "The note in Hindi: सिक्किम ने सीज़न की घोषणा की" in preview["plain"]
    calls = await press(bot, EDITOR, buttons(preview)["✅ Confirm"])
    assert "Saved." in next(c for c in calls if c["method"] == "editMessageText")["text"]
    assert nathu(seeded_engine).status is PassStatus.REOPENING_SCHEDULED
    assert str(nathu(seeded_engine).status_since) == TODAY.date().isoformat()
    with Session(seeded_engine) as session:
        row = session.exec(
            select(StatusChange).where(
                StatusChange.record_key == "nathu-la", StatusChange.actor == f"tg:{EDITOR}"
            )
        ).first()
    assert row is not None
    assert (row.note, row.note_hi) == ("Sikkim announced the season", "सिक्किम ने सीज़न की घोषणा की")


@pytest.mark.usefixtures("team")
async def test_guided_edit_without_a_note_asks_for_no_hindi_note(bot: BotUnderTest) -> None:
    start = await say(bot, EDITOR, "/edit")
    step = await press(bot, EDITOR, buttons(start)["Border pass"])
    pick = next(c for c in step if c["method"] == "editMessageText")
    step = await press(bot, EDITOR, buttons(pick)["Nathu La"])
    fields = next(c for c in step if c["method"] == "editMessageText")
    # Each text readers see is offered in Hindi too.
    assert {"Description", "Description (Hindi)", "Season", "Season (Hindi)"} <= set(
        buttons(fields)
    )
    step = await press(bot, EDITOR, buttons(fields)["Description (Hindi)"])
    assert (
        "Type the new description in Hindi"
        in next(c for c in step if c["method"] == "sendMessage")["text"]
    )
    await say(bot, EDITOR, "नाथू ला से व्यापार 2006 में फिर शुरू हुआ।")
    assert "source" in (await say(bot, EDITOR, "skip"))["plain"]
    preview = await say(bot, EDITOR, "skip")
    assert "note hi:" in preview["plain"]
    assert "नाथू ला से व्यापार 2006 में फिर शुरू हुआ।" in preview["plain"]


@pytest.mark.usefixtures("team")
async def test_a_second_editor_is_told_the_record_changed(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    first = await say(bot, EDITOR, "/set pass nathu-la open")
    second = await say(bot, OTHER_EDITOR, "/set pass nathu-la suspended")
    await press(bot, OTHER_EDITOR, buttons(second)["✅ Confirm"])
    calls = await press(bot, EDITOR, buttons(first)["✅ Confirm"])
    refusal = next(c for c in calls if c["method"] == "sendMessage")
    assert "This record changed since you started" in html_to_text(refusal["text"])
    assert "status suspended" in html_to_text(refusal["text"])
    assert nathu(seeded_engine).status is PassStatus.SUSPENDED


@pytest.mark.usefixtures("team")
async def test_undo_reverts_the_editors_own_last_edit(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    preview = await say(bot, EDITOR, "/set pass nathu-la open since=2026-05-01")
    await press(bot, EDITOR, buttons(preview)["✅ Confirm"])
    # Someone else's edit is not theirs to undo.
    assert "no edit from the last 24 hours" in (await say(bot, OTHER_EDITOR, "/undo"))["plain"]
    undone = await say(bot, EDITOR, "/undo")
    assert "Undone: Nathu La" in undone["plain"]
    record = nathu(seeded_engine)
    assert (record.status, str(record.status_since)) == (PassStatus.REOPENING_AGREED, "2025-08-19")
    assert "no edit from the last 24 hours" in (await say(bot, EDITOR, "/undo"))["plain"]
    with Session(seeded_engine) as session:
        rows = session.exec(select(StatusChange).where(StatusChange.actor == f"tg:{EDITOR}")).all()
    assert sum(1 for row in rows if row.reverts) == 2  # the undo is in the history too


@pytest.mark.usefixtures("team")
async def test_undo_restores_the_record_field_by_field(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    before = nathu(seeded_engine).model_dump()
    preview = await say(bot, EDITOR, "/set pass nathu-la status=open source=https://example.org/x")
    await press(bot, EDITOR, buttons(preview)["✅ Confirm"])
    edited = nathu(seeded_engine)
    assert (edited.status, edited.updated_by) == (PassStatus.OPEN, f"tg:{EDITOR}")
    assert edited.source_id != before["source_id"]

    assert "Undone: Nathu La" in (await say(bot, EDITOR, "/undo"))["plain"]

    after = nathu(seeded_engine).model_dump()
    assert after.pop("version") == before.pop("version") + 2  # drafts of either state are stale
    assert after == before
    card = (await say(bot, STRANGER, "/pass nathu la"))["plain"]
    assert "example.org" not in card
    with Session(seeded_engine) as session:
        undo_rows = session.exec(
            select(StatusChange).where(col(StatusChange.reverts).is_not(None))
        ).all()
    assert {row.field for row in undo_rows} == {"status", "status_since"}
    assert {row.source_id for row in undo_rows} == {before["source_id"]}  # the restored source


@pytest.mark.usefixtures("team")
@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/set", "Usage: /set"),
        ("/set pass nathu-la opne", "“opne” is not a pass status. Use one of: open,"),
        ("/set pass nathu opne", "“opne” is not a pass status"),
        ("/set pass nathu opne", "Did you mean open?"),
        ("/set pass la open", "“la” could be Shipki La or Nathu La: which one do you mean?"),
        ("/set pass", "Which pass? Name it"),
        ("/set pass nathu-la open since=31/02/2026", "is not a date"),
        ("/set pass atlantis open", "I don't know a pass called “atlantis”"),
        ("/set pass nathu-la open colour=red", "A pass has no “colour”"),
        ("/set planet mars open", "“planet” is not a kind of record"),
        ("/set pass nathu-la reopening_agreed", "already what the record says"),
        ("/set pass nathu-la open source=nope-not-a-key", "no source with the key"),
        ('/set pass nathu-la open note="unclosed', "A quote is not closed"),
        (
            "/addfigure india_fy FY2025-26 exports=-3 source=https://x.org",
            "must be a positive number",
        ),
        ("/addfigure india_fy FY2025 exports=3 source=https://x.org", "is not a india_fy period"),
        ("/addfigure india_fy FY2025-26 exports=18.1", "Every figure needs a source"),
        ("/addfigure mars FY2025-26 exports=1 source=https://x.org", "is not a series"),
        ("/addsource Bad Key", "Usage: /addsource"),
    ],
)
async def test_bad_edits_say_what_is_wrong_and_change_nothing(
    bot: BotUnderTest, seeded_engine: Engine, command: str, expected: str
) -> None:
    before = nathu(seeded_engine).model_dump()
    reply = await say(bot, EDITOR, command)
    assert expected in reply["plain"]
    assert not buttons(reply)
    assert nathu(seeded_engine).model_dump() == before


@pytest.mark.usefixtures("team")
async def test_add_figure_warns_when_totals_do_not_reconcile(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    preview = await say(
        bot,
        EDITOR,
        "/addfigure india_fy FY2025-26 exports=18.1 imports=120.4 total=150 stage=provisional source=https://example.org/fy26",
    )
    assert "Check before confirming" in preview["plain"]
    # The value that disagrees, and what the others give instead.
    assert (
        "exports 18.1 (yours) does not match the 29.6 that imports and total give"
        in (preview["plain"])
    )
    await press(bot, EDITOR, buttons(preview)["✅ Confirm"])
    with Session(seeded_engine) as session:
        figure = session.exec(select(TradeFigure).where(TradeFigure.period == "FY2025-26")).one()
    assert (str(figure.exports), str(figure.imports), figure.updated_by) == (
        "18.1",
        "120.4",
        f"tg:{EDITOR}",
    )
    assert "102.3" in (await say(bot, STRANGER, "/deficit FY2025-26"))["plain"]


@pytest.mark.usefixtures("team")
async def test_add_source_then_cite_it(bot: BotUnderTest) -> None:
    added = await say(
        bot,
        EDITOR,
        '/addsource sikkim-2026 title="Sikkim trade notice" '
        'publisher="Government of Sikkim" published="1 May 2026"',
    )
    assert "Source added: sikkim-2026" in added["plain"]
    preview = await say(bot, EDITOR, "/set pass nathu-la open source=sikkim-2026")
    assert "Government of Sikkim, 1 May 2026" in preview["plain"]


# --- Roles ------------------------------------------------------------------------------


@pytest.mark.usefixtures("team")
async def test_owners_grant_and_revoke_and_keep_one_owner(bot: BotUnderTest) -> None:
    assert "is now editor" in (await say(bot, OWNER, f"/grant {STRANGER} editor"))["plain"]
    assert "1003: editor" in (await say(bot, OWNER, "/admins"))["plain"]
    assert "no longer has a role" in (await say(bot, OWNER, f"/revoke {STRANGER}"))["plain"]
    assert "last owner" in (await say(bot, OWNER, f"/revoke {OWNER}"))["plain"]
    assert "Usage: /grant" in (await say(bot, OWNER, "/grant someone boss"))["plain"]


# The authorization matrix: every editing entry point, for everyone who may try it.
EDITOR_COMMANDS = [
    "/set pass nathu-la open",
    "/edit",
    "/undo",
    "/cancel",
    "/addfigure india_fy FY2030-31 exports=1 source=https://x.org",
    "/addsource k title=t publisher=p",
]
OWNER_COMMANDS = [f"/grant {STRANGER} editor", f"/revoke {EDITOR}", "/admins"]


@pytest.mark.usefixtures("team")
@pytest.mark.parametrize("command", EDITOR_COMMANDS + OWNER_COMMANDS)
@pytest.mark.parametrize("who", ["owner", "editor", "stranger", "group", "channel"])
async def test_authorization_matrix(
    bot: BotUnderTest,
    seeded_engine: Engine,
    caplog: pytest.LogCaptureFixture,
    command: str,
    who: str,
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.telegram.handlers.editors")
    with Session(seeded_engine) as session:
        before = (session.exec(select(StatusChange)).all().__len__(), admins.admin_ids(session))
    user = {
        "owner": OWNER,
        "editor": EDITOR,
        "stranger": STRANGER,
        "group": EDITOR,
        "channel": EDITOR,
    }[who]
    kwargs: dict[str, Any] = {"user_id": user, "chat_id": user}
    if who == "group":
        kwargs.update(chat_type="group", chat_id=-100500)
    if who == "channel":
        kwargs.update(chat_type="channel", chat_id=-100600)
    calls = await bot.process(message_update(bot.application.bot, command, **kwargs))
    texts = [c.get("text", "") for c in calls if c["method"] == "sendMessage"]

    allowed = who == "owner" or (who == "editor" and command in EDITOR_COMMANDS)
    if allowed:
        assert texts
        assert "not allowed" not in texts[0]
        return
    if who == "channel":
        assert texts == []
    elif who == "group":
        assert texts == ["Editing works in a private chat with me."]
    else:
        assert texts == ["Sorry, that is not allowed."]
    assert any("Refused" in record.getMessage() for record in caplog.records)
    with Session(seeded_engine) as session:
        assert (
            session.exec(select(StatusChange)).all().__len__(),
            admins.admin_ids(session),
        ) == before


@pytest.mark.usefixtures("team")
@pytest.mark.parametrize("presser", [STRANGER, OTHER_EDITOR])
async def test_confirm_buttons_are_checked_when_pressed(
    bot: BotUnderTest, seeded_engine: Engine, presser: int
) -> None:
    preview = await say(bot, EDITOR, "/set pass nathu-la open")
    calls = await press(bot, presser, buttons(preview)["✅ Confirm"])
    (answer,) = [c for c in calls if c["method"] == "answerCallbackQuery"]
    assert answer["text"] in (
        "Sorry, that is not allowed.",
        "This edit has expired. Start again with /edit or /set.",
    )
    assert nathu(seeded_engine).status is PassStatus.REOPENING_AGREED


@pytest.mark.usefixtures("team")
async def test_a_revoked_editor_cannot_confirm_a_draft(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    preview = await say(bot, EDITOR, "/set pass nathu-la open")
    await say(bot, OWNER, f"/revoke {EDITOR}")
    calls = await press(bot, EDITOR, buttons(preview)["✅ Confirm"])
    assert any(c.get("text") == "Sorry, that is not allowed." for c in calls)
    assert nathu(seeded_engine).status is PassStatus.REOPENING_AGREED


@pytest.mark.usefixtures("team")
async def test_a_draft_survives_a_restart_and_expires_later(
    bot: BotUnderTest, seeded_engine: Engine, make_settings: Callable[..., Settings]
) -> None:
    preview = await say(bot, EDITOR, "/set pass nathu-la open")
    confirm = buttons(preview)["✅ Confirm"]
    settings = make_settings(telegram_bot_token=FAKE_TOKEN)

    later_api = OfflineRequest()
    later = build_application(
        settings,
        engine=seeded_engine,
        request=later_api,
        clock=lambda: TODAY + timedelta(hours=2),
    )
    async with later:
        restarted = BotUnderTest(later, later_api)
        calls = await press(restarted, EDITOR, confirm)
        assert any(
            "draft" in c.get("text", "").lower() or "expired" in c.get("text", "") for c in calls
        )
    assert nathu(seeded_engine).status is PassStatus.REOPENING_AGREED

    preview = await say(bot, EDITOR, "/set pass nathu-la open")
    soon_api = OfflineRequest()
    soon = build_application(
        settings,
        engine=seeded_engine,
        request=soon_api,
        clock=lambda: TODAY + timedelta(minutes=5),
    )
    async with soon:
        restarted = BotUnderTest(soon, soon_api)
        calls = await press(restarted, EDITOR, buttons(preview)["✅ Confirm"])
    assert any("Saved." in c.get("text", "") for c in calls)
    assert nathu(seeded_engine).status is PassStatus.OPEN


@pytest.mark.usefixtures("team")
async def test_an_editor_imports_a_document_after_confirming(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    with Session(seeded_engine) as session:
        from bot.services.export import build_dataset, write_csv

        folder = write_csv(build_dataset(session), Path(tempfile.mkdtemp()))[0].parent
    passes_csv = (folder / "passes.csv").read_text().replace("reopening_scheduled", "open", 1)
    bot.request.files_to_serve["passes.csv"] = passes_csv.encode()
    update = message_update(
        bot.application.bot, "", user_id=EDITOR, chat_id=EDITOR, document="passes.csv"
    )
    (plan,) = [c for c in await bot.process(update) if c["method"] == "sendMessage"]
    assert "lipulekh" in plan["text"] or "Lipulekh" in plan["text"]
    readable = plan["text"].replace("reopening scheduled", "reopening_scheduled")
    assert "reopening_scheduled → open" in readable
    with Session(seeded_engine) as session:
        lipulekh = session.exec(select(BorderPass).where(BorderPass.slug == "lipulekh")).one()
    assert lipulekh.status is PassStatus.REOPENING_SCHEDULED  # nothing before Confirm
    calls = await press(bot, EDITOR, buttons(plan)["✅ Confirm"])
    assert any("Imported" in c.get("text", "") for c in calls)
    with Session(seeded_engine) as session:
        lipulekh = session.exec(select(BorderPass).where(BorderPass.slug == "lipulekh")).one()
    assert (lipulekh.status, lipulekh.updated_by) == (PassStatus.OPEN, "import")


@pytest.mark.usefixtures("team")
async def test_a_broken_document_names_the_line(bot: BotUnderTest, seeded_engine: Engine) -> None:
    with Session(seeded_engine) as session:
        from bot.services.export import build_dataset, write_csv

        folder = write_csv(build_dataset(session), Path(tempfile.mkdtemp()))[0].parent
    lines = (folder / "passes.csv").read_text().splitlines()
    lines[3] = lines[3].replace("reopening_agreed", "opne")
    bot.request.files_to_serve["passes.csv"] = "\n".join(lines).encode()
    update = message_update(
        bot.application.bot, "", user_id=EDITOR, chat_id=EDITOR, document="passes.csv"
    )
    (reply,) = [c for c in await bot.process(update) if c["method"] == "sendMessage"]
    assert "passes.csv line 4, status" in html_to_text(reply["text"])
    assert not buttons(reply)


async def test_a_strangers_document_is_refused(bot: BotUnderTest) -> None:
    bot.request.files_to_serve["passes.csv"] = b"slug\n"
    update = message_update(
        bot.application.bot, "", user_id=STRANGER, chat_id=STRANGER, document="passes.csv"
    )
    (reply,) = [c for c in await bot.process(update) if c["method"] == "sendMessage"]
    assert reply["text"] == "Sorry, that is not allowed."


@pytest.mark.usefixtures("team")
async def test_a_forged_confirm_is_expired(bot: BotUnderTest, seeded_engine: Engine) -> None:
    for data in ("tw1|ok|000000000000", "tw1|ok|zz", "tw1|ev|abcdefabcdef|open"):
        calls = await press(bot, EDITOR, data)
        (answer,) = [c for c in calls if c["method"] == "answerCallbackQuery"]
        assert "expired" in answer["text"]
    assert nathu(seeded_engine).status is PassStatus.REOPENING_AGREED


@pytest.mark.usefixtures("team")
async def test_notes_are_escaped_where_shown(bot: BotUnderTest) -> None:
    preview = await say(bot, EDITOR, '/set pass nathu-la open note="<b>bold</b> & <script>"')
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;" in preview["text"]
    await press(bot, EDITOR, buttons(preview)["✅ Confirm"])
    history = await say(bot, STRANGER, "/history nathu la")
    assert "&lt;script&gt;" in history["text"]
    assert "<script>" not in history["text"]


@pytest.mark.usefixtures("team")
async def test_typing_skip_skips_and_an_unknown_source_key_is_caught_early(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    start = await say(bot, EDITOR, "/edit")
    step = await press(bot, EDITOR, buttons(start)["Flight route"])
    pick = next(c for c in step if c["method"] == "editMessageText")
    step = await press(bot, EDITOR, buttons(pick)["Kolkata–Guangzhou"])
    fields = next(c for c in step if c["method"] == "editMessageText")
    step = await press(bot, EDITOR, buttons(fields)["Frequency"])
    await say(bot, EDITOR, "twice daily")
    assert "source" in (await say(bot, EDITOR, "skip"))["plain"]
    assert "no source with the key “nope”" in (await say(bot, EDITOR, "nope"))["plain"]
    preview = await say(bot, EDITOR, "-")
    assert "frequency: daily → twice daily" in preview["plain"]
    assert "Trade Watch editors" in preview["plain"]


@pytest.mark.postgres
async def test_edit_and_undo_on_postgres(
    make_settings: Callable[..., Settings], postgres_seeded_url: str
) -> None:
    from bot.bootstrap import open_database

    settings = make_settings(database_url=postgres_seeded_url).model_copy(
        update={"telegram_bot_token": FAKE_TOKEN_SECRET, "admin_ids": (EDITOR,)}
    )
    engine = open_database(settings)
    api = OfflineRequest()
    application = build_application(settings, engine=engine, request=api, clock=lambda: TODAY)
    async with application:
        bot = BotUnderTest(application, api)
        preview = await say(bot, EDITOR, "/set pass nathu-la reopening_scheduled since=2026-05-01")
        await press(bot, EDITOR, buttons(preview)["✅ Confirm"])
        assert nathu(engine).status is PassStatus.REOPENING_SCHEDULED
        assert (
            "reopening scheduled since 1 May 2026"
            in (await say(bot, STRANGER, "/pass nathu la"))["plain"]
        )
        await say(bot, EDITOR, "/undo")
        assert nathu(engine).status is PassStatus.REOPENING_AGREED
    engine.dispose()


def shipki(engine: Engine) -> BorderPass:
    with Session(engine) as session:
        return session.exec(select(BorderPass).where(BorderPass.slug == "shipki-la")).one()


@pytest.mark.usefixtures("team")
@pytest.mark.parametrize(("choice", "cleared"), [("clear", True), ("keep", False)])
async def test_opening_a_pass_asks_whether_to_clear_its_expected_reopening(
    bot: BotUnderTest, seeded_engine: Engine, choice: str, cleared: bool
) -> None:
    expected = shipki(seeded_engine).expected_reopening
    assert expected is not None  # Shipki La: trade to restart in June 2026
    preview = await say(bot, EDITOR, "/set pass shipki status=open")
    assert f"still expects to reopen {expected.human()}: clear that date too?" in preview["plain"]
    choices = buttons(preview)
    label = (
        "✅ Confirm, clear the expected reopening"
        if choice == "clear"
        else f"Confirm, keep {expected.human()}"
    )
    assert set(choices) == {
        "✅ Confirm, clear the expected reopening",
        f"Confirm, keep {expected.human()}",
        "Cancel",
    }
    calls = await press(bot, EDITOR, choices[label])
    assert "Saved." in next(c for c in calls if c["method"] == "editMessageText")["text"]
    record = shipki(seeded_engine)
    assert record.status is PassStatus.OPEN
    assert (record.expected_reopening is None) is cleared
    # Undo brings the date back with the status.
    undone = await say(bot, EDITOR, "/undo")
    assert "Undone" in undone["plain"], undone["plain"]
    record = shipki(seeded_engine)
    assert (record.status, record.expected_reopening) != (PassStatus.OPEN, None)
    assert record.expected_reopening == expected


@pytest.mark.usefixtures("team")
async def test_a_pass_with_no_expected_date_opens_with_the_plain_confirm(bot: BotUnderTest) -> None:
    preview = await say(bot, EDITOR, "/set pass nathula status=open")
    assert "clear that date" not in preview["plain"]
    assert set(buttons(preview)) == {"✅ Confirm", "Cancel"}
    # A forged "confirm and clear" on a draft it does not fit is an expired button.
    draft = buttons(preview)["✅ Confirm"].split("|")[2]
    calls = await press(bot, EDITOR, f"tw1|oc|{draft}")
    assert any(c["method"] == "answerCallbackQuery" for c in calls)


def rare_earths(engine: Engine) -> CommodityDeal:
    with Session(engine) as session:
        return session.exec(
            select(CommodityDeal).where(CommodityDeal.slug == "rare-earth-magnets")
        ).one()


@pytest.mark.usefixtures("team")
async def test_editors_set_and_clear_the_dates_that_end_or_change_a_record(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    preview = await say(
        bot,
        EDITOR,
        "/set deal rare-earth until=2027-11-10 until_note=\"China's extended pause of its "
        'wider controls" source=https://example.org/extended',
    )
    assert (
        "China's extended pause of its wider controls runs until 10 Nov 2027 (in about 12 months)."
        in preview["plain"]
    )
    assert "status until: 10 Nov 2026 → 10 Nov 2027" in preview["plain"]
    await press(bot, EDITOR, buttons(preview)["✅ Confirm"])
    record = rare_earths(seeded_engine)
    assert (str(record.status_until), record.until_note) == (
        "2027-11-10",
        "China's extended pause of its wider controls",
    )

    # "none" clears an optional field; the history says "not set".
    preview = await say(bot, EDITOR, "/set deal rare-earth until=none until_note=none")
    assert "status until: 10 Nov 2027 → not set" in preview["plain"]
    await press(bot, EDITOR, buttons(preview)["✅ Confirm"])
    assert (rare_earths(seeded_engine).status_until, rare_earths(seeded_engine).until_note) == (
        None,
        None,
    )

    # A season must end after it starts; nothing is written when it would not.
    refused = await say(bot, EDITOR, "/set pass lipulekh season_end=2026-05")
    assert refused["plain"] == (
        "The season would end (May 2026) before it starts (Jun 2026): set season_start= and "
        "season_end= in order."
    )
    preview = await say(bot, EDITOR, "/set pass lipulekh season_start=2027-06 season_end=2027-09")
    assert "2027 season: Jun–Sep (starts in 7 months)." in preview["plain"]

    preview = await say(bot, EDITOR, "/set flight delhi-guangzhou announced starts=2027-01-15")
    assert "First flight announced for 15 Jan 2027 (in 55 days)." in preview["plain"]


@pytest.mark.usefixtures("team")
async def test_the_guided_edit_clears_a_date_with_a_button(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    start = await say(bot, EDITOR, "/edit")
    step = await press(bot, EDITOR, buttons(start)["Border pass"])
    pick = next(c for c in step if c["method"] == "editMessageText")
    step = await press(bot, EDITOR, buttons(pick)["Shipki La"])
    fields = next(c for c in step if c["method"] == "editMessageText")
    assert {"Expected", "Season start", "Season end"} <= set(buttons(fields))
    step = await press(bot, EDITOR, buttons(fields)["Expected"])
    values = next(c for c in step if c["method"] == "sendMessage")
    assert "or clear it" in values["text"]
    await press(bot, EDITOR, buttons(values)["Clear it"])
    await say(bot, EDITOR, "skip")
    preview = await say(bot, EDITOR, "skip")
    assert "expected reopening: Jun 2026 → not set" in preview["plain"]
    assert "Expected reopening" not in preview["plain"].split("Changes")[0]
    await press(bot, EDITOR, buttons(preview)["✅ Confirm"])
    assert shipki(seeded_engine).expected_reopening is None
