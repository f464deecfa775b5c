"""Full-text search (bot/services/search.py, migration 0007) through the real application, on
SQLite and PostgreSQL: questions no card answers get the passages that answer them, with their
sources and dates; questions a card answers but that also ask for context get the passages
below it; query syntax in a question is only words; the index follows editors' edits and news
reviews at once; and it holds exactly the passages of the tables it indexes."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text
from sqlmodel import Session, col, select

from bot import db
from bot.bootstrap import open_database
from bot.models import (
    BorderPass,
    CommodityDeal,
    ContextNote,
    FlightRoute,
    NewsItem,
    Source,
    StatusChange,
    TradeFigure,
)
from bot.partial_date import PartialDate
from bot.services import admins, search
from bot.services.bilingual import Bilingual
from bot.services.news import items
from bot.telegram.app import build_application
from bot.telegram.offline import OfflineRequest
from bot.telegram.plain import html_to_text
from bot.vocabulary import NewsState, Role, Topic
from tests.conftest import FAKE_TOKEN, TODAY, BotUnderTest
from tests.factories import callback_update, inline_update, news_item

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from bot.config import Settings

OWNER, EDITOR, READER = 2001, 2002, 555
NOTHING_FOUND = "I can only answer from the records I hold"
SORRY = "something went wrong"


@dataclass
class Backend:
    engine: Engine
    bot: BotUnderTest

    async def ask(self, question: str, user: int = READER) -> str:
        """The plain text of the bot's one reply (in however many messages) to `question`."""
        calls = await self.bot.send(question, user_id=user, chat_id=user)
        sent = [c for c in calls if c["method"] == "sendMessage"]
        assert sent, f"no reply to {question!r}"
        return "\n".join(html_to_text(c["text"]) for c in sent)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def backend(
    request: pytest.FixtureRequest, make_settings: Callable[..., Settings], seeded_engine: Engine
) -> AsyncIterator[Backend]:
    """The seeded database on either backend, an editor, and the real application over it."""
    if request.param == "sqlite":
        engine = seeded_engine
        settings = make_settings(telegram_bot_token=FAKE_TOKEN)
    else:
        url = request.getfixturevalue("postgres_seeded_url")
        settings = make_settings(database_url=url, telegram_bot_token=FAKE_TOKEN)
        engine = open_database(settings)
    with db.session_scope(engine) as session:
        admins.bootstrap_owners(session, [OWNER])
        admins.grant(session, by="test", by_user=OWNER, user_id=EDITOR, role=Role.EDITOR)
    api = OfflineRequest()
    application = build_application(settings, engine=engine, request=api, clock=lambda: TODAY)
    async with application:
        yield Backend(engine, BotUnderTest(application, api))
    if request.param != "sqlite":
        engine.dispose()


def _one_line(value: str) -> str:
    return " ".join(value.split())


def _quoted(session: Session, row: ContextNote | StatusChange) -> list[str]:
    """What a reply quoting this note or history entry must show: its text, source, date."""
    if isinstance(row, ContextNote):
        source = session.get(Source, row.source_id)
        shown = [_one_line(row.text), f"as of {row.as_of.human()}"]
    else:
        source = session.get(Source, row.source_id) if row.source_id else None
        assert row.occurred_on is not None
        shown = [_one_line(row.note or ""), f"as of {row.occurred_on.human()}"]
    if source is not None:
        # A source with a web page is a link: plain text shows its address after the name.
        link = f" ({source.url})" if source.url else ""
        shown += [f"Source: {source.publisher}{link}, “{source.title}”"]
    return shown


def _note(session: Session, key: str) -> ContextNote:
    return session.exec(select(ContextNote).where(ContextNote.key == key)).one()


def _history(session: Session, record_key: str, starts: str) -> StatusChange:
    return session.exec(
        select(StatusChange).where(
            StatusChange.record_key == record_key, col(StatusChange.note).startswith(starts)
        )
    ).one()


# --- Questions and the passages that answer them -------------------------------------------------


