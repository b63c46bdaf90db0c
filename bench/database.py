"""Fresh, uniquely named database objects for one run, dropped afterwards."""

import asyncpg

from infra.migrations import migrate
from infra.settings import Settings


async def create_store_schema(settings: Settings, schema: str) -> None:
    """Our event store's schema, migrated as a service's would be, with its app role."""
    role, password = settings.app_role(schema), settings.app_db_password
    await migrate(settings.database_url, schema, role, password)


async def create_library_schema(settings: Settings, schema: str) -> None:
    """An empty schema for the ``eventsourcing`` recorder, which creates its own table there."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        await conn.execute(f"CREATE SCHEMA {schema}")
    finally:
        await conn.close()


async def checkpoint(settings: Settings) -> None:
    """Flush dirty pages now, so that no run pays for an earlier run's checkpoint. Needs a
    superuser (or pg_checkpoint); without one it is skipped."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        await conn.execute("CHECKPOINT")
    except asyncpg.InsufficientPrivilegeError:
        pass
    finally:
        await conn.close()


async def server_facts(settings: Settings) -> dict[str, str]:
    """The server's version and the settings that decide what a commit costs."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        facts = {"version": str(await conn.fetchval("SHOW server_version"))}
        for name in (
            "fsync",
            "synchronous_commit",
            "wal_sync_method",
            "full_page_writes",
            "shared_buffers",
            "commit_delay",
        ):
            facts[name] = str(await conn.fetchval(f"SHOW {name}"))
        return facts
    finally:
        await conn.close()


async def drop(settings: Settings, store_schema: str, library_schema: str) -> None:
    conn = await asyncpg.connect(settings.database_url)
    try:
        for schema in (store_schema, library_schema):
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await conn.execute(f'DROP ROLE IF EXISTS "{settings.app_role(store_schema)}"')
    finally:
        await conn.close()
