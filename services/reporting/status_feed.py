"""The projection's feed of ``CaseStatusChanged`` to reporting's own store (and so, through the
outbox relay, to ``jejak.reporting.events``, keyed by request: one request's changes stay in
order on one partition).

``StatusFeed`` is called by ``Projector.handle_batch`` with every change the batch made to a case,
in the consumer's transaction and under the requests' locks. Per request it compares each case
after a change with the last change reported (``status_reported``, read once for the batch); where
the case moved, the change is reported. The request's new changes are appended to its stream in
reporting's store and the last one is recorded, all in that transaction: a change is reported
exactly once, also when the Kafka record that caused it is delivered again (the consumer's inbox
and ``case_events`` make a redelivery a no-op before the feed is called).

A change's envelope carries the causing event's ``occurred_at``, ``correlation_id`` and
``tenant``, its id as ``causation_id``, and the actor ``reporting``/SYSTEM.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from events.envelope import NewEvent
from infra.db import Connection
from infra.eventstore import PostgresEventStore
from services.reporting.breaches import SYSTEM_ACTOR
from services.reporting.changes import Change
from services.reporting.status_changes import Position, Reported, reported, status_change


@dataclass
class StatusFeed:
    store: Callable[[], PostgresEventStore]
    """reporting's store (it exists once the runtime has started)."""

    async def __call__(self, conn: Connection, changes: Sequence[Change]) -> None:
        if not changes:
            return
        s = self.store().schema
        request_ids = list(dict.fromkeys(c.after.request_id for c in changes))
        rows = await conn.fetch(
            f"SELECT request_id, sequence, status, step, who_must_act FROM {s}.status_reported "
            "WHERE request_id = ANY($1::text[])",
            request_ids,
        )
        last = {
            r["request_id"]: Reported(
                r["sequence"], Position(r["status"], r["step"], r["who_must_act"])
            )
            for r in rows
        }
        owed: dict[str, list[NewEvent]] = {}
        for change in changes:
            request_id, cause = change.after.request_id, change.envelope
            moved = status_change(last.get(request_id), change.after, cause)
            if moved is None:
                continue
            last[request_id] = reported(moved)
            owed.setdefault(request_id, []).append(
                NewEvent.of(
                    moved,
                    occurred_at=cause.occurred_at,
                    actor=SYSTEM_ACTOR,
                    tenant=cause.tenant,
                    correlation_id=cause.correlation_id,
                    causation_id=cause.event_id,
                )
            )
        if owed:
            await self._report(conn, owed, last)

    async def _report(
        self, conn: Connection, owed: dict[str, list[NewEvent]], last: dict[str, Reported]
    ) -> None:
        store = self.store()
        s = store.schema
        for request_id, news in owed.items():
            await store.append_at_head(request_id, news, conn=conn)
        await conn.executemany(
            f"INSERT INTO {s}.status_reported (request_id, sequence, status, step, who_must_act, "
            "event_id) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (request_id) DO UPDATE SET "
            "sequence = EXCLUDED.sequence, status = EXCLUDED.status, step = EXCLUDED.step, "
            "who_must_act = EXCLUDED.who_must_act, event_id = EXCLUDED.event_id, "
            "reported_at = now()",
            [
                (
                    request_id,
                    last[request_id].sequence,
                    last[request_id].position.status,
                    last[request_id].position.step,
                    last[request_id].position.who_must_act,
                    news[-1].event_id,
                )
                for request_id, news in owed.items()
            ],
        )
