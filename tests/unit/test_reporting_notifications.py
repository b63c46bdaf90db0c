"""Reporting's notices: who is told what as a request moves through the SOP (pure)."""

import datetime as dt
from dataclasses import replace
from typing import Literal
from uuid import UUID, uuid4, uuid5

import pytest
from hypothesis import given
from hypothesis import strategies as st

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
from events.envelope import GENESIS_HASH, Actor, Envelope, NewEvent
from events.intake import (
    Attachment,
    BusinessProcess,
    NeedsAnalysis,
    RequestLetter,
    RequestReceived,
    RequestRevised,
    RequestSubmitted,
)
from events.reporting import SlaBreached
from events.steps import StepCode
from events.topics import Service
from infra.eventstore.contract import seal_all
from services.reporting.casefile import CaseFile, apply, empty_case, fold
from services.reporting.notices_history import notices_of
from services.reporting.notifications import (
    NOTICE_NAMESPACE,
    Addressee,
    Notice,
    notice_id,
    notices_for_step,
    waiting_point,
)

REQ = "0190f1c2-7a3b-7c4d-8e5f-0123456789ab"
OPD = "DINKES"
T0 = dt.datetime(2024, 3, 4, 1, 0, tzinfo=dt.UTC)  # Monday 08:00 WIB
NOW = dt.datetime(2024, 3, 4, 9, 0, tzinfo=dt.UTC)

REQUESTER = Actor(user_id="req-1", role="PEMOHON", opd=OPD)
KADIS = Actor(user_id="kadis", role="KADIS", opd="DISKOMINFOSTANDI")
KABID = Actor(user_id="kabid", role="KABID_TI", opd="DISKOMINFOSTANDI")
DEV = Actor(user_id="dev-1", role="TIM_PENGEMBANG", opd="DISKOMINFOSTANDI")
SLA = Actor(user_id="reporting", role="SYSTEM")
PDF = Attachment(sha256="ab" * 32, size_bytes=4096, media_type="application/pdf", filename="m.pdf")

Who = tuple[str, str | None, str | None]
"""(role, opd, user_id) of an addressee."""

TEAM: list[Who] = [("TIM_PENGEMBANG", None, "dev-1"), ("TIM_PENGEMBANG", None, "dev-2")]


def owed(before: CaseFile, after: CaseFile, now: dt.datetime = NOW) -> list[Notice]:
    """What the projection stores when it goes from ``before`` to ``after``: the notices of
    ``after``'s envelopes that those of ``before`` did not make."""
    made = {n.notice_id for n in notices_of(before, now)}
    return [n for n in notices_of(after, now) if n.notice_id not in made]


class Flow:
    """One request, event by event: each service's stream sealed in order, the case applied."""

    def __init__(self, rid: str = REQ) -> None:
        self.rid = rid
        self.heads: dict[Service, tuple[int, str]] = {}
        self.case = empty_case(rid)
        self.minutes = 0
        self.envelopes: list[Envelope] = []
        self.stored: set[UUID] = set()

    def seal(self, service: Service, actor: Actor, event: DomainEvent) -> Envelope:
        self.minutes += 10
        version, prev = self.heads.get(service, (0, GENESIS_HASH))
        new = NewEvent.of(
            event,
            occurred_at=T0 + dt.timedelta(minutes=self.minutes),
            actor=actor,
            correlation_id=uuid4(),
        )
        [envelope] = seal_all(self.rid, version, prev, [new])
        self.heads[service] = (envelope.stream_version, envelope.hash)
        self.envelopes.append(envelope)
        return envelope

    def deliver(self, envelope: Envelope) -> list[Notice]:
        """The notices the projection stores when ``envelope`` arrives: those of the set so far
        that it had not stored before."""
        before = self.case
        self.case = apply(before, envelope)
        new = [n for n in notices_of(self.case, NOW) if n.notice_id not in self.stored]
        self.stored |= {n.notice_id for n in new}
        return new

    def step(self, service: Service, actor: Actor, event: DomainEvent) -> list[Notice]:
        return self.deliver(self.seal(service, actor, event))


def who(notices: list[Notice]) -> list[Who]:
    return [(n.addressee.role, n.addressee.opd, n.addressee.user_id) for n in notices]


