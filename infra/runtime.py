"""The wiring of one service process: pool, event store, outbox relay and (if it consumes) an
idempotent Kafka consumer. Services build one in their ``bootstrap`` and run it in their web
app's lifespan. A service connects only as its own role (``Settings.app_url``) and never
migrates: its schema, role and migrations are made before it starts, by the owner
(``python -m infra.migrate_all``)."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker

from events.topics import consumer_group_for, dead_letter_topic, topic_for
from infra.batch_consumer import BatchConsumer, BatchHandler, subscribe_batch
from infra.checkpoint_keys import Signer
from infra.checkpoints import Checkpointer
from infra.consumer import Handler, IdempotentConsumer, dead_letter_to, subscribe
from infra.db import DATABASE_UNAVAILABLE, create_pool
from infra.eventstore import PostgresEventStore
from infra.kafka import (
    connection_errors_unlogged,
    ensure_topics,
    kafka_unavailable,
    reliable_producer,
)
from infra.kafka_acl import principal_of
from infra.kafka_login import KafkaLogin
from infra.logging import configure_logging
from infra.metrics import watch_outbox
from infra.relay import OutboxRelay
from infra.settings import Settings
from infra.startup import database_unavailable, until_available

T = TypeVar("T")

log = structlog.get_logger()


@dataclass
class ServiceRuntime:
    service: str
    settings: Settings
    consumes: tuple[str, ...] = ()
    handler: Handler | None = None
    batch_handler: BatchHandler | None = None
    """If set, each fetch is handled in one transaction (``infra.batch_consumer``), and
    ``handler`` only takes the records of a batch that could not be."""
    pool: asyncpg.Pool = field(init=False)
    store: PostgresEventStore = field(init=False)
    _producer: AIOKafkaProducer | None = field(default=None, init=False)
    _broker: KafkaBroker | None = field(default=None, init=False)
    _relay: asyncio.Task[None] | None = field(default=None, init=False)
    _outbox_watch: asyncio.Task[None] | None = field(default=None, init=False)
    _stop: asyncio.Event = field(default_factory=asyncio.Event, init=False)

    @property
    def topic(self) -> str:
        return topic_for(self.service)

    @property
    def kafka(self) -> KafkaLogin:
        """The service's own Kafka principal (``infra.kafka_acl``)."""
        return self.settings.kafka_login(principal_of(self.service))

    async def start(self) -> None:
        """Each step that needs PostgreSQL or Kafka waits for it (``infra.startup``)."""
        s = self.settings
        configure_logging(self.service, s.log_format, s.log_level)
        self.pool = await self._wait_for_database(
            lambda: create_pool(
                s.app_url(self.service),
                max_size=s.pool_max_size,
                statement_timeout_ms=s.database_statement_timeout_ms,
                acquire_timeout=s.database_acquire_timeout_seconds,
            )
        )
        self.store = PostgresEventStore(self.pool, self.service)
        dlq = dead_letter_topic(self.service)
        await self._wait_for_kafka(
            lambda: ensure_topics(
                self.kafka,
                [self.topic, dlq],
                s.kafka_topic_partitions,
                s.kafka_replication_factor,
            )
        )
        self._producer = await self._wait_for_kafka(self._started_producer)
        checkpointer = Checkpointer(
            self.store,
            self.service,
            self._producer,
            self.topic,
            Signer(s.checkpoint_key(self.service)),
            Path(s.checkpoint_file.format(service=self.service)),
            s.checkpoint_every_events,
            timedelta(seconds=s.checkpoint_interval_seconds),
        )
        relay = OutboxRelay(
            self.store,
            self._producer,
            self.topic,
            s.relay_batch_size,
            s.relay_idle_seconds,
            checkpointer,
        )
        self._relay = asyncio.create_task(relay.run(self._stop), name=f"{self.service}-relay")
        self._outbox_watch = asyncio.create_task(
            watch_outbox(self.pool, self.service, self._stop), name=f"{self.service}-outbox-metrics"
        )
        if self.handler is not None and self.consumes:
            self._broker = self.kafka.broker(logger=None)
            consumer = IdempotentConsumer(
                self.pool, self.service, self.handler, dead_letter_to(self._broker, dlq)
            )
            topics, group = list(self.consumes), consumer_group_for(self.service)
            if self.batch_handler is None:
                subscribe(self._broker, consumer, topics, group)
            else:
                batches = BatchConsumer(consumer, self.batch_handler)
                subscribe_batch(self._broker, batches, topics, group, s.consumer_batch_max)
            await self._wait_for_kafka(self._broker.start)
        log.info("service started", topic=self.topic, consumes=list(self.consumes))

    async def _wait_for_database(self, step: Callable[[], Awaitable[T]]) -> T:
        wait = self.settings.startup_max_backoff_seconds
        return await until_available("PostgreSQL", step, database_unavailable, wait)

    async def _wait_for_kafka(self, step: Callable[[], Awaitable[T]]) -> T:
        wait = self.settings.startup_max_backoff_seconds
        with connection_errors_unlogged():
            return await until_available("Kafka", step, kafka_unavailable, wait)

    async def _started_producer(self) -> AIOKafkaProducer:
        producer = reliable_producer(self.kafka, f"{self.service}-relay")
        try:
            await producer.start()
        except BaseException:
            await producer.stop()
            raise
        return producer

    async def stop(self) -> None:
        self._stop.set()
        if self._broker is not None:
            await self._broker.stop()
        if self._relay is not None:
            await self._relay
        if self._outbox_watch is not None:
            await self._outbox_watch
        if self._producer is not None:
            await self._producer.stop()
        await self.pool.close()

    async def healthy(self) -> bool:
        """The database answers and the relay runs (it ends only when the service stops, or on
        a bug: then the service must be restarted)."""
        if self._relay is None or self._relay.done():
            return False
        try:
            return bool(await self.pool.fetchval("SELECT 1"))
        except DATABASE_UNAVAILABLE:
            return False

    @asynccontextmanager
    async def running(self) -> AsyncIterator["ServiceRuntime"]:
        await self.start()
        try:
            yield self
        finally:
            await self.stop()
