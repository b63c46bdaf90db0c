"""Which event starts, pauses, resumes and finishes which step's SLA clock: one request's visits.

A *visit* is a maximal stretch of time during which the request is at one step, where "at" means
what the domains' ``current_step`` says (``services.approval.state``,
``services.dev_tracking.state``):

- ``RequestSubmitted`` opens RECEIVE; ``RequestReceived`` opens DISPOSE; ``Disposed`` VERIFY;
  ``DocumentsVerified`` MEETING; ``MeetingHeld`` SIGN_MINUTES; ``BAsigned`` ASSIGN;
  ``TaskAssigned`` DEVELOP. These cross services, so they only ever move the request forward: a
  stale one (two hosts' clocks disagreeing by a hair) changes nothing.
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
from dataclasses import dataclass, field
from typing import Literal

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
    TestKind,
    TestPassed,
    UATAccepted,
    UATRejected,
)
from events.intake import RequestReceived, RequestRevised, RequestSubmitted, RequestWithdrawn
from events.steps import StepCode, step
from services.reporting.sla_order import TimedEvent, in_time_order

Outcome = Literal["OPEN", "COMPLETED", "REJECTED", "WITHDRAWN"]

_FORWARD: dict[type[DomainEvent], StepCode] = {
    RequestSubmitted: "RECEIVE",
    RequestReceived: "DISPOSE",
    Disposed: "VERIFY",
    DocumentsVerified: "MEETING",
    MeetingHeld: "SIGN_MINUTES",
    BAsigned: "ASSIGN",
    TaskAssigned: "DEVELOP",
}
_CLOSING: dict[type[DomainEvent], Outcome] = {
    RequestRejected: "REJECTED",
    RequestWithdrawn: "WITHDRAWN",
    UATAccepted: "COMPLETED",
    RequestCompleted: "COMPLETED",
}
_NAMING_THE_OPD = RequestSubmitted | TaskAssigned
_DEVELOPMENT_MOVES = TestFailed | TestPassed | ManualPublished | UATRejected
"""The events of the development phase that can move the request (``_dev``); the others
(progress, problems) leave the visits as they are."""
_TEST_STEP: dict[TestKind, StepCode] = {
    "SYSTEM": "SYSTEM_TEST",
    "UNIT": "UNIT_TEST",
    "INTEGRATION": "INTEGRATION_TEST",
}
_NEXT_TEST: dict[TestKind, TestKind | None] = {
    "SYSTEM": "UNIT",
    "UNIT": "INTEGRATION",
    "INTEGRATION": None,
}


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
    at: StepCode | None = None
    manual: bool = False
    visits: list[Visit] = field(default_factory=list)

    @property
    def current(self) -> Visit | None:
        if self.visits and self.visits[-1].finished_at is None:
            return self.visits[-1]
        return None

    def move(self, to: StepCode, when: dt.datetime, by: str) -> None:
        """The request is at ``to`` from ``when``: end the open visit, open one at ``to``."""
        if to == self.at:
            return
        self.end(when, by)
        self.at = to
        if step(to).has_standard_time:
            attempt = 1 + sum(1 for v in self.visits if v.code == to)
            self.visits.append(Visit(code=to, attempt=attempt, started_at=when))

    def advance(self, to: StepCode, when: dt.datetime, by: str) -> None:
        """``move`` only if ``to`` is further along the SOP than the request is."""
        if self.at is None or step(to).number > step(self.at).number:
            self.move(to, when, by)

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
            self.at = "DONE"


def _dev(state: Trail, when: dt.datetime, event: DomainEvent, name: str) -> None:
    match event:
        case TestFailed():
            visit = state.current
            if state.at == _TEST_STEP[event.kind] and visit is not None:
                visit.failed_runs += 1
            else:
                state.move(_TEST_STEP[event.kind], when, name)
                if state.current is not None:
                    state.current.failed_runs = 1
        case TestPassed():
            following = _NEXT_TEST[event.kind]
            if following is not None:
                state.move(_TEST_STEP[following], when, name)
            else:
                state.move("UAT" if state.manual else "MANUAL", when, name)
        case ManualPublished():
            state.manual = True
            if state.at == "MANUAL":
                state.move("UAT", when, name)
        case UATRejected():
            state.move("DEVELOP", when, name)


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
    forward = _FORWARD.get(kind)
    if forward is not None:
        state.advance(forward, when, kind.event_type())
    elif kind in _CLOSING:
        state.close(_CLOSING[kind], when, kind.event_type())
    elif isinstance(event, RequestReturned):
        visit = state.current
        if state.at == "VERIFY" and visit is not None and not visit.paused:
            visit.pauses.append((when, None))
    elif isinstance(event, RequestRevised):
        visit = state.current
        if visit is not None and visit.paused:
            visit.pauses[-1] = (visit.pauses[-1][0], when)
    elif isinstance(event, _DEVELOPMENT_MOVES):
        _dev(state, when, event, kind.event_type())


def trail(events: Iterable[TimedEvent], until: dt.datetime | None = None) -> Trail:
    """One request's visits from its events (sorted here with ``in_time_order``), leaving out
    those after ``until`` if given."""
    state = Trail()
    for when, event in in_time_order(events):
        if until is not None and when > until:
            break
        apply(state, when.astimezone(dt.UTC), event)
    return state
