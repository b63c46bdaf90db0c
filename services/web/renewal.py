"""Renewal of the session's access token, before any page sees it.

Access tokens live minutes (a revoked role stops working within that time), so a request whose
access token is missing, expired or about to expire, and which carries the refresh cookie, gets a
new access token from identity's ``token/refresh`` (with the roles held now) first: the request
goes on with it, and the answer sets it as the session cookie. A refused renewal (the session's
12 hours are over, the user is gone) leaves the request as it was, so the page sends the user to
the login form, and drops the refresh cookie. A plain ASGI middleware, as ``headers.py``."""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie

import jwt
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.web.session import REFRESH_COOKIE, SESSION_COOKIE, Sessions

RENEW_BEFORE = timedelta(minutes=2)
"""An access token this close to its expiry is renewed (a page's calls need it a while)."""

Renew = Callable[[str], Awaitable[str | None]]
"""identity's ``token/refresh`` for a refresh token: the new access token, or None if refused."""


def needs_renewal(token: str | None, now: datetime, before: timedelta = RENEW_BEFORE) -> bool:
    """Whether ``token`` is absent, unreadable, or expires within ``before`` of ``now``. The
    signature is not checked here: this only decides whether to ask identity, and every page
    verifies the token it gets."""
    if not token:
        return True
    try:
        exp = jwt.decode(token, options={"verify_signature": False})["exp"]
        return bool(datetime.fromtimestamp(int(exp), UTC) - now <= before)
    except (jwt.PyJWTError, KeyError, TypeError, ValueError):
        return True


def with_cookie(scope: Scope, name: str, value: str) -> Scope:
    """``scope`` whose Cookie header has ``name`` set to ``value``."""
    cookies = dict(Request(scope).cookies)
    cookies[name] = value
    jar = SimpleCookie()
    for key, kept in cookies.items():
        jar[key] = kept
    line = "; ".join(morsel.OutputString() for morsel in jar.values())
    headers = [(k, v) for k, v in scope["headers"] if k != b"cookie"]
    return {**scope, "headers": [*headers, (b"cookie", line.encode("latin-1"))]}


class SessionRenewal:
    def __init__(self, app: ASGIApp, sessions: Sessions, renew: Renew) -> None:
        self.app = app
        self.sessions = sessions
        self.renew = renew

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookies = Request(scope).cookies
        refresh = cookies.get(REFRESH_COOKIE)
        if not refresh or not needs_renewal(cookies.get(SESSION_COOKIE), datetime.now(UTC)):
            await self.app(scope, receive, send)
            return
        token = await self.renew(refresh)
        cookie = Response()
        if token is None:
            cookie.delete_cookie(REFRESH_COOKIE, path="/")
        else:
            claims = self.sessions.verifier.claims(token)
            self.sessions.keep(cookie, SESSION_COOKIE, token, claims)
            scope = with_cookie(scope, SESSION_COOKIE, token)
        set_cookies = [v for k, v in cookie.raw_headers if k == b"set-cookie"]

        async def starting(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for value in set_cookies:
                    headers.append("set-cookie", value.decode("latin-1"))
            await send(message)

        await self.app(scope, receive, starting)
