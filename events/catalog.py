"""Every event model, which service emits it, and the default registry with its upcasters."""

from events.approval import (
    BAsigned,
    Disposed,
    DocumentsVerified,
    MeetingHeld,
    RequestRejected,
    RequestReturned,
    TaskAssigned,
)
from events.base import DomainEvent
from events.dev_tracking import (
    NOTE_ABSENT,
    DevelopmentStarted,
    ManualPublished,
    ProblemRecorded,
    ProblemSolved,
    ProgressReported,
    RequestCompleted,
    TestFailed,
    TestPassed,
    UATAccepted,
    UATRejected,
)
from events.documents import DocumentFailed, DocumentIssued
from events.eoffice import StatusDelivered, StatusDeliveryParked, StatusDeliveryResent
from events.identity import (
    DelegationEnded,
    DelegationGranted,
    LoginUnlocked,
    OpdRegistered,
    RoleGranted,
    RoleRevoked,
    UserProfileChanged,
    UserRegistered,
)
from events.intake import RequestReceived, RequestRevised, RequestSubmitted, RequestWithdrawn
from events.registry import EventRegistry, Payload, UnknownEventType
from events.reporting import CaseStatusChanged, SlaBreached
from events.topics import SERVICES, Service, topic_for

EVENTS_BY_SERVICE: dict[Service, tuple[type[DomainEvent], ...]] = {
    "identity": (
        OpdRegistered,
        UserRegistered,
        UserProfileChanged,
        RoleGranted,
        RoleRevoked,
        DelegationGranted,
        DelegationEnded,
        LoginUnlocked,
    ),
    "intake": (RequestSubmitted, RequestReceived, RequestRevised, RequestWithdrawn),
    "approval": (
        Disposed,
        DocumentsVerified,
        RequestReturned,
        MeetingHeld,
        BAsigned,
        TaskAssigned,
        RequestRejected,
    ),
    "dev_tracking": (
        DevelopmentStarted,
        ProgressReported,
        ProblemRecorded,
        ProblemSolved,
        TestPassed,
        TestFailed,
        ManualPublished,
        UATAccepted,
        UATRejected,
        RequestCompleted,
    ),
    "reporting": (SlaBreached, CaseStatusChanged),
    "eoffice": (StatusDelivered, StatusDeliveryParked, StatusDeliveryResent),
    "documents": (DocumentIssued, DocumentFailed),
}
"""The events each service emits, on its own topic only."""

ALL_EVENTS: tuple[type[DomainEvent], ...] = tuple(
    model for service in SERVICES for model in EVENTS_BY_SERVICE[service]
)
"""Every domain event model."""

_SERVICE_OF: dict[str, Service] = {
    model.event_type(): service for service, models in EVENTS_BY_SERVICE.items() for model in models
}


def service_of(event_type: str) -> Service:
    """The service that emits ``event_type``."""
    try:
        return _SERVICE_OF[event_type]
    except KeyError:
        raise UnknownEventType(event_type) from None


def topic_of(event_type: str) -> str:
    """The topic ``event_type`` is published on."""
    return topic_for(service_of(event_type))


def progress_reported_v1_to_v2(payload: Payload) -> Payload:
    """ProgressReported v1 had no ``note``; v2 requires one. The gap is marked ``"-"``.

    Only the loaded model changes: the stored payload, and so the hash chain, stay as written.
    """
    return {**payload, "note": payload.get("note", NOTE_ABSENT)}


def default_registry() -> EventRegistry:
    """A registry of every event in ``ALL_EVENTS``, with every upcaster the history needs."""
    registry = EventRegistry(ALL_EVENTS)
    registry.upcaster(ProgressReported.event_type(), 1)(progress_reported_v1_to_v2)
    return registry
