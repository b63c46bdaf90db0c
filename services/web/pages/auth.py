"""Masuk and Keluar: the login form posts to identity; the token becomes the session cookie.

identity throttles logins per client address, and every login reaches it from the web app: so
the web app names the browser's address in ``X-Forwarded-For`` (the address its own server
took from the gateway, which it believes by ``FORWARDED_ALLOW_IPS``; never a header the browser
sent), and identity believes it from the web app's address only (docs/security.md)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from services.web.backend import Refused
from services.web.session import LOGIN_NONCE_COOKIE, Session, safe_next
from services.web.web import Web, go

EXPIRED = "Sesi Anda telah berakhir. Silakan masuk lagi."


def browser_address(request: Request) -> dict[str, str]:
    """The header that names the browser's address to identity (none if unknown)."""
    return {"X-Forwarded-For": request.client.host} if request.client else {}


WRONG = "Nama pengguna atau kata sandi salah."


def build(web: Web) -> APIRouter:
    router = APIRouter()

    def login_page(
        request: Request,
        next_path: str,
        message: str = "",
        username: str = "",
        status: int = 200,
    ) -> HTMLResponse:
        nonce = web.sessions.login_nonce(request)
        answer = web.page(
            request,
            "login.html",
            None,
            status,
            next_path=safe_next(next_path),
            message=message,
            username=username,
            login_csrf=web.sessions.csrf_for(nonce),
        )
        web.sessions.keep_login_nonce(answer, nonce)
        return answer

    @router.get("/masuk", response_class=HTMLResponse)
    async def show(request: Request, lanjut: str = "/", alasan: str = "") -> HTMLResponse:
        return login_page(request, lanjut, EXPIRED if alasan == "berakhir" else "")

    @router.post("/masuk", response_model=None)
    async def sign_in(
        request: Request,
        username: Annotated[str, Form(max_length=64)] = "",
        password: Annotated[str, Form(max_length=256)] = "",
        lanjut: Annotated[str, Form(max_length=2000)] = "/",
        csrf_token: Annotated[str, Form(max_length=128)] = "",
    ) -> Response:
        nonce = request.cookies.get(LOGIN_NONCE_COOKIE, "")
        if not nonce or csrf_token != web.sessions.csrf_for(nonce):
            message = "Formulir kedaluwarsa; silakan masuk lagi."
            return login_page(request, lanjut, message, username, 403)
        if not username or not password:
            return login_page(request, lanjut, "Isi nama pengguna dan kata sandi.", username, 422)
        try:
            answer = await web.backend.call(
                None,
                "identity",
                "POST",
                "/login",
                json={"username": username, "password": password},
                headers=browser_address(request),
            )
        except Refused as refused:
            message = WRONG if refused.status in (401, 422) else refused.message
            return login_page(request, lanjut, message, username, refused.status)
        response = go(request, safe_next(lanjut))
        tokens = answer.json()
        web.sessions.open(response, tokens["access_token"], tokens.get("refresh_token"))
        return response

    @router.post("/keluar", response_model=None)
    async def sign_out(
        request: Request, session: Annotated[Session, Depends(web.acting_session)]
    ) -> Response:
        response = go(request, "/masuk")
        web.sessions.close(response)
        return response

    return router
