"""The documents service on the real stack: its events come from Kafka (produced as the relays
of identity, intake, approval and dev_tracking would), its numbers from PostgreSQL.

A request's whole history gives every kind of document: each PDF says what its kind must say
(pypdf's text), is rendered to PNG pages for a person to look at (``test-artifacts/documents``),
carries a signature pyHanko validates, re-renders to the same bytes, and is told apart from a copy
with one byte changed by the public check. Fifty receipts at once take fifty consecutive agenda
numbers; a document whose signing fails takes no number, is listed with its reason, and is issued
with the next number on the admin's retry."""

import asyncio
import hashlib
import io
import subprocess
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pypdf
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from events.catalog import default_registry
from services.documents.builders import KIND_OF_EVENT, build
from services.documents.config import DocumentsConfig
from services.documents.context import Source, Tenant
from services.documents.facts import CaseFacts
from services.documents.people import People
from services.documents.render import Renderer
from tests import documents_samples as samples
from tests.services.documents_stack import TENANT, System, publish_history

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "documents"


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def to_png(pdf: bytes, name: str) -> list[Path]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    source = ARTIFACTS / f"{name}.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "70", str(source), str(ARTIFACTS / name)], check=True)
    return sorted(ARTIFACTS.glob(f"{name}*.png"))


EXPECTED: dict[str, list[str]] = {
    "TANDA_TERIMA": [
        "TANDA TERIMA SURAT",
        "Dinas Kependudukan dan Pencatatan Sipil",
        "Kasongan, 7 Desember 2026",
        samples.NIP_KADIS,
        "/Agenda/Diskominfostandi/2026",
    ],
    "LEMBAR_DISPOSISI": [
        "LEMBAR DISPOSISI",
        "Plt. KEPALA DINAS",
        "Hendra Wijaya",
        samples.NIP_PLT,
        "Mohon dipelajari",
    ],
    "BERITA_ACARA_RAPAT_DRAFT": [
        "BERITA ACARA RAPAT",
        "DRAF",
        "000.1.5/0007/Diskominfostandi/2026",
        "Pada hari ini Rabu tanggal sembilan bulan Desember tahun dua ribu dua puluh enam",
    ],
    "BERITA_ACARA_RAPAT": [
        "PIHAK PERTAMA",
        "PIHAK KEDUA",
        "Mengetahui",
        "Plh. KEPALA DINAS",
        samples.NIP_REQUESTER,
        samples.NIP_KABID,
        "Demikian Berita Acara ini",
    ],
    "SURAT_TUGAS": [
        "SURAT TUGAS",
        "800.1.11.1/0012/Diskominfostandi/2026",
        "MENUGASKAN",
        "Andi Pratama, S.Kom. (Ketua Tim)",
        samples.NIP_DEV,
        "Dr. Ir. Bambang Sutrisno",
        "Tembusan",
    ],
    "BERITA_ACARA_PENGUJIAN": [
        "BERITA ACARA PENGUJIAN SISTEM",
        "TIDAK LULUS",
        "Nomor antrean ganda saat dua loket memanggil bersamaan",
        "Pada hari ini Senin tanggal delapan bulan Maret tahun dua ribu dua puluh tujuh",
    ],
    "BERITA_ACARA_UAT": [
        "BERITA ACARA USER ACCEPTANCE TEST",
        "DITERIMA",
        "Yohanes Dambung",
        "500.12/0040/Diskominfostandi/2027",
    ],
}


def flat(text: str) -> str:
    return " ".join(text.split())


async def test_a_requests_documents_are_issued_signed_and_verifiable(system: System) -> None:
    rid = f"req-{uuid.uuid4().hex[:10]}"
    await publish_history(system, samples.request_history(rid, tenant=TENANT))
    documents = await system.settled(rid, 8)
    assert {d["state"] for d in documents} == {"ISSUED"}, documents
    trust = system.trust
    seen: set[str] = set()
    for document in documents:
        kind = document["kind"]
        answer = await system.api.get(
            f"/documents/{document['document_id']}.pdf",
            headers=system.headers("PEMOHON", opd="DISDUKCAPIL"),
        )
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
        pdf = answer.content
        assert hashlib.sha256(pdf).hexdigest() == document["sha256"]
        text = flat(text_of(pdf))
        assert document["number"] in text, (kind, text)
        if kind not in seen:  # the first of each kind (the failed test's minutes)
            for part in EXPECTED[kind]:
                assert part in text, (kind, part, text)
            assert to_png(pdf, kind.lower())
        seen.add(kind)
        if not document["final"]:
            assert not PdfFileReader(io.BytesIO(pdf)).embedded_signatures
            continue
        assert "ditandatangani secara elektronik" in text
        [signature] = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
        status = await async_validate_pdf_signature(
            signature, ValidationContext(trust_roots=[trust])
        )
        assert status.bottom_line and status.intact and status.valid, (kind, status)
    assert seen == set(EXPECTED)


