"""Laporan SLA: working time per step against the SOP's standard, and lateness per OPD, as a
table with a server-rendered chart beside it."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from events.steps import STEPS
from services.web.session import Session
from services.web.web import Web

STANDARD_MINUTES = {s.code: s.standard_minutes for s in STEPS}


def chart_rows(by_step: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each step's share on time as a bar (percent) beside its median against the standard."""
    return [
        {
            **row,
            "percent": round(100 * (row["share_on_time"] or 0)),
            "standard_minutes": STANDARD_MINUTES.get(row["key"], 0),
        }
        for row in by_step
    ]


def build(web: Web) -> APIRouter:
    router = APIRouter()

    @router.get("/laporan/sla", response_class=HTMLResponse)
    async def sla(
        request: Request,
        session: Annotated[Session, Depends(web.session)],
        opd: Annotated[str, Query(max_length=32)] = "",
    ) -> HTMLResponse:
        report = await web.backend.get(session.token, "reporting", "/reports/sla", {"opd": opd})
        opds = await web.backend.get(session.token, "identity", "/opds")
        return web.page(
            request,
            "sla.html",
            session,
            nav="sla",
            report=report,
            rows=chart_rows(report["by_step"]),
            opds=opds,
            opd=opd,
        )

    return router
