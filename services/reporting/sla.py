"""The working-time SLA of one request: a row per visit of a step, and the breaches to report.

Rows come from the visits of ``services.reporting.sla_steps`` (which event starts, pauses and
finishes which step), laid over a ``WorkingCalendar``:

- **One row per visit** (``attempt`` 1, 2, ... per step). A loop that takes the request back to a
  step opens a new row with the full standard time: after a rejected UAT the team's fixes run on
  DEVELOP attempt 2, the re-run integration test on INTEGRATION_TEST attempt 2 (if it fails) and
  the next acceptance test on UAT attempt 2. A failed test re-run while the request stays at that
  test's step is the same visit: its fixing time counts, ``failed_runs`` says how many failed.
- **Pauses**: the clock stops only while the request waits on the requester at a step that is
  not the requester's, i.e. at VERIFY from ``RequestReturned`` to ``RequestRevised``. The VERIFY
  row stays one row across returns (the request never leaves step 4); its ``pauses`` list every
  wait and ``paused_minutes`` their office time. A rejected UAT pauses nothing: the UAT row (the
  requester's clock) ends at ``UATRejected``, and the team's fixes run on the team's own clock.
- ``due_at`` is the instant at which the running (unpaused) time reaches the standard; None while
  a pause lasts with standard time left (it is known again on resumption). Late means past due:
  a finished row is LATE if ``finished_at > due_at``; an open one is RUNNING_LATE once
  ``now > due_at`` (a breach), else PAUSED or RUNNING.
- Times are working time (``used_minutes``, ``paused_minutes``: whole office minutes, truncated).

Everything is computed as of ``now``: events after it are ignored, so ``request_sla(events,
now=t)`` is also the SLA as an auditor would have seen it at ``t``.
"""

import datetime as dt
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

from events.envelope import Envelope
from events.registry import EventRegistry
from events.reporting import SlaBreached
from events.steps import StepCode, step
from services.reporting.calendar import DEFAULT_CALENDAR, WorkingCalendar, minutes
from services.reporting.sla_model import Pause, RequestSla, SlaRow, SlaStatus
from services.reporting.sla_order import TimedEvent, aware
from services.reporting.sla_steps import Visit, trail

__all__ = [
    "Pause",
    "RequestSla",
    "SlaRow",
    "SlaStatus",
    "TimedEvent",
    "breach_event",
    "breaches",
    "next_due",
    "request_sla",
    "sla_rows",
    "timed_events",
]

_ZERO = dt.timedelta(0)


@cache
def _step_values(code: StepCode) -> tuple[dt.timedelta, dict[str, Any]]:
    """A step's standard time, and the values of its rows that come from the SOP alone."""
    s = step(code)
    assert s.actor_role is not None
    return s.standard_time, {
        "step": s.code,
        "step_number": s.number,
        "sop_number": s.sop_number,
        "label_id": s.label_id,
        "label_en": s.label_en,
        "responsible_role": s.actor_role,
        "supervisor_role": s.supervisor_role,
        "standard_minutes": s.standard_minutes,
    }


def _segments(visit: Visit) -> tuple[list[tuple[dt.datetime, dt.datetime | None]], bool]:
    """The running stretches, and whether the clock stood still at the end (a pause still on, or
    the visit ended during one); if not, the last stretch has no end (None)."""
    segments: list[tuple[dt.datetime, dt.datetime | None]] = []
    cursor = visit.started_at
    for begins, ends in visit.pauses:
        segments.append((cursor, begins))
        if ends is None or (visit.ended_paused and ends == visit.finished_at):
            return segments, True
        cursor = ends
    segments.append((cursor, None))
    return segments, False


def _time(calendar: WorkingCalendar, begins: dt.datetime, ends: dt.datetime) -> dt.timedelta:
    return max(_ZERO, calendar.working_time_between(begins, ends))


def _clock(
    visit: Visit, standard: dt.timedelta, calendar: WorkingCalendar, end: dt.datetime
) -> tuple[dt.timedelta, dt.datetime | None, bool]:
    """The working time on the visit's clock up to ``end``, its due instant (None while a pause
    with standard time left is on), and whether the clock stands still at the end."""
    if not visit.pauses:  # most visits: one stretch, from the start on
        used = _time(calendar, visit.started_at, end)
        return used, calendar.add_working_time(visit.started_at, standard), False
    segments, paused_now = _segments(visit)
    used = _ZERO
    due: dt.datetime | None = None
    left: dt.timedelta | None = standard  # standard time not yet run; None once due is known
    for begins, ends in segments:
        stop = end if ends is None or ends > end else ends
        span = calendar.working_time_between(begins, stop)
        used += max(_ZERO, span)
        if left is None:
            continue
        if ends is not None:
            run = span if stop is ends else calendar.working_time_between(begins, ends)
            if left > run:
                left -= run
                continue
        due, left = calendar.add_working_time(begins, left), None
    return used, due, paused_now


