"""documents' own settings (environment variables ``DOCUMENTS_*``): the tenant's letterhead and
place, the paper, the registers' codes and number format, the positions printed for each role,
where the verification page is, and the signing certificate."""

from typing import Literal, Self
from uuid import UUID

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from events.documents import DocumentKind
from services.documents.numbering import NumberFormat

Paper = Literal["F4", "A4"]

PAPER_MM: dict[Paper, tuple[float, float]] = {"F4": (215.0, 330.0), "A4": (210.0, 297.0)}

AGENDA = "AGENDA"
"""The register of incoming letters, whose number the receipt and the disposition carry."""

DEFAULT_CODES: dict[DocumentKind, str] = {
    "TANDA_TERIMA": AGENDA,
    "BERITA_ACARA_RAPAT": "000.1.5",
    "SURAT_TUGAS": "800.1.11.1",
    "BERITA_ACARA_PENGUJIAN": "500.12",
    "BERITA_ACARA_UAT": "500.12",
    "BERKAS_PERMOHONAN": "500.12",
}
"""The archive classification code (Permendagri 83/2022) that numbers each kind; one register
runs per code and calendar year. A draft and the Lembar Disposisi (which carries the letter's
agenda number) take no number of their own. An archive officer should confirm the codes."""

DEFAULT_POSITIONS: dict[str, str] = {
    "KADIS": "KEPALA DINAS KOMUNIKASI, INFORMATIKA, STATISTIK DAN PERSANDIAN",
    "KABID_TI": "KEPALA BIDANG TEKNOLOGI INFORMASI DAN KOMUNIKASI",
    "TIM_PENGEMBANG": "TIM PENGEMBANG APLIKASI",
    "PEMOHON": "PERWAKILAN PERANGKAT DAERAH PEMOHON",
    "ADMIN": "ADMINISTRATOR",
}


class DocumentsConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DOCUMENTS_", extra="ignore", frozen=True)

    government: str = Field(default="PEMERINTAH KABUPATEN KATINGAN", max_length=200)
    agency: str = Field(
        default="DINAS KOMUNIKASI, INFORMATIKA, STATISTIK DAN PERSANDIAN", max_length=200
    )
    address: str = Field(
        default="Jalan Jenderal Sudirman, Kasongan, Kalimantan Tengah 74411",
        max_length=300,
        description="The letterhead's address line (tenant data)",
    )
    contact: str = Field(
        default="Telepon (0536) 0000000 · Pos-el diskominfostandi@katingankab.go.id · "
        "Laman katingankab.go.id",
        max_length=300,
        description="The letterhead's telephone, e-mail and web-site line (tenant data)",
    )
    venue: str = Field(
        default="Kantor Dinas Komunikasi, Informatika, Statistik dan Persandian Kabupaten Katingan",
        max_length=300,
        description="Where meetings and tests are held, as a Berita Acara says it",
    )
    place: str = Field(default="Kasongan", max_length=100, description="Where documents are made")
    unit_code: str = Field(
        default="Diskominfostandi", max_length=50, description="The unit's code in numbers"
    )
    paper: Paper = Field(default="F4", description="F4 (215 x 330 mm) or A4")
    time_zone: str = Field(default="Asia/Jakarta", description="The tenant's office time zone")
    public_base_url: str = Field(
        default="http://127.0.0.1:8000",
        max_length=200,
        description="Where the public reaches /verifikasi/<document_id> (printed as a QR code)",
    )
    number_format: str = Field(
        default="{code}/{seq:04}/{unit}/{year}",
        max_length=200,
        description="A register number: {code}, {seq}, {unit}, {year}, {month} (Roman)",
    )
    agenda_format: str = Field(
        default="{seq:04}/Agenda/{unit}/{year}",
        max_length=200,
        description="An incoming letter's agenda number, with the same fields",
    )
    codes: dict[DocumentKind, str] = Field(
        default_factory=lambda: dict(DEFAULT_CODES),
        description="The classification code (register) of each numbered kind",
    )
    positions: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_POSITIONS),
        description="The position printed for a role when the user's own is not recorded",
    )
    signing_dir: str = Field(
        default=".jejak/signing",
        description="Development: where the generated CA and signing certificate are kept",
    )
    signing_key_pem: str | None = Field(
        default=None, description="Production: the department's signing key (PEM, PKCS#8)"
    )
    signing_cert_pem: str | None = Field(
        default=None, description="Production: its certificate, then its chain (PEM)"
    )
    font_dir: str = Field(
        default="/usr/share/fonts/truetype/liberation",
        description="Liberation Sans (Debian's fonts-liberation), embedded in every PDF",
    )
    workers: int = Field(default=2, ge=1, le=32, description="Documents issued at once")
    processes: int = Field(
        default=0,
        ge=0,
        le=32,
        description="Processes that render and sign (0: threads of the service's own process, "
        "which share its interpreter lock); a signer given to create_app (tests) always signs "
        "in the service's process",
    )
    poll_seconds: float = Field(default=0.5, gt=0, le=60, description="Longest idle wait")
    wait_for_facts_seconds: float = Field(
        default=120.0,
        gt=0,
        le=86_400,
        description="How long a document waits for events it needs that have not arrived yet "
        "(another topic is behind) before it is recorded as failed",
    )

    def verification_url(self, document_id: UUID) -> str:
        """What a final document's QR code encodes: its public verification page."""
        return f"{self.public_base_url.rstrip('/')}/verifikasi/{document_id}"

    @model_validator(mode="after")
    def _check(self) -> Self:
        NumberFormat(self.number_format).check()
        NumberFormat(self.agenda_format).check()
        return self
