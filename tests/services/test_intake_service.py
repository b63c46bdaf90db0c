"""The intake service in-process over HTTP, on the real PostgreSQL and Kafka: steps 1 and 2, the
return-and-revise loop driven by approval's events from Kafka, withdrawal, attachments and
idempotent submits."""

import asyncio
import datetime as dt
import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from events.approval import (
    BAsigned,
    Disposed,
    DocumentsVerified,
    MeetingHeld,
    Participant,
    RequestRejected,
    RequestReturned,
    Signatory,
    TaskAssigned,
)
from events.approval import Timeline as PlannedTimeline
from events.envelope import OnBehalfOf
from infra.kafka_acl import ADMIN
from infra.principal import Principal
from infra.settings import Settings
from services.intake.attachments import MAX_UPLOAD_BYTES
from tests.idempotency_checks import check_racing_retries_act_once, check_retry_safe
from tests.kafka_helpers import read_topic
from tests.services.intake_client import (
    APPROVAL_TOPIC,
    BY_ROLE,
    COLLEAGUE,
    INTAKE_TOPIC,
    LETTER,
    REQUESTER,
    STRANGER,
    Service,
)

PLT_KADIS = Principal(
    user_id="u-sekretaris",
    name="Sekretaris",
    roles=frozenset(),
    opd="DISKOMINFOSTANDI",
    delegations=(OnBehalfOf(user_id="u-kadis", role="KADIS", kind="PLT"),),
)


@pytest.fixture(scope="module")
def svc(intake: Service) -> Service:
    return intake


async def count(conn: asyncpg.Connection, request_id: str | None = None) -> int:
    if request_id is None:
        return int(await conn.fetchval("SELECT count(*) FROM intake.events"))
    return int(
        await conn.fetchval("SELECT count(*) FROM intake.events WHERE stream_id = $1", request_id)
    )


async def test_every_route_but_health_needs_a_token(svc: Service) -> None:
    assert (await svc.client.get("/health")).json() == {"service": "intake", "ok": True}
    for method, path in [
        ("GET", "/requests"),
        ("POST", "/requests"),
        ("GET", "/requests/x"),
        ("POST", "/requests/x/receive"),
        ("POST", "/attachments"),
        ("GET", f"/attachments/{'0' * 64}"),
    ]:
        answer = await svc.client.request(method, path)
        assert answer.status_code == 401, (method, path, answer.text)


