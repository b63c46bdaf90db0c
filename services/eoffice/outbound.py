"""Posting one delivery to the e-office's callback URL, signed as the inbound webhooks are
(``infra.webhook``: ``v2`` = HMAC-SHA256 over ``timestamp``, the callback URL's path and the body),
one entry per configured secret so that the e-office may rotate its side at its own pace."""

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit
from uuid import UUID

import httpx

from infra import webhook
from services.eoffice.delivery import AttemptResult

ATTEMPT_HEADER = "X-Jejak-Attempt"
EVENT_HEADER = "X-Jejak-Event"
USER_AGENT = "Jejak-Webhook/1"


def signed_path(url: str) -> str:
    """The path of the callback URL, as signed: without query or fragment, ``/`` if empty."""
    return urlsplit(url).path or "/"


def signed_headers(
    secrets: Sequence[str],
    url: str,
    body: bytes,
    delivery_id: UUID,
    attempt: int,
    timestamp: int,
) -> dict[str, str]:
    """Every header of one attempt: the signatures (one per secret) over ``body`` for ``url``'s
    path at ``timestamp`` (unix seconds), the delivery id, the attempt's number."""
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        EVENT_HEADER: "CaseStatusChanged",
        ATTEMPT_HEADER: str(attempt),
        **webhook.sign(secrets, signed_path(url), body, timestamp, delivery_id=str(delivery_id)),
    }


@dataclass
class Poster:
    """Posts bodies to one callback URL; never raises for what the network or the e-office does."""

    client: httpx.AsyncClient
    url: str
    secrets: Sequence[str]
    timeout_seconds: float
    clock: Callable[[], float] = time.time

    async def post(self, body: bytes, delivery_id: UUID, attempt: int) -> AttemptResult:
        headers = signed_headers(
            self.secrets, self.url, body, delivery_id, attempt, int(self.clock())
        )
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
