"""The bundled seed dataset (bot/data/*.yaml): the sourced facts are present, right and sourced.

No database and no network: the YAML files are read through the dataset schema only.
Values are compared as Decimals on the right quantity of the right period, so a figure typed
into the wrong column or the wrong series fails here.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import pytest

from bot.partial_date import PartialDate
from bot.services.dataset import figure_key, load_bundled_dataset
from bot.services.goods import DRIVERS_SUBJECT
from bot.vocabulary import Granularity, RecordType, Series, Stage

if TYPE_CHECKING:
    from bot.services.dataset import Dataset, HistoryItem, TradeFigureItem


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return load_bundled_dataset()


def _figure(dataset: Dataset, series: str, period: str) -> TradeFigureItem:
    wanted = figure_key(Series(series), period)
    matches = [f for f in dataset.trade_figures if f.key == wanted]
    assert len(matches) == 1, f"expected one figure {wanted}, found {len(matches)}"
    return matches[0]


def _pd(text: str) -> PartialDate:
    return PartialDate.parse(text)


# --- Trade figures -----------------------------------------------------------------------------

# Every reported ([S]) value of India's fiscal years: (period, quantity, value).
INDIA_FY_VALUES = [
    ("FY2015-16", "deficit", "52.69"),
    ("FY2016-17", "exports", "10.17"),
    ("FY2016-17", "imports", "61.28"),
    ("FY2016-17", "deficit", "51.11"),
    ("FY2017-18", "exports", "13.33"),
    ("FY2017-18", "imports", "76.38"),
    ("FY2018-19", "exports", "16.75"),
    ("FY2018-19", "imports", "70.32"),
    ("FY2018-19", "deficit", "53.57"),
    ("FY2019-20", "exports", "16.61"),
    ("FY2019-20", "imports", "65.26"),
    ("FY2020-21", "exports", "21.19"),
    ("FY2020-21", "imports", "65.21"),
    ("FY2020-21", "deficit", "44.02"),
    ("FY2021-22", "exports", "21.26"),
    ("FY2021-22", "imports", "94.57"),
    ("FY2021-22", "deficit", "73.31"),
    ("FY2022-23", "exports", "15.31"),
    ("FY2022-23", "imports", "98.51"),
    ("FY2023-24", "exports", "16.66"),
    ("FY2023-24", "imports", "101.73"),
    ("FY2023-24", "deficit", "85.07"),
    ("FY2024-25", "exports", "14.25"),
    ("FY2024-25", "imports", "113.45"),
    ("FY2024-25", "deficit", "99.2"),
    # Years so far and months (bot/trade_periods.py labels).
    ("2025-04/2025-12", "exports", "14.247"),
    ("2025-04/2025-12", "imports", "95.95"),
    ("2025-04/2026-01", "exports", "15.88"),
    ("2025-04/2026-01", "total", "124.06"),
    ("2025-04/2026-01", "deficit", "92.3"),
    ("2025-04/2025-11", "exports", "12.22"),
    ("2025-04/2025-10", "exports", "10.03"),
    ("2025-04/2025-07", "exports", "5.76"),
    ("2024-04/2025-01", "exports", "11.48"),
    ("2024-04/2025-01", "imports", "95.01"),
    ("2024-04/2025-01", "deficit", "83.52"),
    ("2024-04/2024-11", "exports", "9.2"),
    ("2026-01", "exports", "1.63"),
    ("2025-12", "exports", "2.04"),
    ("2025-12", "imports", "11.7"),
    ("2025-11", "exports", "2.2"),
    ("2025-10", "exports", "1.62"),
    ("2025-07", "exports", "1.35"),
    ("2025-06", "exports", "1.38"),
    ("2025-05", "exports", "1.63"),
    ("2025-04", "exports", "1.39"),
    ("2025-01", "exports", "1.05"),
    ("2025-01", "imports", "10.48"),
    ("2024-10", "exports", "1.15"),
    ("2024-10", "imports", "9.6"),
    ("2024-10", "total", "10.7"),
    ("2024-07", "exports", "1.06"),
    ("2024-05", "exports", "1.32"),
    ("2024-04", "exports", "1.25"),
]

# Every reported value of Chinese customs' calendar years, from India's point of view:
# China's exports to India are India's imports.
CHINA_CY_VALUES = [
    ("2019", "imports", "74.72"),
    ("2019", "exports", "17.95"),
    ("2019", "total", "92.68"),
    ("2019", "deficit", "56.77"),
    ("2020", "imports", "66.78"),
    ("2020", "exports", "20.87"),
    ("2020", "total", "87.65"),
    ("2020", "deficit", "45.91"),
    ("2021", "imports", "97.52"),
    ("2021", "exports", "28.14"),
    ("2021", "total", "125.66"),
    ("2021", "deficit", "69.38"),
    ("2022", "imports", "118.5"),
    ("2022", "exports", "17.48"),
    ("2022", "total", "135.98"),
    ("2022", "deficit", "101.02"),
    ("2023", "total", "136.2"),
    ("2025", "imports", "135.87"),
    ("2025", "exports", "19.75"),
    ("2025", "total", "155.62"),
    ("2025", "deficit", "116.12"),
]

# (series, period, primary source, as_of)
FIGURE_SOURCES = [
    ("india_fy", "FY2015-16", "lok-sabha-2016-11-28", "2016-11-28"),
    ("india_fy", "FY2016-17", "financial-express-2018-06-04", "2018-06-04"),
    ("india_fy", "FY2017-18", "oneindia-2019-04-07", "2019-04-07"),
    ("india_fy", "FY2018-19", "rajya-sabha-2021-08-06", "2021-08-06"),
    ("india_fy", "FY2019-20", "rajya-sabha-2021-08-06", "2021-08-06"),
    ("india_fy", "FY2020-21", "rajya-sabha-2021-08-06", "2021-08-06"),
    ("india_fy", "FY2021-22", "rajya-sabha-2022-12", "2022-12-10"),
    ("india_fy", "FY2022-23", "east-coast-daily-2024-06-19", "2024-06-19"),
    ("india_fy", "FY2023-24", "ndtv-pti-2025-04-17", "2025-04-17"),
    ("india_fy", "FY2024-25", "ndtv-pti-2025-04-17", "2025-04-17"),
    ("india_fy", "2025-04/2025-12", "deccan-chronicle-2026-01", "2026-01"),
    ("india_fy", "2025-04/2026-01", "deccan-chronicle-2026-02", "2026-02-16"),
    ("india_fy", "2025-04/2025-11", "business-standard-2025-12-16", "2025-12-16"),
    ("india_fy", "2025-04/2025-10", "zoomnews-2025-10", "2025-11"),
    ("india_fy", "2025-04/2025-07", "fpj-pti-2025-08-23", "2025-08-23"),
    ("india_fy", "2024-04/2025-01", "keviang-2025-02-24", "2025-02-24"),
    ("india_fy", "2024-04/2024-11", "pti-2026-01-10", "2026-01-10"),
    ("india_fy", "2026-01", "deccan-chronicle-2026-02", "2026-02-16"),
    ("india_fy", "2025-12", "daily-telegraph-nz-2026-01", "2026-01"),
    ("india_fy", "2025-11", "business-standard-2025-12-16", "2025-12-16"),
    ("india_fy", "2025-10", "zoomnews-2025-10", "2025-11"),
    ("india_fy", "2025-07", "fpj-pti-2025-08-23", "2025-08-23"),
    ("india_fy", "2025-06", "fpj-pti-2025-08-23", "2025-08-23"),
    ("india_fy", "2025-05", "fpj-pti-2025-08-23", "2025-08-23"),
    ("india_fy", "2025-04", "fpj-pti-2025-08-23", "2025-08-23"),
    ("india_fy", "2025-01", "keviang-2025-02-24", "2025-02-24"),
    ("india_fy", "2024-10", "business-standard-2024-11-15", "2024-11-15"),
    ("india_fy", "2024-07", "fpj-pti-2025-08-23", "2025-08-23"),
    ("india_fy", "2024-05", "fpj-pti-2025-08-23", "2025-08-23"),
    ("india_fy", "2024-04", "fpj-pti-2025-08-23", "2025-08-23"),
    ("china_cy", "2019", "gac-pti-2020-01-15", "2020-01-14"),
    ("china_cy", "2020", "gac-republic-world-2021-02-23", "2021-02-23"),
    ("china_cy", "2021", "gac-pti-wion-2022-01", "2022-01-14"),
    ("china_cy", "2022", "gac-pti-2023-01-13", "2023-01-13"),
    ("china_cy", "2023", "the-hindu-2024-02-07", "2024-02-07"),
    ("china_cy", "2025", "gac-pti-tribune-2026-01-14", "2026-01-14"),
]

# Values that are derived ([D]) or were never reported: the bot computes them, never stores them.
NOT_STORED = [
    ("india_fy", "FY2015-16", "exports"),
    ("india_fy", "FY2015-16", "imports"),
    ("india_fy", "FY2017-18", "deficit"),  # 63.05 is derived; the SBI's 62.94 is a report
    ("india_fy", "FY2019-20", "deficit"),  # 48.65 is derived; BusinessLine's 48.64 is a report
    ("india_fy", "FY2022-23", "deficit"),  # 83.20 is derived
    ("india_fy", "2025-04/2025-12", "deficit"),  # 81.70 is derived
    ("india_fy", "2025-04/2026-01", "imports"),  # 108.18 is derived
    ("china_cy", "2023", "exports"),
    ("china_cy", "2023", "imports"),
    ("china_cy", "2023", "deficit"),
]

# Reported growth rates: (series, period, field, value).
GROWTH = [
    ("india_fy", "FY2024-25", "exports_growth_pct", "-14.5"),
    ("india_fy", "FY2024-25", "imports_growth_pct", "11.52"),
    ("india_fy", "2025-04/2025-12", "imports_growth_pct", "13.46"),
    ("india_fy", "2025-04/2025-10", "exports_growth_pct", "24.77"),
    ("india_fy", "2025-04/2025-07", "exports_growth_pct", "20"),
    ("india_fy", "2024-04/2025-01", "exports_growth_pct", "-14.85"),
    ("india_fy", "2024-04/2025-01", "imports_growth_pct", "10.6"),
    ("india_fy", "2025-12", "exports_growth_pct", "67.35"),
    ("india_fy", "2025-12", "imports_growth_pct", "20"),
    ("india_fy", "2025-11", "exports_growth_pct", "90"),
    ("india_fy", "2025-10", "exports_growth_pct", "42.35"),
    ("india_fy", "2025-06", "exports_growth_pct", "17"),
    ("india_fy", "2024-10", "exports_growth_pct", "-9.5"),
    ("india_fy", "2024-10", "imports_growth_pct", "0.74"),
    ("india_fy", "2024-10", "total_growth_pct", "-0.46"),
    ("china_cy", "2023", "total_growth_pct", "1.5"),
    ("china_cy", "2025", "imports_growth_pct", "12.8"),
    ("china_cy", "2025", "exports_growth_pct", "9.7"),
]

# Another source's value for the same quantity: (series, period, quantity, value, source).
REPORTS = [
    ("china_cy", "2025", "exports", "20.5", "unattributed-report-2026"),
    ("india_fy", "FY2024-25", "imports", "113.5", "reuters-business-standard-2025-04-16"),
    ("india_fy", "FY2016-17", "deficit", "51.11", "lok-sabha-2017-12-18"),
    ("india_fy", "FY2017-18", "deficit", "62.94", "financial-express-2018-06-04"),
    ("india_fy", "FY2019-20", "deficit", "48.64", "businessline-2020-09"),
    ("india_fy", "FY2022-23", "deficit", "77.6", "moneycontrol-2023-04-14"),
    ("india_fy", "FY2023-24", "deficit", "85.06", "national-herald-2025-02"),
    ("india_fy", "2025-04/2025-12", "exports", "14.2", "bharat-horizon-rajya-sabha-apr-dec-2025"),
    ("india_fy", "2025-12", "imports", "11.69", "deccan-chronicle-2026-01"),
    ("india_fy", "2025-12", "exports", "2.05", "deccan-chronicle-2026-02"),
    ("india_fy", "2024-04/2025-01", "exports", "11.48", "deccan-chronicle-2026-02"),
    ("china_cy", "2021", "deficit", "69.56", "gac-pti-2023-01-13"),
]

# Whole years still provisional; every month and year so far is provisional too.
PROVISIONAL = {("india_fy", "FY2024-25"), ("china_cy", "2025")}


@pytest.mark.parametrize(("period", "quantity", "value"), INDIA_FY_VALUES)
def test_india_fiscal_year_values(dataset: Dataset, period: str, quantity: str, value: str) -> None:
    assert getattr(_figure(dataset, "india_fy", period), quantity) == Decimal(value)


@pytest.mark.parametrize(("period", "quantity", "value"), CHINA_CY_VALUES)
def test_china_calendar_year_values(
    dataset: Dataset, period: str, quantity: str, value: str
) -> None:
    assert getattr(_figure(dataset, "china_cy", period), quantity) == Decimal(value)


@pytest.mark.parametrize(("series", "period", "source", "as_of"), FIGURE_SOURCES)
def test_figure_source_and_as_of(
    dataset: Dataset, series: str, period: str, source: str, as_of: str
) -> None:
    figure = _figure(dataset, series, period)
    assert figure.source == source
    assert figure.as_of == _pd(as_of)


def test_figure_as_of_is_the_source_publication_date(dataset: Dataset) -> None:
    """The source's date; a page that gives none says so, and the figure's date is when the
    data it reports was published (another dated report of the same release)."""
    sources = {s.key: s for s in dataset.sources}
    for figure in dataset.trade_figures:
        source = sources[figure.source]
        if source.published_on is not None:
            assert figure.as_of == source.published_on, figure.key
        else:
            assert source.note is not None, figure.key
            assert "gives no date" in source.note, figure.key


def test_exactly_the_sourced_periods(dataset: Dataset) -> None:
    periods = {(f.series.value, f.period) for f in dataset.trade_figures}
    assert periods == {(series, period) for series, period, _, _ in FIGURE_SOURCES}


def test_no_calendar_2024(dataset: Dataset) -> None:
    assert not [
        f for f in dataset.trade_figures if f.series is Series.CHINA_CY and f.period == "2024"
    ]
    assert "cy2024-not-found" in {n.key for n in dataset.notes}


@pytest.mark.parametrize(("series", "period", "quantity"), NOT_STORED)
def test_derived_values_are_not_stored(
    dataset: Dataset, series: str, period: str, quantity: str
) -> None:
    assert getattr(_figure(dataset, series, period), quantity) is None


def test_only_listed_values_are_stored(dataset: Dataset) -> None:
    """Nothing beyond the tables above: a stray typed-in (derived) value fails here."""
    expected = {("india_fy", p, q) for p, q, _ in INDIA_FY_VALUES}
    expected |= {("china_cy", p, q) for p, q, _ in CHINA_CY_VALUES}
    stored = {
        (f.series.value, f.period, q)
        for f in dataset.trade_figures
        for q in ("exports", "imports", "total", "deficit")
        if getattr(f, q) is not None
    }
    assert stored == expected


@pytest.mark.parametrize(("series", "period", "field", "value"), GROWTH)
def test_reported_growth(
    dataset: Dataset, series: str, period: str, field: str, value: str
) -> None:
    assert getattr(_figure(dataset, series, period), field) == Decimal(value)


@pytest.mark.parametrize(("series", "period", "quantity", "value", "source"), REPORTS)
def test_other_reports(
    dataset: Dataset, series: str, period: str, quantity: str, value: str, source: str
) -> None:
    reports = _figure(dataset, series, period).reports
    assert any(
        r.quantity.value == quantity and r.value == Decimal(value) and r.source == source
        for r in reports
    )


def test_stages(dataset: Dataset) -> None:
    for figure in dataset.trade_figures:
        provisional = figure.partial or (figure.series.value, figure.period) in PROVISIONAL
        assert figure.stage is (Stage.PROVISIONAL if provisional else Stage.FINAL), figure.key


def test_period_bounds(dataset: Dataset) -> None:
    for figure in dataset.trade_figures:
        if figure.granularity is Granularity.MONTH:
            assert figure.period_start.isoformat() == f"{figure.period}-01", figure.key
            assert figure.period_end.month == figure.period_start.month, figure.key
        elif figure.granularity is Granularity.CUMULATIVE:
            first, last = figure.period.split("/")
            assert figure.period_start.isoformat() == f"{first}-01", figure.key
            assert figure.period_end.isoformat().startswith(last), figure.key
            assert figure.period_start.month == 4, figure.key  # India's fiscal year so far
        elif figure.series is Series.INDIA_FY:
            start_year = int(figure.period[2:6])
            assert (figure.period_start.year, figure.period_start.month) == (start_year, 4)
            assert figure.period_start.day == 1
            if not figure.partial:
                assert figure.period_end.isoformat() == f"{start_year + 1}-03-31", figure.key
        else:
            assert figure.period_start.isoformat() == f"{figure.period}-01-01"
            assert figure.period_end.isoformat() == f"{figure.period}-12-31"


def test_parts_of_years_are_labelled_by_their_months(dataset: Dataset) -> None:
    """A month or a year so far is never stored under a year's label."""
    figure = _figure(dataset, "india_fy", "2025-04/2025-12")
    assert figure.partial
    assert figure.granularity is Granularity.CUMULATIVE
    assert figure.coverage == "April–December"
    assert figure.period_end.isoformat() == "2025-12-31"
    for item in dataset.trade_figures:
        assert item.partial == (item.granularity is not Granularity.YEAR), item.key
        if item.granularity is not Granularity.YEAR:
            assert not item.period.startswith("FY"), item.key
    assert not [f for f in dataset.trade_figures if f.period == "FY2025-26"]


