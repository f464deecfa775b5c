"""The delivery ledger and the sender: digests and alerts written once, sent once.

Sending goes over HTTP to the Bot API emulator, which injects Telegram's 429s, 403s, 5xx and
migrations; the database is real (SQLite per test, and PostgreSQL for claims across instances).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from sqlmodel import select

from bot import db
from bot.models import BorderPass, Delivery, StatusChange, Subscriber
from bot.rendering import Renderer
from bot.services import admins, delivery
from bot.telegram.answer_cache import AnswerCache
from bot.telegram.broadcast import Broadcaster, RunReport, make_broadcast_bot
from bot.telegram.plain import html_to_text
from bot.telegram.services import BotServices
from bot.vocabulary import Actor, DeliveryKind, DeliveryState, Frequency, PassStatus, RecordType
from devtools.botapi import BotApiEmulator
from tests.conftest import FAKE_TOKEN, TODAY, BotUnderTest
from tests.factories import callback_update

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from sqlalchemy import Engine

    from bot.config import Settings

# Monday 23 November 2026, 09:00 in Kolkata: the default weekly digest is due.
MONDAY_0900_IST = datetime(2026, 11, 23, 3, 30, tzinfo=UTC)
ALL_TOPICS = ["trade", "deals", "passes", "flights"]


def add_subscribers(
    engine: Engine,
    count: int,
    *,
    first_chat: int = 1000,
    due: datetime | None = MONDAY_0900_IST,
    **overrides: Any,
) -> list[int]:
    """Weekly subscribers (Monday 09:00 Kolkata) whose next digest is `due`; their chat ids."""
    values: dict[str, Any] = {
        "chat_type": "private",
        "frequency": Frequency.WEEKLY,
        "weekday": 0,
        "local_hour": 9,
        "timezone": "Asia/Kolkata",
        "topics": ALL_TOPICS,
        "created_at": MONDAY_0900_IST - timedelta(days=30),
    }
    values.update(overrides)
    chats = list(range(first_chat, first_chat + count))
    with db.session_scope(engine) as session:
        for chat in chats:
            session.add(Subscriber(chat_id=chat, next_digest_at=due, **values))
    return chats


def deliveries(engine: Engine) -> list[Delivery]:
    with db.session_scope(engine) as session:
        return list(session.exec(select(Delivery).order_by(Delivery.id)).all())  # type: ignore[arg-type]


def subscriber(engine: Engine, chat_id: int) -> Subscriber:
    with db.session_scope(engine) as session:
        return session.exec(select(Subscriber).where(Subscriber.chat_id == chat_id)).one()


# --- scheduling --------------------------------------------------------------------------


def test_a_due_digest_is_written_once_and_the_schedule_advances(seeded_engine: Engine) -> None:
    add_subscribers(seeded_engine, 3)
    add_subscribers(seeded_engine, 1, first_chat=5000, due=MONDAY_0900_IST + timedelta(hours=1))

    assert delivery.schedule_due_digests(seeded_engine, now=MONDAY_0900_IST) == 3
    assert delivery.schedule_due_digests(seeded_engine, now=MONDAY_0900_IST) == 0

    rows = deliveries(seeded_engine)
    assert [(row.kind, row.due_at, row.state) for row in rows] == [
        (DeliveryKind.DIGEST, MONDAY_0900_IST, DeliveryState.PENDING)
    ] * 3
    assert rows[0].since == MONDAY_0900_IST - timedelta(days=30)  # since subscribing
    advanced = subscriber(seeded_engine, 1000)
    assert advanced.next_digest_at == MONDAY_0900_IST + timedelta(days=7)
    assert advanced.last_digest_at == MONDAY_0900_IST
    assert subscriber(seeded_engine, 5000).next_digest_at == MONDAY_0900_IST + timedelta(hours=1)


def test_after_downtime_each_subscriber_gets_the_one_digest_missed(seeded_engine: Engine) -> None:
    three_weeks_ago = MONDAY_0900_IST - timedelta(days=21)
    add_subscribers(seeded_engine, 2, due=three_weeks_ago)
    now = MONDAY_0900_IST + timedelta(hours=2)  # back up two hours after this week's time

    assert delivery.schedule_due_digests(seeded_engine, now=now) == 2
    assert [row.due_at for row in deliveries(seeded_engine)] == [three_weeks_ago] * 2
    assert subscriber(seeded_engine, 1000).next_digest_at == MONDAY_0900_IST + timedelta(days=7)
    assert delivery.schedule_due_digests(seeded_engine, now=now) == 0


def test_a_run_that_died_after_writing_never_writes_a_second_copy(seeded_engine: Engine) -> None:
    # The delivery exists but the schedule did not advance (another instance's transaction):
    # the unique key turns our insert into a no-op and the schedule still moves on.
    add_subscribers(seeded_engine, 1)
    first = subscriber(seeded_engine, 1000)
    assert first.id is not None
    with db.session_scope(seeded_engine) as session:
        session.add(
            Delivery(
                subscriber_id=first.id,
                kind=DeliveryKind.DIGEST,
                due_at=MONDAY_0900_IST,
                state=DeliveryState.SENT,
            )
        )
    delivery.schedule_due_digests(seeded_engine, now=MONDAY_0900_IST)
    assert len(deliveries(seeded_engine)) == 1
    assert subscriber(seeded_engine, 1000).next_digest_at == MONDAY_0900_IST + timedelta(days=7)


def test_scheduling_reads_due_rows_through_the_index(seeded_engine: Engine) -> None:
    with seeded_engine.connect() as connection:
        plan = connection.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT id FROM subscriber WHERE next_digest_at <= ? "
            "ORDER BY next_digest_at LIMIT 500",
            (MONDAY_0900_IST.isoformat(),),
        ).all()
    assert "ix_subscriber_next_digest_at" in " ".join(str(row) for row in plan)


# --- claims ------------------------------------------------------------------------------


def test_claims_never_overlap_and_a_dead_senders_lease_runs_out(seeded_engine: Engine) -> None:
    add_subscribers(seeded_engine, 5)
    delivery.schedule_due_digests(seeded_engine, now=MONDAY_0900_IST)

    first = delivery.claim(seeded_engine, now=MONDAY_0900_IST, limit=3, lease_seconds=60)
    second = delivery.claim(seeded_engine, now=MONDAY_0900_IST, limit=10, lease_seconds=60)
    assert len(first) == 3
    assert len(second) == 2
    assert not {c.delivery_id for c in first} & {c.delivery_id for c in second}
    assert delivery.claim(seeded_engine, now=MONDAY_0900_IST, limit=10, lease_seconds=60) == []

    # Nobody recorded anything for a minute: the senders are presumed dead, rows resumed.
    later = MONDAY_0900_IST + timedelta(seconds=61)
    resumed = delivery.claim(seeded_engine, now=later, limit=10, lease_seconds=60)
    assert len(resumed) == 5
    assert {c.attempts for c in resumed} == {2}


def test_a_claim_takes_its_rows_by_primary_key(seeded_engine: Engine) -> None:
    # Walking the state index to update the picked rows made a claim cost grow with the backlog
    # (20 ms at 100,000 pending rows on SQLite): quadratic over a digest run.
    add_subscribers(seeded_engine, 5)
    delivery.schedule_due_digests(seeded_engine, now=MONDAY_0900_IST)
    updates: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE DELIVERY"):
            updates.append((statement, parameters))

    sa.event.listen(seeded_engine, "before_cursor_execute", capture)
    try:
        claimed = delivery.claim(seeded_engine, now=MONDAY_0900_IST, limit=3, lease_seconds=60)
    finally:
        sa.event.remove(seeded_engine, "before_cursor_execute", capture)
    assert len(claimed) == 3
    assert len(updates) == 1  # one statement picks and takes the rows: no room for a race
    statement, parameters = updates[0]
    with seeded_engine.connect() as connection:
        plan = " | ".join(
            str(row[-1])
            for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        )
    assert "SEARCH delivery USING INTEGER PRIMARY KEY (rowid=?)" in plan, plan
    assert "INDEX ix_delivery_state_next_attempt (state=? AND next_attempt_at<?)" in plan, plan
    assert "SCAN delivery" not in plan, plan


def test_released_claims_wait_and_keep_their_attempt_count(seeded_engine: Engine) -> None:
    add_subscribers(seeded_engine, 1)
    delivery.schedule_due_digests(seeded_engine, now=MONDAY_0900_IST)
    claimed = delivery.claim(seeded_engine, now=MONDAY_0900_IST, limit=1, lease_seconds=60)
    delivery.release(
        seeded_engine,
        claimed,
        not_before=MONDAY_0900_IST + timedelta(seconds=30),
        now=MONDAY_0900_IST,
    )
    assert delivery.claim(seeded_engine, now=MONDAY_0900_IST, limit=1, lease_seconds=60) == []
    again = delivery.claim(
        seeded_engine, now=MONDAY_0900_IST + timedelta(seconds=30), limit=1, lease_seconds=60
    )
    assert [c.attempts for c in again] == [1]


# --- alerts ------------------------------------------------------------------------------


def record_change(engine: Engine, *, at: datetime, key: str = "nathu-la") -> None:
    with db.session_scope(engine) as session:
        record = session.exec(select(BorderPass).where(BorderPass.slug == key)).one()
        old = record.status
        record.status = PassStatus.REOPENING_SCHEDULED
        session.add(
            StatusChange(
                record_type=RecordType.PASS,
                record_key=key,
                field="status",
                old_value=old.value,
                new_value=record.status.value,
                note="Dates announced.",
                actor=Actor.telegram(42),
                at=at,
            )
        )


def test_alerts_go_to_followers_once_after_the_batch_window(seeded_engine: Engine) -> None:
    noon = datetime(2026, 11, 23, 6, 30, tzinfo=UTC)  # 12:00 in Kolkata
    add_subscribers(seeded_engine, 2, first_chat=100, topics=["passes"])
    add_subscribers(seeded_engine, 1, first_chat=200, topics=["deals"])
    add_subscribers(seeded_engine, 1, first_chat=300, topics=["passes"], alerts_enabled=False)

    # The first check only notes where the history ends: the bundled history is not news.
    assert delivery.dispatch_alerts(seeded_engine, now=noon, batch_seconds=30) == 0
    record_change(seeded_engine, at=noon + timedelta(seconds=5))
    record_change(seeded_engine, at=noon + timedelta(seconds=20), key="shipki-la")
    assert dispatch(seeded_engine, noon + timedelta(seconds=30)) == 0
    assert dispatch(seeded_engine, noon + timedelta(seconds=40)) == 2
    assert dispatch(seeded_engine, noon + timedelta(seconds=50)) == 0

    alerts = deliveries(seeded_engine)
    assert {subscriber_chat(seeded_engine, row.subscriber_id) for row in alerts} == {100, 101}
    assert all(row.kind is DeliveryKind.ALERT for row in alerts)
    assert all(row.next_attempt_at == noon + timedelta(seconds=40) for row in alerts)
    # Both changes in one alert.
    assert len({(row.after_change_id, row.up_to_change_id) for row in alerts}) == 1


def dispatch(engine: Engine, now: datetime) -> int:
    return delivery.dispatch_alerts(engine, now=now, batch_seconds=30)


def subscriber_chat(engine: Engine, subscriber_id: int) -> int:
    with db.session_scope(engine) as session:
        found = session.get(Subscriber, subscriber_id)
        assert found is not None
        return found.chat_id


def test_alerts_in_quiet_hours_wait_for_seven_and_merge(seeded_engine: Engine) -> None:
    night = datetime(2026, 11, 23, 18, 30, tzinfo=UTC)  # 00:00 in Kolkata
    add_subscribers(seeded_engine, 1, first_chat=100, topics=["passes"])
    add_subscribers(seeded_engine, 1, first_chat=200, topics=["passes"], quiet_hours=False)
    delivery.dispatch_alerts(seeded_engine, now=night, batch_seconds=0)

    record_change(seeded_engine, at=night)
    delivery.dispatch_alerts(seeded_engine, now=night + timedelta(minutes=1), batch_seconds=0)
    record_change(seeded_engine, at=night + timedelta(hours=2), key="shipki-la")
    delivery.dispatch_alerts(seeded_engine, now=night + timedelta(hours=2), batch_seconds=0)

    by_chat: dict[int, list[Delivery]] = {}
    for row in deliveries(seeded_engine):
        by_chat.setdefault(subscriber_chat(seeded_engine, row.subscriber_id), []).append(row)
    seven_ist = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
    [held] = by_chat[100]  # one message for both changes, at 07:00
    assert held.next_attempt_at == seven_ist
    assert held.up_to_change_id == max(row.up_to_change_id or 0 for row in by_chat[200])
    # Quiet hours off: due at once; not sent yet here, so it took the second change too.
    [waiting] = by_chat[200]
    assert waiting.next_attempt_at == night + timedelta(minutes=1)
    assert waiting.up_to_change_id == held.up_to_change_id


# --- sending -----------------------------------------------------------------------------


@pytest.fixture
def emulator() -> Iterator[BotApiEmulator]:
    with BotApiEmulator() as running:
        yield running


class Sender:
    """A broadcaster over HTTP to the emulator, with a clock the test moves."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.now = MONDAY_0900_IST
        self.services = BotServices(
            settings, engine, Renderer(), AnswerCache(0), clock=lambda: self.now
        )

    async def run(self) -> RunReport:
        bot = make_broadcast_bot(self.services)
        async with bot:
            return await Broadcaster(self.services, bot).run_due()


