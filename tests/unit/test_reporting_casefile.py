"""Reporting's case read model: a pure, interleaving-proof fold over every service's envelopes."""

import datetime as dt
import random
from collections.abc import Sequence
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from events.approval import (
    BAsigned,
    Disposed,
    DocumentsVerified,
    MeetingHeld,
    Participant,
    RequestReturned,
    Signatory,
    TaskAssigned,
    Timeline,
)
from events.base import DomainEvent
from events.catalog import default_registry, service_of
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
from events.envelope import GENESIS_HASH, Actor, Envelope, NewEvent, OnBehalfOf
from events.identity import OpdRegistered
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
from events.reporting import SlaBreached
from events.topics import Service
from infra.eventstore.contract import seal_all
from services.reporting.casefile import (
    CaseFile,
    ConflictingEvent,
    WrongRequest,
    apply,
    canonical_order,
    case_as_of,
    case_row,
    empty_case,
    fold,
    fold_all,
)
from services.reporting.casefile_draft import CaseDraft, Update
from services.reporting.casefile_steps import update_for
from services.reporting.notifications import notices_for_step, waiting_point
from services.reporting.sla_steps import trail

REQ = "0190f1c2-7a3b-7c4d-8e5f-0123456789ab"
OPD = "DINKES"
T0 = dt.datetime(2024, 3, 4, 1, 0, tzinfo=dt.UTC)  # Monday 08:00 WIB

REQUESTER = Actor(user_id="req-1", role="PEMOHON", opd=OPD)
KADIS = Actor(user_id="kadis", role="KADIS", opd="DISKOMINFOSTANDI")
PLT_KADIS = Actor(
    user_id="sekdis",
    role="KADIS",
    opd="DISKOMINFOSTANDI",
    on_behalf_of=OnBehalfOf(user_id="kadis", role="KADIS", kind="PLT"),
)
KABID = Actor(user_id="kabid", role="KABID_TI", opd="DISKOMINFOSTANDI")
DEV = Actor(user_id="dev-1", role="TIM_PENGEMBANG", opd="DISKOMINFOSTANDI")
SLA = Actor(user_id="reporting", role="SYSTEM")
PDF = Attachment(sha256="ab" * 32, size_bytes=4096, media_type="application/pdf", filename="m.pdf")

Step = tuple[Service, int, Actor, DomainEvent]
"""One event of the flow: emitting service, minutes after T0, actor, payload."""