def submitted(rid: str = REQ, opd: str = OPD) -> RequestSubmitted:
    return RequestSubmitted(
        request_id=rid,
        opd=opd,
        title="Sistem Informasi Puskesmas",
        summary="Pendaftaran pasien puskesmas.",
        letter=RequestLetter(number="440/12/DINKES/II/2024", date=dt.date(2024, 3, 1)),
        needs_analysis=NeedsAnalysis(),
        business_process=BusinessProcess(),
        submitted_via="WEB",
    )


def meeting(rid: str = REQ) -> MeetingHeld:
    return MeetingHeld(
        request_id=rid,
        held_at=T0,
        participants=(
            Participant(name="Budi", position="Kepala Bidang TI", organisation="Diskominfo"),
        ),
        scope="Pendaftaran.",
        timeline=Timeline(planned_start=dt.date(2024, 3, 11), planned_end=dt.date(2024, 4, 30)),
        minutes_number="BA-DRAFT-1",
    )


def assigned(rid: str = REQ) -> TaskAssigned:
    return TaskAssigned(
        request_id=rid,
        letter_number="ST-1",
        team_members=("dev-1", "dev-2"),
        team_lead="dev-1",
        opd=OPD,
        period_start=dt.date(2024, 3, 11),
        period_end=dt.date(2024, 4, 30),
    )


def breached(step: StepCode, responsible: str, supervisor: str | None) -> SlaBreached:
    return SlaBreached.model_validate(
        {
            "request_id": REQ,
            "step": step,
            "due_at": T0,
            "breached_at": T0 + dt.timedelta(minutes=1),
            "responsible_role": responsible,
            "supervisor_role": supervisor,
        }
    )


def ran_test(kind: str, passed: bool, number: str) -> DomainEvent:
    """Minutes of a test run (passed or failed)."""
    data = {"request_id": REQ, "kind": kind, "minutes_number": number, "tested_on": "2024-04-01"}
    if not passed:
        data["findings"] = ["Validasi NIK gagal"]
    return TestPassed.model_validate(data) if passed else TestFailed.model_validate(data)


def flow_to(step: StepCode) -> Flow:
    """A fresh flow moved along the happy path until the case waits at ``step``."""
    flow = Flow()
    path: list[tuple[Service, Actor, DomainEvent]] = [
        ("intake", REQUESTER, submitted()),
        ("intake", KADIS, RequestReceived(request_id=REQ, received_by="kadis")),
        ("approval", KADIS, Disposed(request_id=REQ, to_role="KABID_TI", note="Proses.")),
        ("approval", KABID, DocumentsVerified(request_id=REQ)),
        ("approval", KABID, meeting()),
        (
            "approval",
            KABID,
            BAsigned(
                request_id=REQ,
                minutes_number="BA-1",
                signatories=(Signatory(user_id="kabid", name="Budi", role="KABID_TI"),),
            ),
        ),
        ("approval", KADIS, assigned()),
    ]
    for service, actor, event in path:
        if flow.case.step == step and flow.case.status != "ABSENT":
            break
        flow.step(service, actor, event)
    assert flow.case.step == step
    return flow


