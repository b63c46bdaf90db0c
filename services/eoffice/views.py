"""What the admin API answers and takes."""

import datetime as dt
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from events.fields import Line
from events.reporting import CaseStatusChanged
from services.eoffice.delivery import DeliveryState


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DeliveryView(_Frozen):
    """One status change on its way to the e-office."""

    delivery_id: UUID = Field(description="The delivery (= the CaseStatusChanged's event id)")
    tenant: str = Field(description="The regency")
    request_id: str = Field(description="The request the change is about")
    sequence: int = Field(description="The change's number for the request: 1, 2, 3...")
    state: DeliveryState = Field(description="PENDING, DELIVERED or PARKED")
    attempts: int = Field(description="Attempts since recorded or last re-sent")
    total_attempts: int = Field(description="Every attempt ever made")
    next_attempt_at: dt.datetime | None = Field(description="When it is tried next (PENDING)")
    waiting_for_sequence: int | None = Field(
        description="PENDING behind the request's earlier change of this number, not yet "
        "delivered (being retried or parked); None if not waiting on one"
    )
    last_http_status: int | None = Field(description="The last attempt's answer, if one came")
    last_error: str | None = Field(description="What went wrong on the last failed attempt")
    recorded_at: dt.datetime = Field(description="When the change was scheduled")
    delivered_at: dt.datetime | None = Field(description="When the e-office accepted it")
    parked_at: dt.datetime | None = Field(description="When it was last parked")
    resends: int = Field(description="How many times an admin re-sent it")
    resent_by: str | None = Field(description="The admin who last re-sent it")
    resent_at: dt.datetime | None = Field(description="When it was last re-sent")


class AttemptView(_Frozen):
    attempt: int = Field(description="The attempt's number over the delivery's life")
    started_at: dt.datetime
    finished_at: dt.datetime
    http_status: int | None = Field(description="The e-office's answer; None if none came")
    error: str | None = Field(description="Why it failed; None if accepted")


class DeliveryDetail(DeliveryView):
    """A delivery with what it carries and every attempt."""

    change: CaseStatusChanged = Field(description="The status change posted")
    attempt_log: list[AttemptView] = Field(description="Every attempt, oldest first")


class DeliveryList(_Frozen):
    callback_configured: bool = Field(
        description="False: EOFFICE_CALLBACK_URL is unset, deliveries are recorded, not sent"
    )
    items: list[DeliveryView]


class ResendData(_Frozen):
    note: Line | None = Field(default=None, description="Why it is sent again (kept in the audit)")
