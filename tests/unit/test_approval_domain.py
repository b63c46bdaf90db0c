"""Approval's pure domain (SOP steps 3-7): fold, decide, who acts, and every refusal."""

import datetime as dt
import typing

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from events.approval import (
    BAsigned,
    Disposed,
    DocumentsVerified,
    MeetingHeld,
    Participant,
    RequestRejected,
    RequestReturned,
    Signatory,
    TaskAssigned,
    Timeline,
)
from events.base import DomainEvent
from events.completeness import SECTION_LABELS
from events.dev_tracking import DevelopmentStarted, RequestCompleted
from events.envelope import OnBehalfOf, Role
from events.identity import OpdRegistered
from events.intake import (
    BusinessProcess,
    NeedsAnalysis,
    RequestLetter,
    RequestReceived,
    RequestRevised,
    RequestSubmitted,
    RequestWithdrawn,
)
from events.steps import step
from infra.errors import DomainError, InvalidInput, NotAllowed, NotFound, WrongStep
from infra.principal import Principal
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
from services.approval.domain import (
    INITIAL,
    ApprovalState,
    Status,
    acting_role,
    current_step,
    decide,
    ensure_visible,
    evolve,
    fold,
    required_role,
    rule_of,
    who_must_act,
)

WIB = dt.timezone(dt.timedelta(hours=7))
NOW = dt.datetime(2024, 2, 7, 10, 0, tzinfo=WIB)
REQ = "0190f1c2-7a3b-7c4d-8e5f-0123456789ab"
OPD = "DINKES"
ROLES: tuple[Role, ...] = ("PEMOHON", "KADIS", "KABID_TI", "TIM_PENGEMBANG", "ADMIN", "AUDITOR")


def principal(role: Role, opd: str | None = None) -> Principal:
    home = opd or (OPD if role == "PEMOHON" else "DISKOMINFOSTANDI")
    return Principal(
        user_id=f"u-{role.lower()}", name=role.title(), roles=frozenset({role}), opd=home
    )


FULL_NEEDS = NeedsAnalysis(
    background="Pendataan pasien masih manual.",
    objectives="Mempercepat layanan.",
    intended_users=("Petugas puskesmas",),
    features=("Registrasi pasien", "Laporan bulanan"),
    platform="Web, PostgreSQL",
)
FULL_PROCESS = BusinessProcess(
    system_flow="Petugas mendaftar pasien, dokter mencatat diagnosis.",
    input_data=("Identitas pasien",),
    output_data=("Laporan kunjungan",),
    validation_mechanism="NIK divalidasi 16 digit.",
    user_roles=("Petugas", "Dokter"),
    forms_and_reporting="Laporan bulanan ke Dinkes.",
    access_rights_management="Hak akses per role.",
    user_management="Admin membuat akun.",
    database_management="Backup harian.",
)
PARTIAL_PROCESS = FULL_PROCESS.model_copy(update={"user_roles": (), "database_management": None})
PARTIAL_GAPS = ("business_process.user_roles", "business_process.database_management")


def submitted(process: BusinessProcess = FULL_PROCESS) -> RequestSubmitted:
    return RequestSubmitted(
        request_id=REQ,
        opd=OPD,
        title="SIMPUS",
        summary="Sistem informasi puskesmas.",
        letter=RequestLetter(number="400/12/DINKES/2024", date=dt.date(2024, 2, 1)),
        needs_analysis=FULL_NEEDS,
        business_process=process,
        submitted_via="WEB",
    )


RECEIVED = RequestReceived(request_id=REQ, received_by="u-sekretariat")
REVISED = RequestRevised(request_id=REQ, business_process=FULL_PROCESS, note="Sudah dilengkapi.")
WITHDRAWN = RequestWithdrawn(request_id=REQ, reason="Anggaran dialihkan.")

