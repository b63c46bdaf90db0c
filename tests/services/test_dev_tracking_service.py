"""The dev_tracking service in-process over HTTP, on the real PostgreSQL and Kafka: steps 8-13,
opened by approval's TaskAssigned published on approval's topic."""

import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from events.approval import Disposed, TaskAssigned
from events.base import DomainEvent
from events.envelope import Actor, Envelope, NewEvent
from infra import kafka_acl
from infra.auth import TokenIssuer, development_keys
from infra.eventstore.contract import seal_all
from infra.principal import Principal
from infra.settings import Settings
from services.dev_tracking.bootstrap import create_app
from services.dev_tracking.usecases import WIB
from tests.idempotency_checks import Send, check_racing_retries_act_once, check_retry_safe
from tests.kafka_helpers import eventually, read_topic, relay_producer

OWN_TOPIC = "jejak.dev_tracking.events"
UPSTREAM = "jejak.approval.events"
OPD, OTHER_OPD, DEPT = "DINKES", "DISDIK", "DISKOMINFOSTANDI"

REQUESTER = Principal("u-pemohon-dinkes", "Pemohon Dinkes", frozenset({"PEMOHON"}), OPD)
OTHER_REQUESTER = Principal("u-pemohon-disdik", "Pemohon Disdik", frozenset({"PEMOHON"}), OTHER_OPD)
KADIS = Principal("u-kadis", "Kadis", frozenset({"KADIS"}), DEPT)
KABID = Principal("u-kabid", "Kabid TI", frozenset({"KABID_TI"}), DEPT)
LEAD = Principal("u-dev-lead", "Ketua Tim", frozenset({"TIM_PENGEMBANG"}), DEPT)
MEMBER = Principal("u-dev-2", "Anggota Tim", frozenset({"TIM_PENGEMBANG"}), DEPT)
OUTSIDER = Principal("u-dev-9", "Pengembang lain", frozenset({"TIM_PENGEMBANG"}), DEPT)
ADMIN = Principal("u-admin", "Admin", frozenset({"ADMIN"}))
AUDITOR = Principal("u-auditor", "Auditor", frozenset({"AUDITOR"}))
NOBODY = Principal("u-nobody", "Tanpa peran", frozenset(), OPD)
TEAM = (LEAD, MEMBER)

TODAY = dt.datetime.now(WIB).date()
STARTED = TODAY - dt.timedelta(days=30)
MANUAL_FILE = {
    "sha256": "ab" * 32,
    "size_bytes": 123_456,
    "media_type": "application/pdf",
    "filename": "manual-sikesda.pdf",
}


class Client(httpx.AsyncClient):
    """An HTTP client of the app that also mints tokens with identity's (test) key."""

    issuer: TokenIssuer


