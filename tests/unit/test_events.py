"""The contracts in ``events/``: shapes, the step catalogue, topics, upcasting and hashing."""

import datetime as dt
import typing
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from events import approval, dev_tracking, documents, eoffice, identity, intake, reporting
from events.base import DomainEvent
from events.canonical import canonical_json, chain_hash
from events.catalog import ALL_EVENTS, EVENTS_BY_SERVICE, default_registry, service_of, topic_of
from events.completeness import SECTION_LABELS, missing_sections
from events.envelope import GENESIS_HASH, OnBehalfOf
from events.registry import EventRegistry, MissingUpcaster, UnknownEventType
from events.steps import STEPS, Step, UnknownStep, next_step, step, step_by_number
from events.topics import (
    SERVICES,
    UnknownService,
    consumer_group_for,
    dead_letter_topic,
    topic_for,
    topics_consumed_by,
)

WIB = dt.timezone(dt.timedelta(hours=7))
AT = dt.datetime(2024, 2, 5, 9, 0, tzinfo=WIB)
DAY = dt.date(2024, 2, 5)
SHA = "ab" * 32
REQ = "0190f1c2-7a3b-7c4d-8e5f-0123456789ab"

ATTACHMENT = intake.Attachment(
    sha256=SHA, size_bytes=2048, media_type="application/pdf", filename="surat.pdf"
)
FULL_NEEDS = intake.NeedsAnalysis(
    background="Pendataan pasien masih manual.",
    objectives="Mempercepat layanan.",
    intended_users=("Petugas puskesmas",),
    features=("Registrasi pasien", "Laporan bulanan"),
    platform="Web, PostgreSQL, server Diskominfostandi",
)
FULL_PROCESS = intake.BusinessProcess(
    system_flow="Petugas mendaftar pasien, dokter mencatat diagnosis.",
    input_data=("Identitas pasien",),
    output_data=("Laporan kunjungan",),
    validation_mechanism="NIK divalidasi 16 digit.",
    user_roles=("Petugas", "Dokter", "Admin"),
    forms_and_reporting="Formulir registrasi; laporan bulanan ke Dinkes.",
    access_rights_management="Hak akses per role.",
    user_management="Admin membuat akun.",
    database_management="Backup harian.",
)

