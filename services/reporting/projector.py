"""The projection: consumed envelopes into the read models, in the consumer's transaction.

The batch consumer (``infra.batch_consumer``) runs ``Projector.handle_batch`` with what one
fetch brought, in a transaction that also records every event id, so each event's effect
happens once. For the batch, it:

1. keeps what identity's role and delegation events grant or take away (``grants_store``, for
   the notification stream), and otherwise skips identity's events (no case follows them) and
   reporting's own ``CaseStatusChanged`` (derived from cases: ``status_changes.NOT_PROJECTED``),
   and refuses the batch if an
   envelope has an unknown type, a payload that does not load, or a payload naming another
   request than its stream (the consumer then takes the batch record by record, ``handle``,
   and dead-letters that one);
2. takes the calendar lock (shared) and gets each tenant's calendar from ``CalendarCache`` (one
   query while no admin edit was made), then locks every request of the batch, in the order
   of their lock keys (so two replicas never wait on each other in a cycle);
3. reads every stored envelope of those requests (one query) and, per request, drops what was
   stored before (a replay changes nothing; the same id with other content is refused), folds
   the stored ones once and steps through the new ones (``changes.step_through``); the notices
   of each request's whole set of envelopes (``notices_history.notices_of``: the same whatever
   order the topics arrived in) are collected;
4. stores the new envelopes in ``case_events`` (each as the JSON text it was delivered in:
   ``infra.consumer.Delivered``), upserts every request's ``cases`` row, its
   ``request_sla`` and its ``sla_rows`` (``sla.request_sla`` over the tenant's calendar) once;
5. hands every change, request by request in the order they were stepped through, to
   ``on_changes`` (the status feed: ``CaseStatusChanged`` where a case moved), and stores the
   notices not stored before, last.

``handle`` is the same for one envelope. ``write_all`` is step 4's upsert, which a calendar edit
also calls (``recompute``) for the requests it affects.
"""

import datetime as dt
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from events.catalog import default_registry, service_of
from events.envelope import Envelope
from events.steps import step
from events.topics import Service
from infra.consumer import Delivered
from infra.db import Connection
from services.reporting.calendar import WorkingCalendar
from services.reporting.calendar_cache import CalendarCache
from services.reporting.calendar_store import lock_calendar
from services.reporting.casefile import CLOSED_STATUSES, CaseFile, case_row, fold
from services.reporting.changes import Change, step_through, unseen
from services.reporting.grants_store import project_grants
from services.reporting.notices_history import notices_of
from services.reporting.notifications import Notice, store_notices
from services.reporting.sla import RequestSla, SlaRow, TimedEvent, request_sla, timed_events
from services.reporting.sla_model import PAUSES
from services.reporting.status_changes import NOT_PROJECTED

REGISTRY = default_registry()
FOLLOWED = frozenset({"intake", "approval", "dev_tracking", "reporting"})
"""The services whose events make up a case (all but identity)."""


async def lock_request(conn: Connection, schema: str, request_id: str) -> None:
    """Serialise everything that writes one request's read models, until the transaction ends."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"{schema}:{request_id}")


async def lock_requests(conn: Connection, schema: str, request_ids: Iterable[str]) -> None:
    """``lock_request`` for each of ``request_ids``, in one query, in the order of the lock keys:
    two transactions that lock several requests this way never wait on each other in a cycle.
    (PostgreSQL computes a select list after the ORDER BY that does not name it.)"""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(k) FROM (SELECT DISTINCT hashtext(r) AS k "
        "FROM unnest($1::text[]) AS r) AS keys ORDER BY k",
        [f"{schema}:{request_id}" for request_id in request_ids],
    )


async def load_envelopes(
    conn: Connection, schema: str, request_ids: Sequence[str]
) -> dict[str, list[Envelope]]:
    """Every stored envelope of each of ``request_ids`` (in no particular order)."""
    rows = await conn.fetch(
        f"SELECT request_id, envelope::text AS envelope FROM {schema}.case_events "
        "WHERE request_id = ANY($1::text[])",
        list(request_ids),
    )
    found: dict[str, list[Envelope]] = {}
    for r in rows:
        found.setdefault(r["request_id"], []).append(Envelope.model_validate_json(r["envelope"]))
    return found


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


# The rows the projection writes, as values in column order: the live path below and the
# bulk replay (``services.reporting.replay_rebuild``, ``replay_worker``) write the very same values.

STORED_CASE_EXCLUDES = {"history", "timeline"}
"""What the ``cases.casefile`` column leaves out: the envelopes and the timeline, which are
``case_events`` over again (the audit views fold them from there)."""

CASE_COLUMNS = (
    "request_id, tenant, status, opd, title, current_step, step_number, responsible_role, "
    "progress_percent, submitted_at, updated_at, due_at, casefile"
)
REQUEST_SLA_COLUMNS = (
    "request_id, opd, outcome, current_step, submitted_at, ended_at, lead_minutes, waiting_minutes"
)
SLA_ROW_COLUMNS = (
    "request_id, step, attempt, opd, step_number, responsible_role, supervisor_role, "
    "standard_minutes, started_at, due_at, finished_at, ended_by, used_minutes, paused_minutes, "
    "failed_runs, status, pauses"
)
_SLA_ROW_NAMES = tuple(SLA_ROW_COLUMNS.split(", "))
CASE_EVENT_COLUMNS = (
    "event_id, request_id, service, event_type, stream_version, occurred_at, envelope"
)


def case_values(case: CaseFile, sla: RequestSla) -> tuple[Any, ...]:
    """The ``cases`` row (``CASE_COLUMNS``). JSON columns are JSON text (written as ``json``, or
    by a COPY, which has no JSON codec)."""
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
        case.model_dump_json(exclude=STORED_CASE_EXCLUDES),
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


def sla_row_values(case: CaseFile, sla: RequestSla) -> list[tuple[Any, ...]]:
    """The ``sla_rows`` rows (``SLA_ROW_COLUMNS``); the pauses as JSON text, as in
    ``case_values``. The step's labels are not stored: ``stored_sla_row`` takes them from the
    SOP's catalogue."""
    return [
        (
            case.request_id,
            r.step,
            r.attempt,
            case.opd or r.opd,
            r.step_number,
            r.responsible_role,
            r.supervisor_role,
            r.standard_minutes,
            r.started_at,
            r.due_at,
            r.finished_at,
            r.ended_by,
            r.used_minutes,
            r.paused_minutes,
            r.failed_runs,
            r.status,
            PAUSES.dump_json(r.pauses).decode() if r.pauses else "[]",
        )
        for r in sla.rows
    ]


