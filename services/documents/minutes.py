"""The builders of the Berita Acara: of the meeting (a draft on MeetingHeld, the final on
BAsigned), of each test (TestPassed, TestFailed) and of the UAT (UATAccepted, UATRejected).
Each opens with its date in words and closes with the customary sentence."""

import datetime as dt
from typing import Any

from events.approval import BAsigned, MeetingHeld
from events.dev_tracking import TestFailed, TestKind, TestPassed, UATAccepted, UATRejected
from events.documents import DocumentKind
from services.documents.context import Built, Source, Tenant, common
from services.documents.signature import block
from services.documents.words import date_in_words, long_date

CLOSING = (
    "Demikian Berita Acara ini dibuat dengan sebenarnya untuk dipergunakan sebagaimana mestinya."
)
TEST_NAMES: dict[TestKind, str] = {"SYSTEM": "SISTEM", "UNIT": "UNIT", "INTEGRATION": "INTEGRASI"}
DEPARTMENT_SIDE = ("KABID_TI", "KADIS")
SIDES = ("PIHAK PERTAMA", "PIHAK KEDUA")


def _minutes(
    tenant: Tenant, kind: DocumentKind, title: str, day: dt.date, held_on: dt.date
) -> dict[str, Any]:
    return common(tenant, kind, title, day) | {
        "opening": f"{date_in_words(held_on)}, bertempat di {tenant.venue}, "
        "yang bertanda tangan di bawah ini:",
        "closing": CLOSING,
    }


def _meeting_content(source: Source, meeting: MeetingHeld) -> list[dict[str, Any]]:
    participants = [f"{p.name}, {p.position}, {p.organisation}" for p in meeting.participants]
    timeline = (
        f"{long_date(meeting.timeline.planned_start)} sampai dengan "
        f"{long_date(meeting.timeline.planned_end)}"
    )
    content: list[dict[str, Any]] = [
        {"heading": "Peserta rapat", "items": participants},
        {"heading": "Aplikasi yang dibahas", "text": source.facts.need_title()},
        {"heading": "Ruang lingkup", "text": meeting.scope},
        {"heading": "Jadwal pembangunan", "text": timeline},
    ]
    if meeting.notes:
        content.append({"heading": "Keputusan dan catatan lain", "text": meeting.notes})
    return content


def berita_acara_rapat_draft(tenant: Tenant, source: Source, event: MeetingHeld) -> Built:
    held_on = tenant.local_day(event.held_at)
    data = _minutes(tenant, "BERITA_ACARA_RAPAT_DRAFT", "BERITA ACARA RAPAT", held_on, held_on)
    data |= {"draft": True, "content": _meeting_content(source, event), "parties": []}
    data["opening"] = f"{date_in_words(held_on)}, bertempat di {tenant.venue}, telah "
    data["opening"] += "dilaksanakan rapat pembahasan permohonan pembangunan aplikasi dengan hasil:"
    return Built("BERITA_ACARA_RAPAT_DRAFT", data, held_on, False, event.minutes_number, ())


def berita_acara_rapat(tenant: Tenant, source: Source, event: BAsigned) -> Built:
    meeting = source.facts.need_meeting()
    held_on = tenant.local_day(meeting.event.held_at)
    day = tenant.local_day(source.envelope.occurred_at)
    requester = [s for s in event.signatories if s.role == "PEMOHON"]
    department = [s for s in event.signatories if s.role in DEPARTMENT_SIDE]
    others = [s for s in event.signatories if s not in requester and s not in department]
    acknowledged = None
    if len(department) > 1:  # the Head of Department countersigns ("Mengetahui")
        head = next((s for s in department if s.role == "KADIS"), department[-1])
        department = [s for s in department if s is not head]
        acknowledged = head
    blocks = []
    for label, group in (("PIHAK PERTAMA", requester), ("PIHAK KEDUA", department + others)):
        for s in group:
            blocks.append(
                block(
                    source.people.users.get(s.user_id),
                    s.user_id,
                    s.role,
                    tenant.positions,
                    on_behalf_of=s.on_behalf_of,
                    label=label,
                )
            )
    data = _minutes(tenant, "BERITA_ACARA_RAPAT", "BERITA ACARA RAPAT", day, held_on)
    data |= {
        "parties": _parties(blocks),
        "content": _meeting_content(source, meeting.event),
        "signatures": blocks,
    }
    if acknowledged is not None:
        data["acknowledged"] = block(
            source.people.users.get(acknowledged.user_id),
            acknowledged.user_id,
            acknowledged.role,
            tenant.positions,
            on_behalf_of=acknowledged.on_behalf_of,
            label="Mengetahui,",
        )
    names = tuple(str(b["name"]) for b in blocks)
    if data["acknowledged"] is not None:
        names += (str(data["acknowledged"]["name"]),)
    return Built("BERITA_ACARA_RAPAT", data, day, True, event.minutes_number, names)


