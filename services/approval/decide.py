"""Approval's decisions: (state, command, principal, now) -> new events, or a domain error.

Checks run in this order, and nothing is decided on a refusal: the principal's role
(NotAllowed), the request's existence (NotFound), the scope of the role it acts in, i.e. a
requester's OPD (NotAllowed), the step (WrongStep, naming the current step), then the command's
rules (InvalidInput, naming the field). Who may do what is ``events.policy``'s, enforced by
``infra.access``.
"""

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Final

from events import policy
from events.approval import (
    BAsigned,
    Disposed,
    DocumentsVerified,
    MeetingHeld,
    RequestRejected,
    RequestReturned,
    TaskAssigned,
)
from events.base import DomainEvent
from events.completeness import SECTION_LABELS
from events.envelope import Role
from infra import access
from infra.actions import Action, offer
from infra.errors import InvalidInput, NotFound, WrongStep
from infra.principal import Principal
from infra.wording import ROLE_LABELS, at_step
from services.approval.commands import (
    ApprovalCommand,
    AssignTeam,
    Dispose,
    RecordMeeting,
    RejectRequest,
    ReturnRequest,
    SignMinutes,
    VerifyDocuments,
)
from services.approval.state import ApprovalState, Status, current_step, who_must_act

CLOCK_SKEW: Final = dt.timedelta(minutes=5)
"""How far in the future a recorded meeting time may lie, for clocks that disagree."""

GET_REQUEST: Final = policy.rule("approval", "GetRequest")
LIST_REQUESTS: Final = policy.rule("approval", "ListRequests")

DEPARTMENT_SIGNERS: Final[frozenset[Role]] = frozenset({"KADIS", "KABID_TI"})
MINUTES_SIGNERS: Final[frozenset[Role]] = DEPARTMENT_SIGNERS | {"PEMOHON"}

_BEFORE_ASSIGNMENT: Final[frozenset[Status]] = frozenset(
    {
        "AWAITING_DISPOSITION",
        "AWAITING_VERIFICATION",
        "RETURNED",
        "AWAITING_MEETING",
        "AWAITING_SIGNATURE",
        "AWAITING_ASSIGNMENT",
    }
)


ADMITTED: Final[Mapping[type[ApprovalCommand], frozenset[Status]]] = {
    Dispose: frozenset({"AWAITING_DISPOSITION"}),
    VerifyDocuments: frozenset({"AWAITING_VERIFICATION"}),
    ReturnRequest: frozenset({"AWAITING_VERIFICATION"}),
    RecordMeeting: frozenset({"AWAITING_MEETING"}),
    SignMinutes: frozenset({"AWAITING_SIGNATURE"}),
    AssignTeam: frozenset({"AWAITING_ASSIGNMENT", "ASSIGNED"}),
    RejectRequest: _BEFORE_ASSIGNMENT,
}
"""Each command's step guard (the statuses that admit it), checked by ``decide`` and by
``available_actions``. AssignTeam again while the request is in development (ASSIGNED) is a new
Surat Tugas: it extends the team's period (or changes the team) and keeps the progress made."""


def rule_of(command: ApprovalCommand) -> policy.Rule:
    """The access rule of ``command`` (``events.policy``)."""
    return policy.rule("approval", type(command).__name__)


def required_role(command: ApprovalCommand) -> Role:
    """The role a command is exercised in by default: the responsible role of its step."""
    return rule_of(command).responsible_role


def acting_role(command: ApprovalCommand, principal: Principal) -> Role:
    """The role ``principal`` gives ``command`` in (own or delegated), or NotAllowed.

    For SignMinutes a KADIS who is not KABID_TI acts as KADIS; pass the result to
    ``principal.acting_as``.
    """
    return access.acting_role(principal, rule_of(command))


def ensure_visible(state: ApprovalState, principal: Principal) -> None:
    """Refuse a caller without a reading role (403), a request that does not exist (404), or
    another OPD's request to a requester (403), in that order."""
    access.authorize(principal, GET_REQUEST)
    if not state.exists:
        raise NotFound("Permohonan tidak dikenal oleh layanan persetujuan.")
    access.require_scope(principal, GET_REQUEST, access.Target(opd=state.opd))


