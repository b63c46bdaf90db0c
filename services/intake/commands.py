"""Intake's commands: submit (step 1), receive (step 2), revise a returned request, withdraw.

Frozen pydantic models with limits on every field, re-using the value objects of ``events.intake``
so that what a command carries is exactly what its event will carry. The requester's OPD is not a
field: it is the caller's own (``Principal.opd``), never chosen by the caller.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from events.fields import DocumentNumber, ExternalId, Name, RequestId, Text
from events.intake import (
    MAX_ATTACHMENTS,
    Attachment,
    BusinessProcess,
    NeedsAnalysis,
    RequestLetter,
)


def _unique(attachments: tuple[Attachment, ...] | None) -> tuple[Attachment, ...] | None:
    if attachments is not None:
        digests = [a.sha256 for a in attachments]
        if len(set(digests)) != len(digests):
            raise ValueError(
                "memuat lampiran yang sama (sha256) dua kali; sebut setiap lampiran sekali"
            )
    return attachments


class Command(BaseModel):
    """Base of intake's commands: frozen, unknown fields refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Details(BaseModel):
    """Base of what a caller fills in for a command: the command without the request id, which
    intake issues (submit) or the URL names (the others). The HTTP API's request bodies."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class SubmitDetails(Details):
    """What a requester fills in at step 1: everything of ``SubmitRequest`` but the id (which
    intake issues) and the channel (which the entry point knows). The body of ``POST /requests``.
    """

    title: Name = Field(description="The application's working title")
    summary: Text = Field(description="A short description of the request")
    letter: RequestLetter = Field(description="The request letter (Surat Permohonan)")
    needs_analysis: NeedsAnalysis = Field(
        default_factory=NeedsAnalysis,
        description="Formulir Analisis Kebutuhan dan Spesifikasi Aplikasi; sections may be absent",
    )
    business_process: BusinessProcess = Field(
        default_factory=BusinessProcess,
        description="Dokumen Proses Bisnis; sections may be absent and are listed at step 4",
    )
    attachments: tuple[Attachment, ...] = Field(
        default=(),
        max_length=MAX_ATTACHMENTS,
        description="Uploaded files by content hash (sha256, size, media type, filename)",
    )

    @field_validator("attachments")
    @classmethod
    def _attachments_unique(cls, value: tuple[Attachment, ...]) -> tuple[Attachment, ...]:
        _unique(value)
        return value


class SubmitRequest(SubmitDetails, Command):
    """Step 1: a requester submits an application-development request for its own OPD."""

    request_id: RequestId = Field(
        description="The new request's id (a UUIDv7 the entry point issues); its stream id"
    )
    submitted_via: Literal["WEB", "EOFFICE"] = Field(
        default="WEB",
        description="WEB: the Jejak form; EOFFICE: the regency's e-office, through the webhook",
    )
    eoffice_letter_id: ExternalId | None = Field(
        default=None,
        validate_default=True,
        description="The e-office's id of the letter; set exactly when submitted_via is EOFFICE",
    )

    @field_validator("eoffice_letter_id")
    @classmethod
    def _eoffice_consistent(cls, value: str | None, info: ValidationInfo) -> str | None:
        via = info.data.get("submitted_via")
        if via is not None and (via == "EOFFICE") != (value is not None):
            raise ValueError("wajib diisi bila submitted_via EOFFICE, dan harus kosong bila WEB")
        return value


class ReceiveDetails(Details):
    """The body of ``POST /requests/{request_id}/receive``."""

    agenda_number: DocumentNumber | None = Field(
        default=None, description="Nomor agenda: the incoming-letter register number, if any"
    )


class ReceiveRequest(ReceiveDetails, Command):
    """Step 2: the Head of Department's office receives the request and its documents."""

    request_id: RequestId = Field(description="The request received")


class ReviseDetails(Details):
    """The body of ``POST /requests/{request_id}/revise``: a given part replaces the old one
    whole; an omitted (``None``) part stays as it was."""

    title: Name | None = Field(default=None, description="New title, or None if unchanged")
    summary: Text | None = Field(default=None, description="New summary, or None if unchanged")
    letter: RequestLetter | None = Field(
        default=None, description="A new request letter, or None if unchanged"
    )
    needs_analysis: NeedsAnalysis | None = Field(
        default=None, description="The whole revised needs-analysis form, or None if unchanged"
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

    @field_validator("attachments")
    @classmethod
    def _attachments_unique(
        cls, value: tuple[Attachment, ...] | None
    ) -> tuple[Attachment, ...] | None:
        return _unique(value)


class ReviseRequest(ReviseDetails, Command):
    """The requester revises a request that KABID_TI returned at step 4.

    A given part replaces the old one whole; an omitted (``None``) part stays as it was.
    """

    request_id: RequestId = Field(description="The request revised")


class WithdrawDetails(Details):
    """The body of ``POST /requests/{request_id}/withdraw``."""

    reason: Text = Field(description="Why it is withdrawn")


class WithdrawRequest(WithdrawDetails, Command):
    """The requester withdraws an open request (before it is handed to the development team)."""

    request_id: RequestId = Field(description="The request withdrawn")


IntakeCommand = SubmitRequest | ReceiveRequest | ReviseRequest | WithdrawRequest
"""Every command intake takes."""
