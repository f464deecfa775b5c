"""Answers, /start, /help, errors and buttons in Hindi, through the real application.

Each question goes to the terminal session answering in Hindi (as `python -m bot ask --language
hi` does) over the seeded dataset; what the user sees must be Hindi with the record's own
figures, dates and names, parse as Telegram HTML, fit Telegram's limits, and carry none of the
English sentences the same answer has in English. English answers are the rest of the suite's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from bot.rendering import MAX_MESSAGE_LENGTH, utf16_length
from bot.services import charts
from bot.telegram.html_entities import parse_html
from bot.telegram.terminal import Button, TerminalSession
from bot.vocabulary import Language
from tests.conftest import TODAY
from tests.factories import inline_update

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from sqlalchemy import Engine

    from bot.config import Settings
    from tests.conftest import BotUnderTest

CAPTION_LIMIT = 1024  # Telegram's limit for a photo's caption


@dataclass(frozen=True)
class Case:
    ask: str
    hindi: tuple[str, ...]  # in the plain text the user reads (figures and dates included)
    english: tuple[str, ...]  # English of this answer's own template, never data texts
    buttons: tuple[str, ...] = field(default=())


CASES = [
    Case(
        "/deficit FY2024-25",
        (
            "भारत के वित्त वर्ष (वाणिज्य मंत्रालय, अप्रैल–मार्च)",
            "FY2024-25, अनंतिम:",
            "चीन के साथ भारत का व्यापार घाटा: 99.2 अरब डॉलर (FY2023-24 के मुक़ाबले +16.6%*)",
            "आयात 113.45 (+11.5%) · निर्यात 14.25 (−14.5%) · कुल व्यापार 127.7* (+7.9%*) (अरब डॉलर)",
            "स्रोत: NDTV (PTI), 17 अप्रैल 2025 · 17 अप्रैल 2025 की स्थिति",
            "* बताए गए आंकड़ों से बॉट ने निकाला",
        ),
        ("Source", "as of", "USD", " bn", "deficit", "imports", "provisional", "India", "derived"),
        ("◀ FY2023-24", "चार्ट"),
    ),
    Case(
        "/trade FY2023-24",
        ("कुल द्विपक्षीय व्यापार: 118.39* अरब डॉलर", "आयात 101.73", "निर्यात 16.66", "अंतिम"),
        ("total", "imports", "exports", "final", "USD"),
    ),
    Case(
        "how did the deficit change between FY24 and FY25",
        (
            "चीन के साथ भारत का व्यापार घाटा: FY2023-24 में 85.07 अरब डॉलर → FY2024-25 में 99.2 "
            "अरब डॉलर: +14.13* अरब डॉलर (+16.6%*)।",
        ),
        ("USD", " bn in ", "Source:"),
    ),
    Case(
        "which year had the largest deficit",
        (
            "सबसे ज़्यादा घाटा: FY2024-25 में 99.2 अरब डॉलर (दर्ज 10 पूरी अवधियों में)।",
            "सबसे ज़्यादा घाटा: 2025 में 116.12 अरब डॉलर",
            "चीनी सीमा शुल्क विभाग (GAC, कैलेंडर वर्ष)",
        ),
        ("Largest", "full periods", "on record", "Chinese customs"),
    ),
    Case(
        "is the gap growing",
        (
            "चीन के साथ भारत का व्यापार घाटा, अरब डॉलर में",
            "बढ़ रहा है: 2022 से 2025 तक +15.1* अरब डॉलर (+14.9%*)।",
            "नवीनतम: 14 जनवरी 2026 की स्थिति",
        ),
        ("Growing", "Sources", "latest as of", "USD bn", "from 2022"),
    ),
    Case(
        "/pass shipki la",
        (
            "Shipki La (Kinnaur, Himachal Pradesh): 15 दिसंबर 2025 से फिर खुलना तय।",
            "फिर खुलने का अपेक्षित समय: जून 2026, जो बीत चुका है",
            "2026 का सत्र: 1 जून – 30 नवंबर (9 दिन बाद समाप्त होगा)।",
            "व्यापार मार्ट: Namgya।",
            "सीमा व्यापार की शुरुआत: 1994।",
        ),
        ("Expected reopening", "Marts", "Border trade since", "season:", "Source:", "scheduled"),
        ("इतिहास", "सभी दर्रे"),
    ),
    Case(
        "/passes",
        (
            "सीमा व्यापार दर्रे",
            "Nathu La (East Sikkim, Sikkim): 19 अगस्त 2025 से फिर खोलने पर सहमति।",
            "फिर खुलने की उम्मीद जून 2026 की थी, यह समय बीत चुका है",
            "“फिर खोलने पर सहमति” एक अस्थायी चरण है",
        ),
        ("Border trade passes", "reopening agreed", "expected to reopen", "No update recorded"),
        ("Lipulekh", "Shipki La", "Nathu La"),
    ),
    Case(
        "/deals fertilisers",
        (
            "वस्तुओं के सौदे और प्रतिबंध: उर्वरक",
            "Urea (चीन → भारत): 15 अक्टूबर 2025 से प्रतिबंधित।",
            "स्रोत: Business Standard (Bloomberg), 12 मार्च 2026",
        ),
        ("Commodity deals", "China → India", "Source:", "as of"),
        ("लागू", "प्रतिबंधित", "प्रस्तावित", "सभी सौदे"),
    ),
    Case(
        "/flights",
        (
            "भारत और चीन के बीच सीधी उड़ानें",
            "Kolkata–Guangzhou, IndiGo 6E1703: 26 अक्टूबर 2025 से चालू, रोज़ाना।",
            "Delhi–Shanghai, Air India: 1 फ़रवरी 2026 से चालू",
        ),
        ("Direct flights", "operating", "Source:"),
        ("इतिहास: Kolkata–Guangzhou",),
    ),
    Case(
        "/history nathu la",
        (
            "इतिहास: Nathu La",
            "22 अप्रैल 2020: स्थिति: खुला → निलंबित।",
            "स्रोत: The Indian Awaaz, 22 अप्रैल 2020",
        ),
        ("History:", "status", "open → suspended", "Source:", "22 Apr"),
    ),
    Case(
        "latest on shipki la",
        (
            "📰 ख़बरों में: Shipki La",
            "Shipki La के बारे में अभी तक कोई ख़बर प्रकाशित नहीं हुई है।",
        ),
        ("In the news", "No news", "Expected reopening"),
    ),
    Case(
        "/sources",
        ("स्रोत (8 में से पेज 1)", "2 बार उद्धृत। कुंजी: pti-2026-03-21", "सबसे नए पहले"),
        ("Every figure", "Cited", "Key:", "page 1"),
        ("और ▶",),
    ),
    Case(
        "/sources 116.12",
        (
            "116.12 अरब डॉलर: 2025 में चीन के साथ भारत का व्यापार घाटा, चीनी सीमा शुल्क विभाग के आंकड़े।",
            "स्रोत: The Tribune (PTI), 14 जनवरी 2026 · 14 जनवरी 2026 की स्थिति",
        ),
        ("USD", "Chinese customs data", "Source:", "as of"),
    ),
    Case(
        "which is right, 99.2 or 116.12?",
        (
            "दो सीरीज़, दो प्रकाशक: इनका आपस में मेल खाना ज़रूरी नहीं।",
            "99.2 अरब डॉलर: FY2024-25 में चीन के साथ भारत का व्यापार घाटा",
            "दोनों अवधियाँ सिर्फ़ जनवरी–मार्च 2025 में एक-दूसरे से मिलती हैं",
            "कभी एक को दूसरे से नहीं घटाता।",
        ),
        ("Two series", "fiscal year", "calendar year", "Jan–Mar", "USD"),
    ),
    Case(
        "is nathula open",
        (
            "नहीं। Nathu La: 19 अगस्त 2025 से फिर खोलने पर सहमति।",
            "फिर शुरू होने की कोई तारीख़ दर्ज नहीं है।",
        ),
        ("No.", "No restart date", "reopening agreed since", "Source:"),
        ("इतिहास", "सभी दर्रे"),
    ),
    Case(
        "are the passes open",
        ("नहीं।", "Lipulekh: नहीं, आख़िरी दर्ज जानकारी के अनुसार, 21 मार्च 2026 से फिर खुलना तय।"),
        ("as last recorded", "No.", "no, "),
    ),
    Case(
        "did china lift curbs on spices",
        ("दर्ज नहीं। इस पर कोई प्रतिबंध दर्ज नहीं है। Spices (भारत → चीन): अगस्त 2025 से प्रस्तावित।",),
        ("Not recorded", "No curbs", "India → China", "proposed"),
    ),
    Case(
        "what is managed rivalry",
        (
            "🔎 मेरे नोट्स, रिकॉर्ड के इतिहास और ख़बरों से (सबसे क़रीबी मेल पहले)",
            "नोट: “दोनों देशों के फिर",
            "स्रोत: GINC, “India–China Trade Re-Engagement: Strategic Calculus Under Constraint”, "
            "अगस्त 2025 · अगस्त 2025 की स्थिति",
        ),
        ("From my notes", "closest match", "Note:", "as of"),
    ),
    Case(
        "qwzx plomb",
        ("मैं सिर्फ़ अपने पास दर्ज रिकॉर्ड से जवाब दे सकता हूँ", "नीचे दिए बटन आज़माएँ।"),
        ("I can only answer", "Try", "buttons below"),
        ("व्यापार घाटा", "सीमा दर्रे", "सौदे", "उड़ानें", "स्रोत"),
    ),
    Case(
        "/pass foo",
        ("“foo” नाम का कोई सीमा दर्रा मुझे नहीं पता।", "दर्ज रिकॉर्ड: Lipulekh, Nathu La, Shipki La।"),
        ("I don't know", "border pass", "On record"),
    ),
    Case(
        "/deficit banana",
        ("/deficit के साथ “banana” मेरी समझ में नहीं आया। ऐसे आज़माएँ: /deficit, /deficit FY2024-25",),
        ("didn't understand", "Try:"),
    ),
    Case(
        "/help",
        ("हिन्दी या अंग्रेज़ी में पूछें", "कमांड", "/deficit [अवधि] [सीरीज़]: व्यापार घाटा", "डाइजेस्ट और अलर्ट"),
        ("Ask in plain English", "Commands", "the trade deficit (e.g.", "Digests and alerts"),
    ),
    Case(
        "/start",
        (
            "Trade Watch भारत–चीन व्यापार",
            "भारत के वित्त वर्ष (वाणिज्य मंत्रालय): ",
            "सीमा दर्रे: Lipulekh, Nathu La, Shipki La",
            "यह जानने के लिए /help भेजें।",
        ),
        ("follows", "Border passes", "Send /help", " periods, "),
    ),
    Case(
        "/foo",
        ("मैं /foo कमांड नहीं जानता। कमांड के लिए /help भेजें",),
        ("I don't know the command", "Send /help"),
    ),
]


@pytest.fixture
async def hindi(
    settings: Settings, seeded_engine: Engine, tmp_path: Path
) -> AsyncIterator[TerminalSession]:
    session = TerminalSession(
        settings, seeded_engine, charts_dir=tmp_path, clock=lambda: TODAY, language=Language.HI
    )
    async with session:
        yield session


async def _sent(session: TerminalSession, text: str) -> tuple[list[str], list[str]]:
    """The plain text of every message (and caption) the bot sent, checked as Telegram checks
    it, and the labels of the buttons shown under them."""
    seen = len(session.request.calls)
    replies = await session.send(text)
    plain: list[str] = []
    for call in session.request.calls[seen:]:
        if call.method == "sendMessage":
            html, limit = call.params["text"], MAX_MESSAGE_LENGTH
        elif call.method == "sendPhoto":
            html, limit = call.params.get("caption", ""), CAPTION_LIMIT
        else:
            continue
        assert utf16_length(html) <= limit
        plain.append(parse_html(html)[0])  # raises as Telegram refuses a malformed text
    return plain, [button.text for reply in replies for button in reply.buttons.values()]


@pytest.mark.parametrize("case", CASES, ids=[case.ask for case in CASES])
async def test_an_answer_reads_in_hindi(hindi: TerminalSession, case: Case) -> None:
    plain, buttons = await _sent(hindi, case.ask)
    text = "\n".join(plain)
    assert text
    for words in case.hindi:
        assert words in text
    for words in case.english:
        assert words not in text
    for label in case.buttons:
        assert label in buttons


async def test_the_chart_caption_is_hindi_and_its_image_labels_english(
    hindi: TerminalSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """matplotlib's fonts have no Devanagari: the texts drawn in the image stay English."""
    drawn: list[str] = []
    draw = charts.render_png

    def recording(kind: Any, panels: Any, label: Any) -> bytes:
        drawn.extend([title for title, _ in panels] + [label("unit"), label("deficit")])
        return draw(kind, panels, label)

    monkeypatch.setattr(charts, "render_png", recording)
    plain, _ = await _sent(hindi, "/chart deficit")
    (caption,) = plain
    assert caption.startswith("चीन के साथ भारत का व्यापार घाटा, अरब डॉलर में, केवल पूरी अवधियाँ।")
    assert "स्रोत: " in caption
    assert "USD" not in caption
    assert "Sources" not in caption
    assert drawn == [
        "India's fiscal years (Ministry of Commerce)",
        "Chinese customs (GAC), calendar years",
        "USD bn",
        "Deficit",
    ]


