"""A signed checkpoint of a service's event store: the heads of its streams, signed (Ed25519) by
the service, published on its topic and to an append-only file (``infra.checkpoints``), checked
by ``jejak audit verify`` (``services.reporting.checkpoint_audit``).

Checkpoint n carries the heads that changed since checkpoint n-1 (``heads``); folding the heads
of checkpoints 1..n gives every stream's head it covers, whose Merkle root (``events.merkle``)
is ``root``, ``streams`` of them, ``events`` events in all (the sum of their versions).
``previous`` is the SHA-256 of checkpoint n-1's signed bytes, so none can be left out unseen.

The signed bytes are the canonical JSON (``events.canonical``) of the checkpoint without its
``signature``; the signature is Ed25519 over them, as hex; ``key_id`` names the public key
(``infra.checkpoint_keys.key_id``).

On Kafka a checkpoint is a record of the service's topic (after the events it covers: it is
published once they are acked) keyed ``CHECKPOINT_KEY``, with the header ``record:
checkpoint``, whose value is the checkpoint's JSON. It is no event: every consumer skips it
(``is_checkpoint``).
"""

import hashlib
from collections.abc import Iterable
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from events.canonical import canonical_json

KIND: Literal["jejak.checkpoint/1"] = "jejak.checkpoint/1"
CHECKPOINT_HEADER = "record"
CHECKPOINT_HEADER_VALUE = b"checkpoint"
CHECKPOINT_KEY = b"jejak.checkpoint"
"""The Kafka key of every checkpoint record: a service's checkpoints share one partition."""
FIRST_PREVIOUS = "0" * 64
"""The ``previous`` of checkpoint 1."""


class Head(BaseModel):
    """A stream's last event as signed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stream_id: str = Field(description="The stream")
    version: int = Field(ge=1, description="Its last event's version (= its number of events)")
    hash: str = Field(description="Its last event's hash")


class Checkpoint(BaseModel):
    """What a service signs, every N events or T minutes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["jejak.checkpoint/1"] = Field(default=KIND, description="This format")
    service: str = Field(description="The service whose event store it covers")
    sequence: int = Field(ge=1, description="1 for the service's first checkpoint, then +1 each")
    previous: str = Field(description="SHA-256 (hex) of the previous checkpoint's signed bytes")
    signed_at: AwareDatetime = Field(description="When it was signed (UTC)")
    streams: int = Field(ge=0, description="How many streams it covers")
    events: int = Field(ge=0, description="How many events it covers (its heads' versions)")
    root: str = Field(description="The Merkle root over every covered stream's head (hex)")
    heads: tuple[Head, ...] = Field(description="The heads changed since the previous one")
    key_id: str = Field(description="The signing key's id")
    signature: str = Field(default="", description="Ed25519 over the signed bytes (hex)")

    def signed_bytes(self) -> bytes:
        return canonical_json(self.model_dump(mode="json", exclude={"signature"}))

    def digest(self) -> str:
        """What the next checkpoint names as ``previous``."""
        return hashlib.sha256(self.signed_bytes()).hexdigest()


def is_checkpoint(headers: Iterable[tuple[str, bytes]] | None) -> bool:
    """Whether a Kafka record with these headers is a checkpoint (and no event)."""
    return any(
        name == CHECKPOINT_HEADER and value == CHECKPOINT_HEADER_VALUE
        for name, value in headers or ()
    )
