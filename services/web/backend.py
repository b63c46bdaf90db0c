"""The services' HTTP APIs, called with the signed-in user's token: the only way the web app
learns or changes anything.

Calls go through one aiohttp session: a page makes up to ten of them at once, and aiohttp's
client costs a tenth of httpx's CPU per call there (0.2 ms against 2.8 ms at 50 calls in
flight, ``bench.web``'s reason). httpx stays for the one long-lived stream (``pages/live.py``).
"""

import hashlib
import json as jsonlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
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


@dataclass(frozen=True)
class Answer:
    """A service's successful answer, read whole."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes

    def json(self) -> Any:
        return jsonlib.loads(self.content)


def query(params: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """Query parameters as pairs: empty ones left out, a list repeated (``?role=A&role=B``)."""
    pairs = []
    for name, value in (params or {}).items():
        for one in value if isinstance(value, list | tuple) else [value]:
            if one not in (None, ""):
                pairs.append((name, str(one).lower() if isinstance(one, bool) else str(one)))
    return pairs


@dataclass
class Backend:
    """The clients of every service; ``upstreams`` maps a service to its base URL. ``open``
    and ``close`` run in the app's lifespan (an aiohttp session belongs to its event loop)."""

    upstreams: Mapping[str, str]
    client: httpx.AsyncClient = field(
        default_factory=lambda: httpx.AsyncClient(timeout=httpx.Timeout(30.0, read=None))
    )
    """For streams."""
    _calls: aiohttp.ClientSession | None = field(default=None, init=False)

    async def open(self) -> None:
        self._calls = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))

    async def close(self) -> None:
        if self._calls is not None:
            await self._calls.close()
        await self.client.aclose()

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
    ) -> Answer:
        """The service's answer when it is a success; ``Refused`` or ``SessionExpired`` if not."""
        assert self._calls is not None, "Backend.open() first"
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        if json is not None:
            content = jsonlib.dumps(json).encode()
            sent["Content-Type"] = "application/json"
        try:
            async with self._calls.request(
                method, self.url(service, path), params=query(params), data=content, headers=sent
            ) as response:
                answer = Answer(response.status, response.headers, await response.read())
        except (aiohttp.ClientError, TimeoutError):
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