async def test_inline_cards_are_titled_in_hindi(hindi: TerminalSession) -> None:
    application = hindi.application
    seen = len(hindi.request.calls)
    await application.process_update(inline_update(application.bot, "nathu"))
    (call,) = [c for c in hindi.request.calls[seen:] if c.method == "answerInlineQuery"]
    results = call.params["results"]
    results = json.loads(results) if isinstance(results, str) else results
    titles = [result["title"] for result in results]
    assert "Nathu La: सीमा दर्रे की स्थिति" in titles
    assert "चीन के साथ व्यापार घाटा" in titles
    card = results[0]["input_message_content"]["message_text"]
    assert "फिर खोलने पर सहमति" in card
    parse_html(card)


async def test_an_expired_button_says_so_in_hindi(hindi: TerminalSession) -> None:
    hindi.buttons[1] = Button("?", "tw1|no-such-action")
    (reply,) = await hindi.press(1)
    assert reply.alert == "यह बटन अब काम नहीं करता। /start भेजें या फिर से पूछें।"


async def test_a_cached_answer_is_never_served_in_another_language(bot: BotUnderTest) -> None:
    """Answers are cached for a while: the cache keeps each language's rendering apart."""
    (english,) = await bot.replies("/deficit FY2024-25")
    assert "USD 99.2 bn" in english
    await bot.send("/language hi")
    (hindi,) = await bot.replies("/deficit FY2024-25")
    assert "99.2 अरब डॉलर" in hindi
    assert "USD" not in hindi
    await bot.send("/language en")
    (again,) = await bot.replies("/deficit FY2024-25")
    assert again == english
