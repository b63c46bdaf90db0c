"""One request as intake sees it, rebuilt from events: ``evolve`` one event, ``fold`` many.

A request that does not exist is ``None``. Intake's own events (``events.intake``) build and change
the request; of the approval service's events (the only topic intake consumes), those that move
the request along are followed so that intake knows where the request stands:

    (none) --RequestSubmitted--> OPEN/RECEIVE --RequestReceived--> OPEN/DISPOSE
    --Disposed--> OPEN/VERIFY --RequestReturned--> RETURNED/VERIFY --RequestRevised--> OPEN/VERIFY
    (the return-and-revise loop, as often as KABID_TI returns it)
    --DocumentsVerified--> OPEN/MEETING --MeetingHeld--> OPEN/SIGN_MINUTES --BAsigned--> OPEN/ASSIGN
    --TaskAssigned--> ASSIGNED/DEVELOP (handed to dev_tracking; intake's view ends here)
    any open status --RequestWithdrawn--> WITHDRAWN; --RequestRejected--> REJECTED

WITHDRAWN and REJECTED are final: a later event of another service (one that crossed the
withdrawal on the wire) leaves them as they are. Events intake does not follow are ignored. The
step is the SOP table's (``events.sop.move``); the status is intake's own word for where it is.
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
from events.base import DomainEvent, ValueObject
from events.completeness import missing_sections
from events.fields import MAX_LIST, DocumentNumber, Line, Name, OpdCode, RequestId, Text, UserId
from events.intake import (
    MAX_ATTACHMENTS,
    Attachment,
    BusinessProcess,
    NeedsAnalysis,
    RequestLetter,
    RequestReceived,
    RequestRevised,
    RequestSubmitted,
    RequestWithdrawn,
)
from events.sop import START, Position, move, waits_on
from events.steps import StepCode, StepRole

Status = Literal["OPEN", "RETURNED", "ASSIGNED", "WITHDRAWN", "REJECTED"]
"""OPEN: in intake or approval; RETURNED: waiting on the requester's revision; ASSIGNED: handed
to the development team; WITHDRAWN / REJECTED: closed for good."""

CLOSED: frozenset[Status] = frozenset({"WITHDRAWN", "REJECTED"})
"""The final statuses."""


class InconsistentHistory(ValueError):
    """The events cannot be one request's history (a bug in whoever passed them, never input)."""


class Return(ValueObject):
    """One return of the request to the requester at step 4."""

    reasons: tuple[Line, ...] = Field(max_length=MAX_LIST, description="Why, one per item")
    missing_sections: tuple[str, ...] = Field(
        max_length=MAX_LIST, description="Sections KABID_TI found missing"
    )


class RequestState(BaseModel):
    """A request as intake knows it: its documents as last revised, and where it stands."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    request_id: RequestId = Field(description="The request's id (its stream id)")
    opd: OpdCode = Field(description="The requesting agency")
    status: Status = Field(description="OPEN, RETURNED, ASSIGNED, WITHDRAWN or REJECTED")
    step: StepCode = Field(description="The step the request is at (or was at when closed)")
    title: Name = Field(description="The application's working title")
    summary: Text = Field(description="A short description of the request")
    letter: RequestLetter = Field(description="The request letter")
    needs_analysis: NeedsAnalysis = Field(description="The needs-analysis form")
    business_process: BusinessProcess = Field(description="The business-process document")
    attachments: tuple[Attachment, ...] = Field(
        max_length=MAX_ATTACHMENTS, description="The current attachments"
    )
    submitted_via: Literal["WEB", "EOFFICE"] = Field(description="Where it was submitted")
    eoffice_letter_id: str | None = Field(description="The e-office letter id, if any")
    received_by: UserId | None = Field(default=None, description="Who received it at step 2")
    agenda_number: DocumentNumber | None = Field(default=None, description="Incoming register no.")
    returns: tuple[Return, ...] = Field(default=(), description="Every return, oldest first")
    revisions: int = Field(default=0, ge=0, description="How many times it was revised")
    closing_reason: Text | None = Field(
        default=None, description="Why it was withdrawn or rejected, once it is"
    )

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED

    @property
    def missing_sections(self) -> list[str]:
        """The sections of the current documents that are absent (``events.completeness``)."""
        return missing_sections(self.needs_analysis, self.business_process)


def _moved(state: RequestState, event: DomainEvent, **changes: object) -> RequestState:
    """``state`` with ``changes`` and the step after ``event`` (``events.sop``)."""
    at = Position(step=state.step, returned=state.status == "RETURNED")
    return state.model_copy(update={**changes, "step": move(at, event).step})


def _submitted(event: RequestSubmitted) -> RequestState:
    return RequestState(
        request_id=event.request_id,
        opd=event.opd,
        status="OPEN",
        step=move(START, event).step,
        title=event.title,
        summary=event.summary,
        letter=event.letter,
        needs_analysis=event.needs_analysis,
        business_process=event.business_process,
        attachments=event.attachments,
        submitted_via=event.submitted_via,
        eoffice_letter_id=event.eoffice_letter_id,
    )


def _revised(state: RequestState, event: RequestRevised) -> RequestState:
    changes = {
        name: getattr(event, name)
        for name in (
            "title",
            "summary",
            "letter",
            "needs_analysis",
            "business_process",
            "attachments",
        )
        if getattr(event, name) is not None
    }
    return _moved(state, event, **changes, status="OPEN", revisions=state.revisions + 1)


def _own(state: RequestState, event: DomainEvent) -> RequestState:
    """Apply one of intake's own events, which ``decide`` allowed against this very state."""
    match event:
        case RequestSubmitted():
            raise InconsistentHistory(f"request {state.request_id} submitted twice")
        case RequestReceived():
            return _moved(
                state, event, received_by=event.received_by, agenda_number=event.agenda_number
            )
        case RequestRevised():
            return _revised(state, event)
        case RequestWithdrawn():
            return state.model_copy(update={"status": "WITHDRAWN", "closing_reason": event.reason})
    raise AssertionError(f"not an intake event: {event.event_type()}")  # pragma: no cover


