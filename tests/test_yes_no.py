"""Yes-or-no questions about records: a yes or a no first, then why (bot/services/verdicts.py).

Through the real application over the bundled data, its clock pinned: the record's status
decides, read with its dates against today, so the same question gets "No." before an expected
reopening and "No, as last recorded." once that date has passed with nothing since; a pause is
"on" until its announced end and over after it. Where nothing on record decides, the answer
says so.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

import pytest
from sqlmodel import Session, col, select

from bot.models import BorderPass, CommodityDeal, FlightRoute, Source
from bot.partial_date import PartialDate
from bot.services import records, verdicts
from bot.services.questions import State
from bot.services.timeline import Freshness
from bot.services.verdicts import Basis, Verdict
from bot.telegram.app import build_application
from bot.telegram.offline import OfflineRequest
from bot.vocabulary import DealStatus, Direction, FlightStatus, PassStatus
from tests.conftest import FAKE_TOKEN, BotUnderTest
from tests.factories import inline_update

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import Engine

    from bot.config import Settings

EARLIER = date(2025, 12, 20)  # Shipki La's reopening and the rare-earth pause's end ahead
LATER = date(2026, 12, 6)  # both passed, nothing recorded since


@pytest.fixture
def ask_on(make_settings: Callable[..., Settings], seeded_engine: Engine) -> Callable[..., Any]:
    """Ask the real application questions on a given day; the replies' plain text."""

    async def ask(day: date, *texts: str) -> dict[str, str]:
        moment = datetime.combine(day, time(9), tzinfo=UTC)
        settings = make_settings(telegram_bot_token=FAKE_TOKEN)
        request = OfflineRequest()
        application = build_application(
            settings, engine=seeded_engine, request=request, clock=lambda: moment
        )
        answers = {}
        async with application:
            bot = BotUnderTest(application, request)
            for text in texts:
                answers[text] = "\n".join(await bot.replies(text))
        return answers

    return ask


def _publisher(engine: Engine, model: Any, slug: str) -> str:
    with Session(engine) as session:
        record = session.exec(select(model).where(col(model.slug) == slug)).one()
        return session.get_one(Source, record.source_id).publisher


async def test_is_nathu_la_open_starts_with_no_then_says_why(
    ask_on: Callable[..., Any], seeded_engine: Engine
) -> None:
    answers = await ask_on(LATER, "is nathu la open?", "nathu la khula hai kya")
    text = answers["is nathu la open?"]
    first, second = text.splitlines()[:2]
    assert first == "No. Nathu La: reopening agreed since 19 Aug 2025."
    assert second == "No restart date recorded."
    assert f"Source: {_publisher(seeded_engine, BorderPass, 'nathu-la')}" in text
    assert answers["nathu la khula hai kya"] == text  # Hinglish asks the same


async def test_a_passed_reopening_date_turns_no_into_no_as_last_recorded(
    ask_on: Callable[..., Any],
) -> None:
    questions = ("is shipki la open?", "is shipki la closed?")
    before = await ask_on(EARLIER, *questions)
    assert before["is shipki la open?"].startswith("No. Shipki La: reopening scheduled")
    assert "Expected reopening: Jun 2026 (in 6 months)." in before["is shipki la open?"]
    assert before["is shipki la closed?"].startswith("Yes. Shipki La")

    after = await ask_on(LATER, *questions)
    assert after["is shipki la open?"].startswith("No, as last recorded. Shipki La")
    assert (
        "⏳ Expected reopening: Jun 2026, now passed; no confirmation recorded since 15 Dec 2025."
        in after["is shipki la open?"]
    )
    assert after["is shipki la closed?"].startswith("Yes, as last recorded. Shipki La")


async def test_a_pause_is_on_until_its_announced_end_and_over_after_it(
    ask_on: Callable[..., Any],
) -> None:
    questions = ("is the rare earth pause still on?", "has china's rare earth pause ended?")
    before = await ask_on(EARLIER, *questions)
    assert before["is the rare earth pause still on?"].startswith("Yes. Rare-earth magnets")
    assert "runs until 10 Nov 2026" in before["is the rare earth pause still on?"]
    assert before["has china's rare earth pause ended?"].startswith("No. ")

    after = await ask_on(LATER, *questions)
    assert after["is the rare earth pause still on?"].startswith("No. Rare-earth magnets")
    assert "ran until 10 Nov 2026 and has lapsed" in after["is the rare earth pause still on?"]
    assert after["has china's rare earth pause ended?"].startswith("Yes. ")