# --- Border passes -----------------------------------------------------------------------------

# (slug, status, status_since, expected_reopening, trade_since, source)
PASSES = [
    ("lipulekh", "reopening_scheduled", "2026-03-21", "2026-06", "1992", "pti-2026-03-21"),
    ("shipki-la", "reopening_scheduled", "2025-12-15", "2026-06", "1994", "pti-2025-12-15"),
    (
        "nathu-la",
        "reopening_agreed",
        "2025-08-19",
        None,
        "2006-07-06",
        "telegraph-2025-08-20",
    ),
]


@pytest.mark.parametrize(("slug", "status", "since", "expected", "trade_since", "source"), PASSES)
def test_passes(
    dataset: Dataset,
    slug: str,
    status: str,
    since: str,
    expected: str | None,
    trade_since: str,
    source: str,
) -> None:
    (item,) = [p for p in dataset.passes if p.slug == slug]
    assert item.status.value == status
    assert item.status_since == _pd(since)
    assert item.expected_reopening == (_pd(expected) if expected else None)
    assert item.trade_since == _pd(trade_since)
    assert item.source == source
    assert item.aliases


# (slug, season_start, season_end): the latest announced season, as precise as reported.
SEASONS = [
    ("lipulekh", "2026-06", "2026-09"),  # PTI, 21 Mar 2026: the session runs June–September
    ("shipki-la", "2026-06-01", "2026-11-30"),  # PTI, 15 Dec 2025: the 2026 season, from June
    ("nathu-la", None, None),  # no restart date found
]


