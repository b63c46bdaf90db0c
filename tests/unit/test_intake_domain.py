"""Intake's pure domain: steps 1-2, the return-and-revise loop, withdrawal, and every refusal."""

import datetime as dt
import typing
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from events import policy
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
from events.catalog import EVENTS_BY_SERVICE
from events.dev_tracking import ProgressReported
from events.envelope import OnBehalfOf, Role
from events.intake import (
    Attachment,
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
from services.intake.domain import (
    MAX_ATTACHMENT_BYTES,
    Command,
    InconsistentHistory,
    IntakeCommand,
    ReceiveRequest,
    RequestState,
    ReviseRequest,
    SubmitRequest,
    WithdrawRequest,
    current_step,
    decide,
    evolve,
    fold,
    required_role,
    who_must_act,
)

WIB = dt.timezone(dt.timedelta(hours=7))
NOW = dt.datetime(2024, 2, 5, 2, 0, tzinfo=dt.UTC)  # Monday 09:00 WIB
REQ = "0190f1c2-7a3b-7c4d-8e5f-0123456789ab"
OTHER_REQ = "0190f1c2-7a3b-7c4d-8e5f-0123456789ff"
OPD = "DINKES"
ROLES: tuple[Role, ...] = ("PEMOHON", "KADIS", "KABID_TI", "TIM_PENGEMBANG", "ADMIN", "AUDITOR")


def who(role: Role, opd: str | None = OPD, user_id: str | None = None) -> Principal:
    return Principal(
        user_id=user_id or f"u-{role.lower()}", name=role.title(), roles=frozenset({role}), opd=opd
    )


REQUESTER = who("PEMOHON")
STRANGER = who("PEMOHON", opd="DISDIK", user_id="u-pemohon-disdik")
KADIS = who("KADIS", opd="DISKOMINFOSTANDI")


def attachment(n: int, size: int = 2048) -> Attachment:
    return Attachment(
        sha256=f"{n:064x}", size_bytes=size, media_type="application/pdf", filename=f"lamp{n}.pdf"
    )


LETTER = RequestLetter(number="440/012/DINKES/II/2024", date=dt.date(2024, 2, 1))
PARTIAL_NEEDS = NeedsAnalysis(background="Pendataan pasien masih manual.")
FULL_NEEDS = NeedsAnalysis(
    background="Pendataan pasien masih manual.",
    objectives="Mempercepat layanan.",
    intended_users=("Petugas puskesmas",),
    features=("Pendaftaran pasien", "Rekap kunjungan"),
    platform="Web, server Diskominfostandi",
)
FULL_PROCESS = BusinessProcess(
    system_flow="Pasien mendaftar, petugas memverifikasi.",
    input_data=("Identitas pasien",),
    output_data=("Rekap harian",),
    validation_mechanism="NIK diperiksa.",
    user_roles=("Petugas", "Kepala puskesmas"),
    forms_and_reporting="Formulir pendaftaran; laporan bulanan.",
    access_rights_management="Per puskesmas.",
    user_management="Admin dinas membuat akun.",
    database_management="PostgreSQL, cadangan harian.",
)


def submit_cmd(**overrides: object) -> SubmitRequest:
    fields: dict[str, object] = {
        "request_id": REQ,
        "title": "Sistem Informasi Puskesmas",
        "summary": "Aplikasi pendaftaran pasien puskesmas.",
        "letter": LETTER,
        "needs_analysis": PARTIAL_NEEDS,
        "attachments": (attachment(1),),
    }
    return SubmitRequest.model_validate(fields | overrides)


def receive_cmd() -> ReceiveRequest:
    return ReceiveRequest(request_id=REQ, agenda_number="AG-2024-0031")


def revise_cmd(**overrides: object) -> ReviseRequest:
    fields: dict[str, object] = {
        "request_id": REQ,
        "needs_analysis": FULL_NEEDS,
        "business_process": FULL_PROCESS,
        "note": "Formulir dan dokumen proses bisnis sudah dilengkapi.",
    }
    return ReviseRequest.model_validate(fields | overrides)


def withdraw_cmd() -> WithdrawRequest:
    return WithdrawRequest(request_id=REQ, reason="Anggaran tahun ini dialihkan.")


# Approval's events, as intake consumes them.
def disposed() -> Disposed:
    return Disposed(request_id=REQ, to_role="KABID_TI", note="Mohon ditindaklanjuti.")


def returned(*reasons: str) -> RequestReturned:
    return RequestReturned(
        request_id=REQ,
        reasons=reasons or ("Dokumen proses bisnis belum ada.",),
        missing_sections=("business_process.system_flow",),
    )


def verified() -> DocumentsVerified:
    return DocumentsVerified(request_id=REQ)


def meeting() -> MeetingHeld:
    return MeetingHeld(
        request_id=REQ,
        held_at=dt.datetime(2024, 2, 7, 9, 0, tzinfo=WIB),
        participants=(Participant(name="Budi", position="Kepala Bidang TI", organisation="DKIS"),),
        scope="Pendaftaran dan rekap.",
        timeline=Timeline(planned_start=dt.date(2024, 3, 1), planned_end=dt.date(2024, 4, 15)),
        minutes_number="BA/001/2024",
    )


def signed() -> BAsigned:
    return BAsigned(
        request_id=REQ,
        minutes_number="BA/001/2024",
        signatories=(Signatory(user_id="u-kabid_ti", name="Budi", role="KABID_TI"),),
    )


def assigned() -> TaskAssigned:
    return TaskAssigned(
        request_id=REQ,
        letter_number="ST/005/2024",
        team_members=("u-dev1", "u-dev2"),
        team_lead="u-dev1",
        opd=OPD,
        period_start=dt.date(2024, 3, 1),
        period_end=dt.date(2024, 4, 15),
    )


def rejected() -> RequestRejected:
    return RequestRejected(request_id=REQ, reason="Sudah ada aplikasi nasional yang sama.")


def run(history: list[DomainEvent], command: IntakeCommand, principal: Principal) -> RequestState:
    """Decide ``command`` on ``history``, append the events to it, return the new state."""
    new = decide(fold(history), command, principal, NOW)
    history.extend(new)
    state = fold(history)
    assert state is not None
    return state


def submitted() -> list[DomainEvent]:
    return list(decide(None, submit_cmd(), REQUESTER, NOW))


def received() -> list[DomainEvent]:
    history = submitted()
    run(history, receive_cmd(), KADIS)
    return history


def at_verify() -> list[DomainEvent]:
    return [*received(), disposed()]


def at_returned() -> list[DomainEvent]:
    return [*at_verify(), returned()]


def at_revised() -> list[DomainEvent]:
    history = at_returned()
    run(history, revise_cmd(), REQUESTER)
    return history


def at_meeting() -> list[DomainEvent]:
    return [*at_verify(), verified()]


def at_sign() -> list[DomainEvent]:
    return [*at_meeting(), meeting()]


def at_assign() -> list[DomainEvent]:
    return [*at_sign(), signed()]


def handed_over() -> list[DomainEvent]:
    return [*at_assign(), assigned()]


def withdrawn() -> list[DomainEvent]:
    history = received()
    run(history, withdraw_cmd(), REQUESTER)
    return history


def was_rejected() -> list[DomainEvent]:
    return [*at_verify(), rejected()]


# --- happy path -------------------------------------------------------------------------------


def test_happy_path_through_intake_and_as_far_as_intake_follows() -> None:
    assert current_step(None) == "SUBMIT"
    assert who_must_act(None) is None

    history: list[DomainEvent] = []
    state = run(history, submit_cmd(), REQUESTER)
    assert isinstance(history[-1], RequestSubmitted)
    assert history[-1].opd == OPD and history[-1].submitted_via == "WEB"
    assert (state.status, current_step(state), who_must_act(state)) == ("OPEN", "RECEIVE", "KADIS")
    assert state.opd == OPD and state.attachments == (attachment(1),)
    assert "business_process.system_flow" in state.missing_sections

    state = run(history, receive_cmd(), KADIS)
    event = history[-1]
    assert isinstance(event, RequestReceived)
    assert event.received_by == KADIS.user_id and event.agenda_number == "AG-2024-0031"
    assert (state.status, current_step(state), who_must_act(state)) == ("OPEN", "DISPOSE", "KADIS")
    assert state.received_by == KADIS.user_id

    expected = [
        (disposed(), "VERIFY", "KABID_TI"),
        (verified(), "MEETING", "KABID_TI"),
        (meeting(), "SIGN_MINUTES", "KABID_TI"),
        (signed(), "ASSIGN", "KADIS"),
        (assigned(), "DEVELOP", "TIM_PENGEMBANG"),
    ]
    for approval_event, step_code, role in expected:
        history.append(approval_event)
        now_at = fold(history)
        assert now_at is not None
        assert (current_step(now_at), who_must_act(now_at)) == (step_code, role)
    assert now_at is not None and now_at.status == "ASSIGNED"
    assert all(
        type(e) in EVENTS_BY_SERVICE["intake"] for e in history if e.event_type().startswith("Req")
    )


def test_fold_equals_evolve_one_by_one() -> None:
    history = handed_over()
    state: RequestState | None = None
    for event in history:
        state = evolve(state, event)
    assert state == fold(history)


def test_eoffice_submission_keeps_the_letter_id() -> None:
    command = submit_cmd(submitted_via="EOFFICE", eoffice_letter_id="EOF-2024-77")
    (event,) = decide(None, command, REQUESTER, NOW)
    assert isinstance(event, RequestSubmitted)
    assert (event.submitted_via, event.eoffice_letter_id) == ("EOFFICE", "EOF-2024-77")
    state = fold([event])
    assert state is not None and state.eoffice_letter_id == "EOF-2024-77"


# --- the return-and-revise loop ----------------------------------------------------------------


def test_return_and_revise_loop_twice() -> None:
    history = at_returned()
    state = fold(history)
    assert state is not None
    assert (state.status, current_step(state), who_must_act(state)) == (
        "RETURNED",
        "VERIFY",
        "PEMOHON",
    )
    assert state.returns[0].missing_sections == ("business_process.system_flow",)

    state = run(history, revise_cmd(business_process=None), REQUESTER)
    revision = history[-1]
    assert isinstance(revision, RequestRevised) and revision.business_process is None
    assert (state.status, current_step(state), who_must_act(state)) == (
        "OPEN",
        "VERIFY",
        "KABID_TI",
    )
    assert state.needs_analysis == FULL_NEEDS
    assert state.business_process == BusinessProcess()  # unchanged: None leaves it as it was
    assert state.title == "Sistem Informasi Puskesmas"

    history.append(returned("Proses bisnis masih kosong."))
    state = run(history, revise_cmd(attachments=(attachment(2), attachment(3))), REQUESTER)
    assert (state.revisions, len(state.returns)) == (2, 2)
    assert state.returns[1].reasons == ("Proses bisnis masih kosong.",)
    assert state.business_process == FULL_PROCESS and state.missing_sections == []
    assert state.attachments == (attachment(2), attachment(3))

    history.append(verified())
    state = fold(history)
    assert state is not None and current_step(state) == "MEETING"


def test_revision_is_refused_once_it_was_revised() -> None:
    with pytest.raises(WrongStep) as refused:
        decide(fold(at_revised()), revise_cmd(), REQUESTER, NOW)
    assert refused.value.current_step == "VERIFY"
    assert "langkah 4" in refused.value.message


# --- withdrawal --------------------------------------------------------------------------------

OPEN_HISTORIES: dict[str, Callable[[], list[DomainEvent]]] = {
    "submitted": submitted,
    "received": received,
    "disposed": at_verify,
    "returned": at_returned,
    "revised": at_revised,
    "verified": at_meeting,
    "meeting": at_sign,
    "signed": at_assign,
}


@pytest.mark.parametrize("history", OPEN_HISTORIES.values(), ids=OPEN_HISTORIES.keys())
def test_open_request_can_be_withdrawn(history: Callable[[], list[DomainEvent]]) -> None:
    events = history()
    before = fold(events)
    state = run(events, withdraw_cmd(), REQUESTER)
    assert isinstance(events[-1], RequestWithdrawn)
    assert state.status == "WITHDRAWN" and state.is_closed
    assert before is not None and current_step(state) == before.step
    assert who_must_act(state) is None
    assert state.closing_reason == "Anggaran tahun ini dialihkan."


CLOSED_HISTORIES: dict[str, tuple[Callable[[], list[DomainEvent]], str, str]] = {
    "handed_over": (handed_over, "DEVELOP", "tim pengembang"),
    "withdrawn": (withdrawn, "DISPOSE", "ditarik"),
    "rejected": (was_rejected, "VERIFY", "ditolak"),
}


@pytest.mark.parametrize(
    ("history", "step_code", "words"), CLOSED_HISTORIES.values(), ids=CLOSED_HISTORIES.keys()
)
@pytest.mark.parametrize(
    "command", [withdraw_cmd(), revise_cmd(), receive_cmd()], ids=["withdraw", "revise", "receive"]
)
def test_nothing_happens_to_a_closed_or_handed_over_request(
    history: Callable[[], list[DomainEvent]], step_code: str, words: str, command: IntakeCommand
) -> None:
    with pytest.raises(WrongStep) as refused:
        decide(fold(history()), command, who(required_role(command)), NOW)
    assert refused.value.current_step == step_code
    assert step(step_code).label_id in refused.value.message and words in refused.value.message
    assert refused.value.detail()["current_step"] == step_code


# --- every command by every role ---------------------------------------------------------------

SETUPS: dict[str, tuple[Callable[[], list[DomainEvent]], Callable[[], IntakeCommand]]] = {
    "SubmitRequest": (list, submit_cmd),
    "ReceiveRequest": (submitted, receive_cmd),
    "ReviseRequest": (at_returned, revise_cmd),
    "WithdrawRequest": (received, withdraw_cmd),
}
ALLOWED: dict[str, Role] = {
    "SubmitRequest": "PEMOHON",
    "ReceiveRequest": "KADIS",
    "ReviseRequest": "PEMOHON",
    "WithdrawRequest": "PEMOHON",
}


def test_the_policy_grants_each_command_to_its_one_role() -> None:
    commands = {type(command()) for _, command in SETUPS.values()}
    assert commands == set(typing.get_args(IntakeCommand))
    for cls in commands:
        rule = policy.rule("intake", cls.__name__)
        assert rule.roles == (ALLOWED[cls.__name__],)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", SETUPS)
def test_every_command_by_every_role(name: str, role: Role) -> None:
    history, command = SETUPS[name]
    state, cmd = fold(history()), command()
    assert type(cmd).__name__ == name
    if ALLOWED[name] == role:
        events = decide(state, cmd, who(role), NOW)
        assert len(events) == 1
        assert required_role(cmd) == role
        assert who(role).acting_as(required_role(cmd)).role == role
    else:
        with pytest.raises(NotAllowed) as refused:
            decide(state, cmd, who(role), NOW)
        assert refused.value.status == 403


@pytest.mark.parametrize("role", ROLES)
def test_many_roles_but_not_the_right_one_is_still_refused(role: Role) -> None:
    others = frozenset(r for r in ROLES if r != role)
    principal = Principal(user_id="u-many", name="Many", roles=others, opd=OPD)
    for name, (history, command) in SETUPS.items():
        if ALLOWED[name] == role:
            with pytest.raises(NotAllowed):
                decide(fold(history()), command(), principal, NOW)


def test_acting_kadis_receives_on_behalf_and_the_actor_shows_it() -> None:
    plh = Principal(
        user_id="u-sekretaris",
        name="Sekretaris",
        roles=frozenset({"AUDITOR"}),
        delegations=(OnBehalfOf(user_id="u-kadis", role="KADIS", kind="PLH"),),
    )
    command = receive_cmd()
    (event,) = decide(fold(submitted()), command, plh, NOW)
    assert isinstance(event, RequestReceived) and event.received_by == "u-sekretaris"
    actor = plh.acting_as(required_role(command))
    assert actor.on_behalf_of is not None and actor.on_behalf_of.user_id == "u-kadis"


# --- requesters of other OPDs ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("history", "command"),
    [
        (at_returned, revise_cmd),
        (received, withdraw_cmd),
        (withdrawn, withdraw_cmd),  # refused for the OPD before the step would be named
        (handed_over, revise_cmd),
    ],
)
def test_requester_of_another_opd_cannot_touch_the_request(
    history: Callable[[], list[DomainEvent]], command: Callable[[], IntakeCommand]
) -> None:
    with pytest.raises(NotAllowed):
        decide(fold(history()), command(), STRANGER, NOW)


