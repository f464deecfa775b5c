"""What India buys from and sells to China, and why the deficit is so big: the sourced
product groups, the answers and the chart, through the real application."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from matplotlib.patches import Rectangle
from sqlmodel import Session, delete, select

from bot.models import Source, TradeComposition
from bot.partial_date import PartialDate
from bot.rendering import Renderer
from bot.services import charts, composition
from bot.services.dataset import load_bundled_dataset
from bot.telegram.plain import html_to_text
from bot.vocabulary import Quantity, Series
from tests.factories import callback_update

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from bot.services.dataset import Dataset
    from tests.conftest import BotUnderTest


def _buttons(call: dict[str, Any]) -> dict[str, str]:
    markup = call.get("reply_markup")
    if markup is None:
        return {}
    data = json.loads(markup) if isinstance(markup, str) else markup
    return {b["text"]: b["callback_data"] for row in data["inline_keyboard"] for b in row}


# --- The bundled groups ---------------------------------------------------------------------------

# (key, period, flow, group, value, reported growth, source): every group as its page gave it.
GROUPS = [
    (
        "imports-2025-jan-oct-electronics",
        "2025-01/2025-10",
        "imports",
        "Electronics",
        "38",
        None,
        "newsdrum-pti-2025-12-19",
    ),
    (
        "imports-2025-jan-oct-machinery",
        "2025-01/2025-10",
        "imports",
        "Machinery",
        "25.9",
        None,
        "newsdrum-pti-2025-12-19",
    ),
    (
        "imports-2025-jan-oct-organic-chemicals",
        "2025-01/2025-10",
        "imports",
        "Organic chemicals",
        "11.5",
        None,
        "newsdrum-pti-2025-12-19",
    ),
    (
        "imports-2024-apr-aug-integrated-circuits",
        "2024-04/2024-08",
        "imports",
        "Integrated circuits, micro-assemblies and memories",
        "3.5",
        "49",
        "knn-2024-10-28",
    ),
    (
        "imports-2024-apr-aug-mobile-phones",
        "2024-04/2024-08",
        "imports",
        "Mobile phones and components",
        "2.7",
        "63",
        "knn-2024-10-28",
    ),
    (
        "imports-2024-apr-aug-computers",
        "2024-04/2024-08",
        "imports",
        "Computers and laptops",
        "2.5",
        "13.5",
        "knn-2024-10-28",
    ),
    (
        "exports-2025-apr-oct-petroleum-products",
        "2025-04/2025-10",
        "exports",
        "Petroleum products",
        "1.62",
        "121.25",
        "business-standard-2025-12-16",
    ),
    (
        "exports-2025-apr-oct-electronic-goods",
        "2025-04/2025-10",
        "exports",
        "Electronic goods",
        "1.35",
        "158.95",
        "business-standard-2025-12-16",
    ),
    (
        "exports-2025-apr-oct-marine-products",
        "2025-04/2025-10",
        "exports",
        "Marine products",
        "0.85",
        "19",
        "business-standard-2025-12-16",
    ),
    (
        "exports-2025-apr-jun-petroleum-products",
        "2025-04/2025-06",
        "exports",
        "Petroleum products",
        "0.883",
        None,
        "fpj-pti-2025-08-23",
    ),
    (
        "exports-2025-apr-jun-electronic-goods",
        "2025-04/2025-06",
        "exports",
        "Electronic goods",
        "0.521",
        None,
        "fpj-pti-2025-08-23",
    ),
    (
        "exports-2025-apr-jun-chemicals",
        "2025-04/2025-06",
        "exports",
        "Organic and inorganic chemicals",
        "0.335",
        "16.3",
        "fpj-pti-2025-08-23",
    ),
    (
        "exports-2023-iron-ore",
        "2023",
        "exports",
        "Iron ore",
        "3.33",
        "216.8",
        "etv-bharat-pti-2024-04-11",
    ),
    (
        "exports-2023-cotton-yarn",
        "2023",
        "exports",
        "Cotton yarn",
        "0.611",
        "542.6",
        "etv-bharat-pti-2024-04-11",
    ),
    (
        "exports-2023-telecom-instruments",
        "2023",
        "exports",
        "Telecom instruments",
        "0.248",
        "46.45",
        "etv-bharat-pti-2024-04-11",
    ),
    (
        "exports-2023-electronic-components",
        "2023",
        "exports",
        "Electronic components",
        "0.157",
        "6.75",
        "etv-bharat-pti-2024-04-11",
    ),
    (
        "exports-2023-spices",
        "2023",
        "exports",
        "Spices",
        "0.132",
        "19.4",
        "etv-bharat-pti-2024-04-11",
    ),
    (
        "exports-2023-processed-minerals",
        "2023",
        "exports",
        "Processed minerals",
        "0.129",
        "174.19",
        "etv-bharat-pti-2024-04-11",
    ),
]


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return load_bundled_dataset()


def test_every_group_is_bundled_as_its_page_reported_it(dataset: Dataset) -> None:
    found = {
        (g.key, g.period, g.flow.value, g.product_group, str(g.value), g.growth_pct, g.source)
        for g in dataset.composition
    }
    expected = {
        (key, period, flow, group, value, None if growth is None else Decimal(growth), source)
        for key, period, flow, group, value, growth, source in GROUPS
    }
    assert found == expected
    published = {source.key: source.published_on for source in dataset.sources}
    for group in dataset.composition:
        assert group.series is Series.INDIA_FY  # India's data: Chinese customs' not found
        assert group.share_pct is None  # no page gave one: shares are derived, marked
        assert group.as_of == published[group.source], group.key


def test_drivers_notes_are_sourced(dataset: Dataset) -> None:
    drivers = {note.key: note.source for note in dataset.notes if note.subject == "drivers"}
    assert drivers == {
        "import-drivers": "ndtv-pti-2025-04-17",
        "deficit-drivers-lok-sabha-2025-12": "newsdrum-pti-2025-12-19",
        "imports-four-groups-gtri-2025": "newsdrum-pti-2025-12-19",
        "exports-need-chinese-components": "reuters-business-standard-2025-04-16",
    }


# --- Derived shares and growth --------------------------------------------------------------------


def test_a_share_is_derived_only_from_the_same_months_and_marked(seeded_engine: Engine) -> None:
    with Session(seeded_engine) as session:
        tables = {(t.flow, t.period): t for t in composition.tables(session)}
    exports = tables[(Quantity.EXPORTS, "2025-04/2025-10")]
    petroleum = exports.groups[0]
    assert petroleum.name == "Petroleum products"
    assert petroleum.share is not None
    assert petroleum.share.derived  # of the 10.03 bn exported in April–October 2025
    assert round(petroleum.share.amount, 1) == Decimal("16.2")
    assert petroleum.growth is not None
    assert (petroleum.growth.amount, petroleum.growth.derived) == (Decimal("121.25"), False)
    # No trade figure covers January–October 2025: no share is made up for electronics.
    imports = tables[(Quantity.IMPORTS, "2025-01/2025-10")]
    assert [g.share for g in imports.groups] == [None, None, None]


def test_growth_is_derived_from_the_same_group_a_year_earlier(seeded_engine: Engine) -> None:
    with Session(seeded_engine) as session:
        row = session.exec(
            select(TradeComposition).where(
                TradeComposition.key == "imports-2025-jan-oct-electronics"
            )
        ).one()
        session.add(
            TradeComposition(
                key="imports-2024-jan-oct-electronics",
                series=Series.INDIA_FY,
                period="2024-01/2024-10",
                period_start=row.period_start.replace(year=2024),
                period_end=row.period_end.replace(year=2024),
                flow=Quantity.IMPORTS,
                product_group="Electronics",
                value=Decimal("30"),
                source_id=row.source_id,
                as_of=PartialDate(2025, 12, 19),
                updated_by="test",
            )
        )
        session.commit()
        tables = {(t.flow, t.period): t for t in composition.tables(session)}
    electronics = tables[(Quantity.IMPORTS, "2025-01/2025-10")].groups[0]
    assert electronics.growth is not None
    assert electronics.growth.derived
    assert round(electronics.growth.amount, 1) == Decimal("26.7")  # 38 on 30


# --- Answers through the application --------------------------------------------------------------


async def test_top_imports_lists_the_groups_with_their_sources_never_a_year(
    bot: BotUnderTest,
) -> None:
    (answer,) = [
        c
        for c in await bot.send("what are india's top imports from china")
        if c["method"] == "sendMessage"
    ]
    text = html_to_text(answer["text"])
    assert text.startswith("India's imports from China by product, Jan–Oct 2025")
    assert "(India's data, Ministry of Commerce), largest first" in text
    assert text.index("1. Electronics: USD 38 bn") < text.index("2. Machinery: USD 25.9 bn")
    assert text.index("2. Machinery") < text.index("3. Organic chemicals: USD 11.5 bn")
    assert "integrated circuits 6.2" in text  # the group's note
    assert "Source: NewsDrum (PTI) (https://www.newsdrum.in/" in text
    assert "19 Dec 2025 · as of 19 Dec 2025" in text
    assert "not a complete list" in text
    assert "Other periods I hold: Apr–Aug 2024." in text
    for year_answer in ("Largest imports", "135.87", "113.45"):
        assert year_answer not in text
    # The chart button draws the same groups.
    chart_data = _buttons(answer)["Chart: imports by product"]
    pressed = await bot.process(callback_update(bot.application.bot, chart_data))
    (photo,) = [c for c in pressed if c["method"] == "sendPhoto"]
    caption = html_to_text(photo["caption"])
    assert caption.startswith("India's imports from China by product, USD bn")
    assert "Jan–Oct 2025, India's data, Ministry of Commerce" in caption
    assert "Sources: NewsDrum (PTI) · as of 19 Dec 2025" in caption


async def test_which_year_had_the_biggest_imports_is_still_a_year(bot: BotUnderTest) -> None:
    (text,) = await bot.replies("which year had the biggest imports")
    assert "Largest imports: USD 113.45 bn in FY2024-25" in text
    assert "Largest imports: USD 135.87 bn in 2025" in text
    assert "Electronics" not in text


async def test_which_exports_grow_fastest_first_with_rates_as_reported(bot: BotUnderTest) -> None:
    (text,) = await bot.replies("which exports are growing")
    assert text.startswith("Which of India's exports to China grew, Apr–Oct 2025")
    first, second, third = (line for line in text.splitlines() if line[:2] in ("1.", "2.", "3."))
    assert first.startswith("1. Electronic goods: USD 1.35 bn, 13.5%* of the total")
    assert first.endswith("+159% on Apr–Oct 2024 (as reported).")
    assert second.startswith("2. Petroleum products")
    assert third.startswith("3. Marine products")
    assert "Shares marked * are of the USD 10.03 bn of India's exports to China" in text
    assert "* derived by the bot" in text


async def test_why_the_deficit_is_so_big_gives_figures_drivers_and_goods(
    bot: BotUnderTest,
) -> None:
    (text,) = await bot.replies("why is the deficit so big")
    assert text.startswith("Why India's trade deficit with China is so large")
    assert "the deficit was USD 99.2 bn in FY2024-25" in text
    assert "the deficit was USD 116.12 bn in 2025" in text
    drivers = text[text.index("What drives it") : text.index("What India buys and sells")]
    assert drivers.count("• ") == 4
    assert drivers.count("Source: ") == 4  # each note with its own source and date
    assert "Jitin Prasada" in drivers
    goods = text[text.index("What India buys and sells") :]
    assert "1. Electronics: USD 38 bn" in goods
    assert "1. Petroleum products: USD 1.62 bn" in goods
    assert "I can only answer" not in text


async def test_a_chart_of_top_imports_is_a_bar_per_group(bot: BotUnderTest) -> None:
    calls = await bot.send("chart of top imports")
    (photo,) = [c for c in calls if c["method"] == "sendPhoto"]
    assert bot.request.calls[-1].files["photo"].startswith(b"\x89PNG")
    assert "Sources: NewsDrum (PTI) · as of 19 Dec 2025" in html_to_text(photo["caption"])
    assert not [c for c in calls if c["method"] == "sendMessage"]


def test_the_chart_draws_largest_at_the_top_with_its_period_and_sources(
    seeded_engine: Engine,
) -> None:
    renderer = Renderer()
    with Session(seeded_engine) as session:
        tables = [t for t in composition.tables(session) if t.period == "2025-01/2025-10"]
    figure = charts.draw_groups(tables, lambda name, *args: renderer.label(f"chart.{name}", *args))
    (axis,) = figure.axes
    labels = [tick.get_text() for tick in axis.get_yticklabels()]
    assert labels == ["Organic chemicals", "Machinery", "Electronics"]  # bottom to top
    assert [bar.get_width() for bar in axis.patches if isinstance(bar, Rectangle)] == [
        11.5,
        25.9,
        38.0,
    ]
    assert [text.get_text() for text in axis.texts] == ["11.5", "25.9", "38"]
    assert axis.get_title(loc="left") == (
        "India's imports from China by product, Jan–Oct 2025 (India's data)"
    )
    assert "Sources: NewsDrum (PTI) · as of 19 Dec 2025" in axis.get_xlabel()


async def test_a_chart_of_groups_none_of_which_is_held_is_answered_in_words(
    bot: BotUnderTest, seeded_engine: Engine
) -> None:
    with Session(seeded_engine) as session:
        session.exec(delete(TradeComposition))
        session.commit()
        assert session.exec(select(Source)).first() is not None
    calls = await bot.send("chart of top imports")
    assert not [c for c in calls if c["method"] == "sendPhoto"]
    (answer,) = [c for c in calls if c["method"] == "sendMessage"]
    assert "I hold no breakdown by product of India's imports from China" in answer["text"]
