"""Prometheus metrics (prometheus-client) of every service process, served at ``/metrics``.

``Metrics`` wraps each service's ASGI app where every app is run (``infra.serve.run_app``): it
answers ``GET /metrics`` itself and counts and times every other HTTP request by its route's
template (``/requests/{request_id}``, never the raw path; the time is to the response's start,
so a Server-Sent Events stream counts its first byte, not its life). The other series are moved
where they happen: the outbox backlog and the relay lag by ``ServiceRuntime`` (read every few
seconds), open SSE streams by reporting's notice stream, documents by documents' issuer.
Consumer lag is Kafka's to tell: Strimzi's Kafka Exporter, which the Helm chart turns on."""

import asyncio
import time
from contextlib import suppress

import asyncpg
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infra.db import DATABASE_FAILURES

HTTP_REQUESTS = Counter(
    "jejak_http_requests",
    "HTTP requests answered, by route template and status",
    ["service", "method", "route", "status"],
)
HTTP_SECONDS = Histogram(
    "jejak_http_request_duration_seconds",
    "Time from a request's arrival to its response's start",
    ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
OUTBOX_BACKLOG = Gauge(
    "jejak_outbox_backlog_events", "Stored events the relay has not published yet", ["service"]
)
RELAY_LAG = Gauge(
    "jejak_relay_lag_seconds", "How long the oldest unpublished event has waited", ["service"]
)
SSE_CONNECTIONS = Gauge("jejak_sse_connections", "Open Server-Sent Events streams", ["service"])
DOCUMENTS = Counter(
    "jejak_documents", "Documents rendered and signed, or failed, by kind", ["kind", "outcome"]
)

UNMATCHED = "unmatched"
"""The route label of a request no route took (a 404): one series, whatever the path."""


class Metrics:
    """``app`` with ``GET /metrics`` and its HTTP requests counted and timed."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, root = scope["path"], scope.get("root_path", "")
        if (path.removeprefix(root) if root else path) == "/metrics":
            await self._expose(send)
            return
        started = time.perf_counter()
        status = 500

        async def timed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                HTTP_SECONDS.labels(self.service, scope["method"], _route(scope)).observe(
                    time.perf_counter() - started
                )
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            HTTP_REQUESTS.labels(self.service, scope["method"], _route(scope), str(status)).inc()

    async def _expose(self, send: Send) -> None:
        body = generate_latest(REGISTRY)
        headers = [(b"content-type", CONTENT_TYPE_LATEST.encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _route(scope: Scope) -> str:
    """The template of the route the router chose (set in the scope it passed on)."""
    return str(getattr(scope.get("route"), "path", UNMATCHED))


def backlog_sql(schema: str) -> str:
    """How many stored events lie beyond the relay's position, and the oldest one's age."""
    return (
        "SELECT count(*) AS events, coalesce(extract(epoch FROM clock_timestamp() - "
        "min(e.recorded_at)), 0)::float8 AS lag "
        f"FROM {schema}.events e JOIN {schema}.relay_position r "
        "ON (e.txid, e.position) > (r.txid, r.position)"
    )


async def watch_outbox(
    pool: asyncpg.Pool, schema: str, stop: asyncio.Event, interval: float = 5.0
) -> None:
    """Keep ``OUTBOX_BACKLOG`` and ``RELAY_LAG`` of ``schema`` current until ``stop``; a
    database away leaves the last reading in place."""
    sql = backlog_sql(schema)
    while not stop.is_set():
        with suppress(*DATABASE_FAILURES):
            row = await pool.fetchrow(sql)
            assert row is not None
            OUTBOX_BACKLOG.labels(schema).set(row["events"])
            RELAY_LAG.labels(schema).set(row["lag"])
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