@pytest.mark.parametrize(("slug", "start", "end"), SEASONS)
def test_pass_seasons(dataset: Dataset, slug: str, start: str | None, end: str | None) -> None:
    (item,) = [p for p in dataset.passes if p.slug == slug]
    assert item.season_start == (_pd(start) if start else None)
    assert item.season_end == (_pd(end) if end else None)


def test_the_rare_earth_pause_has_its_end_and_source(dataset: Dataset) -> None:
    """China's pause of its 9 Oct 2025 controls is valid through 10 Nov 2026 (MOFCOM), the
    one announced end among the deals; no other deal has an end its sources announce."""
    ends = {d.slug: (d.status_until, d.until_note) for d in dataset.deals if d.status_until}
    assert ends == {
        "rare-earth-magnets": (
            _pd("2026-11-10"),
            "China's one-year pause of its 9 Oct 2025 wider rare-earth export controls",
        )
    }
    (event,) = [h for h in dataset.history if h.key == "rare-earth-magnets:event:2025-11-07"]
    assert event.source == "rawmaterials-2025-11-07"
    assert "valid through 10 Nov 2026" in (event.note or "")


def test_no_flight_has_an_announced_start(dataset: Dataset) -> None:
    # Every route on record is operating; none was announced for a later date.
    assert [f.slug for f in dataset.flights if f.starts_on is not None] == []


