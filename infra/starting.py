"""An app that listens before it is ready: its lifespan's start-up runs in the background (it may
wait for PostgreSQL and Kafka for as long as they are away) while every request, ``/health``
included, is answered 503 "not ready"; once the start-up is done, requests reach the app."""

import asyncio
from collections.abc import Callable
from contextlib import suppress
from typing import Any

import structlog
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from infra.http import RETRY_AFTER_SECONDS

log = structlog.get_logger()

NOT_READY = "Layanan sedang dimulai dan menunggu basis data atau Kafka; coba lagi sebentar lagi."


class StartsInBackground:
    """Wraps ``app`` (a Starlette or FastAPI app) for a server; ``on_failure`` is called if the
    start-up fails with an error that waiting does not cure (the process should then exit)."""

    def __init__(self, app: Starlette, service: str, on_failure: Callable[[], None]) -> None:
        self.app = app
        self.service = service
        self.on_failure = on_failure
        self.ready = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._serve_lifespan(scope, receive, send)
        elif self.ready.is_set():
            await self.app(scope, receive, send)
        elif scope["type"] == "http":
            await JSONResponse(
                {"service": self.service, "ok": False, "message": NOT_READY},
                503,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )(scope, receive, send)

    async def _serve_lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                state: dict[str, Any] = scope.setdefault("state", {})
                self._task = asyncio.create_task(self._run(state), name="start-up")
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self._shut_down()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _run(self, state: dict[str, Any]) -> None:
        """The app's own lifespan, entered and left in this one task."""
        try:
            async with self.app.router.lifespan_context(self.app) as started:
                state.update(started or {})
                self.ready.set()
                log.info("service ready")
                await self._stopping.wait()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("stopped" if self.ready.is_set() else "start-up failed")
            self.on_failure()

    async def _shut_down(self) -> None:
        if self._task is None:
            return
        if not self.ready.is_set():  # still waiting for a dependency: nothing to stop cleanly
            self._task.cancel()
        self._stopping.set()
        with suppress(asyncio.CancelledError):
            await self._task