def test_each_step_tells_the_role_that_must_act_now() -> None:
    flow = Flow()
    expected: list[tuple[Service, Actor, DomainEvent, list[Who], StepCode]] = [
        ("intake", REQUESTER, submitted(), [("KADIS", None, None)], "RECEIVE"),
        (
            "intake",
            KADIS,
            RequestReceived(request_id=REQ, received_by="kadis"),
            [("KADIS", None, None)],
            "DISPOSE",
        ),
        (
            "approval",
            KADIS,
            Disposed(request_id=REQ, to_role="KABID_TI", note="Proses."),
            [("KABID_TI", None, None)],
            "VERIFY",
        ),
        (
            "approval",
            KABID,
            RequestReturned(request_id=REQ, reasons=("Lengkapi alur sistem",)),
            [("PEMOHON", OPD, None)],
            "VERIFY",
        ),
        (
            "intake",
            REQUESTER,
            RequestRevised(request_id=REQ, note="Sudah dilengkapi."),
            [("KABID_TI", None, None)],
            "VERIFY",
        ),
        (
            "approval",
            KABID,
            DocumentsVerified(request_id=REQ),
            [("KABID_TI", None, None)],
            "MEETING",
        ),
        ("approval", KABID, meeting(), [("KABID_TI", None, None)], "SIGN_MINUTES"),
        (
            "approval",
            KABID,
            BAsigned(
                request_id=REQ,
                minutes_number="BA-1",
                signatories=(Signatory(user_id="kabid", name="Budi", role="KABID_TI"),),
            ),
            [("KADIS", None, None)],
            "ASSIGN",
        ),
        ("approval", KADIS, assigned(), TEAM, "DEVELOP"),
        (
            "dev_tracking",
            DEV,
            DevelopmentStarted(request_id=REQ, started_on=dt.date(2024, 3, 11)),
            [],
            "DEVELOP",
        ),
        (
            "dev_tracking",
            DEV,
            ProgressReported(request_id=REQ, percent=40, note="Modul pendaftaran."),
            [],
            "DEVELOP",
        ),
        ("dev_tracking", DEV, ran_test("SYSTEM", True, "BA-ST-1"), TEAM, "UNIT_TEST"),
        ("dev_tracking", DEV, ran_test("UNIT", False, "BA-UT-1"), [], "UNIT_TEST"),
        ("dev_tracking", DEV, ran_test("UNIT", True, "BA-UT-2"), TEAM, "INTEGRATION_TEST"),
        ("dev_tracking", DEV, ran_test("INTEGRATION", True, "BA-IT-1"), TEAM, "MANUAL"),
        (
            "dev_tracking",
            DEV,
            ManualPublished(request_id=REQ, title="Manual", document=PDF, version="1.0"),
            [("PEMOHON", OPD, None)],
            "UAT",
        ),
        (
            "dev_tracking",
            DEV,
            ProblemRecorded(
                request_id=REQ, problem_id="P-1", description="Cetak kartu.", severity="LOW"
            ),
            TEAM,
            "UAT",
        ),
        (
            "dev_tracking",
            DEV,
            ProblemSolved(request_id=REQ, problem_id="P-1", solution="Template baru."),
            [("PEMOHON", OPD, None)],
            "UAT",
        ),
        (
            "dev_tracking",
            REQUESTER,
            UATRejected(request_id=REQ, minutes_number="BA-UAT-1", findings=("Laporan kurang",)),
            TEAM,
            "DEVELOP",
        ),
        (
            "dev_tracking",
            DEV,
            ran_test("INTEGRATION", True, "BA-IT-2"),
            [("PEMOHON", OPD, None)],
            "UAT",
        ),
        (
            "dev_tracking",
            REQUESTER,
            UATAccepted(request_id=REQ, minutes_number="BA-UAT-2", accepted_by="req-1"),
            [],
            "UAT",
        ),
        (
            "dev_tracking",
            REQUESTER,
            RequestCompleted(request_id=REQ, completed_on=dt.date(2024, 4, 12)),
            [],
            "DONE",
        ),
    ]
    for service, actor, event, addressees, at_step in expected:
        notices = flow.step(service, actor, event)
        assert who(notices) == addressees, event.event_type()
        assert flow.case.step == at_step, event.event_type()
        for notice in notices:
            assert notice.kind == "ACTION"
            assert (notice.request_id, notice.step) == (REQ, at_step)
            assert notice.event_id == flow.envelopes[-1].event_id
            assert notice.created_at == NOW
            assert "Sistem Informasi Puskesmas" in notice.message


def test_messages_say_what_waits_in_indonesian() -> None:
    flow = Flow()
    [receive] = flow.step("intake", REQUESTER, submitted())
    assert receive.message == (
        'Permohonan "Sistem Informasi Puskesmas" dari DINKES telah diajukan dan menunggu '
        "diterima (langkah 2)."
    )
    [dispose] = flow.step("intake", KADIS, RequestReceived(request_id=REQ, received_by="kadis"))
    assert dispose.message.endswith("menunggu disposisi Anda (langkah 3).")
    flow.step("approval", KADIS, Disposed(request_id=REQ, to_role="KABID_TI", note="Proses."))
    [returned] = flow.step(
        "approval", KABID, RequestReturned(request_id=REQ, reasons=("Lengkapi alur sistem",))
    )
    assert "dikembalikan untuk dilengkapi: Lengkapi alur sistem" in returned.message
    [again] = flow.step("intake", REQUESTER, RequestRevised(request_id=REQ, note="Sudah."))
    assert "telah diperbaiki pemohon dan menunggu pemeriksaan ulang" in again.message