def decide(
    state: ApprovalState, command: ApprovalCommand, principal: Principal, now: dt.datetime
) -> list[DomainEvent]:
    """The events ``command`` causes on the request ``state``; raises a DomainError if refused."""
    rule = rule_of(command)
    grant = access.authorize(principal, rule)
    if not state.exists:
        raise NotFound(f"Permohonan {command.request_id} tidak dikenal oleh layanan persetujuan.")
    if state.request_id != command.request_id:
        raise ValueError(f"command for {command.request_id} decided on {state.request_id}")
    access.require_scope(principal, rule, access.Target(opd=state.opd), grant)
    _admit(state, command)
    return [_HANDLERS[type(command)](state, command, now)]


def available_actions(state: ApprovalState, principal: Principal) -> list[Action]:
    """The commands ``principal`` may give on the request now: those whose step guard
    (``ADMITTED``) admits the request and whose access rule admits the caller, in the table's
    order. Nothing for a request that does not exist."""
    if not state.exists:
        return []
    target = access.Target(opd=state.opd)
    found = (
        offer(principal, policy.rule("approval", command.__name__), target, Action)
        for command, admitted in ADMITTED.items()
        if state.status in admitted
    )
    return [action for action in found if action is not None]


def _admit(state: ApprovalState, command: ApprovalCommand) -> None:
    if state.status in ADMITTED[type(command)]:
        return
    code = current_step(state)
    assert code is not None  # the request exists
    where = at_step(code)
    if state.status == "REJECTED":
        why = f"permohonan sudah ditolak pada {where}"
    elif state.status == "WITHDRAWN":
        why = f"permohonan sudah ditarik oleh pemohon pada {where}"
    elif state.status == "RETURNED":
        why = f"permohonan dikembalikan pada {where} dan menunggu perbaikan dari pemohon"
    else:
        waiting = who_must_act(state)
        who = ROLE_LABELS[waiting] if waiting else "siapa pun"
        why = f"permohonan sedang pada {where}, menunggu {who}"
    raise WrongStep(f"{rule_of(command).label} tidak dapat dilakukan sekarang: {why}.", code)


def _sections(paths: list[str]) -> str:
    return ", ".join(f"{SECTION_LABELS[p]} ({p})" for p in paths)


def _dispose(state: ApprovalState, cmd: Dispose, now: dt.datetime) -> Disposed:
    return Disposed(
        request_id=cmd.request_id,
        to_role=cmd.to_role,
        note=cmd.note,
        disposition_number=cmd.disposition_number,
        instructions=cmd.instructions,
        urgency=cmd.urgency,
        classification=cmd.classification,
        respond_by=cmd.respond_by,
    )


def _verify(state: ApprovalState, cmd: VerifyDocuments, now: dt.datetime) -> DocumentsVerified:
    missing = state.missing_sections
    unacknowledged = [s for s in missing if s not in cmd.acknowledged_missing]
    if unacknowledged:
        raise InvalidInput(
            f"Bagian yang masih kosong belum dinyatakan diterima: {_sections(unacknowledged)}. "
            "Sebutkan bagian itu di acknowledged_missing, atau kembalikan permohonan kepada "
            "pemohon untuk diperbaiki.",
            field="acknowledged_missing",
        )
    present = [s for s in cmd.acknowledged_missing if s not in missing]
    if present:
        raise InvalidInput(
            f"Bagian ini sudah terisi, jadi tidak dapat diterima sebagai kosong: "
            f"{_sections(present)}. Hapus dari acknowledged_missing.",
            field="acknowledged_missing",
        )
    return DocumentsVerified(
        request_id=cmd.request_id, missing_sections=tuple(missing), note=cmd.note
    )