@pytest.fixture(scope="module")
async def client(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Client]:
    keys = tmp_path_factory.mktemp("keys")
    app = create_app(settings.model_copy(update={"jwt_key_dir": str(keys)}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with Client(transport=transport, base_url="http://dev_tracking") as c:
            c.issuer = TokenIssuer(development_keys(keys)[0])
            yield c


@pytest.fixture(scope="module")
async def producer(settings: Settings) -> AsyncIterator[AIOKafkaProducer]:
    kafka = relay_producer(settings, "approval")
    await kafka.start()
    yield kafka
    await kafka.stop()


def auth(client: Client, who: Principal) -> dict[str, str]:
    return {"Authorization": f"Bearer {client.issuer.issue(who)}"}


def sealed(request_id: str, event: DomainEvent, version: int = 7) -> Envelope:
    new = NewEvent.of(
        event,
        actor=Actor(user_id=KADIS.user_id, role="KADIS", opd=DEPT),
        correlation_id=uuid.uuid4(),
    )
    return seal_all(request_id, version - 1, "0" * 64, [new])[0]


def letter(
    request_id: str,
    team: tuple[Principal, ...] = TEAM,
    opd: str = OPD,
    ends: dt.date = STARTED + dt.timedelta(days=90),
) -> TaskAssigned:
    return TaskAssigned(
        request_id=request_id,
        letter_number=f"800/{request_id[:6]}/DISKOMINFOSTANDI/2025",
        team_members=tuple(p.user_id for p in team),
        team_lead=team[0].user_id,
        opd=opd,
        period_start=STARTED,
        period_end=ends,
    )


async def publish(producer: AIOKafkaProducer, envelope: Envelope) -> None:
    await producer.send_and_wait(
        UPSTREAM, envelope.model_dump_json().encode(), key=envelope.stream_id.encode()
    )


async def assigned(client: Client, producer: AIOKafkaProducer, **kw: Any) -> str:
    """A new request whose TaskAssigned dev_tracking has consumed."""
    request_id = str(uuid.uuid4())
    await publish(producer, sealed(request_id, letter(request_id, **kw)))

    async def known() -> bool:
        answer = await client.get(f"/requests/{request_id}", headers=auth(client, KABID))
        return answer.status_code == 200

    assert await eventually(known, timeout=60), "TaskAssigned was not consumed"
    return request_id


async def own_events(conn: asyncpg.Connection, request_id: str) -> int:
    count = await conn.fetchval(
        "SELECT count(*) FROM dev_tracking.events WHERE stream_id = $1", request_id
    )
    return int(count)


def run_body(
    kind: str, result: str, number: str | None, findings: tuple[str, ...] = ()
) -> dict[str, Any]:
    return {
        "kind": kind,
        "result": result,
        "minutes_number": number,
        "findings": list(findings),
        "tested_on": str(TODAY - dt.timedelta(days=1)),
    }


async def post(
    client: Client, who: Principal, request_id: str, path: str, body: dict[str, Any]
) -> httpx.Response:
    return await client.post(f"/requests/{request_id}/{path}", headers=auth(client, who), json=body)


async def ok(
    client: Client, who: Principal, request_id: str, path: str, body: dict[str, Any]
) -> dict[str, Any]:
    answer = await post(client, who, request_id, path, body)
    assert answer.status_code == 200, answer.text
    outcome: dict[str, Any] = answer.json()
    assert outcome["request_id"] == request_id
    assert outcome["event_ids"]
    return outcome


async def mine_on_topic(settings: Settings, request_id: str, count: int) -> list[dict[str, Any]]:
    async def check() -> list[dict[str, Any]] | None:
        records = await read_topic(settings.kafka_login(kafka_acl.ADMIN), OWN_TOPIC, 1, timeout=10)
        mine = [json.loads(r.value) for r in records if r.key == request_id.encode()]
        return mine if len(mine) >= count else None

    found = await eventually(check, timeout=60)
    assert found is not None, f"fewer than {count} events of {request_id} on {OWN_TOPIC}"
    return list(found)


async def test_steps_8_to_13_with_a_failed_test_and_a_rejected_uat(
    client: Client, producer: AIOKafkaProducer, settings: Settings
) -> None:
    rid = await assigned(client, producer)
    shown = (await client.get(f"/requests/{rid}", headers=auth(client, LEAD))).json()
    assert shown["current_step"] == "DEVELOP"
    assert shown["who_must_act"] == "TIM_PENGEMBANG"
    assert (shown["opd"], shown["team_lead"]) == (OPD, LEAD.user_id)
    assert shown["started_on"] is None

    ids: list[str] = []

    async def step(
        who: Principal, path: str, body: dict[str, Any], at: str, acts: str | None
    ) -> dict[str, Any]:
        outcome = await ok(client, who, rid, path, body)
        ids.extend(outcome["event_ids"])
        state: dict[str, Any] = outcome["state"]
        assert (state["current_step"], state["who_must_act"]) == (at, acts), path
        assert (await client.get(f"/requests/{rid}", headers=auth(client, AUDITOR))).json() == state
        return state

    state = await step(LEAD, "start", {"started_on": str(STARTED)}, "DEVELOP", "TIM_PENGEMBANG")
    assert state["started_on"] == str(STARTED)
    state = await step(
        MEMBER,
        "progress",
        {"percent": 40, "note": "Modul pendaftaran selesai"},
        "DEVELOP",
        "TIM_PENGEMBANG",
    )
    assert state["progress"] == {"percent": 40, "note": "Modul pendaftaran selesai"}
    state = await step(
        LEAD,
        "problems",
        {"description": "Server uji belum ada", "severity": "HIGH"},
        "DEVELOP",
        "TIM_PENGEMBANG",
    )
    assert state["open_problems"] == ["P-1"]
    state = await step(
        MEMBER,
        "problems/P-1/solve",
        {"solution": "Memakai VM dari pusat data"},
        "DEVELOP",
        "TIM_PENGEMBANG",
    )
    assert state["problems"] == [
        {
            "problem_id": "P-1",
            "description": "Server uji belum ada",
            "severity": "HIGH",
            "solution": "Memakai VM dari pusat data",
            "open": False,
        }
    ]
    assert state["open_problems"] == []
    state = await step(
        LEAD,
        "tests",
        run_body("SYSTEM", "FAILED", "BA-UJI/1", ("Login gagal",)),
        "SYSTEM_TEST",
        "TIM_PENGEMBANG",
    )
    assert state["next_test"] == "SYSTEM"
    await step(
        LEAD, "tests", run_body("SYSTEM", "PASSED", "BA-UJI/2"), "UNIT_TEST", "TIM_PENGEMBANG"
    )
    await step(  # no typed number: the documents service numbers these minutes
        MEMBER,
        "tests",
        run_body("UNIT", "PASSED", None),
        "INTEGRATION_TEST",
        "TIM_PENGEMBANG",
    )
    state = await step(
        LEAD, "tests", run_body("INTEGRATION", "PASSED", None), "MANUAL", "TIM_PENGEMBANG"
    )
    assert state["minutes_numbers"] == ["BA-UJI/1", "BA-UJI/2"]
    state = await step(
        LEAD,
        "manual",
        {"title": "Buku Manual SIKESDA", "document": MANUAL_FILE, "version": "1.0"},
        "UAT",
        "PEMOHON",
    )
    assert state["manual"] == {"title": "Buku Manual SIKESDA", "version": "1.0"}
    state = await step(
        REQUESTER,
        "uat",
        {
            "result": "REJECTED",
            "minutes_number": "BA-UAT/1",
            "findings": ["Laporan bulanan belum ada"],
        },
        "DEVELOP",
        "TIM_PENGEMBANG",
    )
    assert (state["uat_rejections"], state["next_test"]) == (1, "INTEGRATION")
    assert state["last_uat_findings"] == ["Laporan bulanan belum ada"]
    await step(
        MEMBER,
        "progress",
        {"percent": 100, "note": "Laporan bulanan ditambahkan"},
        "DEVELOP",
        "TIM_PENGEMBANG",
    )
    await step(LEAD, "tests", run_body("INTEGRATION", "PASSED", "BA-UJI/5"), "UAT", "PEMOHON")
    state = await step(
        REQUESTER,
        "uat",
        {"result": "ACCEPTED", "minutes_number": "BA-UAT/2", "notes": "Diterima dengan baik"},
        "DONE",
        None,
    )
    assert state["accepted_by"] == REQUESTER.user_id
    # today in WIB, as the service saw it: the run may have crossed midnight since TODAY was taken
    assert state["completed_on"] in {str(TODAY), str(dt.datetime.now(WIB).date())}
    assert [(t["kind"], t["passed"]) for t in state["test_runs"]] == [
        ("SYSTEM", False),
        ("SYSTEM", True),
        ("UNIT", True),
        ("INTEGRATION", True),
        ("INTEGRATION", True),
    ]
    assert state["test_runs"][0]["findings"] == ["Login gagal"]

    mine = await mine_on_topic(settings, rid, len(ids))
    assert [e["event_id"] for e in mine] == ids
    assert [e["event_type"] for e in mine] == [
        "DevelopmentStarted",
        "ProgressReported",
        "ProblemRecorded",
        "ProblemSolved",
        "TestFailed",
        "TestPassed",
        "TestPassed",
        "TestPassed",
        "ManualPublished",
        "UATRejected",
        "ProgressReported",
        "TestPassed",
        "UATAccepted",
        "RequestCompleted",
    ]
    assert [e["stream_version"] for e in mine] == list(range(1, 15))
    assert {e["actor"]["role"] for e in mine[:9]} == {"TIM_PENGEMBANG"}
    assert mine[-1]["actor"] == {
        "user_id": REQUESTER.user_id,
        "role": "PEMOHON",
        "opd": OPD,
        "on_behalf_of": None,
    }

    listed = (await client.get("/requests", headers=auth(client, KADIS))).json()
    row = next(r for r in listed if r["request_id"] == rid)
    assert (row["current_step"], row["who_must_act"], row["percent"]) == ("DONE", None, 100)


async def test_each_command_by_its_actor_then_none_once_done(
    client: Client, producer: AIOKafkaProducer, owner_conn: asyncpg.Connection
) -> None:
    """Every command in turn by the one who may give it; once done, even they are refused
    naming the step. (Everyone else is refused: tests/services/test_access_matrix.py.)"""
    rid = await assigned(client, producer)
    walk: list[tuple[str, dict[str, Any], tuple[Principal, ...]]] = [
        ("start", {"started_on": str(STARTED)}, TEAM),
        ("progress", {"percent": 10, "note": "Rancangan basis data"}, TEAM),
        ("problems", {"description": "API BPJS belum dibuka", "severity": "MEDIUM"}, TEAM),
        ("problems/P-1/solve", {"solution": "Surat permohonan akses dikirim"}, TEAM),
        ("tests", run_body("SYSTEM", "PASSED", "BA-S/1"), TEAM),
        ("tests", run_body("UNIT", "PASSED", "BA-U/1"), TEAM),
        ("tests", run_body("INTEGRATION", "PASSED", "BA-I/1"), TEAM),
        ("manual", {"title": "Manual", "document": MANUAL_FILE, "version": "1.0"}, TEAM),
        ("uat", {"result": "ACCEPTED", "minutes_number": "BA-UAT/1"}, (REQUESTER,)),
    ]
    for path, body, allowed in walk:
        await ok(client, allowed[-1], rid, path, body)
    assert await own_events(owner_conn, rid) == 10

    # Once completed, even the right actors are refused with the step named.
    for path, body, allowed in walk:
        answer = await post(client, allowed[0], rid, path, body)
        assert answer.status_code == 409, (path, answer.text)
        assert answer.json()["current_step"] == "DONE"
    assert await own_events(owner_conn, rid) == 10


async def test_out_of_order_commands_get_409_naming_the_step(
    client: Client, producer: AIOKafkaProducer, owner_conn: asyncpg.Connection
) -> None:
    rid = await assigned(client, producer)
    early = [
        (LEAD, "progress", {"percent": 5, "note": "x"}),
        (LEAD, "tests", run_body("SYSTEM", "PASSED", "BA/1")),
        (LEAD, "manual", {"title": "Manual", "document": MANUAL_FILE, "version": "1.0"}),
        (REQUESTER, "uat", {"result": "ACCEPTED", "minutes_number": "BA-UAT/1"}),
    ]
    for who, path, body in early:
        answer = await post(client, who, rid, path, body)
        assert answer.status_code == 409, (path, answer.text)
        assert answer.json()["current_step"] == "DEVELOP"
        assert "langkah 8 (" in answer.json()["message"]
    await ok(client, LEAD, rid, "start", {"started_on": str(STARTED)})
    twice = await post(client, LEAD, rid, "start", {"started_on": str(STARTED)})
    assert (twice.status_code, twice.json()["current_step"]) == (409, "DEVELOP")
    unit_first = await post(client, LEAD, rid, "tests", run_body("UNIT", "PASSED", "BA/2"))
    assert (unit_first.status_code, unit_first.json()["current_step"]) == (409, "DEVELOP")
    await ok(client, LEAD, rid, "tests", run_body("SYSTEM", "PASSED", "BA/3"))
    uat = await post(
        client,
        REQUESTER,
        rid,
        "uat",
        {"result": "REJECTED", "minutes_number": "BA-UAT/1", "findings": ["Belum lengkap"]},
    )
    assert (uat.status_code, uat.json()["current_step"]) == (409, "UNIT_TEST")
    assert await own_events(owner_conn, rid) == 2


async def test_a_requester_of_another_opd_can_neither_see_nor_touch_the_request(
    client: Client, producer: AIOKafkaProducer, owner_conn: asyncpg.Connection
) -> None:
    rid = await assigned(client, producer)
    path = f"/requests/{rid}"
    refused = await client.get(path, headers=auth(client, OTHER_REQUESTER))
    assert refused.status_code == 403
    for who in (REQUESTER, KADIS, KABID, LEAD, OUTSIDER, AUDITOR):
        assert (await client.get(path, headers=auth(client, who))).status_code == 200, who.user_id
    for who in (NOBODY, ADMIN):  # ADMIN manages users and sees no request
        assert (await client.get(path, headers=auth(client, who))).status_code == 403

    listed = await client.get("/requests", headers=auth(client, OTHER_REQUESTER))
    assert rid not in {r["request_id"] for r in listed.json()}
    own = await client.get("/requests", headers=auth(client, REQUESTER))
    assert rid in {r["request_id"] for r in own.json()}
    assert {r["opd"] for r in own.json()} == {OPD}
    assert (await client.get("/requests", headers=auth(client, NOBODY))).status_code == 403

    await ok(client, LEAD, rid, "start", {"started_on": str(STARTED)})
    for kind, number in (("SYSTEM", "S/1"), ("UNIT", "U/1"), ("INTEGRATION", "I/1")):
        await ok(client, LEAD, rid, "tests", run_body(kind, "PASSED", number))
    await ok(client, LEAD, rid, "manual", {"title": "M", "document": MANUAL_FILE, "version": "1"})
    before = await own_events(owner_conn, rid)
    for result in ("ACCEPTED", "REJECTED"):
        findings = ["Tidak sesuai"] if result == "REJECTED" else []
        answer = await post(
            client,
            OTHER_REQUESTER,
            rid,
            "uat",
            {"result": result, "minutes_number": "UAT/9", "findings": findings},
        )
        assert answer.status_code == 403, answer.text
    assert await own_events(owner_conn, rid) == before
    assert (await client.get(path, headers=auth(client, REQUESTER))).json()["who_must_act"] == (
        "PEMOHON"
    )


async def test_bad_input_gets_a_4xx_naming_the_field(
    client: Client, producer: AIOKafkaProducer, owner_conn: asyncpg.Connection
) -> None:
    rid = await assigned(client, producer)
    lead = auth(client, LEAD)

    async def fields(path: str, body: Any) -> set[str]:
        answer = await client.post(f"/requests/{rid}/{path}", headers=lead, json=body)
        assert answer.status_code == 422, (path, answer.text)
        return {e["field"] for e in answer.json()["errors"]}

    assert await fields("start", {}) == {"body.started_on"}
    assert await fields("start", {"started_on": "kemarin"}) == {"body.started_on"}
    assert await fields("start", {"started_on": str(STARTED), "extra": 1}) == {"body.extra"}
    assert await fields("progress", {"percent": "banyak", "note": "x"}) == {"body.percent"}
    assert await fields("progress", {"percent": 101, "note": "x"}) == {"body.percent"}
    assert await fields("problems", {"description": " ", "severity": "FATAL"}) == {
        "body.description",
        "body.severity",
    }
    assert await fields("tests", {**run_body("SYSTEM", "MAYBE", "BA/1"), "kind": "SMOKE"}) == {
        "body.kind",
        "body.result",
    }
    assert await fields(
        "manual", {"title": "M", "version": "1", "document": {**MANUAL_FILE, "sha256": "xyz"}}
    ) == {"body.document.sha256"}
    assert await fields("uat", {"result": "ACCEPTED", "minutes_number": " "}) == {
        "body.minutes_number"
    }
    assert await fields("uat", ["ACCEPTED"]) == {"body"}

    malformed = await client.post(
        f"/requests/{rid}/start",
        content=b"{not json",
        headers={**lead, "content-type": "application/json"},
    )
    assert malformed.status_code == 422
    assert malformed.json()["errors"][0]["type"] == "json_invalid"

    bad_id = await client.post(
        "/requests/bukan id!/start", headers=lead, json={"started_on": str(STARTED)}
    )
    assert bad_id.status_code == 422
    assert {e["field"] for e in bad_id.json()["errors"]} == {"path.request_id"}
    unknown = str(uuid.uuid4())
    for answer in (
        await client.post(
            f"/requests/{unknown}/start", headers=lead, json={"started_on": str(STARTED)}
        ),
        await client.get(f"/requests/{unknown}", headers=lead),
    ):
        assert answer.status_code == 404, answer.text

    # Rules about one field that need the request's state name the field too.
    # two days on from now (not from TODAY, taken at import): true even across a midnight in WIB
    later = dt.datetime.now(WIB).date() + dt.timedelta(days=2)
    future = await post(client, LEAD, rid, "start", {"started_on": str(later)})
    assert (future.status_code, future.json()["field"]) == (422, "started_on")
    await ok(client, LEAD, rid, "start", {"started_on": str(STARTED)})
    await ok(client, LEAD, rid, "progress", {"percent": 50, "note": "Separuh"})
    down = await post(client, LEAD, rid, "progress", {"percent": 40, "note": "Turun"})
    assert (down.status_code, down.json()["field"]) == (422, "percent")
    no_findings = await post(client, LEAD, rid, "tests", run_body("SYSTEM", "FAILED", "BA/1"))
    assert (no_findings.status_code, no_findings.json()["field"]) == (422, "findings")
    nothing_open = await post(client, LEAD, rid, "problems/P-7/solve", {"solution": "x"})
    assert nothing_open.status_code == 409  # no problem is open: nothing to solve at this step
    assert await own_events(owner_conn, rid) == 2

    assert (await client.get(f"/requests/{rid}")).status_code == 401
    assert (
        await client.post(f"/requests/{rid}/progress", json={"percent": 60, "note": "x"})
    ).status_code == 401
    forged = {"Authorization": "Bearer eyJhbGciOiJub25lIn0.e30."}
    assert (await client.get(f"/requests/{rid}", headers=forged)).status_code == 401
    assert await own_events(owner_conn, rid) == 2


async def test_consumed_events_are_recorded_once_and_others_ignored(
    client: Client, producer: AIOKafkaProducer, owner_conn: asyncpg.Connection
) -> None:
    rid = str(uuid.uuid4())
    envelope = sealed(rid, letter(rid))
    other = sealed(rid, Disposed(request_id=rid, to_role="KABID_TI", note="Tindak lanjuti"), 3)
    wrong = sealed(str(uuid.uuid4()), letter(rid))
    for e in (other, envelope, envelope, wrong):  # the letter redelivered
        await publish(producer, e)

    async def outcomes() -> dict[str, str] | None:
        rows = await owner_conn.fetch(
            "SELECT event_id::text, outcome FROM dev_tracking.processed_events "
            "WHERE event_id = ANY($1::uuid[])",
            [e.event_id for e in (other, envelope, wrong)],
        )
        return {r["event_id"]: r["outcome"] for r in rows} if len(rows) == 3 else None

    seen = await eventually(outcomes, timeout=60)
    assert seen == {
        str(other.event_id): "handled",
        str(envelope.event_id): "handled",
        str(wrong.event_id): "dead_lettered",
    }
    timeline = await owner_conn.fetch(
        "SELECT event_type, own FROM dev_tracking.timeline WHERE stream_id = ANY($1::text[])",
        [rid, wrong.stream_id],
    )
    assert [(r["event_type"], r["own"]) for r in timeline] == [("TaskAssigned", False)]
    gone = await client.get(f"/requests/{wrong.stream_id}", headers=auth(client, KABID))
    assert gone.status_code == 404

    # A later letter (a changed team) keeps the progress; the old team may no longer act.
    await ok(client, LEAD, rid, "start", {"started_on": str(STARTED)})
    new_team = (OUTSIDER,)
    await publish(producer, sealed(rid, letter(rid, team=new_team), 8))

    async def reassigned() -> bool:
        state = (await client.get(f"/requests/{rid}", headers=auth(client, KABID))).json()
        return bool(state["team_members"] == [OUTSIDER.user_id])

    assert await eventually(reassigned, timeout=60)
    refused = await post(client, LEAD, rid, "progress", {"percent": 20, "note": "x"})
    assert refused.status_code == 403
    state = (await ok(client, OUTSIDER, rid, "progress", {"percent": 20, "note": "Lanjut"}))[
        "state"
    ]
    assert (state["started_on"], state["team_lead"]) == (str(STARTED), OUTSIDER.user_id)


async def test_every_command_with_its_key_is_safe_to_retry(
    client: Client, producer: AIOKafkaProducer, owner_conn: asyncpg.Connection
) -> None:
    rid = await assigned(client, producer)

    def sender(path: str) -> Send:
        async def send(key: str, body: Any) -> httpx.Response:
            headers = {**auth(client, LEAD), "Idempotency-Key": key}
            return await client.post(f"/requests/{rid}/{path}", headers=headers, json=body)

        return send

    started = {"started_on": str(STARTED)}
    later = {"started_on": str(STARTED + dt.timedelta(days=1))}
    first = await check_retry_safe(
        sender("start"), lambda: own_events(owner_conn, rid), started, later
    )
    assert first.json()["state"]["started_on"] == str(STARTED)

    problem = {"description": "Server uji belum ada", "severity": "HIGH"}
    racing = await check_racing_retries_act_once(
        sender("problems"), lambda: own_events(owner_conn, rid), problem
    )
    assert racing[0].json()["state"]["open_problems"] == ["P-1"]  # one problem, not four
    assert await own_events(owner_conn, rid) == 2


async def test_the_team_acts_only_within_the_letters_period_until_a_new_letter_extends_it(
    client: Client, producer: AIOKafkaProducer
) -> None:
    """Issue 17, item 11: after the Surat Tugas's last day and its grace of working days (3 by
    default: 20 calendar days cover it whatever the holidays) the team is refused with a 409
    naming the period; a new letter from KADIS extends it."""
    ended = TODAY - dt.timedelta(days=20)
    rid = await assigned(client, producer, ends=ended)
    refused = await post(client, LEAD, rid, "start", {"started_on": str(STARTED)})
    assert refused.status_code == 409, refused.text
    detail = refused.json()
    assert f"({STARTED} s.d. {ended}" in detail["message"]
    assert detail["period_end"] == str(ended) and detail["current_step"] == "DEVELOP"
    actions = await client.get(f"/requests/{rid}/actions", headers=auth(client, LEAD))
    assert actions.json()["actions"] == []

    extended = letter(rid, ends=TODAY + dt.timedelta(days=30))
    await publish(producer, sealed(rid, extended.model_copy(update={"letter_number": None}), 8))

    async def new_period() -> bool:
        shown = await client.get(f"/requests/{rid}", headers=auth(client, KABID))
        return bool(shown.json()["period_end"] == str(extended.period_end))

    assert await eventually(new_period, timeout=60), "the new TaskAssigned was not consumed"
    await ok(client, LEAD, rid, "start", {"started_on": str(STARTED)})
    await ok(client, MEMBER, rid, "progress", {"percent": 10, "note": "Modul pertama"})
    actions = await client.get(f"/requests/{rid}/actions", headers=auth(client, LEAD))
    assert "ReportProgress" in [a["command"] for a in actions.json()["actions"]]


async def test_the_request_list_comes_in_bounded_pages(
    client: Client, producer: AIOKafkaProducer
) -> None:
    """Issue 17, item 9: the list never answers more than a page (100 unless asked, at most
    500); further pages by offset; a bad bound is a 422 naming the field."""
    first, second = [await assigned(client, producer) for _ in range(2)]
    headers = auth(client, KABID)

    async def page(**params: int) -> list[str]:
        answer = await client.get("/requests", headers=headers, params=params)
        assert answer.status_code == 200, answer.text
        return [r["request_id"] for r in answer.json()]

    assert await page(limit=1) == [second]  # latest change first
    assert await page(limit=1, offset=1) == [first]
    assert len(await page()) <= 100
    for params, field in (({"limit": 0}, "query.limit"), ({"limit": 501}, "query.limit")):
        refused = await client.get("/requests", headers=headers, params=params)
        assert refused.status_code == 422
        assert [e["field"] for e in refused.json()["errors"]] == [field]
    beyond = await client.get("/requests", headers=headers, params={"offset": -1})
    assert [e["field"] for e in beyond.json()["errors"]] == ["query.offset"]
