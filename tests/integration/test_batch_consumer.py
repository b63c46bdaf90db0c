"""The batch consumer on the real Kafka and PostgreSQL: a backlog is handled in batches, each
event's effect once and in its partition's order, after a transient failure of a whole batch and
a redelivery; a poison record sends its batch down the per-record path, which dead-letters it
and handles the rest."""

import asyncio
from collections.abc import Sequence

import asyncpg
from aiokafka import AIOKafkaProducer

from events.envelope import Envelope
from infra.batch_consumer import BatchConsumer, subscribe_batch
from infra.consumer import Delivered, IdempotentConsumer, Outcome, dead_letter_to
from infra.eventstore import PostgresEventStore
from infra.kafka import ensure_topics
from infra.kafka_acl import ADMIN
from infra.settings import Settings
from tests.contract.eventstore_contract import new_event
from tests.kafka_helpers import eventually, read_topic


async def sealed_events(
    pool: asyncpg.Pool, schema: str, count: int
) -> tuple[list[Envelope], list[bytes]]:
    """Events 1 to ``count`` of stream ``req-1``, sealed, and their bodies as the relay sends."""
    sealed = await PostgresEventStore(pool, schema).append(
        "req-1", 0, [new_event(n) for n in range(1, count + 1)]
    )
    return sealed, [e.model_dump_json().encode() for e in sealed]


async def produce(settings: Settings, topic: str, bodies: Sequence[bytes], key: bytes) -> None:
    producer = AIOKafkaProducer(**settings.kafka_login(ADMIN).options(), acks="all")
    await producer.start()
    try:
        for body in bodies:
            await producer.send_and_wait(topic, body, key=key)
    finally:
        await producer.stop()


async def effect_counts(pool: asyncpg.Pool, table: str) -> list[tuple[int, int]]:
    rows = await pool.fetch(f"SELECT n, count(*) AS c FROM {table} GROUP BY n ORDER BY n")
    return [(r["n"], r["c"]) for r in rows]


async def test_a_backlog_is_handled_in_batches_once_and_in_order(
    settings: Settings, app_pool: asyncpg.Pool, schema: str, effects: str
) -> None:
    topic = f"test.{schema}.events"
    await ensure_topics(settings.kafka_login(ADMIN), [topic])
    _, bodies = await sealed_events(app_pool, schema, 40)
    # The backlog waits before the consumer starts; events 1-10 arrive twice.
    await produce(settings, topic, [*bodies, *bodies[:10]], key=b"req-1")
    calls: list[list[int]] = []
    handled: list[int] = []

    async def handler(delivered: Sequence[Delivered], conn: asyncpg.Connection) -> None:
        envelopes = [d.envelope for d in delivered]
        calls.append([e.payload["n"] for e in envelopes])
        if len(calls) == 1:
            raise ConnectionResetError("database went away")  # transient: the batch is retried
        if len(calls) == 2:  # what a query gets from a PostgreSQL shutting down for a restart
            raise asyncpg.exceptions.AdminShutdownError("terminating connection")
        await conn.executemany(
            f"INSERT INTO {effects} VALUES ($1, $2)",
            [(e.event_id, e.payload["n"]) for e in envelopes],
        )
        handled.extend(e.payload["n"] for e in envelopes)

    async def one(delivered: Delivered, conn: asyncpg.Connection) -> None:
        raise AssertionError("no batch of good records goes record by record")

    broker = settings.kafka_login(ADMIN).broker()
    single = IdempotentConsumer(app_pool, schema, one, dead_letter_to(broker, "x"), max_wait=0.05)
    subscribe_batch(broker, BatchConsumer(single, handler), [topic], group_id=f"g-{schema}")
    async with broker:
        await broker.start()

        async def all_done() -> bool:
            return await app_pool.fetchval(f"SELECT count(*) FROM {effects}") == 40

        assert await eventually(all_done, timeout=60)
        await asyncio.sleep(1)  # the redelivered ones have had time to be (not) handled

    assert await effect_counts(app_pool, effects) == [(n, 1) for n in range(1, 41)]
    assert handled == list(range(1, 41))  # one partition: its order, across batches
    assert calls[2] == calls[1] == calls[0]  # the failed batch, again as a whole
    assert max(len(c) for c in calls) > 1
    assert len(calls) < 40
    assert await app_pool.fetchval(f"SELECT count(*) FROM {schema}.processed_events") == 40


async def test_a_poison_record_sends_its_batch_record_by_record(
    settings: Settings, app_pool: asyncpg.Pool, schema: str, effects: str
) -> None:
    dlq = f"test.{schema}.dlq"
    await ensure_topics(settings.kafka_login(ADMIN), [dlq])
    sealed, bodies = await sealed_events(app_pool, schema, 6)
    batch_calls: list[list[int]] = []

    async def insert(envelopes: Sequence[Envelope], conn: asyncpg.Connection) -> None:
        if any(e.payload["n"] == 3 for e in envelopes):
            raise ValueError("payload n=3 can never be handled")
        await conn.executemany(
            f"INSERT INTO {effects} VALUES ($1, $2)",
            [(e.event_id, e.payload["n"]) for e in envelopes],
        )

    async def batch(delivered: Sequence[Delivered], conn: asyncpg.Connection) -> None:
        envelopes = [d.envelope for d in delivered]
        batch_calls.append([e.payload["n"] for e in envelopes])
        await insert(envelopes, conn)

    async def one(delivered: Delivered, conn: asyncpg.Connection) -> None:
        await insert([delivered.envelope], conn)

    async with settings.kafka_login(ADMIN).broker() as broker:
        single = IdempotentConsumer(app_pool, schema, one, dead_letter_to(broker, dlq))
        consumer = BatchConsumer(single, batch)
        first = await consumer.process([(b, "t") for b in bodies[:2]])
        assert first == [Outcome.HANDLED] * 2
        # 1 again, 3 poison: the batch is rolled back and taken record by record
        second = await consumer.process([(b, "t") for b in [bodies[0], *bodies[2:]]])
        assert second == [
            Outcome.DUPLICATE,
            Outcome.DEAD_LETTERED,
            Outcome.HANDLED,
            Outcome.HANDLED,
            Outcome.HANDLED,
        ]
        # a record that is not an envelope: its batch never reaches the batch handler
        third = await consumer.process([(b"{not json", "t"), (bodies[5], "t")])
        assert third == [Outcome.DEAD_LETTERED, Outcome.DUPLICATE]

    assert batch_calls == [[1, 2], [3, 4, 5, 6]]
    assert await effect_counts(app_pool, effects) == [(1, 1), (2, 1), (4, 1), (5, 1), (6, 1)]
    outcomes = dict(
        await app_pool.fetch(f"SELECT event_id, outcome FROM {schema}.processed_events")
    )
    assert len(outcomes) == 6
    assert outcomes[sealed[2].event_id] == "dead_lettered"
    dead = await read_topic(settings.kafka_login(ADMIN), dlq, expected=2, timeout=20)
    assert sorted(r.value for r in dead) == sorted([b"{not json", bodies[2]])