DISPOSE = Dispose(request_id=REQ, note="Mohon ditindaklanjuti.")
VERIFY = VerifyDocuments(request_id=REQ)
RETURN = ReturnRequest(request_id=REQ, reasons=("Role pengguna belum diisi",))
PARTICIPANTS = (
    Participant(name="Budi", position="Kepala Bidang TI", organisation="Diskominfostandi"),
    Participant(name="Sari", position="Kepala Seksi", organisation=OPD, user_id="u-pemohon"),
)
MEET = RecordMeeting(
    request_id=REQ,
    held_at=NOW - dt.timedelta(hours=3),
    participants=PARTICIPANTS,
    scope="Registrasi pasien dan laporan bulanan.",
    timeline=Timeline(planned_start=dt.date(2024, 2, 12), planned_end=dt.date(2024, 3, 29)),
    minutes_number="BA/01/2024",
)
KABID = Signatory(user_id="u-kabid_ti", name="Budi", role="KABID_TI")
REQUESTER = Signatory(user_id="u-pemohon", name="Sari", role="PEMOHON")
SIGN = SignMinutes(request_id=REQ, signatories=(KABID, REQUESTER))
ASSIGN = AssignTeam(
    request_id=REQ,
    letter_number="800/05/DISKOMINFOSTANDI/2024",
    team_members=("u-dev1", "u-dev2"),
    team_lead="u-dev1",
    period_start=dt.date(2024, 2, 12),
    period_end=dt.date(2024, 3, 29),
)
REJECT = RejectRequest(request_id=REQ, reason="Sudah ada aplikasi nasional.")

COMMANDS: tuple[ApprovalCommand, ...] = (DISPOSE, VERIFY, RETURN, MEET, SIGN, ASSIGN, REJECT)

DISPOSED = Disposed(request_id=REQ, to_role="KABID_TI", note="Mohon ditindaklanjuti.")
VERIFIED = DocumentsVerified(request_id=REQ)
RETURNED = RequestReturned(request_id=REQ, reasons=("Belum lengkap",))
MET = MeetingHeld(
    request_id=REQ,
    held_at=MEET.held_at,
    participants=PARTICIPANTS,
    scope=MEET.scope,
    timeline=MEET.timeline,
    minutes_number="BA/01/2024",
)
SIGNED = BAsigned(request_id=REQ, minutes_number="BA/01/2024", signatories=(KABID, REQUESTER))
ASSIGNED = TaskAssigned(
    request_id=REQ,
    letter_number="800/05",
    team_members=("u-dev1",),
    team_lead="u-dev1",
    opd=OPD,
    period_start=dt.date(2024, 2, 12),
    period_end=dt.date(2024, 3, 29),
)
REJECTED = RequestRejected(request_id=REQ, reason="Tidak sesuai prioritas.")
COMPLETED = RequestCompleted(request_id=REQ, completed_on=dt.date(2024, 4, 1))

HISTORIES: dict[Status, tuple[DomainEvent, ...]] = {
    "SUBMITTED": (submitted(),),
    "AWAITING_DISPOSITION": (submitted(), RECEIVED),
    "AWAITING_VERIFICATION": (submitted(), RECEIVED, DISPOSED),
    "RETURNED": (submitted(), RECEIVED, DISPOSED, RETURNED),
    "AWAITING_MEETING": (submitted(), RECEIVED, DISPOSED, VERIFIED),
    "AWAITING_SIGNATURE": (submitted(), RECEIVED, DISPOSED, VERIFIED, MET),
    "AWAITING_ASSIGNMENT": (submitted(), RECEIVED, DISPOSED, VERIFIED, MET, SIGNED),
    "ASSIGNED": (submitted(), RECEIVED, DISPOSED, VERIFIED, MET, SIGNED, ASSIGNED),
    "COMPLETED": (submitted(), RECEIVED, DISPOSED, VERIFIED, MET, SIGNED, ASSIGNED, COMPLETED),
    "REJECTED": (submitted(), RECEIVED, DISPOSED, REJECTED),
    "WITHDRAWN": (submitted(), RECEIVED, DISPOSED, VERIFIED, WITHDRAWN),
}
STATES: dict[Status, ApprovalState] = {status: fold(h) for status, h in HISTORIES.items()}

READY_FOR: dict[type[ApprovalCommand], Status] = {
    Dispose: "AWAITING_DISPOSITION",
    VerifyDocuments: "AWAITING_VERIFICATION",
    ReturnRequest: "AWAITING_VERIFICATION",
    RecordMeeting: "AWAITING_MEETING",
    SignMinutes: "AWAITING_SIGNATURE",
    AssignTeam: "AWAITING_ASSIGNMENT",
    RejectRequest: "AWAITING_DISPOSITION",
}
"""A state at which each command is accepted."""

