"""Detail Permohonan, the hub: where the request stands, its SLA, documents, problems, tests,
history, and exactly the step forms the user may submit now (as the services say)."""

import asyncio
import datetime as dt
from collections.abc import Awaitable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from events.steps import STEPS
from services.web.backend import Refused
from services.web.commands import (
    BY_NAME,
    DISPOSITION_CLASSIFICATION,
    DISPOSITION_INSTRUCTIONS,
    DISPOSITION_URGENCY,
    FormContext,
    StepCommand,
)
from services.web.formatting import to_local_input
from services.web.forms import errors_by_field, kept, upload
from services.web.session import Session
from services.web.web import Web, go

COMMAND_SERVICES: tuple[str, ...] = tuple(dict.fromkeys(s.service for s in STEPS))
"""The services whose commands perform the SOP's steps, in the order the steps reach them."""
RequestPath = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


async def optional(call: Awaitable[Any]) -> Any:
    """A read that may find nothing yet (a service that has not heard of the request): None."""
    try:
        return await call
    except Refused as refused:
        if refused.status == 404:
            return None
        raise


FIRST_STEP: dict[str, int] = {
    service: min(s.number for s in STEPS if s.service == service) for service in COMMAND_SERVICES
}
"""The first step each command service performs (``events.steps``)."""


def services_holding(case: dict[str, Any] | None) -> tuple[str, ...]:
    """The command services that hold the request: intake and approval from its submission
    (approval hears of it from intake), dev_tracking from its first step (8: the Surat Tugas
    made it)."""
    reached = case["current_step"]["number"] if case is not None else 1
    return tuple(
        service
        for service in COMMAND_SERVICES
        if service != "dev_tracking" or reached >= FIRST_STEP[service]
    )


async def actions_of(
    web: Web, session: Session, request_id: str, services: tuple[str, ...] = COMMAND_SERVICES
) -> list[dict[str, Any]]:
    """The commands the user may give on the request now, as each owning service lists them."""
    found = await asyncio.gather(
        *(
            optional(web.backend.get(session.token, s, f"/requests/{request_id}/actions"))
            for s in services
        )
    )
    return [a for answer in found if answer for a in answer["actions"] if a["command"] in BY_NAME]


async def mark_read(web: Web, session: Session, request_id: str) -> None:
    """Opening a request reads its notices: they leave the unread count."""
    unread = await web.backend.get(
        session.token, "reporting", "/notifications", {"unread": "true", "limit": 200}
    )
    await asyncio.gather(
        *(
            web.backend.post(
                session.token, "reporting", f"/notifications/{notice['notice_id']}/read", None
            )
            for notice in unread["items"]
            if notice["request_id"] == request_id
        )
    )


async def official_documents(web: Web, session: Session, request_id: str) -> list[dict[str, Any]]:
    """The PDFs the documents service made of the request (none where it does not run)."""
    if "documents" not in web.backend.upstreams:
        return []
    found = await optional(
        web.backend.get(session.token, "documents", f"/requests/{request_id}/documents")
    )
    return list(found["documents"]) if found else []


async def case_of(web: Web, session: Session, request_id: str) -> dict[str, Any] | None:
    """reporting's case with its history, in one read; None if reporting has not heard of it."""
    path = f"/cases/{request_id}"
    found: dict[str, Any] | None = await optional(
        web.backend.get(session.token, "reporting", path, {"timeline": "true"})
    )
    return found


