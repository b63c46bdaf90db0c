"""The approval service in-process over HTTP, on the real PostgreSQL and Kafka: intake's events
are published to intake's topic, approval's come out on its own."""

import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from events.base import DomainEvent
from events.envelope import GENESIS_HASH, Actor, NewEvent, OnBehalfOf, Role
from events.intake import (
    BusinessProcess,
    NeedsAnalysis,
    RequestLetter,
    RequestReceived,
    RequestRevised,
    RequestSubmitted,
    RequestWithdrawn,
)
from infra.auth import TokenIssuer, development_keys
from infra.eventstore.contract import seal_all
from infra.kafka_acl import ADMIN
from infra.principal import Principal
from infra.settings import Settings
from services.approval.bootstrap import create_app
from tests.idempotency_checks import check_racing_retries_act_once, check_retry_safe
from tests.kafka_helpers import eventually, publish_as_relay, read_topic, relay_producer

OPD = "DINKES"
OTHER_OPD = "DISDIK"

FULL_NEEDS = NeedsAnalysis(
    background="Pendataan pasien masih manual.",
    objectives="Mempercepat layanan.",
    intended_users=("Petugas puskesmas",),
    features=("Registrasi pasien", "Laporan bulanan"),
    platform="Web, PostgreSQL",
)
FULL_PROCESS = BusinessProcess(
    system_flow="Petugas mendaftar pasien, dokter mencatat diagnosis.",
    input_data=("Identitas pasien",),
    output_data=("Laporan kunjungan",),
    validation_mechanism="NIK divalidasi 16 digit.",
    user_roles=("Petugas", "Dokter"),
    forms_and_reporting="Laporan bulanan ke Dinkes.",
    access_rights_management="Hak akses per role.",
    user_management="Admin membuat akun.",
    database_management="Backup harian.",
)
PARTIAL_PROCESS = FULL_PROCESS.model_copy(
    update={"user_roles": None, "database_management": None, "user_management": None}
)

MEETING_AT = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)).isoformat()
BODIES: dict[str, dict[str, Any]] = {
    "dispose": {"note": "Mohon ditindaklanjuti.", "disposition_number": "005/12/2024"},
    "verify": {"note": "Lengkap."},
    "return": {"reasons": ["Role pengguna belum diisi"]},
    "meeting": {
        "held_at": MEETING_AT,
        "participants": [
            {"name": "Budi", "position": "Kepala Bidang TI", "organisation": "Diskominfostandi"},
            {"name": "Sari", "position": "Kasi", "organisation": OPD, "user_id": "u-pemohon"},
        ],
        "scope": "Registrasi pasien dan laporan bulanan.",
        "timeline": {"planned_start": "2024-02-12", "planned_end": "2024-03-29"},
        "minutes_number": "BA/01/2024",
    },
    "sign-minutes": {
        "signatories": [
            {"user_id": "u-kabid_ti", "name": "Budi", "role": "KABID_TI"},
            {"user_id": "u-pemohon", "name": "Sari", "role": "PEMOHON"},
        ]
    },
    "assign": {
        "letter_number": "800/05/DISKOMINFOSTANDI/2024",
        "team_members": ["u-dev1", "u-dev2"],
        "team_lead": "u-dev1",
        "period_start": "2024-02-12",
        "period_end": "2024-03-29",
    },
    "reject": {"reason": "Sudah ada aplikasi nasional."},
}
ALLOWED: dict[str, set[Role]] = {
    "dispose": {"KADIS"},
    "verify": {"KABID_TI"},
    "return": {"KABID_TI"},
    "meeting": {"KABID_TI"},
    "sign-minutes": {"KABID_TI", "KADIS"},
    "assign": {"KADIS"},
    "reject": {"KADIS"},
}
"""Who gives each command (the whole matrix: tests/services/test_access_matrix.py)."""

