"""Texts in English and Hindi (bot/services/bilingual.py): which one a reader gets, the
`localized` filter and its fallback mark, answers rendered in Hindi from the bundled data, and
editors writing the Hindi texts through the real application."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from jinja2 import Environment
from sqlmodel import Session, SQLModel, col, select

from bot.db import session_scope
from bot.i18n import using_language
from bot.models import BorderPass, CommodityDeal, ContextNote, StatusChange
from bot.rendering import Renderer
from bot.resources import templates_dir
from bot.services import admins, answers, records
from bot.services.bilingual import (
    TEXT_COLUMNS,
    Bilingual,
    Coverage,
    Picked,
    english_of,
    hindi_of,
    is_hindi,
    pick,
)
from bot.services.digest import build_digest, render_digest
from bot.services.timeline import Freshness
from bot.telegram.plain import html_to_text
from bot.vocabulary import Frequency, Language, RecordType, Role, Topic
from tests.conftest import TODAY, BotUnderTest
from tests.factories import callback_update

if TYPE_CHECKING:
    from sqlalchemy import Engine

OWNER, EDITOR, READER = 3001, 3002, 3003
MARK = "(अंग्रेज़ी में: इसका हिन्दी संस्करण अभी नहीं है)"  # the `untranslated` macro's words


# --- Which text a reader gets ----------------------------------------------------------------


def test_pick_gives_the_hindi_when_asked_and_written() -> None:
    both = Bilingual("Trade resumed.", "व्यापार फिर शुरू हुआ।")
    assert pick(both, "hi") == Picked("व्यापार फिर शुरू हुआ।", fallback=False)
    assert pick(both, "en") == Picked("Trade resumed.", fallback=False)


def test_pick_falls_back_to_the_english_marked_as_such() -> None:
    english_only = Bilingual("Trade resumed.", None)
    assert pick(english_only, "hi") == Picked("Trade resumed.", fallback=True)
    assert pick(Bilingual("Trade resumed.", ""), "hi").fallback  # empty is none
    assert pick(english_only, "en") == Picked("Trade resumed.", fallback=False)


def test_a_pair_without_english_is_no_text() -> None:
    assert Bilingual.of(None, "कुछ") is None
    assert Bilingual.of("Some", "") == Bilingual("Some", None)


def test_coverage_counts_texts_and_names_those_without_hindi() -> None:
    coverage = Coverage.of(
        [("pass a note", "One", "एक"), ("pass b note", "Two", None), ("pass c note", None, None)]
    )
    assert (coverage.texts, coverage.translated, coverage.missing) == (2, 1, 1)
    assert coverage.untranslated == ("pass b note",)


def test_the_list_of_texts_is_the_models_hindi_columns() -> None:
    for table in SQLModel.metadata.sorted_tables:
        hindi = {column.name for column in table.columns if is_hindi(column.name)}
        assert hindi == {hindi_of(column) for column in TEXT_COLUMNS.get(table.name, ())}, table
        for column in hindi:  # each beside an English column, with room for longer Hindi
            english = table.columns[english_of(column)]
            assert table.columns[column].type.length >= english.type.length  # type: ignore[attr-defined]


# --- The localized filter ----------------------------------------------------------------------


def _renderer(language: str | None) -> Environment:
    """The renderer's environment for `language` (English when None)."""
    return Renderer().environment(Language(language) if language else Language.EN)


def _digest_in(language: Language, digest: Any) -> list[str]:
    with using_language(language):
        return render_digest(Renderer(), digest)


def _say(environment: Environment, source: str, **context: Any) -> str:
    return environment.from_string(source).render(**context)


def test_the_filter_prints_english_when_no_language_is_set() -> None:
    row = {"note": "Trade <b>resumed</b>.", "note_hi": "व्यापार फिर शुरू हुआ।"}
    text = _say(_renderer(None), "{{ r.note | localized(r.note_hi) }}", r=row)
    assert text == "Trade &lt;b&gt;resumed&lt;/b&gt;."  # escaped as ever


def test_the_filter_prints_hindi_in_hindi_and_marks_english_it_falls_back_to() -> None:
    hindi = _renderer("hi")
    template = "{{ r.note | localized(r.note_hi) }}"
    assert _say(hindi, template, r={"note": "x", "note_hi": "व्यापार"}) == "व्यापार"
    marked = _say(hindi, template, r={"note": "A & B", "note_hi": None})
    assert marked == f"A &amp; B <i>{MARK}</i>"  # the text escaped, the mark's tags kept
    only_english = _say(hindi, "{{ t | localized }}", t=Bilingual("Only English"))
    assert only_english == f"Only English <i>{MARK}</i>"
    # A name is the same in every language: never marked.
    assert _say(hindi, "{{ name | localized }}", name="Shipki La") == "Shipki La"
    assert _say(hindi, "{{ none | localized }}", none=None) == ""


