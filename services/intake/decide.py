"""Intake's decisions: the request as it stands + a command + who asks -> new events, or a refusal.

Checks run in this order, and the first that fails refuses the command with nothing to append:

1. the caller holds the command's role (own role or as Plt/Plh): else ``NotAllowed``;
2. the request exists (except for ``SubmitRequest``): else ``NotFound``;
3. a requester acts only for its own OPD (a submit: it has one): else ``NotAllowed``;
4. the request is at a step where the command can happen: else ``WrongStep``;
5. the input keeps the rules about single fields: else ``InvalidInput`` naming the field.

Who may do what is ``events.policy``'s (the rule named after the command), enforced by
``infra.access``.
"""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, assert_never

from events import policy
from events.base import DomainEvent
from events.envelope import Role
from events.intake import (
    Attachment,
    RequestLetter,
    RequestReceived,
    RequestRevised,
    RequestSubmitted,
    RequestWithdrawn,
)
from events.steps import StepCode
from infra import access
from infra.actions import Action, offer
from infra.errors import InvalidInput, NotFound, WrongStep
from infra.principal import Principal
from infra.wording import at_step
from services.intake.commands import (
    IntakeCommand,
    ReceiveRequest,
    ReviseRequest,
    SubmitRequest,
    WithdrawRequest,
)
from services.intake.state import RequestState, Status

MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
"""Intake's limit for one attachment (25 MiB), below the contract's ceiling of 1 GiB."""

LATEST_UTC_OFFSET = dt.timedelta(hours=14)
"""A letter may be dated today anywhere on earth (UTC+14 at the latest), never later."""


def _where(state: RequestState) -> str:
    """Where the request stands, in Indonesian, naming the step."""
    at = at_step(state.step)
    match state.status:
        case "OPEN":
            return f"sedang pada {at}"
        case "RETURNED":
            return f"dikembalikan kepada pemohon untuk diperbaiki pada {at}"
        case "ASSIGNED":
            return f"sudah diserahkan kepada tim pengembang, {at}"
        case "WITHDRAWN":
            return f"sudah ditarik oleh pemohon pada {at}"
        case "REJECTED":
            return f"sudah ditolak oleh Kepala Dinas pada {at}"
    assert_never(state.status)


GET_REQUEST: Final = policy.rule("intake", "GetRequest")


@dataclass(frozen=True)
class Admits:
    """Where a command on an existing request can happen: the statuses (and, if named, the
    steps) that admit it, and what a refusal elsewhere says."""

    statuses: frozenset[Status]
    steps: frozenset[StepCode] | None
    refusal: str

    def __call__(self, state: RequestState) -> bool:
        return state.status in self.statuses and (self.steps is None or state.step in self.steps)


StepCommand = ReceiveRequest | ReviseRequest | WithdrawRequest
"""The commands on an existing request (``SubmitRequest`` makes one)."""

ADMITTED: Final[Mapping[type[StepCommand], Admits]] = {
    ReceiveRequest: Admits(
        frozenset({"OPEN"}),
        frozenset({"RECEIVE"}),
        "hanya permohonan yang baru diajukan yang dapat diterima",
    ),
    ReviseRequest: Admits(
        frozenset({"RETURNED"}),
        None,
        "hanya permohonan yang dikembalikan yang dapat diperbaiki",
    ),
    WithdrawRequest: Admits(
        frozenset({"OPEN", "RETURNED"}),
        None,
        "permohonan hanya dapat ditarik sebelum diserahkan kepada tim pengembang",
    ),
}
"""Each command's step guard, checked by its decider and by ``available_actions``."""


def _wrong_step(state: RequestState, what: str) -> WrongStep:
    return WrongStep(
        f"Permohonan {state.request_id} {_where(state)}; {what}.", current_step=state.step
    )


def rule_of(command: IntakeCommand) -> policy.Rule:
    """The access rule of ``command`` (``events.policy``)."""
    return policy.rule("intake", type(command).__name__)


def required_role(command: IntakeCommand) -> Role:
    """The role ``command`` is exercised in: ``principal.acting_as(required_role(cmd))``."""
    return rule_of(command).responsible_role


def _require_role(command: IntakeCommand, principal: Principal) -> policy.Grant:
    return access.authorize(principal, rule_of(command))


def _existing(state: RequestState | None, command: IntakeCommand) -> RequestState:
    if state is None:
        raise NotFound(f"Permohonan {command.request_id} tidak ditemukan.")
    if state.request_id != command.request_id:
        raise ValueError(f"state of {state.request_id} given for {command.request_id}")
    return state


def _admit(request: RequestState, command: StepCommand) -> None:
    admits = ADMITTED[type(command)]
    if not admits(request):
        raise _wrong_step(request, admits.refusal)


def _require_scope(
    command: IntakeCommand, principal: Principal, grant: policy.Grant, opd: str | None
) -> None:
    access.require_scope(principal, rule_of(command), access.Target(opd=opd), grant)


