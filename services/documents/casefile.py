"""The Berkas Permohonan (RequestCompleted): the whole case file in one PDF: a cover, a table of
contents, every document issued for the request in order (each as it was rendered, the bytes
its ``unsigned_sha256`` records), and the request's history as an appendix (who, role, on whose
behalf, when, what, numbers)."""

import hashlib
import io
from typing import Any

import pypdf

from events.dev_tracking import RequestCompleted
from events.labels import EVENT_LABELS
from services.documents.context import Built, Source, Tenant, common
from services.documents.facts import Fact, IssuedDocument, MissingFact
from services.documents.signature import ACTING
from services.documents.views import KIND_LABELS
from services.documents.words import long_date

NUMBER_FIELDS = ("agenda_number", "disposition_number", "minutes_number", "letter_number")


def file_name(document_id: str) -> str:
    return f"dokumen-{document_id}.pdf"


def as_rendered(pdf: bytes, unsigned_sha256: str) -> bytes:
    """The document as rendered before signing: a signature is an incremental update, so the
    rendered bytes are the signed file up to one of its ``%%EOF`` markers, the one whose
    SHA-256 is ``unsigned_sha256`` (the whole file for a draft)."""
    at = pdf.find(b"%%EOF")
    while at != -1:
        for end in (at + 5, at + 6, at + 7):
            if hashlib.sha256(pdf[:end]).hexdigest() == unsigned_sha256:
                return pdf[:end]
        at = pdf.find(b"%%EOF", at + 5)
    raise ValueError("PDF yang tersimpan tidak memuat dokumen yang dicatat peristiwanya.")


def page_count(pdf: bytes) -> int:
    return len(pypdf.PdfReader(io.BytesIO(pdf)).pages)


def _who(source: Source, fact: Fact[Any]) -> tuple[str, str]:
    actor = fact.envelope.actor
    person = source.people.users.get(actor.user_id)
    name = person.full_name if person is not None else actor.user_id
    behalf = ""
    if actor.on_behalf_of is not None:
        behalf = f"{ACTING[actor.on_behalf_of.kind]} {actor.on_behalf_of.role}"
    return name, behalf


def history_rows(tenant: Tenant, source: Source) -> list[list[str]]:
    """One row an event: when (local), who, role, on whose behalf, what, numbers."""
    rows = []
    for fact in [*source.facts.history, Fact(source.envelope, source.event)]:
        local = fact.envelope.occurred_at.astimezone(tenant.zone)
        name, behalf = _who(source, fact)
        payload = fact.event.model_dump()
        numbers = [str(payload[f]) for f in NUMBER_FIELDS if payload.get(f)]
        what = EVENT_LABELS.get(fact.envelope.event_type, fact.envelope.event_type)
        rows.append(
            [
                f"{long_date(local.date())} {local:%H.%M}",
                name,
                fact.envelope.actor.role,
                behalf or "-",
                what,
                ", ".join(numbers) or "-",
            ]
        )
    return rows


def _contents(documents: list[IssuedDocument]) -> list[dict[str, Any]]:
    page = 3  # after the cover and the table of contents
    entries = []
    for n, doc in enumerate(documents, start=1):
        entries.append(
            {
                "no": str(n),
                "label": KIND_LABELS.get(doc.kind, doc.kind),
                "number": doc.number,
                "date": long_date(doc.document_date),
                "sha256": doc.sha256,
                "page": str(page),
                "file": file_name(doc.document_id),
                "pages": doc.pages,
            }
        )
        page += doc.pages
    return entries


def berkas_permohonan(tenant: Tenant, source: Source, event: RequestCompleted) -> Built:
    facts = source.facts
    submitted = facts.need_submitted()
    if facts.unissued:
        raise MissingFact(f"{facts.unissued} dokumen permohonan ini belum terbit")
    day = event.completed_on
    letter = facts.letter or submitted.event.letter
    data = common(tenant, "BERKAS_PERMOHONAN", "BERKAS PERMOHONAN", day) | {
        "rows": [
            ["Aplikasi", facts.title or "-"],
            ["Perangkat Daerah", source.opd_name(submitted.event.opd)],
            ["Surat permohonan", f"Nomor {letter.number} tanggal {long_date(letter.date)}"],
            ["Nomor permohonan", facts.request_id],
            ["Selesai tanggal", long_date(day)],
            ["Jumlah dokumen", str(len(facts.documents))],
        ],
        "contents": _contents(facts.documents),
        "history": history_rows(tenant, source),
    }
    return Built("BERKAS_PERMOHONAN", data, day, True, None, ())