def _flow(rid: str = REQ) -> list[Step]:
    """A full request through the SOP, with a return, a failed test, a rejected UAT, problems,
    a Plt disposition, a Plh signature and an SLA breach."""
    return [
        (
            "intake",
            0,
            REQUESTER,
            RequestSubmitted(
                request_id=rid,
                opd=OPD,
                title="Sistem Informasi Puskesmas",
                summary="Pendaftaran pasien puskesmas.",
                letter=RequestLetter(number="440/12/DINKES/II/2024", date=dt.date(2024, 3, 1)),
                needs_analysis=NeedsAnalysis(),
                business_process=BusinessProcess(),
                submitted_via="WEB",
            ),
        ),
        (
            "intake",
            10,
            KADIS,
            RequestReceived(request_id=rid, received_by="kadis", agenda_number="AG-7"),
        ),
        (
            "approval",
            20,
            PLT_KADIS,
            Disposed(
                request_id=rid, to_role="KABID_TI", note="Proses.", disposition_number="DISP-1"
            ),
        ),
        (
            "approval",
            30,
            KABID,
            RequestReturned(
                request_id=rid,
                reasons=("Lengkapi alur sistem",),
                missing_sections=("business_process.system_flow",),
            ),
        ),
        (
            "intake",
            40,
            REQUESTER,
            RequestRevised(
                request_id=rid,
                title="SI Puskesmas v2",
                letter=RequestLetter(number="440/13/DINKES/III/2024", date=dt.date(2024, 3, 4)),
                note="Sudah dilengkapi.",
            ),
        ),
        ("approval", 50, KABID, DocumentsVerified(request_id=rid)),
        (
            "approval",
            60,
            KABID,
            MeetingHeld(
                request_id=rid,
                held_at=T0 + dt.timedelta(minutes=55),
                participants=(
                    Participant(
                        name="Budi", position="Kepala Bidang TI", organisation="Diskominfostandi"
                    ),
                ),
                scope="Pendaftaran.",
                timeline=Timeline(
                    planned_start=dt.date(2024, 3, 11), planned_end=dt.date(2024, 4, 30)
                ),
                minutes_number="BA-DRAFT-1",
            ),
        ),
        (
            "approval",
            70,
            KABID,
            BAsigned(
                request_id=rid,
                minutes_number="BA-1",
                signatories=(
                    Signatory(user_id="kabid", name="Budi", role="KABID_TI"),
                    Signatory(
                        user_id="plh-1",
                        name="Sari",
                        role="KADIS",
                        on_behalf_of=OnBehalfOf(user_id="kadis", role="KADIS", kind="PLH"),
                    ),
                ),
            ),
        ),
        (
            "approval",
            80,
            KADIS,
            TaskAssigned(
                request_id=rid,
                letter_number="ST-1",
                team_members=("dev-1", "dev-2"),
                team_lead="dev-1",
                opd=OPD,
                period_start=dt.date(2024, 3, 11),
                period_end=dt.date(2024, 4, 30),
            ),
        ),
        (
            "dev_tracking",
            90,
            DEV,
            DevelopmentStarted(request_id=rid, started_on=dt.date(2024, 3, 11)),
        ),
        (
            "dev_tracking",
            100,
            DEV,
            ProgressReported(request_id=rid, percent=40, note="Modul pendaftaran."),
        ),
        (
            "dev_tracking",
            110,
            DEV,
            ProblemRecorded(
                request_id=rid, problem_id="P-1", description="Server lambat.", severity="HIGH"
            ),
        ),
        (
            "dev_tracking",
            120,
            DEV,
            ProblemSolved(request_id=rid, problem_id="P-1", solution="Tambah RAM."),
        ),
        (
            "reporting",
            125,
            SLA,
            SlaBreached(
                request_id=rid,
                step="DEVELOP",
                due_at=T0 + dt.timedelta(minutes=124),
                breached_at=T0 + dt.timedelta(minutes=125),
                responsible_role="TIM_PENGEMBANG",
                supervisor_role="KABID_TI",
            ),
        ),
        (
            "dev_tracking",
            130,
            DEV,
            TestPassed(
                request_id=rid,
                kind="SYSTEM",
                minutes_number="BA-ST-1",
                tested_on=dt.date(2024, 4, 1),
            ),
        ),
        (
            "dev_tracking",
            140,
            DEV,
            TestFailed(
                request_id=rid,
                kind="UNIT",
                minutes_number="BA-UT-1",
                findings=("Validasi NIK gagal",),
                tested_on=dt.date(2024, 4, 2),
            ),
        ),
        (
            "dev_tracking",
            150,
            DEV,
            TestPassed(
                request_id=rid, kind="UNIT", minutes_number="BA-UT-2", tested_on=dt.date(2024, 4, 3)
            ),
        ),
        (
            "dev_tracking",
            160,
            DEV,
            TestPassed(
                request_id=rid,
                kind="INTEGRATION",
                minutes_number="BA-IT-1",
                tested_on=dt.date(2024, 4, 4),
            ),
        ),
        (
            "dev_tracking",
            170,
            DEV,
            ManualPublished(
                request_id=rid, title="Manual SI Puskesmas", document=PDF, version="1.0"
            ),
        ),
        (
            "dev_tracking",
            175,
            DEV,
            ProblemRecorded(
                request_id=rid, problem_id="P-2", description="Cetak kartu.", severity="LOW"
            ),
        ),
        (
            "dev_tracking",
            178,
            DEV,
            ProblemSolved(request_id=rid, problem_id="P-2", solution="Template baru."),
        ),
        (
            "dev_tracking",
            180,
            REQUESTER,
            UATRejected(
                request_id=rid, minutes_number="BA-UAT-1", findings=("Laporan harian kurang",)
            ),
        ),
        (
            "dev_tracking",
            190,
            DEV,
            TestPassed(
                request_id=rid,
                kind="INTEGRATION",
                minutes_number="BA-IT-2",
                tested_on=dt.date(2024, 4, 10),
            ),
        ),
        (
            "dev_tracking",
            200,
            REQUESTER,
            UATAccepted(request_id=rid, minutes_number="BA-UAT-2", accepted_by="req-1"),
        ),
        (
            "dev_tracking",
            201,
            REQUESTER,
            RequestCompleted(request_id=rid, completed_on=dt.date(2024, 4, 12)),
        ),
    ]


