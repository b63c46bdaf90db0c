"""PostgreSQL and Kafka restarted under a running relay and a running service: nothing is lost,
nothing is done twice, and a call made while the database is down is refused with a clear 503.

These tests stop and start the servers, so they run on a stack of their own (never the session's,
nor servers named by the environment)."""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest

from devstack.kafka import KafkaBroker
from devstack.postgres import PostgresServer
from devstack.services import migrate as migrate_databases
from devstack.stack import Endpoints, Stack
from devstack.throwaway import throwaway_stack
from infra.auth import TokenIssuer, development_keys
from infra.db import DATABASE_UNAVAILABLE, create_pool
from infra.eventstore import PostgresEventStore
from infra.eventstore.errors import ConcurrencyConflict
from infra.http import RETRY_AFTER_SECONDS
from infra.kafka import ensure_topics, reliable_producer
from infra.kafka_acl import ADMIN
from infra.migrations import migrate
from infra.relay import OutboxRelay
from infra.settings import Settings
from tests.contract.eventstore_contract import new_event
from tests.kafka_helpers import eventually, read_topic
from tests.sample_request import A_REQUEST, REQUESTER
from tests.service_apps import service_app


@pytest.fixture(scope="module")
def own_stack() -> Iterator[Stack]:
    """A Kafka and a PostgreSQL for this module alone, migrated by the owner."""
    with pytest.MonkeyPatch.context() as env:
        env.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
        env.delenv("DATABASE_URL", raising=False)
        with throwaway_stack("restarts") as stack:
            migrate_databases(stack.up(), stack.data_dir)
            yield stack


@pytest.fixture(scope="module")
def own_settings(own_stack: Stack) -> Settings:
    """A service's: where PostgreSQL is, no owner (``owner_url`` is the owner's)."""
    assert own_stack.kafka is not None and own_stack.postgres is not None
    endpoints = Endpoints(own_stack.kafka.bootstrap_servers, own_stack.postgres.url)
    return Settings(
        environment="development",
        database_url=endpoints.database_location,
        kafka_bootstrap_servers=endpoints.kafka_bootstrap_servers,
        log_format="console",
    )


def owner_url(stack: Stack) -> str:
    assert stack.postgres is not None
    return stack.postgres.url


async def restart(
    server: PostgresServer | KafkaBroker | None, down_for: float, crash: bool = False
) -> None:
    """Stop ``server`` (cleanly, or as a crash would), wait, start it again."""
    assert server is not None
    await asyncio.to_thread(server.crash if crash else server.stop)
    await asyncio.sleep(down_for)
    await asyncio.to_thread(server.start)


class Writer:
    """Appends events to a few streams without pause, trying again (later) whatever the
    database says; the event store is the judge of what was stored."""

    def __init__(self, store: PostgresEventStore) -> None:
        self.store = store
        self.versions = {f"s{n}": 0 for n in range(4)}
        self.refused = 0
        self.stop = asyncio.Event()

    async def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            stream = f"s{n % 4}"
            try:
                await self.store.append(stream, self.versions[stream], [new_event(n)])
                self.versions[stream] += 1
                n += 1
            except ConcurrencyConflict:  # committed, though the answer was lost: go on after it
                self.versions[stream] = await self._version(stream)
                n += 1
            except DATABASE_UNAVAILABLE:
                self.refused += 1
                await asyncio.sleep(0.2)
            await asyncio.sleep(0.01)

    async def _version(self, stream: str) -> int:
        version: int = await self.store.pool.fetchval(
            f"SELECT coalesce(max(stream_version), 0) FROM {self.store.schema}.events "
            "WHERE stream_id = $1",
            stream,
        )
        return version

    async def appended(self, count: int) -> None:
        """Wait until ``count`` more events are stored."""
        target = sum(self.versions.values()) + count

        async def enough() -> bool:
            return sum(self.versions.values()) >= target

        assert await eventually(enough, timeout=60), "the writer did not resume"