HAPPY_PATH: tuple[tuple[str, Role, str, Role | None], ...] = (
    # command, by whom, step after, who must act after
    ("dispose", "KADIS", "VERIFY", "KABID_TI"),
    ("verify", "KABID_TI", "MEETING", "KABID_TI"),
    ("meeting", "KABID_TI", "SIGN_MINUTES", "KABID_TI"),
    ("sign-minutes", "KABID_TI", "ASSIGN", "KADIS"),
    ("assign", "KADIS", "DEVELOP", "TIM_PENGEMBANG"),
)
READY_AFTER: dict[str, int] = {
    "dispose": 0,
    "verify": 1,
    "return": 1,
    "meeting": 2,
    "sign-minutes": 3,
    "assign": 4,
    "reject": 2,
}
"""How many happy-path commands bring a fresh request to where each command is accepted."""


@dataclass
class Service:
    client: httpx.AsyncClient
    issuer: TokenIssuer
    producer: AIOKafkaProducer
    db: asyncpg.Connection
    settings: Settings
    intake_heads: dict[str, tuple[int, str]] = field(default_factory=dict)

    def headers(
        self,
        role: Role,
        opd: str | None = None,
        delegations: tuple[OnBehalfOf, ...] = (),
    ) -> dict[str, str]:
        home = opd or (OPD if role == "PEMOHON" else "DISKOMINFOSTANDI")
        principal = Principal(
            user_id=f"u-{role.lower()}-{home.lower()}",
            name=role.title(),
            roles=frozenset({role}),
            opd=home,
            delegations=delegations,
        )
        return {"Authorization": f"Bearer {self.issuer.issue(principal)}"}

    async def post(
        self,
        request_id: str,
        command: str,
        role: Role,
        body: dict[str, Any] | None = None,
        **who: Any,
    ) -> httpx.Response:
        payload = BODIES[command] if body is None else body
        return await self.client.post(
            f"/requests/{request_id}/{command}", json=payload, headers=self.headers(role, **who)
        )

    async def state(self, request_id: str, role: Role = "AUDITOR", **who: Any) -> httpx.Response:
        return await self.client.get(f"/requests/{request_id}", headers=self.headers(role, **who))

    async def own_events(self, request_id: str) -> int:
        return int(
            await self.db.fetchval(
                "SELECT count(*) FROM approval.events WHERE stream_id = $1", request_id
            )
        )

    async def consumed(self, request_id: str) -> int:
        return int(
            await self.db.fetchval(
                "SELECT count(*) FROM approval.timeline WHERE stream_id = $1 AND NOT own",
                request_id,
            )
        )

    async def publish(self, *events: DomainEvent, duplicate: bool = False) -> None:
        """Publish intake's events to intake's topic, as intake's relay would, and wait until
        approval has recorded them."""
        request_id = str(events[0].request_id)  # type: ignore[attr-defined]
        before = await self.consumed(request_id)
        actor = Actor(user_id="u-pemohon", role="PEMOHON", opd=OPD)
        await publish_as_relay(
            self.producer,
            "jejak.intake.events",
            request_id,
            self.intake_heads,
            actor,
            events,
            times=2 if duplicate else 1,
        )

        async def recorded() -> bool:
            return await self.consumed(request_id) >= before + len(events)

        assert await eventually(recorded, timeout=60), "approval did not consume intake's events"

    async def open_request(
        self, opd: str = OPD, process: BusinessProcess = FULL_PROCESS, received: bool = True
    ) -> str:
        """A new request submitted (and received) at intake, as approval learns it."""
        request_id = str(uuid.uuid4())
        submitted = RequestSubmitted(
            request_id=request_id,
            opd=opd,
            title="SIMPUS",
            summary="Sistem informasi puskesmas.",
            letter=RequestLetter(number="400/12/DINKES/2024", date=dt.date(2024, 2, 1)),
            needs_analysis=FULL_NEEDS,
            business_process=process,
            submitted_via="WEB",
        )
        events: list[DomainEvent] = [submitted]
        if received:
            events.append(RequestReceived(request_id=request_id, received_by="u-sekretariat"))
        await self.publish(*events)
        return request_id

    async def request_at(self, steps_done: int, opd: str = OPD) -> str:
        """A fresh request after the first ``steps_done`` happy-path commands."""
        request_id = await self.open_request(opd)
        for command, role, _, _ in HAPPY_PATH[:steps_done]:
            answer = await self.post(request_id, command, role)
            assert answer.status_code == 200, answer.text
        return request_id

    async def topic_events(self, request_id: str, count: int) -> list[dict[str, Any]]:
        """Approval's events of the request on its topic, once ``count`` have arrived."""
        found: list[dict[str, Any]] = []

        async def arrived() -> bool:
            records = await read_topic(
                self.settings.kafka_login(ADMIN), "jejak.approval.events", 1, timeout=10
            )
            found[:] = [json.loads(r.value) for r in records if r.key == request_id.encode()]
            return len(found) >= count

        assert await eventually(arrived, timeout=60), found
        return found