def test_exactly_three_passes(dataset: Dataset) -> None:
    assert {p.slug for p in dataset.passes} == {slug for slug, *_ in PASSES}


def _status_rows(dataset: Dataset, record_type: RecordType, key: str) -> list[HistoryItem]:
    rows = [
        h
        for h in dataset.history
        if h.record_type is record_type and h.record_key == key and h.field == "status"
    ]
    return sorted(rows, key=lambda h: h.occurred_on.isoformat() if h.occurred_on else "")


def test_nathu_la_history(dataset: Dataset) -> None:
    rows = _status_rows(dataset, RecordType.PASS, "nathu-la")
    assert [(h.occurred_on, h.new) for h in rows] == [
        (_pd("2006-07-06"), "open"),
        (_pd("2020-04-22"), "suspended"),
        (_pd("2025-08-19"), "reopening_agreed"),
    ]
    assert rows[-1].source == "telegraph-2025-08-20"


# --- Deals -------------------------------------------------------------------------------------

# (slug, direction, status, status_since, source)
DEALS = [
    (
        "rare-earth-magnets",
        "china_to_india",
        "in_effect",
        "2025-09",
        "business-standard-2025-12-25",
    ),
    ("urea", "china_to_india", "restricted", "2025-10-15", "business-standard-2026-03-12"),
    (
        "specialty-fertilisers",
        "china_to_india",
        "restricted",
        "2025-10-15",
        "business-standard-2025-12-22",
    ),
    ("pharmaceutical-intermediates", "china_to_india", "proposed", "2025-08", "ginc-2025-08"),
    (
        "tunnel-boring-machines",
        "china_to_india",
        "proposed",
        "2025-08-18",
        "hindustan-times-2026-02-04",
    ),
    ("spices-exports", "india_to_china", "proposed", "2025-08", "ginc-2025-08"),
    ("seafood-exports", "india_to_china", "proposed", "2025-08", "ginc-2025-08"),
    ("pharmaceutical-exports", "india_to_china", "proposed", "2025-08", "ginc-2025-08"),
]


