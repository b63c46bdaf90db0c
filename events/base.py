"""The bases of every domain event payload and of the value objects inside them."""

from typing import ClassVar

from pydantic import BaseModel, ConfigDict


class DomainEvent(BaseModel):
    """A fact that happened, named in the past tense. Frozen; unknown fields are refused.

    ``event_type`` is the class name; ``schema_version`` rises whenever the payload's shape changes,
    and an upcaster registered in ``events.registry`` lifts older payloads to the current shape.
    The payload is what travels in ``Envelope.payload``; who, when and which stream live in the
    envelope, not here.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: ClassVar[int] = 1

    @classmethod
    def event_type(cls) -> str:
        """The name under which this event is stored and published: the class name."""
        return cls.__name__


class ValueObject(BaseModel):
    """A part of an event payload with no identity of its own (a letter, an attachment, ...).

    Frozen and strict about unknown fields, like the events that carry it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
