"""The shapes of the case read model: ``CaseFile`` and its parts, and the list row ``CaseRow``.

Everything is frozen. ``CaseFile.history`` holds the envelopes the case was derived from, in the
canonical order of ``services.reporting.casefile``; every other field is a pure function of it.

``CaseFile`` and ``CaseRow`` are pydantic models. A case's parts (``Document``, ``ProblemEntry``,
``ReturnEntry``, ``Team``, ``TimelineEntry``) are plain frozen dataclasses: the fold builds them
from envelopes already validated, and a ``CaseFile`` takes them as they are; given as data (a
stored case's JSON or dicts) they are validated like any model, unknown fields refused.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Literal, Protocol
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from events.approval import Signatory
from events.dev_tracking import Severity, TestKind
from events.envelope import Actor, Envelope, Role
from events.sop import waits_on
from events.steps import STEPS, StepCode, step

CaseStatus = Literal["ABSENT", "OPEN", "RETURNED", "REJECTED", "WITHDRAWN", "COMPLETED"]
"""ABSENT: no event seen yet; OPEN: moving through the SOP; RETURNED: waiting on the requester's
revision at step 4; REJECTED / WITHDRAWN / COMPLETED: closed for good."""

CLOSED_STATUSES: frozenset[CaseStatus] = frozenset({"REJECTED", "WITHDRAWN", "COMPLETED"})
"""The final statuses: the first one reached stands."""

DocumentKind = Literal[
    "REQUEST_LETTER",
    "DISPOSITION",
    "DRAFT_MINUTES",
    "MINUTES",
    "ASSIGNMENT_LETTER",
    "TEST_MINUTES",
    "MANUAL",
    "UAT_MINUTES",
]
"""The documents the SOP produces: Surat Permohonan, Disposisi, Draft Berita Acara, Berita Acara,
Surat Tugas, Berita Acara System/Unit/Integration Testing, Manual Book, Berita Acara UAT."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