@pytest.fixture(scope="module")
async def service(
    settings: Settings, owner_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Service]:
    keys = tmp_path_factory.mktemp("keys")
    private, _ = development_keys(keys)
    configured = settings.model_copy(update={"jwt_key_dir": str(keys)})
    app = create_app(configured)
    producer = relay_producer(settings, "intake")
    async with app.router.lifespan_context(app):
        await producer.start()
        db = await asyncpg.connect(owner_settings.database_url)
        transport = httpx.ASGITransport(app=app)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://approval") as c:
                yield Service(c, TokenIssuer(private), producer, db, configured)
        finally:
            await db.close()
            await producer.stop()


# The steps ------------------------------------------------------------------------------------


async def test_steps_3_to_7_over_http_with_the_right_roles(service: Service) -> None:
    request_id = await service.open_request()
    opened = (await service.state(request_id, "KADIS")).json()
    assert (opened["status"], opened["current_step"], opened["who_must_act"]) == (
        "AWAITING_DISPOSITION",
        "DISPOSE",
        "KADIS",
    )
    assert (opened["opd"], opened["title"], opened["step_number"]) == (OPD, "SIMPUS", 3)

    for command, role, step_after, actor_after in HAPPY_PATH:
        answer = await service.post(request_id, command, role)
        assert answer.status_code == 200, answer.text
        result = answer.json()
        assert result["request_id"] == request_id
        assert len(result["event_ids"]) == 1
        assert (result["state"]["current_step"], result["state"]["who_must_act"]) == (
            step_after,
            actor_after,
        )
        seen = (await service.state(request_id)).json()
        assert seen == result["state"]

    final = (await service.state(request_id, "KADIS")).json()
    assert final["status"] == "ASSIGNED"
    assert final["disposition"]["note"] == BODIES["dispose"]["note"]
    assert final["meeting"]["timeline"] == BODIES["meeting"]["timeline"]
    assert [s["role"] for s in final["minutes"]["signatories"]] == ["KABID_TI", "PEMOHON"]
    assert final["assignment"]["team_lead"] == "u-dev1"

    events = await service.topic_events(request_id, 5)
    assert [e["event_type"] for e in events] == [
        "Disposed",
        "DocumentsVerified",
        "MeetingHeld",
        "BAsigned",
        "TaskAssigned",
    ]
    assert [e["stream_version"] for e in events] == [1, 2, 3, 4, 5]
    assert [e["actor"]["role"] for e in events] == [r for _, r, _, _ in HAPPY_PATH]
    assigned = events[-1]["payload"]
    assert assigned["opd"] == OPD
    assert assigned["team_members"] == ["u-dev1", "u-dev2"]
    assert events[3]["payload"]["minutes_number"] == "BA/01/2024"


async def test_minutes_may_be_signed_by_kadis_and_need_a_requester_signature(
    service: Service,
) -> None:
    request_id = await service.request_at(3)
    no_requester = {"signatories": [{"user_id": "u-kadis", "name": "Andi", "role": "KADIS"}]}
    refused = await service.post(request_id, "sign-minutes", "KADIS", no_requester)
    assert refused.status_code == 422
    assert refused.json()["field"] == "signatories"
    assert await service.own_events(request_id) == 3
    signed = {
        "signatories": [
            {"user_id": "u-kadis", "name": "Andi", "role": "KADIS"},
            {"user_id": "u-pemohon", "name": "Sari", "role": "PEMOHON"},
        ],
        "minutes_number": "BA/01-F/2024",
    }
    answer = await service.post(request_id, "sign-minutes", "KADIS", signed)
    assert answer.status_code == 200, answer.text
    assert answer.json()["state"]["minutes"]["minutes_number"] == "BA/01-F/2024"
    [*_, event] = await service.topic_events(request_id, 4)
    assert (event["event_type"], event["actor"]["role"]) == ("BAsigned", "KADIS")