def test_requester_without_an_opd_cannot_submit() -> None:
    with pytest.raises(NotAllowed):
        decide(None, submit_cmd(), who("PEMOHON", opd=None), NOW)


def test_the_request_takes_the_requesters_own_opd() -> None:
    (event,) = decide(None, submit_cmd(), STRANGER, NOW)
    assert isinstance(event, RequestSubmitted) and event.opd == "DISDIK"
    with pytest.raises(ValidationError):
        submit_cmd(opd="DINKES")


# --- out of order and unknown ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("history", "command", "principal", "step_code", "number"),
    [
        (submitted, submit_cmd, REQUESTER, "RECEIVE", 2),
        (received, receive_cmd, KADIS, "DISPOSE", 3),
        (at_returned, receive_cmd, KADIS, "VERIFY", 4),
        (submitted, revise_cmd, REQUESTER, "RECEIVE", 2),
        (at_verify, revise_cmd, REQUESTER, "VERIFY", 4),
        (at_sign, revise_cmd, REQUESTER, "SIGN_MINUTES", 6),
    ],
)
def test_out_of_order_commands_name_the_current_step(
    history: Callable[[], list[DomainEvent]],
    command: Callable[[], IntakeCommand],
    principal: Principal,
    step_code: str,
    number: int,
) -> None:
    with pytest.raises(WrongStep) as refused:
        decide(fold(history()), command(), principal, NOW)
    assert refused.value.status == 409
    assert refused.value.current_step == step_code
    assert f"langkah {number} ({step(step_code).label_id})" in refused.value.message


