"""One request as dev_tracking sees it, folded from its events; who must act and at which step.

The stream opens with approval's ``TaskAssigned`` (step 7's assignment letter), which dev_tracking
consumes; before it the request "does not exist" here (``state.exists`` is false). The steps it
moves through are those of ``events.steps``, and ``events.sop.move`` moves it:

    DEVELOP -> SYSTEM_TEST -> UNIT_TEST -> INTEGRATION_TEST -> MANUAL -> UAT -> DONE

- ``DEVELOP`` from the assignment until the first system test (``started_on`` tells whether the
  team has started), and again after a rejected UAT while the team fixes the findings.
- A test that passes moves on to the next kind; one that fails leaves the request at that test's
  step until the same kind is re-run and passes (``next_test`` is the kind due).
- A passed integration test leads to ``MANUAL``, or straight to ``UAT`` when a manual was already
  published (the re-run after a rejected UAT); after a rejected UAT only the integration test is
  re-run (``next_test`` = INTEGRATION).
- ``UATAccepted`` and ``RequestCompleted`` come together and end at ``DONE``.
"""

import datetime as dt
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field

from events.approval import TaskAssigned
from events.base import DomainEvent
from events.dev_tracking import (
    DevelopmentStarted,
    ManualPublished,
    ProblemRecorded,
    ProblemSolved,
    ProgressReported,
    RequestCompleted,
    Severity,
    TestFailed,
    TestKind,
    TestPassed,
    UATAccepted,
    UATRejected,
)
from events.envelope import Role
from events.intake import RequestSubmitted
from events.sop import Position, move, waits_on
from events.steps import StepCode


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Problem(_Frozen):
    """A problem the team recorded, and its solution once solved."""

    problem_id: str = Field(description="The problem's id within the request, e.g. P-1")
    description: str = Field(description="What the problem is")
    severity: Severity = Field(description="LOW, MEDIUM, HIGH or CRITICAL")
    solution: str | None = Field(default=None, description="How it was solved; None while open")

    @property
    def is_open(self) -> bool:
        return self.solution is None


class TestRun(_Frozen):
    """One recorded test, passed or failed."""

    __test__ = False  # not a pytest test class

    kind: TestKind = Field(description="SYSTEM, UNIT or INTEGRATION")
    passed: bool = Field(description="True if it passed")
    minutes_number: str | None = Field(
        default=None, description="Number of the test minutes as typed; None: from the register"
    )
    findings: tuple[str, ...] = Field(default=(), description="What was found")
    tested_on: dt.date = Field(description="The day of the test")


class DevState(_Frozen):
    """A request from the assignment letter to completion. ``DevState()`` does not exist yet."""

    request_id: str | None = Field(default=None, description="Set by TaskAssigned")
    opd: str | None = Field(
        default=None,
        description="The requesting OPD, needed to authorise UAT; None while unknown",
    )
    step: StepCode | None = Field(
        default=None, description="The step the request is at; None before TaskAssigned"
    )
    letter_number: str | None = Field(default=None, description="The Surat Tugas number")
    team_members: tuple[str, ...] = Field(default=(), description="User ids of the team")
    team_lead: str | None = Field(default=None, description="The team lead's user id")
    period_start: dt.date | None = Field(default=None, description="Assignment's first day")
    period_end: dt.date | None = Field(default=None, description="Assignment's last day")
    started_on: dt.date | None = Field(default=None, description="None until development starts")
    percent: int | None = Field(default=None, description="Last reported progress, if any")
    progress_note: str | None = Field(default=None, description="Last progress note, if any")
    problems: tuple[Problem, ...] = Field(default=(), description="Every problem, in order")
    next_test: TestKind | None = Field(
        default=None, description="The kind of test due next; None when no test is due"
    )
    test_runs: tuple[TestRun, ...] = Field(default=(), description="Every test run, in order")
    manual_title: str | None = Field(default=None, description="The manual's title, if any")
    manual_version: str | None = Field(default=None, description="Latest published version")
    uat_rejections: int = Field(default=0, description="How many times UAT was rejected")
    last_uat_findings: tuple[str, ...] = Field(
        default=(), description="The findings of the latest rejected UAT"
    )
    minutes_numbers: frozenset[str] = Field(
        default=frozenset(), description="Every test and UAT minutes number used so far"
    )
    accepted_by: str | None = Field(default=None, description="The requester who accepted UAT")
    completed_on: dt.date | None = Field(default=None, description="Set when completed")

    @property
    def exists(self) -> bool:
        """True once TaskAssigned has opened the stream."""
        return self.step is not None

    @property
    def open_problems(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.is_open)

    def problem(self, problem_id: str) -> Problem | None:
        return next((p for p in self.problems if p.problem_id == problem_id), None)


