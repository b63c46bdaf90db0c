"""What the e-office is told: a request's status, step or the role it waits on changed. Pure.

The projection calls ``status_change`` after each event with the case as it now stands and the
last change it reported for the request (``Reported``, kept in ``status_reported``). A change is
reported when the case's ``Position`` (status, step, who must act) differs from the last one
reported, so the changes of one request chain without holes: each starts where the one before
it ended, and the sequence numbers go 1, 2, 3... whatever order the topics delivered the events
in. Events that move nothing the e-office follows (progress, a problem recorded before UAT, an
SLA breach) report nothing.

``CaseStatusChanged`` is reporting's output, not part of a case: ``NOT_PROJECTED`` keeps the
projection (live and replayed) from storing or folding it when it comes back on reporting's own
topic.
"""

from collections.abc import Iterable
from typing import NamedTuple, cast, get_args

from events.envelope import Envelope, Role
from events.reporting import CaseStatusChanged, RequestStatus, StepRef
from events.steps import StepCode, StepRole, step
from services.reporting.casefile import apply, empty_case
from services.reporting.casefile_model import CaseFile

NOT_PROJECTED = frozenset({CaseStatusChanged.event_type()})
"""Event types of followed services that the projection skips (they are derived from cases)."""

_SUBMITTED = "RequestSubmitted"


class Position(NamedTuple):
    """Where a request stands, as far as the e-office is concerned."""

    status: RequestStatus
    step: StepCode
    who_must_act: StepRole | None


class Reported(NamedTuple):
    """The last change reported for a request: its number and where it left the request."""

    sequence: int
    position: Position


def _step_role(role: Role | None) -> StepRole | None:
    if role is not None and role not in get_args(StepRole):
        raise ValueError(f"{role} is not a role a step waits on")
    return cast(StepRole | None, role)


def position_of(case: CaseFile) -> Position | None:
    """The case's position; None while no event of it has been seen."""
    if case.status == "ABSENT":
        return None
    return Position(case.status, case.step, _step_role(case.who_must_act))


def _ref(code: StepCode) -> StepRef:
    found = step(code)
    return StepRef(code=found.code, number=found.number, label=found.label_id)


def _letter_id(case: CaseFile) -> str | None:
    for envelope in case.history:
        if envelope.event_type == _SUBMITTED:
            letter = envelope.payload.get("eoffice_letter_id")
            return letter if isinstance(letter, str) else None
    return None


def _document_numbers(case: CaseFile, cause: Envelope) -> tuple[str, ...]:
    for entry in reversed(case.timeline):
        if entry.event_id == cause.event_id:
            return entry.document_numbers
    return ()


def status_change(
    last: Reported | None, case: CaseFile, cause: Envelope
) -> CaseStatusChanged | None:
    """The change to report now that ``cause`` is projected into ``case``; None if the case
    stands where ``last`` left it (or does not exist yet)."""
    now = position_of(case)
    if now is None or (last is not None and last.position == now):
        return None
    before = last.position if last is not None else None
    return CaseStatusChanged(
        request_id=case.request_id,
        opd=case.opd,
        eoffice_letter_id=_letter_id(case),
        sequence=last.sequence + 1 if last is not None else 1,
        previous_status=before.status if before else None,
        status=now.status,
        previous_step=_ref(before.step) if before else None,
        step=_ref(now.step),
        who_must_act=now.who_must_act,
        document_numbers=_document_numbers(case, cause),
        cause_event_id=cause.event_id,
        cause_event_type=cause.event_type,
        cause_occurred_at=cause.occurred_at,
    )


def reported(change: CaseStatusChanged) -> Reported:
    """What ``change`` leaves as the last change reported."""
    return Reported(change.sequence, Position(change.status, change.step.code, change.who_must_act))


def changes_for(arrivals: Iterable[Envelope], request_id: str) -> list[CaseStatusChanged]:
    """The changes the projection reports for one request whose envelopes arrive in this order
    (``casefile.apply`` one at a time, ``status_change`` after each): the specification the
    live path (``status_feed``) follows, for tests and for explaining a sequence."""
    case, last, changes = empty_case(request_id), None, []
    for envelope in arrivals:
        case = apply(case, envelope)
        change = status_change(last, case, envelope)
        if change is not None:
            last = reported(change)
            changes.append(change)
    return changes