@pytest.mark.parametrize("crash", [False, True], ids=["stopped", "crashed"])
async def test_the_relay_publishes_every_event_across_database_and_broker_restarts(
    own_stack: Stack, own_settings: Settings, crash: bool
) -> None:
    """A relay runs while events are appended; PostgreSQL is restarted, then Kafka (each stopped
    cleanly, or killed as a crash would). Every stored event reaches the topic (at least once,
    in stream order), and the relay never stops."""
    s, schema = own_settings, "t" + uuid.uuid4().hex[:12]
    await migrate(owner_url(own_stack), schema, s.app_role(schema), s.app_db_password)
    pool = await create_pool(s.app_url(schema), max_size=6)
    topic = f"test.{schema}.events"
    await ensure_topics(s.kafka_login(ADMIN), [topic])
    producer = reliable_producer(s.kafka_login(ADMIN), "restart-test")
    await producer.start()
    store = PostgresEventStore(pool, schema)
    stop = asyncio.Event()
    relay = asyncio.create_task(OutboxRelay(store, producer, topic, 50, 0.05).run(stop))
    writer = Writer(store)
    writing = asyncio.create_task(writer.run())
    try:
        await writer.appended(40)
        await restart(own_stack.postgres, down_for=2, crash=crash)
        await writer.appended(40)
        assert writer.refused > 0  # the outage was seen
        await restart(own_stack.kafka, down_for=2, crash=crash)
        await writer.appended(40)
        assert not relay.done(), relay.exception() if relay.done() else None
    finally:
        writer.stop.set()
        await writing

    stored = await pool.fetch(
        f"SELECT event_id::text AS id, stream_id, stream_version FROM {schema}.events"
    )

    async def published() -> list[dict[str, object]]:
        records = await read_topic(s.kafka_login(ADMIN), topic, len(stored), timeout=10)
        return [json.loads(r.value) for r in records]

    async def all_there() -> bool:
        return {e["event_id"] for e in await published()} >= {r["id"] for r in stored}

    assert await eventually(all_there, timeout=90), "an event never reached Kafka"
    assert not relay.done()
    stop.set()
    await relay
    await producer.stop()

    envelopes = await published()
    assert {e["event_id"] for e in envelopes} == {r["id"] for r in stored}
    first: dict[object, list[object]] = {}
    seen: set[object] = set()
    for e in envelopes:  # a re-published batch repeats events; their first copies are in order
        if e["event_id"] not in seen:
            seen.add(e["event_id"])
            first.setdefault(e["stream_id"], []).append(e["stream_version"])
    assert all(versions == sorted(versions) for versions in first.values())
    assert sum(map(len, first.values())) == len(stored)
    await pool.close()


@asynccontextmanager
async def running(service: str, settings: Settings, keys: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The service in this process (its relay and consumers too), and a client of its API."""
    app = service_app(service, keys, settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=f"http://{service}"
        ) as client,
    ):
        yield client


@pytest.fixture
async def intake(
    own_settings: Settings, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, TokenIssuer]]:
    private, _ = development_keys(tmp_path)
    async with running("intake", own_settings, tmp_path) as client:
        yield client, TokenIssuer(private)


async def test_a_call_while_the_database_is_down_is_a_503_and_works_once_it_is_back(
    own_stack: Stack,
    own_settings: Settings,
    intake: tuple[httpx.AsyncClient, TokenIssuer],
) -> None:
    client, issuer = intake
    auth = {"Authorization": f"Bearer {issuer.issue(REQUESTER)}"}
    assert own_stack.postgres is not None
    await asyncio.to_thread(own_stack.postgres.stop)
    try:
        down = await client.post("/requests", json=A_REQUEST, headers=auth)
        assert down.status_code == 503, down.text
        assert down.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
        assert "Basis data" in down.json()["message"]
        assert (await client.get("/health")).status_code == 503
    finally:
        await asyncio.to_thread(own_stack.postgres.start)

    async def submitted() -> httpx.Response | None:
        answer = await client.post("/requests", json=A_REQUEST, headers=auth)
        assert answer.status_code in (201, 503), answer.text  # a pooled connection may be stale
        return answer if answer.status_code == 201 else None

    created = await eventually(submitted, timeout=30)
    assert created is not None, "the service did not recover"
    request_id = created.json()["request_id"]
    assert (await client.get("/health")).status_code == 200

    # Exactly one request was stored, and the relay, interrupted too, publishes it.
    conn = await asyncpg.connect(owner_url(own_stack))
    try:
        stored = await conn.fetchval("SELECT count(*) FROM intake.events")
    finally:
        await conn.close()
    assert stored == 1
    records = await read_topic(own_settings.kafka_login(ADMIN), "jejak.intake.events", 1)
    assert [json.loads(r.value)["stream_id"] for r in records] == [request_id]


async def test_requests_reach_the_read_models_across_a_broker_restart(
    own_stack: Stack, own_settings: Settings, tmp_path: Path
) -> None:
    """intake and reporting run; Kafka is restarted between two submissions: both requests
    reach reporting's case list (intake's relay and reporting's consumer carry on)."""
    private, _ = development_keys(tmp_path)
    auth = {"Authorization": f"Bearer {TokenIssuer(private).issue(REQUESTER)}"}
    async with (
        running("intake", own_settings, tmp_path) as intake,
        running("reporting", own_settings, tmp_path) as reporting,
    ):

        async def listed() -> set[str]:
            answer = await reporting.get("/cases", params={"limit": 500}, headers=auth)
            assert answer.status_code == 200, answer.text
            return {c["request_id"] for c in answer.json()["items"]}

        first = await intake.post("/requests", json=A_REQUEST, headers=auth)
        assert first.status_code == 201, first.text
        before = first.json()["request_id"]
        assert await eventually(lambda: _has(listed, before), timeout=60)
        await restart(own_stack.kafka, down_for=2)
        second = await intake.post("/requests", json=A_REQUEST, headers=auth)
        assert second.status_code == 201, second.text
        after = second.json()["request_id"]
        assert await eventually(lambda: _has(listed, after), timeout=90), "lost after restart"
        assert before in await listed()


async def _has(listed: Callable[[], Awaitable[set[str]]], request_id: str) -> bool:
    return request_id in await listed()
