"""Jejak Audit (for the Inspectorate, and anyone who may read the request): the history, the
request as it stood at a chosen instant, the hash chains checked, and the exports for the file."""

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from services.web.backend import Refused
from services.web.formatting import from_local_input, to_local_input
from services.web.pages.case import RequestPath
from services.web.session import Session
from services.web.web import Web

EXPORTS = {"json": "application/json", "csv": "text/csv; charset=utf-8"}


def build(web: Web) -> APIRouter:
    router = APIRouter()
    SessionDep = Annotated[Session, Depends(web.session)]

    @router.get("/permohonan/{request_id}/audit", response_class=HTMLResponse)
    async def audit(
        request: Request,
        request_id: RequestPath,
        session: SessionDep,
        pada: Annotated[str, Query(max_length=20)] = "",
    ) -> HTMLResponse:
        token, zone = session.token, web.settings.time_zone
        base = f"/cases/{request_id}"
        export = await web.backend.get(token, "reporting", f"{base}/export.json")
        timeline = await web.backend.get(token, "reporting", f"{base}/timeline")
        as_of: dict[str, Any] | None = None
        error = ""
        if pada:
            try:
                at = from_local_input(pada, zone)
            except ValueError:
                error = "Tulis tanggal dan jam, mis. 2026-12-07T09:30."
            else:
                as_of = await web.backend.get(
                    token, "reporting", f"{base}/as-of", {"at": at.isoformat()}
                )
        return web.page(
            request,
            "audit.html",
            session,
            nav="cases",
            export=export,
            timeline=timeline["entries"],
            as_of=as_of,
            at=pada or to_local_input(dt.datetime.now(dt.UTC), zone),
            at_error=error,
            users=await web.directory.colleagues(session.token),
        )

    @router.get("/permohonan/{request_id}/ekspor.{kind}")
    async def download(request_id: RequestPath, kind: str, session: SessionDep) -> Response:
        if kind not in EXPORTS:
            raise Refused(404, "Format ekspor tidak dikenal: json atau csv.")
        answer = await web.backend.call(
            session.token, "reporting", "GET", f"/cases/{request_id}/export.{kind}"
        )
        return Response(
            answer.content,
            media_type=EXPORTS[kind],
            headers={"Content-Disposition": f'attachment; filename="{request_id}.{kind}"'},
        )

    return router