@pytest.mark.parametrize(
    ("question", "note_key"),
    [
        ("what is managed rivalry", "managed-rivalry"),
        ("fiscal year vs calendar year", "fiscal-vs-calendar-labels"),
        ("BRICS and the AIIB", "brics-aiib-platforms"),
    ],
)
async def test_a_question_no_card_answers_gets_the_note_that_does(
    backend: Backend, question: str, note_key: str
) -> None:
    reply = await backend.ask(question)
    with Session(backend.engine) as session:
        expected = _quoted(session, _note(session, note_key))
    assert reply.startswith("🔎 From my notes, record history and news")
    for shown in expected:
        assert shown in _one_line(reply), f"{shown!r} missing from the answer to {question!r}"
    assert NOTHING_FOUND not in reply


@pytest.mark.parametrize(
    ("question", "card", "note_key"),
    [
        ("what drove imports", "India's imports from China: USD", "import-drivers"),
        ("fertiliser import share from China", "Commodity deals", "dap-china-share-fy25"),
        (
            "what did the MEA say about border trade",
            "Border trade passes",
            "border-trade-engagement-2025-08-14",
        ),
    ],
)
async def test_a_question_that_also_asks_for_context_gets_the_card_then_the_note(
    backend: Backend, question: str, card: str, note_key: str
) -> None:
    reply = await backend.ask(question)
    with Session(backend.engine) as session:
        expected = _quoted(session, _note(session, note_key))
    assert card in reply.split("🔎 Related")[0]
    related = _one_line(reply.split("🔎 Related")[1])
    for shown in expected:
        assert shown in related, f"{shown!r} missing below the card for {question!r}:\n{reply}"


async def test_why_nepal_objected_is_in_the_history_of_lipulekh(backend: Backend) -> None:
    reply = await backend.ask("why did Nepal object to Lipulekh")
    with Session(backend.engine) as session:
        expected = _quoted(session, _history(session, "lipulekh", "Nepal objected"))
    card, related = reply.split("🔎 Related, from my notes and history")
    assert card.startswith("Lipulekh (")
    assert "History of Lipulekh: “Nepal objected to Lipulekh" in related
    for shown in expected:
        assert shown in _one_line(related)


async def test_the_value_of_trade_through_the_passes_is_quoted_from_the_notes(
    backend: Backend,
) -> None:
    reply = await backend.ask("value of trade through the passes")
    card, related = reply.split("🔎 Related")
    assert card.startswith("Border trade passes")
    with Session(backend.engine) as session:
        # The notes on what the passes traded: those of the passes that state a value.
        notes = session.exec(select(ContextNote).where(ContextNote.topic == Topic.PASSES)).all()
        values = [
            _quoted(session, note)
            for note in notes
            if any(unit in note.text for unit in ("crore", "lakh", "million"))
        ]
    assert len(values) >= 3
    quoted = [shown for shown in values if all(part in _one_line(related) for part in shown)]
    assert len(quoted) == 1, reply  # the best of the notes on what the passes traded


async def test_a_card_does_not_repeat_its_own_notes_below_it(backend: Backend) -> None:
    # Nathu La's card lists its notes (the 2019 season's values): "Related" must not repeat one.
    reply = await backend.ask("what was the value of trade through nathu la in the 2019 season")
    card, _, related = reply.partition("🔎 Related")
    assert "exports through Nathu La were Rs 39.73 crore" in card
    assert "exports through Nathu La were Rs 39.73 crore" not in related


@pytest.mark.parametrize(
    "question",
    [
        "what is the weather in beijing",
        "gdp of china",
        "who won the cricket match",
        "open the pod bay doors",
        "la la la",
        "pass me the data",
    ],
)
async def test_with_no_passage_the_answer_says_what_the_bot_holds(
    backend: Backend, question: str
) -> None:
    reply = await backend.ask(question)
    assert NOTHING_FOUND in reply
    assert "Lipulekh, Shipki La, Nathu La" in reply  # what it does hold
    assert "🔎" not in reply


@pytest.mark.parametrize(
    "question", ["what is the trade deficit with china", "is nathu la open?", "/pass shipki la"]
)
async def test_a_card_that_answers_the_whole_question_stands_alone(
    backend: Backend, question: str
) -> None:
    assert "🔎" not in await backend.ask(question)


@pytest.mark.parametrize(
    ("query", "title", "shown"),
    [
        ("what is managed rivalry", "From the notes and history", "managed rivalry"),
        ("what drove imports", "India–China trade figures", "🔎 Related, from my notes"),
    ],
)
async def test_inline_mode_offers_the_passages(
    backend: Backend, query: str, title: str, shown: str
) -> None:
    (call,) = await backend.bot.process(inline_update(backend.bot.application.bot, query))
    results = json.loads(call["results"]) if isinstance(call["results"], str) else call["results"]
    assert results[0]["title"] == title
    assert shown in results[0]["input_message_content"]["message_text"]