@pytest.mark.parametrize(
    ("command", "principal"),
    [(receive_cmd, KADIS), (revise_cmd, REQUESTER), (withdraw_cmd, REQUESTER)],
)
def test_unknown_request_is_not_found(
    command: Callable[[], IntakeCommand], principal: Principal
) -> None:
    with pytest.raises(NotFound) as refused:
        decide(None, command(), principal, NOW)
    assert REQ in refused.value.message


def test_wrong_role_is_refused_before_an_unknown_request_is_looked_up() -> None:
    with pytest.raises(NotAllowed):
        decide(None, receive_cmd(), REQUESTER, NOW)


def test_state_of_another_request_is_a_programming_error() -> None:
    command = WithdrawRequest(request_id=OTHER_REQ, reason="Salah kirim.")
    with pytest.raises(ValueError, match="given for"):
        decide(fold(received()), command, REQUESTER, NOW)


# --- input rules -------------------------------------------------------------------------------


def test_letter_dated_in_the_future_is_refused_naming_the_field() -> None:
    late = RequestLetter(number="440/1/2024", date=dt.date(2024, 2, 7))
    with pytest.raises(InvalidInput) as refused:
        decide(None, submit_cmd(letter=late), REQUESTER, NOW)
    assert refused.value.field == "letter.date" and refused.value.status == 422
    with pytest.raises(InvalidInput) as refused:
        decide(fold(at_returned()), revise_cmd(letter=late), REQUESTER, NOW)
    assert refused.value.field == "letter.date"


