"""The inspector's audit on the real Kafka and PostgreSQL: a replay of reporting's read models
from Kafka offset 0 into a fresh schema equals the live read models; a tampered live row is
reported as exactly that difference; a tampered event, in an event store or on Kafka, is named
as the first broken link; the commands' exit codes.

The live reporting service runs in-process (as in ``tests/services/test_reporting_service.py``)
and projects whole requests published as sealed envelopes (``bench.replay.sample_request``:
returns, failed tests, a rejected UAT, an SLA breach, requests still open, one withdrawn or
rejected). Everything is scoped to a tenant of this run, so the other tests' events on the same
topics stay out of the comparison."""

import asyncio
import datetime as dt
import json
import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from bench.chaos.checks import audit
from bench.relay import delete_topic
from bench.replay import EPOCH, sample_request
from devstack.stack import Endpoints
from events.checkpoint import (
    CHECKPOINT_HEADER,
    CHECKPOINT_HEADER_VALUE,
    CHECKPOINT_KEY,
    FIRST_PREVIOUS,
    Checkpoint,
    is_checkpoint,
)
from events.envelope import GENESIS_HASH, Actor, Envelope, NewEvent
from events.merkle import heads_root
from events.topics import Service, dead_letter_topic, topic_for, topics_consumed_by
from infra.auth import development_keys
from infra.checkpoint_keys import Signer, development_key
from infra.eventstore import PostgresEventStore
from infra.eventstore.contract import seal_all
from infra.kafka import ensure_topics
from infra.kafka_acl import ADMIN
from infra.settings import Settings
from services.reporting.bootstrap import create_app
from services.reporting.calendar import WorkingCalendar
from services.reporting.calendar_fast import FastCalendar
from services.reporting.config import ReportingConfig
from services.reporting.replay import ReplayOptions, replay
from services.reporting.replay_compare import Difference
from services.reporting.verify import verify_all, verify_topic
from tests.kafka_helpers import eventually, read_topic

TENANT = f"audit-{uuid.uuid4().hex[:8]}"


@dataclass
class Live:
    settings: Settings
    """The operator's (the owner's): the replay builds a fresh schema and role."""
    producer: AIOKafkaProducer
    db: asyncpg.Pool
    sent: dict[str, int] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    checkpoints: list[str] = field(default_factory=list)
    """Where the signed checkpoint records put among the events are (``topic[p]@offset``)."""

    async def checkpoint(self) -> None:
        """A signed checkpoint record on every topic reporting consumes (as each service's relay
        leader publishes them): no event, skipped live and by the replay. Signed for another
        service than the topic's, so a ``jejak audit verify`` of this session's topics names it
        (no test here expects those topics to verify)."""
        unsigned = Checkpoint(
            service=f"test-{TENANT}",
            sequence=1,
            previous=FIRST_PREVIOUS,
            signed_at=dt.datetime.now(dt.UTC),
            streams=0,
            events=0,
            root=heads_root({}),
            heads=(),
            key_id="",
        )
        value = Signer(development_key(f"test-{TENANT}")).sign(unsigned).model_dump_json()
        for topic in topics_consumed_by("reporting"):
            sent = await self.producer.send_and_wait(
                topic,
                value.encode(),
                key=CHECKPOINT_KEY,
                headers=[(CHECKPOINT_HEADER, CHECKPOINT_HEADER_VALUE)],
            )
            self.checkpoints.append(f"{sent.topic}[{sent.partition}]@{sent.offset}")

    async def stored(self, request_id: str) -> int:
        return int(
            await self.db.fetchval(
                "SELECT count(*) FROM reporting.case_events WHERE request_id = $1", request_id
            )
        )

    async def settle(self, request_id: str) -> None:
        async def done() -> bool:
            return await self.stored(request_id) >= self.sent.get(request_id, 0)

        assert await eventually(done, timeout=90), f"reporting did not project {request_id}"

    async def send(self, service: Service, envelope: Envelope, counts: bool = True) -> None:
        value = envelope.model_dump_json()
        if envelope.stream_id in self.requests[1::2]:  # as PostgreSQL's json_build_object spaces it
            value = json.dumps(envelope.model_dump(mode="json"), separators=(", ", " : "))
        await self.producer.send_and_wait(
            topic_for(service), value.encode(), key=envelope.stream_id.encode()
        )
        if counts:
            self.sent[envelope.stream_id] = self.sent.get(envelope.stream_id, 0) + 1

    async def publish(self, envelopes: list[tuple[Service, Envelope]]) -> None:
        """One request's envelopes in the order they happened; before switching topics, wait
        until reporting has the earlier ones (so it sees them in that order, as in real life,
        where a service acts on another's event only after it is published)."""
        previous: Service | None = None
        for service, envelope in envelopes:
            if previous is not None and service != previous:
                await self.settle(envelope.stream_id)
            await self.send(service, envelope)
            previous = service
        await self.settle(envelopes[0][1].stream_id)

    async def catch_up(self, envelopes: list[tuple[Service, Envelope]], order: str) -> None:
        """One request's envelopes topic by topic, in ``order`` (e.g. "dev_tracking approval"):
        reporting catching up with one topic before another after downtime."""
        for topic in order.split():
            for service, envelope in envelopes:
                if service == topic:
                    await self.send(service, envelope)
            await self.settle(envelopes[0][1].stream_id)


