import asyncio
import json
import time

import asyncpg
import pytest

from events.checkpoint import CHECKPOINT_HEADER, CHECKPOINT_HEADER_VALUE, CHECKPOINT_KEY
from events.envelope import Envelope
from infra.consumer import Delivered, IdempotentConsumer, Outcome, dead_letter_to, subscribe
from infra.eventstore import PostgresEventStore
from infra.kafka import ensure_topics
from infra.kafka_acl import ADMIN
from infra.redelivery import RedeliveryPause
from infra.settings import Settings
from tests.contract.eventstore_contract import new_event
from tests.kafka_helpers import eventually, read_topic


async def test_redelivered_event_has_one_effect_and_poison_goes_to_dead_letters(
    settings: Settings, app_pool: asyncpg.Pool, schema: str, effects: str
) -> None:
    topic, dlq = f"test.{schema}.events", f"test.{schema}.dlq"
    await ensure_topics(settings.kafka_login(ADMIN), [topic, dlq])
    store = PostgresEventStore(app_pool, schema)
    attempts: dict[int, int] = {}
    texts: set[str] = set()

    async def handler(delivered: Delivered, conn: asyncpg.Connection) -> None:
        envelope = delivered.envelope
        texts.add(delivered.text)
        n = envelope.payload["n"]
        attempts[n] = attempts.get(n, 0) + 1
        if n == 2:
            raise ValueError("payload n=2 can never be handled")
        if n == 3 and attempts[n] < 3:
            raise ConnectionResetError("database went away")  # transient: retried
        if n == 4 and attempts[n] < 2:  # what asyncpg raises after a restart: transient too
            raise asyncpg.InternalClientError("cannot switch to state 15")
        await conn.execute(f"INSERT INTO {effects} VALUES ($1, $2)", envelope.event_id, n)

    broker = settings.kafka_login(ADMIN).broker()
    consumer = IdempotentConsumer(
        app_pool, schema, handler, dead_letter_to(broker, dlq), max_wait=0.05
    )
    subscribe(broker, consumer, [topic], group_id=f"g-{schema}")
    sealed = await store.append("req-1", 0, [new_event(n) for n in (1, 2, 3, 4)])
    bodies = [e.model_dump_json().encode() for e in sealed]
    async with broker:
        await broker.start()
        # events 1 and 4 arrive twice, as after a relay crash; one message is not even JSON
        for body in [
            bodies[0],
            bodies[0],
            b"{not json",
            bodies[1],
            bodies[2],
            bodies[3],
            bodies[3],
            bodies[0],
        ]:
            await broker.publish(body, topic, key=b"req-1")
        # a relay leader's signed checkpoint on the topic is no event: skipped, not dead-lettered
        await broker.publish(
            b'{"kind":"jejak.checkpoint/1"}',
            topic,
            key=CHECKPOINT_KEY,
            headers={CHECKPOINT_HEADER: CHECKPOINT_HEADER_VALUE.decode()},
        )

        async def all_done() -> bool:
            return await app_pool.fetchval(f"SELECT count(*) FROM {schema}.processed_events") == 4

        assert await eventually(all_done, timeout=60)
        await asyncio.sleep(1)  # the late duplicates have had time to be (not) handled

    rows = await app_pool.fetch(f"SELECT n, count(*) AS c FROM {effects} GROUP BY n ORDER BY n")
    assert [(r["n"], r["c"]) for r in rows] == [(1, 1), (3, 1), (4, 1)]
    assert texts == {bodies[n].decode() for n in (0, 1, 2, 3)}  # each as it was delivered
    outcomes = dict(
        await app_pool.fetch(f"SELECT event_id, outcome FROM {schema}.processed_events")
    )
    assert outcomes[sealed[1].event_id] == "dead_lettered"
    dead = await read_topic(settings.kafka_login(ADMIN), dlq, expected=2, timeout=20)
    assert len(dead) == 2
    by_value = {r.value: dict(r.headers) for r in dead}  # dead letters span partitions
    assert b"not a valid envelope" in by_value[b"{not json"]["error"]
    poison = next(v for v in by_value if v != b"{not json")
    assert json.loads(poison)["event_id"] == str(sealed[1].event_id)
    assert b"can never be handled" in by_value[poison]["error"]


