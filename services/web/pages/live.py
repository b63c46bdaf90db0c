"""The live stream of the browser: the user's notices from reporting, re-sent as Server-Sent
Events that htmx turns into refreshed parts and a screen-reader announcement.

A browser's EventSource cannot send a bearer header, so it sends the session cookie here and
the web app opens reporting's stream with the token. The stream ends when the token does
(reporting closes it at the token's expiry, or when a role or a Plt/Plh delegation it serves was
taken away): the browser's EventSource reconnects by itself with ``Last-Event-ID`` (the id of
the last notice, or of ``ready``), the session renewal gives the request a fresh token first,
and reporting resumes after that id, so no notice is missed or shown twice. A refused stream
(too many open for the user: 429) tells the browser to try again later, not at once."""

import asyncio
import html
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

import httpx
from fastapi import APIRouter, Depends, Header
from httpx_sse import aconnect_sse
from sse_starlette import EventSourceResponse, ServerSentEvent

from services.web.session import Session
from services.web.web import Web

REFUSED_RETRY_MS = 30_000
"""How long the browser waits before it reconnects after reporting refused the stream."""


def build(web: Web) -> APIRouter:
    router = APIRouter()

    async def relay(session: Session, last_event_id: str | None) -> AsyncIterator[ServerSentEvent]:
        headers = {"Authorization": f"Bearer {session.token}"}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        url = web.backend.url("reporting", "/notifications/stream")
        remaining = (session.expires_at - datetime.now(UTC)).total_seconds()
        try:
            async with asyncio.timeout(max(remaining, 0)):
                async with aconnect_sse(web.backend.client, "GET", url, headers=headers) as source:
                    status = source.response.status_code
                    if status != 200:  # 401: the browser comes back at once, renewed
                        wait = REFUSED_RETRY_MS if status == 429 else None
                        yield ServerSentEvent(comment=f"ditolak {status}", retry=wait)
                        return
                    async for event in source.aiter_sse():
                        if event.event == "ready":
                            yield ServerSentEvent(data="", event="ready", id=event.id)
                        elif event.event == "notice":
                            notice = json.loads(event.data)
                            text = html.escape(notice["message"])
                            yield ServerSentEvent(
                                data=f"<p>{text}</p>", event="notice", id=event.id
                            )
        except (TimeoutError, httpx.TransportError):
            return

    @router.get("/langsung")
    async def stream(
        session: Annotated[Session, Depends(web.session)],
        last_event_id: Annotated[str | None, Header(max_length=20)] = None,
    ) -> EventSourceResponse:
        return EventSourceResponse(relay(session, last_event_id), ping=15)

    return router