def _seal(steps: Sequence[Step], rid: str = REQ) -> dict[Service, list[Envelope]]:
    """Each service's own stream for the request: versions 1, 2, ... in the order written."""
    lanes: dict[Service, list[NewEvent]] = {}
    for service, minutes, actor, event in steps:
        lanes.setdefault(service, []).append(
            NewEvent.of(
                event,
                occurred_at=T0 + dt.timedelta(minutes=minutes),
                actor=actor,
                correlation_id=uuid4(),
            )
        )
    return {s: seal_all(rid, 0, GENESIS_HASH, news) for s, news in lanes.items()}


LANES = _seal(_flow())
ALL = sorted((e for lane in LANES.values() for e in lane), key=lambda e: e.occurred_at)
FINAL = fold(ALL)


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def test_case_at_each_point_of_the_flow() -> None:
    case = case_as_of(ALL, at(10))
    assert (case.status, case.step, case.who_must_act) == ("OPEN", "DISPOSE", "KADIS")
    assert (case.opd, case.title) == (OPD, "Sistem Informasi Puskesmas")
    [letter] = case.documents
    assert (letter.kind, letter.number, letter.by) == (
        "REQUEST_LETTER",
        "440/12/DINKES/II/2024",
        REQUESTER,
    )

    case = case_as_of(ALL, at(30))
    assert (case.status, case.step, case.who_must_act) == ("RETURNED", "VERIFY", "PEMOHON")
    disposition = case.documents_of("DISPOSITION")[0]
    assert disposition.number == "DISP-1"
    assert disposition.by.user_id == "sekdis"
    assert disposition.by.on_behalf_of == OnBehalfOf(user_id="kadis", role="KADIS", kind="PLT")
    assert case.returns[0].reasons == ("Lengkapi alur sistem",)

    case = case_as_of(ALL, at(40))
    assert (case.status, case.step, case.who_must_act) == ("OPEN", "VERIFY", "KABID_TI")
    assert (case.title, case.revisions) == ("SI Puskesmas v2", 1)
    assert [d.number for d in case.documents_of("REQUEST_LETTER")] == [
        "440/12/DINKES/II/2024",
        "440/13/DINKES/III/2024",
    ]

    case = case_as_of(ALL, at(70))
    assert (case.step, case.who_must_act) == ("ASSIGN", "KADIS")
    assert case.documents_of("DRAFT_MINUTES")[0].number == "BA-DRAFT-1"
    minutes = case.documents_of("MINUTES")[0]
    assert minutes.label == "Berita Acara"
    assert minutes.signatories[1].on_behalf_of is not None
    assert minutes.signatories[1].on_behalf_of.kind == "PLH"

    case = case_as_of(ALL, at(80))
    assert (case.step, case.who_must_act, case.next_test) == ("DEVELOP", "TIM_PENGEMBANG", "SYSTEM")
    assert case.team is not None
    assert (case.team.letter_number, case.team.lead) == ("ST-1", "dev-1")
    assert case.documents_of("ASSIGNMENT_LETTER")[0].label == "Surat Tugas"

    case = case_as_of(ALL, at(110))
    assert case.progress_percent == 40
    assert [(p.problem_id, p.is_open) for p in case.problems] == [("P-1", True)]
    case = case_as_of(ALL, at(120))
    [problem] = case.problems
    assert (problem.solution, problem.solved_by, problem.solved_at) == ("Tambah RAM.", DEV, at(120))

    case = case_as_of(ALL, at(140))
    assert (case.step, case.next_test) == ("UNIT_TEST", "UNIT")
    failed = case.latest_test("UNIT")
    assert failed is not None
    assert (failed.number, failed.passed, failed.findings) == (
        "BA-UT-1",
        False,
        ("Validasi NIK gagal",),
    )

    assert case_as_of(ALL, at(160)).step == "MANUAL"
    case = case_as_of(ALL, at(175))
    assert (case.step, case.who_must_act) == ("UAT", "TIM_PENGEMBANG")  # P-2 still open
    assert case.documents_of("MANUAL")[0].version == "1.0"
    assert case_as_of(ALL, at(178)).who_must_act == "PEMOHON"

    case = case_as_of(ALL, at(180))
    assert (case.step, case.next_test, case.who_must_act) == (
        "DEVELOP",
        "INTEGRATION",
        "TIM_PENGEMBANG",
    )
    assert case.uat_rejections == 1
    assert case_as_of(ALL, at(190)).step == "UAT"  # the manual exists already


