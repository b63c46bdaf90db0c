"""Whether a request's envelopes can tell its notices yet: ``first_gap``. Pure.

Reporting reads every topic in its own order, but one topic can run behind another (after a
restart, while it catches up). A notice depends on the case just before and just after its
event in canonical order; an event that happened earlier but has not arrived yet would change
both. Some such absences show in what has arrived, because each service acts on the others'
events:

* approval acts on a request only once intake's ``RequestReceived`` opened it for approval;
* a requester revises only what approval returned (intake's k-th ``RequestRevised`` presupposes
  approval's k-th ``RequestReturned``), and approval acts after its k-th ``RequestReturned`` only
  on the k-th revision;
* dev_tracking knows a request only from approval's ``TaskAssigned``;
* reporting breaches a step only once the case reached it (as far in the SOP, at least).

While one shows, the request's notices wait (none is made); once it is filled, every notice of
the set is made at once, the same as if the topics had come in the order things happened. What
no arrival can reveal (two services recording at once without seeing each other, such as a
withdrawal that crosses a disposition) is the one way live and replayed notices can still part.
"""

from collections.abc import Iterable

from events.approval import RequestReturned, TaskAssigned
from events.base import DomainEvent
from events.intake import RequestReceived, RequestRevised
from events.reporting import SlaBreached
from events.steps import step
from events.topics import Service

__all__ = ["first_gap"]


def first_gap(events: Iterable[tuple[Service, DomainEvent]], furthest: int) -> str | None:
    """What the events presuppose that is not among them (a sentence for the logs), or None.

    ``events`` are one request's, each service's in its stream order (the canonical order
    keeps it); ``furthest`` is the highest SOP step number the case reached over them."""
    received = assigned = False
    revised = returned = needed = 0
    acted_by: str | None = None
    dev_first: str | None = None
    breached: list[SlaBreached] = []
    for service, event in events:
        match service, event:
            case "intake", RequestReceived():
                received = True
            case "intake", RequestRevised():
                revised += 1
            case "approval", _:
                acted_by = acted_by or type(event).__name__
                needed = max(needed, returned)
                returned += isinstance(event, RequestReturned)
                assigned = assigned or isinstance(event, TaskAssigned)
            case "dev_tracking", _:
                dev_first = dev_first or type(event).__name__
            case "reporting", SlaBreached():
                breached.append(event)
    if acted_by is not None and not received:
        return f"approval's {acted_by} without intake's RequestReceived"
    if revised > returned:
        return f"intake's revision {revised} without approval's return {revised}"
    if revised < needed:
        return f"approval acted after return {needed} without intake's revision {needed}"
    if dev_first is not None and not assigned:
        return f"dev_tracking's {dev_first} without approval's TaskAssigned"
    for breach in breached:
        if step(breach.step).number > furthest:
            return f"SlaBreached at {breach.step} before the case reached it"
    return None