def _return(state: ApprovalState, cmd: ReturnRequest, now: dt.datetime) -> RequestReturned:
    return RequestReturned(
        request_id=cmd.request_id,
        reasons=cmd.reasons,
        missing_sections=tuple(state.missing_sections),
    )


def _meet(state: ApprovalState, cmd: RecordMeeting, now: dt.datetime) -> MeetingHeld:
    if cmd.held_at > now + CLOCK_SKEW:
        raise InvalidInput(
            "Rapat belum berlangsung: waktu rapat tidak boleh di masa depan.", field="held_at"
        )
    known = [p.user_id for p in cmd.participants if p.user_id is not None]
    if len(set(known)) != len(known):
        raise InvalidInput(
            "Seorang peserta tercantum dua kali; sebut setiap peserta sekali.", "participants"
        )
    return MeetingHeld(
        request_id=cmd.request_id,
        held_at=cmd.held_at,
        participants=cmd.participants,
        scope=cmd.scope,
        timeline=cmd.timeline,
        minutes_number=cmd.minutes_number,
        notes=cmd.notes,
    )


def _sign(state: ApprovalState, cmd: SignMinutes, now: dt.datetime) -> BAsigned:
    assert state.meeting is not None  # MeetingHeld led here
    roles = {s.role for s in cmd.signatories}
    ids = [s.user_id for s in cmd.signatories]
    if len(set(ids)) != len(ids):
        raise InvalidInput(
            "Seorang penandatangan tercantum dua kali; sebut setiap penandatangan sekali.",
            field="signatories",
        )
    if not roles <= MINUTES_SIGNERS:
        strangers = ", ".join(sorted(roles - MINUTES_SIGNERS))
        raise InvalidInput(
            "Berita Acara hanya ditandatangani sebagai KADIS, KABID_TI atau PEMOHON, bukan "
            f"{strangers}.",
            field="signatories",
        )
    if not roles & DEPARTMENT_SIGNERS:
        raise InvalidInput(
            "Berita Acara harus ditandatangani oleh Kepala Dinas (KADIS) atau Kepala Bidang TI "
            "(KABID_TI).",
            field="signatories",
        )
    if "PEMOHON" not in roles:
        raise InvalidInput(
            "Berita Acara harus ditandatangani juga oleh pemohon (PEMOHON).", field="signatories"
        )
    return BAsigned(
        request_id=cmd.request_id,
        minutes_number=cmd.minutes_number or state.meeting.minutes_number,
        signatories=cmd.signatories,
    )


def _assign(state: ApprovalState, cmd: AssignTeam, now: dt.datetime) -> TaskAssigned:
    if len(set(cmd.team_members)) != len(cmd.team_members):
        raise InvalidInput(
            "Seorang anggota tim tercantum dua kali; sebut setiap anggota sekali.", "team_members"
        )
    if cmd.team_lead not in cmd.team_members:
        raise InvalidInput("Ketua tim harus salah satu anggota tim.", field="team_lead")
    if cmd.period_end < cmd.period_start:
        raise InvalidInput("Akhir masa tugas tidak boleh sebelum awalnya.", field="period_end")
    if state.opd is None:
        raise InvalidInput(
            "OPD pemohon permohonan ini belum diketahui; tunggu sampai permohonan diterima.",
            field="request_id",
        )
    return TaskAssigned(
        request_id=cmd.request_id,
        letter_number=cmd.letter_number,
        team_members=cmd.team_members,
        team_lead=cmd.team_lead,
        opd=state.opd,
        period_start=cmd.period_start,
        period_end=cmd.period_end,
    )


def _reject(state: ApprovalState, cmd: RejectRequest, now: dt.datetime) -> RequestRejected:
    return RequestRejected(request_id=cmd.request_id, reason=cmd.reason)


_HANDLERS: Final[Mapping[type[ApprovalCommand], Callable[..., DomainEvent]]] = {
    Dispose: _dispose,
    VerifyDocuments: _verify,
    ReturnRequest: _return,
    RecordMeeting: _meet,
    SignMinutes: _sign,
    AssignTeam: _assign,
    RejectRequest: _reject,
}
