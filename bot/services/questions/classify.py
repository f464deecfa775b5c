"""What a question asks (its `Intent`), and the deal filters it words.

The rules are tried in order and the first that applies decides: the two series set against
each other, sources (of a figure named by its amount, or in general), chart, history; the news;
a record named (its kind); why the deficit is so big, what India buys and sells; passes,
flights, deals by keyword; trade figures; greetings; else unknown. Named records come
before figure words because "urea imports" or "border trade" are about them; goods come
before deals and figures because "what does India sell to China" asks which goods, and
"top imports" which goods, not which year. A question for the news is also about something
(`subject`): the record, topic or figures the rest of it names, whose status is shown above
the items.
"""

from __future__ import annotations

from itertools import pairwise
from typing import TYPE_CHECKING

from bot.services.questions.catalog import Names
from bot.services.questions.figures import extreme
from bot.services.questions.model import Intent
from bot.services.questions.periods import Periods, is_period_word
from bot.services.questions.reading import Reading
from bot.vocabulary import DealStatus, Direction, Quantity, RecordType

if TYPE_CHECKING:
    from decimal import Decimal

_RECORD_INTENTS = {
    RecordType.PASS: Intent.PASS,
    RecordType.FLIGHT: Intent.FLIGHTS,
    RecordType.DEAL: Intent.DEALS,
}


def classify(
    reading: Reading,
    names: Names,
    periods: Periods,
    quantity: Quantity | None,
    amounts: tuple[Decimal, ...] = (),
) -> Intent:
    return (
        _request(reading, names, amounts)
        or (Intent.NEWS if asks_news(reading) else None)
        or subject(reading, names, periods, quantity)
        or _help(reading)
        or Intent.UNKNOWN
    )


def subject(
    reading: Reading,
    names: Names,
    periods: Periods,
    quantity: Quantity | None,
    *,
    periods_alone: bool = True,
) -> Intent | None:
    """A record named, a topic, or figures: what the question is about, if anything.

    Without `periods_alone`, a period and small words ("what's the latest") ask for nothing:
    in a question for the news, "latest" is the news word, not a period.
    """
    return (
        _named_record(names)
        or _goods(reading)
        or _topic(reading)
        or _figures(reading, periods, quantity, periods_alone=periods_alone)
    )


def _goods(reading: Reading) -> Intent | None:
    """Why the deficit is so big, or which goods India buys and sells."""
    if reading.cues.cause_phrases.search(reading.padded):
        return Intent.CAUSES
    return Intent.COMPOSITION if asks_goods(reading) else None


def asks_goods(reading: Reading) -> bool:
    """ "What does India buy from China", "top imports", "which exports are growing"; not
    "which year had the biggest imports" (a time is asked: that is a figure)."""
    cues = reading.cues
    if cues.composition_phrases.search(reading.padded) or asks_growing_goods(reading):
        return True
    if reading.has(cues.year_asked):
        return False
    words = reading.words
    return any(
        word in cues.composition_leaders and following in cues.composition_flows
        for word, following in pairwise(words)
    )


def asks_growing_goods(reading: Reading) -> bool:
    """ "Which exports are growing", "fastest growing imports"."""
    return reading.cues.growing_phrases.search(reading.padded) is not None


def asks_news(reading: Reading) -> bool:
    """ "Any news on ...", "what's new with ...", "latest on ...", "... latest"."""
    cues = reading.cues
    return reading.says(cues.news, cues.news_phrases) or reading.words[-1] in cues.news_last_word


def _request(reading: Reading, names: Names, amounts: tuple[Decimal, ...]) -> Intent | None:
    """The series against each other, sources, a chart, or a history."""
    cues = reading.cues
    if _sets_series_against(reading, amounts):
        return Intent.DISCREPANCY
    if reading.has(cues.sources) or cues.source_phrases.search(reading.padded):
        return Intent.SOURCES
    if amounts and (cues.amount_source_phrases.search(reading.padded) or _only_amounts(reading)):
        return Intent.SOURCES  # "where does 99.2 come from", "116.12?": that figure's source
    if reading.has(cues.chart):
        return Intent.CHART
    if reading.has(cues.history):
        if not names.refs and reading.has(cues.quantity_words):
            return Intent.TREND  # "history of the deficit" is the series over time
        return Intent.HISTORY
    if names.refs and reading.has(cues.record_change):
        return Intent.HISTORY
    return None


def _named_record(names: Names) -> Intent | None:
    first = _RECORD_INTENTS.get(names.refs[0].record_type) if names.refs else None
    return first or (Intent.DEALS if names.category else None)


