"""Whole years, years so far and months: labelled apart, read apart, compared only with their
own kind, and never silently stood in for one another."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from sqlmodel import Session, select

from bot.models import TradeFigure
from bot.services import figures
from bot.services.dataset import DatasetError, load_bundled_dataset, parse_dataset
from bot.services.questions import catalog_from_dataset, parse_question
from bot.telegram.app import build_application
from bot.telegram.offline import OfflineRequest
from bot.trade_periods import Period, label_of, read_period, read_span, year_earlier
from bot.vocabulary import Granularity, Quantity, Series
from tests.conftest import FAKE_TOKEN, BotUnderTest
from tests.test_admin import EDITOR, buttons, press, say, team  # noqa: F401  (team: a fixture)

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import Engine

    from bot.config import Settings

IN, CN = Series.INDIA_FY, Series.CHINA_CY
YEAR, SO_FAR, MONTH = Granularity.YEAR, Granularity.CUMULATIVE, Granularity.MONTH


# --- Labels ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("series", "label", "expected"),
    [
        (IN, "FY2024-25", Period(YEAR, date(2024, 4, 1), date(2025, 3, 31))),
        (CN, "2025", Period(YEAR, date(2025, 1, 1), date(2025, 12, 31))),
        (IN, "2025-10", Period(MONTH, date(2025, 10, 1), date(2025, 10, 31))),
        (CN, "2024-02", Period(MONTH, date(2024, 2, 1), date(2024, 2, 29))),
        (IN, "2025-04/2026-01", Period(SO_FAR, date(2025, 4, 1), date(2026, 1, 31))),
        (CN, "2025-01/2025-10", Period(SO_FAR, date(2025, 1, 1), date(2025, 10, 31))),
    ],
)
def test_a_label_names_its_months_and_back(series: Series, label: str, expected: Period) -> None:
    assert read_period(series, label) == expected
    assert label_of(series, expected) == label


@pytest.mark.parametrize(
    ("series", "label"),
    [
        (CN, "FY2024-25"),  # a fiscal year is India's
        (IN, "2025"),  # a calendar year is Chinese customs'
        (IN, "FY2024-26"),
        (IN, "2025-13"),
        (IN, "2025-01/2025-10"),  # India's year starts in April
        (IN, "2025-04/2026-03"),  # the whole year: that is FY2025-26
        (IN, "2025-05/2025-10"),  # not from the start of the year
        (CN, "2025-01/2025-01"),  # one month is a month
    ],
)
def test_labels_that_name_no_period_are_refused(series: Series, label: str) -> None:
    with pytest.raises(ValueError, match=r"period|year so far"):
        read_period(series, label)


def test_a_product_groups_span_may_be_calendar_months_of_indias_data() -> None:
    assert read_span("2025-01/2025-10") == Period(SO_FAR, date(2025, 1, 1), date(2025, 10, 31))
    assert read_span("2023").granularity is YEAR
    with pytest.raises(ValueError, match="run of months"):
        read_span("2024-01/2025-06")  # longer than a year


def test_a_year_earlier_is_the_same_months() -> None:
    feb = Period(MONTH, date(2024, 2, 1), date(2024, 2, 29))
    assert year_earlier(feb) == Period(MONTH, date(2023, 2, 1), date(2023, 2, 28))


def test_a_backup_from_before_keeps_its_part_year_as_the_year_so_far() -> None:
    """A file that stored April–December as FY2025-26 with `partial` reads as the months it
    covers, as the database migration (0010) makes of it."""
    figure = {
        "series": "india_fy",
        "period": "FY2025-26",
        "period_start": "2025-04-01",
        "period_end": "2025-12-31",
        "partial": "true",  # as a CSV cell
        "stage": "provisional",
        "exports": "14.247",
        "source": "dc",
        "as_of": "2026-01",
    }
    source = {"key": "dc", "title": "Chinese imports", "publisher": "Deccan Chronicle"}
    dataset = parse_dataset({"sources": [source], "trade_figures": [figure]}, origin="old.json")
    (item,) = dataset.trade_figures
    assert (item.period, item.granularity, item.partial) == ("2025-04/2025-12", SO_FAR, True)
    whole = {**figure, "partial": "false", "period_end": "2026-03-31"}
    (year,) = parse_dataset(
        {"sources": [source], "trade_figures": [whole]}, origin="x"
    ).trade_figures
    assert (year.period, year.granularity, year.partial) == ("FY2025-26", YEAR, False)
    wrong = {**whole, "period": "2025-10", "period_end": "2025-10-30"}
    with pytest.raises(DatasetError, match="runs from 2025-10-01 to 2025-10-31"):
        parse_dataset({"sources": [source], "trade_figures": [wrong]}, origin="x")


# --- Reading them apart ---------------------------------------------------------------------------


def test_each_kind_is_read_apart_and_compared_with_its_own(seeded_engine: Engine) -> None:
    with Session(seeded_engine) as session:
        years = figures.load_series(session, IN)
        so_far = {v.figure.period: v for v in figures.load_series(session, IN, SO_FAR)}
        months = {v.figure.period: v for v in figures.load_series(session, IN, MONTH)}
    assert all(view.figure.granularity is YEAR for view in years)
    assert years[-1].figure.period == "FY2024-25"
    assert years[-1].base is not None
    assert years[-1].base.period == "FY2023-24"  # the year before
    # A year so far against the same months a year earlier; a month likewise.
    jan = so_far["2025-04/2026-01"]
    assert jan.base is not None
    assert jan.base.period == "2024-04/2025-01"
    assert round(jan.growth[Quantity.EXPORTS].computed or 0, 1) == Decimal("38.3")
    assert months["2025-10"].base is not None
    assert months["2025-10"].base.period == "2024-10"
    # Reported rates stand; none is checked against rounded monthly values.
    assert months["2025-10"].growth[Quantity.EXPORTS].reported == Decimal("42.35")
    assert months["2025-10"].flags == ()
    assert months["2025-11"].base is None  # November 2024 is not held: no rate is made up


# --- Questions answered from their own kind -------------------------------------------------------


@pytest.fixture(scope="module")
def catalog() -> Any:
    return catalog_from_dataset(load_bundled_dataset())


@pytest.mark.parametrize(
    ("text", "labels"),
    [
        ("exports to china in october 2025", ["2025-10"]),
        ("exports in oct. 2025", ["2025-10"]),
        ("2025 october exports", ["2025-10"]),
        ("exports 2025-10", ["2025-10"]),
        ("deficit 2010-11", ["FY2010-11"]),  # a fiscal year, not November 2010
        ("deficit april to january", ["Apr-Jan"]),
        ("exports apr-jan FY2025-26", ["Apr-Jan 2025"]),
        ("exports jan-mar FY2025-26", ["Jan-Mar 2026"]),  # a fiscal year's Jan-Mar: its second year
        ("exports april to january 2026", ["Apr-Jan 2025"]),
        ("april to january 2024-25 exports", ["Apr-Jan 2024"]),
        ("deficit so far this year", ["so far"]),
        ("this fiscal year so far deficit", ["so far"]),
        ("FY2025-26 deficit so far", ["FY2025-26"]),  # the year, whose latest part answers
        ("deficit since 2019 till now", []),
        ("may i see the deficit", ["latest"]),  # "may" alone is no month
    ],
)
def test_month_and_so_far_phrasings(text: str, labels: list[str], catalog: Any) -> None:
    assert [ref.label() for ref in parse_question(text, catalog).periods] == labels


@pytest.fixture
async def bot_on(make_settings: Callable[..., Settings], seeded_engine: Engine) -> Any:
    """The application with its clock pinned to a given day (call it with the day)."""
    opened: list[Any] = []

    async def start(day: datetime) -> BotUnderTest:
        request = OfflineRequest()
        application = build_application(
            make_settings(telegram_bot_token=FAKE_TOKEN),
            engine=seeded_engine,
            request=request,
            clock=lambda: day,
        )
        await application.initialize()
        opened.append(application)
        return BotUnderTest(application, request)

    yield start
    for application in opened:
        await application.shutdown()


async def test_so_far_is_the_year_of_the_day_asked(bot_on: Any) -> None:
    """In March 2026 "so far this year" is FY2025-26 so far; in November 2026 nothing of
    FY2026-27 is held, which is said, beside the latest part of a year held."""
    march = await bot_on(datetime(2026, 3, 1, 9, tzinfo=UTC))
    (text,) = await march.replies("deficit so far this year")
    assert text.startswith("India's fiscal years (Ministry of Commerce, April–March)")
    assert "Apr 2025 – Jan 2026 (FY2025-26 so far), provisional:" in text
    assert "USD 92.3 bn (+10.5%* on Apr 2024 – Jan 2025)" in text
    assert "I hold no figures" not in text
    november = await bot_on(datetime(2026, 11, 21, 9, tzinfo=UTC))
    (text,) = await november.replies("deficit so far this year")
    assert "I hold no figures for FY2026-27 so far in India FY data." in text
    assert "The latest part of a year I hold (never compared with a whole year):" in text
    assert "USD 92.3 bn" in text
    for whole_year in ("99.2", "116.12", "FY2024-25"):
        assert whole_year not in text


async def test_a_month_is_answered_from_a_month_never_a_year(bot: BotUnderTest) -> None:
    (text,) = await bot.replies("exports to china in october 2025")
    assert "Oct 2025, provisional:" in text
    assert "India's exports to China: USD 1.62 bn (+42.4% on Oct 2024)" in text
    assert "ZoomNews" in text
    for year in ("19.75", "14.25", "Chinese customs"):
        assert year not in text
    (missing,) = await bot.replies("deficit in september 2025")
    assert "No figure for Sep 2025 in India FY data (it covers Apr 2024 to Jan 2026)." in missing
    for year in ("116.12", "99.2", "92.3"):
        assert year not in missing


async def test_a_month_is_compared_with_a_month_only(bot: BotUnderTest) -> None:
    (text, *_) = await bot.replies("october 2025 vs october 2024 exports")
    assert "USD 1.15 bn in Oct 2024 → USD 1.62 bn in Oct 2025: +0.47* bn (+40.9%*)" in text
    (refused, *_) = await bot.replies("exports october 2025 vs FY2024-25")
    assert "A month is compared only with another month" in refused
    assert "14.25" not in refused


@pytest.mark.usefixtures("team")
async def test_an_editor_adds_a_month(bot: BotUnderTest, seeded_engine: Engine) -> None:
    preview = await say(
        bot, EDITOR, "/addfigure india_fy 2026-02 exports=1.9 source=https://example.org/feb"
    )
    assert "Feb 2026, provisional:" in preview["plain"]
    await press(bot, EDITOR, buttons(preview)["✅ Confirm"])
    with Session(seeded_engine) as session:
        figure = session.exec(select(TradeFigure).where(TradeFigure.period == "2026-02")).one()
    assert (figure.granularity, figure.partial) == (MONTH, True)
    assert (figure.period_start, figure.period_end) == (date(2026, 2, 1), date(2026, 2, 28))
    (text,) = await bot.replies("exports in february 2026")
    assert "USD 1.9 bn" in text
    refused = await say(bot, EDITOR, "/addfigure india_fy 2026-13 exports=1 source=https://x.org")
    assert "a month (2025-10)" in refused["plain"]
