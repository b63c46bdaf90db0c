"""reporting's batch path on the real PostgreSQL (and Kafka for the dead letters): what one fetch
brings is projected in one transaction, with the same read models as one event at a time;
a redelivered batch changes nothing; a poison record among good ones is dead-lettered while the
good ones are projected once; an admin's calendar edit made by another replica reaches the
calendar a projector keeps in memory, so the due dates of what it projects next follow.

Each test projects into fresh schemas migrated with reporting's SQL: "batched" through
``BatchConsumer``, and where a comparison is made, "single" record by record through
``IdempotentConsumer`` (the path a batch falls back to)."""

import datetime as dt
import itertools
import json
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from faststream.kafka import KafkaBroker

from bench.replay import EPOCH, sample_request
from events.approval import Disposed, DocumentsVerified
from events.base import DomainEvent
from events.envelope import GENESIS_HASH, Actor, Envelope, NewEvent
from events.intake import (
    BusinessProcess,
    NeedsAnalysis,
    RequestLetter,
    RequestReceived,
    RequestSubmitted,
)
from events.topics import Service, topic_for
from infra.batch_consumer import BatchConsumer
from infra.consumer import Delivered, IdempotentConsumer, Outcome, dead_letter_to
from infra.db import create_pool
from infra.eventstore.contract import seal_all
from infra.idempotency import IdempotencyKeys
from infra.kafka import ensure_topics
from infra.kafka_acl import ADMIN
from infra.principal import Principal
from infra.settings import Settings
from services.reporting.calendar import WorkingCalendar
from services.reporting.calendar_admin import CalendarAdmin
from services.reporting.calendar_store import DayEdit
from services.reporting.projector import Projector
from services.reporting.replay_rebuild import rebuild
from tests.integration.conftest import MigrateReporting
from tests.kafka_helpers import read_topic

WIB = ZoneInfo("Asia/Jakarta")
LATER = EPOCH + dt.timedelta(days=400)
Record = tuple[bytes, str]