async def test_a_meeting_may_leave_the_minutes_number_to_the_register(service: Service) -> None:
    """No number typed for the draft nor at signing: both events carry none (the documents
    service numbers the signed minutes from its register)."""
    request_id = await service.request_at(2)
    unnumbered = {k: v for k, v in BODIES["meeting"].items() if k != "minutes_number"}
    met = await service.post(request_id, "meeting", "KABID_TI", unnumbered)
    assert met.status_code == 200, met.text
    signed = await service.post(request_id, "sign-minutes", "KABID_TI")
    assert signed.status_code == 200, signed.text
    assert signed.json()["state"]["minutes"]["minutes_number"] is None
    *_, meeting, minutes = await service.topic_events(request_id, 4)
    assert (meeting["event_type"], minutes["event_type"]) == ("MeetingHeld", "BAsigned")
    assert (
        "minutes_number" not in meeting["payload"] or meeting["payload"]["minutes_number"] is None
    )
    assert minutes["payload"].get("minutes_number") is None


async def test_missing_sections_are_listed_and_a_return_waits_on_the_revision(
    service: Service,
) -> None:
    request_id = await service.open_request(process=PARTIAL_PROCESS)
    assert (await service.post(request_id, "dispose", "KADIS")).status_code == 200
    view = (await service.state(request_id, "KABID_TI")).json()
    gaps = [
        "business_process.user_roles",
        "business_process.user_management",
        "business_process.database_management",
    ]
    assert view["missing_sections"] == [
        {"section": "business_process.user_roles", "label": "Role pengguna"},
        {"section": "business_process.user_management", "label": "Manajemen user"},
        {"section": "business_process.database_management", "label": "Manajemen database"},
    ]

    unacknowledged = await service.post(request_id, "verify", "KABID_TI", {})
    assert unacknowledged.status_code == 422
    assert unacknowledged.json()["field"] == "acknowledged_missing"
    assert await service.own_events(request_id) == 1

    returned = await service.post(request_id, "return", "KABID_TI")
    assert returned.status_code == 200, returned.text
    state = returned.json()["state"]
    assert (state["status"], state["current_step"], state["who_must_act"]) == (
        "RETURNED",
        "VERIFY",
        "PEMOHON",
    )
    early = await service.post(request_id, "verify", "KABID_TI", {"acknowledged_missing": gaps})
    assert early.status_code == 409
    assert early.json()["current_step"] == "VERIFY"

    # The requester fills in two of the three sections; KABID_TI accepts the last one knowingly.
    revised = PARTIAL_PROCESS.model_copy(
        update={"user_roles": ("Petugas",), "user_management": "Admin membuat akun."}
    )
    await service.publish(
        RequestRevised(request_id=request_id, business_process=revised, note="Dilengkapi.")
    )
    view = (await service.state(request_id, "KABID_TI")).json()
    assert (view["status"], view["revisions"], view["returns"]) == ("AWAITING_VERIFICATION", 1, 1)
    assert [m["section"] for m in view["missing_sections"]] == [gaps[2]]
    stale = await service.post(request_id, "verify", "KABID_TI", {"acknowledged_missing": gaps})
    assert stale.status_code == 422
    assert stale.json()["field"] == "acknowledged_missing"
    verified = await service.post(
        request_id, "verify", "KABID_TI", {"acknowledged_missing": [gaps[2]]}
    )
    assert verified.status_code == 200, verified.text
    assert verified.json()["state"]["current_step"] == "MEETING"

    events = await service.topic_events(request_id, 3)
    assert [e["event_type"] for e in events] == ["Disposed", "RequestReturned", "DocumentsVerified"]
    assert events[1]["payload"]["missing_sections"] == gaps
    assert events[1]["payload"]["reasons"] == BODIES["return"]["reasons"]
    assert events[2]["payload"]["missing_sections"] == [gaps[2]]


