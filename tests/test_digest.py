"""The subscribers' digest and instant alerts, built from the real seeded database.

Assertions are on what a subscriber reads (the plain text of the rendered messages), and
every message is checked against Telegram's limits and HTML rules.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from sqlmodel import col, select

from bot import db
from bot.models import FlightRoute, StatusChange
from bot.partial_date import PartialDate
from bot.rendering import MAX_MESSAGE_LENGTH, Renderer
from bot.services.digest import (
    Alert,
    Digest,
    build_alert,
    build_digest,
    render_alert,
    render_digest,
    topics_of_changes,
)
from bot.services.timeline import Freshness
from bot.telegram.html_entities import parse_html
from bot.telegram.plain import html_to_text
from bot.vocabulary import Actor, FlightStatus, Frequency, RecordType, Topic

if TYPE_CHECKING:
    from sqlalchemy import Engine

TODAY = date(2026, 4, 1)
FRESHNESS = Freshness(TODAY, 120)
ALL_TOPICS = frozenset({Topic.TRADE, Topic.DEALS, Topic.PASSES, Topic.FLIGHTS})
SECTION_TITLES = {
    Topic.TRADE: "Trade (USD bn)",
    Topic.DEALS: "Commodity deals and restrictions",
    Topic.PASSES: "Border trade passes",
    Topic.FLIGHTS: "Direct flights",
}
NATHU_LA_EDIT = (
    "Nathu La (border pass): status reopening agreed → reopening scheduled. Dates announced."
)
RENDERER = Renderer()


def checked(parts: list[str]) -> list[str]:
    """The messages, after checking each is within Telegram's length and valid Telegram HTML."""
    assert parts
    for part in parts:
        assert 0 < len(part) <= MAX_MESSAGE_LENGTH
        parse_html(part)  # raises on a tag Telegram refuses or an unbalanced one
    return parts


def digest_parts(
    engine: Engine,
    topics: frozenset[Topic] = ALL_TOPICS,
    *,
    since: datetime | None = None,
    freshness: Freshness = FRESHNESS,
    frequency: Frequency = Frequency.WEEKLY,
) -> list[str]:
    with db.session_scope(engine) as session:
        digest = build_digest(
            session, topics=topics, since=since, freshness=freshness, frequency=frequency
        )
        assert isinstance(digest, Digest)
        return checked(render_digest(RENDERER, digest))


def digest_text(
    engine: Engine,
    topics: frozenset[Topic] = ALL_TOPICS,
    *,
    since: datetime | None = None,
    freshness: Freshness = FRESHNESS,
    frequency: Frequency = Frequency.WEEKLY,
) -> str:
    parts = digest_parts(engine, topics, since=since, freshness=freshness, frequency=frequency)
    return "\n\n".join(html_to_text(part) for part in parts)


def section(text: str, title: str) -> str:
    """One section of a digest: from its title to the next blank line."""
    start = text.index(title)
    end = text.find("\n\n", start)
    return text[start:] if end == -1 else text[start:end]


def add_change(engine: Engine, **values: Any) -> int:
    defaults: dict[str, Any] = {
        "record_type": RecordType.DEAL,
        "record_key": "urea",
        "field": "status",
        "old_value": "in_effect",
        "new_value": "suspended",
        "actor": Actor.telegram(42),
    }
    with db.session_scope(engine) as session:
        change = StatusChange(**{**defaults, **values})
        session.add(change)
        session.flush()
        assert change.id is not None
        return change.id


def nathu_la_edit(engine: Engine) -> StatusChange:
    with db.session_scope(engine) as session:
        return session.exec(
            select(StatusChange).where(
                StatusChange.record_key == "nathu-la", StatusChange.actor != Actor.SEED
            )
        ).one()


# --- The digest -------------------------------------------------------------------------------


