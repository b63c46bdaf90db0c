"""The idempotent consumer: each Kafka event's effect happens exactly once.

The handler runs in a database transaction that also records the event's ``event_id``; the
Kafka offset is committed only after that transaction commits (FastStream ack policy
``NACK_ON_ERROR``: ack after success, seek back on error). A redelivered event finds its id
recorded and is a no-op. Transient failures (database or broker unreachable, a concurrent
write) are retried with backoff and, if they persist, left uncommitted for redelivery after a
pause that grows while they last (``infra.redelivery``). Any
other failure makes the message poison: it goes to the dead-letter topic with the error, is
recorded as dead-lettered, and the consumer moves on.

A record whose event type another service emits than the one whose topic it came on
(``misplaced``) is dead-lettered before any handler sees it, and its event id is not recorded
(the real event may still come): Kafka's ACLs let only a service write its topic
(``infra.kafka_acl``), so a record on ``jejak.identity.events`` comes from identity, and this
check keeps identity's principal, were it stolen, from passing off another service's event
(a ``TaskAssigned``, say) on its own topic. The event registry (``events.catalog``) is what
names each event type's service; the envelope needs no field of its own for it.
"""

import traceback
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any, NamedTuple

import asyncpg
import structlog
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from pydantic import ValidationError
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from events.catalog import topic_of
from events.checkpoint import is_checkpoint
from events.envelope import Envelope
from events.registry import UnknownEventType
from events.topics import (
    DLQ_HEADER_ERROR,
    DLQ_HEADER_EVENT_ID,
    DLQ_HEADER_TOPIC,
    SERVICES,
    topic_for,
)
from infra.db import DATABASE_UNAVAILABLE, Connection
from infra.eventstore.errors import ConcurrencyConflict
from infra.redelivery import RedeliveryPause

log = structlog.get_logger()


class Delivered(NamedTuple):
    """An envelope as a consumer received it: parsed, with the JSON text it came in. A consumer
    that keeps envelopes keeps that text, so a replay from Kafka keeps the very same."""

    envelope: Envelope
    text: str

    @classmethod
    def of(cls, body: bytes) -> "Delivered":
        """The record's envelope. Raises one of ``NOT_AN_ENVELOPE`` if it is not one."""
        text = body.decode()
        return cls(_ENVELOPE.validate_json(text), text)


_ENVELOPE = Envelope.__pydantic_validator__
"""``Envelope.model_validate_json`` without its keyword handling (it only forwards its arguments
here): the same validation, about 0.4 µs less per envelope, which an audit replay pays for
every event there is."""
NOT_AN_ENVELOPE = (UnicodeDecodeError, ValidationError)


Handler = Callable[[Delivered, Connection], Awaitable[None]]
DeadLetter = Callable[[bytes, dict[str, str]], Awaitable[None]]

TRANSIENT: tuple[type[Exception], ...] = (
    *DATABASE_UNAVAILABLE,
    asyncpg.DeadlockDetectedError,
    asyncpg.SerializationError,
    asyncpg.QueryCanceledError,  # the pool's statement_timeout: a lock held long, a slow moment
    ConcurrencyConflict,
)


class Outcome(StrEnum):
    HANDLED = "handled"
    DUPLICATE = "duplicate"
    DEAD_LETTERED = "dead_lettered"


class AlreadyHandled(Exception):
    """Another delivery of the same event committed first."""


