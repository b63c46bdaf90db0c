"""Admin: users and roles, OPDs, Plt/Plh, the working calendar and the e-office deliveries. The
services refuse anyone but ADMIN (AUDITOR reads some); the pages only show what they answer."""

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.web.admin_commands import ADMIN_BY_NAME, path_id
from services.web.backend import Refused
from services.web.forms import errors_by_field, kept
from services.web.session import Session
from services.web.web import Web, go

Section = Literal["pengguna", "opd", "plt", "kalender", "eoffice"]
SECTIONS: dict[str, str] = {
    "pengguna": "Pengguna dan Peran",
    "opd": "OPD",
    "plt": "Plt/Plh",
    "kalender": "Kalender Kerja",
    "eoffice": "Pengiriman e-office",
}


async def section_data(
    web: Web, session: Session, section: str, year: int, state: str
) -> dict[str, Any]:
    token, get = session.token, web.backend.get
    if section == "pengguna":
        return {
            "users": await get(token, "identity", "/users"),
            "opds": await get(token, "identity", "/opds"),
        }
    if section == "opd":
        return {"opds": await get(token, "identity", "/opds")}
    if section == "plt":
        users = await get(token, "identity", "/users")
        return {
            "delegations": await get(token, "identity", "/delegations"),
            "users": users,
            "names": {u["user_id"]: u["full_name"] for u in users},
        }
    if section == "kalender":
        return {"calendar": await get(token, "reporting", "/calendar/days", {"year": year})}
    return {
        "deliveries": await get(token, "eoffice", "/deliveries", {"state": state or None}),
        "state": state,
    }


ON_THE_USERS_PAGE = frozenset({"UpdateProfile", "UnlockLogin"})
"""The admin's forms on a user's own page (``/admin/pengguna/<id>``), where a refusal shows."""


def build(web: Web) -> APIRouter:
    router = APIRouter()
    SessionDep = Annotated[Session, Depends(web.session)]
    Acting = Annotated[Session, Depends(web.acting_session)]

    async def admin_page(
        request: Request,
        session: Session,
        section: str,
        status: int = 200,
        refused: dict[str, Any] | None = None,
    ) -> HTMLResponse:
        year = int(request.query_params.get("tahun") or dt.date.today().year)
        state = request.query_params.get("status", "PARKED")
        data = await section_data(web, session, section, max(2000, min(year, 2100)), state)
        return web.page(
            request,
            "admin.html",
            session,
            status,
            nav="admin",
            section=section,
            sections=SECTIONS,
            done=ADMIN_BY_NAME.get(request.query_params.get("berhasil", "")),
            refused=refused or {},
            **data,
        )

    @router.get("/admin", include_in_schema=False)
    async def admin_home() -> RedirectResponse:
        return RedirectResponse("/admin/pengguna", status_code=303)

    @router.get("/admin/{section}", response_class=HTMLResponse)
    async def show(
        request: Request,
        section: Section,
        session: SessionDep,
        tahun: Annotated[int | None, Query(ge=2000, le=2100)] = None,
        status: Annotated[str, Query(max_length=10)] = "PARKED",
    ) -> HTMLResponse:
        return await admin_page(request, session, section)

    async def profile_page(
        request: Request,
        session: Session,
        user_id: str,
        status: int = 200,
        refused: dict[str, Any] | None = None,
    ) -> HTMLResponse:
        person = await web.backend.get(session.token, "identity", f"/users/{user_id}")
        return web.page(
            request,
            "admin_user.html",
            session,
            status,
            nav="admin",
            person=person,
            refused=refused or {},
        )

    @router.get("/admin/pengguna/{user_id}", response_class=HTMLResponse)
    async def profile(
        request: Request,
        user_id: Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")],
        session: SessionDep,
    ) -> HTMLResponse:
        """One user's profile (name, NIP, rank, position), to correct."""
        return await profile_page(request, session, user_id)

    @router.post("/admin/aksi/{name}", response_model=None)
    async def act(request: Request, name: str, session: Acting) -> Response:
        command = ADMIN_BY_NAME.get(name)
        if command is None:
            raise Refused(404, "Tindakan tidak dikenal.")
        form = await request.form()
        key = form.get("idempotency_key")
        try:
            await web.backend.call(
                session.token,
                command.service,
                command.method,
                command.path(form),
                json=command.body(form, web.settings.time_zone),
                headers={"Idempotency-Key": key} if isinstance(key, str) and key else None,
            )
        except Refused as refused:
            state = {
                "message": refused.message,
                "errors": errors_by_field(refused.fields),
                "values": kept(form),
            }
            if name in ON_THE_USERS_PAGE:
                user_id = path_id(form, "user_id")
                return await profile_page(request, session, user_id, refused.status, {name: state})
            return await admin_page(
                request, session, command.section, refused.status, {name: state}
            )
        return go(request, f"/admin/{command.section}?berhasil={name}")

    return router
