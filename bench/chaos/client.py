"""A client that retries as a careful user's would: a call that times out, loses its connection
or gets a 5xx is sent again, the same request with the same ``Idempotency-Key`` (one is added to
a POST that has none), until it gets another answer or its patience runs out."""

import asyncio
import time
import uuid
from collections import Counter

import httpx

RETRIED_STATUSES = frozenset({500, 502, 503, 504})


class RetryingTransport(httpx.AsyncBaseTransport):
    """Wraps ``inner``, pausing ``think_seconds`` before each POST; ``retries`` counts the
    retries by their cause (a status, or an error's kind)."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        attempt_seconds: float = 30.0,
        patience_seconds: float = 300.0,
        think_seconds: float = 0.0,
    ) -> None:
        self.inner = inner
        self.think_seconds = think_seconds
        self.attempt_seconds = attempt_seconds
        self.patience_seconds = patience_seconds
        self.retries: Counter[str] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            await asyncio.sleep(self.think_seconds)  # the user reads the page before acting
            request.headers.setdefault("Idempotency-Key", f"chaos-{uuid.uuid4()}")
        give_up = time.monotonic() + self.patience_seconds
        pause = 0.2
        while True:
            try:
                async with asyncio.timeout(self.attempt_seconds):
                    response = await self.inner.handle_async_request(request)
                    await response.aread()
            except (httpx.TransportError, TimeoutError) as error:
                if time.monotonic() > give_up:
                    raise
                cause = type(error).__name__
            else:
                if response.status_code not in RETRIED_STATUSES or time.monotonic() > give_up:
                    return response
                cause = str(response.status_code)
            self.retries[cause] += 1
            await asyncio.sleep(pause)
            pause = min(pause * 2, 2.0)

    async def aclose(self) -> None:
        await self.inner.aclose()