async def gather(
    web: Web, session: Session, request_id: str, case: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Everything the request page shows: the case (unless given), then the rest at once, from
    the services that hold the request."""
    token, path = session.token, f"/requests/{request_id}"
    if case is None:
        case = await case_of(web, session, request_id)
    services = services_holding(case)
    *states, actions, users, documents = await asyncio.gather(
        *(optional(web.backend.get(token, s, path)) for s in services),
        actions_of(web, session, request_id, services),
        web.directory.colleagues(token),
        official_documents(web, session, request_id),
    )
    intake, approval, dev = [*states, None][:3]
    return {
        "case": case,
        "timeline": case["timeline"] if case else [],
        "intake": intake,
        "approval": approval,
        "dev": dev,
        "actions": actions,
        "users": users,
        "official": documents,
    }


def form_defaults(web: Web) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    return {
        "today": now.astimezone().date().isoformat(),
        "now_local": to_local_input(now, web.settings.time_zone),
        "instructions": DISPOSITION_INSTRUCTIONS,
        "urgencies": DISPOSITION_URGENCY,
        "classifications": DISPOSITION_CLASSIFICATION,
        "commands": BY_NAME,
        "steps": STEPS,
    }


def build(web: Web) -> APIRouter:
    router = APIRouter()
    SessionDep = Annotated[Session, Depends(web.session)]
    Acting = Annotated[Session, Depends(web.acting_session)]

    def case_page(
        request: Request,
        session: Session,
        data: dict[str, Any],
        status: int = 200,
        **forms: Any,
    ) -> HTMLResponse:
        return web.page(
            request,
            "case.html",
            session,
            status,
            nav="cases",
            done=request.query_params.get("berhasil"),
            refused={},
            **data,
            **form_defaults(web),
            **forms,
        )

    @router.get("/permohonan/{request_id}", response_class=HTMLResponse)
    async def show(request: Request, request_id: RequestPath, session: SessionDep) -> HTMLResponse:
        data = await gather(web, session, request_id)
        if data["case"] is None:
            if data["intake"] is None:
                raise Refused(404, f"Permohonan {request_id} tidak dikenal.")
            # submitted a moment ago: reporting has yet to hear of it
            return web.page(request, "case_pending.html", session, nav="cases", **data)
        await mark_read(web, session, request_id)
        return case_page(request, session, data)

    @router.get("/permohonan/{request_id}/keadaan", response_model=None)
    async def moved(
        request: Request,
        request_id: RequestPath,
        session: SessionDep,
        sejak: Annotated[str, Query(max_length=40)] = "",
    ) -> Response:
        """The request's place and details, if it changed since ``sejak`` (its ``updated_at``
        when the page was drawn); 204 if not."""
        case = await case_of(web, session, request_id)
        if case is None or case["updated_at"] == sejak:
            return Response(status_code=204)
        data = await gather(web, session, request_id, case)
        return web.page(
            request, "parts/case_refresh.html", session, oob=True, **data, **form_defaults(web)
        )

    @router.post("/permohonan/{request_id}/aksi/{command}", response_model=None)
    async def act(
        request: Request, request_id: RequestPath, command: str, session: Acting
    ) -> Response:
        step = BY_NAME.get(command)
        if step is None:
            raise Refused(404, "Tindakan tidak dikenal.")
        form = await request.form()
        actions, users = await asyncio.gather(
            actions_of(web, session, request_id, (step.service,)),
            web.directory.colleagues(session.token),
        )
        action: dict[str, Any] = next((a for a in actions if a["command"] == command), {})
        try:
            await give(web, session, request_id, step, form, users, action)
        except Refused as refused:  # the page again, with the form as the user left it
            data = await gather(web, session, request_id)
            forms = {
                "refused": {
                    command: {
                        "message": refused.message,
                        "errors": errors_by_field(refused.fields),
                        "values": kept(form),
                    }
                }
            }
            if request.headers.get("HX-Request"):
                return web.page(
                    request,
                    "parts/action.html",
                    session,
                    refused.status,
                    action=action or {"command": command},
                    **data,
                    **form_defaults(web),
                    **forms,
                )
            return case_page(request, session, data, refused.status, **forms)
        return go(request, f"/permohonan/{request_id}?berhasil={command}")

    return router


async def give(
    web: Web,
    session: Session,
    request_id: str,
    step: StepCommand,
    form: Any,
    users: dict[str, dict[str, Any]],
    action: dict[str, Any],
) -> None:
    """Upload the form's file if it has one, then give the command, both with the form's
    Idempotency-Key (a retry, a double submit, is answered again without acting again)."""
    given = form.get("idempotency_key")
    key = given if isinstance(given, str) and given else None
    uploaded = None
    if step.upload:
        file = upload(form, step.upload)
        if file is None:
            raise Refused(422, "Pilih berkas yang akan diunggah.", {step.upload: "Pilih berkas."})
        media_type = file.content_type or "application/octet-stream"
        stored = await web.backend.upload(session.token, await file.read(), media_type, key)
        uploaded = {**stored, "filename": file.filename}
    context = FormContext(users, action, uploaded, web.settings.time_zone)
    route = step.route.format(problem_id=form.get("problem_id") or "-")
    answer = await web.backend.post(
        session.token,
        step.service,
        f"/requests/{request_id}/{route}",
        step.body(form, context),
        idempotency_key=key,
    )
    await projected(web, session, request_id, set(answer.get("event_ids") or []))


async def projected(
    web: Web, session: Session, request_id: str, event_ids: set[str], timeout: float = 3.0
) -> bool:
    """Wait (a little) until reporting's history of the request holds ``event_ids``, so that the
    page the user returns to shows what they just did. False if it has not caught up in time:
    the page then shows the state before, and the next notice brings it up to date."""
    deadline = asyncio.get_running_loop().time() + timeout
    while event_ids:
        timeline = await optional(
            web.backend.get(session.token, "reporting", f"/cases/{request_id}/timeline")
        )
        seen = {e["event_id"] for e in timeline["entries"]} if timeline else set()
        if event_ids <= seen:
            return True
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True