def stored_sla_row(record: asyncpg.Record) -> SlaRow:
    """The ``SlaRow`` of an ``sla_rows`` row (read with the pools' JSON codec), with the step's
    labels from the SOP's catalogue."""
    labels = step(record["step"])
    return SlaRow.model_validate(
        {
            **{column: record[column] for column in _SLA_ROW_NAMES},
            "sop_number": labels.sop_number,
            "label_id": labels.label_id,
            "label_en": labels.label_en,
        }
    )


def case_event_values(service: str, delivered: Delivered) -> tuple[Any, ...]:
    """The ``case_events`` row (``CASE_EVENT_COLUMNS``): the envelope as JSON text, exactly as it
    was delivered."""
    envelope = delivered.envelope
    return (
        envelope.event_id,
        envelope.stream_id,
        service,
        envelope.event_type,
        envelope.stream_version,
        envelope.occurred_at,
        delivered.text,
    )


def arrivals(delivered: Iterable[Delivered]) -> dict[str, list[tuple[Service, Delivered]]]:
    """The envelopes a case follows, by request, in delivery order. Raises for one that the
    consumer must dead-letter: an unknown type or version, a payload that does not load or that
    names another request than its stream."""
    found: dict[str, list[tuple[Service, Delivered]]] = {}
    for one in delivered:
        envelope = one.envelope
        service = service_of(envelope.event_type)
        if service not in FOLLOWED or envelope.event_type in NOT_PROJECTED:
            continue
        event = REGISTRY.load(envelope.event_type, envelope.schema_version, envelope.payload)
        if getattr(event, "request_id", None) != envelope.stream_id:
            raise ValueError(f"{envelope.event_type} of another request in {envelope.stream_id}")
        found.setdefault(envelope.stream_id, []).append((service, one))
    return found


ChangesWritten = Callable[[Connection, Sequence[Change]], Awaitable[None]]
"""Told, in the transaction and under the requests' locks, every change the batch made to a case
(each request's in the order they were stepped through)."""


