"""``available_actions`` of intake, approval and dev_tracking: what each caller may do now.

Each service is checked two ways: by hand at the states where the answer matters (who gets what,
in which role, for whom as Plt), and against its own ``decide`` at every state of its walk for
every kind of caller: a command is listed exactly when ``decide`` refuses it neither for the
caller (``NotAllowed``) nor for the step (``WrongStep``). A listed command may still be refused
for its input (``InvalidInput``), which the listing cannot know."""

from collections.abc import Callable, Sequence

import pytest

from events.envelope import OnBehalfOf
from infra.actions import Action
from infra.errors import DomainError, NotAllowed, NotFound, WrongStep
from infra.principal import Principal
from services.approval import domain as approval
from services.dev_tracking import domain as dev
from services.intake import domain as intake
from tests.unit import test_approval_domain as a
from tests.unit import test_dev_tracking_domain as d
from tests.unit import test_intake_domain as i

PLT_KADIS = Principal(
    user_id="u-plt",
    name="Plt. Kadis",
    roles=frozenset(),
    opd="DISKOMINFOSTANDI",
    delegations=(OnBehalfOf(user_id="u-kadis", role="KADIS", kind="PLT"),),
)


def listed(actions: Sequence[Action]) -> list[str]:
    return [action.command for action in actions]


def refused(decide: Callable[..., object], *args: object) -> bool:
    """Whether ``decide(*args)`` is refused for the caller or the step (not for its input)."""
    try:
        decide(*args)
    except (NotAllowed, NotFound, WrongStep):
        return True
    except DomainError:
        return False
    return False


# --- intake -----------------------------------------------------------------------------------

INTAKE_CALLERS = (
    i.REQUESTER,
    i.STRANGER,
    i.KADIS,
    PLT_KADIS,
    *(i.who(role, opd="DISKOMINFOSTANDI") for role in ("KABID_TI", "TIM_PENGEMBANG", "ADMIN")),
    i.who("AUDITOR", opd=None),
)
INTAKE_HISTORIES = {
    "submitted": i.submitted,
    "received": i.received,
    "at_verify": i.at_verify,
    "at_returned": i.at_returned,
    "at_revised": i.at_revised,
    "at_meeting": i.at_meeting,
    "at_sign": i.at_sign,
    "at_assign": i.at_assign,
    "handed_over": i.handed_over,
    "withdrawn": i.withdrawn,
    "was_rejected": i.was_rejected,
}


def intake_state(name: str) -> intake.RequestState:
    state = intake.fold(INTAKE_HISTORIES[name]())
    assert state is not None
    return state


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        ("submitted", {"kadis": ["ReceiveRequest"], "pemohon": ["WithdrawRequest"]}),
        ("received", {"pemohon": ["WithdrawRequest"]}),
        ("at_returned", {"pemohon": ["ReviseRequest", "WithdrawRequest"]}),
        ("at_revised", {"pemohon": ["WithdrawRequest"]}),
        ("at_assign", {"pemohon": ["WithdrawRequest"]}),
        ("handed_over", {}),
        ("withdrawn", {}),
        ("was_rejected", {}),
    ],
)
def test_intake_lists_each_callers_commands(history: str, expected: dict[str, list[str]]) -> None:
    state = intake_state(history)
    named = {i.KADIS: "kadis", PLT_KADIS: "kadis", i.REQUESTER: "pemohon"}
    for caller in INTAKE_CALLERS:
        want = expected.get(named.get(caller, ""), [])
        assert listed(intake.available_actions(state, caller)) == want, (history, caller)


def test_intake_a_plt_receives_for_the_kadis_it_stands_in_for() -> None:
    [action] = intake.available_actions(intake_state("submitted"), PLT_KADIS)
    assert action.model_dump() == {
        "command": "ReceiveRequest",
        "role": "KADIS",
        "on_behalf_of": {"user_id": "u-kadis", "role": "KADIS", "kind": "PLT"},
        "label": "Penerimaan permohonan (langkah 2)",
    }
    [own] = intake.available_actions(intake_state("submitted"), i.KADIS)
    assert (own.role, own.on_behalf_of) == ("KADIS", None)


@pytest.mark.parametrize("history", INTAKE_HISTORIES)
def test_intake_lists_exactly_what_decide_lets_through(history: str) -> None:
    state = intake_state(history)
    commands = (i.receive_cmd(), i.revise_cmd(), i.withdraw_cmd())
    for caller in INTAKE_CALLERS:
        offered = listed(intake.available_actions(state, caller))
        through = [
            type(c).__name__
            for c in commands
            if not refused(intake.decide, state, c, caller, i.NOW)
        ]
        assert offered == through, (history, caller)


