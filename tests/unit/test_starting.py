"""``infra.starting``: the server's lifespan completes at once, requests get 503 until the app's
own start-up is done, then reach the app; a start-up that fails asks for the process to end."""

import asyncio
from collections.abc import AsyncIterator, Callable, MutableMapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI

from infra.starting import StartsInBackground

Message = MutableMapping[str, Any]


class Server:
    """What a server does with an app's lifespan: startup, then shutdown, one message each."""

    def __init__(self, app: StartsInBackground) -> None:
        self.inbox: asyncio.Queue[Message] = asyncio.Queue()
        self.outbox: asyncio.Queue[Message] = asyncio.Queue()
        scope = {"type": "lifespan", "state": {}}
        self.task = asyncio.create_task(app(scope, self.inbox.get, self.outbox.put))

    async def send(self, kind: str) -> str:
        await self.inbox.put({"type": f"lifespan.{kind}"})
        return str((await asyncio.wait_for(self.outbox.get(), 5))["type"])


def app_with(
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]],
) -> FastAPI:
    app = FastAPI(lifespan=lifespan)

    @app.get("/health")
    async def health() -> dict[str, bool]:
        return {"ok": True}

    return app


async def status(wrapped: StartsInBackground) -> tuple[int, dict[str, Any]]:
    transport = httpx.ASGITransport(app=wrapped)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        answer = await client.get("/health")
    return answer.status_code, answer.json()


async def test_requests_get_503_until_the_start_up_is_done_then_reach_the_app() -> None:
    dependency_back, stopped = asyncio.Event(), asyncio.Event()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await dependency_back.wait()
        yield
        stopped.set()

    failures: list[bool] = []
    wrapped = StartsInBackground(app_with(lifespan), "intake", lambda: failures.append(True))
    server = Server(wrapped)

    assert await server.send("startup") == "lifespan.startup.complete"
    code, body = await status(wrapped)
    assert (code, body["service"], body["ok"]) == (503, "intake", False)
    assert "sedang dimulai" in body["message"]

    dependency_back.set()
    await asyncio.wait_for(wrapped.ready.wait(), 5)
    assert await status(wrapped) == (200, {"ok": True})

    assert await server.send("shutdown") == "lifespan.shutdown.complete"
    assert stopped.is_set() and not failures


async def test_a_start_up_that_fails_asks_the_process_to_end() -> None:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        raise RuntimeError("a migration failed")
        yield

    failures: list[bool] = []
    wrapped = StartsInBackground(app_with(lifespan), "intake", lambda: failures.append(True))
    server = Server(wrapped)

    assert await server.send("startup") == "lifespan.startup.complete"
    await asyncio.sleep(0.05)
    assert failures == [True]
    assert (await status(wrapped))[0] == 503
    assert await server.send("shutdown") == "lifespan.shutdown.complete"


async def test_a_shutdown_while_still_waiting_stops_the_wait() -> None:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await asyncio.Event().wait()  # a dependency that never comes back
        yield

    wrapped = StartsInBackground(app_with(lifespan), "intake", lambda: None)
    server = Server(wrapped)
    assert await server.send("startup") == "lifespan.startup.complete"
    assert await server.send("shutdown") == "lifespan.shutdown.complete"
    assert not wrapped.ready.is_set()
