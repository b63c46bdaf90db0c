"""dev_tracking's pure domain (SOP steps 8-13): state machine, authorisation, loops. No I/O."""

import datetime as dt
import typing
from collections.abc import Callable, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from events.approval import Disposed, TaskAssigned
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
from events.envelope import OnBehalfOf, Role
from events.intake import (
    Attachment,
    BusinessProcess,
    NeedsAnalysis,
    RequestLetter,
    RequestSubmitted,
)
from events.steps import STEPS, step
from infra.errors import DomainError, InvalidInput, NotAllowed, NotFound, WrongStep
from infra.principal import Principal
from services.dev_tracking.commands import DevTrackingCommand
from services.dev_tracking.domain import (
    DevState,
    PublishManual,
    RecordProblem,
    RecordTestResult,
    RecordUat,
    ReportProgress,
    SolveProblem,
    StartDevelopment,
    current_step,
    decide,
    evolve,
    fold,
    required_role,
    rule_of,
    who_must_act,
)

WIB = dt.timezone(dt.timedelta(hours=7))
NOW = dt.datetime(2024, 3, 20, 10, 0, tzinfo=WIB)
TODAY = NOW.date()
START = dt.date(2024, 3, 1)
REQ = "0190f1c2-7a3b-7c4d-8e5f-0123456789ab"
OPD = "DINKES"
TEAM = ("dev-1", "dev-2")
ROLES: tuple[Role, ...] = ("PEMOHON", "KADIS", "KABID_TI", "TIM_PENGEMBANG", "ADMIN", "AUDITOR")
PDF = Attachment(
    sha256="ab" * 32, size_bytes=4096, media_type="application/pdf", filename="manual.pdf"
)

SUBMITTED = RequestSubmitted(
    request_id=REQ,
    opd=OPD,
    title="Sistem Informasi Puskesmas",
    summary="Aplikasi pendaftaran pasien puskesmas.",
    letter=RequestLetter(number="440/12/DINKES/II/2024", date=dt.date(2024, 2, 1)),
    needs_analysis=NeedsAnalysis(),
    business_process=BusinessProcess(),
    submitted_via="WEB",
)
ASSIGNED = TaskAssigned(
    request_id=REQ,
    letter_number="800/45/DISKOMINFOSTANDI/II/2024",
    team_members=TEAM,
    team_lead="dev-1",
    opd=OPD,
    period_start=START,
    period_end=dt.date(2024, 4, 15),
)

DEV = Principal(user_id="dev-2", name="Rina, S.Kom.", roles=frozenset({"TIM_PENGEMBANG"}))
REQUESTER = Principal(user_id="req-1", name="Budi", roles=frozenset({"PEMOHON"}), opd=OPD)


def as_role(role: Role) -> Principal:
    """A principal on the team and of the OPD, differing from the allowed one only by role."""
    return Principal(user_id="dev-2", name="Someone", roles=frozenset({role}), opd=OPD)


# Commands, each valid at the state named after it.
START_CMD = StartDevelopment(request_id=REQ, started_on=START)
PROGRESS = ReportProgress(request_id=REQ, percent=40, note="Modul registrasi selesai.")
PROBLEM = RecordProblem(request_id=REQ, description="Server uji belum tersedia.", severity="HIGH")
SOLVE = SolveProblem(request_id=REQ, problem_id="P-1", solution="Server uji disiapkan.")
MANUAL = PublishManual(request_id=REQ, title="Manual SIMPUS", document=PDF, version="1.0")
ACCEPT = RecordUat(request_id=REQ, result="ACCEPTED", minutes_number="BA-UAT/1")
REJECT = RecordUat(
    request_id=REQ, result="REJECTED", minutes_number="BA-UAT/1", findings=("Laporan salah.",)
)


def result_cmd(kind: str, result: str = "PASSED", minutes: str | None = None) -> RecordTestResult:
    return RecordTestResult.model_validate(
        {
            "request_id": REQ,
            "kind": kind,
            "result": result,
            "minutes_number": minutes or f"BA-{kind}/{result}",
            "findings": ("Tombol simpan gagal.",) if result == "FAILED" else (),
            "tested_on": TODAY,
        }
    )


