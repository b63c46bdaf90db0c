"""Events emitted by the dev_tracking service (topic ``jejak.dev_tracking.events``), steps 8-13.

Stream: one per request (stream id = ``request_id``).
"""

import datetime as dt
from typing import ClassVar, Literal

from pydantic import Field

from events.base import DomainEvent
from events.fields import MAX_LIST, DocumentNumber, EntityId, Line, Name, RequestId, Text, UserId
from events.intake import Attachment

TestKind = Literal["SYSTEM", "UNIT", "INTEGRATION"]
"""The three tests the SOP requires: steps 9, 10 and 11."""

Severity = Literal["LOW", "MEDIUM", "HIGH", "CRITICAL"]
"""How badly a problem hinders the development."""


class DevelopmentStarted(DomainEvent):
    """Step 8: the team started building the application."""

    request_id: RequestId = Field(description="The request under development")
    started_on: dt.date = Field(description="The day development started")


class ProgressReported(DomainEvent):
    """Step 8: the team reported progress.

    Schema version 2 added the required ``note``; a version-1 payload is upcast by
    ``events.catalog`` with ``note`` set to ``NOTE_ABSENT`` ("-", the office's mark for "none").
    """

    schema_version: ClassVar[int] = 2

    request_id: RequestId = Field(description="The request under development")
    percent: int = Field(ge=0, le=100, description="Estimated completion, 0 to 100")
    note: Text = Field(description="What was done since the last report (since schema v2)")


NOTE_ABSENT = "-"
"""The ``note`` given to a ProgressReported v1 payload, which had none."""


class ProblemRecorded(DomainEvent):
    """The team recorded a problem (the SOP's "rekam masalah")."""

    request_id: RequestId = Field(description="The request under development")
    problem_id: EntityId = Field(description="The problem's id, unique within the request")
    description: Text = Field(description="What the problem is")
    severity: Severity = Field(description="LOW, MEDIUM, HIGH or CRITICAL")


class ProblemSolved(DomainEvent):
    """The team recorded the solution of a problem (the SOP's "rekam solusi")."""

    request_id: RequestId = Field(description="The request under development")
    problem_id: EntityId = Field(description="The problem solved")
    solution: Text = Field(description="How it was solved")


class TestPassed(DomainEvent):
    """Steps 9-11: a test passed; its minutes (Berita Acara) were recorded."""

    __test__ = False  # not a pytest test class

    request_id: RequestId = Field(description="The request tested")
    kind: TestKind = Field(description="SYSTEM, UNIT or INTEGRATION")
    minutes_number: DocumentNumber | None = Field(
        default=None,
        description="Number of the test minutes as typed; None: the documents service numbers "
        "them from its register",
    )
    findings: tuple[Line, ...] = Field(
        default=(), max_length=MAX_LIST, description="Minor findings that did not fail the test"
    )
    tested_on: dt.date = Field(description="The day of the test")


class TestFailed(DomainEvent):
    """Steps 9-11: a test failed; it must be re-run and pass before the request moves on."""

    __test__ = False  # not a pytest test class

    request_id: RequestId = Field(description="The request tested")
    kind: TestKind = Field(description="SYSTEM, UNIT or INTEGRATION")
    minutes_number: DocumentNumber | None = Field(
        default=None,
        description="Number of the test minutes as typed; None: the documents service numbers "
        "them from its register",
    )
    findings: tuple[Line, ...] = Field(
        min_length=1, max_length=MAX_LIST, description="What failed, one finding per item"
    )
    tested_on: dt.date = Field(description="The day of the test")


class ManualPublished(DomainEvent):
    """Step 12 (the SOP's second "11"): the manual book was published."""

    request_id: RequestId = Field(description="The request whose application it documents")
    title: Name = Field(description="The manual's title")
    document: Attachment = Field(description="The manual file, by content hash")
    version: str = Field(
        min_length=1,
        max_length=32,
        pattern=r"^[0-9A-Za-z][0-9A-Za-z.+-]*$",
        description="The manual's version, e.g. 1.0",
    )


class UATAccepted(DomainEvent):
    """Step 13: the requesting agency accepted the application in UAT."""

    request_id: RequestId = Field(description="The request accepted")
    minutes_number: DocumentNumber | None = Field(
        default=None,
        description="Number of the UAT minutes (BA UAT) as typed; None: the documents service "
        "numbers them from its register",
    )
    accepted_by: UserId = Field(description="The requester's user who accepted")
    notes: Text | None = Field(default=None, description="Remarks, if any")


class UATRejected(DomainEvent):
    """Step 13: the requesting agency rejected the application; the team must fix and retry."""

    request_id: RequestId = Field(description="The request rejected in UAT")
    minutes_number: DocumentNumber | None = Field(
        default=None,
        description="Number of the UAT minutes (BA UAT) as typed; None: the documents service "
        "numbers them from its register",
    )
    findings: tuple[Line, ...] = Field(
        min_length=1, max_length=MAX_LIST, description="What must change, one finding per item"
    )


class RequestCompleted(DomainEvent):
    """Step 14: the request is done."""

    request_id: RequestId = Field(description="The request completed")
    completed_on: dt.date = Field(description="The day it was completed")
