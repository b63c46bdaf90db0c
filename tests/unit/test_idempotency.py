"""``infra.idempotency`` without a database: what a key makes of a command, the header as every
route declares it, and every service's OpenAPI declaring it on every state-changing route."""

import datetime as dt
import json
import uuid
from functools import cache
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, ValidationError

from devstack.services import SERVICES
from infra.http import install_error_handlers
from infra.idempotency import (
    DEFAULT_RETENTION,
    MINIMUM_RETENTION,
    Answer,
    IdempotencyKey,
    IdempotencyKeys,
    Key,
    KeyReused,
)
from infra.settings import Settings
from tests.service_apps import openapi_document


class Note(BaseModel):
    note: str | None = None
    day: dt.date | None = None


def test_a_command_is_its_path_and_body() -> None:
    key = Key("k", "POST /requests/R-1/dispose")
    same = key.fingerprint(Note(note="a", day=dt.date(2024, 5, 6)))
    assert same == key.fingerprint(Note(note="a", day=dt.date(2024, 5, 6)))
    assert same == key.fingerprint({"note": "a", "day": "2024-05-06"})  # its JSON, not its type
    others = {
        key.fingerprint(Note(note="b", day=dt.date(2024, 5, 6))),
        Key("k", "POST /requests/R-2/dispose").fingerprint(Note(note="a", day=dt.date(2024, 5, 6))),
        Key("k", "POST /requests/R-1/reject").fingerprint(Note(note="a", day=dt.date(2024, 5, 6))),
        key.fingerprint(None),
    }
    assert same not in others and len(others) == 4
    assert len(same) == 64 and int(same, 16) >= 0


def test_an_answer_is_the_routes_status_and_the_results_json() -> None:
    key = Key("k", "POST /x", status_code=202)
    document_id = uuid.uuid4()
    answer = key.answer({"document_id": document_id, "on": dt.date(2024, 5, 6)})
    assert answer == Answer(202, {"document_id": str(document_id), "on": "2024-05-06"})
    assert key.answer(Note(note="a")) == Answer(202, {"note": "a", "day": None})
    chosen = Answer(200, {"sha256": "ab"})
    assert key.answer(chosen) is chosen


def test_a_replayed_answer_says_so_in_its_header() -> None:
    first = Answer(201, {"request_id": "R-1", "event_ids": ["e"]}).response()
    replayed = Answer(201, {"request_id": "R-1", "event_ids": ["e"]}, replayed=True).response()
    assert (first.status_code, replayed.status_code) == (201, 201)
    assert first.body == replayed.body
    assert "idempotent-replayed" not in first.headers
    assert replayed.headers["idempotent-replayed"] == "true"


def test_answers_are_kept_at_least_a_day() -> None:
    assert IdempotencyKeys("s").retention == DEFAULT_RETENTION >= MINIMUM_RETENTION
    with pytest.raises(ValueError, match="paling sedikit 24 jam"):
        IdempotencyKeys("s", dt.timedelta(hours=23))
    assert Settings().idempotency_retention == dt.timedelta(days=7)
    assert Settings(idempotency_retention_hours=24).idempotency_retention == MINIMUM_RETENTION
    with pytest.raises(ValidationError):
        Settings(idempotency_retention_hours=23)


def test_a_reused_key_is_refused_in_indonesian_naming_the_header() -> None:
    refusal = KeyReused()
    assert refusal.status == 422
    assert refusal.detail()["field"] == "header.idempotency-key"
    assert "sudah dipakai" in refusal.message


async def test_the_header_gives_the_route_its_key() -> None:
    app = FastAPI()
    install_error_handlers(app)
    seen: list[Key] = []

    @app.post("/things/{thing_id}/close", status_code=202)
    async def close(thing_id: str, key: IdempotencyKey) -> dict[str, Any]:
        seen.append(key)
        return {}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        keyed = await client.post("/things/T-1/close", headers={"Idempotency-Key": "abc-1"})
        plain = await client.post("/things/T-1/close")
        for bad in ("", "dua kata", "x" * 256):
            refused = await client.post("/things/T-1/close", headers={"Idempotency-Key": bad})
            assert refused.status_code == 422, bad
            assert [e["field"] for e in refused.json()["errors"]] == ["header.idempotency-key"]
    assert (keyed.status_code, plain.status_code) == (202, 202)
    assert seen == [
        Key("abc-1", "POST /things/T-1/close", 202),
        Key(None, "POST /things/T-1/close", 202),
    ]


EXEMPT = {
    ("identity", "POST", "/login"): "signs in: a retry only signs in again",
    ("identity", "POST", "/token/refresh"): "issues a token, changes nothing",
    ("intake", "POST", "/eoffice/letters"): "signed webhook: once per letter_id, its own replays",
    ("approval", "POST", "/eoffice/dispositions"): "signed webhook: once per disposition_id",
    ("documents", "POST", "/verify/{document_id}"): "compares a PDF, changes nothing",
    ("reporting", "POST", "/notifications/{notice_id}/read"): "marking read twice is once",
}
"""The state-changing routes that take no key, and why."""

CHANGING = ("post", "put", "patch", "delete")


@cache
def document(service: str) -> dict[str, Any]:
    return openapi_document(service)


def state_changing_routes() -> list[tuple[str, str, str]]:
    """Every route of every service that may change something, as its OpenAPI lists it."""
    return [
        (service, method.upper(), path)
        for service in SERVICES
        for path, operations in document(service)["paths"].items()
        for method in operations
        if method in CHANGING
    ]


ROUTES = state_changing_routes()


def test_the_exemptions_are_routes_that_exist() -> None:
    assert set(EXEMPT) <= set(ROUTES)
    assert len(ROUTES) - len(EXEMPT) >= 29  # identity 6, intake 5, approval 7, dev 7, ...


@pytest.mark.parametrize(
    ("service", "method", "path"), [r for r in ROUTES if r not in EXEMPT], ids="-".join
)
def test_every_state_changing_route_declares_the_idempotency_key(
    service: str, method: str, path: str
) -> None:
    operation = document(service)["paths"][path][method.lower()]
    [header] = [
        p for p in operation.get("parameters", []) if p["name"].lower() == "idempotency-key"
    ]
    assert header["in"] == "header" and not header.get("required", False)
    assert '"maxLength": 255' in json.dumps(header["schema"]), json.dumps(header)
    assert "Idempotent-Replayed" in header["description"]
