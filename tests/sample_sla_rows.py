"""Two SLA rows of one request as the projection computes them: a finished VERIFY with a pause,
and an open UNIT_TEST past due, each due instant in WIB as the calendar gives it."""

import datetime as dt

from events.steps import step
from services.reporting.sla import Pause, SlaRow

RID = "0b5a3f0e-4c1d-4a8e-9d21-7f3c2b1a0e11"
UTC, WIB = dt.UTC, dt.timezone(dt.timedelta(hours=7))


def visit(code: str, **values: object) -> SlaRow:
    s = step(code)
    assert s.actor_role is not None
    return SlaRow.model_validate(
        {
            "request_id": RID,
            "opd": "DINKES",
            "step": s.code,
            "step_number": s.number,
            "sop_number": s.sop_number,
            "label_id": s.label_id,
            "label_en": s.label_en,
            "attempt": 1,
            "responsible_role": s.actor_role,
            "supervisor_role": s.supervisor_role,
            "standard_minutes": s.standard_minutes,
            "failed_runs": 0,
            **values,
        }
    )


ROWS = [
    visit(
        "VERIFY",
        started_at=dt.datetime(2024, 1, 8, 2, 0, tzinfo=UTC),
        due_at=dt.datetime(2024, 1, 10, 15, 0, tzinfo=WIB),
        finished_at=dt.datetime(2024, 1, 10, 3, 0, tzinfo=UTC),
        ended_by="DocumentsVerified",
        used_minutes=600,
        paused_minutes=240,
        pauses=(
            Pause(
                started_at=dt.datetime(2024, 1, 8, 4, 0, tzinfo=UTC),
                ended_at=dt.datetime(2024, 1, 8, 8, 0, tzinfo=UTC),
                minutes=240,
            ),
        ),
        status="ON_TIME",
    ),
    visit(
        "UNIT_TEST",
        started_at=dt.datetime(2024, 2, 1, 2, 0, tzinfo=UTC),
        due_at=dt.datetime(2024, 2, 5, 14, 30, tzinfo=WIB),
        finished_at=None,
        ended_by=None,
        used_minutes=1200,
        paused_minutes=0,
        pauses=(),
        failed_runs=2,
        status="RUNNING_LATE",
    ),
]
