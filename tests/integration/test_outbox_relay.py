import asyncio
import json
import random
from collections import defaultdict

import asyncpg
import pytest

from infra.eventstore import PostgresEventStore
from infra.eventstore.errors import ConcurrencyConflict
from infra.kafka import ensure_topics, reliable_producer
from infra.kafka_acl import ADMIN
from infra.relay import OutboxRelay
from infra.settings import Settings
from tests.contract.eventstore_contract import new_event
from tests.kafka_helpers import eventually, read_topic


def per_stream_versions(records: list) -> dict[str, list[int]]:  # type: ignore[type-arg]
    streams: dict[str, list[int]] = defaultdict(list)
    for record in records:
        envelope = json.loads(record.value)
        assert record.key.decode() == envelope["stream_id"]
        streams[envelope["stream_id"]].append(envelope["stream_version"])
    return streams


async def test_relay_never_skips_an_event_that_committed_late(
    settings: Settings, app_pool: asyncpg.Pool, schema: str
) -> None:
    """Many writers whose commits are delayed at random, a relay running all along: every event
    reaches the topic once, each stream in gap-free version order."""
    store = PostgresEventStore(app_pool, schema)
    topic = f"test.{schema}.events"
    await ensure_topics(settings.kafka_login(ADMIN), [topic])
    producer = reliable_producer(settings.kafka_login(ADMIN), "relay-test")
    await producer.start()
    relay = OutboxRelay(store, producer, topic, batch_size=50, idle_seconds=0.005)
    stop = asyncio.Event()
    relay_task = asyncio.create_task(relay.run(stop))
    streams, appends_per_stream = 20, 10

    async def writer(stream: str) -> None:
        version = 0
        while version < appends_per_stream:
            async with app_pool.acquire() as conn:
                try:
                    async with conn.transaction():
                        await store.append(stream, version, [new_event(version + 1)], conn=conn)
                        await asyncio.sleep(random.uniform(0, 0.04))  # commit late
                    version += 1
                except ConcurrencyConflict:
                    version = len(await store.read_stream(stream, conn=conn))

    try:
        # two writers per stream race each other, so conflicts and reorderings both happen
        await asyncio.gather(*(writer(f"s{i % streams}") for i in range(streams * 2)))
        assert await eventually(lambda: _caught_up(relay, store), timeout=60)
    finally:
        stop.set()
        await relay_task
        await producer.stop()

    records = await read_topic(settings.kafka_login(ADMIN), topic, streams * appends_per_stream)
    assert len(records) == streams * appends_per_stream
    versions = per_stream_versions(records)
    assert versions == {f"s{i}": list(range(1, appends_per_stream + 1)) for i in range(streams)}


async def _caught_up(relay: OutboxRelay, store: PostgresEventStore) -> bool:
    return not await store.read_all(await relay.position(), 1)


class CrashingProducer:
    """Delegates to a real producer, then dies after ``sends`` sends, as a process would."""

    def __init__(self, real: object, sends: int) -> None:
        self.real, self.left = real, sends

    async def send(self, *args: object, **kwargs: object) -> object:
        if self.left == 0:
            raise SystemExit("relay process killed mid-batch")
        self.left -= 1
        return await self.real.send(*args, **kwargs)  # type: ignore[attr-defined]


async def test_relay_restarted_mid_batch_loses_nothing(
    settings: Settings, app_pool: asyncpg.Pool, schema: str
) -> None:
    store = PostgresEventStore(app_pool, schema)
    topic = f"test.{schema}.events"
    await ensure_topics(settings.kafka_login(ADMIN), [topic])
    for i in range(30):
        await store.append(f"s{i % 3}", i // 3, [new_event(i)])
    producer = reliable_producer(settings.kafka_login(ADMIN), "relay-test")
    await producer.start()
    crashing = OutboxRelay(store, CrashingProducer(producer, sends=17), topic, batch_size=20)  # type: ignore[arg-type]
    with pytest.raises(SystemExit):
        await crashing.run_once()
    assert (await crashing.position()).position == 0  # the half-sent batch was not recorded

    restarted = OutboxRelay(store, producer, topic, batch_size=20)
    while await restarted.run_once():
        pass
    await producer.stop()

    records = await read_topic(settings.kafka_login(ADMIN), topic, 30 + 17)
    assert len(records) == 30 + 17  # at least once: the 17 sent before the crash come twice
    first_seen: dict[str, list[int]] = defaultdict(list)
    seen: set[str] = set()
    for record in records:
        envelope = json.loads(record.value)
        if envelope["event_id"] not in seen:
            seen.add(envelope["event_id"])
            first_seen[envelope["stream_id"]].append(envelope["stream_version"])
    assert first_seen == {f"s{i}": list(range(1, 11)) for i in range(3)}
