"""Editors in Hindi through the real application: the chat chose Hindi (/language hi), so every
message of the editors' flows is in Hindi; commands, kinds, fields and statuses stay as editors
type them. Each message must parse as Telegram HTML and keep none of the English prose."""

from __future__ import annotations

import json
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlmodel import Session, select

from bot.db import session_scope
from bot.models import BorderPass, NewsItem
from bot.rendering import Renderer
from bot.services import admins
from bot.services.export import build_dataset, write_csv
from bot.telegram.app import build_application
from bot.telegram.handlers.editors.news import NewsHandlers
from bot.telegram.html_entities import parse_html
from bot.telegram.offline import OfflineRequest
from bot.vocabulary import Language, NewsState, PassStatus, Role
from tests.conftest import FAKE_TOKEN, TODAY, BotUnderTest
from tests.factories import callback_update, message_update

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from sqlalchemy import Engine
    from telegram import Update

    from bot.config import Settings

OWNER, EDITOR, ENGLISH_EDITOR, STRANGER = 2001, 2002, 2003, 2004
DEVANAGARI = re.compile("[\u0900-\u097f]")


@pytest.fixture
def team(seeded_engine: Engine) -> None:
    with session_scope(seeded_engine) as session:
        admins.bootstrap_owners(session, [OWNER])
        for editor in (EDITOR, ENGLISH_EDITOR):
            admins.grant(session, by="test", by_user=OWNER, user_id=editor, role=Role.EDITOR)


@pytest.fixture
async def bot(
    make_settings: Callable[..., Settings], seeded_engine: Engine, team: None
) -> AsyncIterator[BotUnderTest]:
    """The application, with the Hindi editor's and owner's chats reading in Hindi."""
    settings = make_settings(telegram_bot_token=FAKE_TOKEN, feed_allow_private_hosts=True)
    request = OfflineRequest()
    application = build_application(
        settings, engine=seeded_engine, request=request, clock=lambda: TODAY
    )
    async with application:
        under_test = BotUnderTest(application, request)
        for user in (OWNER, EDITOR):
            chosen = await say(under_test, user, "/language hi")
            assert "हिन्दी" in chosen["text"]
        yield under_test


def hindi(text: str, *english: str) -> str:
    """`text` as Telegram shows it, after checking that Telegram would take it, that it is in
    Hindi and that none of the `english` phrases (the English template's prose) is left."""
    plain, _ = parse_html(text)
    assert DEVANAGARI.search(plain), plain
    for phrase in english:
        assert phrase not in plain, (phrase, plain)
    return plain


async def say(bot: BotUnderTest, user: int, text: str) -> dict[str, Any]:
    calls = await bot.send(text, user_id=user, chat_id=user)
    (reply,) = [c for c in calls if c["method"] == "sendMessage"]
    return dict(reply)


async def send(bot: BotUnderTest, update: Update) -> dict[str, Any]:
    (reply,) = [c for c in await bot.process(update) if c["method"] == "sendMessage"]
    return dict(reply)


async def press(bot: BotUnderTest, user: int, data: str) -> dict[str, Any]:
    """The message a button press leads to (edited in place or sent)."""
    calls = await bot.process(
        callback_update(bot.application.bot, data, user_id=user, chat_id=user)
    )
    return next(c for c in calls if c["method"] in ("editMessageText", "sendMessage"))


def button(call: dict[str, Any], verb: str, *args: str) -> str:
    """The callback data of the button with this verb (and these last arguments): found by
    what it does, not by its label."""
    markup = call.get("reply_markup")
    data = json.loads(markup) if isinstance(markup, str) else markup or {"inline_keyboard": []}
    found: list[str] = [b["callback_data"] for row in data["inline_keyboard"] for b in row]
    return next(d for d in found if d.split("|")[1] == verb and d.endswith("|".join(("", *args))))


def nathu(engine: Engine) -> BorderPass:
    with Session(engine) as session:
        return session.exec(select(BorderPass).where(BorderPass.slug == "nathu-la")).one()