def test_final_case() -> None:
    case = FINAL
    assert (case.status, case.step, case.who_must_act) == ("COMPLETED", "DONE", None)
    assert case.closed_at == at(201)
    assert case.sop_percent == 100
    assert [(d.kind, d.number, d.passed) for d in case.documents] == [
        ("REQUEST_LETTER", "440/12/DINKES/II/2024", None),
        ("DISPOSITION", "DISP-1", None),
        ("REQUEST_LETTER", "440/13/DINKES/III/2024", None),
        ("DRAFT_MINUTES", "BA-DRAFT-1", None),
        ("MINUTES", "BA-1", None),
        ("ASSIGNMENT_LETTER", "ST-1", None),
        ("TEST_MINUTES", "BA-ST-1", True),
        ("TEST_MINUTES", "BA-UT-1", False),
        ("TEST_MINUTES", "BA-UT-2", True),
        ("TEST_MINUTES", "BA-IT-1", True),
        ("MANUAL", None, None),
        ("UAT_MINUTES", "BA-UAT-1", False),
        ("TEST_MINUTES", "BA-IT-2", True),
        ("UAT_MINUTES", "BA-UAT-2", True),
    ]
    assert case.documents_of("TEST_MINUTES")[0].label == "Berita Acara System Testing"
    assert [p.problem_id for p in case.problems] == ["P-1", "P-2"]
    assert not case.open_problems
    assert len(case.timeline) == len(ALL)
    assert [t.at for t in case.timeline] == sorted(t.at for t in case.timeline)
    disposed = next(t for t in case.timeline if t.event_type == "Disposed")
    assert (disposed.actor, disposed.step, disposed.document_numbers) == (
        PLT_KADIS,
        "DISPOSE",
        ("DISP-1",),
    )
    sla = next(t for t in case.timeline if t.event_type == "SlaBreached")
    assert (sla.service, sla.step) == ("reporting", "DEVELOP")
    assert case.history == tuple(ALL)
    row = case_row(case)
    assert (row.status, row.opd, row.current_step, row.responsible_role) == (
        "COMPLETED",
        OPD,
        "DONE",
        None,
    )
    assert (row.title, row.updated_at, row.step_number) == ("SI Puskesmas v2", at(201), 14)


def test_case_row_while_open() -> None:
    row = case_row(case_as_of(ALL, at(50)))
    assert (row.status, row.current_step, row.responsible_role) == ("OPEN", "MEETING", "KABID_TI")
    assert row.step_label == "Rapat terkait Aplikasi yang akan dibangun"
    assert row.updated_at == at(50)


