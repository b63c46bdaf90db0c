"""The SLA watcher: emits one ``SlaBreached`` per visit of a step that overruns.

A background task of the service (``BreachWatcher.run``) looks every ``interval`` seconds, or
sooner when an open step falls due, for open SLA rows past their due instant that have no breach
yet. For each, in one transaction under the calendar lock (shared) and the request's lock, it
checks the row again, records the breach in ``sla_breaches`` (primary key: request, step,
attempt, so at most one per visit even with several replicas) and appends ``SlaBreached`` to
reporting's own event store (stream = the request id). The outbox relay publishes it on
``jejak.reporting.events``; reporting consumes its own topic, so the breach lands in the case's
timeline and its notices (the responsible role and the supervisor) like any other event.
"""

import asyncio
import datetime as dt
import uuid
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass

import asyncpg
import structlog

from events.envelope import Actor, NewEvent
from infra.db import DATABASE_FAILURES
from infra.eventstore import ConcurrencyConflict, PostgresEventStore
from services.reporting.calendar_store import lock_calendar
from services.reporting.projector import lock_request, stored_sla_row
from services.reporting.sla import breach_event

log = structlog.get_logger()

SYSTEM_ACTOR = Actor(user_id="reporting", role="SYSTEM")
MIN_WAIT = 0.05


@dataclass
class BreachWatcher:
    store: PostgresEventStore
    clock: Callable[[], dt.datetime]
    interval: float

    @property
    def schema(self) -> str:
        return self.store.schema

    @property
    def pool(self) -> asyncpg.Pool:
        return self.store.pool

    async def check(self) -> int:
        """Emit every breach due now; returns how many were emitted."""
        now = self.clock()
        candidates = await self.pool.fetch(
            f"SELECT r.request_id, r.step, r.attempt FROM {self.schema}.sla_rows r "
            "WHERE r.finished_at IS NULL AND r.due_at < $1 AND NOT EXISTS (SELECT 1 FROM "
            f"{self.schema}.sla_breaches b WHERE (b.request_id, b.step, b.attempt) = "
            "(r.request_id, r.step, r.attempt)) ORDER BY r.due_at",
            now,
        )
        emitted = 0
        for c in candidates:
            try:
                emitted += await self._breach(c["request_id"], c["step"], c["attempt"], now)
            except ConcurrencyConflict:
                log.info("breach raced another writer; retried on the next look")
        return emitted

    async def _breach(self, request_id: str, step: str, attempt: int, now: dt.datetime) -> bool:
        s = self.schema
        async with self.pool.acquire() as conn, conn.transaction():
            await lock_calendar(conn)
            await lock_request(conn, s, request_id)
            found = await conn.fetchrow(
                f"SELECT r.*, c.tenant FROM {s}.sla_rows r JOIN {s}.cases c USING (request_id) "
                "WHERE r.request_id = $1 AND r.step = $2 AND r.attempt = $3 "
                "AND r.finished_at IS NULL AND r.due_at < $4",
                request_id,
                step,
                attempt,
                now,
            )
            if found is None:
                return False
            row = stored_sla_row(found)
            event = breach_event(row, now)
            new = NewEvent.of(
                event,
                occurred_at=now,
                actor=SYSTEM_ACTOR,
                tenant=found["tenant"],
                correlation_id=uuid.uuid4(),
            )
            recorded = await conn.fetchval(
                f"INSERT INTO {s}.sla_breaches (request_id, step, attempt, due_at, breached_at, "
                "event_id) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING 1",
                request_id,
                step,
                attempt,
                event.due_at,
                now,
                new.event_id,
            )
            if not recorded:
                return False
            await self.store.append_at_head(request_id, [new], conn=conn)
        log.info("SLA breached", request_id=request_id, step=step, attempt=attempt)
        return True

    async def next_due(self) -> dt.datetime | None:
        """The earliest due instant still ahead among open rows (when to look again)."""
        due: dt.datetime | None = await self.pool.fetchval(
            f"SELECT min(due_at) FROM {self.schema}.sla_rows "
            "WHERE finished_at IS NULL AND due_at >= $1",
            self.clock(),
        )
        return due

    async def run(self, stop: asyncio.Event) -> None:
        """Look until ``stop`` is set; a failed look is logged and tried again later."""
        while not stop.is_set():
            wait = self.interval
            try:
                await self.check()
                due = await self.next_due()
                if due is not None:
                    ahead = (due - self.clock()).total_seconds()
                    wait = min(wait, max(MIN_WAIT, ahead))
            except DATABASE_FAILURES as error:
                log.warning("SLA watcher failed; trying again", error=str(error))
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=wait)
