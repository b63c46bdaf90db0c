"""The events the benchmark writes: a realistic ~300-byte payload, an actor, a correlation id."""

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from events.envelope import Actor, NewEvent

ACTOR = Actor(user_id="198703152010011002", role="TIM_PENGEMBANG", opd="DISKOMINFO")
EVENT_TYPE = "ProgressReported"
SCHEMA_VERSION = 2
NOTE = (
    "Modul verifikasi berkas selesai dan lolos uji internal; integrasi dengan layanan "
    "kepegawaian daerah sedang dikerjakan, target uji bersama pekan depan."
)


def payload(request_id: str, n: int) -> dict[str, Any]:
    """The payload of a ProgressReported event for ``request_id``: about 300 bytes of JSON."""
    return {
        "request_id": request_id,
        "percent": n % 101,
        "note": NOTE,
        "reported_by": ACTOR.user_id,
        "milestone": f"M{n % 7 + 1}",
    }


PAYLOAD_BYTES = len(json.dumps(payload(str(uuid.uuid4()), 42)).encode())


def new_event(request_id: str, n: int) -> NewEvent:
    """What a service hands to ``PostgresEventStore.append``."""
    return NewEvent(
        event_type=EVENT_TYPE,
        schema_version=SCHEMA_VERSION,
        actor=ACTOR,
        correlation_id=uuid.uuid4(),
        payload=payload(request_id, n),
    )


_ACTOR_JSON = ACTOR.model_dump(mode="json")


def library_state(request_id: str, n: int) -> bytes:
    """The same event as the ``eventsourcing`` library would store it: its serialised state
    (the payload with who, when and the correlation id), JSON-encoded."""
    return json.dumps(
        {
            "timestamp": datetime.now(UTC).isoformat(),
            "actor": _ACTOR_JSON,
            "correlation_id": str(uuid.uuid4()),
            **payload(request_id, n),
        }
    ).encode()
