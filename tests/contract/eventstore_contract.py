"""The event store contract: every implementation subclasses ``EventStoreContract``."""

import uuid

import pytest

from events.envelope import Actor, NewEvent
from infra.eventstore import ConcurrencyConflict, EventStore, verify_chain
from infra.eventstore.contract import START
from infra.eventstore.errors import DuplicateEvent

ACTOR = Actor(user_id="u-1", role="PEMOHON", opd="DINKES")


def new_event(n: int = 0, **payload: object) -> NewEvent:
    return NewEvent(
        event_type="ProgressReported",
        schema_version=1,
        actor=ACTOR,
        correlation_id=uuid.uuid4(),
        payload={"n": n, **payload},
    )


class EventStoreContract:
    @pytest.fixture
    def store(self) -> EventStore:
        raise NotImplementedError

    async def test_append_to_new_stream_then_read_it(self, store: EventStore) -> None:
        sealed = await store.append("req-1", 0, [new_event(1), new_event(2)])
        assert [e.stream_version for e in sealed] == [1, 2]
        read = await store.read_stream("req-1")
        assert read == sealed
        assert [e.payload["n"] for e in read] == [1, 2]

    async def test_stale_expected_version_is_a_conflict_and_appends_nothing(
        self, store: EventStore
    ) -> None:
        await store.append("req-1", 0, [new_event(1)])
        with pytest.raises(ConcurrencyConflict) as caught:
            await store.append("req-1", 0, [new_event(2)])
        assert caught.value.actual_version == 1
        assert caught.value.expected_version == 0
        assert "version 1, not 0" in str(caught.value)
        assert len(await store.read_stream("req-1")) == 1

    async def test_expected_version_ahead_of_stream_is_a_conflict(self, store: EventStore) -> None:
        with pytest.raises(ConcurrencyConflict):
            await store.append("req-1", 3, [new_event(1)])
        assert await store.read_stream("req-1") == []

    async def test_same_event_id_twice_is_refused(self, store: EventStore) -> None:
        event = new_event(1)
        await store.append("req-1", 0, [event])
        with pytest.raises(DuplicateEvent):
            await store.append("req-2", 0, [event])
        assert await store.read_stream("req-2") == []

    async def test_events_are_chained_by_hash(self, store: EventStore) -> None:
        await store.append("req-1", 0, [new_event(1)])
        await store.append("req-1", 1, [new_event(2), new_event(3)])
        stream = await store.read_stream("req-1")
        assert stream[1].prev_hash == stream[0].hash
        assert stream[2].prev_hash == stream[1].hash
        assert verify_chain(stream) is None

    async def test_chain_verification_names_the_altered_event(self, store: EventStore) -> None:
        await store.append("req-1", 0, [new_event(1), new_event(2), new_event(3)])
        stream = await store.read_stream("req-1")
        forged = stream[1].model_copy(update={"payload": {"n": 99}})
        broken = verify_chain([stream[0], forged, stream[2]])
        assert broken is not None
        assert broken.stream_version == 2
        assert "altered" in broken.reason

    async def test_read_all_pages_in_a_stable_order(self, store: EventStore) -> None:
        for i in range(5):
            await store.append(f"req-{i}", 0, [new_event(i)])
        first = await store.read_all(START, limit=3)
        rest = await store.read_all(first[-1].position, limit=10)
        ids = [s.envelope.payload["n"] for s in [*first, *rest]]
        assert ids == [0, 1, 2, 3, 4]

    async def test_empty_append_checks_version_only(self, store: EventStore) -> None:
        assert await store.append("req-1", 0, []) == []
        with pytest.raises(ConcurrencyConflict):
            await store.append("req-1", 1, [])
