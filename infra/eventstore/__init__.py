"""The event store: append with optimistic concurrency and a hash chain per stream; read a
stream; read everything after a position in a gap-free order."""

from infra.eventstore.contract import EventStore, Position, StoredEvent
from infra.eventstore.errors import ConcurrencyConflict, StreamOrderConflict
from infra.eventstore.memory import InMemoryEventStore
from infra.eventstore.postgres import PostgresEventStore
from infra.eventstore.verify import BrokenLink, verify_chain

__all__ = [
    "BrokenLink",
    "ConcurrencyConflict",
    "EventStore",
    "InMemoryEventStore",
    "Position",
    "PostgresEventStore",
    "StoredEvent",
    "StreamOrderConflict",
    "verify_chain",
]
