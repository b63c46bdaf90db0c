"""dev_tracking's decisions: a command on a request's state -> new events, or a domain error.

Checks run in this order, so that a refusal never tells a caller more than it may know:

1. ``NotAllowed`` if the principal lacks the command's role (``required_role``);
2. ``NotFound`` if the request does not exist here (no ``TaskAssigned`` consumed yet);
3. ``NotAllowed`` if the principal is not one of the team named in the assignment letter (team
   commands) or is a requester of another OPD, or the request's OPD is not known (UAT): the
   scopes ``TEAM`` and ``OWN_OPD`` of ``events.policy``, enforced by ``infra.access``;
4. ``WrongStep`` (naming the current step) if the command cannot happen at this step;
5. ``OutsidePeriod`` (a 409 naming the Surat Tugas's period) for a team command on a day outside
   the latest letter's period and its grace of working days (``period``);
6. ``InvalidInput`` naming the field for a rule about one field.

Rules chosen where the SOP is silent:

- Problems can be recorded and solved at any step from the assignment until the request is done;
  solving while no problem is open is the wrong step (409), whatever problem id is named.
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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from pydantic import Field

from events import policy
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
from events.envelope import Role
from infra import access
from infra.actions import Action, Actions, offer
from infra.errors import InvalidInput, NotFound, WrongStep
from infra.principal import Principal
from infra.wording import TEST_LABELS, at_step
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
    UatResult,
)
from services.dev_tracking.period import (
    DEFAULT_GRACE,
    Grace,
    bound_by_letter,
    ensure_within,
    within,
)
from services.dev_tracking.state import DevState

DAY_LABELS: Final = {"started_on": "Tanggal mulai", "tested_on": "Tanggal uji"}

GET_REQUEST = policy.rule("dev_tracking", "GetRequest")
LIST_REQUESTS = policy.rule("dev_tracking", "ListRequests")


@dataclass(frozen=True)
class Guard:
    """A condition a command needs of the request's state, and what a refusal says."""

    holds: Callable[[DevState], bool]
    refusal: str


NOT_DONE: Final = Guard(
    lambda s: s.step != "DONE", "Permohonan sudah selesai; tidak ada lagi yang dapat dicatat"
)
"""Every command's first guard."""

_STARTED = Guard(
    lambda s: s.started_on is not None,
    "Pembangunan aplikasi belum dimulai; catat mulainya lebih dahulu",
)

ADMITTED: Final[Mapping[type[DevTrackingCommand], tuple[Guard, ...]]] = {
    StartDevelopment: (
        Guard(
            lambda s: s.step == "DEVELOP" and s.started_on is None,
            "Pembangunan aplikasi sudah dimulai",
        ),
    ),
    ReportProgress: (_STARTED,),
    RecordProblem: (),
    SolveProblem: (Guard(lambda s: bool(s.open_problems), "Tidak ada masalah yang masih terbuka"),),
    RecordTestResult: (
        _STARTED,
        Guard(
            lambda s: s.next_test is not None,
            "Tidak ada uji yang perlu dicatat lagi: Uji Integrasi sudah lulus",
        ),
    ),
    PublishManual: (
        Guard(
            lambda s: s.step in ("MANUAL", "UAT"),
            "Buku Manual diterbitkan setelah Uji Integrasi lulus",
        ),
    ),
    RecordUat: (
        Guard(
            lambda s: s.step == "UAT",
            "UAT dilakukan setelah Buku Manual terbit dan Uji Integrasi lulus",
        ),
    ),
}
"""Each command's step guards after ``NOT_DONE``, in the order ``decide`` checks them; shared by
``decide`` and ``available_actions``. (Which test kind is due, and whether UAT can be accepted,
depend on the command's fields too: ``state.next_test`` and ``uat_results``.)"""


def uat_results(state: DevState) -> tuple[UatResult, ...]:
    """The UAT outcomes the request admits now: no acceptance while a problem is open."""
    return ("REJECTED",) if state.open_problems else ("ACCEPTED", "REJECTED")


def admitted(state: DevState, command: type[DevTrackingCommand]) -> bool:
    """Whether the request's state admits ``command`` (every guard holds)."""
    return all(g.holds(state) for g in (NOT_DONE, *ADMITTED[command]))


