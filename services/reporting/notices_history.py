"""A request's notices as a function of the set of its envelopes, whatever order its topics
arrived in: ``step_notices`` and ``notices_of``. Pure.

The notices are those of taking the envelopes one at a time in canonical order
(``casefile.canonical_order``: the order things happened), each step's case compared with the
one before (``notifications.notices_for_step``): an ACTION notice where the waiting point moves,
SLA_BREACH notices for each SlaBreached. Each notice is keyed by its request, its event, its kind
and its addressee, and its text is that of the case at its event; so the set of notices, and
each one's text, depends only on the set of envelopes.

Only a *settled* set tells its notices (``notices_settled.first_gap``): while what has arrived
shows that an earlier event of another topic is still to come, none is made. The live
projection makes, at each delivery, the notices of the set it holds that it has not stored yet,
and the audit replay the notices of the whole set: once every event has arrived they are the same
notices, whatever the interleaving. A notice for a wait that had already passed when reporting
caught up is made then too: it is part of the request's history, in live and replay alike.
"""

import datetime as dt
from collections.abc import Iterable
from typing import NamedTuple
from uuid import UUID

from events.base import DomainEvent
from events.catalog import default_registry, service_of
from events.envelope import Envelope
from events.reporting import SlaBreached
from events.steps import step
from events.topics import Service
from services.reporting.casefile import empty_case
from services.reporting.casefile_draft import CaseDraft
from services.reporting.casefile_model import CaseFile
from services.reporting.casefile_steps import update_for
from services.reporting.notices_settled import first_gap
from services.reporting.notifications import Notice, notices_for_step, waiting_point

__all__ = ["Step", "Stepped", "notices_of", "step_notices", "steps_of"]

Step = tuple[Service, Envelope, DomainEvent]
"""One envelope of a request, with its emitting service and its loaded event."""


class Stepped(NamedTuple):
    """A request's envelopes stepped through (``step_notices``)."""

    draft: CaseDraft
    """The case after them all."""
    notices: list[Notice]
    """Their notices; none while ``gap`` is set."""
    gap: str | None
    """What they presuppose that has not arrived yet (``notices_settled.first_gap``)."""


_REGISTRY = default_registry()
_SLA_BREACHED = SlaBreached.event_type()


def step_notices(
    request_id: str, steps: Iterable[Step], now: dt.datetime, *, timeline: bool = False
) -> Stepped:
    """The case after ``steps`` (in canonical order) and its notices, each once (the store keeps
    one per id): none while the set is not settled."""
    draft = CaseDraft.of(empty_case(request_id))
    notices: list[Notice] = []
    made: set[UUID] = set()
    taken: list[tuple[Service, DomainEvent]] = []
    point = waiting_point(draft)
    furthest = 0
    for service, envelope, event in steps:
        taken.append((service, event))
        before = draft.change(update_for(draft, service, envelope, event, timeline=timeline))
        if service != "reporting":
            furthest = max(furthest, step(draft.step).number)
        was, point = point, waiting_point(draft)
        if point == was and envelope.event_type != _SLA_BREACHED:
            continue
        for notice in notices_for_step(
            CaseDraft(before), draft, envelope, now, points=(was, point)
        ):
            if notice.notice_id not in made:
                made.add(notice.notice_id)
                notices.append(notice)
    gap = first_gap(taken, furthest)
    return Stepped(draft, [] if gap else notices, gap)


def steps_of(case: CaseFile) -> list[Step]:
    """``case``'s envelopes (its history, in canonical order), each with its service and event."""
    return [
        (
            service_of(envelope.event_type),
            envelope,
            _REGISTRY.load(envelope.event_type, envelope.schema_version, envelope.payload),
        )
        for envelope in case.history
    ]


def notices_of(case: CaseFile, now: dt.datetime) -> list[Notice]:
    """The notices of ``case``'s envelopes."""
    return step_notices(case.request_id, steps_of(case), now).notices
