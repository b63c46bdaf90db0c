"""dev_tracking's decisions: a command on a request's state -> new events, or a domain error.

Checks run in this order, so that a refusal never tells a caller more than it may know:

1. ``NotAllowed`` if the principal lacks the command's role (``required_role``);
2. ``NotFound`` if the request does not exist here (no ``TaskAssigned`` consumed yet);
3. ``NotAllowed`` if the principal is not one of the team named in the assignment letter (team
   commands) or is a requester of another OPD, or the request's OPD is not known (UAT);
4. ``WrongStep`` (naming the current step) if the command cannot happen at this step;
5. ``InvalidInput`` naming the field for a rule about one field.

Rules chosen where the SOP is silent:

- Problems can be recorded and solved at any step from the assignment until the request is done.
- Progress can be reported from the start of development until done; it never goes down.
- Tests run SYSTEM, UNIT, INTEGRATION; a failed one is re-run (same kind) until it passes. After a
  rejected UAT the team is back at DEVELOP and re-runs only the integration test, then UAT again;
  the manual book published before stays valid, and a new version may be published at any time
  after integration testing passed until UAT is accepted.
- Open problems do not block a UAT rejection but block its acceptance (``WrongStep`` at UAT): a
  completed request never leaves a problem without its recorded solution.
- Every test and UAT minutes number (Berita Acara) is used once per request.
- Dates may not lie after ``now``'s date, so ``now`` should be given in the tenant's time zone.
"""

import datetime as dt

from events.base import DomainEvent
from events.dev_tracking import (
    DevelopmentStarted,
    ManualPublished,
    ProblemRecorded,
    ProblemSolved,
    ProgressReported,
    RequestCompleted,
    TestFailed,
    TestPassed,
    UATAccepted,
    UATRejected,
)
from events.envelope import Role
from events.steps import step
from infra.errors import InvalidInput, NotAllowed, NotFound, WrongStep
from infra.principal import Principal
from services.dev_tracking.commands import (
    Command,
    DevTrackingCommand,
    PublishManual,
    RecordProblem,
    RecordTestResult,
    RecordUat,
    ReportProgress,
    SolveProblem,
    StartDevelopment,
)
from services.dev_tracking.state import DevState

REQUIRED_ROLE: dict[type[Command], Role] = {
    StartDevelopment: "TIM_PENGEMBANG",
    ReportProgress: "TIM_PENGEMBANG",
    RecordProblem: "TIM_PENGEMBANG",
    SolveProblem: "TIM_PENGEMBANG",
    RecordTestResult: "TIM_PENGEMBANG",
    PublishManual: "TIM_PENGEMBANG",
    RecordUat: "PEMOHON",
}
"""The one role in which each command is exercised (for ``Principal.acting_as``)."""


SEES_EVERY_REQUEST: tuple[Role, ...] = ("KADIS", "KABID_TI", "TIM_PENGEMBANG", "ADMIN", "AUDITOR")
"""Roles that may see any request; a requester sees only its own agency's."""


def ensure_visible(state: DevState, principal: Principal) -> None:
    """Refuse to show a request unknown here (404), or another OPD's request to a requester."""
    if not state.exists:
        raise NotFound("request has no development assignment")
    if any(principal.has_role(role) for role in SEES_EVERY_REQUEST):
        return
    if principal.has_role("PEMOHON") and state.opd is not None and principal.opd == state.opd:
        return
    raise NotAllowed("a requester may only see its own agency's requests")


def required_role(command: Command) -> Role:
    """The role ``command`` is exercised in; the entry point calls ``acting_as`` with it."""
    return REQUIRED_ROLE[type(command)]


def decide(
    state: DevState, command: DevTrackingCommand, principal: Principal, now: dt.datetime
) -> list[DomainEvent]:
    """The events ``command`` by ``principal`` at ``now`` produces; raises a ``DomainError``."""
    role = required_role(command)
    if not principal.has_role(role):
        raise NotAllowed(f"{type(command).__name__} requires the role {role}")
    if not state.exists:
        raise NotFound(f"request {command.request_id} has no development assignment")
    if state.request_id != command.request_id:
        raise ValueError(f"state of {state.request_id} given for {command.request_id}")
    if role == "PEMOHON":
        _check_requester(state, principal)
    else:
        _check_team(state, principal)
    if state.step == "DONE":
        raise _wrong_step(state, "the request is already completed")
    today = now.date()
    match command:
        case StartDevelopment():
            return _start(state, command, today)
        case ReportProgress():
            return _progress(state, command)
        case RecordProblem():
            return _problem(state, command)
        case SolveProblem():
            return _solve(state, command)
        case RecordTestResult():
            return _test(state, command, today)
        case PublishManual():
            return _manual(state, command)
        case RecordUat():
            return _uat(state, command, principal, today)


def _check_team(state: DevState, principal: Principal) -> None:
    if principal.user_id not in state.team_members:
        raise NotAllowed(
            f"only the team of assignment letter {state.letter_number} may act on this request"
        )


def _check_requester(state: DevState, principal: Principal) -> None:
    if state.opd is None:
        raise NotAllowed("the requesting OPD of this request is not known, so no requester may act")
    if principal.opd != state.opd:
        raise NotAllowed("only a requester of the requesting OPD may act on this request")


