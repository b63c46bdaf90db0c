"""The outbox relay's throughput: ``OutboxRelay.run_once()`` in a loop, from a table already
holding the events to a fresh topic, every record acked (acks=all, idempotent producer)."""

import asyncio
import time
import uuid

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from bench.payload import new_event
from bench.results import Run, split
from infra.eventstore import PostgresEventStore
from infra.kafka import ensure_topics, reliable_producer
from infra.kafka_login import KafkaLogin
from infra.relay import OutboxRelay

SEED_WRITERS = 8
SEED_EVENTS_PER_APPEND = 100
LABEL = "OutboxRelay, table → Kafka (acked)"


async def seed(store: PostgresEventStore, events: int) -> Run:
    """Fill the table fast: ``SEED_WRITERS`` writers, each appending batches of
    ``SEED_EVENTS_PER_APPEND`` events to fresh streams, through the store itself."""

    async def writer(count: int) -> None:
        while count > 0:
            stream, size = str(uuid.uuid4()), min(count, SEED_EVENTS_PER_APPEND)
            await store.append(stream, 0, [new_event(stream, n) for n in range(size)])
            count -= size

    started = time.perf_counter()
    await asyncio.gather(*(writer(n) for n in split(events, SEED_WRITERS)))
    return Run("seeding the table", SEED_WRITERS, events, time.perf_counter() - started)


async def relay_run(
    store: PostgresEventStore, kafka: KafkaLogin, topic: str, batch_size: int
) -> tuple[Run, int]:
    """Relay everything in the table to ``topic`` (created here) and time it. Also returns
    how many records the topic then holds."""
    await ensure_topics(kafka, [topic])
    producer = reliable_producer(kafka, "jejak-bench-relay")
    await producer.start()
    try:
        # metadata in hand before the clock starts, as in a long-running relay
        partitions = await producer.partitions_for(topic)
        relay = OutboxRelay(store, producer, topic, batch_size=batch_size)
        relayed = 0
        started = time.perf_counter()
        while published := await relay.run_once():
            relayed += published
        seconds = time.perf_counter() - started
    finally:
        await producer.stop()
    run = Run(LABEL, 1, relayed, seconds)
    return run, await records_on(kafka, topic, partitions)


async def records_on(kafka: KafkaLogin, topic: str, partitions: set[int]) -> int:
    """How many records ``topic`` holds (the sum of its partitions' end offsets)."""
    consumer = AIOKafkaConsumer(**kafka.options(), enable_auto_commit=False)
    await consumer.start()
    try:
        offsets = await consumer.end_offsets([TopicPartition(topic, p) for p in partitions])
        return sum(int(offset) for offset in offsets.values())
    finally:
        await consumer.stop()


async def delete_topic(kafka: KafkaLogin, topic: str) -> None:
    admin = AIOKafkaAdminClient(**kafka.options())
    await admin.start()
    try:
        await admin.delete_topics([topic])
    finally:
        await admin.close()