async def test_the_public_check_tells_the_original_from_a_changed_copy(system: System) -> None:
    rid = f"req-{uuid.uuid4().hex[:10]}"
    await publish_history(system, samples.request_history(rid, tenant=TENANT)[:5])
    documents = await system.settled(rid, 4)
    final = next(d for d in documents if d["kind"] == "BERITA_ACARA_RAPAT")
    path = f"/documents/{final['document_id']}.pdf"
    pdf = (await system.api.get(path, headers=system.headers("KADIS"))).content
    shown = (await system.api.get(f"/verify/{final['document_id']}")).json()
    assert shown["number"] == "000.1.5/0007/Diskominfostandi/2026" and shown["signed"]
    assert (
        shown["signers"][-1] == "Hendra Wijaya, S.Kom., M.Si."
        and shown["sha256"] == final["sha256"]
    )
    assert set(shown) == {
        "document_id",
        "kind",
        "label",
        "number",
        "document_date",
        "signers",
        "signed",
        "sha256",
    }
    check = f"/verify/{final['document_id']}"
    same = await system.api.post(check, content=pdf, headers={"Content-Type": "application/pdf"})
    assert same.status_code == 200 and same.json()["matches"] is True
    changed = bytearray(pdf)
    at = pdf.index(b"/Contents") - 40  # a byte inside the signed range
    changed[at] ^= 0x01
    other = await system.api.post(check, content=bytes(changed))
    assert other.status_code == 200 and other.json()["matches"] is False
    [signature] = PdfFileReader(io.BytesIO(bytes(changed)), strict=False).embedded_signatures
    trust = system.trust
    status = await async_validate_pdf_signature(signature, ValidationContext(trust_roots=[trust]))
    assert not status.intact
    not_pdf = await system.api.post(check, content=b"hello")
    assert not_pdf.status_code == 422 and not_pdf.json()["field"] == "body"
    unknown = await system.api.get(f"/verify/{uuid.uuid4()}")
    assert unknown.status_code == 404
    other_opd = await system.api.get(path, headers=system.headers("PEMOHON", opd="DINKES"))
    assert other_opd.status_code == 403


async def agenda_sequences(system: System) -> list[int]:
    answer = await system.api.get(
        "/register",
        params={"kind": "TANDA_TERIMA", "year": 2026, "limit": 500},
        headers=system.headers("KADIS"),
    )
    assert answer.status_code == 200, answer.text
    return sorted(
        int(e["number"].split("/")[0])
        for e in answer.json()["entries"]
        if e["number_source"] == "REGISTER"
    )


async def test_documents_without_a_typed_number_take_their_registers(system: System) -> None:
    rid = f"req-{uuid.uuid4().hex[:10]}"
    await publish_history(system, samples.request_history(rid, tenant=TENANT, typed=False))
    documents = await system.settled(rid, 8)
    assert {d["state"] for d in documents} == {"ISSUED"}, documents
    numbered = {
        d["number"]: (d["kind"], d["number_source"])
        for d in documents
        if d["kind"] in ("SURAT_TUGAS", "BERITA_ACARA_PENGUJIAN", "BERITA_ACARA_UAT")
    }
    assert sorted(kind for kind, _ in numbered.values()) == [
        "BERITA_ACARA_PENGUJIAN",  # the failed system test, and its retest
        "BERITA_ACARA_PENGUJIAN",
        "BERITA_ACARA_UAT",
        "SURAT_TUGAS",
    ], documents
    assert {source for _, source in numbered.values()} == {"REGISTER"}
    for number, (kind, _) in numbered.items():  # the letter in December, the tests in March
        code, year = ("800.1.11.1", 2026) if kind == "SURAT_TUGAS" else ("500.12", 2027)
        assert number.startswith(f"{code}/") and number.endswith(f"/{year}"), number
    kinds = {d["kind"]: d for d in documents}
    draft, final = kinds["BERITA_ACARA_RAPAT_DRAFT"], kinds["BERITA_ACARA_RAPAT"]
    assert (draft["number_source"], draft["final"]) == ("NONE", False)
    assert final["number_source"] == "REGISTER"
    assert final["number"].startswith("000.1.5/") and final["number"].endswith("/2026")

    async def text(document: dict[str, Any]) -> str:
        pdf = await system.api.get(
            f"/documents/{document['document_id']}.pdf", headers=system.headers("AUDITOR")
        )
        return flat(text_of(pdf.content))

    printed = await text(draft)
    assert "NOMOR: diberikan saat ditandatangani" in printed, printed
    assert "DRAF" in printed and "000.1.5" not in printed
    assert f"NOMOR {final['number']}" in await text(final)
    letter = await text(kinds["SURAT_TUGAS"])  # it cites the minutes by the register's number
    assert f"Berita Acara Rapat Nomor {final['number']}" in letter, letter