@dataclass
class Projector:
    schema: str
    clock: Callable[[], dt.datetime]
    time_zone: str
    on_changes: ChangesWritten | None = None
    """The status feed (``status_feed.StatusFeed``); None projects without reporting changes."""
    calendars: CalendarCache = field(init=False)

    def __post_init__(self) -> None:
        self.calendars = CalendarCache(self.schema, self.time_zone)

    async def handle(self, delivered: Delivered, conn: Connection) -> None:
        """The consumer's handler of one envelope (in its transaction)."""
        await self.handle_batch([delivered], conn)

    async def handle_batch(self, delivered: Sequence[Delivered], conn: Connection) -> None:
        """The consumer's handler of a batch (in its transaction): see the module."""
        await project_grants(conn, self.schema, (d.envelope for d in delivered))
        arrived = arrivals(delivered)
        if not arrived:
            return
        await lock_calendar(conn)
        tenants = {d.envelope.tenant for found in arrived.values() for _, d in found}
        calendars = await self.calendars.in_force(conn, sorted(tenants))
        await lock_requests(conn, self.schema, arrived)
        stored = await load_envelopes(conn, self.schema, list(arrived))
        now = self.clock()
        kept: list[tuple[Service, Delivered]] = []
        cases: list[tuple[CaseFile, WorkingCalendar]] = []
        changed: list[Change] = []
        notices: list[Notice] = []
        for request_id, found in arrived.items():
            before = stored.get(request_id, [])
            new = unseen(before, (d.envelope for _, d in found))
            if not new:
                continue
            placed = {d.envelope.event_id: (service, d) for service, d in found}
            kept += [placed[e.event_id] for e in new]
            changes = step_through(request_id, before, new)
            cases.append((changes[-1].after, calendars[new[-1].tenant]))
            changed += changes
            notices += notices_of(changes[-1].after, now)
        await self._store(conn, kept)
        await self.write_all(conn, cases, now)
        if self.on_changes is not None:
            await self.on_changes(conn, changed)
        await store_notices(conn, self.schema, await self._unstored(conn, notices))

    async def _unstored(self, conn: Connection, notices: Sequence[Notice]) -> list[Notice]:
        """``notices`` but those stored before (a request's notices are made again whenever an
        event of it arrives: ``notices_history``)."""
        if not notices:
            return []
        stored = await conn.fetch(
            f"SELECT notice_id FROM {self.schema}.notices WHERE notice_id = ANY($1::uuid[])",
            [n.notice_id for n in notices],
        )
        known = {r["notice_id"] for r in stored}
        return [n for n in notices if n.notice_id not in known]

    async def _store(self, conn: Connection, kept: Sequence[tuple[Service, Delivered]]) -> None:
        """Keep the new envelopes in ``case_events`` (none of them is there: ``unseen``)."""
        if kept:
            await conn.executemany(
                f"INSERT INTO {self.schema}.case_events ({CASE_EVENT_COLUMNS}) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7::text::json)",
                [case_event_values(service, d) for service, d in kept],
            )

    async def write_all(
        self,
        conn: Connection,
        cases: Sequence[tuple[CaseFile, WorkingCalendar]],
        now: dt.datetime,
    ) -> None:
        """Upsert each case's row, its SLA summary and its SLA rows, computed over its calendar
        (call under the locks)."""
        if not cases:
            return
        s = self.schema
        slas = [(case, sla_of(case, calendar, now)) for case, calendar in cases]
        await conn.executemany(
            f"INSERT INTO {s}.cases ({CASE_COLUMNS}, projected_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::text::json, now()) "
            "ON CONFLICT (request_id) DO UPDATE SET tenant = EXCLUDED.tenant, "
            "status = EXCLUDED.status, opd = EXCLUDED.opd, title = EXCLUDED.title, "
            "current_step = EXCLUDED.current_step, step_number = EXCLUDED.step_number, "
            "responsible_role = EXCLUDED.responsible_role, "
            "progress_percent = EXCLUDED.progress_percent, "
            "submitted_at = EXCLUDED.submitted_at, updated_at = EXCLUDED.updated_at, "
            "due_at = EXCLUDED.due_at, casefile = EXCLUDED.casefile, projected_at = now()",
            [case_values(case, sla) for case, sla in slas],
        )
        await conn.executemany(
            f"INSERT INTO {s}.request_sla ({REQUEST_SLA_COLUMNS}) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
            "ON CONFLICT (request_id) DO UPDATE SET opd = EXCLUDED.opd, "
            "outcome = EXCLUDED.outcome, current_step = EXCLUDED.current_step, "
            "submitted_at = EXCLUDED.submitted_at, ended_at = EXCLUDED.ended_at, "
            "lead_minutes = EXCLUDED.lead_minutes, waiting_minutes = EXCLUDED.waiting_minutes",
            [request_sla_values(case, sla) for case, sla in slas],
        )
        await conn.execute(
            f"DELETE FROM {s}.sla_rows WHERE request_id = ANY($1::text[])",
            [case.request_id for case, _ in slas],
        )
        rows = [row for case, sla in slas for row in sla_row_values(case, sla)]
        if rows:
            await conn.executemany(
                f"INSERT INTO {s}.sla_rows ({SLA_ROW_COLUMNS}) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, "
                "$17::text::json)",
                rows,
            )

    async def recompute(
        self,
        conn: Connection,
        request_ids: Sequence[str],
        calendar: WorkingCalendar,
        now: dt.datetime,
    ) -> int:
        """Write again the read models of ``request_ids`` (after a calendar edit); no notices.
        Returns how many were written."""
        await lock_requests(conn, self.schema, request_ids)
        stored = await load_envelopes(conn, self.schema, request_ids)
        cases = [(fold(stored[r], r), calendar) for r in sorted(stored)]
        await self.write_all(conn, cases, now)
        return len(cases)
