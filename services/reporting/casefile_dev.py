"""The effects of dev_tracking's events (steps 8 to 14) and of reporting's SlaBreached on a case.

Where each event takes the request (a passed test to the next kind, a failed one stays at its
step, after integration the manual or UAT, a rejected UAT back to DEVELOP with the integration
test due again, ``RequestCompleted`` to DONE) is the SOP table's (``events.sop``), applied by
``casefile_steps.update_for``; here are the facts each event records and its timeline line.
"""

from dataclasses import replace

from events.base import DomainEvent
from events.dev_tracking import (
    DevelopmentStarted,
    ManualPublished,
    ProblemRecorded,
    ProblemSolved,
    ProgressReported,
    RequestCompleted,
    TestFailed,
    TestKind,
    TestPassed,
    UATAccepted,
    UATRejected,
)
from events.envelope import Envelope
from events.reporting import SlaBreached
from events.steps import TEST_STEP
from services.reporting.casefile_draft import CaseDraft
from services.reporting.casefile_effect import (
    Effect,
    add_document,
    changes,
    numbers,
    one_line,
)
from services.reporting.casefile_model import ProblemEntry

_TEST_NAME: dict[TestKind, str] = {"SYSTEM": "System", "UNIT": "Unit", "INTEGRATION": "Integration"}


def _tested(case: CaseDraft, env: Envelope, event: TestPassed | TestFailed) -> Effect:
    passed = isinstance(event, TestPassed)
    at_step = TEST_STEP[event.kind]
    record = add_document(
        case,
        env,
        "TEST_MINUTES",
        at_step,
        event.minutes_number,
        dated=event.tested_on,
        test_kind=event.kind,
        passed=passed,
        findings=event.findings,
    )
    what = f"{_TEST_NAME[event.kind]} test {'passed' if passed else 'failed'}"
    if event.findings:
        what += f": {one_line('; '.join(event.findings))}"
    return Effect(at_step, what, numbers(event.minutes_number), record)


def _problems(case: CaseDraft, env: Envelope, event: DomainEvent) -> Effect | None:
    match event:
        case ProblemRecorded():
            what = f"Problem {event.problem_id} recorded ({event.severity}): "
            what += one_line(event.description)
            if any(p.problem_id == event.problem_id for p in case.problems):
                return Effect(case.step, what)
            entry = ProblemEntry(
                problem_id=event.problem_id,
                description=event.description,
                severity=event.severity,
                recorded_at=env.occurred_at,
                recorded_by=env.actor,
            )
            return Effect(case.step, what, (), changes(problems=(*case.problems, entry)))
        case ProblemSolved():
            solved = changes(
                solution=event.solution, solved_at=env.occurred_at, solved_by=env.actor
            )
            problems = tuple(
                replace(p, **solved) if p.problem_id == event.problem_id else p
                for p in case.problems
            )
            what = f"Problem {event.problem_id} solved: {one_line(event.solution)}"
            return Effect(case.step, what, (), changes(problems=problems))
    return None


def _uat(case: CaseDraft, env: Envelope, event: UATAccepted | UATRejected) -> Effect:
    number = numbers(event.minutes_number)
    if isinstance(event, UATAccepted):
        record = add_document(case, env, "UAT_MINUTES", "UAT", event.minutes_number, passed=True)
        return Effect("UAT", f"UAT accepted by {event.accepted_by}", number, record)
    record = add_document(
        case, env, "UAT_MINUTES", "UAT", event.minutes_number, passed=False, findings=event.findings
    )
    record["uat_rejections"] = case.uat_rejections + 1
    return Effect("UAT", f"UAT rejected: {one_line('; '.join(event.findings))}", number, record)


def dev_effect(case: CaseDraft, env: Envelope, event: DomainEvent) -> Effect | None:
    """The effect of one of dev_tracking's events; None for an event it does not know."""
    match event:
        case DevelopmentStarted():
            record = changes(development_started_on=event.started_on)
            what = f"Development started on {event.started_on}"
            return Effect("DEVELOP", what, (), record)
        case ProgressReported():
            record = changes(
                progress_percent=event.percent,
                progress_note=event.note,
                progress_reported_at=env.occurred_at,
            )
            what = f"Progress reported: {event.percent}% ({one_line(event.note)})"
            return Effect(case.step, what, (), record)
        case TestPassed() | TestFailed():
            return _tested(case, env, event)
        case ManualPublished():
            record = add_document(
                case, env, "MANUAL", "MANUAL", None, title=event.title, version=event.version
            )
            record["manual_published"] = True
            what = f"Manual '{event.title}' version {event.version} published"
            return Effect("MANUAL", what, (), record)
        case UATAccepted() | UATRejected():
            return _uat(case, env, event)
        case RequestCompleted():
            ending = changes(status="COMPLETED", closed_at=env.occurred_at)
            return Effect("DONE", f"Request completed on {event.completed_on}", (), {}, ending)
    return _problems(case, env, event)


def sla_effect(event: DomainEvent) -> Effect | None:
    """SlaBreached only adds a timeline line: the SLA rows are computed elsewhere."""
    if isinstance(event, SlaBreached):
        what = f"SLA breached at step {event.step} (due {event.due_at.isoformat()}); "
        what += f"{event.responsible_role} notified"
        return Effect(event.step, what)
    return None
