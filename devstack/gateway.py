"""One local address for every service: ``/api/<service>/...`` is forwarded to that service's
process, as the ingress in ``deploy/`` does in a cluster."""

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import httpx
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "te",
    "trailer",
    "proxy-authorization",
    "proxy-authenticate",
}


def create_gateway(upstreams: Mapping[str, str]) -> Starlette:
    """``upstreams`` maps a service name to its base URL, e.g. ``http://127.0.0.1:8101``."""
    client = httpx.AsyncClient(timeout=httpx.Timeout(30.0, read=None))

    async def index(_: Request) -> JSONResponse:
        return JSONResponse(
            {
                "jejak": "Sistem jejak audit pembangunan aplikasi",
                "services": {
                    name: {"api": f"/api/{name}/", "docs": f"/api/{name}/docs"}
                    for name in upstreams
                },
            }
        )

    async def forward(request: Request) -> Response:
        service = request.path_params["service"]
        if service not in upstreams:
            return JSONResponse({"message": f"Layanan tidak dikenal: {service}"}, 404)
        url = f"{upstreams[service]}/{request.path_params['path']}"
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower() not in HOP_BY_HOP and k.lower() != "x-forwarded-for"
        }
        if request.client:  # the caller's own address, never one it claims
            headers["x-forwarded-for"] = request.client.host
        upstream = client.build_request(
            request.method,
            url,
            params=request.query_params,
            headers=headers,
            content=await request.body(),
        )
        try:
            answer = await client.send(upstream, stream=True)
        except httpx.TransportError:
            return JSONResponse({"message": f"Layanan {service} tidak tersedia."}, 503)
        out_headers = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP}
        return StreamingResponse(
            answer.aiter_raw(),
            answer.status_code,
            out_headers,
            background=BackgroundTask(answer.aclose),
        )

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        await client.aclose()

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]
    return Starlette(
        routes=[
            Route("/", index),
            Route("/api/{service}/{path:path}", forward, methods=methods),
        ],
        lifespan=lifespan,
    )