def test_letter_dated_today_in_indonesia_is_accepted_while_utc_is_still_yesterday() -> None:
    evening_utc = dt.datetime(2024, 2, 4, 20, 0, tzinfo=dt.UTC)  # 5 Feb, 03:00 WIB
    today_wib = RequestLetter(number="440/1/2024", date=dt.date(2024, 2, 5))
    assert decide(None, submit_cmd(letter=today_wib), REQUESTER, evening_utc)


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone"):
        decide(None, submit_cmd(), REQUESTER, dt.datetime(2024, 2, 5, 9, 0))


def test_oversize_attachment_is_refused_naming_the_field() -> None:
    big = (attachment(1), attachment(2, size=MAX_ATTACHMENT_BYTES + 1))
    with pytest.raises(InvalidInput) as refused:
        decide(None, submit_cmd(attachments=big), REQUESTER, NOW)
    assert refused.value.field == "attachments.1.size_bytes"
    with pytest.raises(InvalidInput) as refused:
        decide(fold(at_returned()), revise_cmd(attachments=big), REQUESTER, NOW)
    assert refused.value.field == "attachments.1.size_bytes"
    at_limit = (attachment(3, size=MAX_ATTACHMENT_BYTES),)
    assert decide(None, submit_cmd(attachments=at_limit), REQUESTER, NOW)


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: submit_cmd(attachments=(attachment(1), attachment(1))), "attachments"),
        (lambda: revise_cmd(attachments=(attachment(1), attachment(1))), "attachments"),
        (lambda: submit_cmd(submitted_via="EOFFICE"), "eoffice_letter_id"),
        (lambda: submit_cmd(eoffice_letter_id="EOF-1"), "eoffice_letter_id"),
        (lambda: submit_cmd(title="x" * 201), "title"),
        (lambda: submit_cmd(title=" padded"), "title"),
        (lambda: submit_cmd(summary="   "), "summary"),
        (lambda: submit_cmd(request_id="../etc"), "request_id"),
        (lambda: submit_cmd(attachments=tuple(attachment(i) for i in range(51))), "attachments"),
        (lambda: submit_cmd(colour="red"), "colour"),
        (lambda: revise_cmd(note=None), "note"),
        (lambda: WithdrawRequest.model_validate({"request_id": REQ}), "reason"),
        (lambda: ReceiveRequest(request_id=REQ, agenda_number="a" * 101), "agenda_number"),
    ],
)
def test_malformed_commands_name_the_field(make: Callable[[], Command], field: str) -> None:
    with pytest.raises(ValidationError) as invalid:
        make()
    assert invalid.value.errors()[0]["loc"][0] == field