@pytest.fixture
def make_sender(
    make_settings: Callable[..., Settings], seeded_engine: Engine, emulator: BotApiEmulator
) -> Callable[..., Sender]:
    def factory(**overrides: Any) -> Sender:
        values: dict[str, Any] = {
            "telegram_bot_token": FAKE_TOKEN,
            "telegram_api_base_url": emulator.base_url,
            "broadcast_rate": 0,
        }
        values.update(overrides)
        return Sender(make_settings(**values), seeded_engine)

    return factory


def texts(emulator: BotApiEmulator, chat_id: int) -> list[str]:
    return [html_to_text(message.text or "") for message in emulator.messages(chat_id)]


DIGEST_TITLE = "Your weekly Trade Watch digest"


def digests(emulator: BotApiEmulator, chat_id: int) -> list[str]:
    """The digests a chat received, each as one text (a long digest comes in several parts)."""
    received: list[str] = []
    for part in texts(emulator, chat_id):
        if DIGEST_TITLE in part or not received:
            received.append(part)
        else:
            received[-1] += "\n\n" + part
    return received


def digest_counts(emulator: BotApiEmulator) -> Counter[int]:
    return Counter(
        int(message.chat_id)
        for message in emulator.messages()
        if DIGEST_TITLE in html_to_text(message.text or "")
    )


