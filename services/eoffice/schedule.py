"""The durable delivery schedule: ``{schema}.deliveries`` in PostgreSQL.

Nothing about a delivery lives only in memory. The consumer records each ``CaseStatusChanged``
as a PENDING row in its own transaction (``record``); a worker claims due rows with ``FOR UPDATE
SKIP LOCKED`` and a lease (``claim``), posts them, and writes the outcome (``finish``); an admin
re-sends a parked one (``resend``). A restarted service, or another replica, carries on from
the rows: a claimed row whose worker died is claimed again once its lease runs out.

A row is due when its ``next_attempt_at`` has come and the request's previous change is
DELIVERED (or it is the request's first), so at most one change per request is ever in flight
and they reach the e-office in order. Delivered, parked and re-sent are appended to eoffice's
event store (stream = the request), in the transaction that changes the row, under the request's
advisory lock.
"""

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from events.base import DomainEvent
from events.catalog import default_registry
from events.envelope import Actor, Envelope, NewEvent
from events.eoffice import StatusDeliveryResent
from events.reporting import CaseStatusChanged
from infra.db import Connection
from infra.eventstore import PostgresEventStore
from services.eoffice.backoff import RetryPolicy
from services.eoffice.delivery import (
    AttemptResult,
    DeliveryNotFound,
    DeliveryState,
    Due,
    StatusNotice,
    after_attempt,
    check_resend,
    notice_body,
)
from services.eoffice.views import AttemptView, DeliveryDetail, DeliveryView

REGISTRY = default_registry()
SYSTEM_ACTOR = Actor(user_id="eoffice", role="SYSTEM")
CHANGE = CaseStatusChanged.event_type()

_PREVIOUS_DELIVERED = (
    "({a}.sequence = 1 OR EXISTS (SELECT 1 FROM {s}.deliveries p WHERE p.tenant = {a}.tenant "
    "AND p.request_id = {a}.request_id AND p.sequence = {a}.sequence - 1 "
    "AND p.state = 'DELIVERED'))"
)
_VIEW_COLUMNS = (
    "d.delivery_id, d.tenant, d.request_id, d.sequence, d.state, d.attempts, d.total_attempts, "
    "CASE WHEN d.state = 'PENDING' THEN d.next_attempt_at END AS next_attempt_at, "
    "CASE WHEN d.state = 'PENDING' AND NOT {previous} THEN d.sequence - 1 END "
    "AS waiting_for_sequence, d.last_http_status, d.last_error, d.recorded_at, d.delivered_at, "
    "d.parked_at, d.resends, d.resent_by, d.resent_at"
)