def test_commands_are_frozen_and_every_field_is_documented() -> None:
    command = receive_cmd()
    with pytest.raises(ValidationError):
        setattr(command, "agenda_number", "AG-2")  # noqa: B010 - the assignment must fail
    for cls in typing.get_args(IntakeCommand):
        for name, info in cls.model_fields.items():
            assert info.description, f"{cls.__name__}.{name} has no description"


# --- evolve: what intake follows and what it ignores -------------------------------------------


def test_events_intake_does_not_follow_are_ignored() -> None:
    progress = ProgressReported(request_id=REQ, percent=10, note="Mulai.")
    assert evolve(None, progress) is None
    assert evolve(None, disposed()) is None  # approval's event about a request unknown here
    state = fold(received())
    assert evolve(state, progress) is state


@pytest.mark.parametrize(
    "history",
    [
        [RequestReceived(request_id=REQ, received_by="u-kadis")],
        [*submitted(), *submitted()],
        [*submitted(), RequestWithdrawn(request_id=OTHER_REQ, reason="Salah.")],
        [*submitted(), RequestRejected(request_id=OTHER_REQ, reason="Salah.")],
    ],
    ids=["received-before-submitted", "submitted-twice", "other-request", "other-rejection"],
)
def test_impossible_histories_are_refused(history: list[DomainEvent]) -> None:
    with pytest.raises(InconsistentHistory):
        fold(history)