def test_the_headline_gives_both_series_deficits_with_sources_even_without_trade_topic(
    seeded_engine: Engine,
) -> None:
    text = digest_text(seeded_engine, frozenset({Topic.PASSES}))
    assert text.startswith("📬 Your weekly Trade Watch digest, 1 Apr 2026")
    headline = section(text, "India's trade deficit with China")
    india, partial, china = headline.splitlines()[1:4]
    assert "FY2024-25 (India's fiscal year, provisional): USD 99.2 bn" in india
    assert "+14.13* bn (+16.6%*) on FY2023-24 (USD 85.07 bn)" in india  # derived: marked
    assert "NDTV (PTI) (https://www.ndtv.com/" in india
    assert india.endswith("as of 17 Apr 2025 ⏳ provisional: may have been revised since")
    # The newer partial period is named as partial and never compared with a full year.
    assert "Apr 2025 – Jan 2026 (FY2025-26 so far, provisional)" in partial
    assert "USD 92.3 bn so far" in partial
    assert "never compared with a full year" in partial
    assert partial.endswith(
        "Deccan Chronicle (https://www.deccanchronicle.com/business/"
        "goods-trade-deficit-widens-in-jan-1937754) · as of 16 Feb 2026"
    )
    # Chinese customs: no 2024 row, so no change is invented against 2022.
    assert "2025 (Chinese customs, calendar year, provisional): USD 116.12 bn" in china
    assert "no 2024 deficit on record to compare with" in china
    assert "2022" not in china
    assert "The Tribune (PTI) (https://www.tribuneindia.com/" in china
    assert china.endswith("· as of 14 Jan 2026")
    # The sources section names every source cited, once, with the page to follow.
    sources = section(text, "Sources\n")
    for title in (
        "US top trading partner of India for 4th straight year in 2024-25 (https://www.ndtv.com/",
        "Exports to China rise 9.7%, trade deficit hits record high of $116 bn (https://",
        "Goods Trade Deficit Widens in Jan (https://www.deccanchronicle.com/",
    ):
        assert sources.count(title) == 1


def test_daily_digests_say_so(seeded_engine: Engine) -> None:
    text = digest_text(seeded_engine, frozenset(), frequency=Frequency.DAILY)
    assert text.startswith("📬 Your daily Trade Watch digest, 1 Apr 2026")


@pytest.mark.parametrize("topic", sorted(SECTION_TITLES))
def test_a_topic_section_appears_only_when_followed(seeded_engine: Engine, topic: Topic) -> None:
    text = digest_text(seeded_engine, frozenset({topic}))
    for other, title in SECTION_TITLES.items():
        assert (title in text) is (other is topic), title


def test_all_topics_in_a_fixed_order_in_one_or_two_messages(seeded_engine: Engine) -> None:
    parts = digest_parts(seeded_engine)
    # Every source links its page; the links count towards each message's length.
    assert len(parts) <= 4
    text = "\n\n".join(html_to_text(part) for part in parts)
    positions = [text.index(SECTION_TITLES[topic]) for topic in SECTION_TITLES]
    assert positions == sorted(positions)
    assert text.index("India's trade deficit with China") < text.index("Recent changes")
    assert text.index("Upcoming dates") < text.index("Sources\n")


def test_topic_sections_state_each_record_with_its_source(seeded_engine: Engine) -> None:
    text = digest_text(seeded_engine)
    trade = section(text, SECTION_TITLES[Topic.TRADE])
    assert "imports 113.45 (+11.5%) · exports 14.25 (−14.5%) · total 127.7*" in trade
    assert "imports 135.87 (+12.8%) · exports 19.75 (+9.7%) · total 155.62" in trade
    # A year so far: its rates are against the same months a year earlier, derived and marked.
    assert "imports 108.18* (+13.9%* on Apr 2024 – Jan 2025) · exports 15.88" in trade
    assert "reports exports of USD 20.5 bn; this record gives 19.75" in trade
    assert "* derived by the bot from the reported figures" in trade
    deals = section(text, SECTION_TITLES[Topic.DEALS])
    assert deals.index("In effect\n• Rare-earth magnets") < deals.index("Restricted\n")
    assert deals.index("Restricted\n") < deals.index("• Urea (China → India) since 15 Oct 2025.")
    assert "Business Standard (Bloomberg) (https://www.business-standard.com/" in deals
    passes = section(text, SECTION_TITLES[Topic.PASSES])
    assert (
        "• Shipki La: reopening scheduled since 15 Dec 2025; expected to reopen Jun 2026; "
        "2026 season: 1 Jun – 30 Nov (starts in about 2 months)." in passes
    )
    assert "NewsDrum (PTI) (https://www.newsdrum.in/" in passes
    flights = section(text, SECTION_TITLES[Topic.FLIGHTS])
    assert "• Kolkata–Guangzhou (IndiGo 6E1703): operating since 26 Oct 2025, daily." in flights


