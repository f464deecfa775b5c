"""Dates against today, through the real application with its clock pinned.

The same bundled data is asked on two days: on 6 Dec 2026 Shipki La's June 2026 restart,
Lipulekh's June–September 2026 season and the end of China's one-year rare-earth pause
(10 Nov 2026) have all passed with nothing recorded since, and are said to have; on
20 Dec 2025 the very same dates are ahead and listed as upcoming.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

import pytest
from sqlmodel import Session, col, select

from bot.models import CommodityDeal, StatusChange
from bot.partial_date import PartialDate
from bot.telegram.app import build_application
from bot.telegram.offline import OfflineRequest
from bot.vocabulary import RecordType
from tests.conftest import FAKE_TOKEN, BotUnderTest
from tests.test_inline_and_terminal import _cli

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable
    from pathlib import Path

    from sqlalchemy import Engine

    from bot.config import Settings

LATER = date(2026, 12, 6)
EARLIER = date(2025, 12, 20)

PASSED = {
    "/pass shipki la": [
        "⏳ Expected reopening: Jun 2026, now passed; no confirmation recorded since 15 Dec 2025.",
        "2026 season: 1 Jun – 30 Nov, ended.",
    ],
    "/pass lipulekh": [
        "⏳ Expected reopening: Jun 2026, now passed; no confirmation recorded since 21 Mar 2026.",
        "2026 season: Jun–Sep, ended.",
    ],
    "/deals rare earth": [
        "⏳ China's one-year pause of its 9 Oct 2025 wider rare-earth export controls ran until "
        "10 Nov 2026 and has lapsed: no extension recorded since 25 Dec 2025.",
    ],
}
UPCOMING = {
    "/pass shipki la": [
        "Expected reopening: Jun 2026 (in 6 months).",
        "2026 season: 1 Jun – 30 Nov (starts in about 5 months).",
    ],
    "/pass lipulekh": [
        "Expected reopening: Jun 2026 (in 6 months).",
        "2026 season: Jun–Sep (starts in 6 months).",
    ],
    "/deals rare earth": [
        "China's one-year pause of its 9 Oct 2025 wider rare-earth export controls runs until "
        "10 Nov 2026 (in about 11 months).",
    ],
}


@pytest.fixture
def bot_on(make_settings: Callable[..., Settings], seeded_engine: Engine) -> Callable[[date], Any]:
    """The real application over the seeded data, its clock pinned to a day."""

    def on(day: date) -> AsyncIterator[BotUnderTest]:
        return _bot(make_settings(telegram_bot_token=FAKE_TOKEN), seeded_engine, day)

    return on


async def _bot(settings: Settings, engine: Engine, day: date) -> AsyncIterator[BotUnderTest]:
    moment = datetime.combine(day, time(9), tzinfo=UTC)
    request = OfflineRequest()
    application = build_application(settings, engine=engine, request=request, clock=lambda: moment)
    async with application:
        yield BotUnderTest(application, request)


async def replies_on(bot_on: Callable[[date], Any], day: date, *texts: str) -> dict[str, str]:
    answers = {}
    async for bot in bot_on(day):
        for text in texts:
            answers[text] = "\n".join(await bot.replies(text))
    return answers


def section(text: str, title: str) -> str:
    start = text.index(title)
    end = text.find("\n\n", start)
    return text[start:] if end == -1 else text[start:end]


async def test_on_6_dec_2026_dates_that_have_passed_are_said_to_have(
    bot_on: Callable[[date], Any],
) -> None:
    answers = await replies_on(bot_on, LATER, *PASSED, "/digest", "when will shipki la reopen")
    for asked, facts in PASSED.items():
        for fact in facts:
            assert fact in answers[asked], f"{asked}: {fact!r} missing:\n{answers[asked]}"
        for fact in UPCOMING[asked]:
            assert fact not in answers[asked]
    assert "is to restart" not in answers["/pass shipki la"]
    assert "now passed" in answers["when will shipki la reopen"]

    digest = answers["/digest"]
    assert "Upcoming dates" not in digest  # each of them has passed
    passes = section(digest, "Border trade passes")
    assert (
        "• Shipki La: reopening scheduled since 15 Dec 2025; ⏳ expected to reopen Jun 2026, "
        "now passed with no confirmation recorded since 15 Dec 2025; "
        "2026 season: 1 Jun – 30 Nov, ended." in passes
    )
    assert (
        "Lipulekh: reopening scheduled since 21 Mar 2026; ⏳ expected to reopen Jun 2026, now "
        "passed with no confirmation recorded since 21 Mar 2026" in passes
    )
    deals = section(digest, "Commodity deals and restrictions")
    assert (
        "wider rare-earth export controls lapsed 10 Nov 2026, no extension recorded since "
        "25 Dec 2025." in deals
    )


async def test_the_same_data_on_20_dec_2025_reports_those_dates_as_upcoming(
    bot_on: Callable[[date], Any],
) -> None:
    answers = await replies_on(bot_on, EARLIER, *UPCOMING, "/digest")
    for asked, facts in UPCOMING.items():
        for fact in facts:
            assert fact in answers[asked], f"{asked}: {fact!r} missing:\n{answers[asked]}"
        assert "now passed" not in answers[asked]
        assert "lapsed" not in answers[asked]
    assert "⏳" not in answers["/pass shipki la"] + answers["/pass lipulekh"]

    upcoming = section(answers["/digest"], "Upcoming dates").splitlines()
    assert [line.split(" · ")[0].split(". ")[0] for line in upcoming[1:4]] == [
        "• Jun 2026 (in 6 months): Lipulekh expected to reopen; season June–September planned "
        "for 2026 (earlier seasons to 31 Oct)",
        "• Jun 2026 (in 6 months): Shipki La expected to reopen; season 1 June – 30 November, "
        "most trade Sep–Nov",
        "• 10 Nov 2026 (in about 11 months): Rare-earth magnets: China's one-year pause of its "
        "9 Oct 2025 wider rare-earth export controls ends",
    ]


async def test_a_later_record_keeps_a_passed_end_from_being_called_lapsed(
    bot_on: Callable[[date], Any], seeded_engine: Engine
) -> None:
    with Session(seeded_engine) as session:
        session.add(
            StatusChange(
                record_type=RecordType.DEAL,
                record_key="rare-earth-magnets",
                note="A test event recorded after the pause's end.",
                occurred_on=PartialDate(2026, 11, 12),
                actor="tg:1002",
                at=datetime(2026, 11, 12, 10, tzinfo=UTC),
            )
        )
        session.commit()
    answers = await replies_on(bot_on, LATER, "/deals rare earth")
    text = answers["/deals rare earth"]
    assert "lapsed" not in text
    assert (
        "China's one-year pause of its 9 Oct 2025 wider rare-earth export controls was to end "
        "on 10 Nov 2026; the latest update recorded is from 12 Nov 2026." in text
    )


async def test_a_restriction_with_its_own_end_lapses_by_its_status(
    bot_on: Callable[[date], Any], seeded_engine: Engine
) -> None:
    """Without `until_note` the status itself is what ends."""
    with Session(seeded_engine) as session:
        deal = session.exec(
            select(CommodityDeal).where(col(CommodityDeal.slug) == "specialty-fertilisers")
        ).one()
        deal.status_until = PartialDate(2026, 8)
        session.add(deal)
        session.commit()
    before = await replies_on(bot_on, date(2026, 7, 1), "/deals specialty fertilisers")
    assert (
        "The “restricted” status runs until Aug 2026 (next month)."
        in (before["/deals specialty fertilisers"])
    )
    after = await replies_on(bot_on, LATER, "/deals specialty fertilisers")
    assert (
        "⏳ The “restricted” status ran until Aug 2026 and has lapsed: no extension recorded "
        "since 22 Dec 2025." in after["/deals specialty fertilisers"]
    )


def _ask(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return _cli(folder, "ask", *args)


@pytest.mark.slow
def test_ask_answers_as_of_the_day_given(tmp_path: Path) -> None:
    later = _ask(tmp_path, "--today", LATER.isoformat(), "/pass shipki la")
    assert later.returncode == 0, later.stderr
    assert (
        "Expected reopening: Jun 2026, now passed; no confirmation recorded since 15 Dec 2025"
        in (later.stdout)
    )
    earlier = _ask(tmp_path, "--today", EARLIER.isoformat(), "/pass shipki la")
    assert earlier.returncode == 0, earlier.stderr
    assert "Expected reopening: Jun 2026 (in 6 months)." in earlier.stdout
    wrong = _ask(tmp_path, "--today", "6 Dec 2026", "/pass shipki la")
    assert wrong.returncode == 2
    assert "is not a date like 2026-12-06" in wrong.stderr
