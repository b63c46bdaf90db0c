"""The audit replay's projection of one request (``rebuild``): the read models the live
projection leaves after the request's last event, from its envelopes in arrival order.

The envelopes are projected with the projection's own code (``casefile_steps.update_for`` over
the canonical order, ``sla.request_sla`` over the tenant's calendar,
``notices_history.step_notices``, the row values of ``projector``), in bulk: one fold per
request instead of one per event. The bulk
path equals the live path (batches of what each fetch brought), and the replay's comparison
proves it:

* the same envelopes are refused as the live consumer dead-letters them (identity's events,
  reporting's own CaseStatusChanged and other tenants' are skipped; an unknown type, a payload of
  another request, a payload that does not load, the same event id with other content, a second
  event in one place of a service's stream are refused and the first delivery stands, in each
  partition's order);
* ``case_events`` keeps each envelope as the record's JSON text, as the live consumer keeps
  what it was delivered (``infra.consumer.Delivered``);
* ``cases``, ``request_sla`` and ``sla_rows`` are written from the fold of the whole set, as the
  live path writes them after the request's last event (the fold is the same for every arrival
  order);
* the notices are those of the whole set (``notices_history``): the live path makes, at each
  delivery, those of the set it holds, which are the same once every event has arrived.
"""

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from uuid import UUID

from events.base import DomainEvent
from events.catalog import service_of
from events.envelope import Envelope
from events.topics import Service
from infra.consumer import Delivered
from services.reporting.calendar import WorkingCalendar
from services.reporting.casefile import CaseFile, canonical_order
from services.reporting.notices_history import step_notices
from services.reporting.notifications import Notice
from services.reporting.projector import (
    FOLLOWED,
    REGISTRY,
    sla_of,
)
from services.reporting.sla import RequestSla
from services.reporting.status_changes import NOT_PROJECTED


@dataclass(frozen=True)
class Refusal:
    """An envelope the replay did not project, as the live consumer would have dead-lettered it."""

    reason: str
    request_id: str | None = None
    event_id: str | None = None
    event_type: str | None = None
    where: str | None = None


@dataclass(frozen=True)
class Rebuilt:
    """One request's read models, as the live projection leaves them after its last event."""

    case: CaseFile
    sla: RequestSla
    notices: tuple[Notice, ...]
    stored: tuple[tuple[str, Delivered], ...]
    """``(service, envelope as delivered)`` kept in ``case_events``, in arrival order."""


def rebuild(
    request_id: str,
    arrivals: Iterable[Delivered],
    calendar_of: Callable[[str], WorkingCalendar],
    now: dt.datetime,
) -> tuple[Rebuilt | None, list[Refusal]]:
    """One request's read models from its envelopes in arrival order (each partition's order
    kept); None if none of them is projected. ``calendar_of(tenant)`` is the tenant's calendar.

    An envelope is skipped or refused where the live consumer skips or dead-letters it: an event
    id seen before (the consumer's inbox), identity's events, an unknown type or version, a
    payload that does not load or names another request, a second event in one place of a
    service's stream."""
    refusals: list[Refusal] = []
    inbox: dict[UUID, Envelope] = {}  # the first envelope of each id, as the consumer's
    kept: dict[UUID, tuple[Service, Delivered, DomainEvent]] = {}
    places: set[tuple[Service, int]] = set()
    last_tenant = ""
    for arrival in arrivals:
        envelope = arrival.envelope
        first = inbox.setdefault(envelope.event_id, envelope)
        if first is not envelope:  # the consumer's inbox knows the id: nothing happens
            if first != envelope:
                refusals.append(refused(envelope, "event delivered again with other content"))
            continue
        try:
            service = service_of(envelope.event_type)
            if service not in FOLLOWED or envelope.event_type in NOT_PROJECTED:
                continue
            event = REGISTRY.load(envelope.event_type, envelope.schema_version, envelope.payload)
        except (LookupError, ValueError) as error:  # unknown type or version, invalid payload
            refusals.append(refused(envelope, f"{type(error).__name__}: {error}"))
            continue
        if getattr(event, "request_id", None) != envelope.stream_id:
            refusals.append(refused(envelope, "payload of another request than its stream"))
            continue
        if (service, envelope.stream_version) in places:
            refusals.append(refused(envelope, "a second event in one place of its stream"))
            continue
        kept[envelope.event_id] = (service, arrival, event)
        places.add((service, envelope.stream_version))
        last_tenant = envelope.tenant
    if not kept:
        return None, refusals
    case, notices = _step_through(request_id, kept, now)
    history = case.history
    timed = [(e.occurred_at, kept[e.event_id][2]) for e in history]
    sla = sla_of(case, calendar_of(last_tenant), now, timed)
    stored = tuple((service, arrival) for service, arrival, _ in kept.values())
    return Rebuilt(case, sla, tuple(notices), stored), refusals


def refused(envelope: Envelope, reason: str) -> Refusal:
    """The refusal of ``envelope`` for ``reason``."""
    return Refusal(reason, envelope.stream_id, str(envelope.event_id), envelope.event_type)


def _step_through(
    request_id: str, kept: dict[UUID, tuple[Service, Delivered, DomainEvent]], now: dt.datetime
) -> tuple[CaseFile, list[Notice]]:
    """The case of every envelope (``casefile.fold``'s result) and its notices
    (``notices_history.step_notices``, the live path's own).

    A prefix of the canonical order is the canonical order of its own set, so each step is the
    fold of the envelopes so far: one ``CaseDraft`` changed by each envelope in turn (without
    timeline lines: ``cases.casefile`` holds none, and nothing else here reads them).
    """
    history = canonical_order(arrival.envelope for _, arrival, _ in kept.values())
    steps = [(kept[e.event_id][0], e, kept[e.event_id][2]) for e in history]
    draft, notices, _ = step_notices(request_id, steps, now)
    updated = max(e.occurred_at for e in history)
    return draft.freeze(history=history, updated_at=updated), notices