def test_a_case_that_closes_tells_nobody_and_a_redelivery_changes_nothing() -> None:
    flow = flow_to("VERIFY")
    envelope = flow.envelopes[-1]
    assert flow.deliver(envelope) == []  # the same Disposed again
    assert owed(flow.case, flow.case) == []
    rejected = RequestRejected(request_id=REQ, reason="Sudah ada aplikasi nasional.")
    assert flow.step("approval", KADIS, rejected) == []
    assert flow.case.status == "REJECTED"


def test_a_breach_tells_the_responsible_role_and_its_supervisor() -> None:
    flow = flow_to("VERIFY")
    notices = flow.step("reporting", SLA, breached("VERIFY", "KABID_TI", "KADIS"))
    assert who(notices) == [("KABID_TI", None, None), ("KADIS", None, None)]
    assert {n.kind for n in notices} == {"SLA_BREACH"}
    assert {n.step for n in notices} == {"VERIFY"}
    responsible, supervisor = notices
    assert responsible.message.startswith("Batas waktu langkah 4 (pemeriksaan kelengkapan")
    assert "jatuh tempo 04-03-2024 08:00 WIB" in responsible.message
    assert "tanggung jawab Kepala Bidang TI" in supervisor.message


def test_a_breach_by_the_team_tells_each_member_and_kabid() -> None:
    flow = flow_to("DEVELOP")
    notices = flow.step("reporting", SLA, breached("DEVELOP", "TIM_PENGEMBANG", "KABID_TI"))
    assert who(notices) == [*TEAM, ("KABID_TI", None, None)]


def test_a_breach_by_the_requester_is_for_its_opd_only() -> None:
    flow = flow_to("VERIFY")
    flow.step("approval", KABID, RequestReturned(request_id=REQ, reasons=("Lengkapi",)))
    notices = flow.step("reporting", SLA, breached("VERIFY", "PEMOHON", "KABID_TI"))
    assert who(notices) == [("PEMOHON", OPD, None), ("KABID_TI", None, None)]


def test_a_breach_without_a_supervisor_in_the_event_takes_the_catalogues() -> None:
    flow = flow_to("MEETING")
    notices = flow.step("reporting", SLA, breached("MEETING", "KABID_TI", None))
    assert who(notices) == [("KABID_TI", None, None), ("KADIS", None, None)]


def test_a_breach_whose_supervisor_is_outside_the_system_tells_only_the_responsible() -> None:
    flow = flow_to("DISPOSE")
    notices = flow.step("reporting", SLA, breached("DISPOSE", "KADIS", None))
    assert who(notices) == [("KADIS", None, None)]


def test_notice_ids_are_deterministic_and_distinct() -> None:
    flow = flow_to("DEVELOP")
    before = fold(flow.envelopes[:-1])
    first = owed(before, flow.case)
    later = owed(before, flow.case, NOW + dt.timedelta(days=3))
    assert [n.notice_id for n in first] == [n.notice_id for n in later]
    assert len({n.notice_id for n in first}) == len(first) == 2
    envelope = flow.envelopes[-1]
    assert first[0].notice_id == notice_id(REQ, envelope.event_id, "ACTION", first[0].addressee)
    # Replaying every event into a fresh case gives the same notices, id for id.
    replay = Flow()
    ids: list[str] = []
    for env in flow.envelopes:
        ids += [str(n.notice_id) for n in replay.deliver(env)]
    original = Flow()
    again = [str(n.notice_id) for env in flow.envelopes for n in original.deliver(env)]
    assert ids == again
    assert len(set(ids)) == len(ids)


def test_one_by_one_or_all_at_once_the_notices_are_the_same() -> None:
    flow = flow_to("DEVELOP")
    progress = flow.seal("dev_tracking", DEV, ProgressReported(request_id=REQ, percent=5, note="."))
    assert flow.deliver(progress) == []
    one_by_one: list[Notice] = []
    case = empty_case(REQ)
    for envelope in flow.envelopes:
        one_by_one += owed(case, after := apply(case, envelope))
        case = after
    at_once = notices_of(flow.case, NOW)
    assert at_once == one_by_one
    assert [n.step for n in at_once] == [
        "RECEIVE", "DISPOSE", "VERIFY", "MEETING", "SIGN_MINUTES", "ASSIGN", "DEVELOP", "DEVELOP"
    ]  # fmt: skip


