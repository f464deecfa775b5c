"""A record's dates against today: what is ahead, what has passed, and when to mark a record."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import pytest
from sqlmodel import Session

from bot.models import BorderPass, CommodityDeal, FlightRoute, TradeFigure
from bot.partial_date import PartialDate
from bot.services import editing, records
from bot.services.answers import load_catalog
from bot.services.timeline import (
    Freshness,
    Mark,
    Standing,
    deal_outlook,
    distance,
    flight_outlook,
    pass_outlook,
    standing,
)
from bot.vocabulary import DealStatus, Direction, FlightStatus, PassStatus, Series, Stage

if TYPE_CHECKING:
    from sqlalchemy import Engine


def pd(text: str) -> PartialDate:
    return PartialDate.parse(text)


def on(day: str) -> Freshness:
    return Freshness(date.fromisoformat(day), 120)


def a_pass(**values: Any) -> BorderPass:
    fields: dict[str, Any] = {
        "slug": "x", "name": "X", "region": "R", "status": PassStatus.REOPENING_AGREED,
        "source_id": 1, "as_of": pd("2025-12-15"), "updated_by": "seed",
    }  # fmt: skip
    return BorderPass(**(fields | values))


@pytest.mark.parametrize(
    ("when", "today", "expected", "away"),
    [
        ("2026-06", "2026-05-31", Standing.AHEAD, 1),
        ("2026-06", "2026-06-15", Standing.NOW, 0),
        ("2026-06", "2026-07-01", Standing.PASSED, -1),
        ("2026", "2026-12-06", Standing.NOW, 0),
        ("2026-11-10", "2026-11-11", Standing.PASSED, -1),
        ("2026-11-10", "2025-12-20", Standing.AHEAD, 325),
    ],
)
def test_a_date_stands_against_today_at_its_own_precision(
    when: str, today: str, expected: Standing, away: int
) -> None:
    assert standing(pd(when), date.fromisoformat(today)) is expected
    assert distance(pd(when), date.fromisoformat(today)) == away


def test_a_reopening_expected_in_a_year_is_missed_once_its_season_has_ended() -> None:
    lipulekh = a_pass(
        expected_reopening=pd("2026"), season_start=pd("2026-06"), season_end=pd("2026-09")
    )
    during = pass_outlook(lipulekh, lipulekh.as_of, on("2026-09-30")).expected
    assert during is not None
    assert not during.passed
    after = pass_outlook(lipulekh, lipulekh.as_of, on("2026-10-01"))
    assert after.expected is not None
    assert after.expected.passed
    assert after.expected.by_season
    assert after.season is not None
    assert after.season.standing is Standing.PASSED
    assert after.mark is Mark.OVERDUE
    # Without a season, "2026" is over only when the year is.
    no_season = a_pass(expected_reopening=pd("2026"))
    expected = pass_outlook(no_season, no_season.as_of, on("2026-10-01")).expected
    assert expected is not None
    assert not expected.passed


def test_an_open_pass_awaits_no_reopening_and_is_never_marked() -> None:
    opened = a_pass(status=PassStatus.OPEN, expected_reopening=pd("2026-06"), as_of=pd("2024-01"))
    outlook = pass_outlook(opened, opened.as_of, on("2026-12-06"))
    assert outlook.expected is None
    assert outlook.mark is None


def test_a_passing_stage_is_marked_only_when_quiet_for_longer_than_the_setting() -> None:
    agreed = a_pass(as_of=pd("2025-08-20"))
    assert pass_outlook(agreed, agreed.as_of, on("2025-12-18")).mark is None  # 120 days
    assert pass_outlook(agreed, agreed.as_of, on("2025-12-19")).mark is Mark.QUIET
    # A later event in its history is an update too.
    assert pass_outlook(agreed, pd("2025-12-01"), on("2025-12-19")).mark is None


def test_a_record_waiting_for_a_date_ahead_is_not_marked_for_its_silence() -> None:
    scheduled = a_pass(status=PassStatus.REOPENING_SCHEDULED, expected_reopening=pd("2026-06"))
    assert pass_outlook(scheduled, scheduled.as_of, on("2026-05-31")).mark is None
    assert pass_outlook(scheduled, scheduled.as_of, on("2026-07-01")).mark is Mark.OVERDUE


def test_an_announced_end_lapses_unless_the_record_was_updated_after_it() -> None:
    deal = CommodityDeal(
        slug="d", commodity="D", category="c", direction=Direction.CHINA_TO_INDIA,
        status=DealStatus.IN_EFFECT, status_until=pd("2026-11-10"), source_id=1,
        as_of=pd("2025-10-30"), updated_by="seed",
    )  # fmt: skip
    lapsed = deal_outlook(deal, pd("2025-11-07"), on("2026-12-06"))
    assert lapsed.expected is not None
    assert lapsed.expected.passed
    assert not lapsed.expected.updated_after
    assert lapsed.mark is Mark.OVERDUE
    told = deal_outlook(deal, pd("2026-11-12"), on("2026-12-06"))
    assert told.expected is not None
    assert told.expected.updated_after
    assert told.mark is None  # in effect, and updated since: nothing to check
    ahead = deal_outlook(deal, pd("2025-11-07"), on("2025-12-20"))
    assert ahead.expected is not None
    assert not ahead.expected.passed
    assert ahead.mark is None


def test_only_an_announced_route_awaits_its_first_flight() -> None:
    route = FlightRoute(
        slug="f", route="F", airline="A", status=FlightStatus.ANNOUNCED,
        since=pd("2026-01-10"), starts_on=pd("2026-02-01"), source_id=1,
        as_of=pd("2026-01-10"), updated_by="seed",
    )  # fmt: skip
    outlook = flight_outlook(route, route.as_of, on("2026-03-01"))
    assert outlook.expected is not None
    assert outlook.expected.passed
    assert outlook.mark is Mark.OVERDUE
    route.status = FlightStatus.OPERATING
    assert flight_outlook(route, route.as_of, on("2026-03-01")).expected is None


def test_only_provisional_figures_older_than_the_setting_may_have_been_revised() -> None:
    figure = TradeFigure(
        series=Series.INDIA_FY, period="FY2024-25", period_start=date(2024, 4, 1),
        period_end=date(2025, 3, 31), stage=Stage.PROVISIONAL, source_id=1,
        as_of=pd("2025-04-16"), updated_by="seed",
    )  # fmt: skip
    assert not on("2025-08-14").revisable(figure)
    assert on("2025-08-15").revisable(figure)
    figure.stage = Stage.FINAL
    assert not on("2030-01-01").revisable(figure)


def test_the_last_update_counts_history_but_not_an_edit_that_was_undone(
    seeded_engine: Engine,
) -> None:
    today = on("2026-12-06")

    def nathu_la() -> records.RecordView[BorderPass]:
        with Session(seeded_engine) as session:
            found = records.border_pass(session, "nathu-la", today)
            assert found is not None
            return found

    assert nathu_la().outlook.last_update == pd("2025-09-15")
    moment = datetime(2026, 12, 1, 9, tzinfo=UTC)
    with Session(seeded_engine) as session:
        line = "pass nathu-la reopening_scheduled since=2027-05-01"
        edit = editing.parse_set(session, load_catalog(session), line)
        editing.apply(session, edit, actor="tg:7", now=moment)
        session.commit()
    # The edit (a status dated ahead) is news of the day it was made: the mark goes.
    assert nathu_la().outlook.last_update == pd("2026-12-01")
    assert nathu_la().outlook.mark is None
    with Session(seeded_engine) as session:
        editing.undo(session, actor="tg:7", now=moment)
        session.commit()
    assert nathu_la().outlook.last_update == pd("2025-09-15")
    assert nathu_la().outlook.mark is Mark.QUIET
