"""Every reader of the SOP's step machine agrees on where a request is, along random valid walks.

A walk is driven by the services' own deciders: at each point one of the commands some SOP role
may give now (the services' ``available_actions``, what the web app offers) is chosen at random,
with a random outcome where it has one (a test passes or fails, UAT is accepted or rejected), and
``decide`` makes its events. After each command the readers are asked where the request is:
intake's, approval's and dev_tracking's folds, reporting's case file, the SLA visits and the web
app's choice of the services that hold the request. They must agree, each as far as it follows
the request, and every move must be one the SOP table (``events.steps``) declares.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.approval import Timeline
from events.base import DomainEvent
from events.catalog import service_of
from events.envelope import GENESIS_HASH, Envelope, NewEvent, Role
from events.sop import START, Position, move, trigger
from events.steps import STEPS, StepCode, step
from events.topics import Service
from infra.actions import Action
from infra.eventstore.contract import seal
from infra.principal import Principal
from services.approval import domain as approval
from services.approval.commands import VerifyDocuments
from services.dev_tracking import domain as dev
from services.intake import domain as intake
from services.reporting import casefile
from services.reporting.sla_steps import trail
from services.web.pages.case import services_holding
from tests.unit import test_approval_domain as a
from tests.unit import test_dev_tracking_domain as d
from tests.unit import test_intake_domain as i

NOW = d.NOW
T0 = dt.datetime(2024, 3, 4, 1, 0, tzinfo=dt.UTC)
DEPARTMENT = "DISKOMINFOSTANDI"
PEOPLE: tuple[Principal, ...] = (
    Principal(user_id="req-1", name="Budi", roles=frozenset({"PEMOHON"}), opd=d.OPD),
    Principal(user_id="kadis", name="Ani", roles=frozenset({"KADIS"}), opd=DEPARTMENT),
    Principal(user_id="kabid", name="Rudi", roles=frozenset({"KABID_TI"}), opd=DEPARTMENT),
    Principal(user_id="dev-1", name="Rina", roles=frozenset({"TIM_PENGEMBANG"}), opd=DEPARTMENT),
)
MEET = a.MEET.model_copy(
    update={
        "held_at": NOW - dt.timedelta(hours=3),
        "timeline": Timeline(planned_start=dt.date(2024, 3, 1), planned_end=dt.date(2024, 4, 30)),
    }
)
DEVELOP_NUMBER = step("DEVELOP").number


@dataclass
class Walk:
    """The request's history so far: its events in the order written, and as envelopes."""

    events: list[DomainEvent] = field(default_factory=list)
    envelopes: list[Envelope] = field(default_factory=list)
    heads: dict[Service, tuple[int, str]] = field(default_factory=dict)
    position: Position = START
    written: int = 0
    in_intake: intake.RequestState | None = None
    in_approval: approval.ApprovalState = approval.INITIAL
    in_dev: dev.DevState = field(default_factory=dev.DevState)

    def intake_state(self) -> intake.RequestState | None:
        return self.in_intake

    def approval_state(self) -> approval.ApprovalState:
        return self.in_approval

    def dev_state(self) -> dev.DevState:
        return self.in_dev

    def record(self, principal: Principal, role: Role, events: list[DomainEvent]) -> None:
        for event in events:
            self.written += 1
            service = service_of(event.event_type())
            version, prev_hash = self.heads.get(service, (0, GENESIS_HASH))
            new = NewEvent.of(
                event,
                occurred_at=T0 + dt.timedelta(minutes=self.written),
                actor=principal.acting_as(role),
                correlation_id=uuid4(),
            )
            envelope = seal(a.REQ, version + 1, prev_hash, new)
            self.heads[service] = (version + 1, envelope.hash)
            self.envelopes.append(envelope)
            self.events.append(event)
            self.in_intake = intake.evolve(self.in_intake, event)
            self.in_approval = approval.evolve(self.in_approval, event)
            self.in_dev = dev.evolve(self.in_dev, event)
            self.check_declared(event)

    def check_declared(self, event: DomainEvent) -> None:
        """The move ``event`` makes is one the SOP table declares."""
        before, self.position = self.position, move(self.position, event)
        if before.step != self.position.step:
            name = trigger(event)
            assert name in step(before.step).left_by, (name, before.step)
            assert name in step(self.position.step).entered_by, (name, self.position.step)


Offer = tuple[str, Principal, Action]


def offers(walk: Walk) -> list[Offer]:
    """Every command some SOP role may give now, as the services list them."""
    found: list[Offer] = []
    here = walk.intake_state()
    for who in PEOPLE:
        if here is not None:
            found += [("intake", who, x) for x in intake.available_actions(here, who)]
        found += [
            ("approval", who, x) for x in approval.available_actions(walk.approval_state(), who)
        ]
        found += [
            ("dev_tracking", who, x)
            for x in dev.available_actions(walk.dev_state(), who, NOW.date())
        ]
    return found


Choose = Callable[[str, list[str]], str]
"""Picks one of the outcomes a command may have (named, e.g. ``UNIT`` test result)."""

Maker = Callable[[Walk, Action, Choose], Any]


def _test_result(walk: Walk, action: Action, choose: Choose) -> Any:
    kind = action.test_kind
    result = choose(kind, ["PASSED", "FAILED"])
    return d.result_cmd(kind, result, minutes=f"BA-UJI/{walk.written}")


def _uat(walk: Walk, action: Action, choose: Choose) -> Any:
    result = choose("UAT", list(action.uat_results))
    rejected = {"findings": ("Laporan salah.",)} if result == "REJECTED" else {}
    return dev.RecordUat.model_validate(
        {"request_id": d.REQ, "result": result, "minutes_number": f"BA-UAT/{walk.written}"}
        | rejected
    )