def _check_letter(letter: RequestLetter | None, now: dt.datetime) -> None:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if letter is not None and letter.date > (now.astimezone(dt.UTC) + LATEST_UTC_OFFSET).date():
        raise InvalidInput(
            f"Tanggal surat {letter.date.isoformat()} belum tiba.", field="letter.date"
        )


def _check_attachments(attachments: tuple[Attachment, ...] | None) -> None:
    for index, attachment in enumerate(attachments or ()):
        if attachment.size_bytes > MAX_ATTACHMENT_BYTES:
            raise InvalidInput(
                f"Lampiran {attachment.filename} berukuran {attachment.size_bytes} byte, melebihi "
                f"batas {MAX_ATTACHMENT_BYTES} byte.",
                field=f"attachments.{index}.size_bytes",
            )


def submit_request(
    state: RequestState | None, command: SubmitRequest, principal: Principal, now: dt.datetime
) -> list[DomainEvent]:
    """Step 1: a requester submits a new request for its own OPD."""
    grant = _require_role(command, principal)
    _require_scope(command, principal, grant, principal.opd)
    request_opd = principal.opd
    assert request_opd is not None  # the scope refuses a requester without an OPD
    if state is not None:
        raise _wrong_step(state, "permohonan dengan id ini sudah diajukan")
    _check_letter(command.letter, now)
    _check_attachments(command.attachments)
    return [
        RequestSubmitted(
            request_id=command.request_id,
            opd=request_opd,
            title=command.title,
            summary=command.summary,
            letter=command.letter,
            needs_analysis=command.needs_analysis,
            business_process=command.business_process,
            attachments=command.attachments,
            submitted_via=command.submitted_via,
            eoffice_letter_id=command.eoffice_letter_id,
        )
    ]


def receive_request(
    state: RequestState | None, command: ReceiveRequest, principal: Principal, now: dt.datetime
) -> list[DomainEvent]:
    """Step 2: KADIS's office receives a submitted request, once."""
    grant = _require_role(command, principal)
    request = _existing(state, command)
    _require_scope(command, principal, grant, request.opd)
    _admit(request, command)
    return [
        RequestReceived(
            request_id=request.request_id,
            received_by=principal.user_id,
            agenda_number=command.agenda_number,
        )
    ]


def revise_request(
    state: RequestState | None, command: ReviseRequest, principal: Principal, now: dt.datetime
) -> list[DomainEvent]:
    """The requester revises its request after KABID_TI returned it; it goes back to step 4."""
    grant = _require_role(command, principal)
    request = _existing(state, command)
    _require_scope(command, principal, grant, request.opd)
    _admit(request, command)
    _check_letter(command.letter, now)
    _check_attachments(command.attachments)
    return [
        RequestRevised(
            request_id=request.request_id,
            title=command.title,
            summary=command.summary,
            letter=command.letter,
            needs_analysis=command.needs_analysis,
            business_process=command.business_process,
            attachments=command.attachments,
            note=command.note,
        )
    ]


def withdraw_request(
    state: RequestState | None, command: WithdrawRequest, principal: Principal, now: dt.datetime
) -> list[DomainEvent]:
    """The requester withdraws its request while it is open or returned, before development."""
    grant = _require_role(command, principal)
    request = _existing(state, command)
    _require_scope(command, principal, grant, request.opd)
    _admit(request, command)
    return [RequestWithdrawn(request_id=request.request_id, reason=command.reason)]


def decide(
    state: RequestState | None, command: IntakeCommand, principal: Principal, now: dt.datetime
) -> list[DomainEvent]:
    """The events ``command`` by ``principal`` at ``now`` produces, or a ``DomainError``."""
    match command:
        case SubmitRequest():
            return submit_request(state, command, principal, now)
        case ReceiveRequest():
            return receive_request(state, command, principal, now)
        case ReviseRequest():
            return revise_request(state, command, principal, now)
        case WithdrawRequest():
            return withdraw_request(state, command, principal, now)
    assert_never(command)


def ensure_visible(
    state: RequestState | None, request_id: str, principal: Principal
) -> RequestState:
    """The request ``principal`` may read: refuses a caller without a reading role (403), a
    request that does not exist (404), another OPD's request to a requester (403), in that
    order."""
    access.authorize(principal, GET_REQUEST)
    if state is None:
        raise NotFound(f"Permohonan {request_id} tidak ditemukan.")
    access.require_scope(principal, GET_REQUEST, access.Target(opd=state.opd))
    return state


def available_actions(state: RequestState, principal: Principal) -> list[Action]:
    """The commands ``principal`` may give on the request now: those whose step guard
    (``ADMITTED``) admits the request and whose access rule admits the caller, in the table's
    order."""
    target = access.Target(opd=state.opd)
    found = (
        offer(principal, policy.rule("intake", command.__name__), target, Action)
        for command, admits in ADMITTED.items()
        if admits(state)
    )
    return [action for action in found if action is not None]
