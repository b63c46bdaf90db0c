"""A request as one service sees it: its own events and those it consumed, in the order it saw
them. Commands and consumed events for one request are serialised by an advisory lock, so the
fold a command decides on is the order the service will replay."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from events.base import DomainEvent
from events.envelope import Actor, Envelope, NewEvent
from events.registry import EventRegistry
from infra.db import Connection
from infra.eventstore import PostgresEventStore


@dataclass
class Timeline:
    store: PostgresEventStore
    registry: EventRegistry
    tenant: str

    @property
    def _table(self) -> str:
        return f"{self.store.schema}.timeline"

    async def lock(self, conn: Connection, stream_id: str) -> None:
        """Hold the request until the transaction ends."""
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext($1))", f"{self.store.schema}:{stream_id}"
        )

    async def load(self, conn: Connection, stream_id: str) -> tuple[list[DomainEvent], int]:
        """The request's events in the order seen, and the version of the service's own stream."""
        rows = await conn.fetch(
            f"SELECT event_type, schema_version, payload, own FROM {self._table} "
            "WHERE stream_id = $1 ORDER BY seq",
            stream_id,
        )
        events = [
            self.registry.load(r["event_type"], r["schema_version"], r["payload"]) for r in rows
        ]
        return events, sum(1 for r in rows if r["own"])

    async def record_consumed(self, conn: Connection, envelope: Envelope) -> None:
        """Call from the idempotent consumer's handler, in its transaction."""
        await self.lock(conn, envelope.stream_id)
        await self._insert(
            conn,
            envelope.stream_id,
            envelope.event_id,
            envelope.event_type,
            envelope.schema_version,
            envelope.payload,
            own=False,
        )

    async def append(
        self,
        conn: Connection,
        stream_id: str,
        version: int,
        events: Sequence[DomainEvent],
        actor: Actor,
        correlation_id: UUID | None = None,
        causation_id: UUID | None = None,
    ) -> list[Envelope]:
        """Append the service's new events to its store and its timeline, in ``conn``'s
        transaction (which must hold the lock)."""
        correlation = correlation_id or uuid.uuid4()
        new = [
            NewEvent.of(
                e,
                actor=actor,
                tenant=self.tenant,
                correlation_id=correlation,
                causation_id=causation_id,
            )
            for e in events
        ]
        sealed = await self.store.append(stream_id, version, new, conn=conn)
        for envelope in sealed:
            await self._insert(
                conn,
                stream_id,
                envelope.event_id,
                envelope.event_type,
                envelope.schema_version,
                envelope.payload,
                own=True,
            )
        return sealed

    async def _insert(
        self,
        conn: Connection,
        stream_id: str,
        event_id: UUID,
        event_type: str,
        schema_version: int,
        payload: dict[str, object],
        own: bool,
    ) -> None:
        await conn.execute(
            f"INSERT INTO {self._table} (stream_id, event_id, event_type, schema_version, "
            "payload, own) VALUES ($1, $2, $3, $4, $5, $6)",
            stream_id,
            event_id,
            event_type,
            schema_version,
            payload,
            own,
        )
