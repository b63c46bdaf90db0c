"""A service process started while PostgreSQL or Kafka is away listens at once, answers 503
"not ready", keeps waiting (it does not exit), and serves once the server appears, without a
restart. The server "appears" by opening a loopback port forwarded to the session's real one
(``tests.tcp_forwarder``), the address the process was given when it started."""

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest

from devstack.services import ServiceProcess, migrate, service_processes, web_process
from devstack.stack import Endpoints
from infra.auth import TokenIssuer, development_keys
from infra.principal import Principal
from services.identity.demo import DEMO_PASSWORD
from tests.kafka_helpers import eventually
from tests.tcp_forwarder import Forwarder

NOT_READY_FOR = 2.0
"""How long the test keeps the server away once the process listens: several of the service's
tries (its backoff is capped at half a second below)."""


async def health(process: ServiceProcess) -> int:
    """/health's status code; the process must still be running (``is_ready`` raises if not)."""
    await asyncio.to_thread(process.is_ready)
    async with httpx.AsyncClient(timeout=2) as client:
        try:
            return (await client.get(f"{process.url}/health")).status_code
        except httpx.TransportError:
            return 0


async def comes_up(
    process: ServiceProcess, appear: Callable[[], Awaitable[object]], dependency: str
) -> None:
    """Launch ``process`` with its server away: it answers 503 and keeps running, saying in its
    log (one line a try, no stack trace) what it waits for; ``appear``: it gets ready."""
    process.launch()

    async def listening() -> bool:
        return await health(process) != 0

    assert await eventually(listening, timeout=60)
    answers = []
    deadline = asyncio.get_running_loop().time() + NOT_READY_FOR
    while asyncio.get_running_loop().time() < deadline:
        answers.append(await health(process))
        await asyncio.sleep(0.2)
    assert set(answers) == {503}, answers  # listening, not ready, still running
    await appear()

    async def ready() -> bool:
        return await health(process) == 200

    assert await eventually(ready, timeout=30)
    log = process.log.read_text()
    assert f'"dependency": "{dependency}", "attempt": 3' in log
    assert "Traceback" not in log


@pytest.fixture
async def waited(
    endpoints: Endpoints, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[ServiceProcess]:
    """``(name, dependency)``: service ``name`` started while ``dependency`` ("PostgreSQL" or
    "Kafka") is away, ready once it appeared (``comes_up``)."""
    name, dependency = request.param
    if dependency == "PostgreSQL":
        target = urlsplit(endpoints.database_url)
        forwarder = Forwarder(target.port or 5432)
        netloc = f"{target.username}@127.0.0.1:{forwarder.port}"
        given = replace(endpoints, database_url=target._replace(netloc=netloc).geturl())
    else:
        forwarder = Forwarder(int(endpoints.kafka_bootstrap_servers.rsplit(":", 1)[1]))
        given = replace(endpoints, kafka_bootstrap_servers=f"127.0.0.1:{forwarder.port}")
    process = next(p for p in service_processes(given, tmp_path) if p.name == name)
    process.env["STARTUP_MAX_BACKOFF_SECONDS"] = "0.5"
    try:
        await comes_up(process, forwarder.open, dependency)
        yield process
    finally:
        await asyncio.to_thread(process.stop)
        await forwarder.close()


@pytest.mark.parametrize("waited", [("identity", "PostgreSQL")], indirect=True)
async def test_a_service_started_before_postgresql_serves_once_it_appears(
    waited: ServiceProcess,
) -> None:
    async with httpx.AsyncClient(base_url=waited.url, timeout=10) as client:
        login = await client.post("/login", json={"username": "admin", "password": DEMO_PASSWORD})
    assert login.status_code == 200, login.text


@pytest.mark.parametrize("waited", [("intake", "Kafka")], indirect=True)
async def test_a_service_started_before_kafka_serves_once_it_appears(
    waited: ServiceProcess,
) -> None:
    private, _ = development_keys(Path(waited.env["JWT_KEY_DIR"]))
    requester = Principal("u-start-up", "Pemohon", frozenset({"PEMOHON"}), "dinkes")
    token = TokenIssuer(private).issue(requester)
    async with httpx.AsyncClient(base_url=waited.url, timeout=10) as client:
        listed = await client.get("/requests", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200, listed.text


def test_without_environment_no_process_starts(endpoints: Endpoints, tmp_path: Path) -> None:
    """``make run`` and the tests name development; a process not told refuses to start."""
    services = service_processes(endpoints, tmp_path)
    web = web_process(services, tmp_path)
    assert {p.env["ENVIRONMENT"] for p in (*services, web)} == {"development"}
    for process in (services[1], web):
        env = {**os.environ, **process.env}
        del env["ENVIRONMENT"]
        ended = subprocess.run(
            [sys.executable, "-m", f"services.{process.name}"],
            env=env,
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert ended.returncode != 0
        assert b"ENVIRONMENT is not set" in ended.stderr


async def test_a_service_started_before_its_database_is_created_serves_once_it_is(
    endpoints: Endpoints, owner_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    """PostgreSQL answers, but the database is not there yet (a server just initialised, as
    when a supervisor starts PostgreSQL and the services at once): the service waits too,
    until the database appears, migrated (made under another name, then renamed)."""
    database = f"late_{uuid.uuid4().hex[:8]}"
    url = urlsplit(endpoints.database_url)._replace(path=f"/{database}").geturl()
    given = replace(endpoints, database_url=url)
    process = next(p for p in service_processes(given, tmp_path) if p.name == "identity")
    process.env["STARTUP_MAX_BACKOFF_SECONDS"] = "0.5"

    async def created_and_migrated() -> None:
        making = f"{database}_making"
        await owner_conn.execute(f"CREATE DATABASE {making}")
        made = urlsplit(endpoints.database_url)._replace(path=f"/{making}").geturl()
        await asyncio.to_thread(migrate, replace(endpoints, database_url=made), tmp_path)
        await owner_conn.execute(f"ALTER DATABASE {making} RENAME TO {database}")

    try:
        await comes_up(process, created_and_migrated, "PostgreSQL")
        async with httpx.AsyncClient(base_url=process.url, timeout=10) as client:
            login = await client.post(
                "/login", json={"username": "admin", "password": DEMO_PASSWORD}
            )
        assert login.status_code == 200, login.text
    finally:
        await asyncio.to_thread(process.stop)
        await owner_conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
