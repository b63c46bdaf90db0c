"""A request's whole history as the documents service receives it (identity's users and OPDs,
then intake, approval and dev_tracking), with fixed times and names: for the documents' unit
tests and for the service tests, which produce the same envelopes to Kafka."""

import datetime as dt
import uuid
from dataclasses import dataclass

from events.approval import (
    BAsigned,
    Disposed,
    MeetingHeld,
    Participant,
    Signatory,
    TaskAssigned,
    Timeline,
)
from events.base import DomainEvent
from events.dev_tracking import RequestCompleted, TestFailed, TestPassed, UATAccepted
from events.envelope import GENESIS_HASH, Actor, Envelope, NewEvent, OnBehalfOf
from events.identity import GrantableRole, OpdRegistered, RoleGranted, UserRegistered
from events.intake import (
    BusinessProcess,
    NeedsAnalysis,
    RequestLetter,
    RequestReceived,
    RequestSubmitted,
)
from events.topics import Service
from infra.eventstore.contract import seal_all

WIB = dt.timezone(dt.timedelta(hours=7))
MONDAY = dt.datetime(2026, 12, 7, 9, 0, tzinfo=WIB)
"""Senin, 7 Desember 2026, 09:00 WIB."""

NIP_KADIS = "197001011995031001"
NIP_PLT = "197502022000121002"
NIP_KABID = "198003032005011003"
NIP_DEV = "199004042015031004"
NIP_REQUESTER = "198505052010012005"

USERS: tuple[tuple[str, str, str, str | None, str | None, str | None, GrantableRole], ...] = (
    (
        "u-kadis",
        "kadis",
        "Dr. Ir. Bambang Sutrisno, M.T.",
        NIP_KADIS,
        "Pembina Utama Muda (IV/c)",
        None,
        "KADIS",
    ),
    (
        "u-plt",
        "plt",
        "Hendra Wijaya, S.Kom., M.Si.",
        NIP_PLT,
        "Pembina Tk. I (IV/b)",
        "Sekretaris Dinas",
        "KADIS",
    ),
    (
        "u-kabid",
        "kabid",
        "Siti Rahmawati, S.T., M.Kom.",
        NIP_KABID,
        "Pembina (IV/a)",
        None,
        "KABID_TI",
    ),
    (
        "u-dev",
        "dev",
        "Andi Pratama, S.Kom.",
        NIP_DEV,
        "Penata Muda Tk. I (III/b)",
        "Pranata Komputer Ahli Pertama",
        "TIM_PENGEMBANG",
    ),
    ("u-dev2", "dev2", "Rina Lestari, A.Md.", None, None, None, "TIM_PENGEMBANG"),
    (
        "u-opd",
        "pemohon",
        "Yohanes Dambung, S.E.",
        NIP_REQUESTER,
        "Penata (III/c)",
        "Kepala Subbagian Umum",
        "PEMOHON",
    ),
)


def identity_events(tenant: str = "katingan") -> list[Envelope]:
    """The OPD and the users, each in its own stream, a week before the request."""
    at = MONDAY - dt.timedelta(days=7)
    envelopes: list[Envelope] = []
    admin = Actor(user_id="u-admin", role="ADMIN")

    def add(stream: str, *events: DomainEvent) -> None:
        news = [
            NewEvent.of(e, occurred_at=at, actor=admin, tenant=tenant, correlation_id=uuid.uuid4())
            for e in events
        ]
        envelopes.extend(seal_all(stream, 0, GENESIS_HASH, news))

    add(
        "DISDUKCAPIL",
        OpdRegistered(code="DISDUKCAPIL", name="Dinas Kependudukan dan Pencatatan Sipil"),
    )
    for user_id, username, name, nip, rank, position, role in USERS:
        opd = "DISDUKCAPIL" if role == "PEMOHON" else None
        add(
            user_id,
            UserRegistered(
                user_id=user_id,
                username=username,
                full_name=name,
                nip=nip,
                opd=opd,
                rank=rank,
                position=position,
            ),
            RoleGranted(user_id=user_id, role=role),
        )
    return envelopes