async def test_every_subscriber_gets_the_digest_once(
    make_sender: Callable[..., Sender], emulator: BotApiEmulator, seeded_engine: Engine
) -> None:
    chats = add_subscribers(seeded_engine, 20)
    report = await make_sender(broadcast_concurrency=4).run()

    assert report.scheduled == 20
    assert report.delivered == 20
    for chat in chats:
        [digest] = digests(emulator, chat)
        assert "99.2" in digest  # India's FY2024-25 deficit headline
        assert "116.12" in digest  # China's 2025 figure
    assert {row.state for row in deliveries(seeded_engine)} == {DeliveryState.SENT}
    assert all(row.message_id for row in deliveries(seeded_engine))

    again = await make_sender().run()  # the next tick: nothing more to send
    assert again.sent == 0
    assert digest_counts(emulator) == dict.fromkeys(chats, 1)


@pytest.mark.slow  # injected faults, paced by the per-chat spacing in real time
async def test_a_429_pauses_sending_and_nothing_is_lost_or_doubled(
    make_sender: Callable[..., Sender], emulator: BotApiEmulator, seeded_engine: Engine
) -> None:
    chats = add_subscribers(seeded_engine, 10)
    emulator.fail_next("sendMessage", 429, retry_after=1, count=2)
    sender = make_sender(broadcast_concurrency=2)
    first = await sender.run()
    assert first.rate_limited >= 1
    assert first.released >= 1
    # The held deliveries wait for retry_after; the next tick after it sends them.
    sender.now += timedelta(seconds=2)
    await sender.run()
    assert digest_counts(emulator) == dict.fromkeys(chats, 1)
    assert {row.state for row in deliveries(seeded_engine)} == {DeliveryState.SENT}
    assert {row.attempts for row in deliveries(seeded_engine)} == {1}