@dataclass
class Reporting:
    schema: str
    pool: asyncpg.Pool
    projector: Projector
    single: IdempotentConsumer
    batched: BatchConsumer

    async def one_by_one(self, records: Sequence[Record]) -> list[Outcome]:
        return [await self.single.process(body, topic) for body, topic in records]

    async def tables(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every read model, without the columns that say when a row was written."""
        s = self.schema
        queries = {
            "case_events": "event_id, request_id, service, event_type, stream_version, "
            "occurred_at, envelope::jsonb::text",
            "cases": "request_id, tenant, status, opd, title, current_step, step_number, "
            "responsible_role, progress_percent, submitted_at, updated_at, due_at, "
            "casefile::jsonb::text",
            "request_sla": "*",
            "sla_rows": "request_id, step, attempt, opd, step_number, responsible_role, "
            "supervisor_role, standard_minutes, started_at, due_at, finished_at, ended_by, "
            "used_minutes, paused_minutes, failed_runs, status, pauses::jsonb::text",
            "notices": "notice_id, kind, role, opd, user_id, request_id, step, message, "
            "created_at, event_id",
        }
        return {
            table: [
                tuple(r)
                for r in await self.pool.fetch(f"SELECT {cols} FROM {s}.{table} ORDER BY 1, 2, 3")
            ]
            for table, cols in queries.items()
        }

    async def count(self, sql: str, *args: Any) -> int:
        return int(await self.pool.fetchval(sql.format(s=self.schema), *args))


Make = Callable[..., Awaitable[Reporting]]


@pytest.fixture
async def dead_letters(
    settings: Settings, unique_name: str
) -> AsyncIterator[tuple[KafkaBroker, str]]:
    topic = f"test.{unique_name}.dlq"
    await ensure_topics(settings.kafka_login(ADMIN), [topic])
    async with settings.kafka_login(ADMIN).broker() as broker:
        yield broker, topic


@pytest.fixture
async def make(
    settings: Settings,
    unique_name: str,
    dead_letters: tuple[KafkaBroker, str],
    migrate_reporting: MigrateReporting,
) -> AsyncIterator[Make]:
    """Makes a reporting projection into a fresh schema (``name`` tells two apart), or another
    replica on the schema of one made before (``replica_of``)."""
    pools: list[asyncpg.Pool] = []
    broker, dlq = dead_letters

    async def reporting(
        name: str = "batched",
        clock: Callable[[], dt.datetime] = lambda: LATER,
        replica_of: Reporting | None = None,
    ) -> Reporting:
        schema = replica_of.schema if replica_of else f"{unique_name}_{name}"
        if replica_of is None:
            await migrate_reporting(schema)
        pool = await create_pool(settings.app_url(schema), max_size=4)
        pools.append(pool)
        projector = Projector(schema, clock, "Asia/Jakarta")
        single = IdempotentConsumer(
            pool, schema, projector.handle, dead_letter_to(broker, dlq), max_wait=0.05
        )
        return Reporting(
            schema, pool, projector, single, BatchConsumer(single, projector.handle_batch)
        )

    yield reporting
    for pool in pools:
        await pool.close()


def records_of(envelopes: Sequence[tuple[Service, Envelope]]) -> list[Record]:
    return [(e.model_dump_json().encode(), topic_for(s)) for s, e in envelopes]


def interleaved(
    flows: Sequence[Sequence[tuple[Service, Envelope]]],
) -> list[tuple[Service, Envelope]]:
    """Every request's envelopes in its order, the requests taken in turn (as partitions mix)."""
    turns = itertools.zip_longest(*flows)
    return [pair for turn in turns for pair in turn if pair is not None]


def flows(count: int, seed: int) -> list[list[tuple[Service, Envelope]]]:
    rng = random.Random(seed)
    return [
        sample_request(str(uuid.uuid4()), rng, EPOCH + dt.timedelta(days=3 * n), reports=3)
        for n in range(count)
    ]


async def test_many_requests_in_one_batch_project_as_one_at_a_time(make: Make) -> None:
    batched, single = await make("batched"), await make("single")
    requests = flows(8, seed=11)
    records = records_of(interleaved(requests))
    assert len(records) > 100

    assert await batched.batched.process(records) == [Outcome.HANDLED] * len(records)
    assert await single.one_by_one(records) == [Outcome.HANDLED] * len(records)

    assert await batched.tables() == await single.tables()
    # One transaction (now() is its start) and one read of the calendar for the whole batch.
    assert await batched.count("SELECT count(DISTINCT received_at) FROM {s}.case_events") == 1
    assert await single.count("SELECT count(DISTINCT received_at) FROM {s}.case_events") > 1
    assert batched.projector.calendars.reads == 1
    assert await batched.count("SELECT count(*) FROM {s}.cases") == 8
    # ... and the notices are those of the audit replay's independent bulk projection.
    expected = set()
    for flow in requests:
        rid = flow[0][1].stream_id
        arrivals = (Delivered(e, e.model_dump_json()) for _, e in flow)
        rebuilt, refusals = rebuild(rid, arrivals, lambda _: WorkingCalendar(), LATER)
        assert rebuilt is not None and refusals == []
        expected |= {n.notice_id for n in rebuilt.notices}
        step = await batched.pool.fetchval(
            f"SELECT current_step FROM {batched.schema}.cases WHERE request_id = $1", rid
        )
        assert step == rebuilt.case.step
    notices = await batched.pool.fetch(f"SELECT notice_id FROM {batched.schema}.notices")
    assert {r["notice_id"] for r in notices} == expected


async def test_case_events_keep_each_envelope_as_it_was_delivered(make: Make) -> None:
    batched, single = await make("batched"), await make("single")
    flow = flows(1, seed=13)[0]
    # Not pydantic's spelling: spaces, another key order, as another producer may write it.
    records = [
        (json.dumps(dict(reversed(e.model_dump(mode="json").items())), indent=1).encode(), t)
        for e, (_, t) in zip([e for _, e in flow], records_of(flow), strict=True)
    ]

    assert await batched.batched.process(records) == [Outcome.HANDLED] * len(records)
    assert await single.one_by_one(records) == [Outcome.HANDLED] * len(records)

    delivered = sorted(body.decode() for body, _ in records)
    for reporting in (batched, single):
        stored = await reporting.pool.fetch(
            f"SELECT envelope::text AS text FROM {reporting.schema}.case_events"
        )
        assert sorted(r["text"] for r in stored) == delivered


async def test_a_redelivered_batch_changes_nothing(make: Make) -> None:
    batched, single = await make("batched"), await make("single")
    requests = flows(4, seed=12)
    halves = [(flow[: len(flow) // 2], flow[len(flow) // 2 :]) for flow in requests]
    first = records_of(interleaved([a for a, _ in halves]))
    again = first[::3]  # Kafka delivers some of them again, in the next batch
    rest = records_of(interleaved([b for _, b in halves]))

    assert await batched.batched.process(first) == [Outcome.HANDLED] * len(first)
    second = [*again, *rest]
    assert await batched.batched.process(second) == (
        [Outcome.DUPLICATE] * len(again) + [Outcome.HANDLED] * len(rest)
    )
    projected = await batched.tables()
    written = await batched.count("SELECT count(DISTINCT projected_at) FROM {s}.cases")

    # The same batch once more: all duplicates, and not a row is written again.
    assert await batched.batched.process(second) == [Outcome.DUPLICATE] * len(second)
    # Past the consumer's inbox, the projection itself finds them stored and does nothing.
    async with batched.pool.acquire() as conn, conn.transaction():
        await batched.projector.handle_batch([Delivered.of(body) for body, _ in second], conn)
    assert await batched.tables() == projected
    assert await batched.count("SELECT count(DISTINCT projected_at) FROM {s}.cases") == written

    assert await single.one_by_one([*first, *rest]) == [Outcome.HANDLED] * (len(first) + len(rest))
    assert projected == await single.tables()
    assert await batched.count("SELECT count(*) FROM {s}.processed_events") == len(first) + len(
        rest
    )


async def test_poison_records_are_dead_lettered_and_the_good_ones_projected_once(
    make: Make, settings: Settings, dead_letters: tuple[KafkaBroker, str]
) -> None:
    batched, single = await make("batched"), await make("single")
    a, b, c = flows(3, seed=13)
    unknown = a[1][1].model_copy(update={"event_id": uuid.uuid4(), "event_type": "NoSuchEvent"})
    elsewhere = b[1][1].model_copy(
        update={"event_id": uuid.uuid4(), "stream_id": c[0][1].stream_id}
    )
    twice = a[2][1].model_copy(update={"event_id": uuid.uuid4()})  # a's place, another event
    good_first = interleaved([a[:3], b[:3], c[:3]])
    poison = [(a[1][0], unknown), (b[1][0], elsewhere), (a[2][0], twice)]
    first = records_of(good_first[:4]) + records_of(poison[:2]) + records_of(good_first[4:])
    first += records_of(poison[2:])
    good_second = interleaved([a[3:], b[3:], c[3:]])
    second = [*records_of(good_second[:5]), (b"{not json", topic_for("intake"))]
    second += records_of(good_second[5:])

    outcomes = await batched.batched.process(first)
    assert [i for i, o in enumerate(outcomes) if o == Outcome.DEAD_LETTERED] == [4, 5, 11]
    assert outcomes.count(Outcome.HANDLED) == len(good_first)
    outcomes = await batched.batched.process(second)
    assert [i for i, o in enumerate(outcomes) if o == Outcome.DEAD_LETTERED] == [5]
    assert outcomes.count(Outcome.HANDLED) == len(good_second)

    good = records_of([*good_first, *good_second])
    assert await single.one_by_one(good) == [Outcome.HANDLED] * len(good)
    assert await batched.tables() == await single.tables()
    assert await batched.count("SELECT count(*) FROM {s}.case_events") == len(good)
    dead = await batched.count(
        "SELECT count(*) FROM {s}.processed_events WHERE outcome = 'dead_lettered'"
    )
    assert dead == 3
    _, dlq = dead_letters
    letters = await read_topic(settings.kafka_login(ADMIN), dlq, expected=4, timeout=20)
    assert sorted(r.value for r in letters) == sorted(
        [e.model_dump_json().encode() for _, e in poison] + [b"{not json"]
    )
    errors = {r.value: dict(r.headers)["error"] for r in letters}
    assert b"NoSuchEvent" in errors[poison[0][1].model_dump_json().encode()]
    assert b"of another request" in errors[poison[1][1].model_dump_json().encode()]
    assert b"holds both" in errors[poison[2][1].model_dump_json().encode()]


# The calendar kept in memory ---------------------------------------------------------------------


def wib(day: str, hhmm: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{hhmm}:00").replace(tzinfo=WIB)


def friday_afternoon(rid: str) -> list[tuple[Service, Envelope]]:
    """Submitted, received, dispositioned and verified on Friday 3 May 2024: the meeting's 180
    minutes run 30 on Friday (to 15:30) and 150 on the next working day (from 07:30)."""
    requester = Actor(user_id="u-pemohon", role="PEMOHON", opd="DISHUB")
    kadis = Actor(user_id="u-kadis", role="KADIS", opd="DISKOMINFOSTANDI")
    kabid = Actor(user_id="u-kabid", role="KABID_TI", opd="DISKOMINFOSTANDI")
    submitted = RequestSubmitted(
        request_id=rid,
        opd="DISHUB",
        title="SI Perizinan",
        summary="Perizinan trayek angkutan secara daring.",
        letter=RequestLetter(number="550/01/DISHUB/2024", date=dt.date(2024, 5, 1)),
        needs_analysis=NeedsAnalysis(),
        business_process=BusinessProcess(),
        submitted_via="WEB",
    )
    steps: list[tuple[Service, str, Actor, DomainEvent]] = [
        ("intake", "13:00", requester, submitted),
        ("intake", "13:02", kadis, RequestReceived(request_id=rid, received_by="u-kadis")),
        ("approval", "13:04", kadis, Disposed(request_id=rid, to_role="KABID_TI", note="Proses.")),
        ("approval", "15:00", kabid, DocumentsVerified(request_id=rid)),
    ]
    lanes: dict[Service, list[NewEvent]] = {}
    for service, hhmm, actor, event in steps:
        lanes.setdefault(service, []).append(
            NewEvent.of(
                event,
                occurred_at=wib("2024-05-03", hhmm),
                actor=actor,
                correlation_id=uuid.uuid4(),
            )
        )
    return [
        (service, envelope)
        for service, news in lanes.items()
        for envelope in seal_all(rid, 0, GENESIS_HASH, news)
    ]


async def test_an_edit_by_another_replica_reaches_the_kept_calendar(make: Make) -> None:
    now = wib("2024-05-03", "15:10")
    consumer = await make("calendar", clock=lambda: now)
    other = await make(replica_of=consumer, clock=lambda: now)
    keys = IdempotencyKeys(other.schema)
    admin = CalendarAdmin(lambda: other.pool, other.projector, "katingan", keys)
    principal = Principal(
        user_id="u-admin", name="Admin", roles=frozenset({"ADMIN"}), opd="DISKOMINFOSTANDI"
    )
    monday = dt.date(2024, 5, 6)

    async def project_one() -> dt.datetime:
        """A new request's four events in one batch; its meeting's due instant."""
        rid = str(uuid.uuid4())
        records = records_of(friday_afternoon(rid))
        assert await consumer.batched.process(records) == [Outcome.HANDLED] * 4
        due: dt.datetime = await consumer.pool.fetchval(
            f"SELECT due_at FROM {consumer.schema}.cases WHERE request_id = $1", rid
        )
        return due

    async def dues() -> set[dt.datetime]:
        rows = await consumer.pool.fetch(
            f"SELECT due_at FROM {consumer.schema}.sla_rows WHERE step = 'MEETING'"
        )
        return {r["due_at"] for r in rows}

    assert await project_one() == wib("2024-05-06", "10:00")
    assert await project_one() == wib("2024-05-06", "10:00")
    assert consumer.projector.calendars.reads == 1  # kept between batches

    edited = await admin.edit(principal, DayEdit(day=monday, off=True, note="Libur daerah"))
    assert edited.body["recomputed_requests"] == 2
    assert await dues() == {wib("2024-05-07", "10:00")}
    assert await project_one() == wib("2024-05-07", "10:00")  # the consumer read it again
    assert consumer.projector.calendars.reads == 2
    assert await project_one() == wib("2024-05-07", "10:00")
    assert consumer.projector.calendars.reads == 2

    removed = await admin.remove(principal, monday)
    assert removed.body["recomputed_requests"] == 4
    assert await project_one() == wib("2024-05-06", "10:00")
    assert await dues() == {wib("2024-05-06", "10:00")}
    assert consumer.projector.calendars.reads == 3
