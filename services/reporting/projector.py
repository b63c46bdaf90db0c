"""The projection: every consumed envelope into the read models, in the consumer's transaction.

The idempotent consumer (``infra.consumer``) runs ``Projector.handle`` in a transaction that also
records the event id, so each event's effect happens once. The handler:

1. skips identity's events (no case follows them) and reporting's own ``CaseStatusChanged``
   (derived from cases, ``status_changes.NOT_PROJECTED``), and refuses an envelope whose payload
   names another request than its stream (it is dead-lettered);
2. stores the envelope in ``case_events`` (a replay of one already stored changes nothing; one
   with the same id and other content is refused);
3. folds all of the request's stored envelopes (``casefile.fold``: the same case for every
   arrival order) and upserts ``cases``; computes ``sla.request_sla`` over the tenant's calendar
   and replaces the request's ``sla_rows`` and ``request_sla``;
4. tells ``on_case_written`` (the status feed: ``CaseStatusChanged`` when the case moved);
5. stores the notices the change calls for (``notifications``).

Steps 3 and 4 are ``write``, which a calendar edit also calls for the requests it affects.
"""

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from events.catalog import default_registry, service_of
from events.envelope import Envelope
from infra.db import Connection
from services.reporting.calendar import WorkingCalendar
from services.reporting.calendar_store import load_calendar, lock_calendar
from services.reporting.casefile import CLOSED_STATUSES, CaseFile, ConflictingEvent, case_row, fold
from services.reporting.notifications import notices_for_change, store_notices
from services.reporting.sla import RequestSla, TimedEvent, request_sla, timed_events
from services.reporting.status_changes import NOT_PROJECTED

REGISTRY = default_registry()
FOLLOWED = frozenset({"intake", "approval", "dev_tracking", "reporting"})
"""The services whose events make up a case (all but identity)."""


