"""One request as approval sees it: a fold over intake's events and approval's own.

The request is known from intake's ``RequestSubmitted`` (which carries the documents that
``RequestReceived`` does not) and opens for approval with ``RequestReceived``. From there:

    AWAITING_DISPOSITION -Disposed-> AWAITING_VERIFICATION -DocumentsVerified-> AWAITING_MEETING
    AWAITING_VERIFICATION -RequestReturned-> RETURNED -RequestRevised-> AWAITING_VERIFICATION
    AWAITING_MEETING -MeetingHeld-> AWAITING_SIGNATURE -BAsigned-> AWAITING_ASSIGNMENT
    AWAITING_ASSIGNMENT -TaskAssigned-> ASSIGNED (dev_tracking takes over)
    ASSIGNED -TaskAssigned-> ASSIGNED (a new Surat Tugas: a longer period, or another team)
    ASSIGNED -RequestCompleted-> COMPLETED (dev_tracking's; no new letter after it)
    any open status -RequestRejected-> REJECTED;  -RequestWithdrawn-> WITHDRAWN

Each status but the closed ones is a place in the SOP table (``_STATUS``): the step is moved by
``events.sop.move``, and the status named after it.
"""

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

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
from events.completeness import missing_sections
from events.dev_tracking import RequestCompleted
from events.envelope import Role
from events.intake import (
    BusinessProcess,
    NeedsAnalysis,
    RequestReceived,
    RequestRevised,
    RequestSubmitted,
    RequestWithdrawn,
)
from events.sop import Position, move, waits_on
from events.steps import StepCode, step

Status = Literal[
    "ABSENT",
    "SUBMITTED",
    "AWAITING_DISPOSITION",
    "AWAITING_VERIFICATION",
    "RETURNED",
    "AWAITING_MEETING",
    "AWAITING_SIGNATURE",
    "AWAITING_ASSIGNMENT",
    "ASSIGNED",
    "COMPLETED",
    "REJECTED",
    "WITHDRAWN",
]
"""Where the request stands for approval. ABSENT: no event seen; SUBMITTED: not yet received."""

CONSUMED_EVENT_TYPES: frozenset[str] = frozenset(
    e.event_type()
    for e in (
        RequestSubmitted,
        RequestReceived,
        RequestRevised,
        RequestWithdrawn,
        RequestCompleted,
    )
)
"""The other services' events ``evolve`` cares about (intake's, and dev_tracking's completion,
which ends the time a new Surat Tugas can be issued): the ones to consume."""

CLOSED: frozenset[Status] = frozenset({"REJECTED", "WITHDRAWN"})
"""Statuses after which nothing more happens to the request."""

_STATUS: dict[StepCode, Status] = {
    "SUBMIT": "ABSENT",
    "RECEIVE": "SUBMITTED",
    "DISPOSE": "AWAITING_DISPOSITION",
    "VERIFY": "AWAITING_VERIFICATION",
    "MEETING": "AWAITING_MEETING",
    "SIGN_MINUTES": "AWAITING_SIGNATURE",
    "ASSIGN": "AWAITING_ASSIGNMENT",
    "DEVELOP": "ASSIGNED",
    "DONE": "COMPLETED",
}
"""Approval's word for each step it sees a request at; from DEVELOP on, dev_tracking follows
the tests, and approval knows only that the request is ASSIGNED until it is COMPLETED."""

_STEP: dict[Status, StepCode] = {
    **{status: code for code, status in _STATUS.items() if status != "ABSENT"},
    "RETURNED": "VERIFY",
}


def _status_at(at: Position) -> Status:
    if at.returned:
        return "RETURNED"
    if at.step in _STATUS:
        return _STATUS[at.step]
    assert step(at.step).number > step("DEVELOP").number  # a test, the manual or UAT
    return "ASSIGNED"


