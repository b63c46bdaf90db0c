"""Which document each event produces, and the one function that builds it (pure: events in, a
plain dict out; ``DOCUMENTS.md`` describes each document's parts)."""

from events.approval import BAsigned, Disposed, MeetingHeld, TaskAssigned
from events.base import DomainEvent
from events.dev_tracking import (
    RequestCompleted,
    TestFailed,
    TestPassed,
    UATAccepted,
    UATRejected,
)
from events.documents import DocumentKind
from events.intake import RequestReceived
from services.documents import casefile, letters, minutes
from services.documents.context import Built, Source, Tenant

KIND_OF_EVENT: dict[str, DocumentKind] = {
    RequestReceived.event_type(): "TANDA_TERIMA",
    Disposed.event_type(): "LEMBAR_DISPOSISI",
    MeetingHeld.event_type(): "BERITA_ACARA_RAPAT_DRAFT",
    BAsigned.event_type(): "BERITA_ACARA_RAPAT",
    TaskAssigned.event_type(): "SURAT_TUGAS",
    TestPassed.event_type(): "BERITA_ACARA_PENGUJIAN",
    TestFailed.event_type(): "BERITA_ACARA_PENGUJIAN",
    UATAccepted.event_type(): "BERITA_ACARA_UAT",
    UATRejected.event_type(): "BERITA_ACARA_UAT",
    RequestCompleted.event_type(): "BERKAS_PERMOHONAN",
}
"""The events that produce a document, and which."""


def build(tenant: Tenant, source: Source) -> Built:
    """The document ``source`` produces. Raises ``MissingFact`` (an event it needs has not
    arrived), ``MissingSignerData`` (a signer unknown or without a NIP), or ``LookupError`` for
    an event that produces no document."""
    event: DomainEvent = source.event
    match event:
        case RequestReceived():
            return letters.tanda_terima(tenant, source, event)
        case Disposed():
            return letters.lembar_disposisi(tenant, source, event)
        case TaskAssigned():
            return letters.surat_tugas(tenant, source, event)
        case MeetingHeld():
            return minutes.berita_acara_rapat_draft(tenant, source, event)
        case BAsigned():
            return minutes.berita_acara_rapat(tenant, source, event)
        case TestPassed() | TestFailed():
            return minutes.berita_acara_pengujian(tenant, source, event)
        case UATAccepted() | UATRejected():
            return minutes.berita_acara_uat(tenant, source, event)
        case RequestCompleted():
            return casefile.berkas_permohonan(tenant, source, event)
        case _:
            raise LookupError(f"{type(event).__name__} produces no document")