SAMPLES: dict[type[DomainEvent], DomainEvent] = {
    e.__class__: e
    for e in [
        identity.OpdRegistered(code="DINKES", name="Dinas Kesehatan"),
        identity.UserRegistered(
            user_id="u-1",
            username="budi.s",
            full_name="Budi Santoso, S.Kom.",
            nip="198501012010011001",
            opd="DINKES",
        ),
        identity.UserProfileChanged(
            user_id="u-1",
            full_name="Budi Santoso, S.Kom., M.T.",
            nip="198501012010011001",
            rank="Penata (III/c)",
        ),
        identity.RoleGranted(user_id="u-1", role="PEMOHON"),
        identity.RoleRevoked(user_id="u-1", role="PEMOHON", reason="Mutasi ke OPD lain"),
        identity.LoginUnlocked(user_id="u-1", locked_until=AT, failures=5),
        identity.DelegationGranted(
            delegation_id="d-1",
            delegate_user_id="u-2",
            official_user_id="u-3",
            role="KADIS",
            kind="PLH",
            valid_from=AT,
            valid_until=AT + dt.timedelta(days=3),
            reason="Kadis dinas luar; Surat Perintah 800/1/2024",
        ),
        identity.DelegationEnded(delegation_id="d-1", reason="Kadis kembali bertugas"),
        intake.RequestSubmitted(
            request_id=REQ,
            opd="DINKES",
            title="Sistem Informasi Puskesmas",
            summary="Aplikasi pendaftaran pasien puskesmas.",
            letter=intake.RequestLetter(number="440/12/DINKES/II/2024", date=DAY),
            needs_analysis=FULL_NEEDS,
            business_process=FULL_PROCESS,
            attachments=(ATTACHMENT,),
            submitted_via="EOFFICE",
            eoffice_letter_id="EOF-2024-0001",
        ),
        intake.RequestReceived(request_id=REQ, received_by="u-3", agenda_number="123"),
        intake.RequestRevised(
            request_id=REQ, business_process=FULL_PROCESS, note="Role pengguna dilengkapi."
        ),
        intake.RequestWithdrawn(request_id=REQ, reason="Anggaran dialihkan."),
        approval.Disposed(request_id=REQ, to_role="KABID_TI", note="Pelajari dan tindak lanjuti."),
        approval.DocumentsVerified(request_id=REQ),
        approval.RequestReturned(
            request_id=REQ,
            reasons=("Role pengguna belum diisi",),
            missing_sections=("business_process.user_roles",),
        ),
        approval.MeetingHeld(
            request_id=REQ,
            held_at=AT,
            participants=(
                approval.Participant(
                    name="Sari", position="Kepala Bidang TI", organisation="Diskominfostandi"
                ),
            ),
            scope="Modul pendaftaran dan laporan.",
            timeline=approval.Timeline(planned_start=DAY, planned_end=DAY + dt.timedelta(days=45)),
            minutes_number="005/BA/TI/2024",
        ),
        approval.BAsigned(
            request_id=REQ,
            minutes_number="005/BA/TI/2024",
            signatories=(
                approval.Signatory(
                    user_id="u-2",
                    name="Andi",
                    role="KADIS",
                    on_behalf_of=OnBehalfOf(user_id="u-3", role="KADIS", kind="PLH"),
                ),
                approval.Signatory(user_id="u-1", name="Budi", role="PEMOHON"),
            ),
        ),
        approval.TaskAssigned(
            request_id=REQ,
            letter_number="800/ST/05/2024",
            team_members=("u-5", "u-6"),
            team_lead="u-5",
            opd="DINKES",
            period_start=DAY,
            period_end=DAY + dt.timedelta(days=60),
        ),
        approval.RequestRejected(request_id=REQ, reason="Sudah ada aplikasi nasional."),
        dev_tracking.DevelopmentStarted(request_id=REQ, started_on=DAY),
        dev_tracking.ProgressReported(request_id=REQ, percent=40, note="Modul registrasi selesai"),
        dev_tracking.ProblemRecorded(
            request_id=REQ, problem_id="p-1", description="Server lambat", severity="HIGH"
        ),
        dev_tracking.ProblemSolved(request_id=REQ, problem_id="p-1", solution="Tambah RAM"),
        dev_tracking.TestPassed(
            request_id=REQ, kind="SYSTEM", minutes_number="BA-ST-1", tested_on=DAY
        ),
        dev_tracking.TestFailed(
            request_id=REQ,
            kind="UNIT",
            minutes_number="BA-UT-1",
            findings=("Validasi NIK gagal",),
            tested_on=DAY,
        ),
        dev_tracking.ManualPublished(
            request_id=REQ, title="Manual Book SIP", document=ATTACHMENT, version="1.0"
        ),
        dev_tracking.UATAccepted(request_id=REQ, minutes_number="BA-UAT-2", accepted_by="u-1"),
        dev_tracking.UATRejected(
            request_id=REQ, minutes_number="BA-UAT-1", findings=("Laporan belum sesuai",)
        ),
        dev_tracking.RequestCompleted(request_id=REQ, completed_on=DAY),
        reporting.SlaBreached(
            request_id=REQ,
            step="VERIFY",
            due_at=AT,
            breached_at=AT + dt.timedelta(minutes=1),
            responsible_role="KABID_TI",
            supervisor_role="KADIS",
        ),
        reporting.CaseStatusChanged(
            request_id=REQ,
            opd="DINKES",
            sequence=2,
            previous_status="OPEN",
            status="RETURNED",
            previous_step=reporting.StepRef(code="VERIFY", number=4, label="Memeriksa"),
            step=reporting.StepRef(code="VERIFY", number=4, label="Memeriksa"),
            who_must_act="PEMOHON",
            cause_event_id=uuid.UUID(int=7),
            cause_event_type="RequestReturned",
            cause_occurred_at=AT,
        ),
        eoffice.StatusDelivered(
            request_id=REQ, delivery_id=uuid.UUID(int=8), sequence=2, attempts=1, http_status=204
        ),
        eoffice.StatusDeliveryParked(
            request_id=REQ,
            delivery_id=uuid.UUID(int=8),
            sequence=2,
            attempts=30,
            last_http_status=None,
            last_error="ConnectError: All connection attempts failed",
        ),
        eoffice.StatusDeliveryResent(
            request_id=REQ, delivery_id=uuid.UUID(int=8), sequence=2, resent_by="u-admin"
        ),
        documents.DocumentIssued(
            request_id=REQ,
            document_id=uuid.UUID(int=9),
            kind="SURAT_TUGAS",
            number="800.1.11.1/0042/Diskominfostandi/2026",
            number_source="REGISTER",
            document_date=dt.date(2026, 12, 7),
            final=True,
            sha256="a" * 64,
            unsigned_sha256="b" * 64,
            signers=("Dr. Ir. Bambang Sutrisno, M.T.",),
            source_event_id=uuid.UUID(int=10),
        ),
        documents.DocumentFailed(
            request_id=REQ,
            document_id=uuid.UUID(int=9),
            kind="SURAT_TUGAS",
            reason="MissingSignerData: NIP Hendra Wijaya (u-plt) belum tercatat",
            source_event_id=uuid.UUID(int=10),
        ),
    ]
}


