import asyncio

import asyncpg
import pytest

from infra.eventstore import EventStore, PostgresEventStore, verify_chain
from infra.eventstore.errors import ConcurrencyConflict, StreamOrderConflict
from tests.contract.eventstore_contract import EventStoreContract, new_event


class TestPostgresEventStore(EventStoreContract):
    @pytest.fixture
    def store(self, app_pool: asyncpg.Pool, schema: str) -> EventStore:
        return PostgresEventStore(app_pool, schema)


@pytest.fixture
def pg_store(app_pool: asyncpg.Pool, schema: str) -> PostgresEventStore:
    return PostgresEventStore(app_pool, schema)


async def test_racing_writers_one_wins_the_other_conflicts(pg_store: PostgresEventStore) -> None:
    await pg_store.append("req-1", 0, [new_event(0)])
    results = await asyncio.gather(
        *(pg_store.append("req-1", 1, [new_event(i)]) for i in range(8)), return_exceptions=True
    )
    winners = [r for r in results if not isinstance(r, Exception)]
    assert len(winners) == 1
    assert len(await pg_store.read_stream("req-1")) == 2


async def test_app_role_cannot_update_or_delete_events(
    pg_store: PostgresEventStore, app_pool: asyncpg.Pool, schema: str
) -> None:
    await pg_store.append("req-1", 0, [new_event(1)])
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await app_pool.execute(f"UPDATE {schema}.events SET payload = '{{}}'::json")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await app_pool.execute(f"DELETE FROM {schema}.events")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await app_pool.execute(f"TRUNCATE {schema}.events")
    assert len(await pg_store.read_stream("req-1")) == 1


async def test_verification_catches_a_row_edited_in_the_database(
    pg_store: PostgresEventStore, owner_conn: asyncpg.Connection, schema: str
) -> None:
    await pg_store.append("req-1", 0, [new_event(1), new_event(2), new_event(3)])
    await owner_conn.execute(
        f"UPDATE {schema}.events SET payload = jsonb_set(payload::jsonb, '{{n}}', '7')::json "
        "WHERE stream_id = 'req-1' AND stream_version = 2"
    )
    broken = verify_chain(await pg_store.read_stream("req-1"))
    assert broken is not None
    assert (broken.stream_id, broken.stream_version) == ("req-1", 2)


async def test_append_joins_the_callers_transaction(
    pg_store: PostgresEventStore, app_pool: asyncpg.Pool
) -> None:
    async with app_pool.acquire() as conn:
        with pytest.raises(RuntimeError):
            async with conn.transaction():
                await pg_store.append("req-1", 0, [new_event(1)], conn=conn)
                raise RuntimeError("crash between two steps")
    assert await pg_store.read_stream("req-1") == []


async def test_append_at_head_chains_after_whatever_the_stream_holds(
    pg_store: PostgresEventStore, app_pool: asyncpg.Pool
) -> None:
    await pg_store.append("req-h", 0, [new_event(1), new_event(2)])
    async with app_pool.acquire() as conn, conn.transaction():
        added = await pg_store.append_at_head("req-h", [new_event(3)], conn=conn)
        fresh = await pg_store.append_at_head("req-new", [new_event(4)], conn=conn)
    assert [e.stream_version for e in added] == [3]
    assert [e.stream_version for e in fresh] == [1]
    stream = await pg_store.read_stream("req-h")
    assert [e.stream_version for e in stream] == [1, 2, 3]
    assert stream[2].prev_hash == stream[1].hash
    assert verify_chain(stream) is None


async def test_read_all_holds_back_events_behind_an_open_transaction(
    pg_store: PostgresEventStore, app_pool: asyncpg.Pool
) -> None:
    async with app_pool.acquire() as slow:
        tx = slow.transaction()
        await tx.start()
        await pg_store.append("req-slow", 0, [new_event(1)], conn=slow)  # older txid, uncommitted
        await pg_store.append("req-fast", 0, [new_event(2)])  # newer txid, committed
        assert await pg_store.read_all() == []  # the fast one waits: nothing may be skipped
        await tx.commit()
    order = [s.envelope.stream_id for s in await pg_store.read_all()]
    assert order == ["req-slow", "req-fast"]


async def test_an_older_transaction_cannot_append_behind_a_newer_one(
    pg_store: PostgresEventStore, app_pool: asyncpg.Pool, schema: str
) -> None:
    async with app_pool.acquire() as old, old.transaction():
        await old.execute("SELECT pg_current_xact_id()")  # takes its txid now
        await pg_store.append("req-1", 0, [new_event(1)])  # a newer transaction commits
        with pytest.raises(StreamOrderConflict):
            await pg_store.append("req-1", 1, [new_event(2)], conn=old)
    await pg_store.append("req-1", 1, [new_event(2)])  # retried in a new transaction
    assert [e.stream_version for e in await pg_store.read_stream("req-1")] == [1, 2]


async def test_numbers_json_cannot_keep_exactly_still_verify(pg_store: PostgresEventStore) -> None:
    await pg_store.append("req-1", 0, [new_event(1, big=1.5e300, huge=1e16, negative_zero=-0.0)])
    [stored] = await pg_store.read_stream("req-1")
    assert stored.payload["big"] == 1.5e300
    assert verify_chain([stored]) is None


async def test_a_second_process_appending_makes_a_remembered_head_a_conflict(
    pg_store: PostgresEventStore, app_pool: asyncpg.Pool, schema: str
) -> None:
    other_process = PostgresEventStore(app_pool, schema)
    await pg_store.append("req-1", 0, [new_event(1)])  # pg_store remembers version 1
    await other_process.append("req-1", 1, [new_event(2)])
    with pytest.raises(ConcurrencyConflict):
        await pg_store.append("req-1", 1, [new_event(3)])
    await pg_store.append("req-1", 2, [new_event(3)])
    stream = await pg_store.read_stream("req-1")
    assert [e.payload["n"] for e in stream] == [1, 2, 3]
    assert verify_chain(stream) is None