@pytest.mark.slow  # injected faults, paced by the per-chat spacing in real time
async def test_a_blocked_chat_deactivates_the_subscriber_and_is_not_retried(
    make_sender: Callable[..., Sender], emulator: BotApiEmulator, seeded_engine: Engine
) -> None:
    chats = add_subscribers(seeded_engine, 3)
    emulator.block_chat(chats[1])
    report = await make_sender().run()
    assert report.blocked == 1
    assert report.delivered == 2
    gone = subscriber(seeded_engine, chats[1])
    assert not gone.active
    assert gone.next_digest_at is None
    assert gone.deactivated_reason == "Forbidden: bot was blocked by the user"
    [blocked] = [row for row in deliveries(seeded_engine) if row.subscriber_id == gone.id]
    assert blocked.state is DeliveryState.BLOCKED
    assert digests(emulator, chats[1]) == []
    # A week later the blocked chat is not scheduled, the others are.
    sender = make_sender()
    sender.now += timedelta(days=7)
    assert (await sender.run()).scheduled == 2


@pytest.mark.parametrize(
    "description", ["Bad Request: chat not found", "Forbidden: bot was kicked from the group chat"]
)
async def test_chats_that_are_gone_deactivate_too(
    make_sender: Callable[..., Sender],
    emulator: BotApiEmulator,
    seeded_engine: Engine,
    description: str,
) -> None:
    [chat] = add_subscribers(seeded_engine, 1, chat_type="group", first_chat=-100)
    code = 400 if description.startswith("Bad") else 403
    emulator.fail_next("sendMessage", code, description=description, chat_id=chat)
    report = await make_sender().run()
    assert report.blocked == 1
    assert not subscriber(seeded_engine, chat).active