async def test_fifty_receipts_at_once_take_fifty_consecutive_numbers(system: System) -> None:
    before = await agenda_sequences(system)
    rids = [f"req-{uuid.uuid4().hex[:10]}" for _ in range(50)]
    for rid in rids:
        await publish_history(system, samples.request_history(rid, tenant=TENANT)[:2])
    for rid in rids:
        [receipt] = await system.settled(rid, 1)
        assert receipt["state"] == "ISSUED" and receipt["number_source"] == "REGISTER"
    after = await agenda_sequences(system)
    assert len(after) == len(before) + 50
    assert after == list(range(1, len(after) + 1)), after  # never doubled, never skipped


async def test_a_failed_signing_takes_no_number_and_an_admin_retries(system: System) -> None:
    system.signer.broken = True
    rid = f"req-{uuid.uuid4().hex[:10]}"
    try:
        await publish_history(system, samples.request_history(rid, tenant=TENANT)[:2])
        [receipt] = await system.settled(rid, 1)
    finally:
        system.signer.broken = False
    assert receipt["state"] == "FAILED" and receipt["number"] is None
    assert "server tanda tangan tidak menjawab" in receipt["error"]
    listed: set[str] = set()  # other tests' requests fail here too (their users are unknown)
    for offset in range(0, 5000, 500):
        page = await system.api.get(
            "/failures", params={"limit": 500, "offset": offset}, headers=system.headers("ADMIN")
        )
        found = {d["document_id"] for d in page.json()["documents"]}
        listed |= found
        if len(found) < 500:
            break
    assert receipt["document_id"] in listed
    before = await agenda_sequences(system)
    refused = await system.api.post(
        f"/documents/{receipt['document_id']}/retry", headers=system.headers("AUDITOR")
    )
    assert refused.status_code == 403
    keyed = {**system.headers("ADMIN"), "Idempotency-Key": f"ulang-{uuid.uuid4()}"}

    async def retry(note: str | None = None) -> httpx.Response:
        path = f"/documents/{receipt['document_id']}/retry"
        return await system.api.post(path, headers=keyed, json={"note": note} if note else None)

    racing = await asyncio.gather(*(retry() for _ in range(3)))  # a double click, say
    assert {(r.status_code, r.content) for r in racing} == {(202, racing[0].content)}
    assert [r.headers.get("idempotent-replayed") for r in racing].count("true") == 2
    [issued] = await system.settled(rid, 1)
    assert issued["state"] == "ISSUED"
    assert await agenda_sequences(system) == [*before, len(before) + 1]
    replayed = await retry()  # the first answer, although the document is issued by now
    assert (replayed.status_code, replayed.content) == (202, racing[0].content)
    reused = await retry("Catatan lain")
    assert (reused.status_code, reused.json()["field"]) == (422, "header.idempotency-key")
    again = await system.api.post(
        f"/documents/{receipt['document_id']}/retry", headers=system.headers("ADMIN")
    )
    assert again.status_code == 409 and again.json()["state"] == "ISSUED"


