"""Events emitted by the reporting service (topic ``jejak.reporting.events``).

Stream: one per request (stream id = ``request_id``) in reporting's own store.
"""

from typing import Self

from pydantic import AwareDatetime, Field, model_validator

from events.base import DomainEvent
from events.fields import RequestId
from events.steps import StepCode, StepRole


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
