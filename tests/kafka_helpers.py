"""Reading a whole topic back, for assertions."""

import asyncio
import time

from aiokafka import AIOKafkaConsumer, ConsumerRecord


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
    """Every record of ``topic`` from offset 0, once at least ``expected`` have arrived and the
    topic has been quiet briefly (so that extra records would show)."""
    consumer = from_the_start(bootstrap_servers, topic)
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            got = [r for rs in batch.values() for r in rs]
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