KADIS = Actor(user_id="u-kadis", role="KADIS")
PLT_KADIS = Actor(
    user_id="u-plt",
    role="KADIS",
    on_behalf_of=OnBehalfOf(user_id="u-kadis", role="KADIS", kind="PLT"),
)
KABID = Actor(user_id="u-kabid", role="KABID_TI")
DEV = Actor(user_id="u-dev", role="TIM_PENGEMBANG")
REQUESTER = Actor(user_id="u-opd", role="PEMOHON", opd="DISDUKCAPIL")


@dataclass(frozen=True)
class Step:
    service: Service
    envelope: Envelope


def request_history(
    rid: str,
    *,
    agenda_number: str | None = None,
    dispose_actor: Actor = PLT_KADIS,
    tenant: str = "katingan",
    typed: bool = True,
) -> list[Step]:
    """A request from submission to UAT, a day per step from Monday 7 December 2026, with a
    failed and then a passed system test. ``typed``: the
    minutes of the meeting, the Surat Tugas and the minutes of the tests and the UAT carry typed
    numbers (else none: the registers number them, and the meeting's draft has none)."""
    day = dt.timedelta(days=1)
    flow: list[tuple[Service, Actor, dt.datetime, DomainEvent]] = [
        (
            "intake",
            REQUESTER,
            MONDAY - 3 * day,
            RequestSubmitted(
                request_id=rid,
                opd="DISDUKCAPIL",
                title="Sistem Informasi Antrean Layanan",
                summary="Antrean daring untuk layanan kependudukan.",
                letter=RequestLetter(
                    number="400.12/045/DISDUKCAPIL/2026", date=dt.date(2026, 12, 1)
                ),
                needs_analysis=NeedsAnalysis(),
                business_process=BusinessProcess(),
                submitted_via="WEB",
            ),
        ),
        (
            "intake",
            KADIS,
            MONDAY,
            RequestReceived(
                request_id=rid,
                received_by="u-kadis",
                agenda_number=agenda_number,
            ),
        ),
        (
            "approval",
            dispose_actor,
            MONDAY + dt.timedelta(hours=2),
            Disposed(
                request_id=rid,
                to_role="KABID_TI",
                note="Mohon dipelajari dan dijadwalkan rapat.",
                instructions=("Untuk ditindaklanjuti", "Pelajari dan beri saran"),
                urgency="Segera",
                classification="Terbatas",
                respond_by=dt.date(2026, 12, 9),
            ),
        ),
        (
            "approval",
            KABID,
            MONDAY + 2 * day,
            MeetingHeld(
                request_id=rid,
                held_at=MONDAY + 2 * day,
                participants=(
                    Participant(
                        name="Siti Rahmawati, S.T., M.Kom.",
                        position="Kepala Bidang TIK",
                        organisation="Diskominfostandi",
                        user_id="u-kabid",
                    ),
                    Participant(
                        name="Yohanes Dambung, S.E.",
                        position="Kepala Subbagian Umum",
                        organisation="Disdukcapil",
                        user_id="u-opd",
                    ),
                ),
                scope="Pendaftaran antrean, panggilan loket, dan laporan harian.",
                timeline=Timeline(
                    planned_start=dt.date(2027, 1, 4), planned_end=dt.date(2027, 3, 31)
                ),
                minutes_number="000.1.5/0007/Diskominfostandi/2026" if typed else None,
            ),
        ),
        (
            "approval",
            KABID,
            MONDAY + 3 * day,
            BAsigned(
                request_id=rid,
                minutes_number="000.1.5/0007/Diskominfostandi/2026" if typed else None,
                signatories=(
                    Signatory(user_id="u-opd", name="Yohanes Dambung, S.E.", role="PEMOHON"),
                    Signatory(
                        user_id="u-kabid", name="Siti Rahmawati, S.T., M.Kom.", role="KABID_TI"
                    ),
                    Signatory(
                        user_id="u-plt",
                        name="Hendra Wijaya, S.Kom., M.Si.",
                        role="KADIS",
                        on_behalf_of=OnBehalfOf(user_id="u-kadis", role="KADIS", kind="PLH"),
                    ),
                ),
            ),
        ),
        (
            "approval",
            KADIS,
            MONDAY + 4 * day,
            TaskAssigned(
                request_id=rid,
                letter_number="800.1.11.1/0012/Diskominfostandi/2026" if typed else None,
                team_members=("u-dev", "u-dev2"),
                team_lead="u-dev",
                opd="DISDUKCAPIL",
                period_start=dt.date(2027, 1, 4),
                period_end=dt.date(2027, 3, 31),
            ),
        ),
        (
            "dev_tracking",
            DEV,
            MONDAY + 90 * day,
            TestFailed(
                request_id=rid,
                kind="SYSTEM",
                minutes_number="500.12/0031/Diskominfostandi/2027" if typed else None,
                findings=("Nomor antrean ganda saat dua loket memanggil bersamaan",),
                tested_on=dt.date(2027, 3, 8),
            ),
        ),
        (
            "dev_tracking",
            DEV,
            MONDAY + 92 * day,
            TestPassed(
                request_id=rid,
                kind="SYSTEM",
                minutes_number="500.12/0032/Diskominfostandi/2027" if typed else None,
                tested_on=dt.date(2027, 3, 10),
            ),
        ),
        (
            "dev_tracking",
            REQUESTER,
            MONDAY + 100 * day,
            UATAccepted(
                request_id=rid,
                minutes_number="500.12/0040/Diskominfostandi/2027" if typed else None,
                accepted_by="u-opd",
                notes="Aplikasi diterima untuk digunakan.",
            ),
        ),
    ]
    lanes: dict[Service, list[NewEvent]] = {}
    order: list[Service] = []
    for service, actor, at, event in flow:
        news = NewEvent.of(
            event, occurred_at=at, actor=actor, tenant=tenant, correlation_id=uuid.uuid4()
        )
        lanes.setdefault(service, []).append(news)
        order.append(service)
    sealed = {s: iter(seal_all(rid, 0, GENESIS_HASH, news)) for s, news in lanes.items()}
    return [Step(service, next(sealed[service])) for service in order]


