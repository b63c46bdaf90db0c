"""A small e-office for the tests: a real HTTP server (uvicorn on a loopback port) that receives
Jejak's status changes as a vendor's receiver would, and keeps score.

It verifies every signature with the tenant's secret, takes each change at most once (by
``delivery_id``), and notes every breach of the contract: a bad signature, a header that does not
match the body, a change attempted before the one before it was accepted (out of order), a gap.
On purpose it fails (503) every other delivery the first time it sees it, and it can be stopped
and started again on the same port."""

import asyncio
import time
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from devstack.process import free_port
from infra import webhook
from services.eoffice.delivery import StatusNotice

PATH = "/jejak/status"


@dataclass
class Simulator:
    secret: str
    port: int = field(default_factory=free_port)
    fail_half: bool = True
    accepted: dict[str, list[StatusNotice]] = field(default_factory=dict)
    """Per request, the changes taken, in the order they were taken."""
    attempts: list[tuple[str, int, str]] = field(default_factory=list)
    """Every authenticated attempt: (request, sequence, delivery id)."""
    first_seen: int = 0
    failed_first: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)
    duplicates: int = 0
    _server: uvicorn.Server | None = None
    _task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{PATH}"

    def sequences(self, request_id: str) -> list[int]:
        return [n.change.sequence for n in self.accepted.get(request_id, [])]

    def seen(self, request_id: str) -> int:
        return sum(1 for rid, _, _ in self.attempts if rid == request_id)

    async def receive(self, request: Request) -> Response:
        body = await request.body()
        try:
            verified = webhook.verify((self.secret,), PATH, request.headers, body, time.time(), 300)
        except webhook.WebhookRefused as refused:
            self.problems.append(f"refused: {refused.code}")
            return JSONResponse({"code": refused.code}, 401)
        notice = StatusNotice.model_validate_json(body)
        delivery, change = str(notice.delivery_id), notice.change
        if verified.delivery_id != delivery:
            self.problems.append(f"X-Jejak-Delivery {verified.delivery_id} for {delivery}")
        self.attempts.append((change.request_id, change.sequence, delivery))
        taken = self.accepted.setdefault(change.request_id, [])
        if any(str(n.delivery_id) == delivery for n in taken):
            self.duplicates += 1  # already taken: a vendor answers 2xx again
            return Response(status_code=200)
        if taken and change.sequence != taken[-1].change.sequence + 1:
            last = taken[-1].change.sequence
            self.problems.append(f"{change.request_id}: {change.sequence} after {last}")
        if taken and change.previous_step != taken[-1].change.step:
            self.problems.append(f"{change.request_id}: {change.sequence} does not chain")
        if sum(1 for _, _, d in self.attempts if d == delivery) == 1:  # its first attempt
            self.first_seen += 1
            if self.fail_half and self.first_seen % 2 == 1:
                self.failed_first.add(delivery)
                return JSONResponse({"message": "sibuk, coba lagi"}, 503)
        taken.append(notice)
        return Response(status_code=204)

    async def start(self) -> None:
        app = Starlette(routes=[Route(PATH, self.receive, methods=["POST"])])
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            assert not self._task.done(), "the simulator did not start"
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        assert self._server is not None and self._task is not None
        self._server.should_exit = True
        await self._task
        self._server = self._task = None
