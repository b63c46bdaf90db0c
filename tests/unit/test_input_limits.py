"""The limits on hostile input, without I/O: the body limits (size, JSON depth) of
``infra.limits`` on a small app and on every service's app as its bootstrap builds it, and the
audit of every service's OpenAPI: each string a caller sends has a maximum length, each list a
maximum size, each integer a maximum."""

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.types import Message, Receive, Scope, Send

from devstack.services import SERVICES
from events.fields import Day, Instant
from infra.http import install_error_handlers
from infra.limits import MAX_BODY_BYTES, MAX_JSON_DEPTH, InputLimits, json_depth, limit_input
from tests.service_apps import openapi_document, service_app


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize(
    ("body", "depth"),
    [
        (b"1", 0),
        (b'"[[[{{{"', 0),
        (b'{"a": [1, {"b": []}]}', 4),
        (b'{"a\\"[[": ["\\\\", {"b": "]]]"}]}', 3),
        (nested(50), 50),
        (b"[]" * 1000, 1),
        (b'["unterminated [[[', 4),
    ],
)
def test_json_depth_counts_brackets_outside_strings(body: bytes, depth: int) -> None:
    assert json_depth(body) == depth


class Item(BaseModel):
    name: str


def small_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    limit_input(app)

    @app.post("/items")
    async def add(item: Item) -> dict[str, str]:
        return {"name": item.name}

    @app.post(
        "/raw",
        openapi_extra={
            "requestBody": {"content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}}
        },
    )
    async def raw(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=small_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://limits") as c:
        yield c


async def test_a_body_within_the_limits_reaches_the_route(client: httpx.AsyncClient) -> None:
    answer = await client.post("/items", json={"name": "x" * (MAX_BODY_BYTES - 100)})
    assert answer.status_code == 200
    assert len(answer.json()["name"]) == MAX_BODY_BYTES - 100


async def test_a_body_over_the_limit_is_413_naming_the_limit(client: httpx.AsyncClient) -> None:
    answer = await client.post("/items", json={"name": "x" * MAX_BODY_BYTES})
    assert answer.status_code == 413
    assert answer.json() == {
        "message": f"Isi permintaan melebihi batas {MAX_BODY_BYTES} byte.",
        "field": "body",
        "limit_bytes": MAX_BODY_BYTES,
    }


async def test_a_streamed_body_is_cut_off_at_the_limit(client: httpx.AsyncClient) -> None:
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: chunked
        nonlocal sent
        while sent < 4 * MAX_BODY_BYTES:
            sent += 64 * 1024
            yield b" " * (64 * 1024)

    answer = await client.post("/items", content=chunks())
    assert answer.status_code == 413
    assert sent <= MAX_BODY_BYTES + 64 * 1024  # refused as soon as it was over, not at the end


async def test_json_nested_too_deep_is_422_naming_the_body(client: httpx.AsyncClient) -> None:
    deep = b'{"name": "x", "extra": ' + nested(MAX_JSON_DEPTH) + b"}"
    answer = await client.post("/items", content=deep, headers={"Content-Type": "application/json"})
    assert answer.status_code == 422
    assert answer.json() == {
        "message": f"JSON bersarang lebih dari {MAX_JSON_DEPTH} tingkat.",
        "errors": [
            {
                "field": "body",
                "message": f"JSON bersarang lebih dari {MAX_JSON_DEPTH} tingkat.",
                "type": "json_too_deep",
            }
        ],
    }
    # a hundred thousand levels: refused the same way, nothing parses it (it used to reach
    # json.loads, whose RecursionError FastAPI answered with a bare 400)
    answer = await client.post("/items", content=nested(100_000))
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["type"] == "json_too_deep"


async def test_an_unknown_query_parameter_is_refused_naming_it(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.post("/items", params={"nmae": "x", "name": "y"}, json={"name": "z"})
    assert answer.status_code == 422
    assert answer.json() == {
        "message": "Perbaiki 2 isian berikut: query.name, query.nmae.",
        "errors": [
            {
                "field": f"query.{n}",
                "message": f"Parameter {n} tidak dikenal; hapus atau perbaiki ejaannya.",
                "type": "unknown_parameter",
            }
            for n in ("name", "nmae")
        ],
    }
    assert (await client.get("/not-an-operation", params={"x": "1"})).status_code == 404


async def test_json_python_cannot_read_is_422_naming_the_body(client: httpx.AsyncClient) -> None:
    """It used to reach FastAPI's own parsing, which answered a bare 400 in English."""
    json_type = {"Content-Type": "application/json"}
    for body in (b'{"name": "x", "n": ' + b"9" * 5000 + b"}", b'{"name": "\xff"}'):
        answer = await client.post("/items", content=body, headers=json_type)
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"][0]["field"] == "body"
        assert answer.json()["errors"][0]["type"] == "json_unreadable"
    syntax = await client.post("/items", content=b'{"name": ', headers=json_type)
    assert syntax.status_code == 422
    assert syntax.json()["errors"][0]["type"] == "json_invalid"  # FastAPI's, with the position


async def test_a_route_that_reads_its_own_raw_body_is_left_alone(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.post("/raw", content=b"[" * (2 * MAX_BODY_BYTES))
    assert answer.status_code == 200
    assert answer.json() == {"size": 2 * MAX_BODY_BYTES}


async def test_after_the_body_the_app_still_hears_the_client_leave() -> None:
    """A streaming answer (the SSE stream) waits on ``receive`` for the disconnect: the
    middleware hands the buffered body first, then the client's own messages."""
    heard: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        heard.append(await receive())
        heard.append(await receive())

    incoming: list[Message] = [
        {"type": "http.request", "body": b'{"a"', "more_body": True},
        {"type": "http.request", "body": b": 1}", "more_body": False},
        {"type": "http.disconnect"},
    ]

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        raise AssertionError(f"nothing is answered by the limits: {message}")

    scope: Scope = {"type": "http", "method": "GET", "path": "/stream", "headers": []}
    stream = {"paths": {"/stream": {"get": {}}}}
    await InputLimits(app, openapi=lambda: stream)(scope, receive, send)
    assert heard == [
        {"type": "http.request", "body": b'{"a": 1}', "more_body": False},
        {"type": "http.disconnect"},
    ]


@pytest.mark.parametrize(
    ("kind", "value", "accepted"),
    [
        (Day, "2024-02-29", True),
        (Day, "1970-01-01", True),
        (Day, "2100-12-31", True),
        (Day, "1969-12-31", False),
        (Day, "2999-01-01", False),
        (Day, "0", False),  # pydantic alone reads a number as seconds since 1970
        (Day, 0, False),
        (Instant, "2024-03-04T08:25:00+07:00", True),
        (Instant, "2024-03-04T08:25:00", False),  # no zone
        (Instant, "0001-01-01T00:00:00+14:00", False),  # before year 1 in UTC: a 500 in asyncpg
        (Instant, "9999-12-31T23:59:59-14:00", False),
        (Instant, "0.5", False),
        (Instant, 1700000000, False),
    ],
)
def test_days_and_instants_are_iso_text_within_the_years(
    kind: object, value: object, accepted: bool
) -> None:
    adapter: TypeAdapter[object] = TypeAdapter(kind)
    if accepted:
        adapter.validate_python(value)
    else:
        with pytest.raises(ValidationError):
            adapter.validate_python(value)


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, FastAPI]:
    keys = tmp_path_factory.mktemp("keys")
    return {service: service_app(service, keys) for service in SERVICES}


def json_posts(app: FastAPI) -> Iterator[str]:
    """The paths of the app's POST operations with a JSON body (path parameters filled in)."""
    for path, operations in app.openapi()["paths"].items():
        body = operations.get("post", {}).get("requestBody", {})
        if "application/json" in body.get("content", {}):
            yield path.replace("{", "").replace("}", "")


@pytest.mark.parametrize("service", SERVICES)
async def test_every_service_limits_its_bodies(apps: dict[str, FastAPI], service: str) -> None:
    """Answered by the limits before anything else runs (the app is not even started)."""
    posts = list(json_posts(apps[service]))
    assert posts, f"{service} has no JSON POST route"
    transport = httpx.ASGITransport(app=apps[service])
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as c:
        for path in posts:
            big = await c.post(
                path,
                content=b" " * (MAX_BODY_BYTES + 1),
                headers={"Content-Type": "application/json"},
            )
            assert big.status_code == 413, (service, path, big.text)
            deep = await c.post(
                path,
                content=nested(MAX_JSON_DEPTH + 1),
                headers={"Content-Type": "application/json"},
            )
            assert deep.status_code == 422, (service, path, deep.text)
            assert deep.json()["errors"][0]["field"] == "body"


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        target: Any = document
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        schema = target
    return schema


def unbounded(document: dict[str, Any], schema: dict[str, Any], where: str) -> Iterator[str]:
    """Where ``schema`` lets a caller send a string, list or integer without an upper bound."""
    schema = resolve(document, schema)
    for key in ("anyOf", "oneOf", "allOf"):
        for part in schema.get(key, []):
            yield from unbounded(document, part, where)
    kind = schema.get("type")
    fixed = "enum" in schema or "const" in schema
    if (
        kind == "string"
        and not fixed
        and "maxLength" not in schema
        and schema.get("format") not in ("date", "date-time", "uuid", "binary")
    ):
        yield f"{where}: string without maxLength"
    if kind == "array":
        if "maxItems" not in schema:
            yield f"{where}: array without maxItems"
        yield from unbounded(document, schema.get("items", {}), f"{where}[]")
    if kind in ("integer", "number") and not fixed and "maximum" not in schema:
        yield f"{where}: {kind} without maximum"
    for name, part in schema.get("properties", {}).items():
        yield from unbounded(document, part, f"{where}.{name}")
    if schema.get("additionalProperties") not in (None, False):
        yield f"{where}: open object"


@pytest.mark.parametrize("service", SERVICES)
def test_every_input_in_the_openapi_is_bounded(service: str) -> None:
    document = openapi_document(service)
    found = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            at = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                name = f"{at} {parameter['in']}.{parameter['name']}"
                found += unbounded(document, parameter.get("schema", {}), name)
            for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
                found += unbounded(document, content.get("schema", {}), f"{at} {media_type}")
    assert found == [], json.dumps(found, indent=1)
