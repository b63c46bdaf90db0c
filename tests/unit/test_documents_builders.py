"""Each document kind's data, built from a request's events (pure): the parts DOCUMENTS.md names,
the signers with Plt./Plh. and a.n., and the waits and failures."""

import datetime as dt
from typing import Any

import pytest

from events.catalog import default_registry
from events.envelope import Actor, Envelope
from services.documents.builders import KIND_OF_EVENT, build
from services.documents.config import DocumentsConfig
from services.documents.context import Built, Source, Tenant
from services.documents.facts import CaseFacts, MissingFact
from services.documents.numbering import BadNumberFormat, NumberFormat
from services.documents.people import People
from services.documents.signature import MissingSignerData
from tests import documents_samples as samples

REGISTRY = default_registry()
TENANT = Tenant.of(DocumentsConfig())


def people(*, drop: str | None = None) -> People:
    return People.of(
        REGISTRY.load(e.event_type, e.schema_version, e.payload)
        for e in samples.identity_events()
        if e.stream_id != drop
    )


def built_all(
    steps: list[samples.Step],
    directory: People | None = None,
    numbers: dict[str, str] | None = None,
) -> list[Built]:
    """Every document of ``steps``, each from the events before it."""
    numbers = {"TANDA_TERIMA": "0001/Agenda/Diskominfostandi/2026"} if numbers is None else numbers
    seen: list[tuple[Envelope, Any]] = []
    out = []
    for step in steps:
        envelope = step.envelope
        event = REGISTRY.load(envelope.event_type, envelope.schema_version, envelope.payload)
        if envelope.event_type in KIND_OF_EVENT:
            facts = CaseFacts.of(envelope.stream_id, seen, numbers)
            out.append(build(TENANT, Source(envelope, event, facts, directory or people())))
        seen.append((envelope, event))
    return out


