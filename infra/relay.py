"""The transactional outbox relay: every appended event reaches the service's Kafka topic.

It reads the event table in the store's gap-free ``(txid, position)`` order, publishes with key =
stream id (so a request's events stay in one partition, in order), waits for every ack, and only
then moves its stored position. A crash anywhere re-publishes at most the last batch (consumers
drop the duplicates by ``event_id``); nothing is skipped. One relay per schema is active at a
time (a PostgreSQL advisory lock); others wait as standbys. The leader also signs the
checkpoints of the store (``infra.checkpoints``), in a task of its own beside the relay.

The relay does not rebuild envelopes in Python: PostgreSQL hands it each Kafka record's bytes
(key, the envelope's JSON, headers) in the same query that reads the gap-free order, so a batch
costs one query and one ``send`` per event, not a pydantic validation and serialisation each.
While a batch is being sent and acked, the next one is already being read (reading is all that
overlaps: a batch is published only after the previous one is acked and its position saved).

An outage or a restart of PostgreSQL or Kafka interrupts the relay; it starts over after a pause
(longer each time, up to ``MAX_PAUSE_SECONDS``) from its stored position, taking the lead again,
for as long as the outage lasts.
"""

import asyncio
from contextlib import suppress
from dataclasses import dataclass

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential_jitter

from events.envelope import Envelope
from infra.checkpoints import Checkpointer
from infra.db import DATABASE_UNAVAILABLE, Connection
from infra.eventstore import Position, PostgresEventStore

log = structlog.get_logger()

INTERRUPTIONS: tuple[type[Exception], ...] = (*DATABASE_UNAVAILABLE, KafkaError)
"""What an outage or a restart of PostgreSQL or Kafka raises in the relay: it starts over."""
MAX_PAUSE_SECONDS = 10.0


def message_of(envelope: Envelope) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """(key, value, headers) of the Kafka record that carries ``envelope``. The relay builds the
    same record in SQL (``record_sql``); this is its definition in Python."""
    headers = [
        ("event_type", envelope.event_type.encode()),
        ("event_id", str(envelope.event_id).encode()),
        ("schema_version", str(envelope.schema_version).encode()),
    ]
    return envelope.stream_id.encode(), envelope.model_dump_json().encode(), headers


