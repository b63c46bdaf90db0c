import pytest

from infra.eventstore import EventStore, InMemoryEventStore
from tests.contract.eventstore_contract import EventStoreContract


class TestInMemoryEventStore(EventStoreContract):
    @pytest.fixture
    def store(self) -> EventStore:
        return InMemoryEventStore()
