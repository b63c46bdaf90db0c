import uuid

import asyncpg

from events.catalog import default_registry
from events.dev_tracking import ProgressReported
from events.envelope import Actor, NewEvent
from infra.eventstore import PostgresEventStore, verify_chain


async def test_an_event_stored_under_schema_v1_loads_as_the_current_model(
    app_pool: asyncpg.Pool, schema: str
) -> None:
    store = PostgresEventStore(app_pool, schema)
    old = NewEvent(
        event_type="ProgressReported",
        schema_version=1,
        actor=Actor(user_id="dev-1", role="TIM_PENGEMBANG"),
        correlation_id=uuid.uuid4(),
        payload={"request_id": "REQ-2023-0001", "percent": 40},  # v1 had no note
    )
    await store.append("REQ-2023-0001", 0, [old])

    [stored] = await store.read_stream("REQ-2023-0001")
    loaded = default_registry().load(stored.event_type, stored.schema_version, stored.payload)

    assert isinstance(loaded, ProgressReported)
    assert (loaded.percent, loaded.note) == (40, "-")
    assert stored.payload == {"request_id": "REQ-2023-0001", "percent": 40}  # history unchanged
    assert verify_chain([stored]) is None
