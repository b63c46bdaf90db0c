"""``/metrics`` of a real service (intake in-process over HTTP, on the real PostgreSQL and
Kafka, wrapped as ``infra.serve`` wraps every app): the HTTP counters move by route template and
status; the outbox backlog and the relay lag rise with an append and fall once it is published."""

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from prometheus_client import Gauge
from prometheus_client.parser import text_string_to_metric_families

from infra.auth import TokenIssuer, development_keys
from infra.eventstore import PostgresEventStore
from infra.metrics import OUTBOX_BACKLOG, RELAY_LAG, Metrics, watch_outbox
from infra.settings import Settings
from services.intake.bootstrap import create_app
from tests.contract.eventstore_contract import new_event
from tests.kafka_helpers import eventually
from tests.sample_request import A_REQUEST, REQUESTER

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture(scope="module")
async def intake(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    keys = tmp_path_factory.mktemp("keys")
    private, _ = development_keys(keys)
    app = create_app(settings.model_copy(update={"jwt_key_dir": str(keys)}))
    token = TokenIssuer(private).issue(REQUESTER)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=Metrics(app, "intake"))
        async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
            yield client, {"Authorization": f"Bearer {token}"}


async def scrape(client: httpx.AsyncClient) -> Samples:
    answer = await client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(answer.text)
        for s in family.samples
    }


def requests_of(samples: Samples, route: str, status: str) -> float:
    labels = (("method", "POST"), ("route", route), ("service", "intake"), ("status", status))
    return samples.get(("jejak_http_requests_total", labels), 0.0)


async def test_the_counters_move_as_the_service_works(
    intake: tuple[httpx.AsyncClient, dict[str, str]],
) -> None:
    client, auth = intake
    before = await scrape(client)
    for _ in range(2):
        key = {"Idempotency-Key": str(uuid.uuid4())}
        answer = await client.post("/requests", json=A_REQUEST, headers=auth | key)
        assert answer.status_code == 201, answer.text
    refused = await client.post(f"/requests/{uuid.uuid4()}/withdraw", headers=auth)
    assert refused.status_code >= 400
    assert (await client.get(f"/nowhere/{uuid.uuid4()}")).status_code == 404

    after = await scrape(client)
    assert requests_of(after, "/requests", "201") - requests_of(before, "/requests", "201") == 2
    withdraw = "/requests/{request_id}/withdraw"
    assert requests_of(after, withdraw, str(refused.status_code)) >= 1
    unmatched = (
        ("method", "GET"),
        ("route", "unmatched"),
        ("service", "intake"),
        ("status", "404"),
    )
    assert after[("jejak_http_requests_total", unmatched)] >= 1
    timed = (("method", "POST"), ("route", "/requests"), ("service", "intake"))
    count = after[("jejak_http_request_duration_seconds_count", timed)]
    assert count - before.get(("jejak_http_request_duration_seconds_count", timed), 0) == 2
    assert not any("/nowhere/" in str(labels) for _, labels in after)


async def test_the_outbox_backlog_rises_with_an_append_and_falls_once_published(
    app_pool: asyncpg.Pool, schema: str
) -> None:
    store = PostgresEventStore(app_pool, schema)
    await store.append("a-request", 0, [new_event(1), new_event(2)])
    stop = asyncio.Event()
    watcher = asyncio.create_task(watch_outbox(app_pool, schema, stop, interval=0.05))
    assert await eventually(lambda: _gauge(OUTBOX_BACKLOG, schema, 2.0))
    assert RELAY_LAG.labels(schema)._value.get() > 0
    await app_pool.execute(
        f"UPDATE {schema}.relay_position SET (txid, position) = "
        f"(SELECT txid, position FROM {schema}.events ORDER BY txid DESC, position DESC LIMIT 1)"
    )
    assert await eventually(lambda: _gauge(OUTBOX_BACKLOG, schema, 0.0))
    assert RELAY_LAG.labels(schema)._value.get() == 0
    stop.set()
    await watcher


async def _gauge(gauge: Gauge, schema: str, value: float) -> bool:
    return bool(gauge.labels(schema)._value.get() == value)
