"""The builders of the letters: Tanda Terima (RequestReceived), Lembar Disposisi (Disposed) and
Surat Tugas (TaskAssigned). Each turns its source into the template's plain data."""

from typing import get_args

from events.approval import Disposed, DispositionInstruction, TaskAssigned
from events.intake import RequestReceived
from services.documents.context import Built, Source, Tenant, common
from services.documents.signature import block
from services.documents.words import long_date

INSTRUCTIONS: tuple[DispositionInstruction, ...] = get_args(DispositionInstruction)
SOP_TICKS: tuple[DispositionInstruction, ...] = ("Proses lebih lanjut", "Untuk ditindaklanjuti")
"""What the SOP's step 3 asks of the Head of the IT Division (process and follow up): the ticks
of a disposition recorded before its instructions were kept apart from its note."""


def tanda_terima(tenant: Tenant, source: Source, event: RequestReceived) -> Built:
    submitted = source.facts.need_submitted()
    actor = source.envelope.actor
    day = tenant.local_day(source.envelope.occurred_at)
    receiver = source.person(event.received_by)
    if event.received_by == actor.user_id:
        signature = block(
            receiver,
            receiver.user_id,
            actor.role,
            tenant.positions,
            on_behalf_of=actor.on_behalf_of,
            label="Yang menerima,",
        )
    else:  # received by staff for the Head of Department
        role = min(receiver.roles) if receiver.roles else "ADMIN"
        signature = block(
            receiver,
            receiver.user_id,
            role,
            tenant.positions,
            for_superior="KADIS",
            label="Yang menerima,",
        )
    letter = source.facts.letter or submitted.event.letter
    data = common(tenant, "TANDA_TERIMA", "TANDA TERIMA SURAT", day) | {
        "rows": [
            ["Dari", source.opd_name(submitted.event.opd)],
            ["Nomor surat", letter.number],
            ["Tanggal surat", long_date(letter.date)],
            ["Perihal", f"Permohonan Pembangunan Aplikasi {source.facts.title}"],
            ["Diterima tanggal", long_date(day)],
        ],
        "signatures": [signature],
    }
    return Built("TANDA_TERIMA", data, day, True, event.agenda_number, (receiver.full_name,))


def lembar_disposisi(tenant: Tenant, source: Source, event: Disposed) -> Built:
    submitted = source.facts.need_submitted()
    agenda = source.facts.need_number("TANDA_TERIMA")
    actor = source.envelope.actor
    day = tenant.local_day(source.envelope.occurred_at)
    received = source.facts.received
    received_on = tenant.local_day(received.envelope.occurred_at) if received else day
    letter = source.facts.letter or submitted.event.letter
    disposer = source.person(actor.user_id)
    signature = block(
        disposer, actor.user_id, actor.role, tenant.positions, on_behalf_of=actor.on_behalf_of
    )
    ticked = event.instructions or SOP_TICKS
    data = common(tenant, "LEMBAR_DISPOSISI", "LEMBAR DISPOSISI", day) | {
        "rows": [
            ["Surat dari", source.opd_name(submitted.event.opd)],
            ["Nomor surat", letter.number],
            ["Tanggal surat", long_date(letter.date)],
            ["Diterima tanggal", long_date(received_on)],
            ["Nomor agenda", agenda],
            ["Sifat", event.urgency],
            ["Klasifikasi", event.classification],
            ["Perihal", f"Permohonan Pembangunan Aplikasi {source.facts.title}"],
        ],
        "to": tenant.positions.of(event.to_role),
        "instructions": [[text, text in ticked] for text in INSTRUCTIONS],
        "respond_by": long_date(event.respond_by) if event.respond_by else "",
        "note": event.note or "",
        "signatures": [signature],
    }
    number = event.disposition_number or agenda
    return Built("LEMBAR_DISPOSISI", data, day, True, number, (disposer.full_name,))


def _extended(tenant: Tenant, source: Source) -> list[str]:
    """For a later Surat Tugas (KADIS extending the period in development), the letter it
    follows, as the last line of the basis; nothing for the first."""
    earlier = [
        fact
        for fact in source.facts.history
        if isinstance(fact.event, TaskAssigned)
        and fact.envelope.event_id != source.envelope.event_id
    ]
    if not earlier:
        return []
    previous = earlier[-1]
    assert isinstance(previous.event, TaskAssigned)
    number = previous.event.letter_number or source.facts.numbers.get("SURAT_TUGAS")
    named = f"Surat Tugas Nomor {number}" if number else "Surat Tugas"
    issued = tenant.local_day(previous.envelope.occurred_at)
    return [
        f"{named} tanggal {long_date(issued)} yang berlaku sampai dengan tanggal "
        f"{long_date(previous.event.period_end)}, yang masa tugasnya diperpanjang dengan Surat "
        "Tugas ini."
    ]


def surat_tugas(tenant: Tenant, source: Source, event: TaskAssigned) -> Built:
    submitted = source.facts.need_submitted()
    actor = source.envelope.actor
    day = tenant.local_day(source.envelope.occurred_at)
    letter = source.facts.letter or submitted.event.letter
    basis = [
        "Standar Operasional Prosedur Pembangunan Aplikasi Pemerintah Kabupaten Katingan;",
        f"Surat {source.opd_name(event.opd)} Nomor {letter.number} tanggal "
        f"{long_date(letter.date)} perihal Permohonan Pembangunan Aplikasi;",
    ]
    if (minutes := source.facts.minutes) is not None:
        signed_on = tenant.local_day(minutes.envelope.occurred_at)
        number = minutes.event.minutes_number or source.facts.need_number("BERITA_ACARA_RAPAT")
        basis.append(f"Berita Acara Rapat Nomor {number} tanggal {long_date(signed_on)}.")
    extension = _extended(tenant, source)
    if extension:
        basis = [*basis[:-1], basis[-1].removesuffix(".").removesuffix(";") + ";", *extension]
    team = []
    for n, user_id in enumerate(event.team_members, start=1):
        member = source.person(user_id)
        lead = " (Ketua Tim)" if user_id == event.team_lead else ""
        team.append(
            {
                "no": str(n),
                "name": member.full_name + lead,
                "nip": member.nip or "-",
                "rank": member.rank or "-",
                "position": tenant.positions.of("TIM_PENGEMBANG", member).title(),
            }
        )
    signer = source.person(actor.user_id)
    signature = block(
        signer, actor.user_id, actor.role, tenant.positions, on_behalf_of=actor.on_behalf_of
    )
    data = common(tenant, "SURAT_TUGAS", "SURAT TUGAS", day) | {
        "basis": basis,
        "team": team,
        "tasks": [
            f"Membangun aplikasi {source.facts.title} sesuai Berita Acara Rapat dan Standar "
            "Operasional Prosedur Pembangunan Aplikasi;",
            f"Melaksanakan tugas terhitung mulai tanggal {long_date(event.period_start)} sampai "
            f"dengan tanggal {long_date(event.period_end)};",
            "Melaporkan hasil pelaksanaan tugas kepada Kepala Dinas.",
        ],
        "signatures": [signature],
        "tembusan": [f"Kepala {source.opd_name(event.opd)}", "Yang bersangkutan", "Arsip"],
    }
    return Built("SURAT_TUGAS", data, day, True, event.letter_number, (signer.full_name,))