@pytest.mark.parametrize(("slug", "direction", "status", "since", "source"), DEALS)
def test_deals(
    dataset: Dataset, slug: str, direction: str, status: str, since: str, source: str
) -> None:
    (item,) = [d for d in dataset.deals if d.slug == slug]
    assert item.direction.value == direction
    assert item.status.value == status
    assert item.status_since == _pd(since)
    assert item.source == source


def test_exactly_the_sourced_deals(dataset: Dataset) -> None:
    assert {d.slug for d in dataset.deals} == {slug for slug, *_ in DEALS}


def test_rare_earth_history(dataset: Dataset) -> None:
    rows = _status_rows(dataset, RecordType.DEAL, "rare-earth-magnets")
    assert [(h.occurred_on, h.new) for h in rows] == [
        (_pd("2025-04-04"), "restricted"),
        (_pd("2025-08"), "proposed"),
        (_pd("2025-09"), "in_effect"),
    ]


@pytest.mark.parametrize("slug", ["urea", "specialty-fertilisers"])
def test_fertiliser_exports_eased_in_2025_then_closed_from_15_october(
    dataset: Dataset, slug: str
) -> None:
    rows = _status_rows(dataset, RecordType.DEAL, slug)
    assert [h.new for h in rows] == ["restricted", "in_effect", "restricted"]
    assert rows[-1].occurred_on == _pd("2025-10-15")
    assert rows[-1].source == "business-standard-2025-10-21"