def _row(
    visit: Visit, request_id: str | None, opd: str | None, cal: WorkingCalendar, now: dt.datetime
) -> dict[str, Any]:
    """The values of the visit's ``SlaRow`` (see the module for each)."""
    standard, values = _step_values(visit.code)
    end = visit.finished_at or now
    used, due, paused_now = _clock(visit, standard, cal, end)
    pauses = [
        {"started_at": b, "ended_at": e, "minutes": minutes(_time(cal, b, min(e or end, end)))}
        for b, e in visit.pauses
    ]
    status: SlaStatus
    if visit.finished_at is not None:
        status = "LATE" if due is not None and visit.finished_at > due else "ON_TIME"
    elif due is not None and now > due:
        status = "RUNNING_LATE"
    else:
        status = "PAUSED" if paused_now else "RUNNING"
    return {
        **values,
        "request_id": request_id,
        "opd": opd,
        "attempt": visit.attempt,
        "started_at": visit.started_at,
        "due_at": due,
        "finished_at": visit.finished_at,
        "ended_by": visit.ended_by,
        "used_minutes": minutes(used),
        "paused_minutes": sum(p["minutes"] for p in pauses),
        "pauses": pauses,
        "failed_runs": visit.failed_runs,
        "status": status,
    }


def request_sla(
    events: Iterable[TimedEvent],
    *,
    now: dt.datetime,
    calendar: WorkingCalendar = DEFAULT_CALENDAR,
) -> RequestSla:
    """One request's SLA as of ``now`` from its events (any order; events after ``now`` are
    ignored). Each event comes with its envelope's ``occurred_at``.

    The rows are worked out as plain values and validated once, with the whole ``RequestSla``."""
    aware(now, "now")
    state = trail(events, until=now)
    rows = [_row(v, state.request_id, state.opd, calendar, now) for v in state.visits]
    lead = None
    if state.submitted_at is not None:
        lead = max(0, calendar.working_minutes_between(state.submitted_at, state.ended_at or now))
    return RequestSla.model_validate(
        {
            "request_id": state.request_id,
            "opd": state.opd,
            "outcome": state.outcome,
            "current_step": state.at,
            "submitted_at": state.submitted_at,
            "ended_at": state.ended_at,
            "lead_minutes": lead,
            "waiting_minutes": sum(r["paused_minutes"] for r in rows),
            "rows": rows,
        }
    )


def sla_rows(
    events: Iterable[TimedEvent],
    *,
    now: dt.datetime,
    calendar: WorkingCalendar = DEFAULT_CALENDAR,
) -> tuple[SlaRow, ...]:
    """The rows of ``request_sla``."""
    return request_sla(events, now=now, calendar=calendar).rows


def timed_events(envelopes: Iterable[Envelope], registry: EventRegistry) -> list[TimedEvent]:
    """Envelopes as ``(occurred_at, event)``, each payload loaded (and upcast) by ``registry``."""
    return [
        (env.occurred_at, registry.load(env.event_type, env.schema_version, env.payload))
        for env in envelopes
    ]


def breaches(rows: Iterable[SlaRow], now: dt.datetime) -> list[SlaRow]:
    """The open rows whose due instant has passed at ``now``: each deserves one SlaBreached."""
    return [r for r in rows if r.finished_at is None and r.due_at is not None and now > r.due_at]


def breach_event(row: SlaRow, now: dt.datetime) -> SlaBreached:
    """The SlaBreached for a row ``breaches`` listed, detected at ``now``."""
    if row.request_id is None or row.due_at is None:
        raise ValueError("only a row of a known request with a due instant can be breached")
    return SlaBreached(
        request_id=row.request_id,
        step=row.step,
        due_at=row.due_at,
        breached_at=now,
        responsible_role=row.responsible_role,
        supervisor_role=row.supervisor_role,
    )


def next_due(rows: Sequence[SlaRow], now: dt.datetime) -> dt.datetime | None:
    """The earliest due instant still ahead of ``now`` among open rows (when to look again)."""
    ahead = [r.due_at for r in rows if r.finished_at is None and r.due_at and r.due_at >= now]
    return min(ahead, default=None)
