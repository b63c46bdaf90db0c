"""An in-memory event store for fast unit tests of handlers; same contract as PostgreSQL."""

from collections.abc import Sequence

from events.envelope import GENESIS_HASH, Envelope, NewEvent
from infra.eventstore.contract import START, EventStore, Position, StoredEvent, seal_all
from infra.eventstore.errors import ConcurrencyConflict, DuplicateEvent


class InMemoryEventStore(EventStore):
    def __init__(self) -> None:
        self._streams: dict[str, list[Envelope]] = {}
        self._all: list[StoredEvent] = []

    async def append(
        self, stream_id: str, expected_version: int, events: Sequence[NewEvent]
    ) -> list[Envelope]:
        stream = self._streams.get(stream_id, [])
        if len(stream) != expected_version:
            raise ConcurrencyConflict(stream_id, expected_version, len(stream))
        if not events:
            return []
        known = {stored.envelope.event_id for stored in self._all}
        if any(event.event_id in known for event in events):
            raise DuplicateEvent(str(events[0].event_id))
        prev_hash = stream[-1].hash if stream else GENESIS_HASH
        sealed = seal_all(stream_id, expected_version, prev_hash, events)
        self._streams[stream_id] = [*stream, *sealed]
        for envelope in sealed:
            n = len(self._all) + 1
            self._all.append(StoredEvent(Position(n, n), envelope))
        return sealed

    async def read_stream(self, stream_id: str) -> list[Envelope]:
        return list(self._streams.get(stream_id, []))

    async def read_all(self, after: Position = START, limit: int = 1000) -> list[StoredEvent]:
        return [stored for stored in self._all if stored.position > after][:limit]