def _envelope_json_sql() -> str:
    """An ``events`` row as the envelope's JSON: every ``Envelope`` field, in the model's order,
    from the column of the same name; ``occurred_at`` in UTC with a ``Z``, as pydantic writes
    it. (A new envelope field without its column makes the query fail, not the record shrink.)"""
    utc = """to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
    fields = (
        f"'{name}', {utc if name == 'occurred_at' else name}" for name in Envelope.model_fields
    )
    return f"json_build_object({', '.join(fields)})::text"


def record_sql(schema: str) -> str:
    """The next ``$3`` events after position ``($1, $2)`` as Kafka records' bytes, in the
    store's gap-free order: the WHERE and ORDER BY are ``PostgresEventStore.read_all``'s."""
    return (
        "SELECT txid::text::bigint AS txid_n, position, convert_to(stream_id, 'UTF8') AS key, "
        f"convert_to({_envelope_json_sql()}, 'UTF8') AS value, "
        "convert_to(event_type, 'UTF8') AS event_type, "
        "convert_to(event_id::text, 'UTF8') AS event_id, "
        "convert_to(schema_version::text, 'UTF8') AS schema_version "
        f"FROM {schema}.events "
        "WHERE (txid, position) > ($1::text::xid8, $2) "
        "AND txid < pg_snapshot_xmin(pg_current_snapshot()) "
        "ORDER BY events.txid, events.position LIMIT $3"  # the columns, not the output
    )


@dataclass
class OutboxRelay:
    store: PostgresEventStore
    producer: AIOKafkaProducer
    topic: str
    batch_size: int = 2000
    idle_seconds: float = 0.05
    checkpointer: Checkpointer | None = None
    """Run beside the relay while it leads (``infra.checkpoints``)."""

    def __post_init__(self) -> None:
        self._record_sql = record_sql(self.store.schema)
        # the read of the batch after this position, started while the previous batch was sent
        self._next: tuple[Position, asyncio.Task[list[asyncpg.Record]]] | None = None

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

    async def read(self, after: Position) -> list[asyncpg.Record]:
        """The next batch after ``after``, as records (see ``record_sql``)."""
        return await self.store.pool.fetch(
            self._record_sql, str(after.txid), after.position, self.batch_size
        )

    async def publish(self, batch: list[asyncpg.Record]) -> None:
        """Send every record of ``batch`` in order and wait until each is acked."""
        send, topic = self.producer.send, self.topic
        sent = []
        for row in batch:
            headers = [
                ("event_type", row["event_type"]),
                ("event_id", row["event_id"]),
                ("schema_version", row["schema_version"]),
            ]
            sent.append(await send(topic, row["value"], key=row["key"], headers=headers))
        await asyncio.gather(*sent)

    async def run_once(self) -> int:
        """Publish the next batch; returns how many events were published."""
        after = await self.position()
        batch = await self._prefetched(after) or await self.read(after)
        if not batch:
            return 0
        last = Position(batch[-1]["txid_n"], batch[-1]["position"])
        next_read = asyncio.ensure_future(self.read(last))
        try:
            await self.publish(batch)
            await self._save(last)
        except BaseException:
            _discard(next_read)
            raise
        self._next = (last, next_read)
        return len(batch)

    async def _prefetched(self, after: Position) -> list[asyncpg.Record]:
        """The batch read ahead, if it was read after ``after`` (the stored position); else
        nothing. A read ahead is as good as a read now: rows below the oldest running
        transaction at that time were final and gap-free; a read now could only find more."""
        if self._next is None:
            return []
        (start, task), self._next = self._next, None
        if start != after:
            _discard(task)
            return []
        return await task

    def discard_read_ahead(self) -> None:
        """Drop the batch read ahead (when the relay stops)."""
        if self._next is not None:
            _discard(self._next[1])
            self._next = None

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until ``stop`` is set, as the single active relay of this schema, starting over
        after each interruption (see the module)."""
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(INTERRUPTIONS),
            wait=wait_exponential_jitter(multiplier=0.5, max=MAX_PAUSE_SECONDS, jitter=0.5),
            stop=lambda _: stop.is_set(),
            sleep=lambda seconds: _sleep_or_stop(stop, seconds),
            before_sleep=_interrupted,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    await self._relay_as_leader(stop)
        except INTERRUPTIONS:
            if not stop.is_set():
                raise  # not reached: interruptions are retried until the relay is stopped

    async def _relay_as_leader(self, stop: asyncio.Event) -> None:
        signing: asyncio.Task[None] | None = None
        try:
            async with self.store.pool.acquire() as lock_conn:
                await self._lead(lock_conn, stop)
                if self.checkpointer is not None and not stop.is_set():
                    signing = asyncio.create_task(self.checkpointer.run(stop))
                while not stop.is_set():
                    if await self.run_once() == 0:
                        await _sleep_or_stop(stop, self.idle_seconds)
        finally:
            self.discard_read_ahead()
            if signing is not None:
                signing.cancel()
                with suppress(asyncio.CancelledError):
                    await signing

    async def _lead(self, conn: Connection, stop: asyncio.Event) -> None:
        key = f"jejak.relay.{self._schema}"
        while not await conn.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", key):
            log.info("relay standing by", schema=self._schema)
            await _sleep_or_stop(stop, 1.0)
            if stop.is_set():
                return


def _interrupted(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome is not None else None
    pause = state.next_action.sleep if state.next_action is not None else 0.0
    log.warning(
        "relay interrupted; starting over",
        error=repr(error),
        attempt=state.attempt_number,
        pause_seconds=round(pause, 1),
    )


def _discard(task: asyncio.Task[list[asyncpg.Record]]) -> None:
    """Cancel ``task``, or take its failure so that asyncio does not report it as lost."""
    if not task.done():
        task.cancel()
    elif not task.cancelled():
        task.exception()


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