ALLOWED: dict[type[ApprovalCommand], set[Role]] = {
    Dispose: {"KADIS"},
    VerifyDocuments: {"KABID_TI"},
    ReturnRequest: {"KABID_TI"},
    RecordMeeting: {"KABID_TI"},
    SignMinutes: {"KABID_TI", "KADIS"},
    AssignTeam: {"KADIS"},
    RejectRequest: {"KADIS"},
}
"""The role matrix as the brief states it, written out independently of ``events.policy``."""

ACCEPTED_AT: dict[type[ApprovalCommand], set[Status]] = {
    Dispose: {"AWAITING_DISPOSITION"},
    VerifyDocuments: {"AWAITING_VERIFICATION"},
    ReturnRequest: {"AWAITING_VERIFICATION"},
    RecordMeeting: {"AWAITING_MEETING"},
    SignMinutes: {"AWAITING_SIGNATURE"},
    AssignTeam: {"AWAITING_ASSIGNMENT", "ASSIGNED"},
    RejectRequest: {
        "AWAITING_DISPOSITION",
        "AWAITING_VERIFICATION",
        "RETURNED",
        "AWAITING_MEETING",
        "AWAITING_SIGNATURE",
        "AWAITING_ASSIGNMENT",
    },
}


def step_once(
    state: ApprovalState, command: ApprovalCommand, role: Role
) -> tuple[ApprovalState, list[DomainEvent]]:
    new = decide(state, command, principal(role), NOW)
    return fold(new, state), new


# The happy path -------------------------------------------------------------------------------


def test_happy_path_through_steps_3_to_7() -> None:
    state = fold([submitted()])
    assert (state.status, current_step(state), who_must_act(state)) == (
        "SUBMITTED",
        "RECEIVE",
        "KADIS",
    )
    state = evolve(state, RECEIVED)
    assert (current_step(state), who_must_act(state)) == ("DISPOSE", "KADIS")

    expected: list[tuple[ApprovalCommand, Role, type[DomainEvent], str, Role]] = [
        (DISPOSE, "KADIS", Disposed, "VERIFY", "KABID_TI"),
        (VERIFY, "KABID_TI", DocumentsVerified, "MEETING", "KABID_TI"),
        (MEET, "KABID_TI", MeetingHeld, "SIGN_MINUTES", "KABID_TI"),
        (SIGN, "KABID_TI", BAsigned, "ASSIGN", "KADIS"),
        (ASSIGN, "KADIS", TaskAssigned, "DEVELOP", "TIM_PENGEMBANG"),
    ]
    for command, role, event_type, step_after, actor_after in expected:
        state, new = step_once(state, command, role)
        assert [type(e) for e in new] == [event_type]
        assert (current_step(state), who_must_act(state)) == (step_after, actor_after)

    assert state.status == "ASSIGNED"
    assert state.disposition is not None and state.disposition.note == DISPOSE.note
    assert state.verification == DocumentsVerified(request_id=REQ, missing_sections=())
    assert state.meeting is not None and state.meeting.timeline == MEET.timeline
    assert state.minutes is not None and state.minutes.minutes_number == "BA/01/2024"
    assert state.minutes.signatories == (KABID, REQUESTER)
    assert state.assignment is not None and state.assignment.team_lead == "u-dev1"


def test_the_events_carry_the_commands_data() -> None:
    [disposed] = decide(STATES["AWAITING_DISPOSITION"], DISPOSE, principal("KADIS"), NOW)
    assert disposed == Disposed(request_id=REQ, to_role="KABID_TI", note=DISPOSE.note)
    [met] = decide(STATES["AWAITING_MEETING"], MEET, principal("KABID_TI"), NOW)
    assert met == MET
    [assigned] = decide(STATES["AWAITING_ASSIGNMENT"], ASSIGN, principal("KADIS"), NOW)
    assert assigned == TaskAssigned(**ASSIGN.model_dump(), opd=OPD)
    [rejected] = decide(STATES["AWAITING_MEETING"], REJECT, principal("KADIS"), NOW)
    assert rejected == RequestRejected(request_id=REQ, reason=REJECT.reason)