def test_case_as_of_before_and_after_a_step() -> None:
    before = case_as_of(ALL, at(80) - dt.timedelta(microseconds=1))
    after = case_as_of(ALL, at(80))
    assert (before.step, before.team) == ("ASSIGN", None)
    assert after.step == "DEVELOP"
    assert after.team is not None
    assert case_as_of(FINAL.history, at(80)) == after  # rewinding a built case
    nothing = case_as_of(ALL, at(-1))
    assert nothing == empty_case(REQ)
    assert (nothing.status, nothing.who_must_act) == ("ABSENT", None)
    assert case_as_of(ALL, at(500)) == FINAL
    with pytest.raises(ValueError, match="timezone-aware"):
        case_as_of(ALL, dt.datetime(2024, 3, 4, 8))


def test_apply_is_idempotent_and_checks_its_input() -> None:
    case = empty_case(REQ)
    for envelope in ALL:
        case = apply(case, envelope)
        assert apply(case, envelope) is case
    assert case == FINAL
    identity = seal_all(
        "opd-DINKES",
        0,
        GENESIS_HASH,
        [
            NewEvent.of(
                OpdRegistered(code=OPD, name="Dinas Kesehatan"),
                actor=SLA,
                correlation_id=uuid4(),
            )
        ],
    )[0]
    assert apply(case, identity) is case  # identity's events are no case's
    assert fold([identity, *ALL]) == FINAL
    with pytest.raises(WrongRequest):
        apply(empty_case("other"), ALL[0])
    impostor = _seal(_flow()[:1])["intake"][0]  # another event at intake's version 1
    with pytest.raises(ConflictingEvent):
        apply(FINAL, impostor)
    with pytest.raises(ConflictingEvent):
        fold([*ALL, impostor])
    with pytest.raises(ConflictingEvent):
        apply(FINAL, ALL[0].model_copy(update={"tenant": "other"}))


def test_withdrawal_that_crosses_a_disposition_stands() -> None:
    steps = [
        *_flow()[:2],
        ("intake", 20, REQUESTER, RequestWithdrawn(request_id=REQ, reason="Tidak jadi.")),
        ("approval", 21, KADIS, Disposed(request_id=REQ, to_role="KABID_TI", note="Proses.")),
    ]
    lanes = _seal(steps)
    envelopes = [*lanes["approval"], *lanes["intake"]]  # approval's topic delivered first
    case = fold(envelopes)
    assert (case.status, case.step, case.who_must_act) == ("WITHDRAWN", "DISPOSE", None)
    assert case.closing_reason == "Tidak jadi."
    assert [t.event_type for t in case.timeline][-2:] == ["RequestWithdrawn", "Disposed"]
    assert case.documents_of("DISPOSITION")  # the fact is kept for the auditor
    assert case == fold(reversed(envelopes))


def test_skewed_clocks_never_send_the_step_back() -> None:
    steps = [
        *_flow()[:2],
        ("approval", 9, KADIS, Disposed(request_id=REQ, to_role="KABID_TI", note="Ok.")),
    ]
    case = fold(e for lane in _seal(steps).values() for e in lane)
    assert [t.event_type for t in case.timeline] == [
        "RequestSubmitted",
        "Disposed",
        "RequestReceived",
    ]
    assert (case.step, case.who_must_act) == ("VERIFY", "KABID_TI")


def test_equal_timestamps_follow_the_sop_order_of_services() -> None:
    steps = [
        *_flow()[:2],
        ("approval", 10, KADIS, Disposed(request_id=REQ, to_role="KABID_TI", note="Ok.")),
    ]
    lanes = _seal(steps)
    order = canonical_order([*lanes["approval"], *lanes["intake"]])
    assert [e.event_type for e in order] == ["RequestSubmitted", "RequestReceived", "Disposed"]


def test_fold_all_splits_a_mixed_feed_by_request() -> None:
    other = "0190f1c2-7a3b-7c4d-8e5f-00000000beef"
    others = [e for lane in _seal(_flow(other)[:5], other).values() for e in lane]
    feed = [*ALL, *others]
    random.Random(7).shuffle(feed)
    cases = fold_all(feed)
    assert cases[REQ] == FINAL
    assert (cases[other].status, cases[other].step) == ("OPEN", "VERIFY")


Delivery = tuple[list[Service], list[tuple[int, int]]]