async def test_steps_1_and_2_then_return_revise_and_handover_over_kafka(
    svc: Service, settings: Settings
) -> None:
    letter = await svc.upload(b"%PDF-1.7 surat permohonan " + uuid.uuid4().bytes)
    answer = await svc.submit(attachments=[{**letter, "filename": "surat.pdf"}])
    assert answer.status_code == 201, answer.text
    submitted = answer.json()
    request_id = submitted["request_id"]
    assert uuid.UUID(request_id).version == 7
    assert len(submitted["event_ids"]) == 1
    state = submitted["state"]
    assert (state["status"], state["current_step"], state["who_must_act"]) == (
        "OPEN",
        "RECEIVE",
        "KADIS",
    )
    assert state["opd"] == "DINKES" and state["submitted_via"] == "WEB"
    assert "business_process.system_flow" in state["missing_sections"]

    mine = await svc.get(f"/requests/{request_id}", REQUESTER)
    assert mine.status_code == 200 and mine.json() == state

    received = await svc.post(
        f"/requests/{request_id}/receive", BY_ROLE["KADIS"], json={"agenda_number": "AG-2024-0031"}
    )
    assert received.status_code == 200, received.text
    assert received.json()["state"]["current_step"] == "DISPOSE"
    assert received.json()["state"]["received_by"] == "u-kadis"

    disposed = Disposed(request_id=request_id, to_role="KABID_TI", note="Mohon diperiksa.")
    back = RequestReturned(
        request_id=request_id,
        reasons=("Proses bisnis belum ada.",),
        missing_sections=("business_process.system_flow",),
    )
    await svc.approval_says(request_id, disposed, back)
    state = await svc.until(request_id, status="RETURNED")
    assert (state["current_step"], state["who_must_act"]) == ("VERIFY", "PEMOHON")
    assert state["returns"] == [
        {
            "reasons": ["Proses bisnis belum ada."],
            "missing_sections": ["business_process.system_flow"],
        }
    ]

    flow = await svc.upload(b"alur sistem " + uuid.uuid4().bytes, "text/plain", COLLEAGUE)
    revised = await svc.post(
        f"/requests/{request_id}/revise",
        COLLEAGUE,
        json={
            "business_process": {"system_flow": "Pasien mendaftar, petugas memverifikasi."},
            "attachments": [{**letter, "filename": "surat.pdf"}, {**flow, "filename": "alur.txt"}],
            "note": "Alur sistem sudah dilengkapi.",
        },
    )
    assert revised.status_code == 200, revised.text
    state = revised.json()["state"]
    assert (state["status"], state["current_step"], state["revisions"]) == ("OPEN", "VERIFY", 1)
    assert "business_process.system_flow" not in state["missing_sections"]

    today = dt.date.today()
    await svc.approval_says(
        request_id,
        DocumentsVerified(request_id=request_id),
        MeetingHeld(
            request_id=request_id,
            held_at=dt.datetime.now(dt.UTC),
            participants=(
                Participant(name="Rudi", position="Kabid TI", organisation="DISKOMINFOSTANDI"),
            ),
            scope="Pendaftaran pasien.",
            minutes_number="BA/01/2024",
            timeline=PlannedTimeline(
                planned_start=today, planned_end=today + dt.timedelta(days=30)
            ),
        ),
        BAsigned(
            request_id=request_id,
            minutes_number="BA/01/2024",
            signatories=(Signatory(user_id="u-kabid", name="Rudi", role="KABID_TI"),),
        ),
        TaskAssigned(
            request_id=request_id,
            letter_number="ST/01/2024",
            team_members=("u-dev",),
            team_lead="u-dev",
            opd="DINKES",
            period_start=today,
            period_end=today + dt.timedelta(days=45),
        ),
    )
    state = await svc.until(request_id, status="ASSIGNED")
    assert (state["current_step"], state["who_must_act"]) == ("DEVELOP", "TIM_PENGEMBANG")
    late = await svc.post(
        f"/requests/{request_id}/withdraw", REQUESTER, json={"reason": "Terlambat."}
    )
    assert late.status_code == 409 and late.json()["current_step"] == "DEVELOP"

    listed = (await svc.get("/requests?status=ASSIGNED", REQUESTER)).json()
    assert request_id in [r["request_id"] for r in listed]
    assert request_id not in [
        r["request_id"] for r in (await svc.get("/requests", STRANGER)).json()
    ]

    records = await read_topic(settings.kafka_login(ADMIN), INTAKE_TOPIC, expected=3, timeout=20)
    mine_on_topic = [json.loads(r.value) for r in records if r.key == request_id.encode()]
    assert [(e["event_type"], e["actor"]["role"], e["stream_version"]) for e in mine_on_topic] == [
        ("RequestSubmitted", "PEMOHON", 1),
        ("RequestReceived", "KADIS", 2),
        ("RequestRevised", "PEMOHON", 3),
    ]
    assert [e["event_id"] for e in mine_on_topic[:2]] == (
        submitted["event_ids"] + received.json()["event_ids"]
    )
    assert mine_on_topic[0]["payload"]["opd"] == "DINKES"


async def test_a_rejection_closes_the_request_and_a_redelivery_changes_nothing(
    svc: Service, owner_conn: asyncpg.Connection
) -> None:
    request_id = await svc.received()
    disposed = Disposed(request_id=request_id, to_role="KABID_TI", note="Mohon diperiksa.")
    (envelope,) = await svc.approval_says(request_id, disposed)
    await svc.producer.send_and_wait(
        APPROVAL_TOPIC, envelope.model_dump_json().encode(), key=request_id.encode()
    )  # again, as after a relay crash
    await svc.approval_says(
        request_id, RequestRejected(request_id=request_id, reason="Sudah ada aplikasi serupa.")
    )
    state = await svc.until(request_id, status="REJECTED")
    assert (state["current_step"], state["who_must_act"]) == ("VERIFY", None)
    assert state["closing_reason"] == "Sudah ada aplikasi serupa."
    consumed = await owner_conn.fetch(
        "SELECT event_type FROM intake.timeline WHERE stream_id = $1 AND NOT own ORDER BY seq",
        request_id,
    )
    assert [r["event_type"] for r in consumed] == ["Disposed", "RequestRejected"]
    withdraw = await svc.post(
        f"/requests/{request_id}/withdraw", REQUESTER, json={"reason": "Tidak jadi."}
    )
    assert withdraw.status_code == 409 and withdraw.json()["current_step"] == "VERIFY"
    assert await count(owner_conn, request_id) == 2
    listed = (await svc.get("/requests?status=REJECTED", BY_ROLE["KADIS"])).json()
    assert request_id in [r["request_id"] for r in listed]