# --- Query syntax is only words ------------------------------------------------------------------

INJECTIONS = [
    '"',
    "NEAR(",
    "*",
    "OR",
    "'; drop table context_note; --",
    'managed" OR "rivalry',
    "NEAR(managed rivalry, 2)",
    "rivalry*",
    "body:managed",
    "^managed",
    "managed AND NOT rivalry",
    "(((",
    "managed & !rivalry | :* <->",
    "\\x00'\"`;",
]


@pytest.mark.parametrize("question", INJECTIONS)
async def test_query_syntax_in_a_question_is_answered_calmly(
    backend: Backend, question: str
) -> None:
    reply = await backend.ask(question)
    assert SORRY not in reply.lower()
    with Session(backend.engine) as session:
        assert session.exec(select(ContextNote)).first() is not None
        assert search.search(session, question) == search.search(session, question)


async def test_quoted_operators_are_searched_as_the_words_they_hold(backend: Backend) -> None:
    # The words still count: what a reader typed between the operators is what is searched.
    for question in ('"managed" OR "rivalry"', "NEAR(managed rivalry, 2)", "rivalry* managed"):
        assert "managed rivalry" in await backend.ask(question)


@pytest.mark.parametrize(
    "backend_name", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_no_text_makes_the_search_raise(
    request: pytest.FixtureRequest,
    make_settings: Callable[..., Settings],
    seeded_engine: Engine,
    backend_name: str,
) -> None:
    if backend_name == "sqlite":
        engine = seeded_engine
    else:
        url = request.getfixturevalue("postgres_seeded_url")
        engine = db.make_engine(make_settings(database_url=url))

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        st.lists(
            st.one_of(
                st.text(max_size=12),
                # Devanagari: letters, vowel signs, virama, danda, digits, and joiners.
                st.text(
                    st.characters(min_codepoint=0x0900, max_codepoint=0x097F)
                    | st.sampled_from(["\u200c", "\u200d", '"', "*"]),
                    max_size=12,
                ),
                st.sampled_from(
                    [
                        '"',
                        "*",
                        "NEAR(",
                        "OR",
                        "AND",
                        "NOT",
                        "^",
                        ":",
                        "-",
                        "(",
                        ")",
                        "'",
                        "&",
                        "|",
                        "!",
                        "<->",
                        ":*",
                        "managed",
                        "rivalry",
                        "la",
                        "प्रबंधित",
                        "दर्रे",
                        "ला",
                    ]
                ),
            ),
            max_size=12,
        )
    )
    def searching(parts: list[str]) -> None:
        with Session(engine) as session:
            found = search.search(session, " ".join(parts))
            assert len(found) <= 2

    try:
        searching()
    finally:
        if backend_name != "sqlite":
            engine.dispose()


def test_only_quoted_words_reach_the_query_language() -> None:
    query = search.read_query('What "drove" imports* NEAR( OR fertiliser; DROP TABLE x --')
    assert query is not None
    expression = query.fts5()
    stripped = expression
    for allowed in ("(", ")", " OR ", " AND ", "*"):
        stripped = stripped.replace(allowed, " ")
    for token in stripped.split():
        assert token.startswith('"'), token
        assert token.endswith('"'), token
        assert token[1:-1].isalnum(), token
    assert "NEAR" not in expression  # "near" is a word here; FTS5's NEAR is upper case
    assert (
        query.tsquery()
        .replace(":*", "")
        .replace("(", "")
        .replace(")", "")
        .replace(" | ", " ")
        .replace(" & ", " ")
        .replace(" ", "")
        .isalnum()
    )