def run(state: DevState, command: DevTrackingCommand, who: Principal) -> DevState:
    return fold(decide(state, command, who, NOW), state)


def run_all(state: DevState, steps: Sequence[tuple[DevTrackingCommand, Principal]]) -> DevState:
    for command, who in steps:
        state = run(state, command, who)
    return state


def assigned() -> DevState:
    return fold([SUBMITTED, ASSIGNED])


def started() -> DevState:
    return run(assigned(), START_CMD, DEV)


def with_problem() -> DevState:
    return run(started(), PROBLEM, DEV)


def at_unit() -> DevState:
    return run(started(), result_cmd("SYSTEM"), DEV)


def at_integration() -> DevState:
    return run(at_unit(), result_cmd("UNIT"), DEV)


def at_manual() -> DevState:
    return run(at_integration(), result_cmd("INTEGRATION"), DEV)


def at_uat() -> DevState:
    return run(at_manual(), MANUAL, DEV)


def done() -> DevState:
    return run(at_uat(), ACCEPT, REQUESTER)


# --- the happy path ---------------------------------------------------------------------------


def test_nothing_exists_before_the_assignment() -> None:
    state = fold([])
    assert not state.exists
    assert current_step(state) is None
    assert who_must_act(state) is None
    assert not fold([SUBMITTED]).exists  # knowing the OPD does not open the stream


def test_happy_path_through_steps_8_to_14() -> None:
    state = assigned()
    assert (current_step(state), who_must_act(state)) == ("DEVELOP", "TIM_PENGEMBANG")
    assert state.opd == OPD and state.team_members == TEAM and state.next_test == "SYSTEM"

    path: list[tuple[DevTrackingCommand, Principal, list[type[DomainEvent]], str, Role | None]] = [
        (START_CMD, DEV, [DevelopmentStarted], "DEVELOP", "TIM_PENGEMBANG"),
        (PROGRESS, DEV, [ProgressReported], "DEVELOP", "TIM_PENGEMBANG"),
        (PROBLEM, DEV, [ProblemRecorded], "DEVELOP", "TIM_PENGEMBANG"),
        (SOLVE, DEV, [ProblemSolved], "DEVELOP", "TIM_PENGEMBANG"),
        (result_cmd("SYSTEM"), DEV, [TestPassed], "UNIT_TEST", "TIM_PENGEMBANG"),
        (result_cmd("UNIT"), DEV, [TestPassed], "INTEGRATION_TEST", "TIM_PENGEMBANG"),
        (result_cmd("INTEGRATION"), DEV, [TestPassed], "MANUAL", "TIM_PENGEMBANG"),
        (MANUAL, DEV, [ManualPublished], "UAT", "PEMOHON"),
        (ACCEPT, REQUESTER, [UATAccepted, RequestCompleted], "DONE", None),
    ]
    for command, who, types, code, actor in path:
        events = decide(state, command, who, NOW)
        assert [type(e) for e in events] == types
        assert all(getattr(e, "request_id", None) == REQ for e in events)
        state = fold(events, state)
        assert current_step(state) == code, command
        assert who_must_act(state) == actor, command

    assert state.started_on == START
    assert state.percent == 40
    assert [(p.problem_id, p.is_open) for p in state.problems] == [("P-1", False)]
    assert [(r.kind, r.passed) for r in state.test_runs] == [
        ("SYSTEM", True),
        ("UNIT", True),
        ("INTEGRATION", True),
    ]
    assert state.manual_version == "1.0"
    assert state.accepted_by == REQUESTER.user_id
    assert state.completed_on == TODAY


def test_acceptance_emits_both_events_with_the_requesters_id_and_today() -> None:
    accepted, completed = decide(at_uat(), ACCEPT, REQUESTER, NOW)
    assert accepted == UATAccepted(request_id=REQ, minutes_number="BA-UAT/1", accepted_by="req-1")
    assert completed == RequestCompleted(request_id=REQ, completed_on=TODAY)


