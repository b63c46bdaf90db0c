"""Migrations apart from the services, as the cluster runs them: ``infra.migrate_all`` with the
owner makes every schema and role in a fresh database; a service then starts with a connection
string that holds no owner, as its own role, which cannot alter its events."""

from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from events.topics import SERVICES
from infra.migrate_all import migrate_all
from infra.runtime import ServiceRuntime
from infra.settings import Settings


@pytest.fixture
async def database(owner_conn: asyncpg.Connection, unique_name: str) -> str:
    """A fresh database of the test server, by name."""
    await owner_conn.execute(f"CREATE DATABASE {unique_name}")
    return unique_name


def url_of(owner: Settings, database: str, *, with_owner: bool) -> str:
    parts = urlsplit(owner.database_url)
    netloc = parts.netloc if with_owner else parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=netloc, path=f"/{database}"))


async def test_a_service_runs_on_what_the_migrations_made_without_the_owner(
    settings: Settings, owner_settings: Settings, database: str
) -> None:
    owner = owner_settings.model_copy(
        update={"database_url": url_of(owner_settings, database, with_owner=True)}
    )
    applied = await migrate_all(owner)
    assert set(applied) == set(SERVICES)
    assert all(applied.values())
    assert all(not names for names in (await migrate_all(owner)).values())  # applied once

    service = settings.model_copy(
        update={"database_url": url_of(owner_settings, database, with_owner=False)}
    )
    assert "@" not in service.database_url
    async with ServiceRuntime("dev_tracking", service).running() as runtime:
        assert await runtime.healthy()
        async with runtime.pool.acquire() as conn:
            assert await conn.fetchval("SELECT current_user") == "jejak_app_dev_tracking"
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute("DELETE FROM dev_tracking.events")
