"""The transactional outbox relay: every appended event reaches the service's Kafka topic.

It reads the event table in the store's gap-free ``(txid, position)`` order, publishes with key =
stream id (so a request's events stay in one partition, in order), waits for every ack, and only
then moves its stored position. A crash anywhere re-publishes at most the last batch (consumers
drop the duplicates by ``event_id``); nothing is skipped. One relay per schema is active at a
time (a PostgreSQL advisory lock); others wait as standbys.
"""

import asyncio
from contextlib import suppress
from dataclasses import dataclass

import structlog
from aiokafka import AIOKafkaProducer

from events.envelope import Envelope
from infra.db import Connection
from infra.eventstore import Position, PostgresEventStore, StoredEvent

log = structlog.get_logger()


def message_of(envelope: Envelope) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """(key, value, headers) of the Kafka record that carries ``envelope``."""
    headers = [
        ("event_type", envelope.event_type.encode()),
        ("event_id", str(envelope.event_id).encode()),
        ("schema_version", str(envelope.schema_version).encode()),
    ]
    return envelope.stream_id.encode(), envelope.model_dump_json().encode(), headers


@dataclass
class OutboxRelay:
    store: PostgresEventStore
    producer: AIOKafkaProducer
    topic: str
    batch_size: int = 2000
    idle_seconds: float = 0.05

    @property
    def _schema(self) -> str:
        return self.store.schema

    async def position(self) -> Position:
        row = await self.store.pool.fetchrow(
            f"SELECT txid::text::bigint AS txid, position FROM {self._schema}.relay_position"
        )
        assert row is not None
        return Position(row["txid"], row["position"])

    async def _save(self, position: Position) -> None:
        await self.store.pool.execute(
            f"UPDATE {self._schema}.relay_position SET txid = $1::text::xid8, position = $2, "
            "updated_at = now()",
            str(position.txid),
            position.position,
        )

    async def publish(self, batch: list[StoredEvent]) -> None:
        sent = []
        for stored in batch:
            key, value, headers = message_of(stored.envelope)
            sent.append(await self.producer.send(self.topic, value, key=key, headers=headers))
        await asyncio.gather(*sent)

    async def run_once(self) -> int:
        """Publish the next batch; returns how many events were published."""
        batch = await self.store.read_all(await self.position(), self.batch_size)
        if batch:
            await self.publish(batch)
            await self._save(batch[-1].position)
        return len(batch)

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until ``stop`` is set, as the single active relay of this schema."""
        async with self.store.pool.acquire() as lock_conn:
            await self._lead(lock_conn, stop)
            while not stop.is_set():
                if await self.run_once() == 0:
                    await _sleep_or_stop(stop, self.idle_seconds)

    async def _lead(self, conn: Connection, stop: asyncio.Event) -> None:
        key = f"jejak.relay.{self._schema}"
        while not await conn.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", key):
            log.info("relay standing by", schema=self._schema)
            await _sleep_or_stop(stop, 1.0)
            if stop.is_set():
                return


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
