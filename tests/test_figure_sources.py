"""Each figure with its own source (bot/services/figure_sources.py, the compare answer).

A figure is found by its value as readers write it, in either series, among the values its
source reports, the values other sources report, and (only when neither matches) the values the
bot derives; every figure shown names the source that gives it, never another figure's. The
expected sources are read from the seeded database, so the tests follow the data.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from sqlmodel import Session, col, select

from bot.models import FigureReport, Source, TradeFigure
from bot.services import figure_sources
from bot.services.questions.amounts import amounts
from bot.services.questions.reading import compiled_cues
from bot.vocabulary import Quantity, Series

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from tests.conftest import BotUnderTest


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("source for the 116 bn figure", ["116"]),
        ("where does 99.2 come from", ["99.2"]),
        ("which is right, 99.2 or 116.12?", ["99.2", "116.12"]),
        ("$116bn", ["116"]),
        ("USD 155.62 billion", ["155.62"]),
        ("11 arab dollar", ["11"]),
        ("99.2 or 99.2", ["99.2"]),
        ("FY25 deficit", []),
        ("deficit 2024-25", []),
        ("deficit in 2025", []),
        ("top 5 imports", []),
        ("Rs 39.73 crore through Nathu La", []),
        ("39.73 crore", []),
        ("imports up 11.5%", []),
        ("0.1 Mt of urea", []),
        ("6E1703", []),
        ("1,000.5", []),
        ("99.2 &amp; 116.12", ["99.2", "116.12"]),
        ("１１６.１２", ["116.12"]),
    ],
)
def test_amounts_as_written(text: str, found: list[str]) -> None:
    assert amounts(text, compiled_cues()) == tuple(Decimal(value) for value in found)


def _matches(engine: Engine, asked: str) -> list[figure_sources.FigureMatch]:
    with Session(engine) as session:
        views = figure_sources.load(session)
        return list(figure_sources.find(session, views, Decimal(asked)))


def _figure(engine: Engine, series: Series, period: str) -> tuple[TradeFigure, Source]:
    with Session(engine) as session:
        return session.exec(
            select(TradeFigure, Source)
            .join(Source, col(Source.id) == TradeFigure.source_id)
            .where(TradeFigure.series == series, TradeFigure.period == period)
        ).one()


def test_a_value_is_found_as_written_rounded_or_exact(seeded_engine: Engine) -> None:
    for asked in ("116.12", "116.1", "116"):
        found = _matches(seeded_engine, asked)
        assert [(m.series, m.view.figure.period, m.quantity) for m in found] == [
            (Series.CHINA_CY, "2025", Quantity.DEFICIT)
        ], asked
        assert found[0].amount == Decimal("116.12")
        assert found[0].source.id == _figure(seeded_engine, Series.CHINA_CY, "2025")[0].source_id


def test_an_exact_value_hides_the_values_that_only_round_to_it(seeded_engine: Engine) -> None:
    exact = _matches(seeded_engine, "99.2")
    assert {m.amount for m in exact} == {Decimal("99.2")}
    rounded = _matches(seeded_engine, "99")
    assert {m.amount for m in rounded} >= {Decimal("99.2"), Decimal("98.51")}


def test_another_sources_report_is_found_with_that_source(seeded_engine: Engine) -> None:
    with Session(seeded_engine) as session:
        report, source = session.exec(
            select(FigureReport, Source).join(Source, col(Source.id) == FigureReport.source_id)
        ).first() or pytest.fail("the bundled data holds reports")
    found = [m for m in _matches(seeded_engine, str(report.value)) if m.report is not None]
    assert any(m.report == report and m.source.id == source.id for m in found)


def test_a_derived_value_is_found_only_when_no_reported_one_matches(seeded_engine: Engine) -> None:
    figure, _ = _figure(seeded_engine, Series.INDIA_FY, "FY2023-24")
    assert figure.total is None
    assert figure.imports is not None
    assert figure.exports is not None
    total = figure.imports + figure.exports
    found = _matches(seeded_engine, str(total))
    assert [(m.view.figure.period, m.quantity, m.derived) for m in found] == [
        ("FY2023-24", Quantity.TOTAL, True)
    ]


async def test_source_for_a_figure_names_that_figures_source(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    _, source = _figure(seeded_engine, Series.CHINA_CY, "2025")
    text = "\n".join(await bot.replies("source for the 116 bn figure"))
    assert text.startswith("USD 116.12 bn: India's trade deficit with China in 2025")
    assert f"Source: {source.publisher}" in text
    assert "99.2" not in text
    command = "\n".join(await bot.replies("/sources 116.12"))
    assert command == text


async def test_a_value_held_nowhere_is_said_so(bot: BotUnderTest) -> None:
    text = "\n".join(await bot.replies("source for 42.42"))
    assert text.startswith("I hold no figure of USD 42.42 bn in either series")


async def test_a_comparison_names_each_figures_own_source(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    _first, first_source = _figure(seeded_engine, Series.CHINA_CY, "2019")
    _second, second_source = _figure(seeded_engine, Series.CHINA_CY, "2022")
    assert first_source.id != second_source.id  # the case this checks
    text = "\n".join(await bot.replies("compare exports in 2019 and 2022"))
    assert f"2019: Source: {first_source.publisher}" in text
    assert f"2022: Source: {second_source.publisher}" in text


async def test_the_two_series_set_against_each_other(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    _, india_source = _figure(seeded_engine, Series.INDIA_FY, "FY2024-25")
    _, china_source = _figure(seeded_engine, Series.CHINA_CY, "2025")
    for question in ("which is right, 99.2 or 116.12?", "why do india and china figures differ"):
        text = "\n".join(await bot.replies(question))
        assert text.startswith("Two series, two publishers: they are not expected to match.")
        assert "USD 99.2 bn: India's trade deficit with China in FY2024-25" in text
        assert "USD 116.12 bn: India's trade deficit with China in 2025" in text
        assert f"Source: {india_source.publisher}" in text
        assert f"Source: {china_source.publisher}" in text
        assert "FY2024-25 is India's fiscal year, from April to March" in text
        assert "The two periods share only Jan–Mar 2025" in text
        assert "16.92" not in text  # never the difference of the two series


async def test_one_series_named_is_set_against_the_others_latest_full_year(
    bot: BotUnderTest,
) -> None:
    text = "\n".join(await bot.replies("is the 116 bn figure wrong?"))
    assert "USD 116.12 bn" in text
    assert "USD 99.2 bn" in text
    exports = "\n".join(await bot.replies("exports differ between indian and chinese figures"))
    assert "India's exports to China in FY2024-25" in exports
    assert "India's exports to China in 2025" in exports
