"""What every page shares: the templates, the backend, the session and its CSRF check."""

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from services.web.backend import Backend
from services.web.directory import Directory
from services.web.session import CSRF_FIELD, CSRF_HEADER, Session, Sessions
from services.web.settings import WebSettings


@dataclass
class Web:
    templates: Jinja2Templates
    backend: Backend
    sessions: Sessions
    settings: WebSettings
    directory: Directory

    async def session(self, request: Request) -> Session:
        """The FastAPI dependency of every page: the session, or back to the login page."""
        return self.sessions.current(request)

    async def acting_session(self, request: Request) -> Session:
        """The dependency of every form that changes something: the session, and its CSRF
        token in the form (or, from htmx, in a header)."""
        session = self.sessions.current(request)
        sent = request.headers.get(CSRF_HEADER)
        if sent is None and request.method == "POST":
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
        self.sessions.check_csrf(session.binding, sent)
        return session

    def page(
        self,
        request: Request,
        template: str,
        session: Session | None,
        status: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        """``template`` with the session's user, its CSRF token and the office's time zone."""
        return self.templates.TemplateResponse(
            request,
            template,
            {
                "session": session,
                "user": session.user if session else None,
                "csrf": session.csrf if session else "",
                "zone": self.settings.time_zone,
                **context,
            },
            status_code=status,
        )


def go(request: Request, url: str) -> Response:
    """Send the browser to ``url``: a redirect, or for htmx a full-page navigation."""
    if request.headers.get("HX-Request"):
        return Response(status_code=200, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)
