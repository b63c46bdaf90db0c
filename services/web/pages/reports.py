"""Laporan SLA: working time per step against the SOP's standard, and lateness per OPD, as a
table with a server-rendered chart beside it."""

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from events.steps import STEPS
from services.web.formatting import start_of
from services.web.session import Session
from services.web.web import Web

STANDARD_MINUTES = {s.code: s.standard_minutes for s in STEPS}


def month_of(text: str, zone: str) -> tuple[str | None, str | None]:
    """The instants a month (``YYYY-MM``) starts and ends in the office's zone; (None, None)
    for no month or a malformed one (the whole history)."""
    try:
        first = dt.date.fromisoformat(f"{text}-01")
    except ValueError:
        return None, None
    after = (first + dt.timedelta(days=32)).replace(day=1)
    return start_of(first, zone), start_of(after, zone)


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
        bulan: Annotated[str, Query(max_length=7, description="YYYY-MM")] = "",
    ) -> HTMLResponse:
        period = month_of(bulan, web.settings.time_zone)
        params = {"opd": opd, "submitted_from": period[0], "submitted_to": period[1]}
        report = await web.backend.get(session.token, "reporting", "/reports/sla", params)
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
            month=bulan if period[0] else "",
        )

    return router