CATCH_UPS = ("intake dev_tracking reporting approval", "reporting dev_tracking approval intake")
"""The orders in which the last requests' topics are read: the SOP's later topics first."""


@pytest.fixture(scope="module")
async def live(
    settings: Settings, owner_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Live]:
    """The live reporting service, having projected seven whole requests of this run's tenant:
    five as they happened, two topic by topic (``CATCH_UPS``)."""
    keys = tmp_path_factory.mktemp("keys")
    development_keys(keys)
    configured = settings.model_copy(update={"jwt_key_dir": str(keys)})
    before_everything = dt.datetime(2023, 12, 1, tzinfo=dt.UTC)  # the watcher breaches nothing
    app = create_app(configured, ReportingConfig(), clock=lambda: before_everything)
    producer = AIOKafkaProducer(**settings.kafka_login(ADMIN).options(), acks="all")
    async with app.router.lifespan_context(app):
        await producer.start()
        db = await asyncpg.create_pool(owner_settings.database_url, min_size=1, max_size=6)
        assert db is not None
        try:
            state = Live(owner_settings, producer, db)
            await state.checkpoint()
            rng = random.Random(22)
            flows = []
            for n in range(5 + len(CATCH_UPS)):
                rid = str(uuid.uuid4())
                start = EPOCH + dt.timedelta(days=7 * n)
                flows.append(sample_request(rid, rng, start, reports=3, tenant=TENANT))
                state.requests.append(rid)
            await asyncio.gather(
                *(state.publish(flow) for flow in flows[:5]),
                *(state.catch_up(f, o) for f, o in zip(flows[5:], CATCH_UPS, strict=True)),
            )
            # A redelivery changes nothing; a second event in the place of another is refused
            # (dead-lettered live, not projected by the replay).
            service, first = flows[0][0]
            await state.send(service, first, counts=False)
            conflicting = first.model_copy(update={"event_id": uuid.uuid4()})
            await state.send(service, conflicting, counts=False)
            yield state
        finally:
            await db.close()
            await producer.stop()