def test_intake_visibility_is_the_get_requests() -> None:
    with pytest.raises(NotFound):
        intake.ensure_visible(None, i.REQ, i.REQUESTER)
    with pytest.raises(NotAllowed):
        intake.ensure_visible(None, i.REQ, i.who("ADMIN"))  # the role first, before 404
    with pytest.raises(NotAllowed):
        intake.ensure_visible(intake_state("submitted"), i.REQ, i.STRANGER)
    assert intake.ensure_visible(intake_state("submitted"), i.REQ, i.REQUESTER).request_id == i.REQ


# --- approval ---------------------------------------------------------------------------------

APPROVAL_CALLERS = (
    *(a.principal(role) for role in a.ROLES),
    a.principal("PEMOHON", opd="DISDIK"),
    PLT_KADIS,
)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("SUBMITTED", {}),
        ("AWAITING_DISPOSITION", {"KADIS": ["Dispose", "RejectRequest"]}),
        (
            "AWAITING_VERIFICATION",
            {"KABID_TI": ["VerifyDocuments", "ReturnRequest"], "KADIS": ["RejectRequest"]},
        ),
        ("RETURNED", {"KADIS": ["RejectRequest"]}),
        ("AWAITING_MEETING", {"KABID_TI": ["RecordMeeting"], "KADIS": ["RejectRequest"]}),
        (
            "AWAITING_SIGNATURE",
            {"KABID_TI": ["SignMinutes"], "KADIS": ["SignMinutes", "RejectRequest"]},
        ),
        ("AWAITING_ASSIGNMENT", {"KADIS": ["AssignTeam", "RejectRequest"]}),
        ("ASSIGNED", {"KADIS": ["AssignTeam"]}),
        ("COMPLETED", {}),
        ("REJECTED", {}),
        ("WITHDRAWN", {}),
    ],
)
def test_approval_lists_each_roles_commands(status: str, expected: dict[str, list[str]]) -> None:
    state = a.STATES[status]  # type: ignore[index]
    for role in a.ROLES:
        got = approval.available_actions(state, a.principal(role))
        assert listed(got) == expected.get(role, []), (status, role)
        assert {action.role for action in got} <= {role}
    plt = approval.available_actions(state, PLT_KADIS)
    assert listed(plt) == expected.get("KADIS", [])
    assert all(action.on_behalf_of == PLT_KADIS.delegations[0] for action in plt)


def test_approval_labels_come_from_the_policy() -> None:
    [dispose, reject] = approval.available_actions(
        a.STATES["AWAITING_DISPOSITION"], a.principal("KADIS")
    )
    assert (dispose.label, reject.label) == (
        "Disposisi kepada Kabid TI (langkah 3)",
        "Penolakan permohonan",
    )


def test_approval_nothing_on_a_request_it_does_not_know() -> None:
    assert approval.available_actions(approval.INITIAL, a.principal("KADIS")) == []


@pytest.mark.parametrize("status", a.STATES)
def test_approval_lists_exactly_what_decide_lets_through(status: str) -> None:
    state = a.STATES[status]  # type: ignore[index]
    for caller in APPROVAL_CALLERS:
        offered = listed(approval.available_actions(state, caller))
        through = [
            type(c).__name__
            for c in a.COMMANDS
            if not refused(approval.decide, state, c, caller, a.NOW)
        ]
        assert offered == through, (status, caller)


# --- dev_tracking -----------------------------------------------------------------------------

OUTSIDER = Principal(user_id="dev-9", name="Lain", roles=frozenset({"TIM_PENGEMBANG"}))
DEV_CALLERS = (
    d.DEV,
    OUTSIDER,
    d.REQUESTER,
    Principal(user_id="req-2", name="Lain", roles=frozenset({"PEMOHON"}), opd="DISDIK"),
    *(d.as_role(role) for role in ("KADIS", "KABID_TI", "ADMIN", "AUDITOR")),
    PLT_KADIS,
)


def uat_with_open_problem() -> dev.DevState:
    return d.run(d.at_uat(), d.PROBLEM, d.DEV)


def rejected_uat() -> dev.DevState:
    return d.run(d.at_uat(), d.REJECT, d.REQUESTER)


def failed_system_test() -> dev.DevState:
    return d.run(d.started(), d.result_cmd("SYSTEM", "FAILED"), d.DEV)


DEV_STATES: dict[str, Callable[[], dev.DevState]] = {
    "assigned": d.assigned,
    "started": d.started,
    "with_problem": d.with_problem,
    "failed_system_test": failed_system_test,
    "at_unit": d.at_unit,
    "at_integration": d.at_integration,
    "at_manual": d.at_manual,
    "at_uat": d.at_uat,
    "uat_with_open_problem": uat_with_open_problem,
    "rejected_uat": rejected_uat,
    "done": d.done,
}
TEAM_WORK = ["ReportProgress", "RecordProblem"]