async def test_a_rejected_or_withdrawn_request_takes_no_more_commands(service: Service) -> None:
    rejected = await service.request_at(2)
    answer = await service.post(rejected, "reject", "KADIS")
    assert answer.status_code == 200, answer.text
    assert answer.json()["state"]["status"] == "REJECTED"
    late = await service.post(rejected, "meeting", "KABID_TI")
    assert late.status_code == 409
    assert late.json()["current_step"] == "MEETING"
    assert "sudah ditolak" in late.json()["message"]
    assert await service.own_events(rejected) == 3

    withdrawn = await service.request_at(1)
    await service.publish(RequestWithdrawn(request_id=withdrawn, reason="Anggaran dialihkan."))
    view = (await service.state(withdrawn)).json()
    assert (view["status"], view["current_step"], view["who_must_act"]) == (
        "WITHDRAWN",
        "VERIFY",
        None,
    )
    refused = await service.post(withdrawn, "reject", "KADIS")
    assert refused.status_code == 409
    assert refused.json()["current_step"] == "VERIFY"
    assert await service.own_events(withdrawn) == 1


# Roles, OPDs and steps ------------------------------------------------------------------------


async def test_an_acting_official_acts_by_delegation_and_the_record_keeps_both(
    service: Service,
) -> None:
    request_id = await service.request_at(0)
    plt = (OnBehalfOf(user_id="u-kadis", role="KADIS", kind="PLT"),)
    answer = await service.post(request_id, "dispose", "ADMIN", delegations=plt)
    assert answer.status_code == 200, answer.text
    [event] = await service.topic_events(request_id, 1)
    assert event["actor"]["role"] == "KADIS"
    assert event["actor"]["user_id"] == "u-admin-diskominfostandi"
    assert event["actor"]["on_behalf_of"] == {"user_id": "u-kadis", "role": "KADIS", "kind": "PLT"}


async def test_a_requester_of_another_opd_can_neither_see_nor_touch_a_request(
    service: Service,
) -> None:
    request_id = await service.request_at(1)
    own = await service.state(request_id, "PEMOHON")
    assert own.status_code == 200 and own.json()["opd"] == OPD
    stranger = await service.state(request_id, "PEMOHON", opd=OTHER_OPD)
    assert stranger.status_code == 403
    # Its commands are refused too: tests/services/test_access_matrix.py tries every one.

    mine = await service.client.get("/requests", headers=service.headers("PEMOHON"))
    theirs = await service.client.get(
        "/requests", headers=service.headers("PEMOHON", opd=OTHER_OPD)
    )
    assert request_id in {r["request_id"] for r in mine.json()}
    assert all(r["opd"] == OPD for r in mine.json())
    assert request_id not in {r["request_id"] for r in theirs.json()}
    inbox = await service.client.get(
        "/requests", params={"waiting_on": "KABID_TI"}, headers=service.headers("KABID_TI")
    )
    row = next(r for r in inbox.json() if r["request_id"] == request_id)
    assert (row["status"], row["current_step"], row["title"]) == (
        "AWAITING_VERIFICATION",
        "VERIFY",
        "SIMPUS",
    )
    by_status = await service.client.get(
        "/requests", params={"status": "AWAITING_DISPOSITION"}, headers=service.headers("AUDITOR")
    )
    assert request_id not in {r["request_id"] for r in by_status.json()}


async def test_out_of_order_commands_get_409_naming_the_current_step(service: Service) -> None:
    request_id = await service.request_at(0)
    for command in ("verify", "return", "meeting", "sign-minutes", "assign"):
        role = sorted(ALLOWED[command])[0]
        answer = await service.post(request_id, command, role)
        assert answer.status_code == 409, command
        assert answer.json()["current_step"] == "DISPOSE"
    assert await service.own_events(request_id) == 0

    assert (await service.post(request_id, "dispose", "KADIS")).status_code == 200
    again = await service.post(request_id, "dispose", "KADIS")
    assert again.status_code == 409
    assert again.json()["current_step"] == "VERIFY"
    assert "menunggu Kepala Bidang TI" in again.json()["message"]
    assert await service.own_events(request_id) == 1

    not_received = await service.open_request(received=False)
    early = await service.post(not_received, "dispose", "KADIS")
    assert early.status_code == 409
    assert early.json()["current_step"] == "RECEIVE"
    assert await service.own_events(not_received) == 0


