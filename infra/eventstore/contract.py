"""What every event store does. ``PostgresEventStore`` and ``InMemoryEventStore`` pass the same
contract tests (``tests/contract/eventstore_contract.py``)."""

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import NamedTuple

from events.canonical import chain_hash, hashed_content
from events.envelope import GENESIS_HASH, Envelope, NewEvent


class Position(NamedTuple):
    """A place in the store's total order: the writing transaction's id, then the row's number.
    Followers that resume after a position never skip an event committed later."""

    txid: int
    position: int


START = Position(0, 0)


class StoredEvent(NamedTuple):
    position: Position
    envelope: Envelope


def seal(stream_id: str, version: int, prev_hash: str, event: NewEvent) -> Envelope:
    """Place ``event`` at ``version`` of ``stream_id`` and chain it to ``prev_hash``."""
    unsealed = Envelope(
        **event.model_dump(),
        stream_id=stream_id,
        stream_version=version,
        prev_hash=prev_hash,
        hash=GENESIS_HASH,
    )
    return unsealed.model_copy(update={"hash": chain_hash(prev_hash, hashed_content(unsealed))})


def seal_all(
    stream_id: str, version: int, prev_hash: str, events: Sequence[NewEvent]
) -> list[Envelope]:
    sealed = []
    for event in events:
        version += 1
        envelope = seal(stream_id, version, prev_hash, event)
        prev_hash = envelope.hash
        sealed.append(envelope)
    return sealed


class EventStore(ABC):
    @abstractmethod
    async def append(
        self, stream_id: str, expected_version: int, events: Sequence[NewEvent]
    ) -> list[Envelope]:
        """Append ``events`` if the stream is at ``expected_version`` (0 = new stream),
        else raise ``ConcurrencyConflict`` and append nothing."""

    @abstractmethod
    async def read_stream(self, stream_id: str) -> list[Envelope]:
        """Every event of the stream, in version order; empty if it does not exist."""

    @abstractmethod
    async def read_all(self, after: Position = START, limit: int = 1000) -> list[StoredEvent]:
        """Committed events after ``after``, in an order that never changes behind a reader."""