async def lock_request(conn: Connection, schema: str, request_id: str) -> None:
    """Serialise everything that writes one request's read models, until the transaction ends."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"{schema}:{request_id}")


async def load_envelopes(conn: Connection, schema: str, request_id: str) -> list[Envelope]:
    rows = await conn.fetch(
        f"SELECT envelope FROM {schema}.case_events WHERE request_id = $1 "
        "ORDER BY occurred_at, service, stream_version",
        request_id,
    )
    return [Envelope.model_validate(r["envelope"]) for r in rows]


def sla_of(
    case: CaseFile,
    calendar: WorkingCalendar,
    now: dt.datetime,
    events: Sequence[TimedEvent] | None = None,
) -> RequestSla:
    """The case's SLA as of ``now`` (never before its latest event, so none is left out).

    ``events`` are ``timed_events(case.history, REGISTRY)`` if the caller has them loaded already
    (the bulk replay does); they are loaded here otherwise."""
    if case.updated_at is not None:
        now = max(now, case.updated_at)
    timed = timed_events(case.history, REGISTRY) if events is None else events
    return request_sla(timed, now=now, calendar=calendar)


def earliest_due(sla: RequestSla) -> dt.datetime | None:
    """The due instant of the open step (the earliest among open rows); None if none."""
    return min((r.due_at for r in sla.rows if r.finished_at is None and r.due_at), default=None)


# The rows the projection writes, as values in column order: the per-event path below and the
# bulk replay (``services.reporting.replay``) write the very same values.

CASE_COLUMNS = (
    "request_id, tenant, status, opd, title, current_step, step_number, responsible_role, "
    "progress_percent, submitted_at, updated_at, due_at, casefile"
)
REQUEST_SLA_COLUMNS = (
    "request_id, opd, outcome, current_step, submitted_at, ended_at, lead_minutes, waiting_minutes"
)
SLA_ROW_COLUMNS = (
    "request_id, step, attempt, opd, step_number, responsible_role, supervisor_role, "
    "started_at, due_at, finished_at, status, row"
)
CASE_EVENT_COLUMNS = (
    "event_id, request_id, service, event_type, stream_version, occurred_at, envelope"
)


def case_values(case: CaseFile, sla: RequestSla, json_text: bool = False) -> tuple[Any, ...]:
    """The ``cases`` row (``CASE_COLUMNS``). JSON columns are dicts, or JSON text if
    ``json_text`` (for a connection without the JSON codec, such as a COPY's)."""
    row = case_row(case)
    return (
        case.request_id,
        case.history[0].tenant if case.history else "",
        row.status,
        row.opd,
        row.title,
        row.current_step,
        row.step_number,
        row.responsible_role,
        row.progress_percent,
        case.submitted_at,
        row.updated_at,
        None if case.status in CLOSED_STATUSES else earliest_due(sla),
        (
            case.model_dump_json(exclude={"history"})
            if json_text
            else case.model_dump(mode="json", exclude={"history"})
        ),
    )


def request_sla_values(case: CaseFile, sla: RequestSla) -> tuple[Any, ...]:
    """The ``request_sla`` row (``REQUEST_SLA_COLUMNS``)."""
    return (
        case.request_id,
        case.opd or sla.opd,
        sla.outcome,
        sla.current_step,
        sla.submitted_at,
        sla.ended_at,
        sla.lead_minutes,
        sla.waiting_minutes,
    )


def sla_row_values(
    case: CaseFile, sla: RequestSla, json_text: bool = False
) -> list[tuple[Any, ...]]:
    """The ``sla_rows`` rows (``SLA_ROW_COLUMNS``); ``json_text`` as for ``case_values``."""
    return [
        (
            case.request_id,
            r.step,
            r.attempt,
            case.opd or r.opd,
            r.step_number,
            r.responsible_role,
            r.supervisor_role,
            r.started_at,
            r.due_at,
            r.finished_at,
            r.status,
            r.model_dump_json() if json_text else r.model_dump(mode="json"),
        )
        for r in sla.rows
    ]


def case_event_values(service: str, envelope: Envelope, json_text: bool = False) -> tuple[Any, ...]:
    """The ``case_events`` row (``CASE_EVENT_COLUMNS``); ``json_text`` as for ``case_values``."""
    return (
        envelope.event_id,
        envelope.stream_id,
        service,
        envelope.event_type,
        envelope.stream_version,
        envelope.occurred_at,
        envelope.model_dump_json() if json_text else envelope.model_dump(mode="json"),
    )


CaseWritten = Callable[[Connection, CaseFile, Envelope], Awaitable[None]]
"""Told, in the transaction, each case ``handle`` wrote and the event that changed it."""


@dataclass
class Projector:
    schema: str
    clock: Callable[[], dt.datetime]
    time_zone: str
    on_case_written: CaseWritten | None = None
    """The status feed (``status_feed.StatusFeed``); None projects without reporting changes."""

    async def handle(self, envelope: Envelope, conn: Connection) -> None:
        """The consumer's handler (in its transaction)."""
        service = service_of(envelope.event_type)  # an unknown type is dead-lettered
        if service not in FOLLOWED or envelope.event_type in NOT_PROJECTED:
            return
        event = REGISTRY.load(envelope.event_type, envelope.schema_version, envelope.payload)
        if getattr(event, "request_id", None) != envelope.stream_id:
            raise ValueError(f"{envelope.event_type} of another request in {envelope.stream_id}")
        request_id = envelope.stream_id
        await lock_calendar(conn)
        await lock_request(conn, self.schema, request_id)
        if not await self._store(conn, service, envelope):
            return
        envelopes = await load_envelopes(conn, self.schema, request_id)
        prior = [e for e in envelopes if e.event_id != envelope.event_id]
        before = fold(prior, request_id) if prior else None
        after = fold(envelopes, request_id)
        now = self.clock()
        calendar = await load_calendar(conn, self.schema, envelope.tenant, self.time_zone)
        await self.write(conn, after, calendar, now)
        if self.on_case_written is not None:
            await self.on_case_written(conn, after, envelope)
        await store_notices(conn, self.schema, notices_for_change(before, after, now))

    async def _store(self, conn: Connection, service: str, envelope: Envelope) -> bool:
        """Keep the envelope; False if it was kept before (a replay), which changes nothing."""
        stored = await conn.fetchval(
            f"INSERT INTO {self.schema}.case_events ({CASE_EVENT_COLUMNS}) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (event_id) DO NOTHING RETURNING 1",
            *case_event_values(service, envelope),
        )
        if stored:
            return True
        kept = await conn.fetchval(
            f"SELECT envelope FROM {self.schema}.case_events WHERE event_id = $1",
            envelope.event_id,
        )
        if Envelope.model_validate(kept) != envelope:
            raise ConflictingEvent(f"event {envelope.event_id} delivered with other content")
        return False

    async def write(
        self, conn: Connection, case: CaseFile, calendar: WorkingCalendar, now: dt.datetime
    ) -> RequestSla:
        """Upsert the case's row, its SLA summary and its SLA rows (call under the locks)."""
        sla = sla_of(case, calendar, now)
        s = self.schema
        await conn.execute(
            f"INSERT INTO {s}.cases ({CASE_COLUMNS}, projected_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, now()) "
            "ON CONFLICT (request_id) DO UPDATE SET tenant = EXCLUDED.tenant, "
            "status = EXCLUDED.status, opd = EXCLUDED.opd, title = EXCLUDED.title, "
            "current_step = EXCLUDED.current_step, step_number = EXCLUDED.step_number, "
            "responsible_role = EXCLUDED.responsible_role, "
            "progress_percent = EXCLUDED.progress_percent, "
            "submitted_at = EXCLUDED.submitted_at, updated_at = EXCLUDED.updated_at, "
            "due_at = EXCLUDED.due_at, casefile = EXCLUDED.casefile, projected_at = now()",
            *case_values(case, sla),
        )
        await conn.execute(
            f"INSERT INTO {s}.request_sla ({REQUEST_SLA_COLUMNS}) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
            "ON CONFLICT (request_id) DO UPDATE SET opd = EXCLUDED.opd, "
            "outcome = EXCLUDED.outcome, current_step = EXCLUDED.current_step, "
            "submitted_at = EXCLUDED.submitted_at, ended_at = EXCLUDED.ended_at, "
            "lead_minutes = EXCLUDED.lead_minutes, waiting_minutes = EXCLUDED.waiting_minutes",
            *request_sla_values(case, sla),
        )
        await conn.execute(f"DELETE FROM {s}.sla_rows WHERE request_id = $1", case.request_id)
        await conn.executemany(
            f"INSERT INTO {s}.sla_rows ({SLA_ROW_COLUMNS}) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            sla_row_values(case, sla),
        )
        return sla

    async def recompute(
        self,
        conn: Connection,
        request_ids: Sequence[str],
        calendar: WorkingCalendar,
        now: dt.datetime,
    ) -> int:
        """Write again the read models of ``request_ids`` (after a calendar edit); no notices.
        Returns how many were written."""
        count = 0
        for request_id in sorted(request_ids):
            await lock_request(conn, self.schema, request_id)
            envelopes = await load_envelopes(conn, self.schema, request_id)
            if envelopes:
                await self.write(conn, fold(envelopes, request_id), calendar, now)
                count += 1
        return count