async def test_set_previews_saves_and_undoes_in_hindi(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    preview = await say(
        bot,
        EDITOR,
        '/set pass nathula reopening_scheduled since=2026-05-01 note="Season opens 1 May" '
        "source=https://example.org/sikkim",
    )
    shown = hindi(
        preview["text"],
        "Preview",
        "readers will see",
        "Changes",
        "Note for the history",
        "Confirm to save",
        "not set",
    )
    assert shown.startswith("पूर्वावलोकन: पाठकों को यह दिखेगा")
    assert "बदलाव\n• status: reopening agreed → reopening scheduled" in shown
    assert "इतिहास के लिए नोट: Season opens 1 May" in shown  # the editor's note as typed
    assert shown.endswith("सहेजने के लिए पुष्टि करें (इतिहास के साथ), या रद्द करें।")
    assert nathu(seeded_engine).status is PassStatus.REOPENING_AGREED

    saved = await press(bot, EDITOR, button(preview, "ok"))
    shown = hindi(saved["text"], "Saved", "Readers now see", "reverts it")
    assert shown.startswith("सहेजा गया। पाठकों को अब यह दिखता है:")
    assert shown.endswith("/undo से इसे 24 घंटे के भीतर वापस लिया जा सकता है।")
    assert nathu(seeded_engine).status is PassStatus.REOPENING_SCHEDULED

    undone = hindi((await say(bot, EDITOR, "/undo"))["text"], "Undone", "back to", "history too")
    assert undone.startswith("वापस लिया गया: Nathu La, status फिर से ")
    assert undone.endswith("यह भी इतिहास में दर्ज है।")
    assert nathu(seeded_engine).status is PassStatus.REOPENING_AGREED
    nothing = hindi((await say(bot, EDITOR, "/undo"))["text"], "You have no edit")
    assert nothing == "पिछले 24 घंटों में आपका कोई संपादन नहीं है जिसे वापस लिया जा सके।"

    # An editor whose chat reads in English, in the same application, reads English.
    english = await say(bot, ENGLISH_EDITOR, "/set pass nathu-la open")
    assert english["text"].startswith("<b>Preview</b>: readers will see")


async def test_guided_edit_steps_in_hindi(bot: BotUnderTest, seeded_engine: Engine) -> None:
    start = await say(bot, EDITOR, "/edit")
    assert hindi(start["text"], "Edit a record", "which kind") == "रिकॉर्ड का संपादन: किस प्रकार का?"
    kinds = await press(bot, EDITOR, button(start, "ek", "pass"))
    assert hindi(kinds["text"], "Which") == "कौन-सा दर्रा?"
    fields = await press(bot, EDITOR, button(kinds, "er", "pass", "nathu-la"))
    assert hindi(fields["text"], "what do you want") == "Nathu La: आप क्या बदलना चाहते हैं?"
    values = await press(bot, EDITOR, button(fields, "ef", "status"))
    assert hindi(values["text"], "Choose the new") == "status का नया मान चुनें:"
    note = await press(bot, EDITOR, button(values, "ev", "reopening_scheduled"))
    assert hindi(note["text"], "short note", "skip") == (
        "इतिहास के लिए एक छोटा नोट लिखें (बदलाव क्यों हुआ), या यह चरण छोड़ दें।"
    )
    note_hi = await say(bot, EDITOR, "Sikkim announced the season")
    assert hindi(note_hi["text"], "Type the same note") == (
        "यही नोट हिन्दी में लिखें, हिन्दी जवाब पढ़ने वालों के लिए, या छोड़ दें (तब उन्हें अंग्रेज़ी नोट"
        " दिखेगा, इस निशान के साथ)।"
    )
    source = await say(bot, EDITOR, "सिक्किम ने सत्र की घोषणा की")
    assert hindi(source["text"], "Type the source", "attributed").startswith(
        "स्रोत लिखें: वेब पता, या किसी स्रोत की key (/sources)।"
    )
    preview = await say(bot, EDITOR, "skip")
    assert "इतिहास के लिए नोट: Sikkim announced the season" in hindi(preview["text"], "Preview")
    cancelled = await press(bot, EDITOR, button(preview, "no"))
    assert hindi(cancelled["text"], "Cancelled") == "रद्द: कुछ नहीं बदला गया।"
    assert nathu(seeded_engine).status is PassStatus.REOPENING_AGREED


@pytest.mark.parametrize(
    ("command", "expected", "english"),
    [
        ("/set", "इस्तेमाल: /set pass|deal|flight NAME", "Usage"),
        (
            "/set pass nathu opne",
            "“opne” किसी pass की स्थिति नहीं है। इनमें से एक लिखें: open,",
            "is not a pass status",
        ),
        ("/set pass nathu opne", "क्या आपका मतलब open है?", "Did you mean"),
        ("/set pass atlantis open", "“atlantis” नाम का कोई pass मुझे नहीं मिला।", "I don't know"),
        (
            "/set pass nathu-la open since=31/02/2026",
            "since=“31/02/2026” तारीख़ नहीं है: 2026-05-01, 2026-05, 2026 या 1 May 2026 लिखें।",
            "is not a date",
        ),
        (
            "/addfigure india_fy FY2025-26 exports=18.1",
            "हर आँकड़े के लिए स्रोत ज़रूरी है: source=URL या source=KEY जोड़ें।",
            "needs a source",
        ),
    ],
)
async def test_what_an_edit_cannot_do_is_said_in_hindi(
    bot: BotUnderTest, command: str, expected: str, english: str
) -> None:
    assert expected in hindi((await say(bot, EDITOR, command))["text"], english)


async def test_a_figure_is_previewed_and_saved_in_hindi(bot: BotUnderTest) -> None:
    preview = await say(
        bot,
        EDITOR,
        "/addfigure india_fy FY2025-26 exports=18.1 imports=120.4 total=150 stage=provisional "
        "source=https://example.org/fy26",
    )
    shown = hindi(preview["text"], "Preview", "Check before confirming", "(yours)", "Confirm only")
    assert shown.startswith("पूर्वावलोकन: FY2025-26 (भारत का वित्त वर्ष)")
    assert "पुष्टि से पहले जाँचें: आँकड़े आपस में मेल नहीं खाते" in shown
    assert "• exports 18.1 (आपका दिया) उस 29.6 से मेल नहीं खाता जो imports और total से निकलता है।" in (
        shown
    )
    saved = await press(bot, EDITOR, button(preview, "ok"))
    assert hindi(saved["text"], "Saved", "See it with").startswith("सहेजा गया: FY2025-26")


def passes_csv(engine: Engine) -> str:
    with Session(engine) as session:
        folder = write_csv(build_dataset(session), Path(tempfile.mkdtemp()))[0].parent
    return (folder / "passes.csv").read_text()


async def test_an_import_with_errors_and_a_good_import_plan_in_hindi(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    lines = passes_csv(seeded_engine).splitlines()
    lines[3] = lines[3].replace("reopening_agreed", "opne")
    bot.request.files_to_serve["broken.csv"] = "\n".join(lines).encode()
    update = message_update(
        bot.application.bot, "", user_id=EDITOR, chat_id=EDITOR, document="broken.csv"
    )
    errors = hindi((await send(bot, update))["text"], "was not imported", "Fix these")
    assert errors.startswith("broken.csv का आयात नहीं हुआ: कुछ नहीं बदला गया।")
    assert errors.endswith("इन्हें ठीक करके फ़ाइल फिर से भेजें।")

    good = passes_csv(seeded_engine).replace("reopening_scheduled", "open", 1)
    bot.request.files_to_serve["passes.csv"] = good.encode()
    update = message_update(
        bot.application.bot, "", user_id=EDITOR, chat_id=EDITOR, document="passes.csv"
    )
    plan = await send(bot, update)
    shown = hindi(plan["text"], "what applying it would change", "to change in", "confirm")
    assert shown.startswith("passes.csv का आयात: लागू करने पर क्या बदलेगा")
    assert "लागू करने पर: 1 रिकॉर्ड के 1 फ़ील्ड में बदलाव, 0 नई पंक्ति, 1 इतिहास पंक्ति;" in shown
    assert "पुष्टि से पहले कुछ नहीं लिखा जाता" in shown
    applied = await press(bot, EDITOR, button(plan, "ok"))
    assert hindi(applied["text"], "Imported", "in one transaction").startswith(
        "passes.csv का आयात हो गया: 1 रिकॉर्ड के 1 फ़ील्ड में बदलाव"
    )


async def test_changes_feeds_and_roles_in_hindi(bot: BotUnderTest) -> None:
    preview = await say(bot, EDITOR, "/set pass nathu-la open since=2026-11-20")
    await press(bot, EDITOR, button(preview, "ok"))
    changes = hindi((await say(bot, EDITOR, "/changes"))["text"], "Recent changes", "UTC since")
    assert changes.startswith("हाल के बदलाव: 14 नवंबर 2026 09:00 UTC से\n")
    # Stored values read in Hindi (the answers' status words); kinds, keys and fields as typed.
    assert "• 21 नवंबर 09:00: pass nathu-la, status फिर खोलने पर सहमति → खुला" in changes
    quiet = hindi((await say(bot, EDITOR, "/changes 2026-01-01"))["text"], "Recent changes")
    assert "हाल के बदलाव: 1 जनवरी 2026 00:00 UTC से" in quiet

    assert hindi((await say(bot, EDITOR, "/feeds"))["text"], "News feeds", "polling is") == (
        "ख़बरों की फ़ीड (0): पोलिंग बंद है (FEED_POLL_SECONDS=0)\nअभी कोई फ़ीड नहीं है।"
    )
    added = await say(bot, OWNER, "/addfeed http://127.0.0.1:9/x.xml Local mirror")
    assert hindi(added["text"], "Added", "polling round").startswith("Local mirror जोड़ी गई (id ")
    listing = hindi((await say(bot, OWNER, "/feeds"))["text"], "Not polled", "Add one")
    assert "⚪ Local mirror" in listing
    assert "अभी तक पढ़ी नहीं गई।" in listing
    assert listing.endswith("हटाने के लिए: /removefeed URL, id या नाम।")
    removed = await say(bot, OWNER, "/removefeed local mirror")
    assert hindi(removed["text"], "Removed", "stays").endswith("इससे आई ख़बरें बनी रहेंगी।")
    unknown = await say(bot, OWNER, "/removefeed local mirror")
    assert hindi(unknown["text"], "No feed matches") == (
        "“local mirror” से कोई फ़ीड मेल नहीं खाती। सारी फ़ीड /feeds पर हैं।"
    )

    granted = hindi((await say(bot, OWNER, "/grant 3001 editor"))["text"], "User", "is now")
    assert granted == "उपयोगकर्ता 3001 अब editor है।"  # the role as owners type it
    team = hindi((await say(bot, OWNER, "/admins"))["text"], "Owners and editors", "added by")
    assert re.search(rf"• 3001: editor, \d+ \S+ \d{{4}} से \({OWNER} ने जोड़ा\)", team), team


def add_item(engine: Engine, title: str) -> int:
    with session_scope(engine) as session:
        item = NewsItem(
            guid=title,
            url="https://news.example/nathu",
            title=title,
            summary="",
            publisher="The Example Times",
            published_at=datetime(2026, 11, 30, 8, 0, tzinfo=UTC),
            content_hash="0" * 32,
            topics=["passes"],
            records=["pass:nathu-la"],
            why="Nathu La, trade, India, China",
            state=NewsState.NEW,
        )
        session.add(item)
        session.flush()
        assert item.id is not None
        return item.id


def news_handlers(bot: BotUnderTest) -> NewsHandlers:
    found: NewsHandlers = next(
        handler.callback.__self__
        for handler in bot.application.handlers[0]
        if isinstance(getattr(handler.callback, "__self__", None), NewsHandlers)
    )
    return found


async def test_news_review_reaches_each_reviewer_in_their_language(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    item_id = add_item(seeded_engine, "Nathu La trade to resume")
    seen = len(bot.request.calls)
    assert await news_handlers(bot).send_review_batch(bot.application.bot) == 1
    sent = {
        c.params["chat_id"]: c.params["text"]
        for c in bot.request.calls[seen:]
        if c.method == "sendMessage"
    }
    assert set(sent) == {OWNER, EDITOR, ENGLISH_EDITOR}
    shown = hindi(sent[EDITOR], "News to review", "Matches", "because", "Publish sends")
    assert shown.startswith("📰 समीक्षा के लिए ख़बरें (1)\n\n1. Nathu La trade to resume\n")
    assert "The Example Times · 30 नवंबर 2026\nमिलान: Nathu La (आधार: Nathu La, trade" in shown
    assert shown.endswith("ये संदेश बंद करने के लिए: /reviews off")
    assert sent[ENGLISH_EDITOR].startswith("<b>📰 News to review</b> (1)")

    waiting = await say(bot, EDITOR, "/review")
    published = await press(bot, EDITOR, button(waiting, "np", str(item_id)))
    assert f"✅ उपयोगकर्ता {EDITOR} ने प्रकाशित की" in hindi(published["text"], "Published by")
    calls = await bot.process(
        callback_update(bot.application.bot, f"tw1|ns|{item_id}", user_id=EDITOR, chat_id=EDITOR)
    )
    (alert,) = [c for c in calls if c["method"] == "answerCallbackQuery"]
    assert alert["text"] == f"उपयोगकर्ता {EDITOR} ने 21 नवंबर 2026 09:00 UTC पर प्रकाशित की।"
    with Session(seeded_engine) as session:
        assert session.get(NewsItem, item_id).state is NewsState.PUBLISHED  # type: ignore[union-attr]

    assert await news_handlers(bot).send_review_batch(bot.application.bot) == 0
    none_left = hindi((await say(bot, EDITOR, "/review"))["text"], "No news waiting")
    assert none_left.startswith("समीक्षा के लिए कोई ख़बर बाक़ी नहीं है।")
    off = hindi((await say(bot, EDITOR, "/reviews off"))["text"], "no longer")
    assert off.startswith("अब आपको समीक्षा के लिए ख़बरें नहीं भेजी जाएँगी।")


async def test_refusals_in_hindi_for_a_user_whose_telegram_is_in_hindi(bot: BotUnderTest) -> None:
    stranger = message_update(
        bot.application.bot,
        "/set pass nathu-la open",
        user_id=STRANGER,
        chat_id=STRANGER,
        language_code="hi",
    )
    refused = await send(bot, stranger)
    assert hindi(refused["text"], "Sorry", "not allowed") == "माफ़ कीजिए, इसकी अनुमति नहीं है।"
    in_group = message_update(
        bot.application.bot,
        "/edit",
        user_id=STRANGER,
        chat_id=-5001,
        chat_type="group",
        language_code="hi-IN",
    )
    refused = await send(bot, in_group)
    assert hindi(refused["text"], "private chat") == "संपादन सिर्फ़ मेरे साथ निजी चैट में होता है।"
    calls = await bot.process(
        callback_update(bot.application.bot, "tw1|ok|000000000000", user_id=EDITOR, chat_id=EDITOR)
    )
    (expired,) = [c for c in calls if c["method"] == "answerCallbackQuery"]
    assert hindi(expired["text"], "expired", "Start again") == (
        "इस संपादन का समय निकल गया। /edit या /set से फिर शुरू करें।"
    )


async def test_the_command_menus_are_registered_in_hindi(
    make_settings: Callable[..., Settings], seeded_engine: Engine, team: None
) -> None:
    request = OfflineRequest()
    application = build_application(
        make_settings(telegram_bot_token=FAKE_TOKEN), engine=seeded_engine, request=request
    )
    async with application:
        assert application.post_init is not None
        await application.post_init(application)
    menus: dict[tuple[str | None, str], dict[str, str]] = {}
    for call in request.sent("setMyCommands"):
        scope = call["scope"] if isinstance(call["scope"], dict) else json.loads(call["scope"])
        commands = call["commands"]
        commands = json.loads(commands) if isinstance(commands, str) else commands
        where = f"chat {scope['chat_id']}" if scope["type"] == "chat" else scope["type"]
        menus[call.get("language_code"), where] = {c["command"]: c["description"] for c in commands}
    english, hindi_menu = menus[None, "all_private_chats"], menus["hi", "all_private_chats"]
    assert set(hindi_menu) == set(english)
    assert english["start"] == "What Trade Watch covers"
    assert hindi_menu["start"] == "Trade Watch किन बातों पर नज़र रखता है"
    assert hindi_menu["deficit"] == "व्यापार घाटा: /deficit [period] [series]"
    assert hindi_menu["language"] == "हिन्दी या अंग्रेज़ी: /language en"
    owner_menu = menus["hi", f"chat {OWNER}"]
    assert owner_menu["set"] == "एक पंक्ति में संपादन: /set pass NAME STATUS ..."
    assert owner_menu["grant"] == "किसी उपयोगकर्ता को भूमिका दें"
    assert "grant" not in menus["hi", f"chat {EDITOR}"]  # owners' commands for owners only
    for (language, _), menu in menus.items():
        for command, description in menu.items():
            assert 1 <= len(description) <= 256, (command, description)  # Telegram's limits
            if language == "hi":
                assert DEVANAGARI.search(description), (command, description)


def test_operators_error_posts_render_in_hindi() -> None:
    text = Renderer().render(
        "operator_error.html.j2",
        language=Language.HI,
        level="ERROR",
        logger="bot.telegram",
        request_id="r-1",
        message="Update failed",
        exception_type="ValueError",
        exception_message="bad <value>",
        traceback="Traceback (most recent call last):",
        cut=False,
        host="tw-1",
        pid=42,
        suppressed=3,
    )
    shown = hindi(text, "request", "Host", "similar errors", "not posted")
    assert shown.startswith("🚨 bot.telegram में ERROR, अनुरोध r-1\nUpdate failed")
    assert "होस्ट tw-1, pid 42\nपिछले संदेश के बाद से ऐसी 3 और त्रुटियाँ (भेजी नहीं गईं)।" in shown