@pytest.mark.slow  # injected faults, paced by the per-chat spacing in real time
async def test_transient_errors_back_off_then_fail_with_the_reason(
    make_sender: Callable[..., Sender], emulator: BotApiEmulator, seeded_engine: Engine
) -> None:
    [chat] = add_subscribers(seeded_engine, 1)
    emulator.fail_next("sendMessage", 502, count=2)
    sender = make_sender()
    assert (await sender.run()).retried == 1
    [row] = deliveries(seeded_engine)
    assert row.state is DeliveryState.PENDING
    assert row.next_attempt_at == sender.now + timedelta(seconds=30)
    assert "502" in (row.last_error or "") or "Bad Gateway" in (row.last_error or "")

    sender.now += timedelta(seconds=31)
    assert (await sender.run()).retried == 1  # the second failure: two minutes more
    sender.now += timedelta(minutes=3)
    assert (await sender.run()).delivered == 1
    assert len(digests(emulator, chat)) == 1

    # A chat that always fails: after MAX_ATTEMPTS the delivery fails for good, reason kept.
    [other] = add_subscribers(seeded_engine, 1, first_chat=7000, due=sender.now)
    emulator.fail_next("sendMessage", 500, count=10, chat_id=other)
    for _ in range(delivery.MAX_ATTEMPTS):
        await sender.run()
        sender.now += timedelta(hours=1)
    failed = [row for row in deliveries(seeded_engine) if row.state is DeliveryState.FAILED]
    assert len(failed) == 1
    assert failed[0].attempts == delivery.MAX_ATTEMPTS
    assert failed[0].last_error


