"""The projection's feed of ``CaseStatusChanged`` to reporting's own store (and so, through the
outbox relay, to ``jejak.reporting.events``, keyed by request: one request's changes stay in
order on one partition).

``StatusFeed`` is called by ``Projector.handle`` with the case it has just written, in the
consumer's transaction and under the request's lock: it compares the case with the last change
reported (``status_reported``), and if it moved, appends the change to the request's stream in
reporting's store and records it as the last one. Both happen in that transaction, so a change is
reported exactly once, also when the Kafka record that caused it is delivered again (the
consumer's inbox and ``case_events`` make the redelivery a no-op before the feed is called).

The change's envelope carries the causing event's ``occurred_at``, ``correlation_id`` and
``tenant``, its id as ``causation_id``, and the actor ``reporting``/SYSTEM.
"""

from collections.abc import Callable
from dataclasses import dataclass

from events.envelope import Envelope, NewEvent
from infra.db import Connection
from infra.eventstore import PostgresEventStore
from services.reporting.breaches import SYSTEM_ACTOR
from services.reporting.casefile_model import CaseFile
from services.reporting.status_changes import Position, Reported, status_change


@dataclass
class StatusFeed:
    store: Callable[[], PostgresEventStore]
    """reporting's store (it exists once the runtime has started)."""

    async def __call__(self, conn: Connection, case: CaseFile, cause: Envelope) -> None:
        store = self.store()
        s = store.schema
        row = await conn.fetchrow(
            f"SELECT sequence, status, step, who_must_act FROM {s}.status_reported "
            "WHERE request_id = $1",
            case.request_id,
        )
        last = None
        if row is not None:
            where = Position(row["status"], row["step"], row["who_must_act"])
            last = Reported(row["sequence"], where)
        change = status_change(last, case, cause)
        if change is None:
            return
        version = await conn.fetchval(
            f"SELECT coalesce(max(stream_version), 0) FROM {s}.events WHERE stream_id = $1",
            case.request_id,
        )
        new = NewEvent(
            event_type=change.event_type(),
            schema_version=change.schema_version,
            occurred_at=cause.occurred_at,
            actor=SYSTEM_ACTOR,
            tenant=cause.tenant,
            correlation_id=cause.correlation_id,
            causation_id=cause.event_id,
            payload=change.model_dump(mode="json"),
        )
        await store.append(case.request_id, version, [new], conn=conn)
        await conn.execute(
            f"INSERT INTO {s}.status_reported (request_id, sequence, status, step, who_must_act, "
            "event_id) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (request_id) DO UPDATE SET "
            "sequence = EXCLUDED.sequence, status = EXCLUDED.status, step = EXCLUDED.step, "
            "who_must_act = EXCLUDED.who_must_act, event_id = EXCLUDED.event_id, "
            "reported_at = now()",
            case.request_id,
            change.sequence,
            change.status,
            change.step.code,
            change.who_must_act,
            new.event_id,
        )