def _admit(state: DevState, command: DevTrackingCommand) -> None:
    for guard in (NOT_DONE, *ADMITTED[type(command)]):
        if not guard.holds(state):
            raise _wrong_step(state, guard.refusal)


class DevAction(Action):
    """A development command the caller may give now, with what its form needs to know."""

    problem_ids: list[str] | None = Field(
        default=None, description="SolveProblem: id masalah yang masih terbuka, mis. P-1"
    )
    test_kind: TestKind | None = Field(
        default=None,
        description="RecordTestResult: jenis uji yang harus dicatat (SYSTEM, UNIT, INTEGRATION)",
    )
    uat_results: list[UatResult] | None = Field(
        default=None,
        description="RecordUat: hasil yang dapat dicatat sekarang (ACCEPTED hanya bila tidak ada "
        "masalah terbuka)",
    )


class DevActions(Actions):
    """The answer of ``GET /requests/{request_id}/actions`` in dev_tracking."""

    actions: tuple[DevAction, ...] = Field(
        description="Perintah yang boleh diberikan pemanggil sekarang, sesuai peran dan langkah"
    )


def _details(state: DevState, command: type[DevTrackingCommand]) -> dict[str, object]:
    if command is SolveProblem:
        return {"problem_ids": [p.problem_id for p in state.open_problems]}
    if command is RecordTestResult:
        return {"test_kind": state.next_test}
    if command is RecordUat:
        return {"uat_results": list(uat_results(state))}
    return {}


def in_period(
    state: DevState, command: type[DevTrackingCommand], today: dt.date, grace: Grace
) -> bool:
    """Whether ``command`` may be given on ``today``: the team's only within the letter's period
    and its grace, anyone else's any day."""
    rule = policy.rule("dev_tracking", command.__name__)
    return not bound_by_letter(rule) or within(state, today, grace)


def available_actions(
    state: DevState, principal: Principal, today: dt.date, grace: Grace = DEFAULT_GRACE
) -> list[DevAction]:
    """The commands ``principal`` may give on the request on ``today``: those the request's state
    admits (``admitted``) on that day (``in_period``) and whose access rule admits the caller, in
    ``ADMITTED``'s order. Nothing for a request unknown here."""
    if not state.exists:
        return []
    target = access.Target(opd=state.opd, team=frozenset(state.team_members))
    found = (
        offer(
            principal,
            policy.rule("dev_tracking", command.__name__),
            target,
            DevAction,
            **_details(state, command),
        )
        for command in ADMITTED
        if admitted(state, command) and in_period(state, command, today, grace)
    )
    return [action for action in found if action is not None]


def rule_of(command: Command) -> policy.Rule:
    """The access rule of ``command`` (``events.policy``)."""
    return policy.rule("dev_tracking", type(command).__name__)


def required_role(command: Command) -> Role:
    """The role ``command`` is exercised in; the entry point calls ``acting_as`` with it."""
    return rule_of(command).responsible_role


def ensure_visible(state: DevState, principal: Principal) -> None:
    """Refuse a caller without a reading role (403), a request unknown here (404), or another
    OPD's request to a requester (403), in that order."""
    access.authorize(principal, GET_REQUEST)
    if not state.exists:
        raise NotFound("Permohonan ini belum mempunyai Surat Tugas pengembangan.")
    access.require_scope(principal, GET_REQUEST, access.Target(opd=state.opd))


def decide(
    state: DevState,
    command: DevTrackingCommand,
    principal: Principal,
    now: dt.datetime,
    grace: Grace = DEFAULT_GRACE,
) -> list[DomainEvent]:
    """The events ``command`` by ``principal`` at ``now`` produces; raises a ``DomainError``.
    ``grace``: how long after the Surat Tugas's last day the team may still act."""
    rule = rule_of(command)
    grant = access.authorize(principal, rule)
    if not state.exists:
        raise NotFound(f"Permohonan {command.request_id} belum mempunyai Surat Tugas pengembangan.")
    if state.request_id != command.request_id:
        raise ValueError(f"state of {state.request_id} given for {command.request_id}")
    target = access.Target(opd=state.opd, team=frozenset(state.team_members))
    access.require_scope(principal, rule, target, grant)
    _admit(state, command)
    today = now.date()
    if bound_by_letter(rule):
        ensure_within(state, today, grace)
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


