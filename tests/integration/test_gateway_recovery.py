"""The gateway of ``make run`` answers 503 while a service's process is away and forwards to it
again once it is back on its port, without a restart of the gateway (a pooled connection to the
process that ended is not reused)."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from devstack.gateway import create_gateway
from devstack.process import free_port
from tests.kafka_helpers import eventually


async def health(_: Request) -> JSONResponse:
    return JSONResponse({"service": "intake", "ok": True})


@asynccontextmanager
async def service_on(port: int) -> AsyncIterator[None]:
    """A process's HTTP server on ``port`` for as long as the block runs."""
    app = Starlette(routes=[Route("/health", health)])
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="off", ws="none", log_level="warning"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())

    async def listening() -> bool:
        return server.started

    assert await eventually(listening, timeout=10, interval=0.01)
    try:
        yield
    finally:
        server.should_exit = True
        await task


async def test_the_gateway_forwards_again_once_a_service_is_back() -> None:
    port = free_port()
    gateway = create_gateway({"intake": f"http://127.0.0.1:{port}"})
    transport = httpx.ASGITransport(app=gateway)
    async with (
        gateway.router.lifespan_context(gateway),
        httpx.AsyncClient(transport=transport, base_url="http://jejak") as client,
    ):
        statuses = []
        away = await client.get("/api/intake/health")
        statuses.append(away.status_code)
        for _ in range(2):
            async with service_on(port):
                statuses.append((await client.get("/api/intake/health")).status_code)
                statuses.append((await client.get("/api/intake/health")).status_code)
            statuses.append((await client.get("/api/intake/health")).status_code)

    assert statuses == [503, 200, 200, 503, 200, 200, 503]
    assert away.json() == {"message": "Layanan intake tidak tersedia."}