def test_signed_minutes_keep_the_draft_number_unless_given_one() -> None:
    state = STATES["AWAITING_SIGNATURE"]
    [kept] = decide(state, SIGN, principal("KADIS"), NOW)
    assert isinstance(kept, BAsigned) and kept.minutes_number == "BA/01/2024"
    renumbered = SIGN.model_copy(update={"minutes_number": "BA/01-F/2024"})
    [final] = decide(state, renumbered, principal("KADIS"), NOW)
    assert isinstance(final, BAsigned) and final.minutes_number == "BA/01-F/2024"


def test_a_meeting_without_a_number_leaves_the_signed_minutes_to_the_register() -> None:
    [met] = decide(
        STATES["AWAITING_MEETING"],
        MEET.model_copy(update={"minutes_number": None}),
        principal("KABID_TI"),
        NOW,
    )
    assert isinstance(met, MeetingHeld) and met.minutes_number is None
    state = STATES["AWAITING_SIGNATURE"].model_copy(update={"meeting": met})
    [signed] = decide(state, SIGN, principal("KADIS"), NOW)
    assert isinstance(signed, BAsigned) and signed.minutes_number is None
    typed = SIGN.model_copy(update={"minutes_number": "BA/02/2024"})
    [given] = decide(state, typed, principal("KADIS"), NOW)
    assert isinstance(given, BAsigned) and given.minutes_number == "BA/02/2024"


# Roles ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: type(c).__name__)
def test_every_command_by_every_role(command: ApprovalCommand, role: Role) -> None:
    state = STATES[READY_FOR[type(command)]]
    if role in ALLOWED[type(command)]:
        events = decide(state, command, principal(role), NOW)
        assert len(events) == 1
    else:
        with pytest.raises(NotAllowed):
            decide(state, command, principal(role), NOW)


def test_the_declared_role_mapping_matches_the_matrix() -> None:
    assert {type(c): set(rule_of(c).roles) for c in COMMANDS} == ALLOWED
    assert set(ALLOWED) == set(typing.get_args(ApprovalCommand))
    assert {type(c): required_role(c) for c in COMMANDS} == {
        Dispose: "KADIS",
        VerifyDocuments: "KABID_TI",
        ReturnRequest: "KABID_TI",
        RecordMeeting: "KABID_TI",
        SignMinutes: "KABID_TI",
        AssignTeam: "KADIS",
        RejectRequest: "KADIS",
    }


def test_acting_role_is_the_principals_own_allowed_role() -> None:
    assert acting_role(SIGN, principal("KADIS")) == "KADIS"
    assert acting_role(SIGN, principal("KABID_TI")) == "KABID_TI"
    both = Principal(user_id="u", name="U", roles=frozenset({"KADIS", "KABID_TI"}))
    assert acting_role(SIGN, both) == "KABID_TI"
    with pytest.raises(NotAllowed, match="KABID_TI atau KADIS"):
        acting_role(SIGN, principal("AUDITOR"))


def test_an_acting_official_may_act_by_delegation() -> None:
    plt = Principal(
        user_id="u-sekdis",
        name="Sekretaris",
        roles=frozenset({"ADMIN"}),
        delegations=(OnBehalfOf(user_id="u-kadis", role="KADIS", kind="PLT"),),
    )
    assert acting_role(DISPOSE, plt) == "KADIS"
    assert plt.acting_as(acting_role(DISPOSE, plt)).on_behalf_of is not None
    [event] = decide(STATES["AWAITING_DISPOSITION"], DISPOSE, plt, NOW)
    assert isinstance(event, Disposed)
    with pytest.raises(NotAllowed):
        decide(STATES["AWAITING_VERIFICATION"], VERIFY, plt, NOW)


def test_a_requester_sees_only_its_own_agencys_request() -> None:
    state = STATES["AWAITING_MEETING"]
    ensure_visible(state, principal("PEMOHON"))
    with pytest.raises(NotAllowed):
        ensure_visible(state, principal("PEMOHON", opd="DISDIK"))
    for role in ("KADIS", "KABID_TI", "TIM_PENGEMBANG", "AUDITOR"):
        ensure_visible(state, principal(role))
    with pytest.raises(NotAllowed):  # ADMIN manages users, and sees no request
        ensure_visible(state, principal("ADMIN"))
    with pytest.raises(NotFound):
        ensure_visible(INITIAL, principal("AUDITOR"))
    with pytest.raises(NotAllowed):  # the role first: a refused caller learns nothing
        ensure_visible(INITIAL, principal("ADMIN"))


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: type(c).__name__)
def test_a_requester_of_another_opd_cannot_act(command: ApprovalCommand) -> None:
    with pytest.raises(NotAllowed):
        decide(STATES[READY_FOR[type(command)]], command, principal("PEMOHON", "DISDIK"), NOW)