def _parties(blocks: list[dict[str, str | None]]) -> list[dict[str, str | None]]:
    """The signers as the opening lists them: name, NIP, position, side."""
    return [
        {
            "name": b["name"],
            "nip": b["nip"] or "-",
            "position": b["position"],
            "side": b["label"] if b["label"] in SIDES else None,
        }
        for b in blocks
    ]


def berita_acara_pengujian(tenant: Tenant, source: Source, event: TestPassed | TestFailed) -> Built:
    actor = source.envelope.actor
    day = event.tested_on
    title = f"BERITA ACARA PENGUJIAN {TEST_NAMES[event.kind]}"
    tester = source.person(actor.user_id)
    signature = block(
        tester,
        actor.user_id,
        actor.role,
        tenant.positions,
        on_behalf_of=actor.on_behalf_of,
        label="Penguji,",
    )
    passed = isinstance(event, TestPassed)
    findings = list(event.findings) or ["Tidak ada temuan."]
    data = _minutes(tenant, "BERITA_ACARA_PENGUJIAN", title, day, day) | {
        "parties": _parties([signature]),
        "content": [
            {"heading": "Jenis pengujian", "text": f"Pengujian {TEST_NAMES[event.kind].title()}"},
            {"heading": "Aplikasi yang diuji", "text": source.facts.need_title()},
            {"heading": "Hasil pengujian", "text": "LULUS" if passed else "TIDAK LULUS"},
            {"heading": "Temuan", "items": findings},
        ],
        "signatures": [signature],
    }
    return Built(
        "BERITA_ACARA_PENGUJIAN", data, day, True, event.minutes_number, (tester.full_name,)
    )


def berita_acara_uat(tenant: Tenant, source: Source, event: UATAccepted | UATRejected) -> Built:
    actor = source.envelope.actor
    day = tenant.local_day(source.envelope.occurred_at)
    user_id = event.accepted_by if isinstance(event, UATAccepted) else actor.user_id
    requester = source.person(user_id)
    blocks = [
        block(requester, user_id, "PEMOHON", tenant.positions, label="PIHAK PERTAMA"),
    ]
    if (task := source.facts.task) is not None:
        lead = source.person(task.event.team_lead)
        blocks.append(
            block(lead, lead.user_id, "TIM_PENGEMBANG", tenant.positions, label="PIHAK KEDUA")
        )
    accepted = isinstance(event, UATAccepted)
    if isinstance(event, UATAccepted):
        notes = [event.notes] if event.notes else ["Tidak ada catatan."]
    else:
        notes = list(event.findings)
    data = _minutes(tenant, "BERITA_ACARA_UAT", "BERITA ACARA USER ACCEPTANCE TEST", day, day)
    data |= {
        "parties": _parties(blocks),
        "content": [
            {"heading": "Aplikasi yang diuji", "text": source.facts.need_title()},
            {"heading": "Hasil UAT", "text": "DITERIMA" if accepted else "DITOLAK"},
            {"heading": "Catatan dan temuan" if accepted else "Temuan", "items": notes},
        ],
        "signatures": blocks,
    }
    names = tuple(str(b["name"]) for b in blocks)
    return Built("BERITA_ACARA_UAT", data, day, True, event.minutes_number, names)
