"""Wiring of the web app: the one place where its parts meet."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException

from infra.auth import TokenVerifier, development_keys
from infra.logging import configure_logging
from services.web import formatting, presenters, vocabulary
from services.web.backend import Backend, Refused, SessionExpired
from services.web.directory import Directory
from services.web.headers import SecurityHeaders
from services.web.pages import (
    admin,
    audit,
    auth,
    case,
    documents,
    inbox,
    live,
    reports,
    requests,
)
from services.web.renewal import SessionRenewal
from services.web.session import CsrfRefused, LoginRequired, Sessions, where_the_user_is
from services.web.settings import WebSettings
from services.web.web import Web, go

HERE = Path(__file__).parent
VENDOR_FILES = {
    "htmx.min.js": Path("htmx.org", "dist", "htmx.min.js"),
    "sse.min.js": Path("htmx-ext-sse", "dist", "sse.min.js"),
}
"""The third-party browser files the app serves itself, as npm installed them
(``package.json``) under ``WebSettings.assets_dir``."""


def templates(time_zone: str) -> Jinja2Templates:
    found = Jinja2Templates(directory=HERE / "templates")
    env = found.env
    env.filters["instant"] = formatting.instant
    env.filters["day"] = formatting.day
    env.filters["number"] = formatting.number
    env.filters["working_time"] = formatting.working_time
    env.filters["month_name"] = formatting.month_name
    env.filters["section_label"] = presenters.section_label
    env.filters["user_option"] = presenters.user_option
    env.filters["user_option_id"] = presenters.user_option_id
    env.filters["problem_option"] = presenters.problem_option
    env.filters["user_name"] = presenters.user_name
    env.filters["delegation_option"] = presenters.delegation_option
    env.filters["zip_with"] = lambda first, second: zip(first, second, strict=True)
    env.tests["contains"] = lambda values, value: value in (values or ())
    env.tests["contains_any"] = lambda values, wanted: bool(set(values or ()) & set(wanted))
    env.globals["words"] = vocabulary
    env.globals["zip"] = zip
    env.globals["request_values"] = presenters.request_values
    env.globals["new_key"] = presenters.new_key
    return found


def create_app(settings: WebSettings) -> FastAPI:
    """The web app."""
    settings.check_web_production()
    public = settings.jwt_public_key or development_keys(Path(settings.jwt_key_dir))[1]
    backend = Backend(settings.upstreams)
    web = Web(
        templates(settings.time_zone),
        backend,
        Sessions(
            TokenVerifier(public),
            settings.session_secret.get_secret_value().encode(),
            settings.secure_cookies,
        ),
        settings,
        Directory(backend),
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        configure_logging("web", settings.log_format, settings.log_level)
        await backend.open()
        yield
        await backend.close()

    app = FastAPI(
        title="Jejak",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
        root_path=settings.root_path,
    )
    app.add_middleware(GZipMiddleware, minimum_size=800)

    app.add_middleware(SecurityHeaders)

    async def renew(refresh: str) -> str | None:
        try:
            answer = await backend.call(refresh, "identity", "POST", "/token/refresh")
        except (SessionExpired, Refused):
            return None
        token: str = answer.json()["access_token"]
        return token

    app.add_middleware(SessionRenewal, sessions=web.sessions, renew=renew)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, error: LoginRequired) -> Response:
        # the stale cookie stays until the next sign-in replaces it: deleting it here would
        # let a background request (the live stream reconnecting) take the "expired" message
        # away from the page the user opens next
        return go(request, error.login_url)

    @app.exception_handler(SessionExpired)
    async def session_expired(request: Request, _: SessionExpired) -> Response:
        return await login_required(request, LoginRequired(where_the_user_is(request), True))

    @app.exception_handler(CsrfRefused)
    async def csrf_refused(request: Request, _: CsrfRefused) -> HTMLResponse:
        message = "Formulir ini kedaluwarsa atau bukan dari Jejak. Muat ulang halaman dan ulangi."
        return web.page(request, "error.html", None, 403, title="Ditolak", message=message)

    @app.exception_handler(Refused)
    async def refused(request: Request, error: Refused) -> HTMLResponse:
        titles = {403: "Tidak berwenang", 404: "Tidak ditemukan", 503: "Tidak tersedia"}
        title = titles.get(error.status, "Permintaan ditolak")
        return web.page(
            request, "error.html", None, error.status, title=title, message=error.message
        )

    @app.exception_handler(HTTPException)
    async def not_found(request: Request, error: HTTPException) -> Response:
        if error.status_code == 404:
            message = "Halaman yang Anda cari tidak ada."
            return web.page(
                request, "error.html", None, 404, title="Tidak ditemukan", message=message
            )
        return JSONResponse({"message": error.detail}, error.status_code)

    @app.get("/health", include_in_schema=False)
    async def health() -> JSONResponse:
        return JSONResponse({"service": "web", "ok": True})

    @app.get("/static/vendor/{name}", include_in_schema=False)
    async def vendor(name: str) -> FileResponse:
        if name not in VENDOR_FILES:
            raise HTTPException(404)
        return FileResponse(
            settings.assets_dir / VENDOR_FILES[name],
            headers={"Cache-Control": "public, max-age=86400"},
        )

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for page in (auth, inbox, live, requests, audit, case, reports, admin, documents):
        app.include_router(page.build(web))
    return app