# Existence and steps --------------------------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: type(c).__name__)
def test_an_unknown_request_is_not_found(command: ApprovalCommand) -> None:
    role = required_role(command)
    with pytest.raises(NotFound):
        decide(INITIAL, command, principal(role), NOW)
    assert current_step(INITIAL) is None and who_must_act(INITIAL) is None


def test_the_role_is_checked_before_existence() -> None:
    with pytest.raises(NotAllowed):
        decide(INITIAL, DISPOSE, principal("AUDITOR"), NOW)


WRONG_STEP_CASES = [
    (command, status)
    for command in COMMANDS
    for status in STATES
    if status not in ACCEPTED_AT[type(command)]
]


@pytest.mark.parametrize(
    ("command", "status"),
    WRONG_STEP_CASES,
    ids=[f"{type(c).__name__}-{s}" for c, s in WRONG_STEP_CASES],
)
def test_out_of_order_commands_name_the_current_step(
    command: ApprovalCommand, status: Status
) -> None:
    state = STATES[status]
    with pytest.raises(WrongStep) as refused:
        decide(state, command, principal(required_role(command)), NOW)
    code = current_step(state)
    assert code is not None
    assert refused.value.current_step == code
    assert f"langkah {step(code).number} ({step(code).label_id})" in refused.value.message
    assert rule_of(command).label in refused.value.message


@pytest.mark.parametrize(
    ("status", "step", "actor"),
    [
        ("SUBMITTED", "RECEIVE", "KADIS"),
        ("AWAITING_DISPOSITION", "DISPOSE", "KADIS"),
        ("AWAITING_VERIFICATION", "VERIFY", "KABID_TI"),
        ("RETURNED", "VERIFY", "PEMOHON"),
        ("AWAITING_MEETING", "MEETING", "KABID_TI"),
        ("AWAITING_SIGNATURE", "SIGN_MINUTES", "KABID_TI"),
        ("AWAITING_ASSIGNMENT", "ASSIGN", "KADIS"),
        ("ASSIGNED", "DEVELOP", "TIM_PENGEMBANG"),
        ("COMPLETED", "DONE", None),
        ("REJECTED", "VERIFY", None),
        ("WITHDRAWN", "MEETING", None),
    ],
)
def test_current_step_and_who_must_act(status: Status, step: str, actor: Role | None) -> None:
    state = STATES[status]
    assert state.status == status
    assert (current_step(state), who_must_act(state)) == (step, actor)


# The completeness check and the return-and-revise loop ----------------------------------------


def test_missing_sections_come_from_the_submitted_documents() -> None:
    assert STATES["AWAITING_VERIFICATION"].missing_sections == []
    partial = fold([submitted(PARTIAL_PROCESS), RECEIVED, DISPOSED])
    assert tuple(partial.missing_sections) == PARTIAL_GAPS
    unseen = fold([RECEIVED, DISPOSED])  # the submission never reached approval
    assert unseen.missing_sections == list(SECTION_LABELS)


def test_missing_sections_must_be_acknowledged_to_verify() -> None:
    state = fold([submitted(PARTIAL_PROCESS), RECEIVED, DISPOSED])
    kabid = principal("KABID_TI")
    with pytest.raises(InvalidInput) as refused:
        decide(state, VERIFY, kabid, NOW)
    assert refused.value.field == "acknowledged_missing"
    assert "business_process.user_roles" in refused.value.message

    half = VerifyDocuments(request_id=REQ, acknowledged_missing=PARTIAL_GAPS[:1])
    with pytest.raises(InvalidInput, match="database_management"):
        decide(state, half, kabid, NOW)

    knowingly = VerifyDocuments(request_id=REQ, acknowledged_missing=PARTIAL_GAPS, note="Nanti.")
    [verified] = decide(state, knowingly, kabid, NOW)
    assert verified == DocumentsVerified(
        request_id=REQ, missing_sections=PARTIAL_GAPS, note="Nanti."
    )