async def test_the_replay_equals_the_live_read_models(live: Live) -> None:
    result = await replay(live.settings, ReplayOptions(tenant=TENANT))
    assert result.differences == [], result.differences[:10]
    assert result.identical
    assert result.requests == len(live.requests)
    assert result.workers == 3  # one per partition number, in forked processes
    rows = {t.table: (t.live_rows, t.replayed_rows) for t in result.tables}
    assert rows["cases"] == (7, 7)
    assert rows["case_events"] == (sum(live.sent.values()),) * 2
    assert rows["notices"][0] > 20 and rows["sla_rows"][0] > 30
    for rid in live.requests[5:]:  # caught up topic by topic: told every step all the same
        steps = await live.db.fetch(
            "SELECT DISTINCT step FROM reporting.notices WHERE request_id = $1 AND kind = 'ACTION'",
            rid,
        )
        assert {"RECEIVE", "DISPOSE", "VERIFY", "MEETING", "ASSIGN"} <= {r["step"] for r in steps}
    mine = [r for r in result.refusals if r.request_id in live.requests]
    assert [r.reason for r in mine] == ["a second event in one place of its stream"]
    assert len(live.checkpoints) == 5
    assert not [r for r in result.refusals if r.where in live.checkpoints]  # skipped, no event
    schema_left = await live.db.fetchval("SELECT to_regnamespace($1)", result.schema)
    assert schema_left is None  # dropped


async def test_the_live_projection_skips_checkpoint_records_without_dead_letters(
    live: Live,
) -> None:
    dead = await read_topic(
        live.settings.kafka_login(ADMIN), dead_letter_topic("reporting"), 0, timeout=5
    )
    assert not [r for r in dead if is_checkpoint(r.headers) or b"jejak.checkpoint/1" in r.value]


async def test_a_tampered_live_row_is_reported_as_exactly_that_difference(live: Live) -> None:
    rid = live.requests[1]
    title = await live.db.fetchval("SELECT title FROM reporting.cases WHERE request_id = $1", rid)
    await live.db.execute("UPDATE reporting.cases SET title = 'Diubah' WHERE request_id = $1", rid)
    try:
        result = await replay(live.settings, ReplayOptions(tenant=TENANT, workers=1, keep=True))
    finally:
        await live.db.execute(
            "UPDATE reporting.cases SET title = $2 WHERE request_id = $1", rid, title
        )
    try:
        assert result.differences == [Difference("cases", rid, rid, "title", "Diubah", title)]
        assert not result.identical
        assert [(t.table, t.differing_rows) for t in result.tables if t.differing_rows] == [
            ("cases", 1)
        ]
        kept = await live.db.fetchval(
            f"SELECT title FROM {result.schema}.cases WHERE request_id = $1", rid
        )
        assert kept == title
    finally:
        await live.db.execute(f"DROP SCHEMA {result.schema} CASCADE")
        await live.db.execute(f'DROP ROLE "{live.settings.app_role(result.schema)}"')


async def _cli(settings: Settings, *args: str) -> tuple[int, str]:
    endpoints = Endpoints(settings.kafka_bootstrap_servers, settings.database_url)
    return await audit(endpoints, *args, timeout=240)


async def test_the_replay_command_says_identical_and_exits_0(live: Live, tmp_path: Path) -> None:
    report = tmp_path / "replay.json"
    code, out = await _cli(
        live.settings, "replay", "--tenant", TENANT, "--no-progress", "--json", str(report)
    )
    assert code == 0, out
    assert "identical" in out
    body = json.loads(report.read_text())
    assert body["identical"] is True and body["requests"] == 7
    # then the tenant's documents re-rendered (`jejak` composes it): none issued here
    assert "documents re-rendered from Kafka: 0" in out
    assert body["documents"]["intact"] is True and body["documents"]["documents"] == 0


def _events(n: int) -> list[NewEvent]:
    actor = Actor(user_id="u-1", role="PEMOHON", opd="DINKES")
    return [
        NewEvent(
            event_type="ProgressReported",
            schema_version=2,
            actor=actor,
            correlation_id=uuid.uuid4(),
            payload={"request_id": "x", "percent": i, "note": f"catatan {i}"},
        )
        for i in range(n)
    ]