async def test_an_edited_status_changes_the_answer(
    ask_on: Callable[..., Any], seeded_engine: Engine
) -> None:
    with Session(seeded_engine) as session:
        nathu_la = session.exec(select(BorderPass).where(BorderPass.slug == "nathu-la")).one()
        nathu_la.status = PassStatus.OPEN
        nathu_la.status_since = PartialDate(2026, 5, 1)
        session.add(nathu_la)
        session.commit()
    answers = await ask_on(LATER, "is nathu la open?", "is nathu la closed?")
    assert answers["is nathu la open?"].startswith("Yes. Nathu La: open since 1 May 2026.")
    assert "No restart date recorded." not in answers["is nathu la open?"]
    assert answers["is nathu la closed?"].startswith("No. Nathu La: open since 1 May 2026.")


async def test_several_records_answer_each_and_together(ask_on: Callable[..., Any]) -> None:
    answers = await ask_on(
        LATER, "did china lift the curbs", "are flights running?", "are the passes open?"
    )
    curbs = answers["did china lift the curbs"]
    assert curbs.startswith("Partly.")
    assert "• Rare-earth magnets (China → India): yes, as last recorded, in effect" in curbs
    assert "• Urea (China → India): no, restricted since 15 Oct 2025." in curbs
    assert "Spices" not in curbs
    assert "Tunnel-boring machines" not in curbs
    flights = answers["are flights running?"]
    assert flights.startswith("Yes.")
    assert flights.count(": yes, operating since") == flights.count("• ")
    passes = answers["are the passes open?"]
    assert passes.startswith("No.")  # Nathu La's is not a passed date: no "as last recorded"
    assert passes.count(": no") == 3


async def test_what_the_records_cannot_decide_is_said_not_guessed(
    ask_on: Callable[..., Any],
) -> None:
    answers = await ask_on(LATER, "did china lift curbs on spices", "are any deals suspended")
    assert answers["did china lift curbs on spices"].startswith(
        "Not recorded. No curbs on it are recorded. Spices (India → China): proposed"
    )
    assert answers["are any deals suspended"].startswith("None on record. No deal I hold is")


async def test_questions_that_ask_when_or_about_another_year_get_the_card(
    ask_on: Callable[..., Any],
) -> None:
    answers = await ask_on(
        LATER, "when will nathu la open?", "nathu la kab khulega", "will shipki la open in 2027?"
    )
    for text in answers.values():
        assert not text.startswith(("Yes", "No"))


async def test_inline_mode_posts_the_yes_or_no_under_the_records_title(bot: BotUnderTest) -> None:
    (call,) = await bot.process(inline_update(bot.application.bot, "is nathu la open?"))
    results = json.loads(call["results"]) if isinstance(call["results"], str) else call["results"]
    assert results[0]["title"] == "Nathu La: border pass status"
    assert results[0]["input_message_content"]["message_text"].startswith("<b>No.</b> Nathu La")


async def test_the_buttons_are_the_records(bot: BotUnderTest) -> None:
    calls = await bot.send("is nathu la open?")
    keyboard = calls[-1]["reply_markup"]["inline_keyboard"]
    assert [button["callback_data"] for row in keyboard for button in row] == [
        "tw1|hist|pass|nathu-la|0",
        "tw1|passes",
    ]


# --- The rules, record by record ------------------------------------------------------------------

TODAY = date(2026, 12, 6)
FRESHNESS = Freshness(TODAY, 90)
SOURCE = Source(id=1, key="test", title="A test source", publisher="Test")


def _view(record: Any) -> records.RecordView[Any]:
    return records.view_of(record, SOURCE, FRESHNESS)


def _flight(status: FlightStatus, starts_on: PartialDate | None = None) -> FlightRoute:
    return FlightRoute(
        slug="x",
        route="X–Y",
        airline="Z",
        status=status,
        starts_on=starts_on,
        source_id=1,
        as_of=PartialDate(2026, 11),
        updated_by="seed",
    )


def _deal(status: DealStatus, **fields: Any) -> CommodityDeal:
    return CommodityDeal(
        slug="x",
        commodity="X",
        category="x",
        direction=Direction.CHINA_TO_INDIA,
        status=status,
        source_id=1,
        as_of=PartialDate(2026, 11),
        updated_by="seed",
        **fields,
    )


