"""The commands dev_tracking takes, for SOP steps 8 to 13.

Each is frozen and refuses unknown fields; every field has limits. Rules that need the request's
state (the step it is at, the team, the last progress, the open problems, the test order) and rules
that tie one field to another (a failed test needs findings) are checked by ``decide``, so that the
refusal names the field at fault as ``InvalidInput(field=...)``.

Each command is the body a caller sends (``StartBody``, ``ProgressBody``, ...) plus the ids that
an HTTP path gives (``request_id``, and ``problem_id`` for ``SolveProblem``), so that the entry
points take exactly the body and the domain keeps one definition of every field.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from events.dev_tracking import Severity, TestKind
from events.fields import MAX_LIST, Day, DocumentNumber, EntityId, Line, Name, RequestId, Text
from events.intake import Attachment

TestResult = Literal["PASSED", "FAILED"]
"""The outcome of a system, unit or integration test."""

UatResult = Literal["ACCEPTED", "REJECTED"]
"""The outcome of the User Acceptance Test."""


class Body(BaseModel):
    """What a caller sends for a command, without the ids its HTTP path gives. Frozen; unknown
    fields refused. Each command below is its body plus ``request_id`` (and for ``SolveProblem``
    the ``problem_id``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Command(Body):
    """Base of dev_tracking's commands: frozen, unknown fields refused, aimed at one request."""

    request_id: RequestId = Field(description="The request the command acts on")


class StartBody(Body):
    """Step 8: the assigned team starts building the application."""

    started_on: Day = Field(description="The day development started; not in the future")


class StartDevelopment(Command, StartBody):
    """Step 8: start the development of the request (``StartBody``)."""


class ProgressBody(Body):
    """Step 8: the team reports how far the development is."""

    percent: int = Field(
        ge=0, le=100, description="Estimated completion, 0 to 100; never below the last report"
    )
    note: Text = Field(description="What was done since the last report")


class ReportProgress(Command, ProgressBody):
    """Step 8: report the development's progress on the request (``ProgressBody``)."""


class ProblemBody(Body):
    """The team records a problem met during development (the SOP's "rekam masalah")."""

    description: Text = Field(description="What the problem is")
    severity: Severity = Field(description="LOW, MEDIUM, HIGH or CRITICAL")


class RecordProblem(Command, ProblemBody):
    """Record a problem met while developing the request (``ProblemBody``)."""


class SolutionBody(Body):
    """The team records how an open problem was solved (the SOP's "rekam solusi")."""

    solution: Text = Field(description="How it was solved")


class SolveProblem(Command, SolutionBody):
    """Record the solution of one open problem of the request (``SolutionBody``)."""

    problem_id: EntityId = Field(description="The open problem solved, as ProblemRecorded gave it")


class TestResultBody(Body):
    """Steps 9-11: the team records a test and its minutes (Berita Acara).

    The tests run in the SOP's order: SYSTEM, then UNIT, then INTEGRATION; a failed test must be
    re-run (same kind) until it passes before the next kind. After a rejected UAT the integration
    test is run again.
    """

    kind: TestKind = Field(description="SYSTEM, UNIT or INTEGRATION; the one the request is at")
    result: TestResult = Field(description="PASSED or FAILED")
    minutes_number: DocumentNumber | None = Field(
        default=None,
        description="Number of the test minutes, not used before in this request; empty: "
        "Jejak's register numbers them",
    )
    findings: tuple[Line, ...] = Field(
        default=(),
        max_length=MAX_LIST,
        description="One finding per item: required when FAILED, minor remarks when PASSED",
    )
    tested_on: Day = Field(
        description="The day of the test; not in the future nor before development started"
    )


class RecordTestResult(Command, TestResultBody):
    """Steps 9-11: record a test of the request (``TestResultBody``)."""


class ManualBody(Body):
    """Step 12 (the SOP's second "11"): the team publishes the manual book.

    Allowed once integration testing has passed; a later version may replace it until UAT is
    accepted (e.g. after a rejected UAT).
    """

    title: Name = Field(description="The manual's title")
    document: Attachment = Field(description="The manual file, by content hash")
    version: str = Field(
        min_length=1,
        max_length=32,
        pattern=r"^[0-9A-Za-z][0-9A-Za-z.+-]*$",
        description="The manual's version, e.g. 1.0; differs from the one published before",
    )


class PublishManual(Command, ManualBody):
    """Step 12: publish the request's manual book (``ManualBody``)."""


class UatBody(Body):
    """Step 13: the requesting agency (PEMOHON of the request's OPD) records the UAT outcome.

    ACCEPTED completes the request; REJECTED (with findings) sends the team back to development,
    after which the integration test is re-run before a new UAT.
    """

    result: UatResult = Field(description="ACCEPTED or REJECTED")
    minutes_number: DocumentNumber | None = Field(
        default=None,
        description="Number of the UAT minutes (BA UAT), not used before in this request; "
        "empty: Jejak's register numbers them",
    )
    findings: tuple[Line, ...] = Field(
        default=(),
        max_length=MAX_LIST,
        description="What must change, one per item: required when REJECTED, empty when ACCEPTED",
    )
    notes: Text | None = Field(
        default=None, description="Remarks with an acceptance; not allowed with a rejection"
    )


class RecordUat(Command, UatBody):
    """Step 13: record the request's UAT outcome (``UatBody``)."""


DevTrackingCommand = (
    StartDevelopment
    | ReportProgress
    | RecordProblem
    | SolveProblem
    | RecordTestResult
    | PublishManual
    | RecordUat
)
"""Every command dev_tracking takes."""
