"""Events emitted by the documents service (topic ``jejak.documents.events``).

Stream: one per request (stream id = ``request_id``) in documents' own store, so that the hash
chain covers the papers as well as the steps that produced them.
"""

from typing import Literal
from uuid import UUID

from pydantic import Field

from events.base import DomainEvent
from events.fields import Day, DocumentNumber, Line, RequestId, Sha256Hex, Text

DocumentKind = Literal[
    "TANDA_TERIMA",
    "LEMBAR_DISPOSISI",
    "BERITA_ACARA_RAPAT_DRAFT",
    "BERITA_ACARA_RAPAT",
    "SURAT_TUGAS",
    "BERITA_ACARA_PENGUJIAN",
    "BERITA_ACARA_UAT",
    "BERKAS_PERMOHONAN",
]
"""The SOP's documents Jejak renders, one per source event (``DOCUMENTS.md``)."""

NumberSource = Literal["REGISTER", "TYPED", "NONE"]
"""Where a document's number came from: the service's own register (Buku Agenda), or typed by
the user into the command that produced the source event (a document numbered outside Jejak);
NONE for a draft whose number nobody typed (it prints none: its final takes one)."""


class DocumentIssued(DomainEvent):
    """A document was rendered from its source event, numbered, signed and stored."""

    request_id: RequestId = Field(description="The request the document belongs to")
    document_id: UUID = Field(description="The document's id (the verification page's key)")
    kind: DocumentKind = Field(description="Which of the SOP's documents it is")
    number: DocumentNumber = Field(description="The number printed under its title")
    number_source: NumberSource = Field(
        description="REGISTER (taken now), TYPED (given), or NONE (a draft without a number)"
    )
    document_date: Day = Field(description="The date printed on it, in the tenant's time zone")
    final: bool = Field(description="False for a draft (unsigned, not in the register)")
    sha256: Sha256Hex = Field(description="SHA-256 of the PDF as issued (signed if final)")
    unsigned_sha256: Sha256Hex = Field(
        description="SHA-256 of the PDF as rendered, before signing: the same events render "
        "the same bytes, which the audit re-checks"
    )
    signers: tuple[Line, ...] = Field(
        default=(), max_length=20, description="The names in its signature blocks, in order"
    )
    source_event_id: UUID = Field(description="The event the document records")
    history_versions: dict[str, int] | None = Field(
        default=None,
        description="Of the request's events (intake, approval, dev_tracking) up to the source "
        "event it was built from, the last stream version of each service's: the audit "
        "re-renders from the same, so that an event that reached the service after the "
        "document was issued changes nothing (absent in documents issued before it was "
        "recorded)",
    )
    people_events: int | None = Field(
        default=None,
        ge=0,
        description="How many of the tenant's identity events (users, roles, profiles, OPDs) up "
        "to the source event it was built from: the audit takes as many, those that reached "
        "Kafka first, so that a profile change that reached the service after the document was "
        "issued changes nothing",
    )


class DocumentFailed(DomainEvent):
    """A document could not be rendered; no number was taken. An admin retries it once the
    cause (a template, missing signer data) is fixed."""

    request_id: RequestId = Field(description="The request the document belongs to")
    document_id: UUID = Field(description="The document's id")
    kind: DocumentKind = Field(description="Which of the SOP's documents it is")
    reason: Text = Field(description="Why it failed, as the renderer said")
    source_event_id: UUID = Field(description="The event the document records")