def test_only_records_whose_silence_says_something_are_marked(seeded_engine: Engine) -> None:
    text = digest_text(seeded_engine)
    passes = section(text, SECTION_TITLES[Topic.PASSES])
    lines = {line.split(":")[0]: line for line in passes.splitlines()[1:]}
    # Reopening agreed in Aug 2025, last heard of in Sep 2025: a stage that moves on, quiet
    # six months.
    assert lines["• Nathu La"].endswith("as of 20 Aug 2025 ⏳ no update since 15 Sep 2025")
    # Shipki La is as old, but waits for a date ahead (Jun 2026): nothing to say yet.
    assert "⏳" not in lines["• Shipki La"]
    assert "⏳" not in lines["• Lipulekh"]  # as of 21 Mar 2026: 11 days before the digest
    # Flights operating and a deal in effect are not expected to change: never marked.
    assert "⏳" not in section(text, SECTION_TITLES[Topic.FLIGHTS])
    deals = section(text, SECTION_TITLES[Topic.DEALS])
    assert "⏳" not in deals.split("Proposed")[0]
    # A provisional figure older than the setting may have been revised; a final one is not.
    trade = section(text, "Trade (USD bn)")
    assert "FY2024-25" in trade
    assert "⏳ provisional: may have been revised since" in trade
    assert "⏳" not in section(
        digest_text(seeded_engine, freshness=Freshness(date(2025, 6, 1), 120)), "Trade (USD bn)"
    )


def test_an_edit_is_news_until_the_digest_after_it(edited_engine: Engine) -> None:
    edit = nathu_la_edit(edited_engine)
    before = digest_text(edited_engine, since=edit.at - timedelta(seconds=1))
    changes = section(before, "What changed since your last digest")
    assert NATHU_LA_EDIT in changes
    assert "Source:" not in changes  # the edit cites none, and nothing stands in for one

    after = digest_text(edited_engine, since=edit.at)
    changes = section(after, "What changed since your last digest")
    assert "Nathu La" not in changes
    assert "No changes since your last digest." in changes


def test_seeded_history_is_never_news(seeded_engine: Engine) -> None:
    text = digest_text(seeded_engine)
    assert "Recent changes\nNo changes recorded yet." in text
    assert "postponing the season indefinitely" not in text
    long_ago = datetime(2000, 1, 1, tzinfo=UTC)
    assert "No changes since your last digest." in digest_text(seeded_engine, since=long_ago)


def test_changes_are_filtered_to_followed_topics_plus_general(edited_engine: Engine) -> None:
    add_change(edited_engine, note="Curbs reimposed.")
    add_change(
        edited_engine,
        record_type=RecordType.NOTE,
        record_key="managed-rivalry",
        field="text",
        old_value="Old framing.",
        new_value="New framing.",
    )
    add_change(edited_engine, record_type=RecordType.ADMIN, record_key="tg:7", field="role")
    changes = section(
        digest_text(edited_engine, frozenset({Topic.DEALS})), "Recent changes"
    ).splitlines()
    assert len(changes) == 3
    assert changes[1].startswith('• “The re-engagement is framed as "managed rivalry": selective')
    assert changes[1].endswith("…” (context): text Old framing. → New framing.")
    assert changes[2] == ("• Urea (commodity deal): status in effect → suspended. Curbs reimposed.")
    passes_only = digest_text(edited_engine, frozenset({Topic.PASSES}))
    assert NATHU_LA_EDIT in passes_only
    assert "Urea (commodity deal)" not in passes_only
    assert "role" not in section(passes_only, "Recent changes")