async def test_approval_events_about_a_request_intake_never_saw_show_nothing(
    svc: Service, owner_conn: asyncpg.Connection
) -> None:
    stranger_id = str(uuid.uuid4())
    await svc.approval_says(stranger_id, RequestRejected(request_id=stranger_id, reason="Tolak."))
    request_id = await svc.received()
    await svc.approval_says(
        request_id, Disposed(request_id=request_id, to_role="KABID_TI", note="Mohon diperiksa.")
    )
    await svc.until(request_id, current_step="VERIFY")
    assert (await svc.get(f"/requests/{stranger_id}", BY_ROLE["AUDITOR"])).status_code == 404
    assert not await owner_conn.fetchval(
        "SELECT 1 FROM intake.requests WHERE request_id = $1", stranger_id
    )


async def test_an_acting_head_receives_and_the_record_keeps_both_names(
    svc: Service, owner_conn: asyncpg.Connection
) -> None:
    request_id = await svc.submitted()
    answer = await svc.post(f"/requests/{request_id}/receive", PLT_KADIS)
    assert answer.status_code == 200, answer.text
    actor = await owner_conn.fetchval(
        "SELECT actor::text FROM intake.events WHERE stream_id = $1 AND stream_version = 2",
        request_id,
    )
    assert json.loads(actor) == {
        "user_id": "u-sekretaris",
        "role": "KADIS",
        "opd": "DISKOMINFOSTANDI",
        "on_behalf_of": {"user_id": "u-kadis", "role": "KADIS", "kind": "PLT"},
    }


async def test_another_opds_requester_can_neither_see_nor_touch(
    svc: Service, owner_conn: asyncpg.Connection
) -> None:
    secret = await svc.upload(b"rahasia dinkes " + uuid.uuid4().bytes)
    answer = await svc.submit(attachments=[{**secret, "filename": "rahasia.pdf"}])
    request_id = answer.json()["request_id"]
    assert (await svc.get(f"/requests/{request_id}", STRANGER)).status_code == 403
    for verb, body in [("withdraw", {"reason": "Iseng."}), ("revise", {"note": "Iseng."})]:
        touched = await svc.post(f"/requests/{request_id}/{verb}", STRANGER, json=body)
        assert touched.status_code == 403, touched.text
    assert await count(owner_conn, request_id) == 1
    assert (await svc.get(f"/requests/{request_id}", BY_ROLE["ADMIN"])).status_code == 403
    for who in (
        BY_ROLE["KADIS"],
        BY_ROLE["KABID_TI"],
        BY_ROLE["TIM_PENGEMBANG"],
        BY_ROLE["AUDITOR"],
        COLLEAGUE,
    ):
        assert (await svc.get(f"/requests/{request_id}", who)).status_code == 200

    path = f"/attachments/{secret['sha256']}"
    assert (await svc.get(path, STRANGER)).status_code == 404
    for who in (REQUESTER, COLLEAGUE, BY_ROLE["KABID_TI"], BY_ROLE["AUDITOR"]):
        assert (await svc.get(path, who)).status_code == 200
    # knowing the digest is not enough to reference (and so to read) another OPD's file
    stolen = await svc.submit(STRANGER, attachments=[{**secret, "filename": "curian.pdf"}])
    assert stolen.status_code == 422 and stolen.json()["field"] == "attachments.0.sha256"


async def test_out_of_order_commands_get_409_naming_the_step(
    svc: Service, owner_conn: asyncpg.Connection
) -> None:
    request_id = await svc.received()
    again = await svc.post(f"/requests/{request_id}/receive", BY_ROLE["KADIS"])
    assert again.status_code == 409 and again.json()["current_step"] == "DISPOSE"
    early = await svc.post(f"/requests/{request_id}/revise", REQUESTER, json={"note": "Ubah."})
    assert early.status_code == 409 and early.json()["current_step"] == "DISPOSE"
    assert "langkah 3" in early.json()["message"]
    withdrawn = await svc.post(
        f"/requests/{request_id}/withdraw", REQUESTER, json={"reason": "Tidak jadi."}
    )
    assert withdrawn.status_code == 200
    twice = await svc.post(
        f"/requests/{request_id}/withdraw", REQUESTER, json={"reason": "Tidak jadi."}
    )
    assert twice.status_code == 409 and twice.json()["current_step"] == "DISPOSE"
    assert await count(owner_conn, request_id) == 3