def _nested_models(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        for field in annotation.model_fields.values():
            yield from _nested_models(field.annotation)
    for arg in typing.get_args(annotation):
        yield from _nested_models(arg)


ALL_MODELS: list[type[BaseModel]] = sorted(
    {m for event in ALL_EVENTS for m in _nested_models(event)} | {Step},
    key=lambda m: m.__name__,
)


def test_samples_cover_every_event() -> None:
    assert set(SAMPLES) == set(ALL_EVENTS)
    assert len({e.event_type() for e in ALL_EVENTS}) == len(ALL_EVENTS)
    assert intake.Attachment in ALL_MODELS and approval.Signatory in ALL_MODELS


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_every_model_is_frozen_and_strict(model: type[BaseModel]) -> None:
    assert model.model_config.get("frozen") is True
    assert model.model_config.get("extra") == "forbid"


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_every_field_is_described(model: type[BaseModel]) -> None:
    for name, field in model.model_fields.items():
        assert field.description and field.description.strip(), f"{model.__name__}.{name}"


@pytest.mark.parametrize("event", SAMPLES.values(), ids=lambda e: e.event_type())
def test_event_refuses_change_and_unknown_fields(event: DomainEvent) -> None:
    first_field = next(iter(type(event).model_fields))
    with pytest.raises(ValidationError):
        setattr(event, first_field, "changed")
    with pytest.raises(ValidationError, match="extra"):
        type(event).model_validate({**event.model_dump(), "unexpected": 1})


@pytest.mark.parametrize("event", SAMPLES.values(), ids=lambda e: e.event_type())
def test_event_round_trips_through_json_and_registry(event: DomainEvent) -> None:
    payload = event.model_dump(mode="json")
    canonical_json(payload)  # JSON-ready: no exception
    loaded = default_registry().load(event.event_type(), event.schema_version, payload)
    assert loaded == event


def test_catalog_maps_events_to_their_services_and_topics() -> None:
    assert set(EVENTS_BY_SERVICE) == set(SERVICES)
    assert service_of("RequestReturned") == "approval"
    assert topic_of("TaskAssigned") == "jejak.approval.events"
    assert topic_of("SlaBreached") == "jejak.reporting.events"
    assert topic_of("CaseStatusChanged") == "jejak.reporting.events"
    assert topic_of("StatusDeliveryParked") == "jejak.eoffice.events"
    with pytest.raises(UnknownEventType):
        service_of("Nope")


# --- the step catalogue ---------------------------------------------------------------------


def test_step_catalogue_has_14_steps_in_order_with_their_roles() -> None:
    assert [s.number for s in STEPS] == list(range(1, 15))
    assert [(s.code, s.actor_role) for s in STEPS] == [
        ("SUBMIT", "PEMOHON"),
        ("RECEIVE", "KADIS"),
        ("DISPOSE", "KADIS"),
        ("VERIFY", "KABID_TI"),
        ("MEETING", "KABID_TI"),
        ("SIGN_MINUTES", "KABID_TI"),
        ("ASSIGN", "KADIS"),
        ("DEVELOP", "TIM_PENGEMBANG"),
        ("SYSTEM_TEST", "TIM_PENGEMBANG"),
        ("UNIT_TEST", "TIM_PENGEMBANG"),
        ("INTEGRATION_TEST", "TIM_PENGEMBANG"),
        ("MANUAL", "TIM_PENGEMBANG"),
        ("UAT", "PEMOHON"),
        ("DONE", None),
    ]
    for s in STEPS:
        if s.actor_role is not None:
            assert s.participant_roles[0] == s.actor_role


def test_standard_times_are_working_minutes() -> None:
    assert [s.standard_minutes for s in STEPS] == [
        3 * 480, 5, 5, 15, 180, 5, 30, 45 * 480, 120, 120, 120, 480, 480, 0,
    ]  # fmt: skip
    assert step("SUBMIT").standard_time == dt.timedelta(hours=24)
    assert all(s.has_standard_time for s in STEPS[:-1]) and not STEPS[-1].has_standard_time


def test_step_outputs_and_sop_numbers() -> None:
    assert [s.sop_number for s in STEPS] == [str(n) for n in range(1, 12)] + ["11", "12", "13"]
    assert step("DISPOSE").output_document == "Disposisi"
    assert step("MEETING").output_document == "Draft Berita Acara"
    assert step("SIGN_MINUTES").output_document == "Berita Acara"
    assert step("ASSIGN").output_document == "Surat Tugas"
    assert step("DEVELOP").output_document == "Aplikasi"
    assert step("SUBMIT").output_document.startswith("Surat Permohonan")
    assert all(s.output_document and s.label_id and s.label_en for s in STEPS[:-1])


def test_step_lookups() -> None:
    assert step("VERIFY").number == 4
    assert step_by_number(12).code == "MANUAL"
    assert next_step("INTEGRATION_TEST") == step("MANUAL")
    assert next_step("DONE") is None
    with pytest.raises(UnknownStep):
        step("NOPE")
    with pytest.raises(UnknownStep):
        step_by_number(15)
    with pytest.raises(ValidationError):
        setattr(step("DONE"), "number", 1)  # noqa: B010


# --- topics -----------------------------------------------------------------------------------


def test_topics_and_dead_letters() -> None:
    assert SERVICES == (
        "identity",
        "intake",
        "approval",
        "dev_tracking",
        "reporting",
        "eoffice",
        "documents",
    )
    assert [topic_for(s) for s in SERVICES] == [
        "jejak.identity.events",
        "jejak.intake.events",
        "jejak.approval.events",
        "jejak.dev_tracking.events",
        "jejak.reporting.events",
        "jejak.eoffice.events",
        "jejak.documents.events",
    ]
    assert topics_consumed_by("eoffice") == ("jejak.reporting.events",)
    assert "jejak.eoffice.events" not in topics_consumed_by("reporting")
    assert consumer_group_for("approval") == "jejak.approval"
    assert dead_letter_topic("approval") == "jejak.approval.dlq"
    assert dead_letter_topic("approval", "jejak.approval") == "jejak.approval.dlq"
    assert dead_letter_topic("reporting", "jejak.reporting.notifier") == (
        "jejak.reporting.notifier.dlq"
    )
    assert topics_consumed_by("dev_tracking") == ("jejak.approval.events",)
    with pytest.raises(ValueError, match="does not belong"):
        dead_letter_topic("approval", "jejak.intake")
    with pytest.raises(ValueError):
        consumer_group_for("reporting", "events")
    with pytest.raises(UnknownService):
        topic_for("billing")


# --- upcasting --------------------------------------------------------------------------------


def test_progress_reported_v1_payload_loads_as_v2() -> None:
    assert dev_tracking.ProgressReported.schema_version == 2
    v1 = {"request_id": REQ, "percent": 30}
    loaded = default_registry().load("ProgressReported", 1, v1)
    assert loaded == dev_tracking.ProgressReported(request_id=REQ, percent=30, note="-")
    assert v1 == {"request_id": REQ, "percent": 30}  # the stored payload is left alone


def test_v1_payload_without_upcaster_is_refused() -> None:
    registry = EventRegistry(ALL_EVENTS)
    with pytest.raises(MissingUpcaster):
        registry.load("ProgressReported", 1, {"request_id": REQ, "percent": 30})
    with pytest.raises(ValidationError):  # and v2 really requires the note
        registry.load("ProgressReported", 2, {"request_id": REQ, "percent": 30})


# --- canonical JSON and the hash chain --------------------------------------------------------


def test_canonical_json_is_stable_under_key_reordering() -> None:
    a = {"b": 1, "a": {"y": [1, {"q": 1, "p": 2}], "x": "é"}}
    b = {"a": {"x": "é", "y": [1, {"p": 2, "q": 1}]}, "b": 1}
    assert canonical_json(a) == canonical_json(b)
    assert canonical_json(a) == '{"a":{"x":"é","y":[1,{"p":2,"q":1}]},"b":1}'.encode()


def test_canonical_json_refuses_nan() -> None:
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})


