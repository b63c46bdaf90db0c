"""The order in which one request's events are folded: by ``occurred_at``, ties in SOP order.

The reporting service receives a request's events from several topics in any interleaving;
sorting them here makes the SLA depend only on the set of events, never on their arrival.
"""

import datetime as dt
from collections.abc import Iterable

from events.approval import (
    BAsigned,
    Disposed,
    DocumentsVerified,
    MeetingHeld,
    RequestRejected,
    RequestReturned,
    TaskAssigned,
)
from events.base import DomainEvent
from events.dev_tracking import (
    ManualPublished,
    RequestCompleted,
    TestFailed,
    TestPassed,
    UATAccepted,
    UATRejected,
)
from events.intake import RequestReceived, RequestRevised, RequestSubmitted, RequestWithdrawn
from events.steps import TEST_ORDER

TimedEvent = tuple[dt.datetime, DomainEvent]
"""A domain event with its envelope's ``occurred_at`` (an aware datetime)."""

_BEFORE_TESTS: tuple[type[DomainEvent], ...] = (
    RequestSubmitted,
    RequestReceived,
    Disposed,
    RequestReturned,
    RequestRevised,
    DocumentsVerified,
    MeetingHeld,
    BAsigned,
    TaskAssigned,
)
_AFTER_TESTS: tuple[type[DomainEvent], ...] = (
    ManualPublished,
    UATRejected,
    UATAccepted,
    RequestCompleted,
    RequestRejected,
    RequestWithdrawn,
)


_RANKS: dict[type[DomainEvent], int] = {
    **{kind: n for n, kind in enumerate(_BEFORE_TESTS)},
    **{kind: 30 + n for n, kind in enumerate(_AFTER_TESTS)},
}
"""The rank of each class of event whose rank depends on its class alone (tests' ranks depend
on their kind too; any other event ranks 40)."""


def _rank(event: DomainEvent) -> int:
    """SOP order, for events with the same ``occurred_at``: a test's failure before its pass,
    system before unit before integration."""
    rank = _RANKS.get(type(event))
    if rank is not None:
        return rank
    if isinstance(event, TestFailed | TestPassed):
        return 20 + 2 * TEST_ORDER.index(event.kind) + isinstance(event, TestPassed)
    return 40


def aware(instant: dt.datetime, name: str = "occurred_at") -> dt.datetime:
    """``instant`` itself; a naive datetime raises ValueError."""
    if instant.utcoffset() is None:  # also None without a tzinfo
        raise ValueError(f"{name} must be an aware datetime, got {instant!r}")
    return instant


def _order(timed: TimedEvent) -> tuple[dt.datetime, int]:
    when, event = timed
    return aware(when), _rank(event)


def in_time_order(events: Iterable[TimedEvent]) -> list[TimedEvent]:
    """``events`` sorted by ``occurred_at``; equal instants (events written together, such as
    UATAccepted and RequestCompleted) in SOP order, so the order they arrived in never matters
    (events equal in both keep the order they came in: the sort is stable)."""
    return sorted(events, key=_order)
