"""What the documents API answers, each a typed model (Indonesian descriptions for the reader
of the API's documentation)."""

import datetime as dt
import json
from typing import Literal
from uuid import UUID

import asyncpg
from pydantic import BaseModel, ConfigDict, Field

from events.documents import DocumentKind, NumberSource
from events.fields import Text

DocumentState = Literal["PENDING", "ISSUED", "FAILED"]

KIND_LABELS: dict[str, str] = {
    "TANDA_TERIMA": "Tanda Terima",
    "LEMBAR_DISPOSISI": "Lembar Disposisi",
    "BERITA_ACARA_RAPAT_DRAFT": "Draf Berita Acara Rapat",
    "BERITA_ACARA_RAPAT": "Berita Acara Rapat",
    "SURAT_TUGAS": "Surat Tugas",
    "BERITA_ACARA_PENGUJIAN": "Berita Acara Pengujian",
    "BERITA_ACARA_UAT": "Berita Acara User Acceptance Test",
    "BERKAS_PERMOHONAN": "Berkas Permohonan",
}


class View(BaseModel):
    model_config = ConfigDict(frozen=True)


class DocumentSummary(View):
    document_id: UUID = Field(description="Id dokumen (kunci halaman verifikasi)")
    request_id: str = Field(description="Permohonan pemilik dokumen")
    kind: DocumentKind = Field(description="Jenis dokumen")
    label: str = Field(description="Nama jenis dokumen dalam bahasa Indonesia")
    state: DocumentState = Field(description="PENDING (sedang dibuat), ISSUED, atau FAILED")
    number: str | None = Field(description="Nomor dokumen; kosong sebelum terbit")
    number_source: NumberSource | None = Field(
        description="REGISTER (dari Buku Agenda Jejak), TYPED (diketik pengguna) atau NONE "
        "(draf tanpa nomor)"
    )
    document_date: dt.date | None = Field(description="Tanggal dokumen")
    final: bool | None = Field(description="False untuk draf (tidak ditandatangani)")
    signers: list[str] = Field(description="Nama penandatangan, berurutan")
    sha256: str | None = Field(description="SHA-256 PDF yang diterbitkan")
    issued_at: dt.datetime | None = Field(description="Kapan diterbitkan")
    error: str | None = Field(description="Alasan kegagalan terakhir, jika ada")
    attempts: int = Field(description="Berapa kali sudah dicoba dibuat")

    @classmethod
    def of(cls, row: asyncpg.Record) -> "DocumentSummary":
        return cls(
            document_id=row["document_id"],
            request_id=row["request_id"],
            kind=row["kind"],
            label=KIND_LABELS.get(row["kind"], row["kind"]),
            state=row["state"],
            number=row["number"],
            number_source=row["number_source"],
            document_date=row["document_date"],
            final=row["final"],
            signers=_signers(row),
            sha256=row["sha256"],
            issued_at=row["issued_at"],
            error=row["last_error"],
            attempts=row["attempts"],
        )


def _signers(row: asyncpg.Record) -> list[str]:
    raw = row["signers"]
    if raw is None:
        return []
    value = json.loads(raw) if isinstance(raw, str) else raw
    return [str(v) for v in value]


class DocumentList(View):
    documents: list[DocumentSummary] = Field(description="Dokumen, urut kejadian sumbernya")


class RegisterEntry(View):
    number: str = Field(description="Nomor")
    document_date: dt.date = Field(description="Tanggal")
    kind: DocumentKind = Field(description="Jenis dokumen")
    label: str = Field(description="Nama jenis dokumen")
    request_id: str = Field(description="Permohonan")
    signers: list[str] = Field(description="Penandatangan")
    number_source: NumberSource = Field(description="REGISTER, TYPED atau NONE (draf tanpa nomor)")
    document_id: UUID = Field(description="Id dokumen")


class Register(View):
    entries: list[RegisterEntry] = Field(description="Buku Agenda: dokumen final yang terbit")


class Verification(View):
    """What the public verification page shows: nothing of the request's content."""

    document_id: UUID = Field(description="Id dokumen")
    kind: DocumentKind = Field(description="Jenis dokumen")
    label: str = Field(description="Nama jenis dokumen")
    number: str = Field(description="Nomor dokumen")
    document_date: dt.date = Field(description="Tanggal dokumen")
    signers: list[str] = Field(description="Nama penandatangan")
    signed: bool = Field(description="Apakah PDF-nya ditandatangani secara elektronik")
    sha256: str = Field(description="SHA-256 PDF asli")


class CheckResult(View):
    document_id: UUID = Field(description="Id dokumen yang dicocokkan")
    matches: bool = Field(description="True: berkas sama persis dengan dokumen yang diterbitkan")
    sha256: str = Field(description="SHA-256 berkas yang diunggah")
    expected_sha256: str = Field(description="SHA-256 dokumen yang diterbitkan")
    message: str = Field(description="Kesimpulan untuk dibaca orang")


class RetryData(View):
    model_config = ConfigDict(frozen=True, extra="forbid")

    note: Text | None = Field(
        default=None, description="Apa yang diperbaiki sebelum mengulang (dicatat)"
    )


class Retried(View):
    document_id: UUID = Field(description="Id dokumen")
    state: DocumentState = Field(description="Keadaan setelah perintah (PENDING: dicoba lagi)")