def test_problem_ids_are_new_and_sequential() -> None:
    state = with_problem()
    (event,) = decide(state, PROBLEM, DEV, NOW)
    assert isinstance(event, ProblemRecorded) and event.problem_id == "P-2"


def test_the_steps_owned_are_those_of_the_catalogue() -> None:
    owned = [s.code for s in STEPS if s.number >= step("DEVELOP").number]
    seen = [
        current_step(s)
        for s in (started(), run(started(), result_cmd("SYSTEM", "FAILED"), DEV), at_unit())
    ]
    seen += [current_step(s) for s in (at_integration(), at_manual(), at_uat(), done())]
    assert [code for code in owned if code in seen] == owned


# --- every command x every role ---------------------------------------------------------------

VALID_AT: list[tuple[DevTrackingCommand, Callable[[], DevState]]] = [
    (START_CMD, assigned),
    (PROGRESS, started),
    (PROBLEM, started),
    (SOLVE, with_problem),
    (result_cmd("SYSTEM"), started),
    (MANUAL, at_manual),
    (ACCEPT, at_uat),
    (REJECT, at_uat),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("command", "state_at"), VALID_AT, ids=[type(c).__name__ for c, _ in VALID_AT]
)
def test_every_role_on_every_command(
    command: DevTrackingCommand, state_at: Callable[[], DevState], role: Role
) -> None:
    state = state_at()
    if role == required_role(command):
        events = decide(state, command, as_role(role), NOW)
        assert events
        fold(events, state)
    else:
        with pytest.raises(NotAllowed):
            decide(state, command, as_role(role), NOW)


def test_required_role_is_declared_for_every_command() -> None:
    assert {type(c) for c, _ in VALID_AT} == set(typing.get_args(DevTrackingCommand))
    assert all(rule_of(c).roles == (required_role(c),) for c, _ in VALID_AT)
    assert {required_role(c) for c, _ in VALID_AT} == {"TIM_PENGEMBANG", "PEMOHON"}
    assert required_role(ACCEPT) == "PEMOHON" and required_role(MANUAL) == "TIM_PENGEMBANG"


@pytest.mark.parametrize(
    ("command", "state_at"), VALID_AT, ids=[type(c).__name__ for c, _ in VALID_AT]
)
def test_an_unknown_request_is_not_found_but_a_wrong_role_is_refused_first(
    command: DevTrackingCommand, state_at: Callable[[], DevState]
) -> None:
    with pytest.raises(NotFound):
        decide(DevState(), command, as_role(required_role(command)), NOW)
    with pytest.raises(NotAllowed):
        decide(DevState(), command, as_role("AUDITOR"), NOW)


# --- who may act ------------------------------------------------------------------------------

TEAM_COMMANDS = [(c, s) for c, s in VALID_AT if required_role(c) == "TIM_PENGEMBANG"]


@pytest.mark.parametrize(
    ("command", "state_at"), TEAM_COMMANDS, ids=[type(c).__name__ for c, _ in TEAM_COMMANDS]
)
def test_only_the_assigned_team_acts(
    command: DevTrackingCommand, state_at: Callable[[], DevState]
) -> None:
    outsider = Principal(user_id="dev-9", name="Lain", roles=frozenset({"TIM_PENGEMBANG"}))
    with pytest.raises(NotAllowed, match="surat tugas"):
        decide(state_at(), command, outsider, NOW)
    member_without_role = Principal(user_id="dev-1", name="Andi", roles=frozenset({"KABID_TI"}))
    with pytest.raises(NotAllowed):
        decide(state_at(), command, member_without_role, NOW)
    lead = Principal(user_id="dev-1", name="Andi", roles=frozenset({"TIM_PENGEMBANG"}))
    assert decide(state_at(), command, lead, NOW)