def test_the_filter_cuts_before_it_marks() -> None:
    long = Bilingual("word " * 40)
    english = _say(_renderer("en"), "{{ t | localized(truncate=20) }}", t=long)
    assert english == "word word word…"  # as Jinja's truncate(20, false, "…", 0)
    hindi = _say(_renderer("hi"), "{{ t | localized(truncate=20) }}", t=long)
    assert hindi == f"word word word… <i>{MARK}</i>"


_PAIRED = re.compile(r"([\w.]+)\s*\|\s*localized\(([\w.]+)\b(?!\s*=)")


def test_templates_pair_each_text_with_its_own_hindi() -> None:
    pairs = [
        (path.name, english, hindi)
        for path in Path(templates_dir()).rglob("*.j2")
        for english, hindi in _PAIRED.findall(path.read_text(encoding="utf-8"))
    ]
    assert len(pairs) >= 15
    assert [pair for pair in pairs if pair[2] != f"{pair[1]}_hi"] == []


# --- Answers in Hindi, from the bundled data ---------------------------------------------------


async def _plain(bot: BotUnderTest, text: str, user: int = READER, *, hindi: bool = False) -> str:
    """The replies to `text` in English, or in Hindi as a user whose Telegram is in Hindi."""
    language_code = "hi" if hindi else "en"
    replies = await bot.replies(text, user_id=user, chat_id=user, language_code=language_code)
    return "\n".join(replies)


async def test_a_pass_card_in_hindi_shows_its_hindi_texts(bot: BotUnderTest) -> None:
    card = await _plain(bot, "/pass shipki la", hindi=True)
    assert "15 दिसंबर 2025 को पीटीआई ने बताया कि विदेश मंत्रालय ने राजनीतिक मंज़ूरी" in card
    assert "1 जून – 30 नवंबर, ज़्यादातर व्यापार सितंबर–नवंबर में" in card  # its season
    assert "विदेश मंत्रालय की राजनीतिक मंज़ूरी के बाद शिपकी ला से व्यापार" in card  # a note
    assert "On 15 Dec 2025 PTI reported" not in card
    assert MARK not in card


async def test_history_deals_and_flights_in_hindi(bot: BotUnderTest) -> None:
    history = await _plain(bot, "/history nathu la", hindi=True)
    assert "1962 के युद्ध के बाद से बंद नाथू ला के रास्ते व्यापार फिर शुरू हुआ।" in history
    deals = await _plain(bot, "/deals rare earths", hindi=True)
    assert "9 अक्टूबर 2025 के व्यापक दुर्लभ पृथ्वी निर्यात नियंत्रणों पर चीन की एक साल की रोक" in deals
    flights = await _plain(bot, "/flights", hindi=True)
    assert "2 जनवरी 2026 से रोज़ाना" in flights
    assert MARK not in history + deals + flights


