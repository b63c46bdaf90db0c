"""One local address for every service: ``/api/<service>/...`` is forwarded to that service's
process and every other path to the web app, as the ingress in ``deploy/`` does in a cluster."""

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


def create_gateway(upstreams: Mapping[str, str], web: str | None = None) -> Starlette:
    """``upstreams`` maps a service name to its base URL, e.g. ``http://127.0.0.1:8101``;
    ``web`` is the web app's, which answers every path outside ``/api/``."""
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
        return await relay(request, service, f"{upstreams[service]}/{request.path_params['path']}")

    async def page(request: Request) -> Response:
        assert web is not None
        return await relay(request, "web", f"{web}{request.url.path}")

    async def relay(request: Request, name: str, url: str) -> Response:
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower() not in HOP_BY_HOP and k.lower() != "x-forwarded-for"
        }
        if request.client:  # the caller's own address, never one it claims
            headers["x-forwarded-for"] = request.client.host
        headers.setdefault("accept-encoding", "identity")  # as the caller asked, not httpx
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
            return JSONResponse({"message": f"Layanan {name} tidak tersedia."}, 503)
        response = StreamingResponse(
            answer.aiter_raw(), answer.status_code, background=BackgroundTask(answer.aclose)
        )
        response.raw_headers.extend(  # every header line, Set-Cookie twice included
            (k.encode("latin-1"), v.encode("latin-1"))
            for k, v in answer.headers.multi_items()
            if k.lower() not in HOP_BY_HOP and k.lower() not in ("date", "server")
        )
        return response

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        await client.aclose()

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]
    routes = [Route("/api/{service}/{path:path}", forward, methods=methods)]
    if web is None:
        routes.append(Route("/", index))
    else:
        routes.append(Route("/{path:path}", page, methods=methods))
    return Starlette(routes=routes, lifespan=lifespan)
