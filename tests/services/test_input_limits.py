"""Regression tests for the hostile-input bugs the API fuzzer (tests/fuzz) and the audit of every
endpoint found, each service in-process over HTTP on the real PostgreSQL and Kafka. Each test is
named after the bug; every answer now is a 4xx naming the field, where it used to be a 500 or an
input read as something it is not."""

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import asyncpg
import httpx
import pytest

from infra.auth import TokenIssuer, development_keys
from infra.limits import MAX_OFFSET, MAX_SEQ
from infra.principal import Principal
from infra.settings import Settings
from infra.webhook import DEVELOPMENT_SECRET, SIGNATURE_HEADER, sign
from tests.sample_request import A_REQUEST, REQUESTER
from tests.service_apps import service_app

AUDITOR = Principal(user_id="u-auditor", name="Auditor", roles=frozenset({"AUDITOR"}))
ADMIN = Principal(
    user_id="u-admin", name="Admin", roles=frozenset({"ADMIN"}), opd="DISKOMINFOSTANDI"
)
BEYOND_BIGINT = str(2**64)


class Client:
    def __init__(self, http: httpx.AsyncClient, issuer: TokenIssuer) -> None:
        self.http = http
        self.issuer = issuer

    async def get(
        self,
        path: str,
        who: Principal = AUDITOR,
        params: dict[str, object] | None = None,
        headers: dict[str, str | bytes] | None = None,
    ) -> httpx.Response:
        auth: dict[str, str | bytes] = {"Authorization": f"Bearer {self.issuer.issue(who)}"}
        return await self.http.get(path, params=params, headers={**auth, **(headers or {})})

    async def post(
        self, path: str, body: dict[str, object], who: Principal | None = None
    ) -> httpx.Response:
        """POST ``body`` as JSON, every non-ASCII character escaped (so a lone surrogate can be
        sent: it has no UTF-8)."""
        headers = {"Content-Type": "application/json"}
        if who is not None:
            headers["Authorization"] = f"Bearer {self.issuer.issue(who)}"
        return await self.http.post(path, content=json.dumps(body).encode(), headers=headers)


Services = dict[str, Client]


@pytest.fixture(scope="module")
async def svc(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Services]:
    """identity, intake, approval and reporting, started, each with a client."""
    keys = tmp_path_factory.mktemp("keys")
    private, _ = development_keys(keys)
    async with AsyncExitStack() as stack:
        clients = {}
        for name in ("identity", "intake", "approval", "reporting"):
            app = service_app(name, keys, settings)
            await stack.enter_async_context(app.router.lifespan_context(app))
            http = await stack.enter_async_context(
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{name}")
            )
            clients[name] = Client(http, TokenIssuer(private))
        yield clients


