"""Which event starts, pauses, resumes and finishes which step's SLA clock: one request's visits.

A *visit* is a maximal stretch of time during which the request is at one step, where "at" is
what the SOP table says (``events.sop.move``, which the services' folds use too):

- ``RequestSubmitted`` opens RECEIVE; ``RequestReceived`` opens DISPOSE; ``Disposed`` VERIFY;
  ``DocumentsVerified`` MEETING; ``MeetingHeld`` SIGN_MINUTES; ``BAsigned`` ASSIGN;
  ``TaskAssigned`` (or ``DevelopmentStarted``, should it sort first) DEVELOP. These cross
  services, so they only ever move the request forward: a stale one (two hosts' clocks
  disagreeing by a hair) changes nothing.
- ``RequestReturned`` pauses VERIFY (the request stays at VERIFY but waits on the requester) and
  ``RequestRevised`` resumes it. The pause is kept with the visit.
- Development and tests (dev_tracking's own stream, in order): DEVELOP runs until the first
  system test result, since no event marks the end of development; a failed test puts the request
  at that test's step (a new visit if it was elsewhere, the same visit if already there) until the
  same kind passes; a passed test moves on to the next test, to MANUAL, or to UAT if a manual was
  already published; ``ManualPublished`` moves MANUAL on to UAT.
- ``UATRejected`` ends the UAT visit (its requester's clock stops there) and opens a new DEVELOP
  visit for the team's fixes; the team's re-run integration test and the next UAT are new visits
  too. ``UATAccepted`` (or ``RequestCompleted``) ends UAT: the request is DONE.
- ``RequestRejected`` and ``RequestWithdrawn`` end the open visit; the first ending stands and
  nothing after it counts.

SUBMIT has no visit: the request does not exist before ``RequestSubmitted``, so the requester's
preparation time cannot be observed. DONE has no standard time and no visit either.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Literal

from events.approval import RequestRejected, TaskAssigned
from events.base import DomainEvent
from events.dev_tracking import RequestCompleted, TestFailed, UATAccepted
from events.intake import RequestSubmitted, RequestWithdrawn
from events.sop import START, Position, move
from events.steps import StepCode, step
from services.reporting.sla_order import TimedEvent, in_time_order

Outcome = Literal["OPEN", "COMPLETED", "REJECTED", "WITHDRAWN"]

_CLOSING: dict[type[DomainEvent], Outcome] = {
    RequestRejected: "REJECTED",
    RequestWithdrawn: "WITHDRAWN",
    UATAccepted: "COMPLETED",
    RequestCompleted: "COMPLETED",
}
"""The endings; the requester's clock stops at ``UATAccepted``, which ``RequestCompleted``
follows in the same command."""
_NAMING_THE_OPD = RequestSubmitted | TaskAssigned


@dataclass(slots=True)
class Visit:
    """One stretch of time at one step; ``pauses`` are ``[start, end)`` with ``end`` None while
    the pause lasts."""

    code: StepCode
    attempt: int
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    ended_by: str | None = None
    pauses: list[tuple[dt.datetime, dt.datetime | None]] = field(default_factory=list)
    failed_runs: int = 0
    ended_paused: bool = False

    @property
    def paused(self) -> bool:
        return bool(self.pauses) and self.pauses[-1][1] is None


@dataclass(slots=True)
class Trail:
    """One request's visits, built by ``trail`` from its events."""

    request_id: str | None = None
    opd: str | None = None
    submitted_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    outcome: Outcome = "OPEN"
    position: Position = START
    visits: list[Visit] = field(default_factory=list)

    @property
    def at(self) -> StepCode | None:
        """The step the request is at; None before its submission."""
        return None if self.position.step == START.step else self.position.step

    @property
    def current(self) -> Visit | None:
        if self.visits and self.visits[-1].finished_at is None:
            return self.visits[-1]
        return None

    def move(self, to: Position, when: dt.datetime, by: str) -> None:
        """The request is at ``to`` from ``when``: at another step, end the open visit and open
        one there."""
        moved, self.position = to.step != self.position.step, to
        if not moved:
            return
        self.end(when, by)
        if step(to.step).has_standard_time:
            attempt = 1 + sum(1 for v in self.visits if v.code == to.step)
            self.visits.append(Visit(code=to.step, attempt=attempt, started_at=when))

    def end(self, when: dt.datetime, by: str) -> None:
        visit = self.current
        if visit is None:
            return
        if visit.paused:
            visit.pauses[-1] = (visit.pauses[-1][0], when)
            visit.ended_paused = True
        visit.finished_at, visit.ended_by = when, by

    def close(self, outcome: Outcome, when: dt.datetime, by: str) -> None:
        self.end(when, by)
        self.outcome, self.ended_at = outcome, when
        if outcome == "COMPLETED":
            self.position = replace(self.position, step="DONE", next_test=None)


def apply(state: Trail, when: dt.datetime, event: DomainEvent) -> None:
    """Fold one event into ``state`` (in place)."""
    request_id = getattr(event, "request_id", None)
    if request_id is None:
        return
    if state.request_id is None:
        state.request_id = request_id
    elif request_id != state.request_id:
        raise ValueError(f"event of request {request_id} among those of {state.request_id}")
    if state.opd is None and isinstance(event, _NAMING_THE_OPD):
        state.opd = event.opd
    if state.submitted_at is None and isinstance(event, RequestSubmitted):
        state.submitted_at = when
    if state.outcome != "OPEN":  # the first ending stands
        return
    kind = type(event)
    if kind in _CLOSING:
        state.close(_CLOSING[kind], when, kind.event_type())
        return
    before = state.position
    after = move(before, event)
    if after is before:
        return
    visit = state.current
    if after.step != before.step:
        state.move(after, when, kind.event_type())
        if isinstance(event, TestFailed) and state.current is not None:
            state.current.failed_runs = 1
        return
    state.position = after
    if visit is None:
        return
    if isinstance(event, TestFailed):
        visit.failed_runs += 1  # the same kind failed again: the same visit
    elif after.returned and not before.returned and not visit.paused:
        visit.pauses.append((when, None))
    elif before.returned and not after.returned and visit.paused:
        visit.pauses[-1] = (visit.pauses[-1][0], when)


def trail(events: Iterable[TimedEvent], until: dt.datetime | None = None) -> Trail:
    """One request's visits from its events (sorted here with ``in_time_order``), leaving out
    those after ``until`` if given."""
    state = Trail()
    for when, event in in_time_order(events):
        if until is not None and when > until:
            break
        apply(state, when.astimezone(dt.UTC), event)
    return state