def _wrong_step(state: DevState, why: str) -> WrongStep:
    code = state.step or "ASSIGN"
    at = step(code)
    return WrongStep(f"{why}; the request is at step {at.number} {code} ({at.label_id})", code)


def _not_after(value: dt.date, today: dt.date, field: str) -> None:
    if value > today:
        raise InvalidInput(f"{field} {value} is in the future", field)


def _start(state: DevState, command: StartDevelopment, today: dt.date) -> list[DomainEvent]:
    if state.step != "DEVELOP" or state.started_on is not None:
        raise _wrong_step(state, "development has already started")
    _not_after(command.started_on, today, "started_on")
    return [DevelopmentStarted(request_id=command.request_id, started_on=command.started_on)]


def _progress(state: DevState, command: ReportProgress) -> list[DomainEvent]:
    if state.started_on is None:
        raise _wrong_step(state, "development has not started yet")
    if state.percent is not None and command.percent < state.percent:
        raise InvalidInput(
            f"progress may not go down: last reported {state.percent}%, now {command.percent}%",
            "percent",
        )
    return [
        ProgressReported(request_id=command.request_id, percent=command.percent, note=command.note)
    ]


def _problem(state: DevState, command: RecordProblem) -> list[DomainEvent]:
    problem_id = f"P-{len(state.problems) + 1}"
    return [
        ProblemRecorded(
            request_id=command.request_id,
            problem_id=problem_id,
            description=command.description,
            severity=command.severity,
        )
    ]


def _solve(state: DevState, command: SolveProblem) -> list[DomainEvent]:
    problem = state.problem(command.problem_id)
    if problem is None:
        raise NotFound(f"no problem {command.problem_id} in request {command.request_id}")
    if not problem.is_open:
        raise InvalidInput(f"problem {command.problem_id} is already solved", "problem_id")
    return [
        ProblemSolved(
            request_id=command.request_id,
            problem_id=command.problem_id,
            solution=command.solution,
        )
    ]


def _fresh_minutes(state: DevState, number: str) -> None:
    if number in state.minutes_numbers:
        raise InvalidInput(f"minutes number {number} is already used", "minutes_number")


def _test(state: DevState, command: RecordTestResult, today: dt.date) -> list[DomainEvent]:
    if state.started_on is None:
        raise _wrong_step(state, "development has not started yet")
    due = state.next_test
    if due is None:
        raise _wrong_step(state, "no test is due: integration testing has passed")
    if command.kind != due:
        why = f"the {due} test is due, not {command.kind}"
        if state.step == "DEVELOP" and state.uat_rejections:
            why += " (after a rejected UAT the integration test is re-run)"
        raise _wrong_step(state, why)
    if command.result == "FAILED" and not command.findings:
        raise InvalidInput("a failed test needs at least one finding", "findings")
    _fresh_minutes(state, command.minutes_number)
    _not_after(command.tested_on, today, "tested_on")
    if command.tested_on < state.started_on:
        raise InvalidInput(
            f"tested_on {command.tested_on} is before development started", "tested_on"
        )
    if command.result == "PASSED":
        return [
            TestPassed(
                request_id=command.request_id,
                kind=command.kind,
                minutes_number=command.minutes_number,
                findings=command.findings,
                tested_on=command.tested_on,
            )
        ]
    return [
        TestFailed(
            request_id=command.request_id,
            kind=command.kind,
            minutes_number=command.minutes_number,
            findings=command.findings,
            tested_on=command.tested_on,
        )
    ]


def _manual(state: DevState, command: PublishManual) -> list[DomainEvent]:
    if state.step not in ("MANUAL", "UAT"):
        raise _wrong_step(state, "the manual book comes after integration testing has passed")
    if command.version == state.manual_version:
        raise InvalidInput(f"version {command.version} is already published", "version")
    return [
        ManualPublished(
            request_id=command.request_id,
            title=command.title,
            document=command.document,
            version=command.version,
        )
    ]


def _uat(
    state: DevState, command: RecordUat, principal: Principal, today: dt.date
) -> list[DomainEvent]:
    if state.step != "UAT":
        raise _wrong_step(state, "UAT comes after the manual book and a passed integration test")
    if command.result == "REJECTED":
        if not command.findings:
            raise InvalidInput("a rejected UAT needs at least one finding", "findings")
        if command.notes is not None:
            raise InvalidInput("a rejected UAT takes findings, not notes", "notes")
        _fresh_minutes(state, command.minutes_number)
        return [
            UATRejected(
                request_id=command.request_id,
                minutes_number=command.minutes_number,
                findings=command.findings,
            )
        ]
    if state.open_problems:
        ids = ", ".join(p.problem_id for p in state.open_problems)
        raise _wrong_step(state, f"UAT cannot be accepted while problems are open ({ids})")
    if command.findings:
        raise InvalidInput("an accepted UAT has no findings; put remarks in notes", "findings")
    _fresh_minutes(state, command.minutes_number)
    return [
        UATAccepted(
            request_id=command.request_id,
            minutes_number=command.minutes_number,
            accepted_by=principal.user_id,
            notes=command.notes,
        ),
        RequestCompleted(request_id=command.request_id, completed_on=today),
    ]