def _deliveries(lanes: dict[Service, list[Envelope]]) -> st.SearchStrategy[Delivery]:
    """Random deliveries: a shuffle of the lanes' labels (the k-th ``s`` delivers lane ``s``'s
    k-th envelope, so each topic keeps its order) and redeliveries ``(after, which)``."""
    labels = [s for s, lane in lanes.items() for _ in lane]
    n = len(labels)
    redeliveries = st.lists(
        st.integers(0, n - 1).flatmap(lambda i: st.tuples(st.just(i), st.integers(0, i))),
        max_size=8,
    )
    return st.tuples(st.permutations(labels), redeliveries)


def _deliver(lanes: dict[Service, list[Envelope]], delivery: Delivery) -> list[Envelope]:
    """The envelopes in delivery order, each redelivery ``(after, which)`` putting the
    ``which``-th delivered envelope again right after the ``after``-th."""
    order, redeliveries = delivery
    cursors = dict.fromkeys(lanes, 0)
    first: list[Envelope] = []
    for service in order:
        first.append(lanes[service][cursors[service]])
        cursors[service] += 1
    again: dict[int, list[Envelope]] = {}
    for after, which in redeliveries:
        again.setdefault(after, []).append(first[which])
    return [e for i, envelope in enumerate(first) for e in (envelope, *again.get(i, []))]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_deliveries(LANES))
def test_every_interleaving_gives_the_same_case(given_delivery: Delivery) -> None:
    delivery = _deliver(LANES, given_delivery)
    case = empty_case(REQ)
    for envelope in delivery:
        case = apply(case, envelope)
    assert case == FINAL
    assert case.model_dump() == FINAL.model_dump()
    assert fold(delivery) == FINAL


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(0, 240), min_size=len(ALL), max_size=len(ALL)), st.data())
def test_any_timestamps_every_prefix_is_a_function_of_the_set(
    minutes: list[int], data: st.DataObject
) -> None:
    """Clocks in any disorder (even within a topic): after every delivery the case equals the
    fold of the set delivered so far, and the end result does not depend on the interleaving."""
    flow = [(s, m, a, e) for (s, _, a, e), m in zip(_flow(), minutes, strict=True)]
    lanes = _seal(flow)
    reference = fold(e for lane in lanes.values() for e in lane)
    case: CaseFile = empty_case(REQ)
    seen: dict[object, Envelope] = {}
    for envelope in _deliver(lanes, data.draw(_deliveries(lanes))):
        case = apply(case, envelope)
        seen[envelope.event_id] = envelope
        assert case == fold(seen.values(), REQ)
    assert case == reference


def test_a_stored_case_validates_back_to_the_same_case() -> None:
    """The parts the fold builds are taken as they are; as data (JSON, dicts) they are
    validated into the same parts, and an unknown field or a naive instant is refused."""
    assert CaseFile.model_validate_json(FINAL.model_dump_json()) == FINAL
    assert CaseFile.model_validate(FINAL.model_dump(mode="json")) == FINAL
    stored = FINAL.model_dump(mode="json")
    stored["timeline"][0]["unknown"] = 1
    with pytest.raises(ValidationError):
        CaseFile.model_validate(stored)
    stored = FINAL.model_dump(mode="json")
    stored["documents"][0]["produced_at"] = "2024-03-04T01:00:00"
    with pytest.raises(ValidationError):
        CaseFile.model_validate(stored)


def _draft_steps() -> list[tuple[Envelope, Update, CaseDraft]]:
    """The flow stepped through one ``CaseDraft``: each envelope, the values before it, and a
    draft of the values after it."""
    draft = CaseDraft.of(empty_case(REQ))
    steps = []
    for envelope in canonical_order(ALL):
        event = default_registry().load(
            envelope.event_type, envelope.schema_version, envelope.payload
        )
        service = service_of(envelope.event_type)
        assert service is not None
        before = draft.change(update_for(draft, service, envelope, event))
        steps.append((envelope, before, CaseDraft(draft.values)))
    return steps