def test_chain_hash_changes_with_one_character() -> None:
    content = {"event_type": "Disposed", "payload": {"note": "Tindak lanjuti"}}
    tampered = {"event_type": "Disposed", "payload": {"note": "Tindak lanjutI"}}
    h = chain_hash(GENESIS_HASH, content)
    assert len(h) == 64
    assert h == chain_hash(GENESIS_HASH, dict(reversed(content.items())))
    assert h != chain_hash(GENESIS_HASH, tampered)
    assert h != chain_hash("1" + GENESIS_HASH[1:], content)


# --- completeness -----------------------------------------------------------------------------


def test_missing_sections_lists_exactly_the_absent_ones() -> None:
    assert missing_sections(FULL_NEEDS, FULL_PROCESS) == []
    needs = FULL_NEEDS.model_copy(update={"features": (), "platform": None})
    process = FULL_PROCESS.model_copy(update={"user_roles": None, "database_management": None})
    assert missing_sections(needs, process) == [
        "needs_analysis.features",
        "needs_analysis.platform",
        "business_process.user_roles",
        "business_process.database_management",
    ]
    everything = missing_sections(intake.NeedsAnalysis(), intake.BusinessProcess())
    assert everything == list(SECTION_LABELS)
    assert len(everything) == 14


# --- validators -------------------------------------------------------------------------------


