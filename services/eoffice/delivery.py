"""Deliveries of status changes to the e-office: what is posted, and what follows an attempt or an
admin's re-send. Pure.

A delivery is one ``CaseStatusChanged`` of one request, posted as a ``StatusNotice`` body (the
same bytes on every attempt). Its states:

- ``PENDING``: to be posted when its next attempt is due **and** the request's previous change
  (``sequence - 1``) is ``DELIVERED``; so a request's changes reach the e-office strictly in
  order, and a change waits behind an earlier one that is still being retried or is parked.
- ``DELIVERED``: the callback answered 2xx. Final.
- ``PARKED``: ``budget`` attempts failed. The request's later changes wait behind it (they are
  never sent past it, so the order never breaks) until an admin re-sends it: it is then
  ``PENDING`` again with a fresh budget, and once delivered the ones behind it follow.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from events.base import DomainEvent
from events.eoffice import StatusDelivered, StatusDeliveryParked
from events.reporting import CaseStatusChanged
from infra.errors import DomainError, NotFound
from services.eoffice.backoff import RetryPolicy

DeliveryState = Literal["PENDING", "DELIVERED", "PARKED"]

ERROR_LIMIT = 300
"""The longest error text kept for an attempt."""


class StatusNotice(BaseModel):
    """The JSON body Jejak posts to the e-office's callback URL: one status change of one
    request. ``delivery_id`` is the same on every attempt and re-send of this change."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    delivery_id: UUID = Field(description="This change's delivery; de-duplicate on it")
    type: Literal["CaseStatusChanged"] = Field(
        default="CaseStatusChanged", description="What the body carries"
    )
    schema_version: int = Field(ge=1, description="The version of the shape of `change`")
    tenant: str = Field(min_length=1, max_length=64, description="The regency, e.g. katingan")
    change: CaseStatusChanged = Field(description="The status change")


def notice_body(delivery_id: UUID, tenant: str, change: CaseStatusChanged) -> bytes:
    """The bytes posted for ``change`` (compact JSON, UTF-8)."""
    notice = StatusNotice(
        delivery_id=delivery_id,
        schema_version=change.schema_version,
        tenant=tenant,
        change=change,
    )
    return notice.model_dump_json().encode()


@dataclass(frozen=True)
class AttemptResult:
    """What one attempt got: the HTTP status if an answer came, and what went wrong if it failed."""

    http_status: int | None
    error: str | None = None

    @property
    def accepted(self) -> bool:
        return self.http_status is not None and 200 <= self.http_status < 300

    @property
    def problem(self) -> str:
        """One line saying why the attempt failed."""
        flat = " ".join((self.error or f"HTTP {self.http_status}").split())
        return (flat or "failed")[:ERROR_LIMIT]


@dataclass(frozen=True)
class Due:
    """A claimed delivery, with the number of its attempt now being made."""

    delivery_id: UUID
    tenant: str
    request_id: str
    sequence: int
    correlation_id: UUID
    body: bytes
    attempts: int
    """Attempts since recorded or last re-sent, this one included."""
    total_attempts: int
    """Every attempt ever made, this one included."""


@dataclass(frozen=True)
class Outcome:
    """The delivery after an attempt: its new state, when to try again, the audit event."""

    state: DeliveryState
    next_attempt_at: dt.datetime | None = None
    event: DomainEvent | None = None


def after_attempt(
    due: Due, result: AttemptResult, policy: RetryPolicy, now: dt.datetime
) -> Outcome:
    """Delivered on 2xx; parked once the budget is spent; otherwise due again after backoff."""
    if result.accepted:
        assert result.http_status is not None
        delivered = StatusDelivered(
            request_id=due.request_id,
            delivery_id=due.delivery_id,
            sequence=due.sequence,
            attempts=due.attempts,
            http_status=result.http_status,
        )
        return Outcome("DELIVERED", event=delivered)
    if policy.exhausted(due.attempts):
        parked = StatusDeliveryParked(
            request_id=due.request_id,
            delivery_id=due.delivery_id,
            sequence=due.sequence,
            attempts=due.attempts,
            last_http_status=result.http_status,
            last_error=result.problem,
        )
        return Outcome("PARKED", event=parked)
    wait = dt.timedelta(seconds=policy.wait_after(due.attempts))
    return Outcome("PENDING", next_attempt_at=now + wait)


class DeliveryNotFound(NotFound):
    def __init__(self, delivery_id: UUID) -> None:
        super().__init__(f"Pengiriman {delivery_id} tidak dikenal.")

    def detail(self) -> dict[str, object]:
        return {"message": self.message, "field": "delivery_id"}


class NotParked(DomainError):
    """Only a parked delivery can be re-sent: 409, naming its state."""

    status = 409

    def __init__(self, state: DeliveryState) -> None:
        why = {
            "DELIVERED": "sudah diterima e-office",
            "PENDING": "masih dalam antrean pengiriman",
            "PARKED": "",
        }[state]
        super().__init__(f"Hanya pengiriman yang diparkir yang dapat dikirim ulang; ini {why}.")
        self.state = state

    def detail(self) -> dict[str, object]:
        return {"message": self.message, "state": self.state}


def check_resend(state: DeliveryState) -> None:
    """Refuse (409) a re-send of a delivery that is not parked."""
    if state != "PARKED":
        raise NotParked(state)
