"""The outbox relay's throughput: ``OutboxRelay.run_once()`` in a loop, from a table already
holding the events to a fresh topic, every record acked (acks=all, idempotent producer)."""

import asyncio
import time
import uuid
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from bench.payload import new_event
from bench.results import Run, split
from infra.checkpoint_keys import Signer, development_key
from infra.checkpoints import Checkpointer
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
    store: PostgresEventStore,
    kafka: KafkaLogin,
    topic: str,
    batch_size: int,
    checkpoints: Path | None = None,
) -> tuple[Run, int]:
    """Relay everything in the table to ``topic`` (created here) and time it. Also returns
    how many records the topic then holds (events, and checkpoints if signed). With
    ``checkpoints`` (a file), the relay's leader signs checkpoints meanwhile, as a service's
    does (``infra.checkpoints``, the default settings)."""
    await ensure_topics(kafka, [topic])
    producer = reliable_producer(kafka, "jejak-bench-relay")
    await producer.start()
    stop = asyncio.Event()
    signing = None
    try:
        # metadata in hand before the clock starts, as in a long-running relay
        partitions = await producer.partitions_for(topic)
        relay = OutboxRelay(store, producer, topic, batch_size=batch_size)
        if checkpoints is not None:
            signer = Signer(development_key(store.schema))
            checkpointer = Checkpointer(store, store.schema, producer, topic, signer, checkpoints)
        relayed = 0
        started = time.perf_counter()
        if checkpoints is not None:
            signing = asyncio.create_task(checkpointer.run(stop))
        while published := await relay.run_once():
            relayed += published
        seconds = time.perf_counter() - started
    finally:
        stop.set()
        if signing is not None:
            await signing
        await producer.stop()
    label = f"{LABEL}, signing checkpoints" if checkpoints is not None else LABEL
    run = Run(label, 1, relayed, seconds)
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
