"""Events emitted by the eoffice service (topic ``jejak.eoffice.events``): the audit of the status
deliveries to the tenant's e-office.

Stream: one per request (stream id = ``request_id``) in eoffice's own store. A delivery is one
``CaseStatusChanged`` posted to the e-office's callback URL; its id (``delivery_id``) is that
event's id, the same on every attempt and re-send.
"""

from uuid import UUID

from pydantic import Field

from events.base import DomainEvent
from events.fields import Line, RequestId, UserId


class StatusDelivered(DomainEvent):
    """The e-office's callback accepted a status change (it answered 2xx)."""

    request_id: RequestId = Field(description="The request the change is about")
    delivery_id: UUID = Field(description="The delivery (= the CaseStatusChanged's event id)")
    sequence: int = Field(ge=1, description="The change's number for the request")
    attempts: int = Field(ge=1, description="Attempts it took since recorded or last re-sent")
    http_status: int = Field(ge=200, le=299, description="The callback's answer")


class StatusDeliveryParked(DomainEvent):
    """A status change was not accepted within the retry budget: it waits for an admin, and
    the request's later changes wait behind it."""

    request_id: RequestId = Field(description="The request the change is about")
    delivery_id: UUID = Field(description="The delivery (= the CaseStatusChanged's event id)")
    sequence: int = Field(ge=1, description="The change's number for the request")
    attempts: int = Field(ge=1, description="Attempts made since recorded or last re-sent")
    last_http_status: int | None = Field(
        ge=100, le=599, description="The last attempt's answer; None if none came"
    )
    last_error: Line = Field(description="What went wrong on the last attempt")


class StatusDeliveryResent(DomainEvent):
    """An admin sent a parked status change again, with a fresh retry budget."""

    request_id: RequestId = Field(description="The request the change is about")
    delivery_id: UUID = Field(description="The delivery (= the CaseStatusChanged's event id)")
    sequence: int = Field(ge=1, description="The change's number for the request")
    resent_by: UserId = Field(description="The admin who asked for it (also the event's actor)")
    note: Line | None = Field(default=None, description="Why, in the admin's words")
