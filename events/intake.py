"""Events emitted by the intake service (topic ``jejak.intake.events``), steps 1 and 2.

Stream: one per request (stream id = ``request_id``). The needs-analysis form and the
business-process document are structured data whose sections are all optional here, so that an
incomplete submission can be recorded and its gaps listed by ``events.completeness`` at step 4.
"""

from typing import Literal, Self

from pydantic import Field, field_validator, model_validator

from events.base import DomainEvent, ValueObject
from events.fields import (
    MAX_LIST,
    Day,
    DocumentNumber,
    ExternalId,
    Line,
    Name,
    OpdCode,
    RequestId,
    Sha256Hex,
    Text,
    UserId,
)

MAX_ATTACHMENT_BYTES = 1024**3
"""The contract's ceiling for one attachment (1 GiB); a service may enforce a lower limit."""

MAX_ATTACHMENTS = 50
"""The most attachments one submission or revision may carry."""


class Attachment(ValueObject):
    """A content-addressed upload: the bytes are stored under their SHA-256 digest."""

    sha256: Sha256Hex = Field(description="SHA-256 of the content, 64 lower-case hex digits")
    size_bytes: int = Field(ge=1, le=MAX_ATTACHMENT_BYTES, description="Content length in bytes")
    media_type: str = Field(
        max_length=127,
        pattern=r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$",
        description="Media type without parameters, lower case, e.g. application/pdf",
    )
    filename: str = Field(
        min_length=1,
        max_length=255,
        pattern=r"^[^/\\\x00-\x1f\x7f]+$",
        description="The name the file was uploaded under, without any directory",
    )

    @field_validator("filename")
    @classmethod
    def _not_dots(cls, value: str) -> str:
        if value.strip(".") == "" or value != value.strip():
            raise ValueError(
                "tidak boleh hanya titik atau diawali/diakhiri spasi; ganti nama berkas"
            )
        return value


class RequestLetter(ValueObject):
    """The agency's request letter (Surat Permohonan)."""

    number: DocumentNumber = Field(description="The letter's number, as written on it")
    date: Day = Field(description="The letter's date")


class NeedsAnalysis(ValueObject):
    """The form "Analisis Kebutuhan dan Spesifikasi Aplikasi" (needs analysis and specification).

    Every section is optional so that a missing one can be recorded and listed; an empty list or
    ``None`` counts as missing.
    """

    background: Text | None = Field(
        default=None, description="Latar belakang: why the application is needed"
    )
    objectives: Text | None = Field(
        default=None, description="Tujuan: what the application must achieve"
    )
    intended_users: tuple[Line, ...] | None = Field(
        default=None, max_length=MAX_LIST, description="Sasaran pengguna: who will use it"
    )
    features: tuple[Line, ...] | None = Field(
        default=None,
        max_length=MAX_LIST,
        description="Kebutuhan fungsional: the features required, one per item",
    )
    platform: Text | None = Field(
        default=None,
        description="Spesifikasi teknis: platform (web, mobile, ...), integrations, hosting",
    )


class BusinessProcess(ValueObject):
    """The business-process document (Dokumen Proses Bisnis) of the application to be built.

    The sections are those the SOP names for step 1 plus the three of its warnings (Peringatan):
    access-rights, user and database management. Each is optional, as in ``NeedsAnalysis``.
    """

    system_flow: Text | None = Field(default=None, description="Alur sistem: the system flow")
    input_data: tuple[Line, ...] | None = Field(
        default=None, max_length=MAX_LIST, description="Data input: the data entered, per item"
    )
    output_data: tuple[Line, ...] | None = Field(
        default=None, max_length=MAX_LIST, description="Data output: the data produced, per item"
    )
    validation_mechanism: Text | None = Field(
        default=None, description="Mekanisme validasi: how inputs and results are validated"
    )
    user_roles: tuple[Line, ...] | None = Field(
        default=None, max_length=MAX_LIST, description="Role pengguna: the user roles, per item"
    )
    forms_and_reporting: Text | None = Field(
        default=None, description="Form dan mekanisme pelaporan: forms and reporting mechanism"
    )
    access_rights_management: Text | None = Field(
        default=None, description="Manajemen hak akses: who may see and do what"
    )
    user_management: Text | None = Field(
        default=None, description="Manajemen user: how accounts are created, changed and removed"
    )
    database_management: Text | None = Field(
        default=None, description="Manajemen database: storage, backup, retention"
    )