@pytest.mark.parametrize(
    ("state", "team", "requester"),
    [
        ("assigned", ["StartDevelopment", "RecordProblem"], []),
        ("started", [*TEAM_WORK, "RecordTestResult"], []),
        ("with_problem", [*TEAM_WORK, "SolveProblem", "RecordTestResult"], []),
        ("failed_system_test", [*TEAM_WORK, "RecordTestResult"], []),
        ("at_unit", [*TEAM_WORK, "RecordTestResult"], []),
        ("at_manual", [*TEAM_WORK, "PublishManual"], []),
        ("at_uat", [*TEAM_WORK, "PublishManual"], ["RecordUat"]),
        ("uat_with_open_problem", [*TEAM_WORK, "SolveProblem", "PublishManual"], ["RecordUat"]),
        ("rejected_uat", [*TEAM_WORK, "RecordTestResult"], []),
        ("done", [], []),
    ],
)
def test_dev_tracking_lists_the_teams_and_the_requesters_commands(
    state: str, team: list[str], requester: list[str]
) -> None:
    at = DEV_STATES[state]()
    assert listed(dev.available_actions(at, d.DEV, d.TODAY)) == team
    assert listed(dev.available_actions(at, d.REQUESTER, d.TODAY)) == requester
    for caller in DEV_CALLERS[1:]:
        if caller != d.REQUESTER:
            assert dev.available_actions(at, caller, d.TODAY) == [], (state, caller)


def details(state: dev.DevState, who: Principal, command: str) -> dict[str, object]:
    action = next(x for x in dev.available_actions(state, who, d.TODAY) if x.command == command)
    return action.model_dump(include={"problem_ids", "test_kind", "uat_results"})


def test_dev_tracking_tells_the_form_what_it_needs() -> None:
    assert details(d.with_problem(), d.DEV, "SolveProblem")["problem_ids"] == ["P-1"]
    assert details(d.started(), d.DEV, "RecordTestResult")["test_kind"] == "SYSTEM"
    assert details(failed_system_test(), d.DEV, "RecordTestResult")["test_kind"] == "SYSTEM"
    assert details(d.at_integration(), d.DEV, "RecordTestResult")["test_kind"] == "INTEGRATION"
    assert details(rejected_uat(), d.DEV, "RecordTestResult")["test_kind"] == "INTEGRATION"
    assert details(d.at_uat(), d.REQUESTER, "RecordUat")["uat_results"] == [
        "ACCEPTED",
        "REJECTED",
    ]
    assert details(uat_with_open_problem(), d.REQUESTER, "RecordUat")["uat_results"] == ["REJECTED"]
    assert details(d.started(), d.DEV, "ReportProgress") == {
        "problem_ids": None,
        "test_kind": None,
        "uat_results": None,
    }


def dev_commands(state: dev.DevState) -> list[dev.DevTrackingCommand]:
    """One valid-looking command of each kind at ``state`` (the test due, a new manual)."""
    return [
        d.START_CMD,
        d.PROGRESS.model_copy(update={"percent": max(state.percent or 0, 40)}),
        d.PROBLEM,
        d.SOLVE.model_copy(
            update={"problem_id": next((p.problem_id for p in state.open_problems), "P-1")}
        ),
        d.result_cmd(state.next_test or "SYSTEM", minutes="BA-X/9"),
        d.MANUAL.model_copy(update={"version": "9.9"}),
        d.ACCEPT.model_copy(update={"minutes_number": "BA-UAT/9"}),
        d.REJECT.model_copy(update={"minutes_number": "BA-UAT/9"}),
    ]


@pytest.mark.parametrize("name", DEV_STATES)
def test_dev_tracking_lists_exactly_what_decide_lets_through(name: str) -> None:
    state = DEV_STATES[name]()
    for caller in DEV_CALLERS:
        offered = dev.available_actions(state, caller, d.TODAY)
        through = [
            c for c in dev_commands(state) if not refused(dev.decide, state, c, caller, d.NOW)
        ]
        assert listed(offered) == list(dict.fromkeys(type(c).__name__ for c in through)), (
            name,
            caller,
        )
        uat = next((x for x in offered if x.command == "RecordUat"), None)
        results = [c.result for c in through if isinstance(c, dev.RecordUat)]
        assert (uat.uat_results if uat else []) == results, (name, caller)


def test_dev_tracking_the_test_kind_offered_is_the_only_one_accepted() -> None:
    for make in (d.started, failed_system_test, d.at_unit, d.at_integration, rejected_uat):
        state = make()
        due = details(state, d.DEV, "RecordTestResult")["test_kind"]
        for kind in ("SYSTEM", "UNIT", "INTEGRATION"):
            cmd = d.result_cmd(kind, minutes="BA-X/9")
            assert refused(dev.decide, state, cmd, d.DEV, d.NOW) == (kind != due)


def test_dev_tracking_nothing_before_the_assignment() -> None:
    assert dev.available_actions(dev.fold([]), d.DEV, d.TODAY) == []


def test_a_plt_kadis_gets_nothing_the_kadis_does_not() -> None:
    kadis = a.principal("KADIS")
    for state in a.STATES.values():
        assert listed(approval.available_actions(state, PLT_KADIS)) == listed(
            approval.available_actions(state, kadis)
        )