def _sample(model: type[DomainEvent], **changes: Any) -> dict[str, Any]:
    return {**SAMPLES[model].model_dump(), **changes}


@pytest.mark.parametrize(
    ("model", "changes"),
    [
        (identity.UserRegistered, {"nip": "19850101201001100"}),  # 17 digits
        (identity.UserRegistered, {"nip": "19850101201001100X"}),
        (identity.UserRegistered, {"password_hash": "a hash has no place in the event"}),
        (identity.DelegationGranted, {"valid_until": AT}),
        (identity.DelegationGranted, {"delegate_user_id": "u-3"}),
        (identity.DelegationGranted, {"role": "PEMOHON"}),
        (intake.RequestSubmitted, {"submitted_via": "WEB"}),  # with an e-office id
        (intake.RequestSubmitted, {"eoffice_letter_id": None}),
        (intake.RequestSubmitted, {"attachments": [ATTACHMENT, ATTACHMENT]}),
        (intake.RequestSubmitted, {"title": " padded "}),
        (intake.RequestSubmitted, {"summary": "   "}),
        (intake.RequestSubmitted, {"opd": "dinkes"}),
        (intake.RequestSubmitted, {"title": "Sistem\x00Informasi"}),
        (intake.RequestSubmitted, {"title": "Sistem\tInformasi"}),
        (intake.RequestSubmitted, {"summary": "Ringkasan\x00"}),
        (intake.RequestSubmitted, {"eoffice_letter_id": "surat 12"}),  # not visible ASCII
        (approval.Disposed, {"to_role": "KADIS"}),
        (approval.RequestReturned, {"reasons": []}),
        (approval.RequestReturned, {"reasons": ["Alur\x07"]}),
        (approval.DocumentsVerified, {"missing_sections": ["needs_analysis.\x00"]}),
        (
            approval.MeetingHeld,
            {"timeline": {"planned_start": DAY, "planned_end": DAY - dt.timedelta(days=1)}},
        ),
        (approval.MeetingHeld, {"held_at": dt.datetime(2024, 2, 5, 9)}),  # naive
        (approval.MeetingHeld, {"participants": []}),
        (approval.TaskAssigned, {"team_lead": "u-9"}),
        (approval.TaskAssigned, {"team_members": []}),
        (approval.TaskAssigned, {"team_members": ["u-5", "u-5"]}),
        (approval.TaskAssigned, {"period_end": DAY - dt.timedelta(days=1)}),
        (approval.BAsigned, {"signatories": []}),
        (dev_tracking.ProgressReported, {"percent": 101}),
        (dev_tracking.ProgressReported, {"percent": -1}),
        (dev_tracking.TestFailed, {"findings": []}),
        (dev_tracking.TestPassed, {"kind": "ACCEPTANCE"}),
        (dev_tracking.UATRejected, {"findings": []}),
        (reporting.SlaBreached, {"breached_at": AT - dt.timedelta(minutes=1)}),
        (reporting.SlaBreached, {"step": "LUNCH"}),
        (reporting.CaseStatusChanged, {"previous_status": None}),
        (reporting.CaseStatusChanged, {"sequence": 0}),
        (eoffice.StatusDelivered, {"http_status": 500}),
        (eoffice.StatusDeliveryParked, {"last_error": "two\nlines"}),
    ],
)
def test_invalid_payloads_are_refused(model: type[DomainEvent], changes: dict[str, Any]) -> None:
    model.model_validate(_sample(model))  # the unchanged sample is valid
    with pytest.raises(ValidationError):
        model.model_validate(_sample(model, **changes))


@pytest.mark.parametrize(
    "changes",
    [
        {"sha256": "AB" * 32},
        {"sha256": "ab" * 31},
        {"size_bytes": 0},
        {"media_type": "PDF"},
        {"filename": "../etc/passwd"},
        {"filename": ".."},
    ],
)
def test_invalid_attachments_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        intake.Attachment.model_validate({**ATTACHMENT.model_dump(), **changes})


def test_delegation_validity_window() -> None:
    grant = SAMPLES[identity.DelegationGranted]
    assert isinstance(grant, identity.DelegationGranted)
    assert grant.is_valid_at(AT)
    assert not grant.is_valid_at(AT + dt.timedelta(days=3))