def test_a_figure_change_names_its_series_and_unit(seeded_engine: Engine) -> None:
    add_change(
        seeded_engine,
        record_type=RecordType.FIGURE,
        record_key="china_cy:2025",
        field="deficit",
        old_value="116.12",
        new_value="116.2",
        occurred_on=PartialDate(2026, 1, 20),
    )
    changes = section(digest_text(seeded_engine, frozenset({Topic.TRADE})), "Recent changes")
    assert (
        "• Trade figures 2025 (Chinese customs) (trade figures): deficit USD 116.12 bn → "
        "USD 116.2 bn (20 Jan 2026)." in changes
    )


def test_at_most_ten_changes_then_a_pointer_to_the_rest(seeded_engine: Engine) -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    for minute in range(13):
        add_change(seeded_engine, note=f"Change number {minute}.", at=start.replace(minute=minute))
    text = digest_text(seeded_engine, since=start - timedelta(days=1))
    changes = section(text, "What changed since your last digest")
    assert changes.count("• Urea") == 10
    # Newest first: the three oldest are the ones left out.
    assert "Change number 12." in changes
    assert "Change number 2." not in changes
    assert changes.endswith("…and 3 more: /changes 2026-02-28")


def test_upcoming_dates_relative_to_the_digest_date(seeded_engine: Engine) -> None:
    upcoming = section(digest_text(seeded_engine), "Upcoming dates").splitlines()
    assert upcoming[1].startswith(
        "• Jun 2026 (in 2 months): Lipulekh expected to reopen; "
        "season June–September planned for 2026 (earlier seasons to 31 Oct). Kalimpong News (PTI)"
    )
    assert upcoming[2].startswith(
        "• Jun 2026 (in 2 months): Shipki La expected to reopen; "
        "season 1 June – 30 November, most trade Sep–Nov. NewsDrum (PTI)"
    )
    assert upcoming[3].startswith(
        "• 10 Nov 2026 (in about 7 months): Rare-earth magnets: China's one-year pause of its "
        "9 Oct 2025 wider rare-earth export controls ends."
    )
    # In July both passes' June is past; the rare-earth pause's end is still ahead.
    july = section(
        digest_text(seeded_engine, freshness=Freshness(date(2026, 7, 1), 120)), "Upcoming dates"
    ).splitlines()
    assert len(july) == 2
    assert "Rare-earth magnets" in july[1]
    # Nothing ahead for a subscriber who follows only trade: no empty section.
    assert "Upcoming dates" not in digest_text(seeded_engine, frozenset({Topic.TRADE}))


def test_an_announced_flight_is_an_upcoming_date(seeded_engine: Engine) -> None:
    with db.session_scope(seeded_engine) as session:
        route = session.exec(
            select(FlightRoute).where(col(FlightRoute.slug) == "delhi-guangzhou")
        ).one()
        route.status = FlightStatus.ANNOUNCED
        route.since = route.as_of = PartialDate(2026, 3, 20)  # announced then
        route.starts_on = PartialDate(2026, 4, 15)
    text = digest_text(seeded_engine, frozenset({Topic.FLIGHTS}))
    assert "• 15 Apr 2026 (in 14 days): Delhi–Guangzhou flights to start, daily." in text
    assert "first flight announced for 15 Apr 2026" in section(text, "Direct flights")
    # Once its day has passed with nothing recorded, it is said, and no longer upcoming.
    later = digest_text(
        seeded_engine, frozenset({Topic.FLIGHTS}), freshness=Freshness(date(2026, 5, 1), 120)
    )
    assert "Upcoming dates" not in later
    assert (
        "first flight announced for 15 Apr 2026, now passed with no confirmation recorded "
        "since 20 Mar 2026" in section(later, "Direct flights")
    )


