"""Events emitted by the reporting service (topic ``jejak.reporting.events``).

Stream: one per request (stream id = ``request_id``) in reporting's own store.
"""

from typing import Literal, Self
from uuid import UUID

from pydantic import AwareDatetime, Field, model_validator

from events.base import DomainEvent, ValueObject
from events.fields import MAX_LIST, OpdCode, RequestId
from events.steps import StepCode, StepRole

RequestStatus = Literal["OPEN", "RETURNED", "REJECTED", "WITHDRAWN", "COMPLETED"]
"""Where a request stands: OPEN (moving through the SOP), RETURNED (waiting on the requester's
revision at step 4), or closed for good: REJECTED, WITHDRAWN, COMPLETED."""


class SlaBreached(DomainEvent):
    """A step overran its standard (working) time; the actor and the supervisor are notified."""

    request_id: RequestId = Field(description="The request that is late")
    step: StepCode = Field(description="The step that overran, e.g. VERIFY")
    due_at: AwareDatetime = Field(description="When the step was due, in working time")
    breached_at: AwareDatetime = Field(description="When the breach was detected")
    responsible_role: StepRole = Field(description="The role the step waits on")
    supervisor_role: StepRole | None = Field(
        default=None, description="The role notified besides it; None if outside the system"
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.breached_at < self.due_at:
            raise ValueError("breached_at must not be before due_at")
        return self


class StepRef(ValueObject):
    """One step of the SOP, as a person reads it."""

    code: StepCode = Field(description="The step's stable code, e.g. VERIFY")
    number: int = Field(ge=1, le=14, description="The project's step number, 1 to 14 in order")
    label: str = Field(min_length=1, max_length=200, description="The SOP's label (Indonesian)")


class CaseStatusChanged(DomainEvent):
    """A request's status, its step or the role it waits on changed.

    Emitted by reporting, the one service that sees a request's events from every service, in
    the transaction that projects the event that caused the change: exactly once per change.
    ``sequence`` numbers one request's changes 1, 2, 3... without gaps, and each change starts
    where the one before it ended (``previous_*`` of change n+1 = the new values of change n).
    """

    request_id: RequestId = Field(description="The request (its stream id in every service)")
    opd: OpdCode | None = Field(description="The requesting agency's code; None if not yet known")
    eoffice_letter_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="The e-office's id of the letter the request came from; None if it was "
        "submitted through Jejak itself",
    )
    sequence: int = Field(ge=1, description="This change's number for the request: 1, 2, 3...")
    previous_status: RequestStatus | None = Field(
        description="The status before the change; None for the request's first change"
    )
    status: RequestStatus = Field(description="The status after the change")
    previous_step: StepRef | None = Field(
        description="The step before the change; None for the request's first change"
    )
    step: StepRef = Field(description="The step after the change (where a closed request ended)")
    who_must_act: StepRole | None = Field(
        description="The role the request now waits on; None once closed"
    )
    document_numbers: tuple[str, ...] = Field(
        default=(),
        max_length=MAX_LIST,
        description="The numbers of the documents the causing event produced or names "
        "(Disposisi, Berita Acara, Surat Tugas, test minutes...), if any",
    )
    cause_event_id: UUID = Field(description="The event that caused the change")
    cause_event_type: str = Field(
        min_length=1, max_length=100, description="Its type, e.g. DocumentsVerified"
    )
    cause_occurred_at: AwareDatetime = Field(description="When the causing event happened")

    @model_validator(mode="after")
    def _check(self) -> Self:
        first = self.sequence == 1
        if first != (self.previous_status is None) or first != (self.previous_step is None):
            raise ValueError("exactly the first change (sequence 1) has no previous status/step")
        return self