@pytest.mark.parametrize("command", [ACCEPT, REJECT], ids=["accept", "reject"])
def test_a_requester_of_another_opd_is_refused(command: RecordUat) -> None:
    other = Principal(user_id="req-2", name="Sari", roles=frozenset({"PEMOHON"}), opd="DISDIK")
    with pytest.raises(NotAllowed, match="OPD"):
        decide(at_uat(), command, other, NOW)
    no_opd = Principal(user_id="req-3", name="Tono", roles=frozenset({"PEMOHON"}))
    with pytest.raises(NotAllowed):
        decide(at_uat(), command, no_opd, NOW)


def test_the_requesting_opd_comes_with_the_assignment_letter() -> None:
    state = fold([ASSIGNED])
    assert state.opd == OPD
    other = Principal(user_id="req-2", name="Sari", roles=frozenset({"PEMOHON"}), opd="DISDIK")
    with pytest.raises(NotAllowed):
        decide(at_uat(), ACCEPT, other, NOW)


def test_an_acting_requester_plh_may_record_the_uat() -> None:
    plh = Principal(
        user_id="req-7",
        name="Plh Kabid",
        roles=frozenset(),
        opd=OPD,
        delegations=(OnBehalfOf(user_id="req-1", role="PEMOHON", kind="PLH"),),
    )
    assert [type(e) for e in decide(at_uat(), ACCEPT, plh, NOW)] == [
        UATAccepted,
        RequestCompleted,
    ]


# --- out of order -----------------------------------------------------------------------------

OUT_OF_ORDER: list[tuple[str, Callable[[], DevState], DevTrackingCommand, str]] = [
    ("progress before start", assigned, PROGRESS, "DEVELOP"),
    ("test before start", assigned, result_cmd("SYSTEM"), "DEVELOP"),
    ("start twice", started, START_CMD, "DEVELOP"),
    ("unit before system", started, result_cmd("UNIT"), "DEVELOP"),
    ("integration before unit", at_unit, result_cmd("INTEGRATION"), "UNIT_TEST"),
    ("system again at integration", at_integration, result_cmd("SYSTEM"), "INTEGRATION_TEST"),
    ("manual before integration", at_integration, MANUAL, "INTEGRATION_TEST"),
    ("uat before manual", at_manual, ACCEPT, "MANUAL"),
    ("test after integration", at_manual, result_cmd("INTEGRATION", minutes="x"), "MANUAL"),
    ("uat during development", started, REJECT, "DEVELOP"),
    ("manual during development", started, MANUAL, "DEVELOP"),
    ("start at uat", at_uat, START_CMD, "UAT"),
    ("uat twice", done, ACCEPT, "DONE"),
    ("progress when done", done, PROGRESS, "DONE"),
    ("problem when done", done, PROBLEM, "DONE"),
    ("manual when done", done, MANUAL.model_copy(update={"version": "2.0"}), "DONE"),
]


@pytest.mark.parametrize(
    ("state_at", "command", "code"),
    [case[1:] for case in OUT_OF_ORDER],
    ids=[case[0] for case in OUT_OF_ORDER],
)
def test_out_of_order_commands_name_the_current_step(
    state_at: Callable[[], DevState], command: DevTrackingCommand, code: str
) -> None:
    state = state_at()
    who = REQUESTER if required_role(command) == "PEMOHON" else DEV
    with pytest.raises(WrongStep) as refused:
        decide(state, command, who, NOW)
    assert refused.value.current_step == code == current_step(state)
    assert f"langkah {step(code).number} ({step(code).label_id})" in refused.value.message
    assert refused.value.detail()["current_step"] == code


# --- the loops --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state_at", "kind", "following"),
    [
        (started, "SYSTEM", "UNIT"),
        (at_unit, "UNIT", "INTEGRATION"),
        (at_integration, "INTEGRATION", None),
    ],
)
def test_a_failed_test_is_re_run_until_it_passes(
    state_at: Callable[[], DevState], kind: str, following: str | None
) -> None:
    state = run(state_at(), result_cmd(kind, "FAILED", "BA-1"), DEV)
    own_step = f"{kind}_TEST"
    assert current_step(state) == own_step and who_must_act(state) == "TIM_PENGEMBANG"
    if following is not None:
        with pytest.raises(WrongStep) as refused:
            decide(state, result_cmd(following), DEV, NOW)
        assert refused.value.current_step == own_step
    with pytest.raises(WrongStep):
        decide(state, MANUAL, DEV, NOW)

    state = run(state, result_cmd(kind, "FAILED", "BA-2"), DEV)  # fails again: still there
    assert current_step(state) == own_step
    state = run(state, result_cmd(kind, "PASSED", "BA-3"), DEV)
    assert current_step(state) == (f"{following}_TEST" if following else "MANUAL")
    assert [(r.kind, r.passed) for r in state.test_runs[-3:]] == [
        (kind, False),
        (kind, False),
        (kind, True),
    ]