def test_acknowledging_a_section_that_is_present_is_refused() -> None:
    stale = VerifyDocuments(request_id=REQ, acknowledged_missing=("needs_analysis.background",))
    with pytest.raises(InvalidInput) as refused:
        decide(STATES["AWAITING_VERIFICATION"], stale, principal("KABID_TI"), NOW)
    assert refused.value.field == "acknowledged_missing"


def test_return_and_revise_loop() -> None:
    kabid = principal("KABID_TI")
    state = fold([submitted(PARTIAL_PROCESS), RECEIVED, DISPOSED])

    [returned] = decide(state, RETURN, kabid, NOW)
    assert returned == RequestReturned(
        request_id=REQ, reasons=RETURN.reasons, missing_sections=PARTIAL_GAPS
    )
    state = evolve(state, returned)
    assert (state.status, current_step(state), who_must_act(state)) == (
        "RETURNED",
        "VERIFY",
        "PEMOHON",
    )
    for command in (VERIFY, RETURN):
        with pytest.raises(WrongStep, match="menunggu perbaikan dari pemohon") as refused:
            decide(state, command, kabid, NOW)
        assert refused.value.current_step == "VERIFY"

    # A revision that still lacks a section: back to KABID_TI, who returns it again.
    still_partial = FULL_PROCESS.model_copy(update={"database_management": None})
    state = evolve(
        state, RequestRevised(request_id=REQ, business_process=still_partial, note="Sebagian.")
    )
    assert (state.status, who_must_act(state)) == ("AWAITING_VERIFICATION", "KABID_TI")
    assert state.missing_sections == ["business_process.database_management"]
    state, _ = step_once(state, RETURN, "KABID_TI")

    state = evolve(state, REVISED)
    assert (state.returns, state.revisions) == (2, 2)
    assert state.missing_sections == []
    state, [verified] = step_once(state, VERIFY, "KABID_TI")
    assert verified == DocumentsVerified(request_id=REQ)
    assert current_step(state) == "MEETING"


def test_a_revision_replaces_only_the_parts_it_carries() -> None:
    state = evolve(STATES["RETURNED"], RequestRevised(request_id=REQ, title="SIMPUS 2", note="x"))
    assert state.title == "SIMPUS 2"
    assert state.business_process == FULL_PROCESS and state.needs_analysis == FULL_NEEDS


# Rejection and withdrawal -----------------------------------------------------------------------


@pytest.mark.parametrize("status", sorted(ACCEPTED_AT[RejectRequest]))
def test_kadis_may_reject_any_time_before_the_assignment(status: Status) -> None:
    state, [rejected] = step_once(STATES[status], REJECT, "KADIS")
    assert isinstance(rejected, RequestRejected)
    assert state.status == "REJECTED" and state.rejection == rejected
    assert current_step(state) == current_step(STATES[status])
    assert who_must_act(state) is None


def test_no_rejection_after_the_assignment() -> None:
    with pytest.raises(WrongStep) as refused:
        decide(STATES["ASSIGNED"], REJECT, principal("KADIS"), NOW)
    assert refused.value.current_step == "DEVELOP"


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: type(c).__name__)
def test_a_withdrawn_request_is_closed(command: ApprovalCommand) -> None:
    state = STATES["WITHDRAWN"]
    assert state.withdrawal == WITHDRAWN and state.closed
    with pytest.raises(WrongStep, match="sudah ditarik") as refused:
        decide(state, command, principal(required_role(command)), NOW)
    assert refused.value.current_step == "MEETING"


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: type(c).__name__)
def test_a_rejected_request_is_closed(command: ApprovalCommand) -> None:
    with pytest.raises(WrongStep, match="sudah ditolak"):
        decide(STATES["REJECTED"], command, principal(required_role(command)), NOW)


@pytest.mark.parametrize("status", ["SUBMITTED", "AWAITING_DISPOSITION", "RETURNED", "ASSIGNED"])
def test_withdrawal_closes_at_the_step_it_finds(status: Status) -> None:
    before = STATES[status]
    after = evolve(before, WITHDRAWN)
    assert after.status == "WITHDRAWN"
    assert current_step(after) == current_step(before)
    assert who_must_act(after) is None


