"""A live notification stream survives the loss of reporting: a client that reconnects with
``Last-Event-ID`` (as a browser's EventSource does) gets every notice made while reporting was
away, once, and none it had before.

Reporting runs as its own process on the session's Kafka and PostgreSQL and is killed (SIGKILL,
as a crash) and started again; the client is httpx-sse, reconnecting on its own."""

import asyncio
import contextlib
import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from httpx_sse import aconnect_sse

from devstack.process import free_port
from devstack.services import ServiceProcess
from events.envelope import GENESIS_HASH, Envelope, NewEvent
from events.topics import Service, topic_for
from infra.auth import TokenIssuer, development_keys
from infra.eventstore.contract import seal_all
from infra.kafka import ensure_topics
from infra.kafka_acl import ADMIN
from infra.principal import Principal
from infra.settings import Settings
from tests.kafka_helpers import eventually
from tests.unit.test_reporting_casefile import _flow

OFFICIAL = Principal(
    user_id="u-kadis-kabid", name="Pejabat", roles=frozenset({"KADIS", "KABID_TI"})
)
"""Told of what waits on KADIS and on KABID_TI alike: most of steps 2 to 7."""


def _envelopes(rid: str) -> list[tuple[Service, Envelope]]:
    """The request's flow up to the Surat Tugas (steps 1 to 7), happening now, each service's
    events sealed in its own stream."""
    start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    steps = _flow(rid)[:9]
    news = [
        NewEvent.of(
            e, occurred_at=start + dt.timedelta(minutes=m), actor=a, correlation_id=uuid.uuid4()
        )
        for _, m, a, e in steps
    ]
    heads: dict[Service, list[NewEvent]] = {}
    for (service, *_), new in zip(steps, news, strict=True):
        heads.setdefault(service, []).append(new)
    sealed = {s: iter(seal_all(rid, 0, GENESIS_HASH, n)) for s, n in heads.items()}
    return [(service, next(sealed[service])) for service, *_ in steps]


class Client:
    """An SSE client of reporting's stream that reconnects with the last id it received."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.last_id: str | None = None
        self.connections = 0

    async def run(self) -> None:
        async with httpx.AsyncClient(timeout=httpx.Timeout(5, read=None)) as http:
            while True:
                headers = {"Authorization": f"Bearer {self.token}"}
                if self.last_id is not None:
                    headers["Last-Event-ID"] = self.last_id
                with contextlib.suppress(httpx.TransportError):
                    async with aconnect_sse(http, "GET", self.url, headers=headers) as source:
                        async for event in source.aiter_sse():
                            if event.event == "ready":
                                self.connections += 1
                            elif event.event == "notice":
                                self.received.append((event.id, json.loads(event.data)))
                            self.last_id = event.id or self.last_id
                await asyncio.sleep(0.3)

    def of(self, rid: str) -> list[tuple[str, str]]:
        """The request's ACTION notices: its SLA breaches depend on the hour the test runs (its
        events happened two hours ago: working time or not)."""
        return [
            (n["step"], n["event_id"])
            for _, n in self.received
            if n["request_id"] == rid and n["kind"] == "ACTION"
        ]


@pytest.fixture
async def reporting(settings: Settings, tmp_path: Path) -> AsyncIterator[ServiceProcess]:
    keys = tmp_path / "keys"
    port = free_port()
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "DATABASE_URL": settings.database_url,
        "SERVICE_NAME": "reporting",
        "HTTP_PORT": str(port),
        "JWT_KEY_DIR": str(keys),
        "LOG_FORMAT": "json",
        "ROOT_PATH": "",
    }
    process = ServiceProcess("reporting", port, tmp_path / "reporting.log", env)
    development_keys(keys)
    await asyncio.to_thread(process.start)
    try:
        yield process
    finally:
        if process.pid is not None:
            process.stop()


async def test_a_stream_resumes_after_reporting_restarts_with_every_notice_once(
    settings: Settings, reporting: ServiceProcess, tmp_path: Path
) -> None:
    private, _ = development_keys(tmp_path / "keys")
    client = Client(f"{reporting.url}/notifications/stream", TokenIssuer(private).issue(OFFICIAL))
    rid = str(uuid.uuid4())
    flow = _envelopes(rid)
    await ensure_topics(settings.kafka_login(ADMIN), {topic_for(s) for s, _ in flow})
    producer = AIOKafkaProducer(**settings.kafka_login(ADMIN).options(), acks="all")
    await producer.start()

    async def send(envelopes: list[tuple[Service, Envelope]]) -> None:
        for service, envelope in envelopes:
            value = envelope.model_dump_json().encode()
            await producer.send_and_wait(topic_for(service), value, key=rid.encode())

    def until(check: Callable[[], bool]) -> Awaitable[bool]:
        async def holds() -> bool:
            return check()

        return eventually(holds, timeout=60)

    reader = asyncio.create_task(client.run())
    try:
        assert await until(lambda: client.connections == 1)
        await send(flow[:3])  # submitted, received, disposed: KADIS twice, then KABID_TI
        assert await until(lambda: len(client.of(rid)) == 3)
        await asyncio.to_thread(reporting.kill)
        await send(flow[3:])  # returned ... assigned, while reporting is away
        await asyncio.sleep(1)
        assert len(client.of(rid)) == 3
        await asyncio.to_thread(reporting.start)
        expected = [  # the requester and the team are not this official
            ("RECEIVE", flow[0][1]),
            ("DISPOSE", flow[1][1]),
            ("VERIFY", flow[2][1]),
            ("VERIFY", flow[4][1]),  # revised: check again
            ("MEETING", flow[5][1]),
            ("SIGN_MINUTES", flow[6][1]),
            ("ASSIGN", flow[7][1]),
        ]
        want = [(step, str(envelope.event_id)) for step, envelope in expected]
        assert await until(lambda: len(client.of(rid)) >= len(want)), client.of(rid)
        await asyncio.sleep(1)  # nothing more comes, nothing twice
        assert client.of(rid) == want
        assert client.connections >= 2
        ids = [int(seq) for seq, _ in client.received]
        assert ids == sorted(set(ids))  # in seq order, none twice, across the reconnect
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        await producer.stop()