def test_a_rejected_uat_sends_the_team_back_to_re_run_integration_then_uat_again() -> None:
    state = run(at_uat(), REJECT, REQUESTER)
    assert (current_step(state), who_must_act(state)) == ("DEVELOP", "TIM_PENGEMBANG")
    assert state.uat_rejections == 1 and state.last_uat_findings == ("Laporan salah.",)
    assert state.next_test == "INTEGRATION"

    with pytest.raises(WrongStep) as refused:
        decide(state, ACCEPT.model_copy(update={"minutes_number": "BA-UAT/2"}), REQUESTER, NOW)
    assert refused.value.current_step == "DEVELOP"
    with pytest.raises(WrongStep, match="setelah UAT ditolak, Uji Integrasi diulang"):
        decide(state, result_cmd("SYSTEM", minutes="BA-SYS/2"), DEV, NOW)
    with pytest.raises(WrongStep):
        decide(state, MANUAL.model_copy(update={"version": "1.1"}), DEV, NOW)

    state = run_all(
        state,
        [
            (PROGRESS.model_copy(update={"percent": 100}), DEV),
            (result_cmd("INTEGRATION", "FAILED", "BA-INT/2"), DEV),
        ],
    )
    assert current_step(state) == "INTEGRATION_TEST"
    state = run(state, result_cmd("INTEGRATION", "PASSED", "BA-INT/3"), DEV)
    assert (current_step(state), who_must_act(state)) == ("UAT", "PEMOHON")  # manual still valid

    state = run(state, MANUAL.model_copy(update={"version": "1.1"}), DEV)  # optional update
    assert current_step(state) == "UAT" and state.manual_version == "1.1"

    state = run(state, ACCEPT.model_copy(update={"minutes_number": "BA-UAT/2"}), REQUESTER)
    assert current_step(state) == "DONE" and who_must_act(state) is None


def test_open_problems_block_acceptance_but_not_rejection() -> None:
    state = run(at_uat(), PROBLEM, DEV)
    assert current_step(state) == "UAT" and who_must_act(state) == "TIM_PENGEMBANG"
    with pytest.raises(WrongStep, match="P-1") as refused:
        decide(state, ACCEPT, REQUESTER, NOW)
    assert refused.value.current_step == "UAT"
    assert [type(e) for e in decide(state, REJECT, REQUESTER, NOW)] == [UATRejected]

    state = run(state, SOLVE, DEV)
    assert who_must_act(state) == "PEMOHON"
    assert current_step(run(state, ACCEPT, REQUESTER)) == "DONE"


# --- rules about one field --------------------------------------------------------------------


def test_progress_may_not_go_down_but_may_stay() -> None:
    state = run(started(), PROGRESS, DEV)
    with pytest.raises(InvalidInput) as refused:
        decide(state, PROGRESS.model_copy(update={"percent": 39}), DEV, NOW)
    assert refused.value.field == "percent"
    assert decide(state, PROGRESS, DEV, NOW)


def test_solving_an_unknown_or_solved_problem() -> None:
    with pytest.raises(NotFound):
        decide(with_problem(), SOLVE.model_copy(update={"problem_id": "P-9"}), DEV, NOW)
    state = run(with_problem(), PROBLEM, DEV)  # P-1 and P-2 open
    state = run(state, SOLVE, DEV)
    with pytest.raises(InvalidInput) as refused:
        decide(state, SOLVE, DEV, NOW)
    assert refused.value.field == "problem_id"