def fields(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 422, answer.text
    return [e["field"] for e in answer.json()["errors"]]


async def test_bug_a_cases_offset_beyond_bigint_was_a_500(svc: Services) -> None:
    reporting = svc["reporting"]
    assert fields(await reporting.get("/cases", params={"offset": BEYOND_BIGINT})) == [
        "query.offset"
    ]
    assert fields(await reporting.get("/cases", params={"offset": MAX_OFFSET + 1})) == [
        "query.offset"
    ]
    last_page = await reporting.get("/cases", params={"offset": MAX_OFFSET})
    assert last_page.status_code == 200 and last_page.json()["items"] == []


async def test_bug_a_requests_offset_beyond_bigint_was_a_500(svc: Services) -> None:
    intake = svc["intake"]
    assert fields(await intake.get("/requests", params={"offset": BEYOND_BIGINT})) == [
        "query.offset"
    ]
    last_page = await intake.get("/requests", params={"offset": MAX_OFFSET})
    assert last_page.status_code == 200 and last_page.json() == []


async def test_bug_notifications_before_beyond_bigint_was_a_500(svc: Services) -> None:
    reporting = svc["reporting"]
    """Found by the fuzzer: ``?before=56658160595165298688``."""
    assert fields(
        await reporting.get("/notifications", params={"before": "56658160595165298688"})
    ) == ["query.before"]
    assert (await reporting.get("/notifications", params={"before": MAX_SEQ})).status_code == 200


async def test_bug_a_stream_cursor_beyond_bigint_or_in_other_digits_was_a_500(
    svc: Services,
) -> None:
    reporting = svc["reporting"]
    """``Last-Event-ID: ²`` passed ``str.isdigit()`` and broke ``int()``; a cursor past bigint
    broke the query. Refused before the stream opens."""
    for raw in (b"\xb2", b"1\xb9", BEYOND_BIGINT.encode()):
        answer = await reporting.get("/notifications/stream", headers={"Last-Event-ID": raw})
        assert answer.status_code == 422, (raw, answer.text)
        assert answer.json()["field"] == "Last-Event-ID"
    assert fields(
        await reporting.get("/notifications/stream", params={"after": BEYOND_BIGINT})
    ) == ["query.after"]
    assert fields(
        await reporting.get("/notifications/stream", headers={"Last-Event-ID": "9" * 33})
    ) == ["header.Last-Event-ID"]


async def test_bug_an_sla_report_bound_before_year_1_in_utc_was_a_500(svc: Services) -> None:
    reporting = svc["reporting"]
    answer = await reporting.get(
        "/reports/sla",
        params={
            "submitted_from": "0001-01-01T00:00:00+14:00",
            "submitted_to": "2024-01-01T00:00:00Z",
        },
    )
    assert fields(answer) == ["query.submitted_from"]
    answer = await reporting.get(
        "/reports/sla",
        params={
            "submitted_from": "2024-01-01T00:00:00Z",
            "submitted_to": "9999-12-31T23:59:59-14:00",
        },
    )
    assert fields(answer) == ["query.submitted_to"]
    inside = await reporting.get(
        "/reports/sla",
        params={
            "submitted_from": "2100-01-01T00:00:00+07:00",
            "submitted_to": "2100-12-31T00:00:00Z",
        },
    )
    assert inside.status_code == 200, inside.text


async def test_bug_a_number_was_read_as_an_instant(svc: Services) -> None:
    reporting = svc["reporting"]
    """Found by the fuzzer: ``?at=0`` answered the request as of 1970, ``?submitted_to=0.5``
    was taken as half a second after 1970; an instant is ISO 8601 text with its zone."""
    case = f"/cases/{uuid.uuid4()}/as-of"
    assert fields(await reporting.get(case, params={"at": "0"})) == ["query.at"]
    sla = {"submitted_from": "2024-01-01T00:00:00Z", "submitted_to": "0.5"}
    assert fields(await reporting.get("/reports/sla", params=sla)) == ["query.submitted_to"]
    assert fields(await reporting.get(case, params={"at": "2024-03-04T08:25:00"})) == [
        "query.at"
    ]  # no zone
    known_zone = await reporting.get(case, params={"at": "2024-03-04T08:25:00+07:00"})
    assert known_zone.status_code == 404  # valid, and no such request


async def test_bug_a_calendar_day_outside_the_years_was_not_refused(svc: Services) -> None:
    reporting = svc["reporting"]
    answer = await reporting.get("/calendar/days", params={"year": 2024})
    assert answer.status_code == 200
    removed = await reporting.http.delete(
        "/calendar/days/0001-01-01",
        headers={"Authorization": f"Bearer {reporting.issuer.issue(ADMIN)}"},
    )
    assert fields(removed) == ["path.day"]


async def test_bug_a_user_id_in_the_path_had_no_limit(svc: Services) -> None:
    identity = svc["identity"]
    assert fields(await identity.get(f"/users/{'u' * 65}", ADMIN)) == ["path.user_id"]
    assert (await identity.get(f"/users/{'u' * 64}", ADMIN)).status_code == 404


async def test_bug_an_overlong_upload_content_type_was_refused_only_after_the_upload(
    svc: Services,
) -> None:
    intake = svc["intake"]
    token = intake.issuer.issue(
        Principal(user_id="u-pemohon", name="P", opd="DINKES", roles=frozenset({"PEMOHON"}))
    )
    answer = await intake.http.post(
        "/attachments",
        content=b"%PDF-1.7",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/" + "x" * 300},
    )
    assert fields(answer) == ["header.content-type"]


async def test_bug_a_webhook_signature_header_had_no_limit(
    svc: Services, owner_conn: asyncpg.Connection
) -> None:
    approval = svc["approval"]
    before = await owner_conn.fetchval("SELECT count(*) FROM approval.webhook_signatures")
    body = b'{"disposition_id": "x"}'
    headers = sign(DEVELOPMENT_SECRET, "/eoffice/dispositions", body)
    headers[SIGNATURE_HEADER] = headers[SIGNATURE_HEADER] + " " * 1024
    answer = await approval.http.post("/eoffice/dispositions", content=body, headers=headers)
    assert answer.status_code == 401
    assert (answer.json()["code"], answer.json()["header"]) == (
        "signature_malformed",
        SIGNATURE_HEADER,
    )
    after = await owner_conn.fetchval("SELECT count(*) FROM approval.webhook_signatures")
    assert after == before


async def test_bug_an_unknown_query_parameter_was_silently_ignored(svc: Services) -> None:
    reporting, approval = svc["reporting"], svc["approval"]
    """Found by the fuzzer: ``?stauts=OPEN`` answered every case, unfiltered."""
    answer = await reporting.get("/cases", params={"stauts": "OPEN"})
    assert fields(answer) == ["query.stauts"]
    answer = await approval.get("/requests", params={"limit": 1, "": "null"})
    assert fields(answer) == ["query."]
    filtered = await reporting.get("/cases", params={"status": "OPEN", "limit": 1})
    assert filtered.status_code == 200, filtered.text


@pytest.mark.parametrize("bad", ["\x00", "\x07", "\ud800"], ids=["nul", "bell", "lone-surrogate"])
async def test_bug_a_control_character_or_lone_surrogate_in_text_was_a_500(
    svc: Services, owner_conn: asyncpg.Connection, bad: str
) -> None:
    """A NUL in a title or summary passed validation and failed the write (PostgreSQL's text
    holds no NUL): a 500, and nothing said which field. Every text field now refuses control
    characters (a multi-line text keeps tab and line breaks) and unpaired surrogates."""
    intake, reporting, identity = svc["intake"], svc["reporting"], svc["identity"]
    before = await owner_conn.fetchval("SELECT count(*) FROM intake.events")
    for field in ("title", "summary"):
        answer = await intake.post(
            "/requests", A_REQUEST | {field: f"Sistem{bad}Puskesmas"}, REQUESTER
        )
        assert fields(answer) == [f"body.{field}"]
    assert await owner_conn.fetchval("SELECT count(*) FROM intake.events") == before
    answer = await reporting.post(
        "/calendar/days", {"day": "2024-08-17", "off": True, "note": f"Libur{bad}"}, ADMIN
    )
    assert fields(answer) == ["body.note"]
    answer = await identity.post("/login", {"username": f"admin{bad}", "password": "x" * 8})
    assert fields(answer) == ["body.username"]


async def test_a_multi_line_text_keeps_its_tabs_and_line_breaks(svc: Services) -> None:
    intake = svc["intake"]
    summary = "Latar belakang:\r\n\t- pendaftaran manual\n\t- antrean panjang"
    answer = await intake.post("/requests", A_REQUEST | {"summary": summary}, REQUESTER)
    assert answer.status_code == 201, answer.text
    request_id = answer.json()["request_id"]
    shown = await intake.get(f"/requests/{request_id}", REQUESTER)
    assert shown.json()["summary"] == summary