# --- Flights -----------------------------------------------------------------------------------

# (slug, airline, flight_number, frequency, since, source)
FLIGHTS = [
    ("kolkata-guangzhou", "IndiGo", "6E1703", "daily", "2025-10-26", "lokmat-times-2025-10-27"),
    (
        "shanghai-delhi",
        "China Eastern",
        "MU563",
        "daily from 2 Jan 2026",
        "2025-11-09",
        "new-indian-express-2025-12-16",
    ),
    ("delhi-guangzhou", "IndiGo", None, "daily", "2025-11-10", "capa-2025-11-11"),
    (
        "air-india-delhi-shanghai",
        "Air India",
        None,
        "four flights a week",
        "2026-02-01",
        "wion-2026-02-01",
    ),
]


@pytest.mark.parametrize(("slug", "airline", "number", "frequency", "since", "source"), FLIGHTS)
def test_flights(
    dataset: Dataset,
    slug: str,
    airline: str,
    number: str | None,
    frequency: str | None,
    since: str,
    source: str,
) -> None:
    (item,) = [f for f in dataset.flights if f.slug == slug]
    assert item.airline == airline
    assert item.flight_number == number
    assert item.frequency == frequency
    assert item.status.value == "operating"
    assert item.since == _pd(since)
    assert item.source == source