def _unique_attachments(attachments: tuple[Attachment, ...] | None) -> None:
    if attachments is None:
        return
    digests = [a.sha256 for a in attachments]
    if len(set(digests)) != len(digests):
        raise ValueError(
            "memuat lampiran yang sama (sha256) dua kali; sebut setiap lampiran sekali"
        )


class RequestSubmitted(DomainEvent):
    """Step 1: an agency submitted an application-development request."""

    request_id: RequestId = Field(description="The new request's id (its stream id)")
    opd: OpdCode = Field(description="The requesting agency's code")
    title: Name = Field(description="The application's working title")
    summary: Text = Field(description="A short description of the request")
    letter: RequestLetter = Field(description="The request letter (Surat Permohonan)")
    needs_analysis: NeedsAnalysis = Field(
        description="Formulir Analisis Kebutuhan dan Spesifikasi Aplikasi"
    )
    business_process: BusinessProcess = Field(description="Dokumen Proses Bisnis")
    attachments: tuple[Attachment, ...] = Field(
        default=(),
        max_length=MAX_ATTACHMENTS,
        description="Scanned letter, filled forms and other files, each by content hash",
    )
    submitted_via: Literal["WEB", "EOFFICE"] = Field(
        description="WEB: the Jejak form; EOFFICE: the regency's e-office, through the webhook"
    )
    eoffice_letter_id: ExternalId | None = Field(
        default=None,
        description="The e-office's id of the letter; set exactly when submitted_via is EOFFICE",
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        if (self.submitted_via == "EOFFICE") != (self.eoffice_letter_id is not None):
            raise ValueError(
                "Isi eoffice_letter_id bila submitted_via EOFFICE, dan kosongkan bila WEB."
            )
        _unique_attachments(self.attachments)
        return self


class RequestReceived(DomainEvent):
    """Step 2: the Head of Department's office received the request and its documents."""

    request_id: RequestId = Field(description="The request received")
    received_by: UserId = Field(description="The user who received it for KADIS")
    agenda_number: DocumentNumber | None = Field(
        default=None, description="Nomor agenda: the incoming-letter register number, if any"
    )


class RequestRevised(DomainEvent):
    """The requester revised a returned request. A given part replaces the old one whole;
    ``None`` leaves it as it was.
    """

    request_id: RequestId = Field(description="The request revised")
    title: Name | None = Field(default=None, description="New title, or None if unchanged")
    summary: Text | None = Field(default=None, description="New summary, or None if unchanged")
    letter: RequestLetter | None = Field(
        default=None, description="A new request letter, or None if unchanged"
    )
    needs_analysis: NeedsAnalysis | None = Field(
        default=None, description="The whole revised form, or None if unchanged"
    )
    business_process: BusinessProcess | None = Field(
        default=None, description="The whole revised business-process document, or None"
    )
    attachments: tuple[Attachment, ...] | None = Field(
        default=None,
        max_length=MAX_ATTACHMENTS,
        description="The full new list of attachments, or None if unchanged",
    )
    note: Text = Field(description="The requester's answer to the reasons for the return")

    @model_validator(mode="after")
    def _check(self) -> Self:
        _unique_attachments(self.attachments)
        return self


class RequestWithdrawn(DomainEvent):
    """The requester withdrew an open request; nothing more happens to it."""

    request_id: RequestId = Field(description="The request withdrawn")
    reason: Text = Field(description="Why it was withdrawn")