async def test_a_disposition_keeps_its_ticked_instructions_sifat_and_deadline(
    service: Service,
) -> None:
    request_id = await service.open_request()
    empty = await service.post(request_id, "dispose", "KADIS", {"urgency": "Segera"})
    assert empty.status_code == 422, empty.text
    [problem] = empty.json()["errors"]
    assert problem["field"] == "body.note"
    assert "instruksi atau tulis catatan" in problem["message"]
    unknown = {"instructions": ["Segera kerjakan"], "classification": "Umum"}
    wrong = await service.post(request_id, "dispose", "KADIS", unknown)
    assert {e["field"] for e in wrong.json()["errors"]} == {
        "body.instructions.0",
        "body.classification",
    }
    assert await service.own_events(request_id) == 0

    sheet = {
        "instructions": ["Untuk ditindaklanjuti", "Koordinasikan"],
        "urgency": "Sangat Segera",
        "classification": "Terbatas",
        "respond_by": "2024-03-08",
    }
    assert (await service.post(request_id, "dispose", "KADIS", sheet)).status_code == 200
    [disposed] = await service.topic_events(request_id, 1)
    payload = disposed["payload"]
    assert {k: payload[k] for k in sheet} == {**sheet, "instructions": sheet["instructions"]}
    assert payload["note"] is None


# Consumption ----------------------------------------------------------------------------------


async def test_a_redelivered_intake_event_is_recorded_once(service: Service) -> None:
    request_id = await service.open_request(received=False)
    await service.publish(
        RequestReceived(request_id=request_id, received_by="u-sekretariat"), duplicate=True
    )
    # A later event of the same request (same key, same partition) comes after the duplicate.
    await service.publish(RequestRevised(request_id=request_id, title="SIMPUS 2", note="Judul."))
    assert await service.consumed(request_id) == 3
    view = (await service.state(request_id)).json()
    assert (view["status"], view["title"]) == ("AWAITING_DISPOSITION", "SIMPUS 2")


async def test_an_intake_event_naming_another_request_is_dead_lettered(service: Service) -> None:
    stream, other = str(uuid.uuid4()), str(uuid.uuid4())
    envelope = seal_all(
        stream,
        0,
        GENESIS_HASH,
        [
            NewEvent(
                event_type="RequestReceived",
                schema_version=1,
                actor=Actor(user_id="u-sekretariat", role="KADIS"),
                correlation_id=uuid.uuid4(),
                payload={"request_id": other, "received_by": "u-sekretariat"},
            )
        ],
    )[0]
    await service.producer.send_and_wait(
        "jejak.intake.events", envelope.model_dump_json().encode(), key=stream.encode()
    )

    async def outcome() -> str | None:
        return await service.db.fetchval(
            "SELECT outcome FROM approval.processed_events WHERE event_id = $1",
            envelope.event_id,
        )

    assert await eventually(outcome, timeout=60) == "dead_lettered"
    assert await service.consumed(stream) == 0 and await service.consumed(other) == 0
    assert (await service.state(stream)).status_code == 404


# Bad input ------------------------------------------------------------------------------------


async def test_no_token_or_a_forged_one_gets_401(service: Service) -> None:
    request_id = await service.request_at(0)
    assert (await service.client.get(f"/requests/{request_id}")).status_code == 401
    bare = await service.client.post(f"/requests/{request_id}/dispose", json=BODIES["dispose"])
    assert bare.status_code == 401
    forged = {"Authorization": "Bearer eyJhbGciOiJub25lIn0.e30."}
    answer = await service.client.post(
        f"/requests/{request_id}/dispose", json=BODIES["dispose"], headers=forged
    )
    assert answer.status_code == 401
    assert await service.own_events(request_id) == 0