async def test_consumer_committed_offset_survives_a_restart(
    settings: Settings, app_pool: asyncpg.Pool, schema: str, effects: str
) -> None:
    """A second consumer in the same group starts after the committed offset: nothing is
    handled twice, and what arrived while it was down is handled."""
    topic = f"test.{schema}.events"
    await ensure_topics(settings.kafka_login(ADMIN), [topic], partitions=1)
    handled: list[int] = []

    async def handler(delivered: Delivered, conn: asyncpg.Connection) -> None:
        envelope = delivered.envelope
        handled.append(envelope.payload["n"])
        await conn.execute(
            f"INSERT INTO {effects} VALUES ($1, $2)", envelope.event_id, envelope.payload["n"]
        )

    async def run_consumer(publish: list[int]) -> None:
        broker = settings.kafka_login(ADMIN).broker()
        consumer = IdempotentConsumer(app_pool, schema, handler, dead_letter_to(broker, "x"))
        subscribe(broker, consumer, [topic], group_id=f"g-{schema}")
        async with broker:
            await broker.start()
            for n in publish:
                e = new_event(n)
                body = Envelope(
                    **e.model_dump(),
                    stream_id="s",
                    stream_version=n,
                    prev_hash="0" * 64,
                    hash="0" * 64,
                ).model_dump_json()
                await broker.publish(body.encode(), topic)

            async def done() -> bool:
                return len(handled) >= max(publish)

            assert await eventually(done, timeout=60)

    await run_consumer([1, 2, 3])
    await run_consumer([4])
    assert handled == [1, 2, 3, 4]


async def test_process_is_a_no_op_for_an_event_already_handled(
    app_pool: asyncpg.Pool, schema: str, effects: str
) -> None:
    async def handler(delivered: Delivered, conn: asyncpg.Connection) -> None:
        await conn.execute(f"INSERT INTO {effects} VALUES ($1, 0)", delivered.envelope.event_id)

    async def no_dead_letters(body: bytes, headers: dict[str, str]) -> None:
        raise AssertionError("nothing should be dead-lettered")

    consumer = IdempotentConsumer(app_pool, schema, handler, no_dead_letters)
    body = _body(1)
    outcomes = await asyncio.gather(*(consumer.process(body, "t") for _ in range(5)))
    assert sorted(outcomes) == sorted([Outcome.HANDLED] + [Outcome.DUPLICATE] * 4)
    assert await app_pool.fetchval(f"SELECT count(*) FROM {effects}") == 1


async def test_a_lasting_transient_failure_pauses_each_redelivery_longer(
    app_pool: asyncpg.Pool, schema: str, effects: str, redelivery_logs: list[dict[str, object]]
) -> None:
    """While the database stays unreachable, every redelivery waits longer (up to a limit) and
    logs one warning; the first success ends the run of failures."""
    calls: list[float] = []

    async def handler(delivered: Delivered, conn: asyncpg.Connection) -> None:
        calls.append(time.monotonic())
        if len(calls) <= 7:
            raise ConnectionResetError("database went away")
        await conn.execute(f"INSERT INTO {effects} VALUES ($1, 0)", delivered.envelope.event_id)

    async def no_dead_letters(body: bytes, headers: dict[str, str]) -> None:
        raise AssertionError("nothing should be dead-lettered")

    pause = RedeliveryPause(first=0.2, longest=0.3)
    consumer = IdempotentConsumer(
        app_pool, schema, handler, no_dead_letters, attempts=3, max_wait=0.01, pause=pause
    )
    body = _body(1)
    for _ in range(2):  # 3 attempts each, then left for redelivery (a NACK)
        with pytest.raises(ConnectionResetError):
            await consumer.process(body, "t")
    assert await consumer.process(body, "t") == Outcome.HANDLED  # on its 2nd attempt
    assert len(calls) == 8
    assert calls[3] - calls[2] >= 0.2  # the pause before the first redelivery
    assert calls[6] - calls[5] >= 0.3  # doubled, but no longer than the limit
    warnings = [e for e in redelivery_logs if e["log_level"] == "warning"]
    assert [(w["failures"], w["pause_seconds"]) for w in warnings] == [(1, 0.2), (2, 0.3)]
    over = [e["failures"] for e in redelivery_logs if e["event"] == "transient failures over"]
    assert over == [2]
    assert pause.failures == 0
    assert await app_pool.fetchval(f"SELECT count(*) FROM {effects}") == 1


def _body(n: int) -> bytes:
    e = new_event(n)
    envelope = Envelope(
        **e.model_dump(), stream_id="s", stream_version=1, prev_hash="0" * 64, hash="0" * 64
    )
    return envelope.model_dump_json().encode()


async def test_a_statement_cancelled_at_its_timeout_is_retried_not_dead_lettered(
    app_pool: asyncpg.Pool, schema: str, effects: str
) -> None:
    """The pools' statement_timeout (issue 17, item 9) cancels a statement that waits too long,
    on a lock say: a transient failure, tried again, never a poison event."""
    tries = 0

    async def handler(delivered: Delivered, conn: asyncpg.Connection) -> None:
        nonlocal tries
        tries += 1
        if tries == 1:
            await conn.execute("SET LOCAL statement_timeout = 100")
            await conn.execute("SELECT pg_sleep(1)")
        await conn.execute(f"INSERT INTO {effects} VALUES ($1, 0)", delivered.envelope.event_id)

    async def no_dead_letters(body: bytes, headers: dict[str, str]) -> None:
        raise AssertionError("nothing should be dead-lettered")

    consumer = IdempotentConsumer(app_pool, schema, handler, no_dead_letters)
    assert await consumer.process(_body(1), "t") == Outcome.HANDLED
    assert tries == 2
    assert await app_pool.fetchval(f"SELECT count(*) FROM {effects}") == 1
