"""Fixtures of the integration tests."""

import asyncpg
import pytest

from infra.settings import Settings


@pytest.fixture
async def effects(owner_conn: asyncpg.Connection, schema: str, settings: Settings) -> str:
    """A table where the test handler's effect shows: one row per handled event."""
    table = f"{schema}.effects"
    await owner_conn.execute(f"CREATE TABLE {table} (event_id uuid, n int)")
    await owner_conn.execute(f"GRANT SELECT, INSERT ON {table} TO {settings.app_role(schema)}")
    return table
