"""Derived trade values, growth and the discrepancy flags, on hand-made figures."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from bot.models import FigureReport, Source, TradeFigure
from bot.partial_date import PartialDate
from bot.services.trade import FlagKind, build_view, complete
from bot.vocabulary import Granularity, Quantity, Series, Stage

D = Decimal
E, IMP, T, DEF = Quantity.EXPORTS, Quantity.IMPORTS, Quantity.TOTAL, Quantity.DEFICIT


@pytest.mark.parametrize(
    ("reported", "expected"),
    [
        ({E: D("14.25"), IMP: D("113.45")}, {T: D("127.70"), DEF: D("99.20")}),
        ({E: D("13.33"), DEF: D("62.94")}, {IMP: D("76.27"), T: D("89.60")}),  # FY2017-18
        ({IMP: D("135.87"), T: D("155.62")}, {E: D("19.75"), DEF: D("116.12")}),
        ({E: D("19.75"), T: D("155.62")}, {IMP: D("135.87")}),
        ({T: D("100"), DEF: D("60")}, {E: D("20"), IMP: D("80")}),
        ({IMP: D("80"), DEF: D("60")}, {E: D("20")}),
        ({T: D("136.2")}, {T: D("136.2")}),  # one value alone stays alone
    ],
)
def test_any_two_quantities_give_the_others(
    reported: dict[Quantity, Decimal], expected: dict[Quantity, Decimal]
) -> None:
    computed = complete(reported)
    for quantity, amount in expected.items():
        assert computed[quantity] == amount
    if len(reported) == 1:
        assert set(computed) == set(reported)


SOURCE = Source(id=1, key="s", title="Chinese customs via PTI", publisher="PTI")
OTHER = Source(
    id=2, key="o", title="India’s growing trade engagement", publisher="Seed article 003"
)


def figure(period: str, start: int, **values: Any) -> TradeFigure:
    return TradeFigure(
        id=start,
        series=Series.CHINA_CY,
        period=period,
        period_start=date(start, 1, 1),
        period_end=date(start, 12, 31),
        stage=Stage.FINAL,
        source_id=1,
        as_of=PartialDate(start + 1),
        updated_by="seed",
        **values,
    )


def test_derived_values_are_marked_derived() -> None:
    view = build_view(figure("2025", 2025, imports=D("135.87"), total=D("155.62")), SOURCE)
    assert view.values[E].amount == D("19.75")
    assert view.values[E].derived
    assert not view.values[IMP].derived
    assert view.flags == ()


def test_a_reported_value_that_disagrees_with_its_parts_is_flagged() -> None:
    view = build_view(
        figure("2025", 2025, exports=D("20.5"), imports=D("135.87"), total=D("155.62")), SOURCE
    )
    # 20.5 + 135.87 is within 0.5% of 155.62, but exports are 3.8% off what the others give.
    (flag,) = view.flags
    assert (flag.kind, flag.quantity, flag.reported, flag.expected) == (
        FlagKind.PARTS, E, D("20.5"), D("19.75"),
    )  # fmt: skip
    # Readers see what the source said, with the flag beside it.
    assert view.values[E].amount == D("20.5")


def test_rounding_within_half_a_percent_is_not_flagged() -> None:
    view = build_view(
        figure("2023", 2023, exports=D("16.66"), imports=D("101.73"), deficit=D("85.06")), SOURCE
    )
    assert view.flags == ()
    assert view.values[DEF].amount == D("85.06")


def test_another_sources_report_is_flagged_when_it_disagrees() -> None:
    subject = figure("2025", 2025, imports=D("135.87"), total=D("155.62"))
    far = FigureReport(trade_figure_id=2025, quantity=E, value=D("20.5"), source_id=2)
    near = FigureReport(trade_figure_id=2025, quantity=IMP, value=D("135.9"), source_id=2)
    view = build_view(subject, SOURCE, [(far, OTHER), (near, OTHER)])
    (flag,) = view.flags
    assert (flag.kind, flag.quantity, flag.reported, flag.expected) == (
        FlagKind.REPORT, E, D("20.5"), D("19.75"),
    )  # fmt: skip
    assert flag.reported_by == "Seed article 003"


def test_growth_is_computed_against_the_previous_full_period() -> None:
    before = figure("2022", 2022, exports=D("17.48"), imports=D("118.5"))
    after = figure("2023", 2023, total=D("136.2"), total_growth_pct=D("1.5"))
    view = build_view(after, SOURCE, previous=before)
    growth = view.growth[T]
    assert growth.reported == D("1.5")
    assert growth.computed is not None
    assert round(growth.computed, 2) == D("0.16")
    (flag,) = view.flags
    assert flag.kind is FlagKind.GROWTH


def test_a_reported_rate_of_part_of_a_year_is_never_flagged() -> None:
    """Months' rates are computed by the publisher from unrounded values: the rounded values
    stored would flag sound rates, so only whole years' rates are checked."""
    before = figure("2024", 2024, exports=D("1.15"))
    month = figure("2025", 2025, exports=D("1.62"), partial=True, exports_growth_pct=D("42.35"))
    month.granularity = Granularity.MONTH
    view = build_view(month, SOURCE, previous=before)
    assert view.growth[E].reported == D("42.35")
    assert view.growth[E].computed is not None
    assert view.flags == ()
    assert view.has_derived is False  # the reported rate is shown, not the computed one