def test_a_draft_freezes_into_the_fold_of_the_envelopes_so_far() -> None:
    assert CaseDraft.of(FINAL).freeze(history=FINAL.history, updated_at=FINAL.updated_at) == FINAL
    seen: list[Envelope] = []
    for envelope, before, after in _draft_steps():
        expected = _without_history(fold(seen, REQ)) if seen else empty_case(REQ)
        assert CaseDraft(before).freeze() == expected
        seen.append(envelope)
        assert after.freeze() == _without_history(fold(seen, REQ))


def test_a_fold_without_the_timeline_differs_only_by_it() -> None:
    """``update_for(..., timeline=False)`` (the replay's, whose stored case holds no timeline)
    changes every other field as the full fold does, at every step."""
    draft = CaseDraft.of(empty_case(REQ))
    for envelope, _, after in _draft_steps():
        event = default_registry().load(
            envelope.event_type, envelope.schema_version, envelope.payload
        )
        service = service_of(envelope.event_type)
        assert service is not None
        draft.change(update_for(draft, service, envelope, event, timeline=False))
        assert draft.timeline == ()
        assert draft.values == after.values | {"timeline": ()}
    assert len(after.timeline) == len(ALL)


def test_a_change_leaves_the_values_before_it_as_they_were() -> None:
    draft = CaseDraft.of(empty_case(REQ))
    before = draft.change({"status": "OPEN", "revisions": 1})
    assert (before["status"], before["revisions"]) == ("ABSENT", 0)
    assert (draft.status, draft.revisions) == ("OPEN", 1)
    assert draft.change({}) is draft.values


def test_a_draft_tells_the_notices_what_its_case_would() -> None:
    """At every step, the draft's waiting point and notices are its frozen case's (the replay
    asks the notices of drafts)."""
    now = dt.datetime(2026, 11, 29, tzinfo=dt.UTC)
    moves = 0
    for envelope, before, after in _draft_steps():
        old, new = CaseDraft(before), after
        assert new.who_must_act == new.freeze().who_must_act
        assert waiting_point(new) == waiting_point(new.freeze())
        if waiting_point(old) != waiting_point(new):
            moves += 1
        assert notices_for_step(old, new, envelope, now) == notices_for_step(
            old.freeze(), new.freeze(), envelope, now
        )
    assert moves > 5


def _without_history(case: CaseFile) -> CaseFile:
    return case.model_copy(update={"history": (), "updated_at": None})


def _envelopes(steps: Sequence[Step]) -> list[Envelope]:
    return [e for lane in _seal(steps).values() for e in lane]


def _visits(envelopes: Sequence[Envelope]) -> list[str]:
    registry = default_registry()
    timed = [
        (e.occurred_at, registry.load(e.event_type, e.schema_version, e.payload)) for e in envelopes
    ]
    return [visit.code for visit in trail(timed).visits]


def test_a_later_surat_tugas_extends_the_period_and_keeps_the_progress() -> None:
    """KADIS issues a new Surat Tugas in development (issue 17, item 11): the case shows the new
    period and both letters, the step stays, and the SLA opens no new visit."""
    before = [s for s in _flow() if s[1] <= 130]
    first = next(s[3] for s in before if isinstance(s[3], TaskAssigned))
    assert isinstance(first, TaskAssigned)
    later = first.model_copy(update={"letter_number": "ST-2", "period_end": dt.date(2024, 5, 31)})
    with_later = _envelopes([*before, ("approval", 135, KADIS, later)])
    extended, plain = fold(with_later), fold(_envelopes(before))
    assert extended.team is not None and plain.team is not None
    assert (extended.team.letter_number, extended.team.period_end) == ("ST-2", later.period_end)
    assert (plain.team.letter_number, plain.team.period_end) == ("ST-1", dt.date(2024, 4, 30))
    letters = [d.number for d in extended.documents if d.kind == "ASSIGNMENT_LETTER"]
    assert letters == ["ST-1", "ST-2"]
    assert (extended.step, extended.next_test) == (plain.step, plain.next_test)
    assert extended.step == "UNIT_TEST"
    assert _visits(with_later) == _visits(_envelopes(before))