async def test_a_text_without_hindi_shows_in_english_marked(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    with session_scope(seeded_engine) as session:
        shipki = session.exec(select(BorderPass).where(BorderPass.slug == "shipki-la")).one()
        shipki.note_hi = None
        session.add(shipki)
    card = await _plain(bot, "/pass shipki la", hindi=True)
    assert "On 15 Dec 2025 PTI reported that the MEA had given political clearance" in card
    assert MARK in card
    assert "1 जून – 30 नवंबर" in card  # the season still has its Hindi


async def test_english_answers_are_untouched_by_the_hindi_texts(bot: BotUnderTest) -> None:
    card = await _plain(bot, "/pass shipki la")
    assert "On 15 Dec 2025 PTI reported" in card
    assert "Season: 1 June – 30 November, most trade Sep–Nov." in card
    assert not re.search(r"[\u0900-\u097f]", card)
    assert MARK not in card


def test_every_card_of_the_bundled_data_renders_in_hindi_without_english(
    seeded_engine: Engine,
) -> None:
    # Every pass's card, every deal and every flight, rendered in Hindi: no English
    # description or note slips through (every bundled text has its Hindi), nothing is marked.
    renderer = Renderer()
    freshness = Freshness(TODAY.date(), 90)
    with Session(seeded_engine) as session:
        cards: list[answers.Answer] = [
            card
            for slug in session.exec(select(BorderPass.slug)).all()
            if (card := answers.pass_detail(session, slug, freshness)) is not None
        ]
        cards.append(answers.DealsAnswer(tuple(records.deals(session, freshness))))
        cards.append(answers.FlightsAnswer(tuple(records.flights(session, freshness))))
        shown = " ".join(
            html_to_text(
                renderer.render(
                    card.template,
                    language=Language.HI,
                    answer=card,
                    freshness=freshness,
                    bot_username="",
                )
            )
            for card in cards
        )
        english = [
            *session.exec(select(BorderPass.note)).all(),
            *session.exec(select(CommodityDeal.note)).all(),
            *session.exec(select(ContextNote.text).where(col(ContextNote.subject) != None)).all(),  # noqa: E711
        ]
    shown = " ".join(shown.split())
    assert MARK not in shown
    assert "दुर्लभ पृथ्वी चुंबकों का निर्यात फिर शुरू किया" in shown
    for text in english:
        assert text is not None
        assert " ".join(text.split())[:40] not in shown


# --- Editors write Hindi -----------------------------------------------------------------------


@pytest.fixture
def team(seeded_engine: Engine) -> None:
    with session_scope(seeded_engine) as session:
        admins.bootstrap_owners(session, [OWNER])
        admins.grant(session, by="test", by_user=OWNER, user_id=EDITOR, role=Role.EDITOR)


def _buttons(call: dict[str, Any]) -> dict[str, str]:
    markup = call.get("reply_markup") or {"inline_keyboard": []}
    return {b["text"]: b["callback_data"] for row in markup["inline_keyboard"] for b in row}


async def _edit(bot: BotUnderTest, line: str) -> dict[str, Any]:
    calls = await bot.send(line, user_id=EDITOR, chat_id=EDITOR)
    (reply,) = [c for c in calls if c["method"] == "sendMessage"]
    return {**reply, "plain": html_to_text(reply["text"])}


async def _confirm(bot: BotUnderTest, preview: dict[str, Any]) -> str:
    update = callback_update(
        bot.application.bot, _buttons(preview)["✅ Confirm"], user_id=EDITOR, chat_id=EDITOR
    )
    calls = await bot.process(update)
    return html_to_text(next(c for c in calls if c["method"] == "editMessageText")["text"])


def _pass(engine: Engine, slug: str) -> BorderPass:
    with Session(engine) as session:
        return session.exec(select(BorderPass).where(BorderPass.slug == slug)).one()


@pytest.mark.usefixtures("team")
async def test_set_writes_a_hindi_description_and_a_hindi_history_note(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    preview = await _edit(
        bot,
        '/set pass nathu-la description_hi="नाथू ला से व्यापार 2006 में फिर शुरू हुआ।" '
        'note="Hindi description added" note_hi="हिंदी विवरण जोड़ा गया"',
    )
    assert "note hi:" in preview["plain"]
    assert "The note in Hindi: हिंदी विवरण जोड़ा गया" in preview["plain"]
    assert "Saved." in await _confirm(bot, preview)
    assert _pass(seeded_engine, "nathu-la").note_hi == "नाथू ला से व्यापार 2006 में फिर शुरू हुआ।"
    with Session(seeded_engine) as session:
        row = session.exec(
            select(StatusChange).where(
                StatusChange.record_key == "nathu-la", StatusChange.field == "note_hi"
            )
        ).one()
    assert (row.note, row.note_hi) == ("Hindi description added", "हिंदी विवरण जोड़ा गया")
    # Readers of Hindi see both at once; readers of English see neither.
    english = await _plain(bot, "/history nathu la")
    assert "Hindi description added" in english
    card = await _plain(bot, "/pass nathu la", hindi=True)
    assert "नाथू ला से व्यापार 2006 में फिर शुरू हुआ।" in card


@pytest.mark.usefixtures("team")
async def test_hindi_needs_its_english(bot: BotUnderTest, seeded_engine: Engine) -> None:
    refused = await _edit(bot, '/set pass nathu-la open note_hi="खुल गया"')
    assert "note_hi is the Hindi of note, which would be empty" in refused["plain"]
    assert _pass(seeded_engine, "nathu-la").status.value == "reopening_agreed"
    refused = await _edit(bot, "/set pass nathu-la description=none description_hi=कुछ")
    assert "description_hi is the Hindi of description" in refused["plain"]


@pytest.mark.usefixtures("team")
async def test_a_cleared_text_takes_its_hindi_with_it(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    preview = await _edit(bot, "/set pass lipulekh season=none")
    assert "season hi:" in preview["plain"]
    await _confirm(bot, preview)
    cleared = _pass(seeded_engine, "lipulekh")
    assert (cleared.season, cleared.season_hi) == (None, None)


@pytest.mark.usefixtures("team")
async def test_a_rewritten_english_text_warns_its_hindi_is_older(bot: BotUnderTest) -> None:
    preview = await _edit(bot, '/set pass shipki-la season="1 June – 30 November"')
    assert (
        'The Hindi season still reads as before: update it with season_hi="...", or clear it '
        "with season_hi=none."
    ) in preview["plain"]
    both = await _edit(bot, '/set pass shipki-la season="1 June" season_hi="1 जून"')
    assert "still reads as before" not in both["plain"]


@pytest.mark.usefixtures("team")
async def test_hindi_too_long_is_refused_with_its_limit(bot: BotUnderTest) -> None:
    refused = await _edit(bot, f"/set pass nathu-la season_hi={'क' * 451}")
    assert "season_hi is too long: at most 450 characters." in refused["plain"]
    refused = await _edit(bot, f'/set pass nathu-la open note=x note_hi="{"क" * 3001}"')
    assert "note_hi is too long: at most 3000 characters." in refused["plain"]


@pytest.mark.usefixtures("team")
async def test_hindi_typed_in_nfd_is_stored_in_nfc(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    decomposed = "\u091c\u093c\u092e\u0940\u0928"  # ज़मीन typed as ज + nukta
    precomposed = "\u095b\u092e\u0940\u0928"  # with the precomposed letter
    preview = await _edit(bot, f"/set pass nathu-la season_hi={precomposed}")
    await _confirm(bot, preview)
    assert _pass(seeded_engine, "nathu-la").season_hi == decomposed  # NFC of both forms


@pytest.mark.usefixtures("team")
async def test_undo_restores_the_hindi_texts(bot: BotUnderTest, seeded_engine: Engine) -> None:
    before = _pass(seeded_engine, "nathu-la")
    preview = await _edit(bot, "/set pass nathu-la description=none")
    await _confirm(bot, preview)
    assert _pass(seeded_engine, "nathu-la").note_hi is None
    undone = await _edit(bot, "/undo")
    assert undone["plain"].startswith("Undone: Nathu La")
    after = _pass(seeded_engine, "nathu-la")
    assert (after.note, after.note_hi) == (before.note, before.note_hi)


@pytest.mark.usefixtures("team")
async def test_translations_are_history_but_not_news(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    for line in ('/set pass nathu-la season_hi="1 मई – 30 नवंबर"', "/set pass nathu-la open"):
        await _confirm(bot, await _edit(bot, line))
    with Session(seeded_engine) as session:
        rows = session.exec(
            select(StatusChange).where(
                StatusChange.actor == f"tg:{EDITOR}", col(StatusChange.field) == "season_hi"
            )
        ).all()
    assert len(rows) == 1
    digest = await _plain(bot, "/digest")
    assert "status reopening agreed → open" in digest
    assert "season hi" not in digest
    assert "season hi" in await _plain(bot, "/history nathu la")


def test_a_digest_in_hindi_gives_upcoming_dates_and_note_changes_in_hindi(
    seeded_engine: Engine,
) -> None:
    with Session(seeded_engine) as session:
        digest = build_digest(
            session,
            topics=frozenset(Topic),
            since=None,
            freshness=Freshness(date(2026, 1, 15), 90),
            frequency=Frequency.WEEKLY,
        )
    hindi = html_to_text("\n".join(_digest_in(Language.HI, digest)))
    english = html_to_text("\n".join(_digest_in(Language.EN, digest)))
    # Shipki La's expected reopening with its season; the end of China's rare-earth pause.
    assert "व्यापार सत्र: 1 जून – 30 नवंबर, ज़्यादातर व्यापार सितंबर–नवंबर में" in hindi
    assert "9 अक्टूबर 2025 के व्यापक दुर्लभ पृथ्वी निर्यात नियंत्रणों पर चीन की एक साल की रोक ख़त्म" in hindi
    assert "season 1 June – 30 November, most trade Sep–Nov" in english
    assert (
        "China's one-year pause of its 9 Oct 2025 wider rare-earth export controls ends" in english
    )

    # A change to a context note names the note by its text: in Hindi, its Hindi text.
    with session_scope(seeded_engine) as session:
        session.add(
            StatusChange(
                record_type=RecordType.NOTE,
                record_key="managed-rivalry",
                field="occurred_on",
                new_value="2025",
                actor="tg:1",
                at=datetime(2026, 1, 10, tzinfo=UTC),
            )
        )
    with Session(seeded_engine) as session:
        digest = build_digest(
            session,
            topics=frozenset(Topic),
            since=datetime(2026, 1, 1, tzinfo=UTC),
            freshness=Freshness(date(2026, 1, 15), 90),
            frequency=Frequency.WEEKLY,
        )
    hindi = html_to_text("\n".join(_digest_in(Language.HI, digest)))
    english = html_to_text("\n".join(_digest_in(Language.EN, digest)))
    assert "“दोनों देशों के फिर से जुड़ने को" in hindi
    assert "“The re-engagement is framed as" in english
