"""Reading a whole topic back, for assertions; publishing a service's events as its relay
would, as that service's Kafka principal (which may write only its own topics)."""

import asyncio
import time
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord

from events.base import DomainEvent
from events.checkpoint import is_checkpoint
from events.envelope import GENESIS_HASH, Actor, Envelope, NewEvent
from infra.eventstore.contract import seal_all
from infra.kafka_acl import principal_of
from infra.kafka_login import KafkaLogin
from infra.settings import Settings


def from_the_start(kafka: KafkaLogin, topic: str) -> AIOKafkaConsumer:
    """A consumer of every partition of ``topic`` from offset 0, in no group, committing
    nothing."""
    return AIOKafkaConsumer(
        topic,
        **kafka.options(),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )


async def read_topic(
    kafka: KafkaLogin, topic: str, expected: int, timeout: float = 60.0
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of ``topic`` from offset 0 but the relays' signed checkpoints (no events:
    ``events.checkpoint``), once at least ``expected`` have arrived and the topic has been
    quiet briefly (so that extra records would show)."""
    consumer = from_the_start(kafka, topic)
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            got = [r for rs in batch.values() for r in rs if not is_checkpoint(r.headers)]
            records.extend(got)
            if len(records) >= expected and not got:
                return records
        return records
    finally:
        await consumer.stop()


async def eventually(check, timeout: float = 30.0, interval: float = 0.1):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(interval)


def relay_producer(settings: Settings, service: str) -> AIOKafkaProducer:
    """A producer (not started) as ``service``'s principal, as its relay publishes: Kafka
    refuses it any topic but the service's own (``infra.kafka_acl``)."""
    return AIOKafkaProducer(**settings.kafka_login(principal_of(service)).options(), acks="all")


async def publish_as_relay(
    producer: AIOKafkaProducer,
    topic: str,
    stream_id: str,
    heads: dict[str, tuple[int, str]],
    actor: Actor,
    events: tuple[DomainEvent, ...],
    times: int = 1,
) -> list[Envelope]:
    """Seal ``events`` after ``stream_id``'s head in ``heads`` (moved on) and publish each
    ``times`` times to ``topic``, keyed by the stream, as a service's relay would, with
    ``producer`` (``relay_producer`` of the topic's service)."""
    version, prev = heads.get(stream_id, (0, GENESIS_HASH))
    new = [NewEvent.of(e, actor=actor, correlation_id=uuid.uuid4()) for e in events]
    sealed = seal_all(stream_id, version, prev, new)
    heads[stream_id] = (sealed[-1].stream_version, sealed[-1].hash)
    for envelope in sealed * times:
        await producer.send_and_wait(
            topic, envelope.model_dump_json().encode(), key=stream_id.encode()
        )
    return sealed