def test_solving_when_no_problem_is_open_is_the_wrong_step() -> None:
    """Nothing to solve is a matter of the request's state (409), whatever the id."""
    solved = run(with_problem(), SOLVE, DEV)
    for state, problem_id in ((started(), "P-1"), (solved, "P-1"), (solved, "P-9")):
        with pytest.raises(WrongStep):
            decide(state, SOLVE.model_copy(update={"problem_id": problem_id}), DEV, NOW)


FUTURE = TODAY + dt.timedelta(days=1)


def rejected_then_retested() -> DevState:
    rejected = run(at_uat(), REJECT, REQUESTER)
    return run(rejected, result_cmd("INTEGRATION", minutes="BA-INT/2"), DEV)


FIELD_RULES: list[tuple[str, Callable[[], DevState], DevTrackingCommand, str]] = [
    (
        "start in the future",
        assigned,
        START_CMD.model_copy(update={"started_on": FUTURE}),
        "started_on",
    ),
    (
        "failed test without findings",
        started,
        result_cmd("SYSTEM", "FAILED").model_copy(update={"findings": ()}),
        "findings",
    ),
    (
        "test in the future",
        started,
        result_cmd("SYSTEM").model_copy(update={"tested_on": FUTURE}),
        "tested_on",
    ),
    (
        "test before the start",
        started,
        result_cmd("SYSTEM").model_copy(update={"tested_on": START - dt.timedelta(days=1)}),
        "tested_on",
    ),
    (
        "test minutes reused",
        at_unit,
        result_cmd("UNIT", minutes="BA-SYSTEM/PASSED"),
        "minutes_number",
    ),
    ("manual version republished", at_uat, MANUAL, "version"),
    ("rejection without findings", at_uat, REJECT.model_copy(update={"findings": ()}), "findings"),
    ("rejection with notes", at_uat, REJECT.model_copy(update={"notes": "Catatan"}), "notes"),
    (
        "acceptance with findings",
        at_uat,
        ACCEPT.model_copy(update={"findings": ("x",)}),
        "findings",
    ),
    ("uat minutes reused", rejected_then_retested, ACCEPT, "minutes_number"),
]


@pytest.mark.parametrize(
    ("state_at", "command", "field"),
    [case[1:] for case in FIELD_RULES],
    ids=[case[0] for case in FIELD_RULES],
)
def test_rules_about_one_field_name_the_field(
    state_at: Callable[[], DevState], command: DevTrackingCommand, field: str
) -> None:
    who = REQUESTER if required_role(command) == "PEMOHON" else DEV
    with pytest.raises(InvalidInput) as refused:
        decide(state_at(), command, who, NOW)
    assert refused.value.field == field
    assert refused.value.detail()["field"] == field


def test_a_passed_test_may_carry_minor_findings() -> None:
    cmd = result_cmd("SYSTEM").model_copy(update={"findings": ("Label kurang rapi.",)})
    (event,) = decide(started(), cmd, DEV, NOW)
    assert isinstance(event, TestPassed) and event.findings == ("Label kurang rapi.",)


def test_a_failed_test_carries_its_findings() -> None:
    (event,) = decide(started(), result_cmd("SYSTEM", "FAILED"), DEV, NOW)
    assert isinstance(event, TestFailed) and event.findings == ("Tombol simpan gagal.",)