def test_exactly_the_sourced_flights(dataset: Dataset) -> None:
    assert {f.slug for f in dataset.flights} == {slug for slug, *_ in FLIGHTS}


# --- Whole-dataset rules -----------------------------------------------------------------------


def _records(dataset: Dataset) -> list[tuple[str, Any]]:
    return [
        *((f"figure {f.key}", f) for f in dataset.trade_figures),
        *((f"pass {p.slug}", p) for p in dataset.passes),
        *((f"deal {d.slug}", d) for d in dataset.deals),
        *((f"flight {f.slug}", f) for f in dataset.flights),
        *((f"note {n.key}", n) for n in dataset.notes),
        *((f"composition {c.key}", c) for c in dataset.composition),
    ]


def test_every_record_has_a_source_and_as_of(dataset: Dataset) -> None:
    sources = {s.key for s in dataset.sources}
    for name, record in _records(dataset):
        assert record.source in sources, name
        assert record.as_of is not None, name


def test_every_source_is_used(dataset: Dataset) -> None:
    cited = {record.source for _, record in _records(dataset)}
    cited |= {r.source for f in dataset.trade_figures for r in f.reports}
    cited |= {h.source for h in dataset.history if h.source is not None}
    assert {s.key for s in dataset.sources} == cited


def test_every_source_a_reader_can_follow(dataset: Dataset) -> None:
    """A public page for every source but the one report no archive holds, and a readable name."""
    assert [s.key for s in dataset.sources if s.url is None] == ["unattributed-report-2026"]
    for source in dataset.sources:
        shown = f"{source.title} {source.publisher}".lower()
        assert "not recorded" not in shown, source.key
        assert "seed article" not in shown, source.key
        assert "unknown" not in shown, source.key


def test_every_history_row_names_its_source(dataset: Dataset) -> None:
    assert [h.key for h in dataset.history if h.source is None] == []


def test_history_rows(dataset: Dataset) -> None:
    for h in dataset.history:
        assert h.occurred_on is not None, h.key
        prefix = f"{h.record_key}:{h.field or 'event'}:{h.occurred_on.isoformat()}"
        assert h.key == prefix or h.key.startswith(f"{prefix}:"), h.key
        assert h.actor is None
        assert h.at is None


@pytest.mark.parametrize(
    ("record_type", "attribute"),
    [("pass", "passes"), ("deal", "deals"), ("flight", "flights")],
)
def test_status_history_leads_to_the_current_status(
    dataset: Dataset, record_type: str, attribute: str
) -> None:
    """Each status row starts where the previous ended, and the last is the current status."""
    for record in getattr(dataset, attribute):
        rows = _status_rows(dataset, RecordType(record_type), record.slug)
        assert rows, f"{record_type} {record.slug} has no status history"
        assert rows[0].old is None
        for before, after in pairwise(rows):
            assert after.old == before.new, after.key
        assert rows[-1].new == record.status.value
        since = record.since if record_type == "flight" else record.status_since
        assert rows[-1].occurred_on == since


def test_note_subjects_point_at_records(dataset: Dataset) -> None:
    records = dataset.record_keys()
    for note in dataset.notes:
        if note.subject is None or note.subject == DRIVERS_SUBJECT:  # what drives the deficit
            continue
        kind, _, key = note.subject.partition(":")
        assert key in records[RecordType(kind)], note.key


# --- The data in Hindi -------------------------------------------------------------------------


