"""What each role that ``python -m infra.migrate_all`` makes may do, on the session's database
(migrated by the owner, as ``make run`` and the cluster do): a service's role appends to its own
event store and cannot alter or remove an event, reach another service's schema, or change any
schema; the inspectors' role only reads the event stores and the documents."""

from collections.abc import AsyncIterator

import asyncpg
import pytest

from devstack.services import auditor_url
from events.topics import SERVICES
from infra.auditor_role import AUDITED_TABLES
from infra.settings import Settings
from services.reporting.verify import verify_all

REFUSED = asyncpg.InsufficientPrivilegeError


@pytest.fixture(params=SERVICES)
async def service_conn(
    request: pytest.FixtureRequest, settings: Settings
) -> AsyncIterator[tuple[str, asyncpg.Connection]]:
    """A connection as a service's own role, as the service makes it (``Settings.app_url``)."""
    service = str(request.param)
    conn = await asyncpg.connect(settings.app_url(service))
    yield service, conn
    await conn.close()


async def refused(conn: asyncpg.Connection, sql: str) -> bool:
    try:
        await conn.execute(sql)
    except REFUSED:
        return True
    return False


async def test_a_service_role_cannot_update_or_delete_its_events(
    service_conn: tuple[str, asyncpg.Connection],
) -> None:
    service, conn = service_conn
    assert await conn.fetchval("SELECT current_user") == f"jejak_app_{service}"
    await conn.fetchval(f"SELECT count(*) FROM {service}.events")  # it reads them
    for sql in (
        f"UPDATE {service}.events SET payload = payload",
        f"DELETE FROM {service}.events",
        f"TRUNCATE {service}.events",
    ):
        assert await refused(conn, sql), sql


async def test_a_service_role_cannot_read_or_write_another_services_schema(
    service_conn: tuple[str, asyncpg.Connection],
) -> None:
    service, conn = service_conn
    for other in SERVICES:
        if other == service:
            continue
        assert await refused(conn, f"SELECT 1 FROM {other}.events LIMIT 1"), other
        assert await refused(conn, f"INSERT INTO {other}.events DEFAULT VALUES"), other
        assert await refused(conn, f"SELECT 1 FROM {other}.idempotency_keys LIMIT 1"), other


async def test_a_service_role_cannot_create_anything_or_change_a_schema(
    service_conn: tuple[str, asyncpg.Connection],
) -> None:
    service, conn = service_conn
    for sql in (
        f"CREATE TABLE {service}.smuggled (n int)",
        "CREATE TABLE public.smuggled (n int)",
        f"CREATE SCHEMA smuggled_{service}",
        f"CREATE FUNCTION {service}.smuggled() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        f"ALTER TABLE {service}.events ADD COLUMN smuggled int",
        f"ALTER TABLE {service}.events DISABLE TRIGGER ALL",
        f"DROP TABLE {service}.events",
        f"CREATE INDEX smuggled ON {service}.events (stream_id)",
        f'CREATE ROLE "smuggled_{service}"',
        f"CREATE DATABASE smuggled_{service}",
    ):
        assert await refused(conn, sql), sql


async def test_the_auditor_reads_what_the_inspectors_check_and_nothing_else(
    settings: Settings,
) -> None:
    conn = await asyncpg.connect(auditor_url(settings.database_url))
    try:
        assert await conn.fetchval("SELECT current_user") == "jejak_auditor"
        for table in AUDITED_TABLES:
            await conn.fetchval(f"SELECT count(*) FROM {table}")
        for sql in (
            "SELECT 1 FROM identity.credentials",
            "SELECT 1 FROM intake.webhook_signatures",
            "INSERT INTO intake.events DEFAULT VALUES",
            "UPDATE dev_tracking.events SET payload = payload",
            "DELETE FROM documents.document_files",
            "CREATE TABLE reporting.smuggled (n int)",
        ):
            assert await refused(conn, sql), sql
    finally:
        await conn.close()
    reports = await verify_all(auditor_url(settings.database_url), None)
    assert [r.source for r in reports] == [f"store {s}" for s in SERVICES]
    assert not [r for r in reports if r.missing]