def text_of(value: Any) -> str:
    """Every string in ``value``, joined: what a reader of the document sees."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return " ".join(text_of(v) for v in value.values())
    if isinstance(value, list | tuple):
        return " ".join(text_of(v) for v in value)
    return "" if value is None else str(value)


@pytest.fixture(scope="module")
def documents() -> dict[str, Built]:
    built = built_all(samples.request_history("req-1"))
    by_kind = {}
    for b in built:
        key = b.kind if b.kind not in by_kind else f"{b.kind}#2"
        by_kind[key] = b
    return by_kind


def test_every_kind_is_built(documents: dict[str, Built]) -> None:
    assert sorted(documents) == sorted(
        [
            "TANDA_TERIMA",
            "LEMBAR_DISPOSISI",
            "BERITA_ACARA_RAPAT_DRAFT",
            "BERITA_ACARA_RAPAT",
            "SURAT_TUGAS",
            "BERITA_ACARA_PENGUJIAN",
            "BERITA_ACARA_PENGUJIAN#2",
            "BERITA_ACARA_UAT",
        ]
    )
    for built in documents.values():
        assert built.data["letterhead"]["government"] == "PEMERINTAH KABUPATEN KATINGAN"
        assert built.data["paper"] == {"width": 215.0, "height": 330.0}


def test_tanda_terima_takes_the_agenda_register_when_no_number_was_typed(
    documents: dict[str, Built],
) -> None:
    receipt = documents["TANDA_TERIMA"]
    assert receipt.typed_number is None and receipt.final
    assert receipt.data["place_date"] == "Kasongan, 7 Desember 2026"
    text = text_of(receipt.data)
    assert "Dinas Kependudukan dan Pencatatan Sipil" in text
    assert "400.12/045/DISDUKCAPIL/2026" in text and "1 Desember 2026" in text
    [signature] = receipt.data["signatures"]
    assert signature["name"] == "Dr. Ir. Bambang Sutrisno, M.T."
    assert signature["nip"] == samples.NIP_KADIS
    assert signature["position"].startswith("KEPALA DINAS KOMUNIKASI")
    typed = built_all(samples.request_history("req-2", agenda_number="045/AG/2026"))[0]
    assert typed.typed_number == "045/AG/2026"


def test_disposisi_carries_the_agenda_number_and_the_acting_head(
    documents: dict[str, Built],
) -> None:
    sheet = documents["LEMBAR_DISPOSISI"]
    assert sheet.typed_number == "0001/Agenda/Diskominfostandi/2026"
    assert ["Nomor agenda", "0001/Agenda/Diskominfostandi/2026"] in sheet.data["rows"]
    [signature] = sheet.data["signatures"]
    assert signature["position"] == (
        "Plt. KEPALA DINAS KOMUNIKASI, INFORMATIKA, STATISTIK DAN PERSANDIAN"
    )
    assert signature["name"] == "Hendra Wijaya, S.Kom., M.Si."
    assert signature["rank"] == "Pembina Tk. I (IV/b)"
    ticked = [text for text, tick in sheet.data["instructions"] if tick]
    assert ticked == ["Untuk ditindaklanjuti", "Pelajari dan beri saran"]
    assert len(sheet.data["instructions"]) == 8  # every option printed, the chosen ones ticked
    assert ["Sifat", "Segera"] in sheet.data["rows"]
    assert ["Klasifikasi", "Terbatas"] in sheet.data["rows"]
    assert sheet.data["respond_by"] == "9 Desember 2026"
    assert sheet.data["note"] == "Mohon dipelajari dan dijadwalkan rapat."


def test_a_disposisi_recorded_before_its_instructions_were_kept_ticks_the_sops_own() -> None:
    """A Disposed event of before (a note alone) still makes its sheet: the SOP's step 3 asks
    to process and follow up, sifat and klasifikasi Biasa, no deadline."""
    history = samples.request_history("req-old")
    for i, step in enumerate(history):
        if step.envelope.event_type == "Disposed":
            kept = ("request_id", "to_role", "note")
            payload = {k: v for k, v in step.envelope.payload.items() if k in kept}
            envelope = step.envelope.model_copy(update={"payload": payload})
            history[i] = samples.Step(step.service, envelope)
    sheet = next(b for b in built_all(history) if b.kind == "LEMBAR_DISPOSISI")
    ticked = [text for text, tick in sheet.data["instructions"] if tick]
    assert ticked == ["Proses lebih lanjut", "Untuk ditindaklanjuti"]
    assert ["Sifat", "Biasa"] in sheet.data["rows"]
    assert ["Klasifikasi", "Biasa"] in sheet.data["rows"]
    assert sheet.data["respond_by"] == ""


def test_the_disposisi_waits_for_the_receipts_number() -> None:
    with pytest.raises(MissingFact, match="TANDA_TERIMA"):
        built_all(samples.request_history("req-3")[:3], numbers={})


def test_berita_acara_rapat_draft_then_final(documents: dict[str, Built]) -> None:
    draft, final = documents["BERITA_ACARA_RAPAT_DRAFT"], documents["BERITA_ACARA_RAPAT"]
    assert draft.data["draft"] and not draft.final and draft.data["signatures"] == []
    assert draft.data["opening"].startswith(
        "Pada hari ini Rabu tanggal sembilan bulan Desember tahun dua ribu dua puluh enam"
    )
    assert final.final and final.typed_number == "000.1.5/0007/Diskominfostandi/2026"
    assert final.data["opening"].endswith("yang bertanda tangan di bawah ini:")
    sides = [(s["label"], s["name"]) for s in final.data["signatures"]]
    assert sides == [
        ("PIHAK PERTAMA", "Yohanes Dambung, S.E."),
        ("PIHAK KEDUA", "Siti Rahmawati, S.T., M.Kom."),
    ]
    head = final.data["acknowledged"]
    assert head["label"] == "Mengetahui,"
    assert head["position"].startswith("Plh. KEPALA DINAS")
    assert "Pendaftaran antrean, panggilan loket" in text_of(final.data["content"])
    assert final.data["closing"].startswith("Demikian Berita Acara ini dibuat")


def test_minutes_typed_by_nobody_are_numbered_when_signed() -> None:
    """The meeting's draft without a typed number takes none and prints none; the signed
    minutes take the register's, which the Surat Tugas cites (and waits for)."""
    steps = samples.request_history("req-5", typed=False)[:6]
    draft, final = built_all(steps[:5])[2:4]
    assert draft.numberless and draft.numbered("DRAF")["numbered"] is False
    assert final.typed_number is None and not final.numberless
    assert final.numbered("000.1.5/0003/Diskominfostandi/2026")["numbered"] is True
    with pytest.raises(MissingFact, match="BERITA_ACARA_RAPAT"):
        built_all(steps)
    numbers = {
        "TANDA_TERIMA": "0001/Agenda/Diskominfostandi/2026",
        "BERITA_ACARA_RAPAT": "000.1.5/0003/Diskominfostandi/2026",
    }
    letter = built_all(steps, numbers=numbers)[-1]
    assert "Berita Acara Rapat Nomor 000.1.5/0003/Diskominfostandi/2026" in text_of(
        letter.data["basis"]
    )


