"""The idempotent consumer of whole fetches: what one Kafka fetch returns, in one transaction.

FastStream's batch subscriber hands over what one ``getmany`` returned (records of several
partitions, each partition's in its order). ``BatchConsumer.process``:

1. parses every record; if one is not an envelope, or is ``misplaced`` (another service's event
   type on a topic), the batch goes down the per-record path (4);
2. in one database transaction, looks up which of the event ids were handled before (one
   query), drops those and any id repeated in the batch, runs the batch handler with the rest
   in delivery order, and records each of their ids as handled; the offsets of the whole batch
   are committed after that transaction commits (the ack policy of ``infra.consumer``);
3. on a transient failure (database or broker unreachable, deadlock) the transaction is rolled
   back and the whole batch retried with backoff; if the failure persists it is raised, the
   offsets are not committed and the batch is delivered again after a pause that grows while
   the failures last (``infra.redelivery``);
4. on any other failure (a poison record: unknown type, a payload that does not load, a handler
   error; or another delivery recorded one of the ids first) the batch is rolled back and its
   records are handled one by one by ``IdempotentConsumer.process``, each in its own
   transaction: the poison ones are dead-lettered, the others handled, duplicates skipped.

So a redelivered batch changes nothing, a poison record loses or blocks none of the others, and
every event id is recorded exactly as the per-record path records it.
"""

import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from events.checkpoint import is_checkpoint
from infra.consumer import (
    NOT_AN_ENVELOPE,
    TRANSIENT,
    AlreadyHandled,
    Delivered,
    IdempotentConsumer,
    Outcome,
    misplaced,
    subscriber_options,
)
from infra.db import Connection

log = structlog.get_logger()

BatchHandler = Callable[[Sequence[Delivered], Connection], Awaitable[None]]
"""Handles envelopes not handled before, in delivery order, in the consumer's transaction."""

Record = tuple[bytes, str]
"""A Kafka record's value and its topic."""

BATCH_WAIT_MS = 10
"""How long an idle fetch waits for records (FastStream then sleeps as long again before the
next one): the most an event arriving at an idle consumer waits."""
MAX_RECORDS = 500
"""The most records handled in one transaction (a backlog is worked off in batches this big)."""


@dataclass
class BatchConsumer:
    """Handles a batch as one unit; falls back to ``single`` (which also sets the database,
    the dead letters and the retries) record by record when the batch cannot be."""

    single: IdempotentConsumer
    handler: BatchHandler

    async def process(self, records: Sequence[Record]) -> list[Outcome]:
        """Handle a fetch's records; one outcome each. Raises only on a transient failure that
        outlasted retries (the caller must then leave the offsets uncommitted)."""
        try:
            delivered = [Delivered.of(body) for body, _ in records]
        except NOT_AN_ENVELOPE:
            return await self._one_by_one(records, "a record is not a valid envelope")
        if any(misplaced(d.envelope, t) for d, (_, t) in zip(delivered, records, strict=True)):
            return await self._one_by_one(records, "a record is another service's event")
        try:
            topics = [topic for _, topic in records]
            outcomes: list[Outcome] = await self.single.retrying()(
                self._handle_once, delivered, topics
            )
        except TRANSIENT as error:
            await self.single.pause.after_failure(
                "transient failure, leaving the batch for redelivery",
                size=len(records),
                error=type(error).__name__,
            )
            raise
        except AlreadyHandled:
            return await self._one_by_one(records, "another delivery recorded an event first")
        except Exception as error:
            reason = "".join(traceback.format_exception_only(error)).strip()
            return await self._one_by_one(records, reason)
        self.single.pause.after_success()
        return outcomes

    async def _handle_once(self, delivered: list[Delivered], topics: list[str]) -> list[Outcome]:
        schema = self.single.schema
        async with self.single.pool.acquire() as conn, conn.transaction():
            seen = {
                r["event_id"]
                for r in await conn.fetch(
                    f"SELECT event_id FROM {schema}.processed_events "
                    "WHERE event_id = ANY($1::uuid[])",
                    [d.envelope.event_id for d in delivered],
                )
            }
            fresh: list[Delivered] = []
            fresh_topics: list[str] = []
            outcomes: list[Outcome] = []
            for one, topic in zip(delivered, topics, strict=True):
                if one.envelope.event_id in seen:
                    outcomes.append(Outcome.DUPLICATE)
                    continue
                seen.add(one.envelope.event_id)
                fresh.append(one)
                fresh_topics.append(topic)
                outcomes.append(Outcome.HANDLED)
            if fresh:
                await self.handler(fresh, conn)
                # Recorded after the handler, as the per-record path does.
                recorded = await conn.fetchval(
                    f"WITH r AS (INSERT INTO {schema}.processed_events (event_id, topic, outcome) "
                    "SELECT e, t, 'handled' FROM unnest($1::uuid[], $2::text[]) AS x(e, t) "
                    "ON CONFLICT (event_id) DO NOTHING RETURNING 1) SELECT count(*) FROM r",
                    [d.envelope.event_id for d in fresh],
                    fresh_topics,
                )
                if recorded != len(fresh):
                    raise AlreadyHandled()
        log.debug("batch handled", handled=len(fresh), duplicates=len(delivered) - len(fresh))
        return outcomes

    async def _one_by_one(self, records: Sequence[Record], reason: str) -> list[Outcome]:
        log.warning("batch handled record by record", size=len(records), reason=reason)
        return [await self.single.process(body, topic) for body, topic in records]


def subscribe_batch(
    broker: KafkaBroker,
    consumer: BatchConsumer,
    topics: list[str],
    group_id: str,
    max_records: int = MAX_RECORDS,
    **options: Any,
) -> Any:
    """Register ``consumer`` on ``broker`` for ``topics`` in consumer group ``group_id``, one
    call per fetch of at most ``max_records`` records."""

    @broker.subscriber(  # type: ignore[untyped-decorator]
        *topics,
        batch=True,
        max_records=max_records,
        batch_timeout_ms=BATCH_WAIT_MS,
        **subscriber_options(group_id),
        **options,
    )
    async def consume(message: KafkaMessage) -> None:
        records = message.raw_message
        assert isinstance(records, tuple)  # a batch subscriber's message is the fetch
        # a signed checkpoint (infra.checkpoints) is no event
        events = [(r.value or b"", r.topic) for r in records if not is_checkpoint(r.headers)]
        if events:
            await consumer.process(events)

    return consume
