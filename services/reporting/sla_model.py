"""The SLA's values: a ``SlaRow`` per visit of a step, its ``Pause``s, and ``RequestSla``.

See ``services.reporting.sla`` for how they are computed and what each choice means.
"""

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from events.steps import StepCode, StepRole
from services.reporting.sla_steps import Outcome

SlaStatus = Literal["ON_TIME", "LATE", "RUNNING", "RUNNING_LATE", "PAUSED"]
"""ON_TIME / LATE: finished by / after the due instant. RUNNING: open, not yet due. RUNNING_LATE:
open and past due (breached). PAUSED: open, waiting on the requester, not yet due."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Pause(_Frozen):
    """A stretch during which the step's clock stood still."""

    started_at: AwareDatetime = Field(description="When the wait began (RequestReturned)")
    ended_at: AwareDatetime | None = Field(description="When it ended (RequestRevised); None: on")
    minutes: int = Field(ge=0, description="Office minutes paused (up to now if still on)")
    reason: Literal["RETURNED_TO_REQUESTER"] = Field(
        default="RETURNED_TO_REQUESTER", description="Why: the request waits on the requester"
    )


PAUSES = TypeAdapter(tuple[Pause, ...])
"""A row's pauses to and from JSON (``sla_rows.pauses``)."""


class SlaRow(_Frozen):
    """One visit of one step, measured against the step's standard working time."""

    request_id: str | None = Field(description="The request")
    opd: str | None = Field(description="The requesting agency, once known")
    step: StepCode = Field(description="The step's code, e.g. VERIFY")
    step_number: int = Field(description="The project's step number, 1-14")
    sop_number: str = Field(description="The SOP's own number (two steps are 11)")
    label_id: str = Field(description="The SOP's label (Indonesian)")
    label_en: str = Field(description="The step in English")
    attempt: int = Field(ge=1, description="1 for the first visit of this step, then 2, 3, ...")
    responsible_role: StepRole = Field(description="The role the step is charged to")
    supervisor_role: StepRole | None = Field(description="Also notified on a breach; None: none")
    standard_minutes: int = Field(ge=1, description="The SOP's standard, in office minutes")
    started_at: AwareDatetime = Field(description="When the request reached the step")
    due_at: AwareDatetime | None = Field(description="When it is due; None while paused")
    finished_at: AwareDatetime | None = Field(description="When it left the step; None: open")
    ended_by: str | None = Field(description="The event type that ended the visit")
    used_minutes: int = Field(ge=0, description="Office minutes on the clock (pauses excluded)")
    paused_minutes: int = Field(ge=0, description="Office minutes paused")
    pauses: tuple[Pause, ...] = Field(description="Every pause, in order")
    failed_runs: int = Field(ge=0, description="Failed test runs during this visit")
    status: SlaStatus = Field(description="ON_TIME, LATE, RUNNING, RUNNING_LATE or PAUSED")

    @property
    def finished(self) -> bool:
        return self.finished_at is not None

    @property
    def late(self) -> bool:
        return self.status in ("LATE", "RUNNING_LATE")


class RequestSla(_Frozen):
    """One request's SLA: every row, and the whole request's lead time."""

    request_id: str | None = Field(description="The request; None if no event was seen")
    opd: str | None = Field(description="The requesting agency, once known")
    outcome: Outcome = Field(description="OPEN, COMPLETED, REJECTED or WITHDRAWN")
    current_step: StepCode | None = Field(description="The step it is at (or ended at)")
    submitted_at: AwareDatetime | None = Field(description="RequestSubmitted's instant")
    ended_at: AwareDatetime | None = Field(description="When it was completed or closed")
    lead_minutes: int | None = Field(
        description="Office minutes from submission to the end (or now); None before submission"
    )
    waiting_minutes: int = Field(ge=0, description="Office minutes waiting on the requester")
    rows: tuple[SlaRow, ...] = Field(description="Every visit, in order")

    @property
    def net_lead_minutes(self) -> int | None:
        """The lead time without the waits on the requester."""
        return None if self.lead_minutes is None else self.lead_minutes - self.waiting_minutes