def test_a_verification_that_overtakes_the_revision_waits_for_it() -> None:
    flow = flow_to("VERIFY")
    flow.step("approval", KABID, RequestReturned(request_id=REQ, reasons=("Lengkapi",)))
    revised = flow.seal("intake", REQUESTER, RequestRevised(request_id=REQ, note="Sudah."))
    verified = flow.seal("approval", KABID, DocumentsVerified(request_id=REQ))
    assert flow.deliver(verified) == []  # approval acted on a revision not arrived yet
    again, meeting_ = flow.deliver(revised)  # arrives late: both are told, as they happened
    assert (again.addressee.role, again.step, again.event_id) == (
        "KABID_TI",
        "VERIFY",
        revised.event_id,
    )
    assert "telah diperbaiki pemohon" in again.message
    assert (meeting_.addressee.role, meeting_.step, meeting_.event_id) == (
        "KABID_TI",
        "MEETING",
        verified.event_id,
    )


def test_notices_wait_for_intakes_events_that_approvals_presuppose() -> None:
    flow = Flow()
    submitted_env = flow.seal("intake", REQUESTER, submitted())
    received = flow.seal("intake", KADIS, RequestReceived(request_id=REQ, received_by="kadis"))
    disposed = flow.seal(
        "approval", KADIS, Disposed(request_id=REQ, to_role="KABID_TI", note="Proses.")
    )
    returned = flow.seal("approval", KABID, RequestReturned(request_id=REQ, reasons=("Isi",)))
    breach = flow.seal("reporting", SLA, breached("VERIFY", "PEMOHON", "KABID_TI"))
    # approval's and reporting's topics are read before intake's
    assert flow.deliver(disposed) == []
    assert flow.deliver(returned) == []
    assert flow.deliver(breach) == []
    assert flow.deliver(submitted_env) == []  # still without RequestReceived
    told = flow.deliver(received)
    assert [(n.kind, n.step, n.event_id) for n in told] == [
        ("ACTION", "RECEIVE", submitted_env.event_id),
        ("ACTION", "DISPOSE", received.event_id),
        ("ACTION", "VERIFY", disposed.event_id),
        ("ACTION", "VERIFY", returned.event_id),
        ("SLA_BREACH", "VERIFY", breach.event_id),
        ("SLA_BREACH", "VERIFY", breach.event_id),
    ]
    assert who(told)[3:] == [
        ("PEMOHON", OPD, None),
        ("PEMOHON", OPD, None),
        ("KABID_TI", None, None),
    ]
    assert all('"Sistem Informasi Puskesmas" dari DINKES' in n.message for n in told)
    assert "dikembalikan" in told[3].message
    assert flow.deliver(received) == []


def test_dev_tracking_waits_for_the_assignment_and_a_breach_for_its_step() -> None:
    flow = flow_to("ASSIGN")
    assignment = flow.seal("approval", KADIS, assigned())
    breach = flow.seal("reporting", SLA, breached("DEVELOP", "TIM_PENGEMBANG", "KABID_TI"))
    tested = flow.seal("dev_tracking", DEV, ran_test("SYSTEM", True, "BA-ST-1"))
    assert flow.deliver(breach) == []  # the case has not reached DEVELOP yet
    assert flow.deliver(tested) == []  # dev_tracking's event without the Surat Tugas
    told = flow.deliver(assignment)
    assert [(n.kind, n.step) for n in told] == [("ACTION", "DEVELOP")] * 2 + [
        ("SLA_BREACH", "DEVELOP")
    ] * 3 + [("ACTION", "UNIT_TEST")] * 2
    assert who(told) == [*TEAM, *TEAM, ("KABID_TI", None, None), *TEAM]