@pytest.mark.parametrize(
    ("status", "state", "verdict"),
    [
        (FlightStatus.OPERATING, State.OPEN, Verdict.YES),
        (FlightStatus.OPERATING, State.PAUSED, Verdict.NO),
        (FlightStatus.SUSPENDED, State.OPEN, Verdict.NO),
        (FlightStatus.SUSPENDED, State.PAUSED, Verdict.YES),
        (FlightStatus.ANNOUNCED, State.OPEN, Verdict.NO),
        (FlightStatus.ANNOUNCED, State.CLOSED, Verdict.NO),  # not started, not closed
    ],
)
def test_flights(status: FlightStatus, state: State, verdict: Verdict) -> None:
    assert verdicts.judge(_view(_flight(status)), state).verdict is verdict


def test_an_announced_first_flight_that_passed_answers_as_last_recorded() -> None:
    judged = verdicts.judge(
        _view(_flight(FlightStatus.ANNOUNCED, PartialDate(2026, 11, 20))), State.OPEN
    )
    assert (judged.verdict, judged.basis) == (Verdict.NO, Basis.LAST_RECORDED)


@pytest.mark.parametrize(
    ("status", "state", "ever_restricted", "verdict"),
    [
        (DealStatus.IN_EFFECT, State.OPEN, False, Verdict.YES),
        (DealStatus.PROPOSED, State.OPEN, False, Verdict.NO),
        (DealStatus.IN_EFFECT, State.LIFTED, True, Verdict.YES),
        (DealStatus.IN_EFFECT, State.LIFTED, False, Verdict.NOT_RECORDED),  # no curbs to lift
        (DealStatus.RESTRICTED, State.LIFTED, True, Verdict.NO),
        (DealStatus.PROPOSED, State.LIFTED, True, Verdict.NO),
        (DealStatus.PROPOSED, State.LIFTED, False, Verdict.NOT_RECORDED),
        (DealStatus.RESTRICTED, State.RESTRICTED, True, Verdict.YES),
        (DealStatus.SUSPENDED, State.RESTRICTED, True, Verdict.YES),
        (DealStatus.IN_EFFECT, State.RESTRICTED, True, Verdict.NO),
        (DealStatus.LAPSED, State.RESTRICTED, False, Verdict.NOT_RECORDED),
        (DealStatus.LAPSED, State.ENDED, False, Verdict.YES),
        (DealStatus.SUSPENDED, State.PAUSED, False, Verdict.YES),
        (DealStatus.IN_EFFECT, State.PAUSED, False, Verdict.NO),
    ],
)
def test_deals(status: DealStatus, state: State, ever_restricted: bool, verdict: Verdict) -> None:
    judged = verdicts.judge(_view(_deal(status)), state, ever_restricted=ever_restricted)
    assert judged.verdict is verdict


@pytest.mark.parametrize(
    ("until", "state", "verdict"),
    [
        (PartialDate(2027, 1), State.PAUSED, Verdict.YES),
        (PartialDate(2026, 11, 10), State.PAUSED, Verdict.NO),
        (PartialDate(2027, 1), State.ENDED, Verdict.NO),
        (PartialDate(2026, 11, 10), State.ENDED, Verdict.YES),
    ],
)
def test_a_pause_with_an_announced_end_is_answered_by_that_date(
    until: PartialDate, state: State, verdict: Verdict
) -> None:
    deal = _deal(DealStatus.IN_EFFECT, status_until=until, until_note="A one-year pause of curbs")
    judged = verdicts.judge(_view(deal), state, pause_words=frozenset({"pause", "paused"}))
    assert (judged.verdict, judged.basis) == (verdict, Basis.END)


def test_an_end_that_is_not_a_pause_leaves_a_pause_question_to_the_status() -> None:
    deal = _deal(DealStatus.IN_EFFECT, status_until=PartialDate(2027, 1), until_note="Licences")
    judged = verdicts.judge(_view(deal), State.PAUSED, pause_words=frozenset({"pause"}))
    assert (judged.verdict, judged.basis) == (Verdict.NO, Basis.STATUS)


def test_one_answer_for_several_records() -> None:
    def judged(*found: Verdict) -> list[verdicts.Judgement]:
        view = _view(_flight(FlightStatus.OPERATING))
        return [verdicts.Judgement(view, verdict, Basis.STATUS) for verdict in found]

    assert verdicts.overall(judged(Verdict.YES, Verdict.YES)) is Verdict.YES
    assert verdicts.overall(judged(Verdict.NO, Verdict.NOT_RECORDED)) is Verdict.NO
    assert verdicts.overall(judged(Verdict.YES, Verdict.NO)) is Verdict.PARTLY
    assert verdicts.overall(judged(Verdict.NOT_RECORDED)) is Verdict.NOT_RECORDED