def test_what_a_question_searches_for() -> None:
    query = search.read_query("Why did Nepal object to Lipulekh?")
    assert query is not None
    assert query.context  # "why" asks for context; it is no word a passage holds
    words = [set(group) for group in query.groups]
    assert {"nepal"} in words
    assert {"lipulekh"} in words
    # A group: protest, oppose... ("objected" and "objection" are "object" to the stemmer).
    assert {"object", "protest", "oppose"} <= next(g for g in words if "object" in g)
    assert "objected" not in set().union(*words)
    assert query.required == 2  # most of three
    drove = search.read_query("what drove imports")
    assert drove is not None
    assert drove.context
    assert {"drive", "driven", "reason", "cause"} <= set(drove.groups[0])
    assert search.read_query("what is managed rivalry") == search.Query(
        (("managed",), ("rivalry",)), 2, False
    )
    # India, China and trade are in nearly every passage; filler says nothing.
    assert search.read_query("what is india's trade with china") is None
    assert search.read_query("   ") is None
    # "import" and "imports" are one term; a word of two letters is none.
    assert search.read_query("imports import of xi") == search.Query((("imports",),), 1, False)
    # A synonym group alone ("la" stands for passes, points, borders) is too vague.
    assert search.read_query("la la la") is None


async def test_passages_with_every_term_are_quoted_before_any_with_most(backend: Backend) -> None:
    # Two of three terms is enough to be found, but only when no passage holds all three.
    with db.session_scope(backend.engine) as session:
        source = session.exec(select(Source)).first()
        assert source is not None
        # By bm25 or ts_rank alone the short one, with two of the terms twice, would come first.
        long_note = "A long note on yak caravans and the permits issued for them; " + " ".join(
            ["the district office recorded it"] * 8
        )
        for key, note in (("yak-short", "Yak caravans: yak caravans."), ("yak-long", long_note)):
            session.add(
                ContextNote(
                    key=key,
                    topic=Topic.PASSES,
                    text=note,
                    source_id=source.id or 0,
                    as_of=PartialDate(2026),
                    updated_by="test",
                )
            )
    with Session(backend.engine) as session:
        found = search.search(session, "yak caravan permits")
    assert [p.text.en[:12] for p in found] == ["A long note "]
    with db.session_scope(backend.engine) as session:
        session.delete(session.exec(select(ContextNote).where(ContextNote.key == "yak-long")).one())
    with Session(backend.engine) as session:
        found = search.search(session, "yak caravan permits")
    assert [p.text.en for p in found] == ["Yak caravans: yak caravans."]


# --- The index follows every write ---------------------------------------------------------------


def _buttons(call: dict[str, Any]) -> dict[str, str]:
    markup = call.get("reply_markup")
    data = json.loads(markup) if isinstance(markup, str) else markup or {"inline_keyboard": []}
    return {b["text"]: b["callback_data"] for row in data["inline_keyboard"] for b in row}


async def test_an_editors_note_is_found_as_soon_as_it_is_confirmed(backend: Backend) -> None:
    question = "what about the yak caravan permits"
    assert NOTHING_FOUND in await backend.ask(question)
    calls = await backend.bot.send(
        '/set pass nathu-la reopening_scheduled note="Sikkim issued yak caravan permits for '
        'Sherathang" source=https://example.org/sikkim',
        user_id=EDITOR,
        chat_id=EDITOR,
    )
    (preview,) = [c for c in calls if c["method"] == "sendMessage"]
    confirm = _buttons(preview)["✅ Confirm"]
    await backend.bot.process(
        callback_update(backend.bot.application.bot, confirm, user_id=EDITOR, chat_id=EDITOR)
    )
    reply = _one_line(await backend.ask(question))
    assert "History of Nathu La: “Sikkim issued yak caravan permits for Sherathang”" in reply
    assert f"as of {TODAY.day} Nov {TODAY.year}" in reply
    assert "example.org" in reply


async def test_a_records_description_is_found_and_follows_its_edits(backend: Backend) -> None:
    reply = await backend.ask("reopened after 44 years closed")
    assert "About Nathu La: “Trade reopened on 6 July 2006 after 44 years closed" in reply
    with db.session_scope(backend.engine) as session:
        nathu = session.exec(select(BorderPass).where(BorderPass.slug == "nathu-la")).one()
        nathu.note = "Trade resumed in 2006 through the Sherathang mart."
        session.add(nathu)
    assert "Sherathang" in await backend.ask("sherathang mart")
    assert "About Nathu La: “Trade resumed in 2006" in await backend.ask("sherathang mart")
    with db.session_scope(backend.engine) as session:
        for row in session.exec(select(StatusChange).where(StatusChange.record_key == "nathu-la")):
            session.delete(row)
    assert NOTHING_FOUND in await backend.ask("reopened after 44 years closed")