def _topic(reading: Reading) -> Intent | None:
    cues = reading.cues
    if _about_passes(reading):
        return Intent.PASSES
    if reading.has(cues.flights) or cues.flight_phrases.search(reading.padded):
        return Intent.FLIGHTS
    if _about_deals(reading):
        return Intent.DEALS
    return None


def _figures(
    reading: Reading, periods: Periods, quantity: Quantity | None, *, periods_alone: bool
) -> Intent | None:
    cues = reading.cues
    figures = (
        reading.has(cues.quantity_words)
        or reading.has(cues.trade_figures)
        or reading.china_named
        or reading.india_named
    )
    if figures or (
        periods_alone and (periods.refs or periods.since_year) and _only_filler(reading)
    ):
        return _figure_intent(reading, periods, quantity)
    return None


def _help(reading: Reading) -> Intent | None:
    cues = reading.cues
    if reading.has(cues.greeting) or cues.help_phrases.search(reading.padded):
        return Intent.HELP
    return None


def _about_passes(reading: Reading) -> bool:
    cues = reading.cues
    return (
        reading.has(cues.passes)
        or (reading.has(cues.border) and reading.has(cues.border_context))
        or (reading.has(cues.pass_word) and reading.has(cues.pass_context))
        or (reading.has(cues.mountain) and reading.has(cues.mountain_context))
        or cues.pass_phrases.search(reading.padded) is not None
    )


def _about_deals(reading: Reading) -> bool:
    cues, padded = reading.cues, reading.padded
    return (
        reading.has(cues.deals)
        or cues.india_to_china.search(padded) is not None
        or cues.china_to_india.search(padded) is not None
        or cues.deal_status_cue.search(padded) is not None
    )


def _figure_intent(reading: Reading, periods: Periods, quantity: Quantity | None) -> Intent:
    """Which question about figures: a period count and cue words decide."""
    if extreme(reading, None) is not None:
        return Intent.EXTREME
    if len(periods.refs) >= 2 or periods.since_previous:
        return Intent.COMPARE if len(periods.refs) <= 2 else Intent.TREND
    by_cues = _compare_or_trend(reading, periods)
    if by_cues is not None:
        return by_cues
    return Intent.DEFICIT if quantity is Quantity.DEFICIT else Intent.TRADE


def _compare_or_trend(reading: Reading, periods: Periods) -> Intent | None:
    """With at most one period: a comparison with it, or the years since or around it."""
    cues = reading.cues
    compares = reading.says(cues.compare, cues.compare_phrases)
    if compares and periods.refs and not reading.has(cues.change_over_time):
        return Intent.COMPARE
    if periods.since_year is not None:
        return Intent.TREND
    explicit = any(ref.year is not None for ref in periods.refs)
    if explicit or not reading.says(cues.trend, cues.trend_phrases):
        return None
    return Intent.COMPARE if periods.refs and compares else Intent.TREND


def _sets_series_against(reading: Reading, amounts: tuple[Decimal, ...]) -> bool:
    """Two amounts ("99.2 or 116.12?"), or a word of disagreement with an amount ("is the
    116 bn figure wrong") or with both series named ("why do india and china figures differ",
    "why is the chinese figure different from the indian one")."""
    cues = reading.cues
    if len(amounts) >= 2:
        return True
    if not reading.has(cues.discrepancy):
        return False
    both = (
        cues.both_series.search(reading.padded) is not None
        or (reading.china_named and reading.india_named)
        or (reading.has(cues.china_adjective) and reading.has(cues.india))
    )
    return both or bool(amounts)


def _only_amounts(reading: Reading) -> bool:
    """Nothing but amounts and small words: "116.12?" asks what that figure is."""
    cues = reading.cues
    return all(
        word.isdigit() or word in cues.stopwords or word in cues.amount_units
        for word in reading.words
    )


def _only_filler(reading: Reading) -> bool:
    """Nothing but periods and small words: "FY2024-25?" asks for that period's figures."""
    cues = reading.cues
    return all(
        word in cues.stopwords or word in cues.compare or is_period_word(word, reading)
        for word in reading.words
    )


def deal_status(reading: Reading) -> DealStatus | None:
    """The status a question about deals filters by: the first one it words."""
    match = reading.cues.deal_status.search(reading.padded)
    return None if match is None or match.lastgroup is None else DealStatus(match.lastgroup)


def direction(reading: Reading) -> Direction | None:
    if reading.cues.india_to_china.search(reading.padded):
        return Direction.INDIA_TO_CHINA
    if reading.cues.china_to_india.search(reading.padded):
        return Direction.CHINA_TO_INDIA
    return None