def _texts(dataset: Dataset) -> list[tuple[str, str | None, str | None]]:
    """(where, English, Hindi) of every text readers see."""
    found: list[tuple[str, Any, tuple[str, ...]]] = []
    for figure in dataset.trade_figures:
        found.append((figure.key, figure, ("note",)))
        found.extend((f"{figure.key} report", report, ("note",)) for report in figure.reports)
    found.extend((p.slug, p, ("note", "season")) for p in dataset.passes)
    found.extend((d.slug, d, ("note", "until_note")) for d in dataset.deals)
    found.extend((f.slug, f, ("note", "frequency")) for f in dataset.flights)
    found.extend((n.key, n, ("note", "text")) for n in dataset.notes)
    found.extend((h.key, h, ("note",)) for h in dataset.history)
    return [
        (f"{where} {column}", getattr(item, column), getattr(item, f"{column}_hi"))
        for where, item, columns in found
        for column in columns
        if getattr(item, column)
    ]


_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def test_every_text_readers_see_has_its_hindi(dataset: Dataset) -> None:
    texts = _texts(dataset)
    assert len(texts) == 146
    assert [where for where, _, hindi in texts if not hindi] == []
    coverage = dataset.hindi_coverage()
    assert (coverage.texts, coverage.translated, coverage.missing) == (146, 146, 0)


def test_hindi_texts_are_devanagari_in_nfc(dataset: Dataset) -> None:
    for where, _, hindi in _texts(dataset):
        assert hindi is not None
        assert unicodedata.normalize("NFC", hindi) == hindi, where
        assert re.search(r"[\u0900-\u097f]", hindi), f"{where}: no Devanagari in {hindi!r}"
        assert not re.search(r"[\u0966-\u096f]", hindi), f"{where}: figures use 0-9"


def test_hindi_texts_give_the_same_figures_and_dates(dataset: Dataset) -> None:
    # Every number of the English (amounts, dates, years, periods, flight numbers) is in the
    # Hindi and no other: a translation changes the words, never the facts.
    for where, english, hindi in _texts(dataset):
        assert english is not None
        assert hindi is not None

        def numbers(text: str) -> set[str]:
            return {found.replace(",", "") for found in _NUMBER.findall(text)}

        assert numbers(hindi) == numbers(english), where


# Terms translated alike everywhere (docs/glossary-hi.md): where the English says the first, the
# Hindi says the second (both regular expressions: Hindi nouns change their ending with case).
GLOSSARY = [
    (r"\btrade deficit\b|\bdeficit\b", "घाट[ाे]"),
    (r"\bimport", "आयात"),
    (r"\bexport", "निर्यात"),
    (r"\brare[- ]earth magnets?\b", "दुर्लभ पृथ्वी चुंबक"),
    (r"\bfertilis", "उर्वरक"),
    (r"\bFY\d{4}-\d{2}\b", "वित्त वर्ष"),
    (r"\bcalendar[- ]year\b", "कैलेंडर वर्ष"),
    (r"\bUSD [\d.]+ bn\b", "अरब डॉलर"),
    (r"\bborder trade\b", "सीमा व्यापार"),
    (r"\bdirect flights\b", "सीधी उड़ानें"),
    (r"\bChinese customs\b", "चीनी सीमा शुल्क"),
    (r"\bNathu La\b", "नाथू ला"),
    (r"\bShipki La\b", "शिपकी ला"),
    (r"\bLipulekh\b", "लिपुलेख"),
    (r"\bMEA\b|\bMinistry of External Affairs\b", "विदेश मंत्रालय"),
    (r"\bCommerce Ministry\b|\bMinistry of Commerce\b", "वाणिज्य मंत्रालय"),
    (r"\bRajya Sabha\b", "राज्यसभा"),
    (r"\bLok Sabha\b", "लोकसभा"),
    (r"\bprovisional\b", "अनंतिम"),
    (r"\bWang Yi\b", "वांग यी"),
    (r"\bPTI\b", "पीटीआई"),
]


@pytest.mark.parametrize(("english", "hindi"), GLOSSARY)
def test_hindi_texts_keep_the_glossary(dataset: Dataset, english: str, hindi: str) -> None:
    using = [(w, h) for w, e, h in _texts(dataset) if e and re.search(english, e, re.IGNORECASE)]
    assert using, f"no English text says {english!r}"
    assert [where for where, text in using if not re.search(hindi, text or "")] == []