def test_a_long_digest_is_split_between_whole_lines_and_loses_nothing(
    seeded_engine: Engine,
) -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    notes = [f"Reason {n}: " + "details of the change " * 70 for n in range(12)]
    for n, note in enumerate(notes):
        add_change(seeded_engine, note=note, at=start + timedelta(minutes=n))
    with db.session_scope(seeded_engine) as session:
        digest = build_digest(
            session,
            topics=ALL_TOPICS,
            since=None,
            freshness=FRESHNESS,
            frequency=Frequency.WEEKLY,
        )
        whole = RENDERER.render("digest.html.j2", digest=digest)
        parts = checked(render_digest(RENDERER, digest))
    assert len(whole) > 3 * MAX_MESSAGE_LENGTH
    assert len(parts) >= 4
    # Every line of the digest is in exactly one part, whole and in order.
    lines = [line for line in whole.splitlines() if line]
    assert [line for part in parts for line in part.splitlines() if line] == lines
    text = "\n".join(html_to_text(part) for part in parts)
    for note in notes[2:]:  # the ten newest
        assert note.strip() in text
    assert "…and 2 more: /changes" in text


# --- Alerts -----------------------------------------------------------------------------------


def test_an_alert_for_a_followed_topic_names_old_and_new_status(edited_engine: Engine) -> None:
    edit = nathu_la_edit(edited_engine)
    assert edit.id is not None
    with db.session_scope(edited_engine) as session:
        alert = build_alert(
            session,
            topics=frozenset({Topic.PASSES}),
            after_change_id=edit.id - 1,
            up_to_change_id=edit.id,
        )
        assert isinstance(alert, Alert)
        parts = checked(render_alert(RENDERER, alert))
        assert (
            build_alert(
                session,
                topics=frozenset({Topic.DEALS}),
                after_change_id=edit.id - 1,
                up_to_change_id=edit.id,
            )
            is None
        )
    assert len(parts) == 1
    assert html_to_text(parts[0]) == (
        "🔔 Trade Watch alert\n\n"
        "Nathu La (border pass)\n"
        "• status reopening agreed → reopening scheduled. Dates announced."
    )
    assert alert.topics == (Topic.PASSES,)


def test_an_alert_groups_changes_by_record_and_brings_general_ones_along(
    seeded_engine: Engine,
) -> None:
    first = add_change(
        seeded_engine,
        record_type=RecordType.SOURCE,
        record_key="lokmat-times-2025-10-27",
        field="url",
        old_value=None,
        new_value="https://example.org/a",
    )
    add_change(seeded_engine, note="Curbs reimposed.")
    add_change(
        seeded_engine,
        record_type=RecordType.PASS,
        record_key="shipki-la",
        old_value="reopening_scheduled",
        new_value="open",
    )
    last = add_change(
        seeded_engine, field="status_since", old_value="2025-08-21", new_value="2026-05"
    )
    with db.session_scope(seeded_engine) as session:
        alert = build_alert(
            session,
            topics=frozenset({Topic.DEALS}),
            after_change_id=first - 1,
            up_to_change_id=last,
        )
        assert alert is not None
        text = "\n".join(html_to_text(part) for part in checked(render_alert(RENDERER, alert)))
        only_general = build_alert(
            session,
            topics=frozenset({Topic.DEALS}),
            after_change_id=first - 1,
            up_to_change_id=first,
        )
    assert text == (
        "🔔 Trade Watch alert\n\n"
        "Source “'Warm welcome,' says China as direct flight from Kolkata lands in Guangzhou…” "
        "(source)\n"
        "• url https://example.org/a.\n\n"
        "Urea (commodity deal)\n"
        "• status in effect → suspended. Curbs reimposed.\n"
        "• status since 21 Aug 2025 → May 2026."
    )
    assert only_general is None


def test_a_long_alert_lists_the_first_twenty_changes_and_points_at_the_rest(
    seeded_engine: Engine,
) -> None:
    ids = [add_change(seeded_engine, note=f"Change number {n}.") for n in range(25)]
    with db.session_scope(seeded_engine) as session:
        alert = build_alert(
            session,
            topics=frozenset({Topic.DEALS}),
            after_change_id=ids[0] - 1,
            up_to_change_id=ids[-1],
        )
        assert alert is not None
        text = "\n".join(html_to_text(part) for part in checked(render_alert(RENDERER, alert)))
    assert text.count("• status in effect → suspended.") == 20
    assert "Change number 19." in text  # oldest first: the five newest wait for /changes
    assert "Change number 20." not in text
    assert text.endswith("…and 5 more: /changes")


