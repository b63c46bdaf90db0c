"""The Berkas Permohonan's data (pure): the cover's facts, the table of contents with each
document's first page, the history with who acted on whose behalf, and its waits; and the
rendered document recovered from a signed file by its recorded hash."""

import datetime as dt
import hashlib
from typing import Any

import pytest

from events.catalog import default_registry
from events.envelope import Envelope
from services.documents.builders import build
from services.documents.casefile import as_rendered
from services.documents.config import DocumentsConfig
from services.documents.context import Built, Source, Tenant
from services.documents.facts import CaseFacts, IssuedDocument, MissingFact
from services.documents.people import People
from tests import documents_samples as samples

REGISTRY = default_registry()
TENANT = Tenant.of(DocumentsConfig())
DOCUMENTS = [
    IssuedDocument(
        "d1", "TANDA_TERIMA", "0001/Agenda/Diskominfostandi/2026", dt.date(2026, 12, 7), "a" * 64, 1
    ),
    IssuedDocument(
        "d2",
        "SURAT_TUGAS",
        "800.1.11.1/0012/Diskominfostandi/2026",
        dt.date(2026, 12, 11),
        "b" * 64,
        2,
    ),
    IssuedDocument(
        "d3",
        "BERITA_ACARA_UAT",
        "500.12/0040/Diskominfostandi/2027",
        dt.date(2027, 3, 17),
        "c" * 64,
        1,
    ),
]


def casefile(unissued: int = 0) -> Built:
    history = samples.request_history("req-1")
    done = samples.completion(history)
    seen: list[tuple[Envelope, Any]] = []
    for step in history:
        e = step.envelope
        seen.append((e, REGISTRY.load(e.event_type, e.schema_version, e.payload)))
    facts = CaseFacts.of("req-1", seen)
    facts.documents.extend(DOCUMENTS)
    facts.unissued = unissued
    people = People.of(
        REGISTRY.load(e.event_type, e.schema_version, e.payload) for e in samples.identity_events()
    )
    e = done.envelope
    event = REGISTRY.load(e.event_type, e.schema_version, e.payload)
    return build(TENANT, Source(e, event, facts, people))


def test_the_case_file_lists_every_document_with_its_first_page() -> None:
    built = casefile()
    assert built.kind == "BERKAS_PERMOHONAN" and built.final and built.typed_number is None
    assert built.day == dt.date(2027, 3, 17)
    assert built.data["title"] == "BERKAS PERMOHONAN"
    rows = dict(built.data["rows"])
    assert rows["Aplikasi"] == "Sistem Informasi Antrean Layanan"
    assert rows["Perangkat Daerah"] == "Dinas Kependudukan dan Pencatatan Sipil"
    assert rows["Jumlah dokumen"] == "3"
    contents = built.data["contents"]
    assert [(c["label"], c["page"], c["pages"]) for c in contents] == [
        ("Tanda Terima", "3", 1),
        ("Surat Tugas", "4", 2),
        ("Berita Acara User Acceptance Test", "6", 1),
    ]
    assert contents[1]["file"] == "dokumen-d2.pdf" and contents[2]["sha256"] == "c" * 64


def test_the_history_says_who_acted_on_whose_behalf_and_the_numbers() -> None:
    history = casefile().data["history"]
    assert len(history) == 10  # nine events and the completion
    assert history[0][0] == "4 Desember 2026 09.00" and history[0][4] == "Permohonan diajukan"
    disposed = history[2]
    assert disposed[1] == "Hendra Wijaya, S.Kom., M.Si." and disposed[3] == "Plt. KADIS"
    assert history[5][4] == "Surat Tugas diterbitkan"
    assert history[5][5] == "800.1.11.1/0012/Diskominfostandi/2026"
    assert history[-1][4] == "Permohonan selesai" and history[-1][2] == "PEMOHON"


def test_the_case_file_waits_for_documents_not_issued_yet() -> None:
    with pytest.raises(MissingFact, match="2 dokumen"):
        casefile(unissued=2)


def test_the_rendered_document_is_recovered_from_the_signed_file_by_its_hash() -> None:
    rendered = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
    signed = rendered + b"2 0 obj\n<</Sig>>\nendobj\n%%EOF\n"
    assert as_rendered(signed, hashlib.sha256(rendered).hexdigest()) == rendered
    assert as_rendered(rendered, hashlib.sha256(rendered).hexdigest()) == rendered
    with pytest.raises(ValueError, match="tidak memuat dokumen yang dicatat"):
        as_rendered(signed, "0" * 64)
