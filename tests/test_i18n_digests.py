"""Digests, alerts and subscribing in Hindi.

Built from the real seeded dataset and rendered as readers get them: the digest and alerts in
each chat's language (rendered once per language and content, whatever the number of chats),
the subscription pages in the language of the update, and, end to end, a Hindi reader who
subscribes over the Bot API emulator, gets a Hindi digest and alert, then switches to English.

Records' own texts (names, notes, seasons) and the answer macros shared with /deficit and the
cards are translated elsewhere; the checks for English left over name this area's sentences.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from bot import db
from bot.config import Settings
from bot.i18n import active_language, using_language
from bot.models import ChatLanguage, Subscriber
from bot.partial_date import PartialDate
from bot.rendering import MAX_MESSAGE_LENGTH, Renderer, utf16_length
from bot.services import languages
from bot.services.digest import build_alert, build_digest, render_alert, render_digest
from bot.telegram.answer_cache import AnswerCache
from bot.telegram.broadcast import Broadcaster, RunReport, make_broadcast_bot
from bot.telegram.callbacks import encode
from bot.telegram.html_entities import parse_html
from bot.telegram.plain import html_to_text
from bot.telegram.services import BotServices
from bot.vocabulary import Frequency, Language, RecordType, Topic
from devtools.botapi import BotApiEmulator
from tests.bot_process import bot_environment, bot_running
from tests.conftest import FAKE_TOKEN
from tests.factories import callback_update
from tests.helpers_delivery import wait_until
from tests.test_delivery import MONDAY_0900_IST, add_subscribers, record_change
from tests.test_digest import ALL_TOPICS, FRESHNESS, add_change, nathu_la_edit, section
from tests.test_e2e import buttons as buttons_of
from tests.test_subscriptions import EDITOR as CHANNEL_EDITOR
from tests.test_subscriptions import (
    buttons,
    channel,  # noqa: F401 (a fixture)
    editors,  # noqa: F401 (a fixture)
    last_sent_message,
    markup,
    only,
    texts,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from sqlalchemy import Engine

    from tests.conftest import BotUnderTest

RENDERER = Renderer()
HINDI_TITLE = "आपका साप्ताहिक Trade Watch डाइजेस्ट"
ENGLISH_TITLE = "Your weekly Trade Watch digest"
# What this area's templates say in English: none of it may be left in a Hindi digest.
DIGEST_ENGLISH = (
    "Your weekly",
    "Trade Watch digest",
    "India's trade deficit",
    "fiscal year",
    "Chinese customs",
    "calendar year",
    "USD 99",
    "USD 116",
    " bn,",
    "so far",
    "never compared",
    " as of ",
    "Recent changes",
    "No changes",
    "Commodity deals",
    "China → India",
    "India → China",
    "Border trade passes",
    "Direct flights",
    "Upcoming dates",
    "Sources\n",
    "derived from",
    "expected to reopen; season",
    "trading season",
    "flights to start",
    "no update since",
    "may have been revised",
)


def telegram_ready(parts: list[str]) -> list[str]:
    """The messages, after checking each fits Telegram (UTF-16 units) and is valid HTML."""
    assert parts
    for part in parts:
        assert 0 < utf16_length(part) <= MAX_MESSAGE_LENGTH
        parse_html(part)  # raises on a tag Telegram refuses or an unbalanced one
    return parts


def hindi_digest(
    engine: Engine, *, since: datetime | None = None, topics: frozenset[Topic] = ALL_TOPICS
) -> list[str]:
    with db.session_scope(engine) as session, using_language(Language.HI):
        digest = build_digest(
            session, topics=topics, since=since, freshness=FRESHNESS, frequency=Frequency.WEEKLY
        )
        return telegram_ready(render_digest(RENDERER, digest))


def plain(parts: list[str]) -> str:
    return "\n\n".join(html_to_text(part) for part in parts)


def hindi_alert(engine: Engine, after: int, up_to: int) -> str:
    with db.session_scope(engine) as session, using_language(Language.HI):
        alert = build_alert(
            session, topics=ALL_TOPICS, after_change_id=after, up_to_change_id=up_to
        )
        assert alert is not None
        return "\n".join(html_to_text(p) for p in telegram_ready(render_alert(RENDERER, alert)))


# --- The digest and alerts in Hindi -----------------------------------------------------------


def test_the_hindi_digest_states_figures_dates_and_sources_in_hindi(
    seeded_engine: Engine,
) -> None:
    text = plain(hindi_digest(seeded_engine))
    assert text.startswith(f"📬 {HINDI_TITLE}, 1 अप्रैल 2026")
    india, partial, china = section(text, "चीन के साथ भारत का व्यापार घाटा").splitlines()[1:4]
    assert india.startswith(
        "• FY2024-25 (भारत का वित्त वर्ष, अनंतिम): 99.2 अरब डॉलर, FY2023-24 (85.07 अरब डॉलर) "
        "के मुक़ाबले +14.13* अरब डॉलर (+16.6%*)। NDTV (PTI) (https://www.ndtv.com/"
    )
    assert india.endswith("· 17 अप्रैल 2025 की स्थिति ⏳ अनंतिम: तब से आंकड़े संशोधित हो चुके हो सकते हैं")
    assert partial.startswith("• अप्रैल 2025 – जनवरी 2026 (FY2025-26 में अब तक, अनंतिम): ")
    assert "अब तक 92.3 अरब डॉलर; अधूरी अवधि की तुलना कभी पूरे साल से नहीं की जाती।" in partial
    assert china.startswith(
        "• 2025 (चीनी सीमा शुल्क विभाग, कैलेंडर वर्ष, अनंतिम): 116.12 अरब डॉलर; "
        "तुलना के लिए 2024 का घाटा दर्ज नहीं है।"
    )
    assert "हाल के बदलाव\nअभी तक कोई बदलाव दर्ज नहीं है।" in text

    trade = section(text, "व्यापार (अरब डॉलर)")
    assert "आयात 113.45 (+11.5%) · निर्यात 14.25 (−14.5%) · कुल व्यापार 127.7* (+7.9%*)।" in trade
    assert (
        "* बताए गए आंकड़ों से बॉट ने निकाला (घाटा = आयात − निर्यात; कुल = आयात + निर्यात; "
        "बदलाव और उसकी दर दोनों अवधियों के मूल्यों से)।"
    ) in trade
    deals = section(text, "वस्तुओं के सौदे और प्रतिबंध")
    assert "(चीन → भारत), 15 अक्टूबर 2025 से। Business Standard (Bloomberg)" in deals
    assert "(भारत → चीन), अगस्त 2025 से। GINC" in deals
    passes = section(text, "सीमा व्यापार के दर्रे")
    assert "15 दिसंबर 2025 से" in passes  # Shipki La's status, with its Hindi date
    assert "· 15 दिसंबर 2025 की स्थिति" in passes
    assert "20 अगस्त 2025 की स्थिति ⏳ 15 सितंबर 2025 के बाद कोई अपडेट नहीं" in passes
    flights = section(text, "सीधी उड़ानें")
    assert "• Kolkata–Guangzhou (IndiGo 6E1703): " in flights
    assert "26 अक्टूबर 2025 से चालू" in flights
    upcoming = section(text, "आने वाली तारीख़ें").splitlines()
    assert upcoming[1].startswith("• जून 2026 (")
    assert "Lipulekh के फिर खुलने की उम्मीद; व्यापार सत्र: " in upcoming[1]
    assert upcoming[3].startswith("• 10 नवंबर 2026 (")
    assert " ख़त्म। Business Standard" in upcoming[3]  # the rare-earth pause ends
    sources = section(text, "स्रोत\n")
    assert "• The Tribune (PTI): Exports to China rise 9.7%" in sources  # titles as published
    for english in DIGEST_ENGLISH:
        assert english not in text, english


def test_a_hindi_digest_says_what_changed_since_the_last_one(edited_engine: Engine) -> None:
    edit = nathu_la_edit(edited_engine)
    text = plain(hindi_digest(edited_engine, since=edit.at - timedelta(seconds=1)))
    since = (edit.at - timedelta(seconds=1)).replace(tzinfo=UTC)
    heading = f"आपके पिछले डाइजेस्ट के बाद क्या बदला ({since.day} "
    changes = section(text, heading)
    assert changes.splitlines()[0].endswith(f"{since:%Y}, {since:%H:%M} UTC)")
    assert "• Nathu La (सीमा दर्रा): स्थिति: " in changes
    after = plain(hindi_digest(edited_engine, since=edit.at))
    assert "आपके पिछले डाइजेस्ट के बाद कोई बदलाव नहीं हुआ।" in after


def test_a_long_hindi_digest_is_split_within_telegrams_limit(seeded_engine: Engine) -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    notes = [f"Reason {n}: " + "details of the change " * 70 for n in range(12)]
    for n, note in enumerate(notes):
        add_change(seeded_engine, note=note, at=start + timedelta(minutes=n))
    with db.session_scope(seeded_engine) as session:
        digest = build_digest(
            session, topics=ALL_TOPICS, since=None, freshness=FRESHNESS, frequency=Frequency.WEEKLY
        )
        whole = RENDERER.render("digest.html.j2", language=Language.HI, digest=digest)
        with using_language(Language.HI):
            parts = telegram_ready(render_digest(RENDERER, digest))
    assert utf16_length(whole) > 3 * MAX_MESSAGE_LENGTH
    assert len(parts) >= 4
    # Every line is in exactly one part, whole and in order.
    lines = [line for line in whole.splitlines() if line]
    assert [line for part in parts for line in part.splitlines() if line] == lines
    text = plain(parts)
    assert text.count("• Urea (वस्तु सौदा): स्थिति: ") == 10
    assert "…और 2 बदलाव: /changes" in text


def test_hindi_alerts_name_the_record_and_the_figures_in_hindi(edited_engine: Engine) -> None:
    edit = nathu_la_edit(edited_engine)
    assert edit.id is not None
    lines = hindi_alert(edited_engine, edit.id - 1, edit.id).splitlines()
    assert lines[:3] == ["🔔 Trade Watch अलर्ट", "", "Nathu La (सीमा दर्रा)"]
    assert re.fullmatch(r"• स्थिति: .+ → .+।.*", lines[3]), lines[3]

    first = add_change(
        edited_engine,
        record_type=RecordType.FIGURE,
        record_key="china_cy:2025",
        field="deficit",
        old_value="116.12",
        new_value="116.2",
        occurred_on=PartialDate(2025, 12, 31),
    )
    last = add_change(
        edited_engine,
        record_type=RecordType.SOURCE,
        record_key="lokmat-times-2025-10-27",
        field="url",
        old_value=None,
        new_value="https://example.org/a",
    )
    assert hindi_alert(edited_engine, first - 1, last) == (
        "🔔 Trade Watch अलर्ट\n\n"
        "व्यापार के आंकड़े 2025 (चीनी सीमा शुल्क विभाग) (व्यापार के आंकड़े)\n"
        "• व्यापार घाटा: 116.12 अरब डॉलर → 116.2 अरब डॉलर (31 दिसंबर 2025)।\n\n"
        "स्रोत “'Warm welcome,' says China as direct flight from Kolkata lands in Guangzhou…” "
        "(स्रोत)\n"
        "• लिंक: https://example.org/a।"
    )
    many = [add_change(edited_engine, note=f"Change number {n}.") for n in range(25)]
    long = hindi_alert(edited_engine, many[0] - 1, many[-1])
    assert long.count("• स्थिति: ") == 20
    assert long.endswith("…और 5 बदलाव: /changes")


# --- Delivery: each chat's language, rendered once per language -------------------------------


class CountingRenderer(Renderer):
    """Counts each template rendered, by the language it was rendered in."""

    def __init__(self) -> None:
        super().__init__()
        self.rendered: Counter[tuple[str, Language]] = Counter()

    def render(self, template: str, /, language: Language | None = None, **context: Any) -> str:
        self.rendered[(template, language or active_language())] += 1
        return super().render(template, language=language, **context)


@pytest.fixture
def emulator() -> Iterator[BotApiEmulator]:
    with BotApiEmulator() as running:
        yield running


async def send_due(services: BotServices) -> RunReport:
    bot = make_broadcast_bot(services)
    async with bot:
        return await Broadcaster(services, bot).run_due()


def received(emulator: BotApiEmulator, chat: int) -> str:
    return "\n".join(html_to_text(message.text or "") for message in emulator.messages(chat))


async def test_each_chat_gets_its_language_rendered_once_per_language(
    make_settings: Callable[..., Settings], seeded_engine: Engine, emulator: BotApiEmulator
) -> None:
    # Same topics, same schedule: only the language tells their digests apart.
    hindi = add_subscribers(seeded_engine, 2, first_chat=100)
    english = add_subscribers(seeded_engine, 2, first_chat=200)
    with db.session_scope(seeded_engine) as session:
        for chat in hindi:
            languages.choose(session, chat_id=chat, language=Language.HI, now=MONDAY_0900_IST)
        # One English chat chose English, the other never chose: English either way.
        languages.choose(session, chat_id=english[0], language=Language.EN, now=MONDAY_0900_IST)
    settings = make_settings(
        telegram_bot_token=FAKE_TOKEN,
        telegram_api_base_url=emulator.base_url,
        broadcast_rate=0,
        alert_batch_seconds=0,
    )
    now = MONDAY_0900_IST
    renderer = CountingRenderer()
    services = BotServices(settings, seeded_engine, renderer, AnswerCache(0), clock=lambda: now)

    report = await send_due(services)  # the digests; the alert cursor starts here
    assert report.delivered == 4
    assert renderer.rendered["digest.html.j2", Language.HI] == 1
    assert renderer.rendered["digest.html.j2", Language.EN] == 1
    for chat in hindi:
        digest = received(emulator, chat)
        assert digest.startswith(f"📬 {HINDI_TITLE}, 23 नवंबर 2026")
        assert "116.12 अरब डॉलर" in digest
        assert ENGLISH_TITLE not in digest
    for chat in english:
        digest = received(emulator, chat)
        assert digest.startswith(f"📬 {ENGLISH_TITLE}, 23 Nov 2026")
        assert "USD 116.12 bn" in digest
        assert "डाइजेस्ट" not in digest

    record_change(seeded_engine, at=now)
    now += timedelta(seconds=10)
    assert (await send_due(services)).alerts == 4
    assert renderer.rendered["alert.html.j2", Language.HI] == 1
    assert renderer.rendered["alert.html.j2", Language.EN] == 1
    for chat in hindi:
        alert = html_to_text(emulator.messages(chat)[-1].text or "")
        assert alert.startswith("🔔 Trade Watch अलर्ट\n\nNathu La (सीमा दर्रा)\n• स्थिति: ")
    for chat in english:
        alert = html_to_text(emulator.messages(chat)[-1].text or "")
        assert alert.startswith("🔔 Trade Watch alert\n\nNathu La (border pass)\n• status ")


# --- Subscribing in Hindi ---------------------------------------------------------------------

ASHA = 555
# Words a Hindi subscription text may hold in Latin letters: names, commands, time zones.
LATIN_ALLOWED = {"Trade", "Watch", "IANA", "Lisbon"}


def english_words(text: str) -> set[str]:
    """Latin-letter words left in `text`, aside from links, commands, @names, time zones
    (Asia/Kolkata) and what the reader typed or a button says (quoted: “Kolk”)."""
    text = re.sub(r"https?://\S+|“[^”]*”|(?:^|(?<=\s))[/@][\w@]+|\w+/\w+", " ", text)
    return set(re.findall(r"[A-Za-z][A-Za-z']{2,}", text)) - LATIN_ALLOWED


async def hindi(bot: BotUnderTest, text: str, **kwargs: Any) -> list[dict[str, Any]]:
    """`text` from a reader whose Telegram speaks Hindi."""
    return await bot.send(text, language_code="hi", **kwargs)


async def press_hindi(bot: BotUnderTest, verb: str, *args: str | int) -> list[dict[str, Any]]:
    """A press on the settings button `encode(verb, *args)`, by a reader whose Telegram speaks
    Hindi (the labels are another matter: the button is named by what it does)."""
    update = callback_update(bot.application.bot, encode(verb, *args), language_code="hi")
    return await bot.process(update)


def chat_language(engine: Engine, chat_id: int = ASHA) -> Language | None:
    with db.session_scope(engine) as session:
        row = session.get(ChatLanguage, chat_id)
        return None if row is None else row.language


SETTINGS_PAGE = (
    "⚙️ डाइजेस्ट और अलर्ट की सेटिंग\n\n"
    "डाइजेस्ट: साप्ताहिक, हर सोमवार 09:00 बजे (Asia/Kolkata)\n"
    "अगला डाइजेस्ट: सोमवार, 23 नवंबर को 09:00 बजे\n"
    "विषय: व्यापार के आंकड़े, सौदे, सीमा दर्रे और उड़ानें\n"
    "तुरंत अलर्ट: चालू, रात 22:00 से सुबह 07:00 तक रोककर\n"
    "डाइजेस्ट में चार्ट: बंद\n"
    "डाइजेस्ट में ख़बरें: संपादकों की प्रकाशित ख़बरें\n"
    "भाषा: हिन्दी · बदलने के लिए /language भेजें\n\n"
    "बदलने के लिए बटन दबाएँ। सब कुछ रोकने के लिए /unsubscribe भेजें।"
)


async def test_subscribing_and_the_settings_page_in_hindi(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    confirmation, *_ = texts(await hindi(bot, "/subscribe"))
    assert confirmation == (
        "✅ सदस्यता ले ली गई। आपका पहला साप्ताहिक डाइजेस्ट सोमवार, 23 नवंबर को 09:00 बजे "
        "(Asia/Kolkata) आएगा। विषय: व्यापार के आंकड़े, सौदे, सीमा दर्रे और उड़ानें; इनमें से कुछ "
        "भी बदलने पर आपको तुरंत अलर्ट मिलेगा (रात 22:00 से सुबह 07:00 तक रोककर)।\n\n"
        "दिन, समय, समय क्षेत्र या विषय बदलने के लिए /settings भेजें; बंद करने के लिए "
        "/unsubscribe।\n\n"
        "ताज़ा आंकड़े:"
    )
    # Its digests go out in the language it subscribed in.
    assert chat_language(seeded_engine) is Language.HI

    page = only(await hindi(bot, "/settings"), "sendMessage")
    assert page["plain"] == SETTINGS_PAGE
    day = only(await press_hindi(bot, "cfg", ASHA, "day"), "editMessageText")
    assert day["plain"].endswith("\n\nअपने साप्ताहिक डाइजेस्ट का दिन चुनें।")
    hour = only(await press_hindi(bot, "cfg", ASHA, "hour"), "editMessageText")
    assert hour["plain"].endswith("\n\nअपनी घड़ी (Asia/Kolkata) के हिसाब से डाइजेस्ट का समय चुनें।")
    zones = only(await press_hindi(bot, "cfg", ASHA, "timezone"), "editMessageText")
    assert "\n\nअपना समय क्षेत्र चुनें, या कोई और लिखने के लिए “" in zones["plain"]
    daily = only(await press_hindi(bot, "opt", ASHA, "frequency", "daily"), "editMessageText")
    assert "डाइजेस्ट: रोज़ 09:00 बजे (Asia/Kolkata)\nअगला डाइजेस्ट: रविवार, 22 नवंबर" in daily["plain"]
    done = only(await press_hindi(bot, "cfg", ASHA, "done"), "editMessageText")
    assert done["plain"].startswith("✅ सेटिंग सहेज ली गई\n\n")
    for shown in (page, day, hour, zones, daily, done):
        assert english_words(shown["plain"]) == set(), shown["plain"]

    for topic in ("trade", "deals", "passes"):
        await press_hindi(bot, "opt", ASHA, "topic", topic)
    refused = only(await press_hindi(bot, "opt", ASHA, "topic", "flights"), "answerCallbackQuery")
    assert refused["text"].startswith("कम से कम एक विषय रखें: कोई विषय न हो तो आपका डाइजेस्ट")

    (again,) = texts(await hindi(bot, "/subscribe"))
    assert again.startswith(
        "इस चैट की सदस्यता पहले से है। आपका अगला दैनिक डाइजेस्ट रविवार, 22 नवंबर को 09:00 बजे"
    )
    (stopped,) = texts(await hindi(bot, "/unsubscribe"))
    assert stopped.startswith("सदस्यता बंद: अब कोई डाइजेस्ट या अलर्ट नहीं आएगा।")
    (nothing,) = texts(await hindi(bot, "/unsubscribe"))
    assert nothing.startswith("इस चैट ने सदस्यता नहीं ली है, इसलिए बंद करने को कुछ नहीं है।")
    welcome, *_ = texts(await hindi(bot, "/subscribe"))
    assert welcome.startswith("✅ फिर से स्वागत है। इस चैट की सदस्यता पुरानी सेटिंग के साथ फिर शुरू हो गई है।")
    for text in (confirmation, again, stopped, nothing, welcome):
        assert english_words(text) == set(), text


async def test_the_time_zone_prompt_and_its_errors_in_hindi(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    await hindi(bot, "/subscribe")
    prompt = only(await hindi(bot, "/timezone"), "sendMessage")
    assert prompt["plain"].endswith(
        "आपके डाइजेस्ट किस समय क्षेत्र के हिसाब से भेजे जाएँ? इस संदेश के जवाब में "
        "Europe/Paris या America/Chicago जैसा IANA नाम लिखें, या Lisbon जैसा कोई शहर। "
        "अभी: Asia/Kolkata।"
    )
    assert markup(prompt)["force_reply"] is True

    calls = await hindi(bot, "Kolk", reply_to=last_sent_message(bot))
    again = only(calls, "sendMessage")  # asked again, and not answered as a question
    assert again["plain"].endswith(
        "मुझे “Kolk” नाम का कोई समय क्षेत्र नहीं मालूम। क्या आपका मतलब Asia/Kolkata था? "
        "Europe/Berlin, Asia/Kolkata या America/New_York जैसा IANA नाम लिखें, या Lisbon जैसा "
        "कोई शहर। दोबारा कोशिश करने के लिए इस संदेश का जवाब दें। अभी: Asia/Kolkata।"
    )
    wrong = only(await hindi(bot, "/timezone Berlinn"), "sendMessage")
    assert wrong["plain"].startswith(
        "मुझे “Berlinn” नाम का कोई समय क्षेत्र नहीं मालूम। क्या आपका मतलब Europe/Berlin था?"
    )
    assert "Europe/Berlin" in buttons(wrong)  # a zone's name is the same in every language
    (done,) = texts(await hindi(bot, "/timezone new york"))
    assert done.startswith("🌐 समय क्षेत्र अब America/New_York है।\n\n⚙️ डाइजेस्ट और अलर्ट की सेटिंग")
    assert "अगला डाइजेस्ट: सोमवार, 23 नवंबर को 09:00 बजे" in done
    for text in (prompt["plain"], again["plain"], wrong["plain"], done):
        assert english_words(text) == set(), text


async def test_a_hindi_reader_subscribes_with_the_button_and_keeps_hindi(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    offer = only(await hindi(bot, "/settings"), "sendMessage")
    assert offer["plain"].startswith("इस चैट ने सदस्यता नहीं ली है। सदस्यता लेने पर आपको")
    [subscribe] = buttons(offer).values()
    shown = only(
        await bot.process(callback_update(bot.application.bot, subscribe, language_code="hi")),
        "editMessageText",
    )
    assert shown["plain"] == SETTINGS_PAGE
    assert chat_language(seeded_engine) is Language.HI


async def test_the_settings_page_names_the_chats_language_in_english_too(
    bot: BotUnderTest,
) -> None:
    await bot.send("/subscribe")
    page = only(await bot.send("/settings"), "sendMessage")
    english = "News in digests: published by editors\nLanguage: English · change with /language\n"
    assert english in page["plain"]


@pytest.mark.usefixtures("editors", "channel")
async def test_a_channels_page_is_in_the_editors_language_and_names_the_channels(
    bot: BotUnderTest,
) -> None:
    as_editor: dict[str, Any] = {"chat_id": CHANNEL_EDITOR, "user_id": CHANNEL_EDITOR}
    await bot.send("/subscribe_channel @tradewatchnews", **as_editor)
    await bot.send("/language @tradewatchnews hi", **as_editor)
    page = only(await bot.send("/settings @tradewatchnews", **as_editor), "sendMessage")
    assert page["plain"].startswith("⚙️ Digest and alert settings for Trade Watch News\n")
    assert "\nLanguage: Hindi · change with /language and the channel's @name\n" in page["plain"]
    page = only(
        await bot.send("/settings @tradewatchnews", language_code="hi", **as_editor),
        "sendMessage",
    )
    assert page["plain"].startswith("⚙️ Trade Watch News के लिए डाइजेस्ट और अलर्ट की सेटिंग\n")
    assert "\nभाषा: हिन्दी · बदलने के लिए /language और चैनल का @नाम भेजें\n" in page["plain"]
    assert page["plain"].endswith("सब कुछ रोकने के लिए /unsubscribe_channel भेजें।")


# --- End to end: a Hindi reader over the Bot API emulator --------------------------------------

READER, EDITOR = 6101, 6102


@pytest.mark.slow  # a real bot process, and the digest command run twice beside it
def test_a_hindi_reader_subscribes_gets_hindi_digest_and_alert_then_switches_to_english(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    database_url = f"sqlite:///{tmp_path / 'hindi.sqlite3'}"
    environment = bot_environment(
        tmp_path,
        emulator,
        database_url,
        unset=("ALERT", "BROADCAST"),
        ADMIN_IDS=str(EDITOR),
        ALERT_BATCH_SECONDS="0",
        BROADCAST_RATE="0",
    )
    engine = db.make_engine(Settings(_env_file=None, database_url=database_url))

    def said(chat: int, text: str, replies: int = 1, **options: Any) -> list[str]:
        before = len(emulator.messages(chat))
        emulator.push_message(chat, text, **options)
        sent = emulator.wait_for_messages(chat, before + replies, timeout=60)[before:]
        return [html_to_text(message.text or "") for message in sent]

    def digest_due() -> str:
        """The reader's next digest, sent now by `digest run-due` as if it were its time."""
        with db.session_scope(engine) as session:
            due = session.exec(
                select(Subscriber.next_digest_at).where(col(Subscriber.chat_id) == READER)
            ).one()
        assert due is not None
        before = len(emulator.messages(READER))
        subprocess.run(
            [sys.executable, "-m", "bot", "digest", "run-due", "--now",
             due.replace(tzinfo=UTC).isoformat()],
            cwd=tmp_path, env=environment, capture_output=True, text=True, check=True,
        )  # fmt: skip
        sent = emulator.messages(READER)[before:]
        assert sent, "no digest arrived"
        return "\n\n".join(html_to_text(message.text or "") for message in sent)

    with bot_running(tmp_path, environment):
        try:
            confirmation = said(READER, "/subscribe", replies=2, language_code="hi")[0]
            assert confirmation.startswith("✅ सदस्यता ले ली गई। आपका पहला साप्ताहिक डाइजेस्ट")
            with engine.begin() as connection:  # quiet hours off: CI runs at any hour
                connection.execute(update(Subscriber).values(quiet_hours=False))

            digest = digest_due()
            assert digest.startswith(f"📬 {HINDI_TITLE}, ")
            assert "चीन के साथ भारत का व्यापार घाटा" in digest
            assert "116.12 अरब डॉलर; तुलना के लिए 2024 का घाटा दर्ज नहीं है।" in digest
            assert ENGLISH_TITLE not in digest

            # An editor's change reaches the reader as a Hindi alert.
            before = len(emulator.messages(EDITOR))
            emulator.push_message(EDITOR, "/set pass nathu-la reopening_scheduled")
            preview = emulator.wait_for_messages(EDITOR, before + 1, timeout=60)[before]
            confirm = next(
                data for label, data in buttons_of(preview).items() if "Confirm" in label
            )
            emulator.push_callback_query(EDITOR, preview.message_id, confirm)

            def alerts() -> list[str]:
                return [
                    html_to_text(m.text or "")
                    for m in emulator.messages(READER)
                    if "Trade Watch अलर्ट" in (m.text or "")
                ]

            wait_until(alerts, 60, "the Hindi alert")
            [alert] = alerts()
            assert alert.startswith("🔔 Trade Watch अलर्ट\n\nNathu La (सीमा दर्रा)\n• स्थिति: ")

            # English from now on: the next digest is in English.
            assert said(READER, "/language en", language_code="hi")[0].startswith(
                "✅ This chat now reads in English"
            )
            english = digest_due()
            assert english.startswith(f"📬 {ENGLISH_TITLE}, ")
            assert "India's trade deficit with China" in english
            assert "डाइजेस्ट" not in english
        finally:
            engine.dispose()