async def test_news_readers_may_see_is_found_and_other_news_is_not(backend: Backend) -> None:
    published_at = TODAY - timedelta(days=2)

    def add(title: str, state: NewsState) -> int:
        with db.session_scope(backend.engine) as session:
            item = news_item(
                session,
                title=title,
                url=f"https://news.example/{'-'.join(title.lower().split())}",
                publisher="Himalayan Desk",
                published_at=published_at,
                topics=["passes"],
                state=state,
                summary="Traders at the Gunji mart await the season.",
            )
            assert item.id is not None
            return item.id

    published = add("Yak wool traders return to Gunji", NewsState.PUBLISHED)
    dismissed = add("Yak herders protest at Gunji", NewsState.DISMISSED)
    unreviewed = add("Yak festival opens near Gunji", NewsState.NEW)

    reply = _one_line(await backend.ask("yak gunji"))
    assert (
        "📰 News: Yak wool traders return to Gunji "
        "(https://news.example/yak-wool-traders-return-to-gunji). Traders at the Gunji mart"
    ) in reply
    assert "Source: Himalayan Desk · published 19 Nov 2026" in reply
    assert "herders" not in reply
    assert "festival" not in reply

    # Reviews move items into the index at once, and only those readers may see.
    now = datetime.now(UTC)
    with db.session_scope(backend.engine) as session:
        items.review(session, unreviewed, NewsState.DISMISSED, actor="tg:1", now=now)
        items.review(session, dismissed, NewsState.PUBLISHED, actor="tg:1", now=now)
    reply = await backend.ask("yak gunji")
    assert "Yak herders protest at Gunji" in reply
    assert "festival" not in reply
    # Any write that hides an item (an import of another instance's reviews) takes it out.
    with db.session_scope(backend.engine) as session:
        item = items.get(session, published)
        item.state = NewsState.DISMISSED
        session.add(item)
    reply = await backend.ask("yak gunji")
    assert "wool" not in reply
    assert "Yak herders protest at Gunji" in reply


# --- The index itself ----------------------------------------------------------------------------

_INDEXED = (
    ContextNote,
    StatusChange,
    BorderPass,
    CommodityDeal,
    FlightRoute,
    TradeFigure,
    NewsItem,
)


def _passages_in_tables(session: Session) -> set[int]:
    """Index ids of every row that should be in the index, read from the tables themselves."""
    expected: set[int] = set()
    for note in session.exec(select(ContextNote)):
        expected.add(search.index_id(ContextNote, note.id or 0))
    for change in session.exec(select(StatusChange).where(col(StatusChange.note).is_not(None))):
        if change.record_type in ("pass", "deal", "flight", "figure"):
            expected.add(search.index_id(StatusChange, change.id or 0))
    for model in (BorderPass, CommodityDeal, FlightRoute, TradeFigure):
        for record in session.exec(select(model).where(col(model.note).is_not(None))):
            expected.add(search.index_id(model, record.id or 0))
    for item in session.exec(select(NewsItem)):
        if item.state in items.SHOWN_TO_READERS:
            expected.add(search.index_id(NewsItem, item.id or 0))
    return expected


def _passages_in_index(session: Session) -> set[int]:
    column = "id" if session.get_bind().dialect.name == "postgresql" else "rowid"
    return {
        int(row[0])
        for row in session.connection().execute(text(f"SELECT {column} FROM search_index"))
    }


async def test_the_index_holds_exactly_the_passages_of_its_tables(backend: Backend) -> None:
    with Session(backend.engine) as session:
        seeded = _passages_in_index(session)
        assert seeded == _passages_in_tables(session)
        assert len(seeded) > 50  # the bundled notes, history and descriptions
    # Writes that are not passages (an audit row, an unreviewed item) add nothing; an update of
    # another column re-indexes nothing.
    with db.session_scope(backend.engine) as session:
        news_item(session, title="Unreviewed", url="https://news.example/u", publisher="Desk",
                  published_at=TODAY, state=NewsState.NEW)  # fmt: skip
        shipki = session.exec(select(BorderPass).where(BorderPass.slug == "shipki-la")).one()
        shipki.version += 1
        session.add(shipki)
    with Session(backend.engine) as session:
        assert _passages_in_index(session) == seeded == _passages_in_tables(session)