def _wrong_step(state: DevState, why: str) -> WrongStep:
    code = state.step or "ASSIGN"
    return WrongStep(f"{why}; permohonan sedang pada {at_step(code)}.", code)


def _not_after(value: dt.date, today: dt.date, field: str) -> None:
    if value > today:
        raise InvalidInput(
            f"{DAY_LABELS[field]} {value} belum tiba; isi hari ini atau sebelumnya.", field
        )


def _start(state: DevState, command: StartDevelopment, today: dt.date) -> list[DomainEvent]:
    _not_after(command.started_on, today, "started_on")
    return [DevelopmentStarted(request_id=command.request_id, started_on=command.started_on)]


def _progress(state: DevState, command: ReportProgress) -> list[DomainEvent]:
    if state.percent is not None and command.percent < state.percent:
        raise InvalidInput(
            f"Kemajuan tidak boleh turun: terakhir dilaporkan {state.percent}%, sekarang "
            f"{command.percent}%. Isi {state.percent}% atau lebih.",
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
        raise NotFound(f"Masalah {command.problem_id} tidak ada pada permohonan ini.")
    if not problem.is_open:
        raise InvalidInput(f"Masalah {command.problem_id} sudah diselesaikan.", "problem_id")
    return [
        ProblemSolved(
            request_id=command.request_id,
            problem_id=command.problem_id,
            solution=command.solution,
        )
    ]


def _fresh_minutes(state: DevState, number: str | None) -> None:
    if number is not None and number in state.minutes_numbers:
        raise InvalidInput(
            f"Nomor Berita Acara {number} sudah dipakai pada permohonan ini; isi nomor lain.",
            "minutes_number",
        )


def _test(state: DevState, command: RecordTestResult, today: dt.date) -> list[DomainEvent]:
    due = state.next_test
    assert due is not None and state.started_on is not None  # ADMITTED's guards
    if command.kind != due:
        why = f"Yang harus dicatat sekarang {TEST_LABELS[due]}, bukan {TEST_LABELS[command.kind]}"
        if state.step == "DEVELOP" and state.uat_rejections:
            why += " (setelah UAT ditolak, Uji Integrasi diulang)"
        raise _wrong_step(state, why)
    if command.result == "FAILED" and not command.findings:
        raise InvalidInput(
            "Uji yang gagal perlu paling sedikit satu temuan; isi temuannya.", "findings"
        )
    _fresh_minutes(state, command.minutes_number)
    _not_after(command.tested_on, today, "tested_on")
    if command.tested_on < state.started_on:
        raise InvalidInput(
            f"Tanggal uji {command.tested_on} sebelum pembangunan dimulai "
            f"({state.started_on}); periksa tanggalnya.",
            "tested_on",
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
    if command.version == state.manual_version:
        raise InvalidInput(
            f"Buku Manual versi {command.version} sudah diterbitkan; isi versi yang baru.",
            "version",
        )
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
    if command.result not in uat_results(state):
        ids = ", ".join(p.problem_id for p in state.open_problems)
        raise _wrong_step(
            state,
            f"UAT belum dapat diterima selama masih ada masalah terbuka ({ids}); catat solusinya "
            "lebih dahulu, atau tolak UAT dengan temuan",
        )
    if command.result == "REJECTED":
        if not command.findings:
            raise InvalidInput(
                "UAT yang ditolak perlu paling sedikit satu temuan; isi temuannya.", "findings"
            )
        if command.notes is not None:
            raise InvalidInput(
                "UAT yang ditolak dicatat dengan temuan, bukan catatan; pindahkan ke temuan.",
                "notes",
            )
        _fresh_minutes(state, command.minutes_number)
        return [
            UATRejected(
                request_id=command.request_id,
                minutes_number=command.minutes_number,
                findings=command.findings,
            )
        ]
    if command.findings:
        raise InvalidInput(
            "UAT yang diterima tidak memuat temuan; tulis keterangan di catatan (notes).",
            "findings",
        )
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