@dataclass
class DeliverySchedule:
    store: Callable[[], PostgresEventStore]
    """eoffice's store (it exists once the runtime has started)."""
    tenant: str
    """The tenant whose deliveries this deployment posts (to its one callback URL)."""

    @property
    def schema(self) -> str:
        return self.store().schema

    @property
    def pool(self) -> asyncpg.Pool:
        return self.store().pool

    def _previous_delivered(self, alias: str) -> str:
        return _PREVIOUS_DELIVERED.format(a=alias, s=self.schema)

    async def record(self, conn: Connection, envelope: Envelope, now: dt.datetime) -> bool:
        """Schedule a consumed ``CaseStatusChanged`` (in the consumer's transaction); other
        events of reporting's topic are not for the e-office. False if already scheduled."""
        if envelope.event_type != CHANGE:
            return False
        change = REGISTRY.load(envelope.event_type, envelope.schema_version, envelope.payload)
        assert isinstance(change, CaseStatusChanged)
        if change.request_id != envelope.stream_id:
            raise ValueError(f"{CHANGE} of another request in stream {envelope.stream_id}")
        recorded = await conn.fetchval(
            f"INSERT INTO {self.schema}.deliveries (delivery_id, tenant, request_id, sequence, "
            "correlation_id, body, next_attempt_at, recorded_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $7) "
            "ON CONFLICT (delivery_id) DO NOTHING RETURNING true",
            envelope.event_id,
            envelope.tenant,
            change.request_id,
            change.sequence,
            envelope.correlation_id,
            notice_body(envelope.event_id, envelope.tenant, change).decode(),
            now,
        )
        return bool(recorded)

    async def claim(
        self, limit: int, lease_seconds: float, now: dt.datetime
    ) -> tuple[UUID, list[Due]]:
        """Reserve up to ``limit`` due deliveries (one per request at most) for this worker,
        counting the attempt about to be made; returns the lease's token and them."""
        token = uuid.uuid4()
        s = self.schema
        rows = await self.pool.fetch(
            f"UPDATE {s}.deliveries d SET lease_token = $1, leased_until = $3, "
            "attempts = d.attempts + 1, total_attempts = d.total_attempts + 1 "
            f"FROM (SELECT c.delivery_id FROM {s}.deliveries c WHERE c.state = 'PENDING' "
            "AND c.tenant = $4 AND c.next_attempt_at <= $2 "
            "AND (c.leased_until IS NULL OR c.leased_until < $2) "
            f"AND {self._previous_delivered('c')} "
            "ORDER BY c.next_attempt_at LIMIT $5 FOR UPDATE SKIP LOCKED) due "
            "WHERE d.delivery_id = due.delivery_id RETURNING d.delivery_id, d.tenant, "
            "d.request_id, d.sequence, d.correlation_id, d.body, d.attempts, d.total_attempts",
            token,
            now,
            now + dt.timedelta(seconds=lease_seconds),
            self.tenant,
            limit,
        )
        return token, [
            Due(
                r["delivery_id"],
                r["tenant"],
                r["request_id"],
                r["sequence"],
                r["correlation_id"],
                r["body"].encode(),
                r["attempts"],
                r["total_attempts"],
            )
            for r in rows
        ]

    async def next_due(self, now: dt.datetime) -> dt.datetime | None:
        """When the earliest delivery that waits only on time (not on an earlier change) is due."""
        due: dt.datetime | None = await self.pool.fetchval(
            "SELECT min(greatest(c.next_attempt_at, coalesce(c.leased_until, c.next_attempt_at))) "
            f"FROM {self.schema}.deliveries c WHERE c.state = 'PENDING' AND c.tenant = $1 "
            f"AND {self._previous_delivered('c')}",
            self.tenant,
        )
        return due

    async def finish(
        self,
        due: Due,
        token: UUID,
        started_at: dt.datetime,
        result: AttemptResult,
        policy: RetryPolicy,
        now: dt.datetime,
    ) -> DeliveryState | None:
        """Write an attempt's outcome; None if the lease was lost (another worker took the
        delivery after it ran out), in which case nothing is written."""
        s = self.schema
        async with self.pool.acquire() as conn, conn.transaction():
            await self._lock(conn, due.request_id)
            held = await conn.fetchval(
                f"SELECT true FROM {s}.deliveries WHERE delivery_id = $1 AND lease_token = $2 "
                "AND state = 'PENDING' FOR UPDATE",
                due.delivery_id,
                token,
            )
            if not held:
                return None
            await conn.execute(
                f"INSERT INTO {s}.delivery_attempts (delivery_id, attempt, started_at, "
                "finished_at, http_status, error) VALUES ($1, $2, $3, $4, $5, $6) "
                "ON CONFLICT DO NOTHING",
                due.delivery_id,
                due.total_attempts,
                started_at,
                now,
                result.http_status,
                None if result.accepted else result.problem,
            )
            outcome = after_attempt(due, result, policy, now)
            await conn.execute(
                f"UPDATE {s}.deliveries SET state = $2, "
                "next_attempt_at = coalesce($3, next_attempt_at), lease_token = NULL, "
                "leased_until = NULL, last_http_status = $4, last_error = $5, "
                "delivered_at = CASE WHEN $2 = 'DELIVERED' THEN $6 ELSE delivered_at END, "
                "parked_at = CASE WHEN $2 = 'PARKED' THEN $6 ELSE parked_at END "
                "WHERE delivery_id = $1",
                due.delivery_id,
                outcome.state,
                outcome.next_attempt_at,
                result.http_status,
                None if result.accepted else result.problem,
                now,
            )
            if outcome.event is not None:
                await self._append(conn, due, outcome.event, SYSTEM_ACTOR, now)
        return outcome.state

    async def resend(
        self, conn: Connection, delivery_id: UUID, actor: Actor, note: str | None, now: dt.datetime
    ) -> DeliveryDetail:
        """A parked delivery back to PENDING with a fresh budget, due now (or 404/409), in
        ``conn``'s transaction."""
        s = self.schema
        request_id = await conn.fetchval(
            f"SELECT request_id FROM {s}.deliveries WHERE delivery_id = $1", delivery_id
        )
        if request_id is None:
            raise DeliveryNotFound(delivery_id)
        await self._lock(conn, request_id)
        row = await conn.fetchrow(
            f"SELECT delivery_id, tenant, request_id, sequence, correlation_id, body, state, "
            f"attempts, total_attempts FROM {s}.deliveries WHERE delivery_id = $1 FOR UPDATE",
            delivery_id,
        )
        assert row is not None  # held since the first look by the request's lock
        check_resend(row["state"])
        await conn.execute(
            f"UPDATE {s}.deliveries SET state = 'PENDING', attempts = 0, "
            "next_attempt_at = $2, resends = resends + 1, resent_by = $3, resent_at = $2 "
            "WHERE delivery_id = $1",
            delivery_id,
            now,
            actor.user_id,
        )
        due = Due(
            row["delivery_id"],
            row["tenant"],
            row["request_id"],
            row["sequence"],
            row["correlation_id"],
            b"",
            row["attempts"],
            row["total_attempts"],
        )
        resent = StatusDeliveryResent(
            request_id=due.request_id,
            delivery_id=due.delivery_id,
            sequence=due.sequence,
            resent_by=actor.user_id,
            note=note,
        )
        await self._append(conn, due, resent, actor, now)
        found = await self.get(delivery_id, conn)
        assert found is not None
        return found

    async def _lock(self, conn: Connection, request_id: str) -> None:
        """Serialise the writes of one request's deliveries and audit stream (first, before the
        transaction writes anything, so that its appends are in transaction order)."""
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext($1))", f"{self.schema}:{request_id}"
        )

    async def _append(
        self, conn: Connection, due: Due, event: DomainEvent, actor: Actor, now: dt.datetime
    ) -> None:
        new = NewEvent.of(
            event,
            occurred_at=now,
            actor=actor,
            tenant=due.tenant,
            correlation_id=due.correlation_id,
            causation_id=due.delivery_id,
        )
        await self.store().append_at_head(due.request_id, [new], conn=conn)

    # The admin's views -----------------------------------------------------------------------

    def _select(self, where: str) -> str:
        columns = _VIEW_COLUMNS.format(previous=self._previous_delivered("d"))
        return f"SELECT {columns} FROM {self.schema}.deliveries d WHERE {where}"

    async def list(
        self,
        state: DeliveryState | None,
        request_id: str | None,
        limit: int,
        offset: int,
    ) -> list[DeliveryView]:
        """Deliveries, oldest first (by request and sequence when one request is asked for)."""
        order = "d.sequence" if request_id is not None else "d.recorded_at, d.delivery_id"
        rows = await self.pool.fetch(
            self._select(
                "($1::text IS NULL OR d.state = $1) AND ($2::text IS NULL OR d.request_id = $2)"
            )
            + f" ORDER BY {order} LIMIT $3 OFFSET $4",
            state,
            request_id,
            limit,
            offset,
        )
        return [DeliveryView.model_validate(dict(r)) for r in rows]

    async def get(self, delivery_id: UUID, conn: Connection | None = None) -> DeliveryDetail | None:
        db = conn or self.pool
        row = await db.fetchrow(self._select("d.delivery_id = $1"), delivery_id)
        if row is None:
            return None
        body = await db.fetchval(
            f"SELECT body FROM {self.schema}.deliveries WHERE delivery_id = $1", delivery_id
        )
        attempts = await db.fetch(
            f"SELECT attempt, started_at, finished_at, http_status, error FROM "
            f"{self.schema}.delivery_attempts WHERE delivery_id = $1 ORDER BY attempt",
            delivery_id,
        )
        fields: dict[str, Any] = dict(row)
        return DeliveryDetail(
            **fields,
            change=StatusNotice.model_validate_json(body).change,
            attempt_log=[AttemptView.model_validate(dict(a)) for a in attempts],
        )