def test_every_indexed_table_keeps_its_triggers_at_head(seeded_engine: Engine) -> None:
    # Alembic's batch mode on SQLite rebuilds a table without its triggers: a later migration
    # that batch-alters an indexed table must create them again.
    with seeded_engine.connect() as connection:
        triggers = {
            row[0]
            for row in connection.execute(
                text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            )
        }
    for model in _INDEXED:
        table = str(model.__tablename__)
        for event in ("insert", "update", "delete"):
            assert f"search_index_{table}_{event}" in triggers


def test_autogenerate_leaves_the_index_alone() -> None:
    for name in ("search_index", "search_index_data"):
        assert not db.include_in_autogenerate(None, name, "table", True, None)
    assert not db.include_in_autogenerate(None, "ix_search_index_document", "index", True, None)
    assert db.include_in_autogenerate(None, "context_note", "table", True, None)
    assert db.include_in_autogenerate(None, "ix_status_change_record", "index", True, None)


# --- Hindi -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "note_key", "quoted"),
    [
        ("प्रबंधित प्रतिद्वंद्विता क्या है", "managed-rivalry", True),
        ("डोकलाम गतिरोध", "shipki-la-2017-2018-values", True),
        # Another form of the same words: "दर्रे" finds "दर्रों", "सीमा" finds "सीमा". Asked
        # of the bot, "सीमा दर्रे" names the passes: their card answers, as in English.
        ("सीमा दर्रे प्रायोगिक तौर पर", "phased-approach", False),
        # Devanagari digits, a nukta letter typed precomposed, a zero-width joiner in a word.
        # Asked of the bot, it names Nathu La: its card answers.
        ("२०१९ के \u095b\u200dन सीज़न में नाथू ला", "nathu-la-2019-season", False),
    ],
)
async def test_a_hindi_question_finds_the_note_by_its_hindi_words(
    backend: Backend, question: str, note_key: str, quoted: bool
) -> None:
    with Session(backend.engine) as session:
        found = search.search(session, question)
        note = _note(session, note_key)
    assert found, f"nothing found for {question!r}"
    assert found[0].ref == search.index_id(ContextNote, note.id or 0)
    assert found[0].text.hi == note.text_hi
    # Through the application: a Devanagari question is answered in Hindi; where no card
    # answers it, with the passage in Hindi and its source.
    reply = await backend.ask(question)
    assert not reply.startswith("🔎 From my notes")
    if quoted:
        assert reply.startswith("🔎 मेरे नोट्स, रिकॉर्ड के इतिहास और ख़बरों से")
        with Session(backend.engine) as session:
            note = _note(session, note_key)
            source = session.get(Source, note.source_id)
        assert source is not None
        assert _one_line(note.text_hi or "") in _one_line(reply)
        assert f"स्रोत: {source.publisher}" in reply


async def test_a_hindi_question_reads_history_and_descriptions(backend: Backend) -> None:
    with Session(backend.engine) as session:
        nepal = search.search(session, "नेपाल ने लिपुलेख पर आपत्ति जताई")
        magnets = search.search(session, "हिताची कॉन्टिनेंटल लाइसेंस")
    assert nepal[0].kind is search.PassageKind.HISTORY
    assert nepal[0].record == "Lipulekh"
    assert nepal[0].text.en.startswith("Nepal objected to Lipulekh's inclusion")
    assert {p.kind for p in magnets} <= {
        search.PassageKind.HISTORY,
        search.PassageKind.DESCRIPTION,
    }
    assert all("Hitachi" in p.text.en for p in magnets)


async def test_an_editors_hindi_note_is_found_as_soon_as_it_is_confirmed(
    backend: Backend,
) -> None:
    question = "याक कारवां परमिट"
    with Session(backend.engine) as session:
        assert search.search(session, question) == ()
    calls = await backend.bot.send(
        '/set pass nathu-la reopening_scheduled note="Sikkim issued yak caravan permits" '
        'note_hi="सिक्किम ने याक कारवां के परमिट जारी किए"',
        user_id=EDITOR,
        chat_id=EDITOR,
    )
    (preview,) = [c for c in calls if c["method"] == "sendMessage"]
    await backend.bot.process(
        callback_update(
            backend.bot.application.bot, _buttons(preview)["✅ Confirm"], user_id=EDITOR,
            chat_id=EDITOR,
        )
    )  # fmt: skip
    with Session(backend.engine) as session:
        (found,) = search.search(session, question)
    assert found.text == Bilingual(
        "Sikkim issued yak caravan permits", "सिक्किम ने याक कारवां के परमिट जारी किए"
    )
    # An English question still reads the English texts only.
    with Session(backend.engine) as session:
        assert [p.text.en for p in search.search(session, "yak caravan permits")] == [
            "Sikkim issued yak caravan permits"
        ]