async def test_the_same_events_render_the_same_unsigned_pdf(
    system: System, owner_conn: asyncpg.Connection
) -> None:
    """What the audit does: re-render from the events and compare with ``DocumentIssued``."""
    rid = f"req-{uuid.uuid4().hex[:10]}"
    steps = samples.request_history(rid, tenant=TENANT)[:6]
    await publish_history(system, steps)
    issued = {d["kind"]: d for d in await system.settled(rid, 5)}
    conf = DocumentsConfig()
    tenant = Tenant.of(conf)
    renderer = Renderer(Path(conf.font_dir))
    registry = default_registry()
    people = People.of(
        registry.load(e.event_type, e.schema_version, e.payload) for e in samples.identity_events()
    )
    recorded = {
        row["kind"]: row["unsigned"]
        for row in await owner_conn.fetch(
            "SELECT payload->>'kind' AS kind, payload->>'unsigned_sha256' AS unsigned "
            "FROM documents.events WHERE stream_id = $1 AND event_type = 'DocumentIssued'",
            rid,
        )
    }
    assert set(recorded) == set(issued)
    seen: list[Any] = []
    numbers = {k: d["number"] for k, d in issued.items()}
    compared = 0
    for step in steps:
        envelope = step.envelope
        event = registry.load(envelope.event_type, envelope.schema_version, envelope.payload)
        if envelope.event_type in KIND_OF_EVENT:
            facts = CaseFacts.of(rid, seen, numbers)
            built = build(tenant, Source(envelope, event, facts, people))
            document = issued[built.kind]
            url = (
                f"{conf.public_base_url}/verifikasi/{document['document_id']}"
                if built.final
                else None
            )
            pdf = renderer.render(built.kind, built.numbered(document["number"]), built.day, url)
            assert hashlib.sha256(pdf).hexdigest() == recorded[built.kind], built.kind
            compared += 1
        seen.append((envelope, event))
    assert compared == 5
    assert issued["SURAT_TUGAS"]["document_date"] == "2026-12-11"


async def test_a_completed_request_gets_its_whole_case_file(system: System) -> None:
    rid = f"req-{uuid.uuid4().hex[:10]}"
    history = samples.request_history(rid, tenant=TENANT)
    await publish_history(system, [*history, samples.completion(history)])
    documents = await system.settled(rid, 9)
    assert {d["state"] for d in documents} == {"ISSUED"}, documents
    berkas = next(d for d in documents if d["kind"] == "BERKAS_PERMOHONAN")
    assert berkas["number_source"] == "REGISTER" and berkas["document_date"] == "2027-03-17"
    pdf = (
        await system.api.get(
            f"/documents/{berkas['document_id']}.pdf", headers=system.headers("AUDITOR")
        )
    ).content
    text = flat(text_of(pdf))
    others = [d for d in documents if d is not berkas]
    for part in [
        "BERKAS PERMOHONAN",
        berkas["number"],
        "DAFTAR ISI",
        "Sistem Informasi Antrean Layanan",
        "LAMPIRAN: RIWAYAT PERMOHONAN",
        "Permohonan selesai",
        "Plt. KADIS",
        "TANDA TERIMA SURAT",  # the documents themselves, not only their list
        "MENUGASKAN",
        "Nomor antrean ganda saat dua loket memanggil bersamaan",
        *(d["number"] for d in others),
        *(d["sha256"] for d in others if d["final"]),
    ]:
        assert part in text, (part, text)
    pages = len(pypdf.PdfReader(io.BytesIO(pdf)).pages)
    included = 0
    for d in others:
        one = await system.api.get(
            f"/documents/{d['document_id']}.pdf", headers=system.headers("AUDITOR")
        )
        included += len(pypdf.PdfReader(io.BytesIO(one.content)).pages)
    assert pages >= 2 + included + 1  # cover, contents, every page of each, the appendix
    assert to_png(pdf, "berkas_permohonan")
    trust = system.trust
    [signature] = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    status = await async_validate_pdf_signature(signature, ValidationContext(trust_roots=[trust]))
    assert status.bottom_line and status.intact and status.valid


async def test_documents_of_one_request_failing_at_once_are_all_recorded(system: System) -> None:
    """Eight workers fail eight documents of one request together: each failure is appended to
    the same stream, and a failure that finds the stream moved is recorded again, not lost
    (nor does it stop the issuer)."""
    system.signer.broken = True
    rid = f"req-{uuid.uuid4().hex[:10]}"
    try:
        steps = samples.request_history(rid, tenant=TENANT)
        # not the disposition: it would wait for the receipt's number, which never comes
        await publish_history(system, [s for s in steps if s.envelope.event_type != "Disposed"])
        documents = await system.settled(rid, 7)
    finally:
        system.signer.broken = False
    assert [d["state"] for d in documents].count("FAILED") == 6  # all but the unsigned draft
    later = f"req-{uuid.uuid4().hex[:10]}"
    await publish_history(system, samples.request_history(later, tenant=TENANT)[:2])
    [receipt] = await system.settled(later, 1)
    assert receipt["state"] == "ISSUED"