def test_topics_of_changes(edited_engine: Engine) -> None:
    edit = nathu_la_edit(edited_engine)
    assert edit.id is not None
    with db.session_scope(edited_engine) as session:
        assert topics_of_changes(session, after_change_id=0, up_to_change_id=edit.id - 1) == (
            frozenset()
        )  # the seeded history
        assert topics_of_changes(
            session, after_change_id=edit.id - 1, up_to_change_id=edit.id
        ) == frozenset({Topic.PASSES})
    last = edit.id
    for values in (
        {"record_type": RecordType.ADMIN, "record_key": "tg:7", "field": "role"},
        {"record_type": RecordType.NOTE, "record_key": "import-drivers", "field": "text"},
        {"record_type": RecordType.NOTE, "record_key": "managed-rivalry", "field": "text"},
        {"record_type": RecordType.FIGURE, "record_key": "india_fy:FY2024-25", "field": "total"},
    ):
        last = add_change(edited_engine, **values)
    with db.session_scope(edited_engine) as session:
        assert topics_of_changes(session, after_change_id=edit.id, up_to_change_id=last) == (
            frozenset({Topic.TRADE, Topic.GENERAL})
        )


def test_following_nothing_still_gives_the_headline(seeded_engine: Engine) -> None:
    text = digest_text(seeded_engine, frozenset())
    assert "USD 99.2 bn" in text
    assert "USD 116.12 bn" in text
    for title in SECTION_TITLES.values():
        assert title not in text
    assert "Upcoming dates" not in text


# --- Edits that were undone -------------------------------------------------------------------


def test_an_edit_and_its_undo_cancel_out_in_digests_and_the_ticker(seeded_engine: Engine) -> None:
    from bot.services import editing
    from bot.services.answers import load_catalog

    edited_at = datetime(2026, 3, 30, 9, 0, tzinfo=UTC)
    with db.session_scope(seeded_engine) as session:
        edit = editing.parse_set(session, load_catalog(session), "pass nathu-la open")
        editing.apply(session, edit, actor="tg:7", now=edited_at)
    with db.session_scope(seeded_engine) as session:
        first_alert = build_alert(
            session, topics=ALL_TOPICS, after_change_id=0, up_to_change_id=10**9
        )
    undone_at = edited_at + timedelta(minutes=5)
    with db.session_scope(seeded_engine) as session:
        editing.undo(session, actor="tg:7", now=undone_at)

    # A digest built after both shows neither.
    week_before = edited_at - timedelta(days=7)
    changes = section(digest_text(seeded_engine, since=week_before), "What changed since")
    assert "No changes since your last digest." in changes
    assert "Nathu La" not in section(digest_text(seeded_engine), "Recent changes")
    with db.session_scope(seeded_engine) as session:
        assert editing.recent_changes(session, since=week_before) == []

    # A digest that already told of the edit tells of its undo.
    between = edited_at + timedelta(minutes=1)
    changes = section(digest_text(seeded_engine, since=between), "What changed since")
    assert "Nathu La (border pass): status open → reopening agreed" in changes
    with db.session_scope(seeded_engine) as session:
        ticker = editing.recent_changes(session, since=between)
    assert {(row.field, row.new_value) for row, _ in ticker} == {
        ("status", "reopening_agreed"),
        ("status_since", "2025-08-19"),
    }

    # An alert already built for the edit stays as it was.
    assert first_alert is not None
    with db.session_scope(seeded_engine) as session:
        again = build_alert(
            session,
            topics=ALL_TOPICS,
            after_change_id=first_alert.after_change_id,
            up_to_change_id=max(
                line.change.id or 0 for g in first_alert.groups for line in g.lines
            ),
        )
    assert again is not None
    assert [line.change.new_value for g in again.groups for line in g.lines] == [
        line.change.new_value for g in first_alert.groups for line in g.lines
    ]
