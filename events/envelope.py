"""The envelope every event travels in, from the event store to Kafka to every consumer."""

from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

import uuid_utils
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from events.base import DomainEvent

Role = Literal["PEMOHON", "KADIS", "KABID_TI", "TIM_PENGEMBANG", "ADMIN", "AUDITOR", "SYSTEM"]
GENESIS_HASH = "0" * 64


def new_event_id() -> UUID:
    """A time-ordered UUIDv7."""
    return UUID(str(uuid_utils.uuid7()))


def utc_now() -> datetime:
    return datetime.now(UTC)


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OnBehalfOf(Frozen):
    """The official an acting official (Plt/Plh) stands in for."""

    user_id: str = Field(max_length=64, description="The absent official's user id")
    role: Role = Field(description="The role exercised on the official's behalf")
    kind: Literal["PLT", "PLH"] = Field(
        description="Plt (Pelaksana Tugas) or Plh (Pelaksana Harian)"
    )


class Actor(Frozen):
    """Who caused an event."""

    user_id: str = Field(description="The acting user's id, or a service name for system actions")
    role: Role = Field(description="The role in which the user acted")
    opd: str | None = Field(default=None, description="The acting user's agency (OPD) code, if any")
    on_behalf_of: OnBehalfOf | None = Field(
        default=None, description="Set when a Plt/Plh acts for an absent official"
    )


class NewEvent(Frozen):
    """An event about to be appended: everything but its place in the stream and its hashes."""

    event_id: UUID = Field(default_factory=new_event_id, description="UUIDv7, unique forever")
    event_type: str = Field(description="The domain event's class name, e.g. RequestSubmitted")
    schema_version: int = Field(ge=1, description="Version of the payload's shape")
    occurred_at: AwareDatetime = Field(
        default_factory=utc_now, description="When it happened (UTC)"
    )
    actor: Actor = Field(description="Who caused it")
    tenant: str = Field(default="katingan", description="The regency this event belongs to")
    correlation_id: UUID = Field(description="The id shared by every event of one user intent")
    causation_id: UUID | None = Field(
        default=None, description="The event or command that caused it"
    )
    payload: dict[str, Any] = Field(description="The domain event's fields as JSON")

    @field_validator("occurred_at")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    @classmethod
    def of(cls, event: DomainEvent, **context: Any) -> "NewEvent":
        """``event`` about to be appended: its type, version and fields, with ``context`` (the
        actor, tenant and correlation id; optionally occurred_at, causation_id, event_id)."""
        return cls(
            event_type=event.event_type(),
            schema_version=event.schema_version,
            payload=event.model_dump(mode="json"),
            **context,
        )


class Envelope(NewEvent):
    """A stored event: a new event placed in its stream and chained to its predecessor."""

    stream_id: str = Field(description="The stream (the request id, or a user/OPD id for identity)")
    stream_version: int = Field(ge=1, description="1 for the stream's first event, then +1 each")
    prev_hash: str = Field(description="The hash of the stream's previous event, or 64 zeros")
    hash: str = Field(description="SHA-256 over prev_hash and the canonical JSON of this event")