@pytest.mark.slow  # injected faults, paced by the per-chat spacing in real time
async def test_a_group_that_became_a_supergroup_is_followed(
    make_sender: Callable[..., Sender], emulator: BotApiEmulator, seeded_engine: Engine
) -> None:
    [old] = add_subscribers(seeded_engine, 1, chat_type="group", first_chat=-4001)
    new = -1004001
    emulator.fail_next(
        "sendMessage",
        400,
        description="Bad Request: group chat was upgraded to a supergroup chat",
        parameters={"migrate_to_chat_id": new},
        chat_id=old,
    )
    report = await make_sender().run()
    assert report.delivered == 1
    assert len(digests(emulator, new)) == 1
    assert subscriber(seeded_engine, new).active


async def test_deliveries_of_an_unsubscribed_chat_are_not_sent(
    make_sender: Callable[..., Sender], emulator: BotApiEmulator, seeded_engine: Engine
) -> None:
    [chat] = add_subscribers(seeded_engine, 1)
    delivery.schedule_due_digests(seeded_engine, now=MONDAY_0900_IST)
    with db.session_scope(seeded_engine) as session:
        row = session.exec(select(Subscriber).where(Subscriber.chat_id == chat)).one()
        row.active = False
        row.deactivated_reason = "unsubscribed"
    report = await make_sender().run()
    assert report.sent == 0
    assert [row.state for row in deliveries(seeded_engine)] == [DeliveryState.BLOCKED]


async def test_an_alert_reaches_followers_of_the_topic(
    make_sender: Callable[..., Sender], emulator: BotApiEmulator, seeded_engine: Engine
) -> None:
    passes = add_subscribers(seeded_engine, 2, first_chat=100, topics=["passes"], due=None)
    deals = add_subscribers(seeded_engine, 1, first_chat=200, topics=["deals"], due=None)
    sender = make_sender(alert_batch_seconds=0)
    sender.now = datetime(2026, 11, 23, 6, 30, tzinfo=UTC)
    await sender.run()  # starts the alert cursor
    record_change(seeded_engine, at=sender.now)
    sender.now += timedelta(seconds=10)
    report = await sender.run()
    assert report.alerts == 2
    for chat in passes:
        [alert] = texts(emulator, chat)
        assert "Nathu La" in alert
        assert "reopening scheduled" in alert
    assert texts(emulator, deals[0]) == []


# --- several instances ---------------------------------------------------------------------


@pytest.mark.slow  # two senders racing over 300 deliveries
@pytest.mark.postgres
async def test_two_instances_on_postgresql_send_each_delivery_once(
    postgres_seeded_url: str,
    make_settings: Callable[..., Settings],
    emulator: BotApiEmulator,
) -> None:
    settings = make_settings(
        database_url=postgres_seeded_url,
        telegram_bot_token=FAKE_TOKEN,
        telegram_api_base_url=emulator.base_url,
        broadcast_rate=0,
        broadcast_concurrency=4,
    )
    engines = [db.make_engine(settings), db.make_engine(settings)]
    try:
        chats = add_subscribers(engines[0], 300)
        emulator.set_delay(0.002, "sendMessage")
        senders = [Sender(settings, engine) for engine in engines]
        reports = await asyncio.gather(*(sender.run() for sender in senders))
        assert sum(report.scheduled for report in reports) == 300
        assert all(report.delivered > 0 for report in reports), "both instances took part"
        assert digest_counts(emulator) == dict.fromkeys(chats, 1)
        with engines[0].connect() as connection:
            states = connection.execute(
                sa.text("SELECT state, count(*) FROM delivery GROUP BY state")
            ).all()
        assert dict(states) == {"sent": 300}
    finally:
        for engine in engines:
            engine.dispose()