def test_the_first_ending_stands() -> None:
    rejected = STATES["REJECTED"]
    assert evolve(rejected, WITHDRAWN) == rejected
    withdrawn = STATES["WITHDRAWN"]
    assert evolve(withdrawn, REJECTED) == withdrawn


# Rules of one field ---------------------------------------------------------------------------


def test_a_meeting_cannot_be_recorded_before_it_is_held() -> None:
    future = MEET.model_copy(update={"held_at": NOW + dt.timedelta(hours=1)})
    with pytest.raises(InvalidInput) as refused:
        decide(STATES["AWAITING_MEETING"], future, principal("KABID_TI"), NOW)
    assert refused.value.field == "held_at"
    skewed = MEET.model_copy(update={"held_at": NOW + dt.timedelta(minutes=2)})
    assert decide(STATES["AWAITING_MEETING"], skewed, principal("KABID_TI"), NOW)


def test_a_participant_listed_twice_is_refused() -> None:
    twice = MEET.model_copy(update={"participants": (PARTICIPANTS[1], PARTICIPANTS[1])})
    with pytest.raises(InvalidInput) as refused:
        decide(STATES["AWAITING_MEETING"], twice, principal("KABID_TI"), NOW)
    assert refused.value.field == "participants"


KADIS_SIG = Signatory(user_id="u-kadis", name="Kadis", role="KADIS")
AUDITOR_SIG = Signatory(user_id="u-auditor", name="Inspektur", role="AUDITOR")


@pytest.mark.parametrize(
    ("signatories", "message"),
    [
        ((KABID,), "PEMOHON"),
        ((REQUESTER,), r"\(KADIS\) atau Kepala Bidang TI \(KABID_TI\)"),
        ((KABID, REQUESTER, AUDITOR_SIG), "AUDITOR"),
        ((KABID, REQUESTER, KABID.model_copy(update={"role": "KADIS"})), "dua kali"),
    ],
)
def test_the_minutes_need_the_department_and_the_requester(
    signatories: tuple[Signatory, ...], message: str
) -> None:
    command = SignMinutes(request_id=REQ, signatories=signatories)
    with pytest.raises(InvalidInput, match=message) as refused:
        decide(STATES["AWAITING_SIGNATURE"], command, principal("KABID_TI"), NOW)
    assert refused.value.field == "signatories"


def test_the_minutes_may_be_signed_by_both_heads_and_an_acting_official() -> None:
    plh = REQUESTER.model_copy(
        update={"on_behalf_of": OnBehalfOf(user_id="u-kepala-dinkes", role="PEMOHON", kind="PLH")}
    )
    command = SignMinutes(request_id=REQ, signatories=(KADIS_SIG, KABID, plh))
    [signed] = decide(STATES["AWAITING_SIGNATURE"], command, principal("KADIS"), NOW)
    assert isinstance(signed, BAsigned) and signed.signatories == (KADIS_SIG, KABID, plh)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"team_members": ("u-dev1", "u-dev1")}, "team_members"),
        ({"team_lead": "u-dev9"}, "team_lead"),
        ({"period_end": dt.date(2024, 2, 11)}, "period_end"),
    ],
)
def test_assignment_rules(changes: dict[str, object], field: str) -> None:
    command = ASSIGN.model_copy(update=changes)
    with pytest.raises(InvalidInput) as refused:
        decide(STATES["AWAITING_ASSIGNMENT"], command, principal("KADIS"), NOW)
    assert refused.value.field == field


# Commands' own validation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: Dispose(request_id=REQ, note="x", urgent=True),  # type: ignore[call-arg]
        lambda: Dispose(request_id=REQ, note="   "),
        lambda: Dispose(request_id=REQ, note="x", to_role="KADIS"),  # type: ignore[arg-type]
        lambda: VerifyDocuments(request_id=REQ, acknowledged_missing=("business_process.x",)),
        lambda: VerifyDocuments(request_id=REQ, acknowledged_missing=PARTIAL_GAPS[:1] * 2),
        lambda: ReturnRequest(request_id=REQ, reasons=()),
        lambda: ReturnRequest(request_id=REQ, reasons=("x" * 501,)),
        lambda: RecordMeeting(**{**MEET.model_dump(), "held_at": dt.datetime(2024, 2, 7, 9)}),
        lambda: SignMinutes(request_id=REQ, signatories=()),
        lambda: AssignTeam(**{**ASSIGN.model_dump(), "team_members": ()}),
        lambda: RejectRequest(request_id="", reason="x"),
    ],
)
def test_malformed_commands_are_refused(make: typing.Callable[[], object]) -> None:
    with pytest.raises(ValidationError):
        make()