def test_withdrawal_crossing_approval_events_on_the_wire_stays_withdrawn() -> None:
    history = [*withdrawn(), disposed(), returned(), verified(), assigned(), rejected()]
    state = fold(history)
    assert state is not None and state.status == "WITHDRAWN"
    assert state.closing_reason == "Anggaran tahun ini dialihkan."


def test_rejection_while_returned_closes_the_request() -> None:
    state = fold([*at_returned(), rejected()])
    assert state is not None and state.status == "REJECTED" and who_must_act(state) is None
    assert state.closing_reason == "Sudah ada aplikasi nasional yang sama."


def test_rejection_just_after_a_revision_closes_the_request() -> None:
    state = fold([*at_revised(), rejected()])
    assert state is not None and state.status == "REJECTED"


# --- property: any sequence of attempts keeps the rules ----------------------------------------


def approval_moves(state: RequestState | None) -> list[DomainEvent]:
    """What approval could legitimately emit next, given where intake sees the request."""
    if state is None or state.status not in ("OPEN", "RETURNED"):
        return []
    moves: list[DomainEvent] = [rejected()]
    if state.status == "OPEN":
        by_step: dict[str, list[DomainEvent]] = {
            "DISPOSE": [disposed()],
            "VERIFY": [verified(), returned()],
            "MEETING": [meeting()],
            "SIGN_MINUTES": [signed()],
            "ASSIGN": [assigned()],
        }
        moves += by_step.get(state.step, [])
    return moves


COMMANDS: list[Callable[[], IntakeCommand]] = [submit_cmd, receive_cmd, revise_cmd, withdraw_cmd]
PRINCIPALS = [*(who(role) for role in ROLES), STRANGER]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 6), st.integers(0, 5)), max_size=25))
def test_any_sequence_of_attempts_keeps_the_rules(steps: list[tuple[int, int, int]]) -> None:
    history: list[DomainEvent] = []
    state: RequestState | None = None
    for command_no, principal_no, approval_no in steps:
        moves = approval_moves(state)
        if moves and approval_no < 2:
            history.append(moves[approval_no % len(moves)])
        else:
            command, principal = COMMANDS[command_no](), PRINCIPALS[principal_no]
            try:
                new = decide(state, command, principal, NOW)
            except DomainError:
                assert fold(history) == state  # a refusal changes nothing
                continue
            assert len(new) == 1
            assert principal.has_role(required_role(command))
            if isinstance(new[0], RequestRevised | RequestWithdrawn):
                assert state is not None and principal.opd == state.opd
            history.extend(new)
        was_closed = state is not None and state.is_closed
        state = fold(history)
        assert state is not None
        if was_closed:
            assert state.is_closed
        assert (who_must_act(state) is None) == state.is_closed
        if state.status == "RETURNED":
            assert who_must_act(state) == "PEMOHON" and current_step(state) == "VERIFY"