class ApprovalState(BaseModel):
    """One request as approval sees it. Frozen; ``evolve`` returns a new one per event."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    request_id: str | None = Field(default=None, description="The request; None while ABSENT")
    status: Status = Field(default="ABSENT", description="Where the request stands")
    opd: str | None = Field(default=None, description="The requesting agency's code")
    title: str | None = Field(default=None, description="The application's working title")
    needs_analysis: NeedsAnalysis | None = Field(
        default=None, description="The latest needs-analysis form, None until submitted"
    )
    business_process: BusinessProcess | None = Field(
        default=None, description="The latest business-process document, None until submitted"
    )
    disposition: Disposed | None = Field(default=None, description="Step 3's disposition")
    verification: DocumentsVerified | None = Field(default=None, description="Step 4's check")
    last_return: RequestReturned | None = Field(default=None, description="The latest return")
    returns: int = Field(default=0, ge=0, description="How many times it was returned")
    revisions: int = Field(default=0, ge=0, description="How many times it was revised")
    meeting: MeetingHeld | None = Field(default=None, description="Step 5's draft minutes")
    minutes: BAsigned | None = Field(default=None, description="Step 6's signed minutes")
    assignment: TaskAssigned | None = Field(
        default=None, description="Step 7's Surat Tugas: the latest, when a new one extended it"
    )
    letters: int = Field(default=0, ge=0, description="How many Surat Tugas were issued")
    rejection: RequestRejected | None = Field(default=None, description="Set when rejected")
    withdrawal: RequestWithdrawn | None = Field(default=None, description="Set when withdrawn")
    closed_at: StepCode | None = Field(
        default=None, description="The step the request was at when rejected or withdrawn"
    )

    @property
    def exists(self) -> bool:
        return self.status != "ABSENT"

    @property
    def closed(self) -> bool:
        return self.status in CLOSED

    @property
    def missing_sections(self) -> list[str]:
        """The form's missing sections now (all of them while the documents are unknown)."""
        return missing_sections(
            self.needs_analysis or NeedsAnalysis(), self.business_process or BusinessProcess()
        )


INITIAL = ApprovalState()
"""The state of a request approval has never heard of."""


def current_step(state: ApprovalState) -> StepCode | None:
    """The SOP step code the request is at; for a closed one, the step it was closed at.

    RETURNED is still step VERIFY (the check resumes after the revision), waiting on PEMOHON.
    None while the request does not exist.
    """
    if state.closed:
        return state.closed_at
    return _STEP.get(state.status)


def who_must_act(state: ApprovalState) -> Role | None:
    """The role the request waits on, or None when it is closed or does not exist."""
    code = _STEP.get(state.status)
    if code is None or state.closed:
        return None
    return waits_on(code, returned=state.status == "RETURNED")


def _moved(state: ApprovalState, event: DomainEvent, **changes: object) -> ApprovalState:
    """``state`` with ``changes`` and, unless it is closed, the status after ``event``."""
    if state.closed:  # the first ending stands
        return state.model_copy(update=changes)
    at = Position(step=_STEP.get(state.status, "SUBMIT"), returned=state.status == "RETURNED")
    return state.model_copy(update={**changes, "status": _status_at(move(at, event))})


def _close(state: ApprovalState, status: Status, **changes: object) -> ApprovalState:
    if state.closed:  # the first ending stands; a late one (a race) changes nothing
        return state
    return state.model_copy(update={"status": status, "closed_at": current_step(state), **changes})


def evolve(state: ApprovalState, event: DomainEvent) -> ApprovalState:
    """The state after ``event``. Events approval does not care about leave it unchanged."""
    request_id = getattr(event, "request_id", None)
    if request_id is None:
        return state
    if state.request_id is not None and request_id != state.request_id:
        raise ValueError(f"event of request {request_id} folded into {state.request_id}")
    if state.request_id is None:
        state = state.model_copy(update={"request_id": request_id})
    match event:
        case RequestSubmitted():
            if state.opd is not None:  # a request is submitted once; revisions come as such
                return state
            return _moved(
                state,
                event,
                opd=event.opd,
                title=event.title,
                needs_analysis=event.needs_analysis,
                business_process=event.business_process,
            )
        case RequestReceived() | RequestCompleted():
            return _moved(state, event)
        case RequestRevised():
            return _revise(state, event)
        case RequestWithdrawn():
            return _close(state, "WITHDRAWN", withdrawal=event)
        case Disposed():
            return _moved(state, event, disposition=event)
        case DocumentsVerified():
            return _moved(state, event, verification=event)
        case RequestReturned():
            return _moved(state, event, last_return=event, returns=state.returns + 1)
        case MeetingHeld():
            return _moved(state, event, meeting=event)
        case BAsigned():
            return _moved(state, event, minutes=event)
        case TaskAssigned():
            return _moved(state, event, assignment=event, letters=state.letters + 1)
        case RequestRejected():
            return _close(state, "REJECTED", rejection=event)
    return state


def _revise(state: ApprovalState, event: RequestRevised) -> ApprovalState:
    changes: dict[str, object] = {"revisions": state.revisions + 1}
    for name in ("title", "needs_analysis", "business_process"):
        value = getattr(event, name)
        if value is not None:
            changes[name] = value
    return _moved(state, event, **changes)


def fold(events: Iterable[DomainEvent], state: ApprovalState = INITIAL) -> ApprovalState:
    """The state after all ``events``, in order, starting from ``state`` (default: absent)."""
    for event in events:
        state = evolve(state, event)
    return state
