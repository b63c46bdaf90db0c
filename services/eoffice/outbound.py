"""Posting one delivery to the e-office's callback URL, signed as the inbound webhooks are
(``infra.webhook``: ``v1`` = HMAC-SHA256 over ``timestamp + "." + body``)."""

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

import httpx

from infra import webhook
from services.eoffice.delivery import AttemptResult

ATTEMPT_HEADER = "X-Jejak-Attempt"
EVENT_HEADER = "X-Jejak-Event"
USER_AGENT = "Jejak-Webhook/1"


def signed_headers(
    secret: str, body: bytes, delivery_id: UUID, attempt: int, timestamp: int
) -> dict[str, str]:
    """Every header of one attempt: the signature over ``body`` at ``timestamp`` (unix seconds),
    the delivery id, the attempt's number."""
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        EVENT_HEADER: "CaseStatusChanged",
        ATTEMPT_HEADER: str(attempt),
        **webhook.sign(secret, body, timestamp, delivery_id=str(delivery_id)),
    }


@dataclass
class Poster:
    """Posts bodies to one callback URL; never raises for what the network or the e-office does."""

    client: httpx.AsyncClient
    url: str
    secret: str
    timeout_seconds: float
    clock: Callable[[], float] = time.time

    async def post(self, body: bytes, delivery_id: UUID, attempt: int) -> AttemptResult:
        headers = signed_headers(self.secret, body, delivery_id, attempt, int(self.clock()))
        try:
            async with asyncio.timeout(self.timeout_seconds):
                answer = await self.client.post(
                    self.url, content=body, headers=headers, timeout=self.timeout_seconds
                )
        except (TimeoutError, httpx.TimeoutException):
            return AttemptResult(None, f"no answer within {self.timeout_seconds:g} s")
        except httpx.HTTPError as error:
            return AttemptResult(None, f"{type(error).__name__}: {error}")
        if 200 <= answer.status_code < 300:
            return AttemptResult(answer.status_code)
        return AttemptResult(answer.status_code, f"HTTP {answer.status_code}: {answer.text[:200]}")
