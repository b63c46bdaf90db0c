"""Kotak Masuk: what waits on me now, and what is late; it changes live when a notice arrives."""

import asyncio
from typing import Annotated, Any, get_args

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from events.steps import StepRole
from services.web.session import Session
from services.web.web import Web

ACTING_ROLES: tuple[StepRole, ...] = get_args(StepRole)
OPEN_STATUSES = ("OPEN", "RETURNED")


def roles_of(session: Session) -> list[StepRole]:
    """The SOP roles the user acts in now: its own and those it holds as Plt/Plh."""
    return [r for r in ACTING_ROLES if session.user.has_role(r)]


async def waiting_on(web: Web, session: Session) -> list[dict[str, Any]]:
    """The open requests whose current step waits on one of the user's roles (for a developer,
    only those whose Surat Tugas names it), the earliest due first."""
    token, roles = session.token, roles_of(session)
    if not roles:
        return []
    page = await web.backend.get(
        token,
        "reporting",
        "/cases",
        {"responsible_role": roles, "status": list(OPEN_STATUSES), "order": "due", "limit": 500},
    )
    cases: list[dict[str, Any]] = page["items"]
    if "TIM_PENGEMBANG" not in roles:
        return cases
    mine = {
        r["request_id"]
        for r in await web.backend.get(token, "dev_tracking", "/requests", {"limit": 500})
        if session.user.user_id in r.get("team_members", [])
    }
    return [
        c for c in cases if c["responsible_role"] != "TIM_PENGEMBANG" or c["request_id"] in mine
    ]


async def notices(web: Web, session: Session, limit: int = 10) -> dict[str, Any]:
    answer: dict[str, Any] = await web.backend.get(
        session.token, "reporting", "/notifications", {"limit": limit}
    )
    return answer


def build(web: Web) -> APIRouter:
    router = APIRouter()
    SessionDep = Annotated[Session, Depends(web.session)]

    async def inbox_page(request: Request, session: Session, template: str) -> HTMLResponse:
        cases, found = await asyncio.gather(waiting_on(web, session), notices(web, session))
        return web.page(
            request,
            template,
            session,
            nav="inbox",
            cases=cases,
            overdue=sum(1 for c in cases if c["overdue"]),
            notices=found["items"],
            acting=roles_of(session),
        )

    @router.get("/", response_class=HTMLResponse)
    async def inbox(request: Request, session: SessionDep) -> HTMLResponse:
        return await inbox_page(request, session, "inbox.html")

    @router.get("/kotak-masuk/daftar", response_class=HTMLResponse)
    async def inbox_list(request: Request, session: SessionDep) -> HTMLResponse:
        """The inbox's list alone, for its live refresh."""
        return await inbox_page(request, session, "parts/inbox_list.html")

    @router.get("/notifikasi/jumlah", response_class=HTMLResponse)
    async def unread(request: Request, session: SessionDep) -> HTMLResponse:
        found = await notices(web, session, limit=1)
        return web.page(request, "parts/unread.html", session, unread=found["unread"])

    return router