def test_commands_are_frozen() -> None:
    with pytest.raises(ValidationError):
        DISPOSE.note = "changed"


# The fold ------------------------------------------------------------------------------------


def test_evolve_refuses_another_requests_event() -> None:
    other = RequestReceived(request_id="another", received_by="u-sekretariat")
    with pytest.raises(ValueError, match="another"):
        evolve(STATES["AWAITING_DISPOSITION"], other)


def test_kadis_extends_the_period_with_a_new_letter_while_in_development() -> None:
    later = ASSIGN.model_copy(update={"letter_number": None, "period_end": dt.date(2024, 5, 31)})
    [letter] = decide(STATES["ASSIGNED"], later, principal("KADIS"), NOW)
    assert isinstance(letter, TaskAssigned) and letter.period_end == dt.date(2024, 5, 31)
    state = evolve(STATES["ASSIGNED"], letter)
    assert (state.status, state.assignment, state.letters) == ("ASSIGNED", letter, 2)
    with pytest.raises(NotAllowed):
        decide(STATES["ASSIGNED"], later, principal("KABID_TI"), NOW)


def test_no_new_letter_once_development_is_completed() -> None:
    with pytest.raises(WrongStep) as refused:
        decide(STATES["COMPLETED"], ASSIGN, principal("KADIS"), NOW)
    assert refused.value.current_step == "DONE"
    late = evolve(STATES["COMPLETED"], ASSIGNED)  # a letter that crossed the completion
    assert late.status == "COMPLETED"
    assert evolve(STATES["REJECTED"], COMPLETED) == STATES["REJECTED"]


def test_events_approval_does_not_use_change_nothing() -> None:
    state = STATES["ASSIGNED"]
    started = DevelopmentStarted(request_id=REQ, started_on=dt.date(2024, 2, 12))
    assert evolve(state, started) == state
    assert evolve(state, OpdRegistered(code="DISDIK", name="Dinas Pendidikan")) == state
    assert evolve(state, RECEIVED) == state  # a late duplicate


def test_a_request_received_without_its_submission_still_opens() -> None:
    state = fold([RECEIVED])
    assert (state.request_id, state.status, state.opd) == (REQ, "AWAITING_DISPOSITION", None)
    late = evolve(state, submitted(PARTIAL_PROCESS))
    assert (late.status, late.opd, tuple(late.missing_sections)) == (
        "AWAITING_DISPOSITION",
        OPD,
        PARTIAL_GAPS,
    )


def test_only_the_first_submission_counts() -> None:
    state = STATES["AWAITING_VERIFICATION"]
    assert evolve(state, submitted(PARTIAL_PROCESS)) == state


def test_decide_does_not_change_the_state() -> None:
    state = STATES["AWAITING_DISPOSITION"]
    before = state.model_dump()
    decide(state, DISPOSE, principal("KADIS"), NOW)
    assert state.model_dump() == before


# Any sequence of commands --------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(COMMANDS), st.sampled_from(ROLES), st.booleans()), max_size=25
    )
)
def test_any_sequence_is_refused_cleanly_or_moves_one_step(
    moves: list[tuple[ApprovalCommand, Role, bool]],
) -> None:
    state = fold([submitted(), RECEIVED])
    for command, role, revise in moves:
        if revise and state.status == "RETURNED":
            state = evolve(state, REVISED)
        try:
            new = decide(state, command, principal(role), NOW)
        except DomainError:
            continue
        assert role in ALLOWED[type(command)]
        assert state.status in ACCEPTED_AT[type(command)]
        assert len(new) == 1 and new[0].model_dump()["request_id"] == REQ
        state = fold(new, state)
    assert current_step(state) is not None
    if state.closed:
        assert who_must_act(state) is None
