"""Laporan SLA: working time per step against the SOP's standard, and lateness per OPD, as a
table with a server-rendered chart beside it."""

import datetime as dt
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from events.steps import STEPS
from services.web.formatting import start_of
from services.web.session import Session
from services.web.web import Web

STANDARD_MINUTES = {s.code: s.standard_minutes for s in STEPS}


def _next_month(first: dt.date) -> dt.date:
    return (first + dt.timedelta(days=32)).replace(day=1)


def month_of(text: str, zone: str, today: dt.date) -> tuple[str, str, bool]:
    """The instants the report's period starts and ends in the office's zone, and whether it is
    the month ``text`` (``YYYY-MM``) names; for no month or a malformed one, the twelve months
    up to ``today``'s (reporting refuses a period longer than a year)."""
    try:
        first = dt.date.fromisoformat(f"{text}-01")
    except ValueError:
        year_ago = dt.date(today.year - 1, today.month, 1)
        end = _next_month(today.replace(day=1))
        return start_of(_next_month(year_ago), zone), start_of(end, zone), False
    return start_of(first, zone), start_of(_next_month(first), zone), True


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
        zone = web.settings.time_zone
        start, end, chosen = month_of(bulan, zone, dt.datetime.now(ZoneInfo(zone)).date())
        params = {"opd": opd, "submitted_from": start, "submitted_to": end}
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
            month=bulan if chosen else "",
        )

    return router