def test_surat_tugas_names_the_team_its_basis_and_the_period(documents: dict[str, Built]) -> None:
    letter = documents["SURAT_TUGAS"]
    assert letter.typed_number == "800.1.11.1/0012/Diskominfostandi/2026"
    lead, member = letter.data["team"]
    assert lead["name"] == "Andi Pratama, S.Kom. (Ketua Tim)" and lead["nip"] == samples.NIP_DEV
    assert lead["rank"] == "Penata Muda Tk. I (III/b)"
    assert member["nip"] == "-" and member["rank"] == "-"
    basis = text_of(letter.data["basis"])
    assert "400.12/045/DISDUKCAPIL/2026" in basis
    assert "000.1.5/0007/Diskominfostandi/2026" in basis
    assert "4 Januari 2027 sampai dengan tanggal 31 Maret 2027" in text_of(letter.data["tasks"])
    assert letter.data["tembusan"][-1] == "Arsip"


def test_a_later_surat_tugas_names_the_letter_whose_period_it_extends() -> None:
    history = samples.request_history("req-ext")
    later = samples.extension(history, dt.date(2027, 4, 30), None)
    numbers = {
        "TANDA_TERIMA": "0001/Agenda/Diskominfostandi/2026",
        "SURAT_TUGAS": "800.1.11.1/0012/Diskominfostandi/2026",
    }
    first, second = [
        b for b in built_all([*history, later], numbers=numbers) if b.kind == "SURAT_TUGAS"
    ]
    assert "diperpanjang" not in text_of(first.data["basis"])
    basis = text_of(second.data["basis"])
    assert (
        "Surat Tugas Nomor 800.1.11.1/0012/Diskominfostandi/2026 tanggal 11 Desember 2026" in basis
    )
    assert "sampai dengan tanggal 31 Maret 2027, yang masa tugasnya diperpanjang" in basis
    assert second.data["basis"][-2].endswith(";")
    assert "4 Januari 2027 sampai dengan tanggal 30 April 2027" in text_of(second.data["tasks"])
    assert second.typed_number is None  # numbered from the register, as a letter of its own


def test_berita_acara_pengujian_shows_the_result_and_findings(documents: dict[str, Built]) -> None:
    failed, passed = documents["BERITA_ACARA_PENGUJIAN"], documents["BERITA_ACARA_PENGUJIAN#2"]
    assert failed.data["title"] == "BERITA ACARA PENGUJIAN SISTEM"
    assert failed.day == dt.date(2027, 3, 8)
    assert "TIDAK LULUS" in text_of(failed.data["content"])
    assert "Nomor antrean ganda" in text_of(failed.data["content"])
    assert "LULUS" in text_of(passed.data["content"])
    assert "TIDAK LULUS" not in text_of(passed.data["content"])


def test_berita_acara_uat_has_both_sides(documents: dict[str, Built]) -> None:
    uat = documents["BERITA_ACARA_UAT"]
    assert [s["label"] for s in uat.data["signatures"]] == ["PIHAK PERTAMA", "PIHAK KEDUA"]
    assert "DITERIMA" in text_of(uat.data["content"])


def test_an_official_without_nip_fails_and_an_unknown_signer_waits() -> None:
    directory = people()
    plt = directory.users["u-plt"]
    directory.users["u-plt"] = type(plt)(plt.user_id, plt.full_name, None, roles=plt.roles)
    with pytest.raises(MissingSignerData, match="NIP"):
        built_all(samples.request_history("req-4")[:3], directory)
    with pytest.raises(MissingFact, match="u-plt"):
        built_all(samples.request_history("req-5")[:3], people(drop="u-plt"))


def test_a_receipt_by_staff_is_signed_for_the_head() -> None:
    steps = samples.request_history("req-6")
    receive = steps[1].envelope
    staff = Actor(user_id="u-kadis", role="KADIS")
    payload = {**receive.payload, "received_by": "u-dev"}
    steps[1] = samples.Step(
        "intake", receive.model_copy(update={"payload": payload, "actor": staff})
    )
    [receipt] = built_all(steps[:2])
    [signature] = receipt.data["signatures"]
    assert signature["above"].startswith("a.n. KEPALA DINAS")
    assert signature["position"] == "Pranata Komputer Ahli Pertama"


def test_number_formats() -> None:
    fmt = NumberFormat("{code}/{seq:04}/{unit}/{month}/{year}")
    fmt.check()
    assert fmt.format("800.1.11.1", 42, "Diskominfostandi", 2026, 12) == (
        "800.1.11.1/0042/Diskominfostandi/XII/2026"
    )
    for bad in ("{code}/{year}", "{seq}/{nope}", "{seq:x}/{code:d}"):
        with pytest.raises(BadNumberFormat):
            NumberFormat(bad).check()
    with pytest.raises(ValueError):
        DocumentsConfig(number_format="{code}/{year}")