def completion(history: list[Step]) -> Step:
    """The RequestCompleted that dev_tracking records with the accepted UAT of ``history``
    (``request_history``), next in its stream."""
    last = [s for s in history if s.service == "dev_tracking"][-1].envelope
    news = NewEvent.of(
        RequestCompleted(request_id=last.stream_id, completed_on=dt.date(2027, 3, 17)),
        occurred_at=last.occurred_at + dt.timedelta(seconds=1),
        actor=REQUESTER,
        tenant=last.tenant,
        correlation_id=last.correlation_id,
    )
    [sealed] = seal_all(last.stream_id, last.stream_version, last.hash, [news])
    return Step("dev_tracking", sealed)


def extension(history: list[Step], period_end: dt.date, letter_number: str | None) -> Step:
    """A later Surat Tugas of ``history``'s request (``request_history``): KADIS extends the
    team's period to ``period_end`` a day after the last step, next in approval's stream."""
    last = [s for s in history if s.service == "approval"][-1].envelope
    first = TaskAssigned.model_validate(last.payload)
    news = NewEvent.of(
        first.model_copy(update={"letter_number": letter_number, "period_end": period_end}),
        occurred_at=max(s.envelope.occurred_at for s in history) + dt.timedelta(days=1),
        actor=KADIS,
        tenant=last.tenant,
        correlation_id=uuid.uuid4(),
    )
    [sealed] = seal_all(last.stream_id, last.stream_version, last.hash, [news])
    return Step("approval", sealed)