async def test_bad_input_gets_a_4xx_naming_the_field_and_appends_nothing(
    service: Service,
) -> None:
    request_id = await service.request_at(4)  # at ASSIGN

    def fields(answer: httpx.Response) -> set[str]:
        assert answer.status_code == 422, answer.text
        return {e["field"] for e in answer.json()["errors"]}

    missing = {k: v for k, v in BODIES["assign"].items() if k != "team_lead"}
    assert fields(await service.post(request_id, "assign", "KADIS", missing)) == {"body.team_lead"}
    wrong_types = {**BODIES["assign"], "team_members": "u-dev1", "period_start": "besok"}
    assert fields(await service.post(request_id, "assign", "KADIS", wrong_types)) == {
        "body.team_members",
        "body.period_start",
    }
    unknown = {**BODIES["assign"], "budget": 1000}
    assert fields(await service.post(request_id, "assign", "KADIS", unknown)) == {"body.budget"}
    malformed = await service.client.post(
        f"/requests/{request_id}/assign",
        content=b'{"letter_number": ',
        headers={**service.headers("KADIS"), "content-type": "application/json"},
    )
    assert malformed.status_code == 422
    not_a_member = {**BODIES["assign"], "team_lead": "u-dev9"}
    rule = await service.post(request_id, "assign", "KADIS", not_a_member)
    assert (rule.status_code, rule.json()["field"]) == (422, "team_lead")
    backwards = {**BODIES["assign"], "period_end": "2024-01-01"}
    rule = await service.post(request_id, "assign", "KADIS", backwards)
    assert (rule.status_code, rule.json()["field"]) == (422, "period_end")
    assert await service.own_events(request_id) == 4

    unknown_id = str(uuid.uuid4())
    absent = await service.post(unknown_id, "dispose", "KADIS")
    assert absent.status_code == 404
    assert absent.json()["field"] == "request_id"
    assert (await service.state(unknown_id)).json()["field"] == "request_id"
    assert fields(await service.post("-bad id-", "dispose", "KADIS")) == {"path.request_id"}
    assert await service.own_events(unknown_id) == 0


async def test_future_meetings_and_unknown_sections_are_refused(service: Service) -> None:
    request_id = await service.request_at(1)
    unknown_section = await service.post(
        request_id, "verify", "KABID_TI", {"acknowledged_missing": ["needs_analysis.budget"]}
    )
    assert unknown_section.status_code == 422
    assert {e["field"] for e in unknown_section.json()["errors"]} == {"body.acknowledged_missing"}
    assert (await service.post(request_id, "verify", "KABID_TI")).status_code == 200
    future = {**BODIES["meeting"], "held_at": "2099-01-01T09:00:00+07:00"}
    answer = await service.post(request_id, "meeting", "KABID_TI", future)
    assert (answer.status_code, answer.json()["field"]) == (422, "held_at")
    naive = {**BODIES["meeting"], "held_at": "2024-02-07T09:00:00"}
    assert (await service.post(request_id, "meeting", "KABID_TI", naive)).status_code == 422
    assert await service.own_events(request_id) == 2


async def test_every_command_with_its_key_is_safe_to_retry(service: Service) -> None:
    request_id = await service.request_at(READY_AFTER["dispose"])

    async def dispose(key: str, body: Any) -> httpx.Response:
        headers = {**service.headers("KADIS"), "Idempotency-Key": key}
        path = f"/requests/{request_id}/dispose"
        return await service.client.post(path, json=body, headers=headers)

    other = {**BODIES["dispose"], "note": "Segera."}
    first = await check_retry_safe(
        dispose, lambda: service.own_events(request_id), BODIES["dispose"], other
    )
    assert first.json()["state"]["current_step"] == "VERIFY"

    racing_id = await service.request_at(READY_AFTER["reject"])

    async def reject(key: str, body: Any) -> httpx.Response:
        headers = {**service.headers("KADIS"), "Idempotency-Key": key}
        path = f"/requests/{racing_id}/reject"
        return await service.client.post(path, json=body, headers=headers)

    await check_racing_retries_act_once(
        reject, lambda: service.own_events(racing_id), BODIES["reject"]
    )
    assert await service.own_events(racing_id) == READY_AFTER["reject"] + 1
