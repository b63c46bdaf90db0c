"""The services' HTTP APIs, called with the signed-in user's token: the only way the web app
learns or changes anything."""

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

GENERIC_REFUSAL = "Permintaan ditolak."
UNAVAILABLE = "Layanan {service} sedang tidak dapat dihubungi; coba lagi sebentar lagi."


class SessionExpired(Exception):
    """A service answered 401: the token expired or was revoked; the user must sign in again."""


@dataclass
class Refused(Exception):
    """A 4xx (or a 503) the user should read: the service's message, and the fields at fault
    with their own messages (``""`` for the refusal as a whole)."""

    status: int
    message: str
    fields: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status}: {self.message}"


def refusal_of(status: int, body: Any) -> Refused:
    """A service's error answer as a ``Refused``: ``{"message", "field"}`` from a domain error,
    ``{"message", "errors": [{"field", "message"}]}`` from invalid input."""
    if not isinstance(body, Mapping):
        return Refused(status, GENERIC_REFUSAL)
    message = str(body.get("message") or GENERIC_REFUSAL)
    fields: dict[str, str] = {}
    if body.get("field"):
        fields[str(body["field"])] = message
    for error in body.get("errors") or []:
        if isinstance(error, Mapping) and error.get("field"):
            name = str(error["field"]).removeprefix("body.").removeprefix("query.")
            fields.setdefault(name, str(error.get("message") or message))
    return Refused(status, message, fields)


@dataclass
class Backend:
    """One HTTP client for every service; ``upstreams`` maps a service to its base URL."""

    client: httpx.AsyncClient
    upstreams: Mapping[str, str]

    def url(self, service: str, path: str) -> str:
        if service not in self.upstreams:
            raise Refused(503, UNAVAILABLE.format(service=service))
        return f"{self.upstreams[service].rstrip('/')}/{path.lstrip('/')}"

    async def call(
        self,
        token: str | None,
        service: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """The service's answer when it is a success; ``Refused`` or ``SessionExpired`` if not."""
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        try:
            answer = await self.client.request(
                method,
                self.url(service, path),
                json=json,
                params={k: v for k, v in (params or {}).items() if v not in (None, "")},
                content=content,
                headers=sent,
            )
        except httpx.TransportError:
            raise Refused(503, UNAVAILABLE.format(service=service)) from None
        if answer.status_code == 401 and token:
            raise SessionExpired()
        if answer.status_code >= 400:
            try:
                body = answer.json()
            except ValueError:
                body = None
            raise refusal_of(answer.status_code, body)
        return answer

    async def get(
        self, token: str, service: str, path: str, params: Mapping[str, Any] | None = None
    ) -> Any:
        return (await self.call(token, service, "GET", path, params=params)).json()

    async def post(
        self,
        token: str,
        service: str,
        path: str,
        body: Any,
        idempotency_key: str | None = None,
    ) -> Any:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        answer = await self.call(token, service, "POST", path, json=body, headers=headers)
        return answer.json() if answer.content else None

    async def upload(
        self, token: str, content: bytes, media_type: str, form_key: str | None
    ) -> dict[str, Any]:
        """Store an attachment at intake. With the form's key, the upload's key is the form's
        and the file's: the same file sent again is answered again, another file is stored."""
        headers = {"Content-Type": media_type}
        if form_key:
            headers["Idempotency-Key"] = f"{form_key}-{hashlib.sha256(content).hexdigest()[:16]}"
        answer = await self.call(
            token, "intake", "POST", "/attachments", content=content, headers=headers
        )
        return dict(answer.json())