def test_notices_of_a_case_that_is_not_the_same_request_or_a_naive_now_are_refused() -> None:
    flow = flow_to("DISPOSE")
    with pytest.raises(ValueError, match="timezone-aware"):
        notices_of(flow.case, dt.datetime(2024, 3, 4, 9, 0))
    envelope = flow.envelopes[-1]
    with pytest.raises(ValueError, match="two requests"):
        notices_for_step(empty_case("other-request"), flow.case, envelope, NOW)


def test_a_notice_is_frozen() -> None:
    notice = notices_of(flow_to("DISPOSE").case, NOW)[-1]
    with pytest.raises(AttributeError):
        notice.message = "x"  # type: ignore[misc]


@given(
    request_id=st.text(),
    event_id=st.uuids(),
    kind=st.sampled_from(["ACTION", "SLA_BREACH"]),
    role=st.sampled_from(["PEMOHON", "KADIS", "KABID_TI", "TIM_PENGEMBANG"]),
    opd=st.none() | st.text(),
    user_id=st.none() | st.text(),
)
def test_a_notice_id_is_the_uuid5_of_its_parts(
    request_id: str,
    event_id: UUID,
    kind: Literal["ACTION", "SLA_BREACH"],
    role: Literal["PEMOHON", "KADIS", "KABID_TI", "TIM_PENGEMBANG"],
    opd: str | None,
    user_id: str | None,
) -> None:
    addressee = Addressee(role=role, opd=opd, user_id=user_id)
    name = "|".join((request_id, str(event_id), kind, role, opd or "", user_id or ""))
    made = notice_id(request_id, event_id, kind, addressee)
    assert made == uuid5(NOTICE_NAMESPACE, name)
    assert made.version == 5


def test_notices_for_one_event_are_those_of_the_change_with_it_in_the_history() -> None:
    flow = flow_to("DEVELOP")
    flow.seal("reporting", SLA, breached("DEVELOP", "TIM_PENGEMBANG", "KABID_TI"))
    flow.seal("dev_tracking", DEV, ProgressReported(request_id=REQ, percent=5, note="."))
    told = 0
    for n in range(len(flow.envelopes)):
        envelope = flow.envelopes[n]
        before, after = fold(flow.envelopes[:n], REQ), fold(flow.envelopes[: n + 1], REQ)
        found = notices_for_step(before, after, envelope, NOW)
        assert found == owed(before, after)
        # as the bulk replay steps through: neither case keeps its history
        bare_before, bare_after = (c.model_copy(update={"history": ()}) for c in (before, after))
        assert notices_for_step(bare_before, bare_after, envelope, NOW) == found
        assert notices_for_step(before, bare_after, envelope, NOW) == found
        points = (waiting_point(before), waiting_point(after))  # as the replay has them
        assert notices_for_step(bare_before, bare_after, envelope, NOW, points=points) == found
        told += len(found)
        # already in the history before: a redelivery owes nothing
        assert owed(after, after) == []
    assert told >= len(flow.envelopes)  # every step of the path and the breach told someone
    with pytest.raises(ValueError, match="timezone-aware"):
        notices_for_step(before, after, envelope, dt.datetime(2024, 3, 4, 9, 0))
    with pytest.raises(ValueError, match="two requests"):
        notices_for_step(empty_case("other-request"), after, envelope, NOW)


def test_each_holder_is_told_once_and_the_notices_of_one_event_have_distinct_ids() -> None:
    flow = flow_to("ASSIGN")
    before = flow.case
    envelope = flow.seal("approval", KADIS, assigned())
    after = apply(before, envelope)
    assert after.team is not None
    twice = replace(after.team, members=("dev-1", "dev-2", "dev-1"))
    notices = notices_for_step(before, after.model_copy(update={"team": twice}), envelope, NOW)
    assert who(notices) == TEAM
    breach = flow.seal("reporting", SLA, breached("DEVELOP", "TIM_PENGEMBANG", "KABID_TI"))
    told = notices_for_step(after, after, breach, NOW) + notices
    assert who(told) == [*TEAM, ("KABID_TI", None, None), *TEAM]
    assert len({n.notice_id for n in told}) == len(told)


def test_a_notice_is_a_plain_value_equal_to_one_made_of_the_same_fields() -> None:
    notice = notices_of(flow_to("DISPOSE").case, NOW)[-1]
    assert Notice(**notice._asdict()) == notice
    assert notice.addressee == Addressee(role="KADIS")
    assert notice.created_at == NOW