def test_what_a_hindi_question_searches_for() -> None:
    query = search.read_query("नाथू ला दर्रे से व्यापार कब शुरू होगा?")
    assert query is not None
    assert query.hindi
    words = {word for group in query.groups for word in group}
    # Stems without their last vowel signs; "ला" and "से", one letter each, are no terms.
    # (व्यापार is a word of the vocabulary: it stands for its English group.)
    assert {"नाथ", "दर्र"} <= words
    assert "ला" not in words
    assert "से" not in words
    assert search.read_query("what is managed rivalry") == search.Query(
        (("managed",), ("rivalry",)), 2, False, hindi=False
    )
    assert search.read_query("ला से") is None  # nothing worth searching for


def test_only_quoted_hindi_words_reach_the_query_language() -> None:
    query = search.read_query('"प्रबंधित" * NEAR( प्रतिद्वंद्विता; DROP TABLE x -- ।')
    assert query is not None
    expression = query.fts5()
    for allowed in ("(", ")", " OR ", " AND ", "*"):
        expression = expression.replace(allowed, " ")
    for token in expression.split():
        assert re.fullmatch(r'"[a-z0-9\u0900-\u0963\u0971-\u097f]+"', token), token


def _hindi_passages_in_tables(session: Session) -> set[int]:
    expected: set[int] = set()
    for note in session.exec(select(ContextNote).where(col(ContextNote.text_hi).is_not(None))):
        expected.add(search.index_id(ContextNote, note.id or 0))
    for change in session.exec(select(StatusChange).where(col(StatusChange.note_hi).is_not(None))):
        if change.note and change.record_type in ("pass", "deal", "flight", "figure"):
            expected.add(search.index_id(StatusChange, change.id or 0))
    for model in (BorderPass, CommodityDeal, FlightRoute, TradeFigure):
        for record in session.exec(select(model).where(col(model.note_hi).is_not(None))):
            if record.note:
                expected.add(search.index_id(model, record.id or 0))
    return expected


async def test_the_hindi_index_holds_exactly_the_hindi_passages(backend: Backend) -> None:
    column = "id" if backend.engine.dialect.name == "postgresql" else "rowid"
    with Session(backend.engine) as session:
        indexed = {
            int(row[0])
            for row in session.connection().execute(text(f"SELECT {column} FROM search_index_hi"))
        }
        assert indexed == _hindi_passages_in_tables(session)
        assert len(indexed) == 146 - 22 - 3 - 4 - 1  # less reports, seasons, frequencies, until
    with db.session_scope(backend.engine) as session:
        nathu = session.exec(select(BorderPass).where(BorderPass.slug == "nathu-la")).one()
        nathu.note_hi = None
        session.add(nathu)
    with Session(backend.engine) as session:
        # The description's words no longer find it (a history note may say the same).
        found = search.search(session, "44 साल बंद रहने के बाद")
        assert search.index_id(BorderPass, nathu.id or 0) not in {p.ref for p in found}
        indexed_now = {
            int(row[0])
            for row in session.connection().execute(text(f"SELECT {column} FROM search_index_hi"))
        }
        assert (
            indexed_now
            == _hindi_passages_in_tables(session)
            == indexed - {search.index_id(BorderPass, nathu.id or 0)}
        )


def test_every_table_with_hindi_passages_keeps_its_hindi_triggers(seeded_engine: Engine) -> None:
    with seeded_engine.connect() as connection:
        triggers = {
            row[0]
            for row in connection.execute(
                text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            )
        }
    for model in _INDEXED:
        if model is NewsItem:
            continue  # headlines stay as published: no Hindi
        for event in ("insert", "update", "delete"):
            assert f"search_index_hi_{model.__tablename__}_{event}" in triggers