_PART_CONFIG = ConfigDict(extra="forbid")
"""How ``CaseFile`` validates its parts when they come as data (JSON, a stored case's dicts)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Document:
    """One document produced for the request, with who produced it and when."""

    __pydantic_config__ = _PART_CONFIG

    kind: Annotated[DocumentKind, Field(description="Which of the SOP's documents this is")]
    label: Annotated[str, Field(description="The document's Indonesian name, e.g. Surat Tugas")]
    number: Annotated[str | None, Field(description="Its official number; None if it has none")]
    step: Annotated[StepCode, Field(description="The step that produced it")]
    produced_at: Annotated[AwareDatetime, Field(description="When (the event's occurred_at)")]
    by: Annotated[Actor, Field(description="Who recorded it, with the Plt/Plh's principal if any")]
    event_id: Annotated[UUID, Field(description="The event that recorded it")]
    dated: Annotated[dt.date | None, Field(description="The date written on it, if any")] = None
    test_kind: Annotated[TestKind | None, Field(description="For test minutes: the kind")] = None
    passed: Annotated[
        bool | None,
        Field(description="For test and UAT minutes: passed/accepted or failed/rejected"),
    ] = None
    findings: Annotated[tuple[str, ...], Field(description="Findings recorded on it")] = ()
    title: Annotated[str | None, Field(description="For the manual: its title")] = None
    version: Annotated[str | None, Field(description="For the manual: its version")] = None
    signatories: Annotated[
        tuple[Signatory, ...], Field(description="For the signed minutes: everyone who signed")
    ] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ProblemEntry:
    """One line of the problems-and-solutions log (the SOP's rekam masalah / rekam solusi)."""

    __pydantic_config__ = _PART_CONFIG

    problem_id: Annotated[str, Field(description="The problem's id within the request")]
    description: Annotated[str, Field(description="What the problem is")]
    severity: Annotated[Severity, Field(description="LOW, MEDIUM, HIGH or CRITICAL")]
    recorded_at: Annotated[AwareDatetime, Field(description="When it was recorded")]
    recorded_by: Annotated[Actor, Field(description="Who recorded it")]
    solution: Annotated[str | None, Field(description="How it was solved; None while open")] = None
    solved_at: Annotated[AwareDatetime | None, Field(description="When it was solved")] = None
    solved_by: Annotated[Actor | None, Field(description="Who recorded the solution")] = None

    @property
    def is_open(self) -> bool:
        return self.solution is None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReturnEntry:
    """One return of the request to the requester at step 4."""

    __pydantic_config__ = _PART_CONFIG

    returned_at: Annotated[AwareDatetime, Field(description="When it was returned")]
    returned_by: Annotated[Actor, Field(description="Who returned it")]
    reasons: Annotated[tuple[str, ...], Field(description="Why, one per item")]
    missing_sections: Annotated[tuple[str, ...], Field(description="The sections found missing")]


@dataclass(frozen=True, slots=True, kw_only=True)
class Team:
    """The development team named in the assignment letter (Surat Tugas)."""

    __pydantic_config__ = _PART_CONFIG

    letter_number: Annotated[
        str | None,
        Field(description="The Surat Tugas number as typed; None: the register's (documents)"),
    ]
    members: Annotated[
        tuple[str, ...], Field(description="User ids of the team, the lead included")
    ]
    lead: Annotated[str, Field(description="The team lead's user id")]
    period_start: Annotated[dt.date, Field(description="First day of the assignment")]
    period_end: Annotated[dt.date, Field(description="Last day of the assignment")]
    assigned_at: Annotated[AwareDatetime, Field(description="When the letter was issued")]


@dataclass(frozen=True, slots=True, kw_only=True)
class TimelineEntry:
    """One event in the request's history: who, in which role, for whom, when, what."""

    __pydantic_config__ = _PART_CONFIG

    at: Annotated[AwareDatetime, Field(description="When it happened (occurred_at)")]
    actor: Annotated[Actor, Field(description="Who, in which role, and on whose behalf (Plt/Plh)")]
    event_type: Annotated[str, Field(description="The event's type, e.g. Disposed")]
    service: Annotated[str, Field(description="The service that emitted it")]
    step: Annotated[StepCode, Field(description="The SOP step it belongs to")]
    what: Annotated[str, Field(description="What happened, in one line")]
    document_numbers: Annotated[
        tuple[str, ...], Field(description="The numbers of the documents it produced or names")
    ] = ()
    event_id: Annotated[UUID, Field(description="The event's id")]
    stream_version: Annotated[
        int, Field(description="Its version in the emitting service's stream")
    ]


def who_must_act(status: CaseStatus, at: StepCode, problems: Sequence[ProblemEntry]) -> Role | None:
    """``CaseFile.who_must_act`` of a case with this status, step and problems log."""
    if status == "ABSENT" or status in CLOSED_STATUSES:
        return None
    open_problems = any(p.is_open for p in problems)
    return waits_on(at, returned=status == "RETURNED", open_problems=open_problems)


class CaseView(Protocol):
    """What the notices read of a case: a ``CaseFile``, or the fold's ``CaseDraft`` between two
    events (``casefile_draft``), so the bulk replay can tell who must act without making a
    ``CaseFile`` at every step."""

    @property
    def request_id(self) -> str: ...
    @property
    def opd(self) -> str | None: ...
    @property
    def title(self) -> str | None: ...
    @property
    def status(self) -> CaseStatus: ...
    @property
    def step(self) -> StepCode: ...
    @property
    def returns(self) -> tuple[ReturnEntry, ...]: ...
    @property
    def team(self) -> Team | None: ...
    @property
    def who_must_act(self) -> Role | None: ...


class CaseFile(_Frozen):
    """One request as the reporting service sees it, across every service's topic."""

    request_id: str = Field(description="The request (the stream id in every service)")
    opd: str | None = Field(default=None, description="The requesting agency; None until known")
    title: str | None = Field(default=None, description="The working title, as last revised")
    summary: str | None = Field(default=None, description="The short description")
    status: CaseStatus = Field(default="ABSENT", description="Where the request stands")
    step: StepCode = Field(default="SUBMIT", description="The step it is at (or closed at)")
    next_test: TestKind | None = Field(default=None, description="The kind of test due next")
    manual_published: bool = Field(default=False, description="True once a manual exists")
    submitted_at: AwareDatetime | None = Field(default=None, description="When it was submitted")
    closed_at: AwareDatetime | None = Field(
        default=None, description="When it was completed, rejected or withdrawn"
    )
    closing_reason: str | None = Field(default=None, description="Why rejected or withdrawn")
    documents: tuple[Document, ...] = Field(default=(), description="Every document, in order")
    problems: tuple[ProblemEntry, ...] = Field(default=(), description="The problems log")
    returns: tuple[ReturnEntry, ...] = Field(default=(), description="Every return at step 4")
    revisions: int = Field(default=0, description="How many times the requester revised it")
    uat_rejections: int = Field(default=0, description="How many times UAT was rejected")
    team: Team | None = Field(default=None, description="The team, once assigned")
    development_started_on: dt.date | None = Field(default=None, description="Step 8's start")
    progress_percent: int | None = Field(
        default=None, description="The team's last reported completion (0-100); None before"
    )
    progress_note: str | None = Field(default=None, description="The last progress note")
    progress_reported_at: AwareDatetime | None = Field(
        default=None, description="When progress was last reported"
    )
    timeline: tuple[TimelineEntry, ...] = Field(default=(), description="Every event, in order")
    updated_at: AwareDatetime | None = Field(
        default=None, description="The latest occurred_at among the case's events"
    )
    history: tuple[Envelope, ...] = Field(
        default=(), description="The envelopes the case derives from, in canonical order"
    )

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES

    @property
    def step_label(self) -> str:
        """The current step's SOP label (Indonesian)."""
        return step(self.step).label_id

    @property
    def step_label_en(self) -> str:
        return step(self.step).label_en

    @property
    def step_number(self) -> int:
        return step(self.step).number

    @property
    def open_problems(self) -> tuple[ProblemEntry, ...]:
        return tuple(p for p in self.problems if p.is_open)

    @property
    def who_must_act(self) -> Role | None:
        """The role the request waits on; None when it does not exist yet or is closed.

        The requester while returned; at UAT the requester, unless problems are still open (the
        team must record their solutions first); otherwise the step's responsible role.
        """
        return who_must_act(self.status, self.step, self.problems)

    @property
    def sop_percent(self) -> int:
        """How far through the SOP's 13 working steps the request is: 100 once completed."""
        if self.status == "COMPLETED":
            return 100
        return (self.step_number - 1) * 100 // (len(STEPS) - 1)

    def documents_of(self, kind: DocumentKind) -> tuple[Document, ...]:
        return tuple(d for d in self.documents if d.kind == kind)

    def latest_test(self, kind: TestKind) -> Document | None:
        """The most recent test minutes of ``kind``, passed or failed."""
        runs = [d for d in self.documents if d.test_kind == kind]
        return runs[-1] if runs else None


class CaseRow(_Frozen):
    """One row of the case list."""

    request_id: str = Field(description="The request")
    status: CaseStatus = Field(description="Where the request stands")
    opd: str | None = Field(description="The requesting agency")
    title: str | None = Field(description="The working title")
    current_step: StepCode = Field(description="The step code")
    step_number: int = Field(description="The project's step number, 1-14")
    step_label: str = Field(description="The step's SOP label (Indonesian)")
    responsible_role: Role | None = Field(description="Who must act; None if nobody")
    progress_percent: int | None = Field(description="The team's last reported completion")
    updated_at: AwareDatetime | None = Field(description="The latest event's occurred_at")
