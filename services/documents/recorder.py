"""The consumer's side: every event the documents may need is kept as received, and each event
that produces a document records it as PENDING, in the consumer's transaction (the Kafka offset
is committed after it). The issuer does the rest."""

import uuid
from collections.abc import Callable

from events.catalog import service_of
from events.intake import RequestSubmitted
from infra.consumer import Delivered
from infra.db import Connection
from services.documents.builders import KIND_OF_EVENT

NAMESPACE = uuid.UUID("6f1d1c1e-6a5b-4f0e-9a53-6a656a616b21")


def document_id_of(source_event_id: uuid.UUID, kind: str) -> uuid.UUID:
    """A document's id, the same whenever its source event is handled (a replay too)."""
    return uuid.uuid5(NAMESPACE, f"{source_event_id}/{kind}")


class Recorder:
    def __init__(self, schema: str, wake: Callable[[], None]) -> None:
        self.schema = schema
        self.wake = wake
        s = schema
        self._keep = (
            f"INSERT INTO {s}.source_events (event_id, service, stream_id, event_type, "
            "occurred_at, envelope) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING"
        )
        self._request = (
            f"INSERT INTO {s}.requests (request_id, opd) VALUES ($1, $2) "
            "ON CONFLICT (request_id) DO NOTHING"
        )
        self._pending = (
            f"INSERT INTO {s}.documents (document_id, tenant, request_id, kind, "
            "source_event_id, source_at, next_attempt_at, recorded_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, now(), now()) ON CONFLICT DO NOTHING"
        )

    async def handle(self, delivered: Delivered, conn: Connection) -> None:
        envelope = delivered.envelope
        await conn.execute(
            self._keep,
            envelope.event_id,
            service_of(envelope.event_type),
            envelope.stream_id,
            envelope.event_type,
            envelope.occurred_at,
            delivered.text,
        )
        if envelope.event_type == RequestSubmitted.event_type():
            await conn.execute(self._request, envelope.stream_id, envelope.payload["opd"])
        kind = KIND_OF_EVENT.get(envelope.event_type)
        if kind is not None:
            await conn.execute(
                self._pending,
                document_id_of(envelope.event_id, kind),
                envelope.tenant,
                envelope.stream_id,
                kind,
                envelope.event_id,
                envelope.occurred_at,
            )
            self.wake()
