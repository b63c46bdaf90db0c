"""The signed-in user's session: identity's access token in an HttpOnly, SameSite=Strict cookie,
identity's refresh token in a second one (``services.web.renewal`` renews the access token with
it before it expires), and CSRF tokens bound to the session.

A CSRF token is an HMAC of the refresh token (of the access token, for a session without one)
under the web app's secret: a page of another site can neither read the cookies nor compute the
token, a form drawn before a renewal still carries a valid one, and a token is worth nothing once
its session ends. The login form, before any session, binds its token to a random nonce kept in
a cookie of its own.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Request, Response

from infra.auth import ACCESS, REFRESH, InvalidToken, TokenVerifier
from infra.principal import Principal

SESSION_COOKIE = "jejak_sesi"
REFRESH_COOKIE = "jejak_segar"
LOGIN_NONCE_COOKIE = "jejak_masuk"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


class LoginRequired(Exception):
    """No valid session: back to the login page, then to ``next_path``."""

    def __init__(self, next_path: str, expired: bool) -> None:
        super().__init__(next_path)
        self.next_path = next_path
        self.expired = expired

    @property
    def login_url(self) -> str:
        reason = "&alasan=berakhir" if self.expired else ""
        return f"/masuk?lanjut={quote(self.next_path, safe='/')}{reason}"


class CsrfRefused(Exception):
    """A state-changing request without the token its session's forms carry."""


@dataclass(frozen=True)
class Session:
    token: str
    user: Principal
    expires_at: datetime
    csrf: str
    binding: str
    """What the session's CSRF tokens are bound to."""


def safe_next(path: str | None) -> str:
    """Where to go after signing in: only a path of this site."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


def where_the_user_is(request: Request) -> str:
    """The page the user was on: the one asked for, or, for a form or a partial update, the page
    it was sent from."""
    if request.headers.get("HX-Current-URL"):
        page = request.headers["HX-Current-URL"]
    elif request.method == "GET":
        page = str(request.url)
    else:
        page = request.headers.get("Referer", "/")
    parts = urlsplit(page)
    return safe_next(parts.path + (f"?{parts.query}" if parts.query else ""))


@dataclass(frozen=True)
class Sessions:
    verifier: TokenVerifier
    secret: bytes
    secure: bool

    def csrf_for(self, binding: str) -> str:
        return hmac.new(self.secret, binding.encode(), hashlib.sha256).hexdigest()

    def current(self, request: Request) -> Session:
        """The request's session, or ``LoginRequired`` (naming where the user was going)."""
        token = request.cookies.get(SESSION_COOKIE)
        path = where_the_user_is(request)
        if not token:
            raise LoginRequired(path, expired=False)
        try:
            claims = self.verifier.claims(token)
        except InvalidToken:
            raise LoginRequired(path, expired=True) from None
        user = self.verifier.principal(claims)
        expires = datetime.fromtimestamp(int(claims["exp"]), UTC)
        binding = request.cookies.get(REFRESH_COOKIE) or token
        return Session(token, user, expires, self.csrf_for(binding), binding)

    def check_csrf(self, session_binding: str, sent: str | None) -> None:
        if not sent or not hmac.compare_digest(sent, self.csrf_for(session_binding)):
            raise CsrfRefused()

    def open(self, response: Response, token: str, refresh: str | None = None) -> None:
        """Sign in: the access token's cookie, and the refresh token's if identity gave one."""
        self.keep(response, SESSION_COOKIE, token, self.verifier.claims(token))
        if refresh:
            claims = self.verifier.claims(refresh, uses=(ACCESS, REFRESH))
            self.keep(response, REFRESH_COOKIE, refresh, claims)
        response.delete_cookie(LOGIN_NONCE_COOKIE, path="/masuk")

    def keep(self, response: Response, cookie: str, token: str, claims: dict[str, Any]) -> None:
        """``token`` in ``cookie`` until it expires."""
        expires = datetime.fromtimestamp(int(claims["exp"]), UTC)
        response.set_cookie(
            cookie,
            token,
            max_age=max(0, int((expires - datetime.now(UTC)).total_seconds())),
            httponly=True,
            samesite="strict",
            secure=self.secure,
            path="/",
        )

    def close(self, response: Response) -> None:
        for cookie in (SESSION_COOKIE, REFRESH_COOKIE):
            response.delete_cookie(
                cookie, httponly=True, samesite="strict", secure=self.secure, path="/"
            )

    @staticmethod
    def login_nonce(request: Request) -> str:
        """The login form's CSRF binding: its cookie's nonce, or a new one."""
        return request.cookies.get(LOGIN_NONCE_COOKIE) or secrets.token_urlsafe(24)

    def keep_login_nonce(self, response: Response, nonce: str) -> None:
        response.set_cookie(
            LOGIN_NONCE_COOKIE,
            nonce,
            max_age=3600,
            httponly=True,
            samesite="strict",
            secure=self.secure,
            path="/masuk",
        )
