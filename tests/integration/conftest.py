"""Fixtures of the integration tests."""

from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest

from infra.migrations import migrate
from infra.settings import Settings
from services.reporting import SQL_DIR

MigrateReporting = Callable[..., Awaitable[list[str]]]


@pytest.fixture
async def effects(owner_conn: asyncpg.Connection, schema: str, settings: Settings) -> str:
    """A table where the test handler's effect shows: one row per handled event."""
    table = f"{schema}.effects"
    await owner_conn.execute(f"CREATE TABLE {table} (event_id uuid, n int)")
    await owner_conn.execute(f"GRANT SELECT, INSERT ON {table} TO {settings.app_role(schema)}")
    return table


@pytest.fixture
def migrate_reporting(settings: Settings, owner_settings: Settings) -> MigrateReporting:
    """``await migrate_reporting(schema, sql=SQL_DIR)``: ``schema`` migrated with reporting's SQL
    (or the files in ``sql``), owned by its app role; returns the files applied now."""

    async def apply(schema: str, sql: Path = SQL_DIR) -> list[str]:
        role = settings.app_role(schema)
        owner = owner_settings.database_url
        return await migrate(owner, schema, role, settings.app_db_password, sql)

    return apply