# --- commands ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        {"request_id": REQ, "percent": 101, "note": "x"},
        {"request_id": REQ, "percent": -1, "note": "x"},
        {"request_id": REQ, "percent": 5, "note": " "},
        {"request_id": REQ, "percent": 5, "note": "x" * 10_001},
        {"request_id": REQ, "percent": 5, "note": "x", "extra": 1},
        {"request_id": "", "percent": 5, "note": "x"},
    ],
)
def test_commands_refuse_bad_input(payload: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ReportProgress.model_validate(payload)


def test_commands_are_frozen_and_limit_their_lists() -> None:
    with pytest.raises(ValidationError):
        PROGRESS.percent = 50
    with pytest.raises(ValidationError):
        RecordUat(
            request_id=REQ,
            result="REJECTED",
            minutes_number="BA",
            findings=tuple(f"f{i}" for i in range(201)),
        )
    with pytest.raises(ValidationError):
        RecordTestResult.model_validate(
            {**result_cmd("SYSTEM").model_dump(), "kind": "SMOKE"}  # not an SOP test
        )
    with pytest.raises(ValidationError):
        MANUAL.model_validate({**MANUAL.model_dump(), "version": "v 1"})


# --- evolve -----------------------------------------------------------------------------------


def test_evolve_ignores_other_events_and_refuses_a_stream_without_assignment() -> None:
    state = assigned()
    assert evolve(state, Disposed(request_id=REQ, to_role="KABID_TI", note="Tindak lanjuti.")) == (
        state
    )
    with pytest.raises(ValueError, match="before TaskAssigned"):
        evolve(DevState(), DevelopmentStarted(request_id=REQ, started_on=START))


def test_a_new_assignment_letter_changes_the_team_and_keeps_the_progress() -> None:
    state = run(at_unit(), PROGRESS, DEV)
    letter = ASSIGNED.model_copy(
        update={"letter_number": "800/46/2024", "team_members": ("dev-3",), "team_lead": "dev-3"}
    )
    state = evolve(state, letter)
    assert current_step(state) == "UNIT_TEST" and state.percent == 40
    with pytest.raises(NotAllowed):
        decide(state, result_cmd("UNIT"), DEV, NOW)
    newcomer = Principal(user_id="dev-3", name="Joko", roles=frozenset({"TIM_PENGEMBANG"}))
    assert decide(state, result_cmd("UNIT"), newcomer, NOW)


def test_decide_never_changes_the_state_it_is_given() -> None:
    state = at_uat()
    before = state.model_dump()
    decide(state, ACCEPT, REQUESTER, NOW)
    assert state.model_dump() == before


# --- any sequence of commands keeps the state machine sound -----------------------------------

POOL: list[tuple[DevTrackingCommand, Principal]] = [
    (START_CMD, DEV),
    (PROGRESS, DEV),
    (PROGRESS.model_copy(update={"percent": 90}), DEV),
    (PROBLEM, DEV),
    (SOLVE, DEV),
    (SOLVE.model_copy(update={"problem_id": "P-2"}), DEV),
    *[
        (result_cmd(kind, result, f"BA-{kind}-{result}-{n}"), DEV)
        for kind in ("SYSTEM", "UNIT", "INTEGRATION")
        for result in ("PASSED", "FAILED")
        for n in range(3)
    ],
    (MANUAL, DEV),
    (MANUAL.model_copy(update={"version": "2.0"}), DEV),
    (ACCEPT, REQUESTER),
    (REJECT, REQUESTER),
    (REJECT.model_copy(update={"minutes_number": "BA-UAT/2"}), REQUESTER),
    (ACCEPT.model_copy(update={"minutes_number": "BA-UAT/3"}), REQUESTER),
]
ORDER = [s.code for s in STEPS]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(range(len(POOL))), max_size=40))
def test_any_sequence_of_commands_keeps_the_state_machine_sound(picks: list[int]) -> None:
    state = assigned()
    for index in picks:
        command, who = POOL[index]
        before = current_step(state)
        try:
            events = decide(state, command, who, NOW)
        except DomainError:
            continue
        assert events
        state = fold(events, state)
        after = current_step(state)
        assert before is not None and after is not None
        if any(isinstance(e, UATRejected) for e in events):
            assert after == "DEVELOP"
        elif any(isinstance(e, TestFailed) for e in events):
            assert after.endswith("_TEST")
        else:
            assert ORDER.index(after) >= ORDER.index(before)
        if after == "DONE":
            assert not state.open_problems and state.manual_version is not None
            assert {r.kind for r in state.test_runs if r.passed} == {
                "SYSTEM",
                "UNIT",
                "INTEGRATION",
            }
        assert state.percent is None or 0 <= state.percent <= 100