class IdempotentConsumer:
    def __init__(
        self,
        pool: asyncpg.Pool,
        schema: str,
        handler: Handler,
        dead_letter: DeadLetter,
        attempts: int = 5,
        max_wait: float = 2.0,
        pause: RedeliveryPause | None = None,
    ) -> None:
        self.pool = pool
        self.schema = schema
        self.handler = handler
        self.dead_letter = dead_letter
        self.attempts = attempts
        self.max_wait = max_wait
        self.pause = pause or RedeliveryPause()
        """Shared by whatever handles this consumer's records (``BatchConsumer`` too)."""

    def retrying(self) -> AsyncRetrying:
        """Attempts of one unit of work, retried with backoff on a ``TRANSIENT`` failure."""
        return AsyncRetrying(
            retry=retry_if_exception_type(TRANSIENT),
            reraise=True,
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential_jitter(multiplier=0.05, max=self.max_wait, jitter=0.05),
        )

    async def process(self, body: bytes, topic: str) -> Outcome:
        """Handle one Kafka message. Raises only on a transient failure that outlasted retries
        (the caller must then leave the offset uncommitted)."""
        try:
            delivered = Delivered.of(body)
        except NOT_AN_ENVELOPE as error:
            await self.dead_letter(
                body, {DLQ_HEADER_ERROR: f"not a valid envelope: {error}", DLQ_HEADER_TOPIC: topic}
            )
            return Outcome.DEAD_LETTERED
        envelope = delivered.envelope
        if reason := misplaced(envelope, topic):
            log.error("misplaced event dead-lettered", event_type=envelope.event_type, topic=topic)
            await self.dead_letter(body, _dead_letter_headers(reason, topic, envelope))
            return Outcome.DEAD_LETTERED
        bound = structlog.contextvars.bound_contextvars(
            event_id=str(envelope.event_id),
            stream_id=envelope.stream_id,
            correlation_id=str(envelope.correlation_id),
        )
        with bound:
            try:
                outcome: Outcome = await self.retrying()(self._handle_once, delivered, topic)
            except TRANSIENT as error:
                await self.pause.after_failure(
                    "transient failure, leaving the event for redelivery",
                    error=type(error).__name__,
                )
                raise
            except AlreadyHandled:
                outcome = Outcome.DUPLICATE
            except Exception as error:
                outcome = await self._poison(body, envelope, topic, error)
            self.pause.after_success()
            return outcome

    async def _handle_once(self, delivered: Delivered, topic: str) -> Outcome:
        envelope = delivered.envelope
        async with self.pool.acquire() as conn, conn.transaction():
            if await conn.fetchval(
                f"SELECT 1 FROM {self.schema}.processed_events WHERE event_id = $1",
                envelope.event_id,
            ):
                return Outcome.DUPLICATE
            await self.handler(delivered, conn)
            # Recorded after the handler so its appends take their txid after reading streams.
            recorded = await conn.fetchval(
                f"INSERT INTO {self.schema}.processed_events (event_id, topic, outcome) "
                "VALUES ($1, $2, 'handled') ON CONFLICT (event_id) DO NOTHING RETURNING 1",
                envelope.event_id,
                topic,
            )
            if not recorded:
                raise AlreadyHandled()
        log.debug("event handled", event_type=envelope.event_type)
        return Outcome.HANDLED

    async def _poison(
        self, body: bytes, envelope: Envelope, topic: str, error: Exception
    ) -> Outcome:
        reason = "".join(traceback.format_exception_only(error)).strip()
        log.error("poison event dead-lettered", event_type=envelope.event_type, error=reason)
        await self.dead_letter(body, _dead_letter_headers(reason, topic, envelope))
        await self.pool.execute(
            f"INSERT INTO {self.schema}.processed_events (event_id, topic, outcome, error) "
            "VALUES ($1, $2, 'dead_lettered', $3) ON CONFLICT (event_id) DO NOTHING",
            envelope.event_id,
            topic,
            reason,
        )
        return Outcome.DEAD_LETTERED


def misplaced(envelope: Envelope, topic: str) -> str | None:
    """Why ``envelope`` may not come from ``topic``, a service's events topic: its event type
    is another service's (``events.catalog``). None if it may, and for an unknown event type
    (left to the handler) or a topic that is no service's."""
    if topic not in _SERVICE_TOPICS:
        return None
    try:
        owner_topic = topic_of(envelope.event_type)
    except UnknownEventType:
        return None
    if owner_topic == topic:
        return None
    return f"{envelope.event_type} is emitted on {owner_topic}, not on {topic}"


_SERVICE_TOPICS = frozenset(topic_for(s) for s in SERVICES)


def _dead_letter_headers(reason: str, topic: str, envelope: Envelope) -> dict[str, str]:
    return {
        DLQ_HEADER_ERROR: reason,
        DLQ_HEADER_TOPIC: topic,
        DLQ_HEADER_EVENT_ID: str(envelope.event_id),
    }


def subscriber_options(group_id: str) -> dict[str, Any]:
    """What every idempotent consumer's subscription sets: the offset is committed only after
    the effect (seek back on error), and a new group starts from the first offset."""
    return {
        "group_id": group_id,
        "auto_offset_reset": "earliest",
        "ack_policy": AckPolicy.NACK_ON_ERROR,
        # a crashed member's partitions move to a restarted one after 6 s, not 45 s
        "session_timeout_ms": 6000,
        "heartbeat_interval_ms": 2000,
    }


def subscribe(
    broker: KafkaBroker,
    consumer: IdempotentConsumer,
    topics: list[str],
    group_id: str,
    **options: Any,
) -> Any:
    """Register ``consumer`` on ``broker`` for ``topics`` in consumer group ``group_id``."""

    @broker.subscriber(  # type: ignore[untyped-decorator]
        *topics, **subscriber_options(group_id), **options
    )
    async def consume(message: KafkaMessage) -> None:
        record = message.raw_message
        if is_checkpoint(record.headers):  # type: ignore[union-attr]
            return  # a signed checkpoint (infra.checkpoints), no event
        await consumer.process(message.body, record.topic)  # type: ignore[union-attr]

    return consume


def dead_letter_to(broker: KafkaBroker, topic: str) -> DeadLetter:
    """A ``DeadLetter`` that publishes the original bytes with the error as headers."""

    async def publish(body: bytes, headers: dict[str, str]) -> None:
        await broker.publish(body, topic, headers=headers)

    return publish