def _assigned(state: DevState, event: TaskAssigned) -> DevState:
    update: dict[str, object] = {
        "request_id": event.request_id,
        "opd": event.opd,
        "letter_number": event.letter_number,
        "team_members": event.team_members,
        "team_lead": event.team_lead,
        "period_start": event.period_start,
        "period_end": event.period_end,
    }
    return _moved(state.model_copy(update=update), event)


def _with(numbers: frozenset[str], typed: str | None) -> frozenset[str]:
    """The typed minutes numbers used so far, and ``typed`` (a register's number is not ours)."""
    return numbers if typed is None else numbers | {typed}


def _moved(state: DevState, event: DomainEvent) -> DevState:
    """``state`` with the step and the test due after ``event`` (``events.sop``); a later letter
    (a changed team) keeps the progress made."""
    at = Position(
        step=state.step or "ASSIGN",
        next_test=state.next_test,
        manual_published=state.manual_version is not None,
    )
    after = move(at, event)
    if after == at:
        return state
    return state.model_copy(update={"step": after.step, "next_test": after.next_test})


def evolve(state: DevState, event: DomainEvent) -> DevState:
    """The state after ``event``. Events of other services that do not concern it are ignored.

    ``RequestSubmitted`` (intake) is accepted so that the requesting OPD is known if the service is
    ever fed intake's events; dev_tracking's own events before ``TaskAssigned`` are a corrupt
    stream and raise ``ValueError``.
    """
    match event:
        case RequestSubmitted():
            return state.model_copy(update={"opd": event.opd})
        case TaskAssigned():
            return _assigned(state, event)
        case (
            DevelopmentStarted()
            | ProgressReported()
            | ProblemRecorded()
            | ProblemSolved()
            | TestPassed()
            | TestFailed()
            | ManualPublished()
            | UATAccepted()
            | UATRejected()
            | RequestCompleted()
        ) if not state.exists:
            raise ValueError(f"{event.event_type()} before TaskAssigned")
        case DevelopmentStarted():
            return _moved(state, event).model_copy(update={"started_on": event.started_on})
        case ProgressReported():
            return state.model_copy(update={"percent": event.percent, "progress_note": event.note})
        case ProblemRecorded():
            problem = Problem(
                problem_id=event.problem_id,
                description=event.description,
                severity=event.severity,
            )
            return state.model_copy(update={"problems": (*state.problems, problem)})
        case ProblemSolved():
            problems = tuple(
                p.model_copy(update={"solution": event.solution})
                if p.problem_id == event.problem_id
                else p
                for p in state.problems
            )
            return state.model_copy(update={"problems": problems})
        case TestPassed() | TestFailed():
            run = TestRun(
                kind=event.kind,
                passed=isinstance(event, TestPassed),
                minutes_number=event.minutes_number,
                findings=event.findings,
                tested_on=event.tested_on,
            )
            recorded = state.model_copy(
                update={
                    "test_runs": (*state.test_runs, run),
                    "minutes_numbers": _with(state.minutes_numbers, run.minutes_number),
                }
            )
            return _moved(recorded, event)
        case ManualPublished():
            return _moved(state, event).model_copy(
                update={"manual_title": event.title, "manual_version": event.version}
            )
        case UATAccepted():
            return state.model_copy(
                update={
                    "accepted_by": event.accepted_by,
                    "minutes_numbers": _with(state.minutes_numbers, event.minutes_number),
                }
            )
        case UATRejected():
            return _moved(state, event).model_copy(
                update={
                    "uat_rejections": state.uat_rejections + 1,
                    "last_uat_findings": event.findings,
                    "minutes_numbers": _with(state.minutes_numbers, event.minutes_number),
                }
            )
        case RequestCompleted():
            return _moved(state, event).model_copy(update={"completed_on": event.completed_on})
        case _:
            return state


def fold(events: Iterable[DomainEvent], state: DevState | None = None) -> DevState:
    """The state after ``events`` in order, from ``state`` (default: does not exist)."""
    current = DevState() if state is None else state
    for event in events:
        current = evolve(current, event)
    return current


def current_step(state: DevState) -> StepCode | None:
    """The step code the request is at (``events.steps``); None if it does not exist here."""
    return state.step


def who_must_act(state: DevState) -> Role | None:
    """The role the request waits on; None if it does not exist here or is done.

    At UAT it waits on the requester (PEMOHON), unless problems are still open: acceptance is
    refused until the team (TIM_PENGEMBANG) records their solutions.
    """
    if state.step is None:
        return None
    return waits_on(state.step, open_problems=bool(state.open_problems))
