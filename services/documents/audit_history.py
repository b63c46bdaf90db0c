"""The events the documents audit re-renders from, as read from Kafka: every record of the topics
of identity, intake, approval, dev_tracking and documents, each event once, and what the live
issuer had of them when it issued a document (``inputs``). Pure: the records come in, the
selection goes out."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from events.base import DomainEvent
from events.catalog import service_of
from events.checkpoint import is_checkpoint
from events.documents import DocumentIssued
from events.envelope import Envelope
from events.registry import EventRegistry
from infra.consumer import NOT_AN_ENVELOPE, Delivered
from services.documents.store import CASE_SERVICES

UNREADABLE = (*NOT_AN_ENVELOPE, LookupError)
"""A record that is no envelope, or of an event type (or version) this code does not know."""


@dataclass(frozen=True)
class Seen:
    """An event as read from Kafka, with when its record was appended (``arrival``): the order
    in which a consumer receives the events of several partitions and topics."""

    envelope: Envelope
    event: DomainEvent
    service: str
    arrival: tuple[int, str, int, int]
    """The record's timestamp (ms), topic, partition and offset."""

    @property
    def order(self) -> tuple[dt.datetime, UUID]:
        """The order the issuer folds events in (``store.history`` and ``directory.Fold``)."""
        return self.envelope.occurred_at, self.envelope.event_id


def as_seen(candidates: Iterable[Seen], count: int | None) -> list[Seen]:
    """Of the events up to a document's source event, the ``count`` the issuer had (those
    that reached it first; all of them if it did not record how many), in its folding order.
    An event that reached the service after the document was issued, such as a profile
    change published late, is left out as the live service left it out."""
    events = list(candidates)
    if count is not None and count < len(events):
        events = sorted(events, key=lambda s: s.arrival)[:count]
    return sorted(events, key=lambda s: s.order)


@dataclass
class History:
    """Every event read, once each (a record published twice counts once)."""

    registry: EventRegistry
    events: dict[UUID, Seen] = field(default_factory=dict)
    by_request: dict[str, list[Seen]] = field(default_factory=dict)
    """The case events (intake, approval, dev_tracking) of each request."""
    identity: dict[str, list[Seen]] = field(default_factory=dict)
    """Identity's events of each tenant."""
    issued: dict[str, list[Seen]] = field(default_factory=dict)
    """Each request's ``DocumentIssued``, in the order of its documents stream."""
    unreadable: int = 0

    def take(self, records: list[Any]) -> None:
        """A batch of Kafka records (``infra.kafka_history.read_partitions``)."""
        for record in records:
            if is_checkpoint(record.headers):
                continue  # a signed checkpoint, no event
            try:
                delivered = Delivered.of(record.value)
                envelope = delivered.envelope
                event = self.registry.load(
                    envelope.event_type, envelope.schema_version, envelope.payload
                )
                service = service_of(envelope.event_type)
            except UNREADABLE:
                self.unreadable += 1
                continue
            if envelope.event_id in self.events:
                continue
            arrival = (record.timestamp, record.topic, record.partition, record.offset)
            seen = Seen(envelope, event, service, arrival)
            self.events[envelope.event_id] = seen
            if service == "identity":
                self.identity.setdefault(envelope.tenant, []).append(seen)
            elif service in CASE_SERVICES:
                self.by_request.setdefault(envelope.stream_id, []).append(seen)
            elif isinstance(event, DocumentIssued):
                self.issued.setdefault(envelope.stream_id, []).append(seen)

    def documents(self) -> list[Seen]:
        """Every ``DocumentIssued``, request by request, each request's in stream order."""
        for issued in self.issued.values():
            issued.sort(key=lambda s: s.envelope.stream_version)
        return [s for request in sorted(self.issued) for s in self.issued[request]]

    def source_of(self, issued: DocumentIssued) -> Seen | None:
        return self.events.get(issued.source_event_id)

    def case_events(
        self, source: Seen, versions: dict[str, int] | None
    ) -> list[tuple[Envelope, DomainEvent]]:
        """The request's events before ``source`` as the issuer had them: up to the recorded
        stream version of each service (a service's events reach it in order), if recorded."""
        until = source.envelope.occurred_at
        events = [
            s
            for s in self.by_request.get(source.envelope.stream_id, [])
            if s.envelope.occurred_at <= until
            and s.envelope.event_id != source.envelope.event_id
            and (versions is None or s.envelope.stream_version <= versions.get(s.service, 0))
        ]
        return [(s.envelope, s.event) for s in sorted(events, key=lambda s: s.order)]

    def people_events(self, source: Seen, tenant: str, count: int | None) -> list[DomainEvent]:
        """The tenant's identity events up to ``source`` as the issuer had them."""
        until = source.envelope.occurred_at
        candidates = (s for s in self.identity.get(tenant, []) if s.envelope.occurred_at <= until)
        return [s.event for s in as_seen(candidates, count)]