def _foreign(state: RequestState, event: DomainEvent) -> RequestState:
    """Follow an approval event; a closed request stays as it is."""
    if state.is_closed:
        return state
    match event:
        case RequestReturned():
            back = Return(reasons=event.reasons, missing_sections=event.missing_sections)
            return _moved(state, event, status="RETURNED", returns=(*state.returns, back))
        case RequestRejected():
            return state.model_copy(update={"status": "REJECTED", "closing_reason": event.reason})
        case TaskAssigned():
            return _moved(state, event, status="ASSIGNED")
    return _moved(state, event)


_OWN: tuple[type[DomainEvent], ...] = (
    RequestSubmitted,
    RequestReceived,
    RequestRevised,
    RequestWithdrawn,
)
_FOLLOWED: tuple[type[DomainEvent], ...] = (
    Disposed,
    DocumentsVerified,
    RequestReturned,
    MeetingHeld,
    BAsigned,
    TaskAssigned,
    RequestRejected,
)

FOLLOWED_EVENT_TYPES: frozenset[str] = frozenset(e.event_type() for e in _FOLLOWED)
"""The other services' event types ``evolve`` follows; it ignores every other foreign event."""


def evolve(state: RequestState | None, event: DomainEvent) -> RequestState | None:
    """The request after ``event``. ``None`` is a request that does not exist (yet)."""
    if not isinstance(event, _OWN + _FOLLOWED):
        return state
    request_id: str = getattr(event, "request_id")  # noqa: B009 - every followed event has one
    if state is None:
        if isinstance(event, RequestSubmitted):
            return _submitted(event)
        if isinstance(event, _OWN):
            raise InconsistentHistory(f"{event.event_type()} before RequestSubmitted")
        return None  # another service's event about a request intake never saw
    if request_id != state.request_id:
        raise InconsistentHistory(
            f"{event.event_type()} of request {request_id} in the history of {state.request_id}"
        )
    if isinstance(event, _OWN):
        return _own(state, event)
    return _foreign(state, event)


def fold(events: Iterable[DomainEvent]) -> RequestState | None:
    """The request after all ``events`` in order, starting from "does not exist"."""
    state: RequestState | None = None
    for event in events:
        state = evolve(state, event)
    return state


def current_step(state: RequestState | None) -> StepCode:
    """The step the request is at: SUBMIT before it exists; where it stopped once closed."""
    return "SUBMIT" if state is None else state.step


def who_must_act(state: RequestState | None) -> StepRole | None:
    """The role the request waits on: the requester while returned, else the step's actor.

    ``None`` when the request does not exist or is closed. After TaskAssigned intake no longer
    follows the request and answers for step DEVELOP (the team).
    """
    if state is None or state.is_closed:
        return None
    return waits_on(state.step, returned=state.status == "RETURNED")
