"""The audit replay's fresh schema on the real PostgreSQL: filled without its keys, which are
built again afterwards and refuse a row written twice, by workers that encode timestamps
themselves."""

import datetime as dt
from collections.abc import AsyncIterator
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from infra.db import create_pool
from infra.settings import Settings
from services.reporting.replay import (
    LOAD_TABLES,
    ReplayFailed,
    build_keys,
    prepare_for_load,
)
from services.reporting.replay_worker import copying_connection
from tests.integration.conftest import MigrateReporting

CONSTRAINTS = (
    "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
    "WHERE connamespace = $1::regnamespace AND contype IN ('p', 'u', 'f') ORDER BY 1, 2"
)


@pytest.fixture
async def fresh(
    owner_settings: Settings, unique_name: str, migrate_reporting: MigrateReporting
) -> AsyncIterator[tuple[asyncpg.Pool, str]]:
    await migrate_reporting(unique_name)
    pool = await create_pool(owner_settings.database_url, min_size=1, max_size=len(LOAD_TABLES))
    yield pool, unique_name
    await pool.execute(f"DROP SCHEMA {unique_name} CASCADE")
    await pool.close()


async def test_the_keys_dropped_for_the_load_are_built_again_as_they_were(
    fresh: tuple[asyncpg.Pool, str],
) -> None:
    pool, schema = fresh
    migrated = await pool.fetch(CONSTRAINTS, schema)

    deferred = await prepare_for_load(pool, schema)
    during = await pool.fetch(CONSTRAINTS, schema)
    await build_keys(pool, deferred)

    loaded = {f"{schema}.{table}" for table in LOAD_TABLES}
    assert {r[0] for r in migrated} >= loaded  # every table has its key
    assert not [r for r in during if r[0] in loaded]
    assert await pool.fetch(CONSTRAINTS, schema) == migrated
    assert {name for name, _ in deferred.indexes} >= {"case_events_request", "notices_request"}


async def test_a_row_written_twice_fails_the_replay_naming_its_key(
    fresh: tuple[asyncpg.Pool, str],
) -> None:
    pool, schema = fresh
    deferred = await prepare_for_load(pool, schema)
    for _ in range(2):
        await pool.execute(
            f"INSERT INTO {schema}.request_sla (request_id, outcome, waiting_minutes) "
            "VALUES ('r-1', 'OPEN', 0)"
        )

    with pytest.raises(ReplayFailed, match=r"two rows with one key: Key \(request_id\)=\(r-1\)"):
        await build_keys(pool, deferred)


async def test_the_workers_timestamps_reach_postgresql_as_the_same_instants(
    fresh: tuple[asyncpg.Pool, str], owner_settings: Settings
) -> None:
    pool, schema = fresh
    instants = [
        dt.datetime(2024, 1, 8, 1, 0, 0, 123456, tzinfo=dt.UTC),
        dt.datetime(2024, 1, 8, 14, 14, tzinfo=ZoneInfo("Asia/Jakarta")),
        dt.datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
    ]
    await pool.execute(f"CREATE TABLE {schema}.instants (n int, at timestamptz)")
    conn = await copying_connection(owner_settings.database_url)
    try:
        await conn.copy_records_to_table(
            "instants", schema_name=schema, records=list(enumerate(instants))
        )
        assert await conn.fetchval(f"SELECT at FROM {schema}.instants WHERE n = 1") == instants[1]
    finally:
        await conn.close()

    stored = await pool.fetch(f"SELECT at FROM {schema}.instants ORDER BY n")
    assert [r["at"] for r in stored] == instants