def _progress(walk: Walk, action: Action, choose: Choose) -> Any:
    percent = min(100, (walk.dev_state().percent or 0) + 10)
    return d.PROGRESS.model_copy(update={"percent": percent})


def _assign(walk: Walk, action: Action, choose: Choose) -> Any:
    return a.ASSIGN.model_copy(
        update={
            "team_members": ("dev-1", "dev-2"),
            "team_lead": "dev-1",
            "period_start": dt.date(2024, 3, 1),
            "period_end": dt.date(2024, 4, 30),
        }
    )


def _verify(walk: Walk, action: Action, choose: Choose) -> Any:
    missing = tuple(walk.approval_state().missing_sections)
    return VerifyDocuments(request_id=a.REQ, acknowledged_missing=missing)


COMMANDS: dict[str, Maker] = {
    "ReceiveRequest": lambda w, x, c: i.receive_cmd(),
    "ReviseRequest": lambda w, x, c: i.revise_cmd(),
    "WithdrawRequest": lambda w, x, c: i.withdraw_cmd(),
    "Dispose": lambda w, x, c: a.DISPOSE,
    "VerifyDocuments": _verify,
    "ReturnRequest": lambda w, x, c: a.RETURN,
    "RecordMeeting": lambda w, x, c: MEET,
    "SignMinutes": lambda w, x, c: a.SIGN,
    "AssignTeam": _assign,
    "RejectRequest": lambda w, x, c: a.REJECT,
    "StartDevelopment": lambda w, x, c: d.START_CMD,
    "ReportProgress": _progress,
    "RecordProblem": lambda w, x, c: d.PROBLEM,
    "SolveProblem": lambda w, x, c: d.SOLVE.model_copy(update={"problem_id": x.problem_ids[0]}),
    "RecordTestResult": _test_result,
    "PublishManual": lambda w, x, c: d.MANUAL.model_copy(update={"version": f"1.{w.written}"}),
    "RecordUat": _uat,
}


def give(walk: Walk, offer: Offer, choose: Choose) -> None:
    service, who, action = offer
    command = COMMANDS[action.command](walk, action, choose)
    if service == "intake":
        events = intake.decide(walk.intake_state(), command, who, NOW)
    elif service == "approval":
        events = approval.decide(walk.approval_state(), command, who, NOW)
    else:
        events = dev.decide(walk.dev_state(), command, who, NOW)
    walk.record(who, action.role, events)


def _up_to(at: StepCode, last: StepCode) -> StepCode:
    """``at``, or ``last`` for a step after it: where a reader that stops following there is."""
    return last if step(at).number > step(last).number else at


def check_readers_agree(walk: Walk) -> None:
    case = casefile.fold(walk.envelopes, a.REQ)
    at, waiting = case.step, case.who_must_act
    assert case.step == walk.position.step
    visits = trail((e.occurred_at, ev) for e, ev in zip(walk.envelopes, walk.events, strict=True))
    assert visits.at == at
    here = walk.intake_state()
    assert here is not None
    assert intake.current_step(here) == _up_to(at, "DEVELOP")
    state = walk.approval_state()
    assert approval.current_step(state) == (at if at == "DONE" else _up_to(at, "DEVELOP"))
    development = walk.dev_state()
    if development.exists:
        assert dev.current_step(development) == at
        assert dev.who_must_act(development) == waiting
    else:
        assert step(at).number <= DEVELOP_NUMBER
    if step(at).number < DEVELOP_NUMBER:
        assert intake.who_must_act(here) == waiting
        assert approval.who_must_act(state) == waiting
    view = {"current_step": {"number": case.step_number}}
    assert ("dev_tracking" in services_holding(view)) == development.exists


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_every_reader_agrees_on_the_step_along_a_random_walk(data: st.DataObject) -> None:
    walk = Walk()
    submit = i.submit_cmd(needs_analysis=i.FULL_NEEDS, business_process=i.FULL_PROCESS)
    requester = PEOPLE[0]
    walk.record(requester, "PEMOHON", intake.decide(None, submit, requester, NOW))
    check_readers_agree(walk)
    for _ in range(40):
        found = offers(walk)
        if not found:
            break
        offer = data.draw(st.sampled_from(found), label="command")
        give(walk, offer, lambda name, options: data.draw(st.sampled_from(options), label=name))
        check_readers_agree(walk)


def test_a_walk_reaches_every_step() -> None:
    """The walk is not vacuous: a request that goes through the whole SOP, failing each test once
    and UAT once, visits every step of the table."""
    walk, seen, failed = Walk(), {"SUBMIT"}, set()

    def first_time_fails(name: str, options: list[str]) -> str:
        if name in failed or len(options) == 1:
            return options[0]
        failed.add(name)
        return options[-1]

    requester = PEOPLE[0]
    submit = i.submit_cmd(needs_analysis=i.FULL_NEEDS, business_process=i.FULL_PROCESS)
    walk.record(requester, "PEMOHON", intake.decide(None, submit, requester, NOW))
    for _ in range(60):
        seen.add(walk.position.step)
        found = offers(walk)
        if not found:
            break
        preferred = (
            "RecordTestResult",
            "RecordUat",
            "PublishManual",
            "StartDevelopment",
            "AssignTeam",
            "SignMinutes",
            "RecordMeeting",
            "VerifyDocuments",
            "Dispose",
            "ReceiveRequest",
        )
        chosen = min(
            (o for o in found if o[2].command in preferred),
            key=lambda o: preferred.index(o[2].command),
        )
        give(walk, chosen, first_time_fails)
        check_readers_agree(walk)
    seen.add(walk.position.step)
    assert seen == {s.code for s in STEPS}