def fields(answer: httpx.Response) -> set[str]:
    body = answer.json()
    return {e["field"] for e in body["errors"]} if "errors" in body else {body["field"]}


async def test_bad_input_gets_a_4xx_naming_the_field(
    svc: Service, owner_conn: asyncpg.Connection
) -> None:
    before = await count(owner_conn)
    missing = await svc.post("/requests", REQUESTER, json={"summary": "x", "letter": LETTER})
    assert missing.status_code == 422 and fields(missing) == {"body.title"}
    wrong = await svc.submit(letter={"number": "1", "date": "kemarin"}, colour="merah")
    assert wrong.status_code == 422 and fields(wrong) == {"body.letter.date", "body.colour"}
    future = await svc.submit(letter={"number": "1", "date": "2099-01-01"})
    assert future.status_code == 422 and fields(future) == {"letter.date"}
    malformed = await svc.post(
        "/requests", REQUESTER, content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert malformed.status_code == 422 and fields(malformed) == {"body.1"}
    ghost = {
        "sha256": "a" * 64,
        "size_bytes": 10,
        "media_type": "application/pdf",
        "filename": "hantu.pdf",
    }
    unknown = await svc.submit(attachments=[ghost])
    assert unknown.status_code == 422 and fields(unknown) == {"attachments.0.sha256"}
    real = await svc.upload(b"isi asli " + uuid.uuid4().bytes)
    lying = await svc.submit(attachments=[{**real, "size_bytes": 5, "filename": "a.pdf"}])
    assert lying.status_code == 422 and fields(lying) == {"attachments.0.size_bytes"}
    key = await svc.post("/requests", REQUESTER, json={}, headers={"Idempotency-Key": "k" * 256})
    assert key.status_code == 422 and "header.idempotency-key" in fields(key)
    assert await count(owner_conn) == before

    nobody = str(uuid.uuid4())
    assert (await svc.get(f"/requests/{nobody}", REQUESTER)).status_code == 404
    unknown_receive = await svc.post(f"/requests/{nobody}/receive", BY_ROLE["KADIS"])
    assert unknown_receive.status_code == 404
    bad_id = await svc.get("/requests/-bukan id", REQUESTER)
    assert bad_id.status_code == 422 and fields(bad_id) == {"path.request_id"}
    request_id = await svc.received()
    no_reason = await svc.post(f"/requests/{request_id}/withdraw", REQUESTER, json={})
    assert no_reason.status_code == 422 and fields(no_reason) == {"body.reason"}
    status = await svc.get("/requests?status=LOST&limit=0", REQUESTER)
    assert status.status_code == 422 and fields(status) == {"query.status", "query.limit"}


async def test_uploads_are_content_addressed_and_limited(svc: Service) -> None:
    content = b"%PDF-1.7 lampiran " + uuid.uuid4().bytes
    first = await svc.post(
        "/attachments", REQUESTER, content=content, headers={"Content-Type": "Application/PDF; x=1"}
    )
    assert first.status_code == 201
    assert first.json() == {
        "sha256": hashlib.sha256(content).hexdigest(),
        "size_bytes": len(content),
        "media_type": "application/pdf",
    }
    # stored before or not, an upload answers 201 with the caller's own description
    again = await svc.post(
        "/attachments", COLLEAGUE, content=content, headers={"Content-Type": "text/plain"}
    )
    assert again.status_code == 201
    assert again.json() == {**first.json(), "media_type": "text/plain"}
    assert (
        (await svc.get(f"/attachments/{first.json()['sha256']}", COLLEAGUE))
        .headers["content-type"]
        .startswith("text/plain")
    )
    download = await svc.get(f"/attachments/{first.json()['sha256']}", REQUESTER)
    assert download.content == content
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-disposition"].startswith("attachment")

    headers = {"Content-Type": "application/pdf"}
    too_big = await svc.post(
        "/attachments", REQUESTER, content=b"x" * (MAX_UPLOAD_BYTES + 1), headers=headers
    )
    assert too_big.status_code == 413
    assert too_big.json()["limit_bytes"] == MAX_UPLOAD_BYTES == 25 * 2**20
    assert "25 MiB" in too_big.json()["message"]

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(26):
            yield b"y" * 2**20

    streamed = await svc.post("/attachments", REQUESTER, content=chunks(), headers=headers)
    assert streamed.status_code == 413
    at_limit = await svc.post(
        "/attachments",
        REQUESTER,
        content=uuid.uuid4().bytes.ljust(MAX_UPLOAD_BYTES, b"z"),
        headers=headers,
    )
    assert at_limit.status_code == 201, at_limit.text

    empty = await svc.post("/attachments", REQUESTER, content=b"", headers=headers)
    assert empty.status_code == 422 and fields(empty) == {"body"}
    odd_type = await svc.post(
        "/attachments", REQUESTER, content=b"abc", headers={"Content-Type": "bukan tipe"}
    )
    assert odd_type.status_code == 422 and fields(odd_type) == {"header.content-type"}
    untyped = await svc.post("/attachments", REQUESTER, content=b"abc")
    assert untyped.status_code == 422 and fields(untyped) == {"header.content-type"}
    assert (await svc.get(f"/attachments/{'b' * 64}", REQUESTER)).status_code == 404
    bad_digest = await svc.get("/attachments/xyz", REQUESTER)
    assert bad_digest.status_code == 422 and fields(bad_digest) == {"path.sha256"}


async def test_a_retried_submit_with_its_key_gets_the_first_answer_and_appends_nothing(
    svc: Service, owner_conn: asyncpg.Connection
) -> None:
    key = f"kunci-{uuid.uuid4()}"
    body = {"title": "SIMPUS", "summary": "Ringkas.", "letter": LETTER}

    async def send(who: Principal = REQUESTER, payload: dict[str, Any] = body) -> httpx.Response:
        return await svc.post("/requests", who, json=payload, headers={"Idempotency-Key": key})

    before = await count(owner_conn)
    first, second = await send(), await send()
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert await count(owner_conn) == before + 1

    reused = await send(payload={**body, "title": "Lain"})
    assert reused.status_code == 422 and fields(reused) == {"header.idempotency-key"}
    someone_else = await send(COLLEAGUE)
    assert someone_else.status_code == 201
    assert someone_else.json()["request_id"] != first.json()["request_id"]

    key = f"kunci-{uuid.uuid4()}"
    racing = await asyncio.gather(*(send() for _ in range(5)))
    assert {r.status_code for r in racing} == {201}
    assert len({r.json()["request_id"] for r in racing}) == 1
    assert await count(owner_conn) == before + 3


async def test_every_command_with_its_key_is_safe_to_retry(
    svc: Service, owner_conn: asyncpg.Connection
) -> None:
    request_id = await svc.submitted()

    async def receive(key: str, body: Any) -> httpx.Response:
        path = f"/requests/{request_id}/receive"
        return await svc.post(path, BY_ROLE["KADIS"], json=body, headers={"Idempotency-Key": key})

    first = await check_retry_safe(
        receive, lambda: count(owner_conn, request_id), {}, {"agenda_number": "AG-7"}
    )
    assert first.json()["state"]["current_step"] == "DISPOSE"

    async def upload(key: str, content: bytes) -> httpx.Response:
        headers = {"Content-Type": "application/pdf", "Idempotency-Key": key}
        return await svc.post("/attachments", REQUESTER, content=content, headers=headers)

    async def stored() -> int:
        return int(await owner_conn.fetchval("SELECT count(*) FROM intake.attachments"))

    letter = b"%PDF-1.7 surat " + uuid.uuid4().bytes
    uploaded = await check_retry_safe(upload, stored, letter, letter + b"lain")
    assert uploaded.status_code == 201

    withdrawn_id = await svc.submitted()

    async def withdraw(key: str, body: Any) -> httpx.Response:
        path = f"/requests/{withdrawn_id}/withdraw"
        return await svc.post(path, REQUESTER, json=body, headers={"Idempotency-Key": key})

    racing = await check_racing_retries_act_once(
        withdraw, lambda: count(owner_conn, withdrawn_id), {"reason": "Tidak jadi."}
    )
    assert racing[0].json()["state"]["status"] == "WITHDRAWN"
    assert await count(owner_conn, withdrawn_id) == 2  # submitted, withdrawn: once
