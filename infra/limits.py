"""Limits on every request, for every service, checked before anything parses it: only the query
parameters the operation declares (422 naming the unknown one: a misspelt filter is refused, not
silently ignored), a body of at most ``MAX_BODY_BYTES`` (413) and JSON nested at most
``MAX_JSON_DEPTH`` deep (422 naming ``body``).

What an operation declares comes from the app's own OpenAPI. An operation whose request body is
not JSON (e.g. intake's raw attachment upload, declared with ``openapi_extra``) reads and limits
that body itself. Field-level limits (string lengths, list sizes, number ranges) live in the
models and in ``events.fields``.
"""

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import accumulate
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infra.errors import DomainError
from infra.http import invalid_input

MAX_BODY_BYTES = 1024 * 1024
"""The largest request body a route accepts unless it reads its own (1 MiB): a command carries
text and attachment references, never files."""

MAX_JSON_DEPTH = 32
"""The deepest nesting of arrays and objects accepted; the deepest command needs fewer than 8."""

MAX_OFFSET = 100_000
"""The most rows a listing may skip (``offset``): page with filters, not by skipping further."""

MAX_SEQ = 2**63 - 1
"""The largest sequence number (a PostgreSQL ``bigint``) a query may name."""

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = tuple(1 if b in b"[{" else -1 for b in range(256))


class BodyTooLarge(DomainError):
    """The body is over the limit: 413, naming the limit."""

    status = 413

    def __init__(self, limit_bytes: int) -> None:
        super().__init__(f"Isi permintaan melebihi batas {limit_bytes} byte.")
        self.limit_bytes = limit_bytes

    def detail(self) -> dict[str, object]:
        return {"message": self.message, "field": "body", "limit_bytes": self.limit_bytes}


def json_depth(body: bytes) -> int:
    """How deep arrays and objects nest in ``body`` (0 for a scalar), brackets inside strings
    not counted. Meant for a body not yet known to be valid JSON: it never parses."""
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKET)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


@dataclass(frozen=True)
class Operation:
    """What the limits need of one operation of the app's OpenAPI."""

    method: str
    path: re.Pattern[str]
    query: frozenset[str]
    """The query parameters it declares; any other is refused."""
    raw_body: bool
    """Its request body is not JSON: it reads (and limits) the body itself."""


def operations(openapi: Mapping[str, Any]) -> list[Operation]:
    """The operations of an OpenAPI document, in the order the app's router tries them."""
    found = []
    for path, by_method in openapi.get("paths", {}).items():
        for method, operation in by_method.items():
            content = operation.get("requestBody", {}).get("content", {})
            query = frozenset(
                p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"
            )
            raw = bool(content) and not any("json" in media_type for media_type in content)
            found.append(Operation(method.upper(), compile_path(path)[0], query, raw))
    return found


class InputLimits:
    """ASGI middleware, before any route runs: refuses a query parameter the operation does not
    declare (422 naming it), buffers the body up to ``max_bytes`` (413 beyond, as soon as
    known), refuses JSON nested deeper than ``max_depth`` (422 naming ``body``), then hands the
    body on. A request for no documented operation (404, 405, the docs) is left to the app."""

    def __init__(
        self,
        app: ASGIApp,
        openapi: Callable[[], Mapping[str, Any]],
        max_bytes: int = MAX_BODY_BYTES,
        max_depth: int = MAX_JSON_DEPTH,
    ) -> None:
        self.app = app
        self.openapi = openapi
        self.max_bytes = max_bytes
        self.max_depth = max_depth
        self._operations: list[Operation] | None = None

    def _operation(self, scope: Scope) -> Operation | None:
        if self._operations is None:  # the routes are all declared once the app serves
            self._operations = operations(self.openapi())
        path, root = scope["path"], scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        for operation in self._operations:
            if operation.method == scope["method"] and operation.path.match(path):
                return operation
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        operation = self._operation(scope) if scope["type"] == "http" else None
        if operation is None:
            await self.app(scope, receive, send)
            return
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        if unknown := sorted({name for name, _ in query} - operation.query):
            await invalid_input(
                [
                    {
                        "field": f"query.{name[:64]}",
                        "message": f"Parameter {name[:64]} tidak dikenal; hapus atau perbaiki "
                        "ejaannya.",
                        "type": "unknown_parameter",
                    }
                    for name in unknown[:10]
                ]
            )(scope, receive, send)
            return
        if operation.raw_body:
            await self.app(scope, receive, send)
            return
        too_large = JSONResponse(status_code=413, content=BodyTooLarge(self.max_bytes).detail())
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await too_large(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                await too_large(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        if problem := self._unreadable(bytes(body), dict(scope["headers"])):
            await invalid_input([problem])(scope, receive, send)
            return
        await self.app(scope, _replay(bytes(body), receive), send)

    def _unreadable(self, body: bytes, headers: Mapping[bytes, bytes]) -> dict[str, str] | None:
        """Why the body cannot be read as JSON (too deep; or, where FastAPI would read it as
        JSON, a number too long for Python or bytes that are no text), else None. Plain
        syntax errors are left to FastAPI, which names their position."""
        if not body:
            return None
        if json_depth(body) > self.max_depth:
            return {
                "field": "body",
                "type": "json_too_deep",
                "message": f"JSON bersarang lebih dari {self.max_depth} tingkat.",
            }
        if not _read_as_json(headers.get(b"content-type", b"")):
            return None
        try:
            json.loads(body)
        except json.JSONDecodeError:
            return None
        except ValueError:  # e.g. an integer of more than 4300 digits, bad UTF-8
            return {
                "field": "body",
                "type": "json_unreadable",
                "message": "JSON tidak dapat dibaca: ada angka yang terlalu panjang atau byte "
                "yang bukan teks UTF-8; periksa isinya.",
            }
        return None


def _read_as_json(content_type: bytes) -> bool:
    """Whether FastAPI reads a body with this Content-Type as JSON (none, ``application/json``
    or ``application/*+json``)."""
    media_type = content_type.split(b";", 1)[0].strip().lower()
    return (
        not media_type
        or media_type == b"application/json"
        or (media_type.startswith(b"application/") and media_type.endswith(b"+json"))
    )


def _replay(body: bytes, receive: Receive) -> Receive:
    """``receive`` that gives ``body`` first, then whatever the client sends next (its
    disconnect, which a streaming response waits for)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def limit_input(
    app: FastAPI, max_bytes: int = MAX_BODY_BYTES, max_depth: int = MAX_JSON_DEPTH
) -> None:
    """Apply ``InputLimits`` to every operation of ``app`` (call in the service's bootstrap)."""
    app.add_middleware(InputLimits, openapi=app.openapi, max_bytes=max_bytes, max_depth=max_depth)
