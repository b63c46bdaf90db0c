"""The one proof every service's command takes: sent again with its ``Idempotency-Key`` it
answers the first answer and acts once, even when the retries race; reused for another body it
is refused (422 naming the header)."""

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

Send = Callable[[str, Any], Awaitable[httpx.Response]]
"""Sends the command with the given key and body."""
Effects = Callable[[], Awaitable[int]]
"""Counts what the command leaves behind (the events in the service's store, say)."""


async def check_retry_safe(
    send: Send, effects: Effects, body: Any, other_body: Any
) -> httpx.Response:
    """Runs the proof; returns the first answer. ``send`` must act on its first call."""
    key = f"k-{uuid.uuid4()}"
    before = await effects()
    first = await send(key, body)
    assert first.status_code < 300, first.text
    assert "idempotent-replayed" not in first.headers
    acted = await effects()
    assert acted > before, "the command left nothing to count"

    again = await send(key, body)
    assert (again.status_code, again.content) == (first.status_code, first.content)
    assert again.headers["idempotent-replayed"] == "true"
    assert await effects() == acted

    reused = await send(key, other_body)
    assert reused.status_code == 422, reused.text
    assert reused.json()["field"] == "header.idempotency-key"
    assert "Idempotency-Key" in reused.json()["message"]
    assert await effects() == acted
    return first


async def check_racing_retries_act_once(
    send: Send, effects: Effects, body: Any, racing: int = 4
) -> list[httpx.Response]:
    """``racing`` copies of one command with one key at once: one acts, the others answer what
    it answered (a second effect would show as another answer: another event id, or a 409 for
    a step already taken). ``send`` must act on its first call."""
    key = f"k-{uuid.uuid4()}"
    before = await effects()
    answers = await asyncio.gather(*(send(key, body) for _ in range(racing)))
    assert len({(a.status_code, a.content) for a in answers}) == 1, [a.text for a in answers]
    assert answers[0].status_code < 300, answers[0].text
    assert sum(a.headers.get("idempotent-replayed") == "true" for a in answers) == racing - 1
    assert await effects() > before
    return list(answers)
