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
from events.steps import StepCode

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

_STEP: dict[Status, StepCode] = {
    "SUBMITTED": "RECEIVE",
    "AWAITING_DISPOSITION": "DISPOSE",
    "AWAITING_VERIFICATION": "VERIFY",
    "RETURNED": "VERIFY",
    "AWAITING_MEETING": "MEETING",
    "AWAITING_SIGNATURE": "SIGN_MINUTES",
    "AWAITING_ASSIGNMENT": "ASSIGN",
    "ASSIGNED": "DEVELOP",
    "COMPLETED": "DONE",
}

_WHO: dict[Status, Role] = {
    "SUBMITTED": "KADIS",
    "AWAITING_DISPOSITION": "KADIS",
    "AWAITING_VERIFICATION": "KABID_TI",
    "RETURNED": "PEMOHON",
    "AWAITING_MEETING": "KABID_TI",
    "AWAITING_SIGNATURE": "KABID_TI",
    "AWAITING_ASSIGNMENT": "KADIS",
    "ASSIGNED": "TIM_PENGEMBANG",
}


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
    return _WHO.get(state.status)


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
            status: Status = "SUBMITTED" if state.status == "ABSENT" else state.status
            return state.model_copy(
                update={
                    "status": status,
                    "opd": event.opd,
                    "title": event.title,
                    "needs_analysis": event.needs_analysis,
                    "business_process": event.business_process,
                }
            )
        case RequestReceived():
            if state.status in ("ABSENT", "SUBMITTED"):
                return state.model_copy(update={"status": "AWAITING_DISPOSITION"})
            return state
        case RequestRevised():
            return _revise(state, event)
        case RequestWithdrawn():
            return _close(state, "WITHDRAWN", withdrawal=event)
        case Disposed():
            return state.model_copy(
                update={"status": "AWAITING_VERIFICATION", "disposition": event}
            )
        case DocumentsVerified():
            return state.model_copy(update={"status": "AWAITING_MEETING", "verification": event})
        case RequestReturned():
            return state.model_copy(
                update={"status": "RETURNED", "last_return": event, "returns": state.returns + 1}
            )
        case MeetingHeld():
            return state.model_copy(update={"status": "AWAITING_SIGNATURE", "meeting": event})
        case BAsigned():
            return state.model_copy(update={"status": "AWAITING_ASSIGNMENT", "minutes": event})
        case TaskAssigned():
            status = "COMPLETED" if state.status == "COMPLETED" else "ASSIGNED"
            return state.model_copy(
                update={"status": status, "assignment": event, "letters": state.letters + 1}
            )
        case RequestCompleted():
            if state.status == "ASSIGNED":
                return state.model_copy(update={"status": "COMPLETED"})
            return state
        case RequestRejected():
            return _close(state, "REJECTED", rejection=event)
    return state


def _revise(state: ApprovalState, event: RequestRevised) -> ApprovalState:
    changes: dict[str, object] = {"revisions": state.revisions + 1}
    for name in ("title", "needs_analysis", "business_process"):
        value = getattr(event, name)
        if value is not None:
            changes[name] = value
    if state.status == "RETURNED":
        changes["status"] = "AWAITING_VERIFICATION"
    return state.model_copy(update=changes)


def fold(events: Iterable[DomainEvent], state: ApprovalState = INITIAL) -> ApprovalState:
    """The state after all ``events``, in order, starting from ``state`` (default: absent)."""
    for event in events:
        state = evolve(state, event)
    return state
