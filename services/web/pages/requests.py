"""Daftar Permohonan (filters, paging, CSV) and Permohonan Baru (the guided request form)."""

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from events.completeness import missing_sections
from events.intake import BusinessProcess, NeedsAnalysis
from events.steps import STEPS
from infra.spreadsheet import csv_text
from services.web.backend import Refused
from services.web.commands import business_process, needs_analysis
from services.web.formatting import start_of
from services.web.forms import errors_by_field, kept, text, upload
from services.web.pages.case import projected
from services.web.presenters import new_key
from services.web.session import Session
from services.web.vocabulary import STATUSES, STEP_NAMES
from services.web.web import Web, go

PAGE_SIZE = 20
FILTERS = ("status", "langkah", "opd", "terlambat", "cari", "dari", "sampai", "urut")
"""The list's filters, as its address names them."""
CSV_COLUMNS = (
    ("request_id", "Id"),
    ("title", "Judul"),
    ("opd", "OPD"),
    ("status", "Status"),
    ("step_number", "Langkah"),
    ("current_step", "Nama langkah"),
    ("due_at", "Batas Waktu"),
    ("overdue", "Terlambat"),
    ("submitted_at", "Diajukan"),
)


def sections_missing(needs: dict[str, Any], process: dict[str, Any]) -> list[str]:
    """``events.completeness``'s verdict on what the form holds, unvalidated: a section too long
    or malformed counts as present here (the submit names it)."""
    return missing_sections(
        NeedsAnalysis.model_construct(**needs), BusinessProcess.model_construct(**process)
    )


def day_start(text: str, zone: str, next_day: bool = False) -> str | None:
    """The instant a day (``YYYY-MM-DD``) starts in the office's zone (or the next one starts);
    None for no day or a malformed one."""
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return None
    return start_of(day + dt.timedelta(days=1) if next_day else day, zone)


def as_csv(cases: list[dict[str, Any]]) -> str:
    """The list as CSV, every cell safe to open in a spreadsheet (``infra.spreadsheet``)."""
    rows = []
    for case in cases:
        row = dict(case)
        row["status"] = STATUSES.get(case["status"], case["status"])
        row["current_step"] = STEP_NAMES.get(case["current_step"], case["current_step"])
        row["overdue"] = "ya" if case["overdue"] else "tidak"
        rows.append([row.get(key, "") for key, _ in CSV_COLUMNS])
    return csv_text([label for _, label in CSV_COLUMNS], rows)


def build(web: Web) -> APIRouter:
    router = APIRouter()
    SessionDep = Annotated[Session, Depends(web.session)]
    Acting = Annotated[Session, Depends(web.acting_session)]

    async def cases(
        session: Session, filters: dict[str, Any], limit: int, offset: int
    ) -> dict[str, Any]:
        params = {**filters, "limit": limit, "offset": offset}
        found: dict[str, Any] = await web.backend.get(session.token, "reporting", "/cases", params)
        return found

    def filters_of(request: Request) -> tuple[dict[str, Any], dict[str, str]]:
        """The reporting query of the list's filters, and the filters as the page keeps them."""
        q = request.query_params
        kept_query = {k: q.get(k, "") for k in FILTERS}
        zone = web.settings.time_zone
        filters = {
            "status": kept_query["status"],
            "current_step": kept_query["langkah"],
            "opd": kept_query["opd"],
            "overdue": {"ya": "true", "tidak": "false"}.get(kept_query["terlambat"]),
            "text": kept_query["cari"].strip(),
            "submitted_from": day_start(kept_query["dari"], zone),
            "submitted_to": day_start(kept_query["sampai"], zone, next_day=True),
            "order": "due" if kept_query["urut"] == "batas" else "updated",
        }
        return filters, kept_query

    @router.get("/permohonan", response_class=HTMLResponse)
    async def list_cases(
        request: Request,
        session: SessionDep,
        halaman: Annotated[int, Query(ge=1, le=10_000)] = 1,
    ) -> HTMLResponse:
        filters, query = filters_of(request)
        found = await cases(session, filters, PAGE_SIZE, (halaman - 1) * PAGE_SIZE)
        opds = await web.backend.get(session.token, "identity", "/opds")
        return web.page(
            request,
            "cases.html",
            session,
            nav="cases",
            found=found,
            page=halaman,
            pages=max(1, -(-found["total"] // PAGE_SIZE)),
            query=query,
            query_string=urlencode({k: v for k, v in query.items() if v}),
            opds=opds,
            steps=STEPS,
        )

    @router.get("/permohonan.csv")
    async def export(request: Request, session: SessionDep) -> Response:
        filters, _ = filters_of(request)
        found = await cases(session, filters, 500, 0)
        return Response(
            as_csv(found["items"]),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="permohonan.csv"'},
        )

    def new_page(
        request: Request,
        session: Session,
        status: int = 200,
        values: dict[str, Any] | None = None,
        refused: Refused | None = None,
    ) -> HTMLResponse:
        return web.page(
            request,
            "new_request.html",
            session,
            status,
            nav="new",
            form="baru",
            values=values or {"idempotency_key": new_key()},
            errors=errors_by_field(refused.fields) if refused else {},
            message=refused.message if refused else "",
        )

    @router.post("/permohonan/baru/kelengkapan", response_class=HTMLResponse)
    async def completeness(request: Request, session: SessionDep) -> HTMLResponse:
        """The sections still empty, by the same rule step 4 applies, as the requester types."""
        form = await request.form()
        missing = sections_missing(needs_analysis(form), business_process(form))
        return web.page(request, "parts/missing_sections.html", session, missing=missing)

    @router.get("/permohonan/baru", response_class=HTMLResponse)
    async def new(request: Request, session: SessionDep) -> HTMLResponse:
        return new_page(request, session)

    @router.post("/permohonan/baru", response_model=None)
    async def submit(request: Request, session: Acting) -> Response:
        form = await request.form()
        key = text(form, "idempotency_key")
        try:
            attachments = []
            for field in ("letter_file", "attachment_file"):
                file = upload(form, field)
                if file is None:
                    continue
                media_type = file.content_type or "application/octet-stream"
                stored = await web.backend.upload(session.token, await file.read(), media_type, key)
                attachments.append({**stored, "filename": file.filename})
            body = {
                "title": text(form, "title"),
                "summary": text(form, "summary"),
                "letter": {
                    "number": text(form, "letter.number"),
                    "date": text(form, "letter.date"),
                },
                "needs_analysis": needs_analysis(form),
                "business_process": business_process(form),
                "attachments": attachments,
            }
            answer = await web.backend.post(
                session.token, "intake", "/requests", body, idempotency_key=key
            )
        except Refused as refused:
            return new_page(request, session, refused.status, kept(form), refused)
        await projected(web, session, answer["request_id"], set(answer.get("event_ids") or []))
        return go(request, f"/permohonan/{answer['request_id']}?berhasil=SubmitRequest")

    return router
