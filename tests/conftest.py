"""The real stack for the whole test session: a throwaway Kafka and PostgreSQL (or the ones that
KAFKA_BOOTSTRAP_SERVERS and DATABASE_URL name), migrated once by the owner; services started by
the tests get ``settings``, which hold no owner (``owner_settings`` are the owner's)."""

import os
import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
import structlog
from structlog.testing import capture_logs

from devstack.services import migrate as migrate_databases
from devstack.stack import Endpoints
from devstack.throwaway import throwaway_stack
from infra import redelivery
from infra.db import create_pool
from infra.migrations import migrate
from infra.settings import Settings

os.environ["ENVIRONMENT"] = "development"
"""Every process the tests start (and every ``Settings()`` they build) runs in development: a
process never guesses (``infra.settings.EnvironmentNotSet``)."""


@pytest.fixture(scope="session")
def endpoints() -> Iterator[Endpoints]:
    """The servers, migrated once for the session by the owner (``devstack.services.migrate``,
    as ``make run`` and the cluster's Job), stopped at the end of the session (or, if the
    session is killed, by the next one: ``devstack.throwaway``)."""
    with throwaway_stack("test") as stack:
        endpoints = stack.up()
        migrate_databases(endpoints, stack.data_dir)
        yield endpoints


@pytest.fixture(scope="session")
def owner_settings(endpoints: Endpoints, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The database owner's: for what the migrations and an operator do (and a test that looks
    behind a service's back), never to start a service."""
    checkpoints = tmp_path_factory.mktemp("checkpoints") / "{service}.jsonl"
    return Settings(
        environment="development",
        database_url=endpoints.database_url,
        kafka_bootstrap_servers=endpoints.kafka_bootstrap_servers,
        log_format="console",
        checkpoint_file=str(checkpoints),
    )


@pytest.fixture(scope="session")
def settings(endpoints: Endpoints, owner_settings: Settings) -> Settings:
    """What a service is started with, as ``make run`` and the cluster start it: a DATABASE_URL
    that names no owner and no password (each service connects as its own role)."""
    return owner_settings.model_copy(update={"database_url": endpoints.database_location})


@pytest.fixture
def unique_name() -> str:
    return "t" + uuid.uuid4().hex[:12]


@pytest.fixture
async def schema(owner_settings: Settings, settings: Settings, unique_name: str) -> str:
    """A fresh service schema with the event store migrated, owned by a fresh app role."""
    await migrate(
        owner_settings.database_url,
        unique_name,
        settings.app_role(unique_name),
        settings.app_db_password,
    )
    return unique_name


@pytest.fixture
async def app_pool(settings: Settings, schema: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(settings.app_url(schema), max_size=12)
    yield pool
    await pool.close()


@pytest.fixture
async def owner_conn(owner_settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(owner_settings.database_url)
    yield conn
    await conn.close()


@pytest.fixture
def redelivery_logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, object]]]:
    """What ``infra.redelivery`` logs during the test. Its module logger gets a fresh proxy
    inside the capture: a logger used before may have cached the configuration it first saw
    (``cache_logger_on_first_use``), which the capture would not reach."""
    with capture_logs() as captured:
        monkeypatch.setattr(redelivery, "log", structlog.get_logger())
        yield captured