async def test_an_editors_change_in_telegram_reaches_followers_as_one_alert(
    bot: BotUnderTest,
    make_sender: Callable[..., Sender],
    emulator: BotApiEmulator,
    seeded_engine: Engine,
) -> None:
    editor = 4242
    with db.session_scope(seeded_engine) as session:
        admins.bootstrap_owners(session, [editor])
    [follower] = add_subscribers(seeded_engine, 1, first_chat=100, topics=["passes"], due=None)
    [other] = add_subscribers(seeded_engine, 1, first_chat=200, topics=["flights"], due=None)
    sender = make_sender(alert_batch_seconds=30)
    sender.now = TODAY  # the application's clock: edits are recorded at this time
    await sender.run()  # the alert cursor starts here

    # Two edits within the batch window, through the real application.
    for command in ("/set pass nathu-la reopening_scheduled", "/set pass shipki-la open"):
        [preview] = [c for c in await bot.send(command, user_id=editor) if "reply_markup" in c]
        confirm = preview["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        await bot.process(callback_update(bot.application.bot, confirm, user_id=editor))

    assert (await sender.run()).alerts == 0  # still collecting
    sender.now = TODAY + timedelta(seconds=31)
    report = await sender.run()
    assert report.alerts == 1
    [alert] = texts(emulator, follower)
    assert "Nathu La" in alert
    assert "reopening scheduled" in alert
    assert "Shipki La" in alert
    assert texts(emulator, other) == []


async def test_a_long_digest_resumes_after_its_last_sent_part(
    make_sender: Callable[..., Sender], emulator: BotApiEmulator, seeded_engine: Engine
) -> None:
    [chat] = add_subscribers(seeded_engine, 1)
    delivery.schedule_due_digests(seeded_engine, now=MONDAY_0900_IST)
    with db.session_scope(seeded_engine) as session:
        row = session.exec(select(Delivery)).one()
        row.parts_sent = 1  # a crash after the first part was recorded
    await make_sender().run()
    rest = texts(emulator, chat)
    assert rest
    assert all(DIGEST_TITLE not in part for part in rest)
    [row] = deliveries(seeded_engine)
    assert (row.state, row.parts_sent) == (DeliveryState.SENT, 1 + len(rest))


async def test_a_reader_subscribes_in_telegram_and_gets_the_digest_at_their_local_hour(
    bot: BotUnderTest,
    make_sender: Callable[..., Sender],
    emulator: BotApiEmulator,
    seeded_engine: Engine,
) -> None:
    reader = 3131
    await bot.send("/subscribe", user_id=reader, chat_id=reader)
    await bot.send("/timezone America/New_York", user_id=reader, chat_id=reader)
    sender = make_sender()
    # Monday 09:00 in New York is 14:00 UTC (EST).
    sender.now = datetime(2026, 11, 23, 13, 59, tzinfo=UTC)
    assert (await sender.run()).scheduled == 0
    assert texts(emulator, reader) == []
    sender.now = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    assert (await sender.run()).delivered == 1
    digest = "\n".join(digests(emulator, reader))
    assert "Your weekly Trade Watch digest, 23 Nov 2026" in digest
    assert subscriber(seeded_engine, reader).next_digest_at == datetime(
        2026, 11, 30, 14, 0, tzinfo=UTC
    )