async def test_verify_names_the_first_broken_link_of_an_event_store(
    owner_settings: Settings, schema: str, app_pool: asyncpg.Pool, owner_conn: asyncpg.Connection
) -> None:
    store = PostgresEventStore(app_pool, schema)
    await store.append("stream-a", 0, _events(3))
    await store.append("stream-b", 0, _events(4))
    await store.append("stream-c", 0, _events(2))
    [intact] = await verify_all(owner_settings.database_url, None, [schema])
    assert (intact.intact, intact.streams, intact.events) == (True, 3, 9)

    # The app role may not edit a stored event; the owner can, and the chains tell.
    for stream, version in (("stream-c", 2), ("stream-b", 3)):
        await owner_conn.execute(
            f"UPDATE {schema}.events SET payload = jsonb_set(payload::jsonb, '{{percent}}', "
            "'99')::json WHERE stream_id = $1 AND stream_version = $2",
            stream,
            version,
        )
    b3 = await owner_conn.fetchval(
        f"SELECT event_id FROM {schema}.events WHERE stream_id = 'stream-b' AND stream_version = 3"
    )
    [report] = await verify_all(owner_settings.database_url, None, [schema])
    assert (report.intact, report.broken_streams) == (False, 2)
    first = report.first
    assert first is not None
    assert (first.stream_id, first.stream_version, first.event_id) == ("stream-b", 3, str(b3))
    assert first.reason == "content does not match its hash: the event was altered"

    code, out = await _cli(owner_settings, "verify", "--schema", schema, "--no-kafka")
    assert code == 1, out
    assert "stream stream-b version 3" in out and str(b3) in out


async def test_verify_names_the_first_broken_link_on_kafka(settings: Settings) -> None:
    topic = f"test.verify-{uuid.uuid4().hex[:8]}.events"
    await ensure_topics(settings.kafka_login(ADMIN), [topic])
    producer = AIOKafkaProducer(**settings.kafka_login(ADMIN).options(), acks="all")
    await producer.start()
    try:
        streams = {s: seal_all(s, 0, GENESIS_HASH, _events(3)) for s in ("k-1", "k-2")}
        for envelopes in streams.values():
            for e in envelopes:
                await producer.send_and_wait(
                    topic, e.model_dump_json().encode(), key=e.stream_id.encode()
                )
        assert (await verify_topic(settings.kafka_login(ADMIN), topic)).intact
        # Published twice (as after a relay crash): the same event, no break. Then an altered
        # copy of k-2's second event.
        again = streams["k-1"][0]
        await producer.send_and_wait(topic, again.model_dump_json().encode(), key=b"k-1")
        altered = streams["k-2"][1].model_copy(
            update={"payload": {"request_id": "x", "percent": 9, "note": "ubah"}}
        )
        await producer.send_and_wait(topic, altered.model_dump_json().encode(), key=b"k-2")
        report = await verify_topic(settings.kafka_login(ADMIN), topic)
    finally:
        await producer.stop()
        await delete_topic(settings.kafka_login(ADMIN), topic)
    assert (report.streams, report.events, report.broken_streams) == (2, 8, 1)
    assert report.first is not None
    assert (report.first.stream_id, report.first.stream_version) == ("k-2", 2)
    assert report.first.reason == "the same event id published with other content"


def test_the_fast_calendar_answers_as_the_working_calendar() -> None:
    rng = random.Random(3)
    base = (
        WorkingCalendar().with_day_off(dt.date(2024, 3, 6)).with_working_day(dt.date(2024, 12, 25))
    )
    fast = FastCalendar.of(base)
    t0 = dt.datetime(2023, 6, 1, tzinfo=dt.UTC)
    for _ in range(3000):
        a = t0 + dt.timedelta(minutes=rng.randrange(0, 60 * 24 * 900), seconds=rng.randrange(60))
        span = rng.choice(
            [rng.randrange(600), rng.randrange(60 * 24 * 5), rng.randrange(60 * 24 * 700)]
        )
        b = a + dt.timedelta(minutes=span)
        a, b = (b, a) if rng.random() < 0.1 else (a, b)
        assert fast.working_time_between(a, b) == base.working_time_between(a, b), (a, b)
        amount = dt.timedelta(minutes=rng.choice([0, 5, 480, 480 * 45, rng.randrange(1, 48_000)]))
        assert fast.add_working_time(a, amount) == base.add_working_time(a, amount), (a, amount)
