"""Reading a whole topic back, for assertions; publishing a service's events as its relay
would."""

import asyncio
import time
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord

from events.base import DomainEvent
from events.checkpoint import is_checkpoint
from events.envelope import GENESIS_HASH, Actor, Envelope, NewEvent
from infra.eventstore.contract import seal_all


def from_the_start(bootstrap_servers: str, topic: str) -> AIOKafkaConsumer:
    """A consumer of every partition of ``topic`` from offset 0, in no group, committing
    nothing."""
    return AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )


async def read_topic(
    bootstrap_servers: str, topic: str, expected: int, timeout: float = 60.0
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of ``topic`` from offset 0 but the relays' signed checkpoints (no events:
    ``events.checkpoint``), once at least ``expected`` have arrived and the topic has been
    quiet briefly (so that extra records would show)."""
    consumer = from_the_start(bootstrap_servers, topic)
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
    ``times`` times to ``topic``, keyed by the stream, as a service's relay would."""
    version, prev = heads.get(stream_id, (0, GENESIS_HASH))
    new = [NewEvent.of(e, actor=actor, correlation_id=uuid.uuid4()) for e in events]
    sealed = seal_all(stream_id, version, prev, new)
    heads[stream_id] = (sealed[-1].stream_version, sealed[-1].hash)
    for envelope in sealed * times:
        await producer.send_and_wait(
            topic, envelope.model_dump_json().encode(), key=stream_id.encode()
        )
    return sealed
