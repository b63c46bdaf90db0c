"""Status changes to the e-office on the real stack: reporting and eoffice in-process on the real
PostgreSQL and Kafka (the changes travel on ``jejak.reporting.events``), and a real HTTP
e-office (``eoffice_simulator``) that checks every signature and the order.

The simulator receives every status change of each request in order, without gaps, while it
fails half of its first attempts, goes down and comes back, and while the eoffice service is
restarted mid-backoff (as two replicas); a delivery that outlives its retry budget is parked,
shown to the admin, holds back the request's later changes, and re-sends on request; without a
callback URL the changes are recorded and go out once one is configured."""

import asyncio
import datetime as dt
import json
import random
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI
from pydantic import SecretStr

from bench.replay import EPOCH, sample_request
from events.envelope import Envelope, Role
from events.topics import Service, topic_for
from infra.auth import TokenIssuer, development_keys, generate_key_pair
from infra.kafka_acl import ADMIN
from infra.principal import Principal
from infra.settings import ProductionConfigError, Settings
from services.eoffice.bootstrap import create_app as create_eoffice
from services.eoffice.config import EofficeConfig, InsecureCallback
from services.reporting.bootstrap import create_app as create_reporting
from services.reporting.config import ReportingConfig
from services.reporting.status_changes import changes_for
from tests.kafka_helpers import eventually
from tests.services.eoffice_simulator import Simulator

SECRET = "test-tenant-secret-" + "o" * 24
NEW_SECRET = "test-tenant-new-secret-" + "n" * 24
BEFORE_EVERYTHING = dt.datetime(2023, 12, 1, tzinfo=dt.UTC)  # reporting breaches nothing
Flow = list[tuple[Service, Envelope]]


def config(sim: Simulator | None, **overrides: Any) -> EofficeConfig:
    values: dict[str, Any] = {
        "callback_url": sim.url if sim else None,
        "retry_budget": 30,
        "initial_backoff_seconds": 0.5,
        "max_backoff_seconds": 2.0,
        "attempt_timeout_seconds": 2.0,
        "poll_seconds": 0.1,
    }
    return EofficeConfig.model_validate(values | overrides)


@dataclass
class System:
    settings: Settings
    issuer: TokenIssuer
    producer: AIOKafkaProducer
    db: asyncpg.Pool
    sim: Simulator
    eoffice: httpx.AsyncClient | None = None
    """The first replica's API."""
    _replicas: list[AsyncExitStack] = field(default_factory=list)
    sent: dict[str, int] = field(default_factory=dict)

    async def start_eoffice(self, conf: EofficeConfig, replicas: int = 1) -> None:
        """Run ``replicas`` instances of the eoffice service (one consumer group, one schedule)."""
        for _ in range(replicas):
            app: FastAPI = create_eoffice(self.settings, conf)
            running = AsyncExitStack()
            await running.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=app)
            client = await running.enter_async_context(
                httpx.AsyncClient(transport=transport, base_url="http://eoffice")
            )
            self.eoffice = self.eoffice or client
            self._replicas.append(running)

    async def stop_eoffice(self) -> None:
        assert self._replicas
        while self._replicas:
            await self._replicas.pop().aclose()
        self.eoffice = None

    async def restart_eoffice(self, conf: EofficeConfig) -> None:
        await self.stop_eoffice()
        await self.start_eoffice(conf)

    def headers(self, role: Role) -> dict[str, str]:
        who = Principal(user_id=f"u-{role.lower()}", name=role.title(), roles=frozenset({role}))
        return {"Authorization": f"Bearer {self.issuer.issue(who)}"}

    async def admin(
        self, method: str, path: str, role: Role = "ADMIN", key: str | None = None, **kw: Any
    ) -> Any:
        assert self.eoffice is not None
        headers = self.headers(role) | ({"Idempotency-Key": key} if key else {})
        return await self.eoffice.request(method, path, headers=headers, **kw)

    async def deliveries(self, request_id: str) -> list[dict[str, Any]]:
        answer = await self.admin("GET", "/deliveries", params={"request_id": request_id})
        assert answer.status_code == 200, answer.text
        return list(answer.json()["items"])

    async def projected(self, request_id: str) -> int:
        return int(
            await self.db.fetchval(
                "SELECT count(*) FROM reporting.case_events WHERE request_id = $1", request_id
            )
        )

    async def settle(self, request_id: str) -> None:
        async def done() -> bool:
            return await self.projected(request_id) >= self.sent.get(request_id, 0)

        assert await eventually(done, timeout=90), f"reporting did not project {request_id}"

    async def publish(self, flow: Flow) -> None:
        """Publish as the services' relays would; before switching topics, wait until reporting
        has the earlier ones (a service acts on another's event only after it is published)."""
        previous: Service | None = None
        for service, envelope in flow:
            rid = envelope.stream_id
            if previous is not None and service != previous:
                await self.settle(rid)
            await self.producer.send_and_wait(
                topic_for(service), envelope.model_dump_json().encode(), key=rid.encode()
            )
            self.sent[rid] = self.sent.get(rid, 0) + 1
            previous = service
        if flow:
            await self.settle(flow[0][1].stream_id)

    async def changes(self, request_id: str) -> list[dict[str, Any]]:
        """The CaseStatusChanged reporting emitted for the request, in stream order."""
        rows = await self.db.fetch(
            "SELECT event_id, payload FROM reporting.events WHERE stream_id = $1 "
            "AND event_type = 'CaseStatusChanged' ORDER BY stream_version",
            request_id,
        )
        return [{"event_id": r["event_id"], **json.loads(r["payload"])} for r in rows]

    async def audit(self, request_id: str) -> list[asyncpg.Record]:
        return list(
            await self.db.fetch(
                "SELECT event_type, actor, payload FROM eoffice.events WHERE stream_id = $1 "
                "ORDER BY stream_version",
                request_id,
            )
        )


@pytest.fixture(scope="module")
async def system(
    settings: Settings, owner_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[System]:
    keys = tmp_path_factory.mktemp("keys")
    private, _ = development_keys(keys)
    configured = settings.model_copy(
        update={"jwt_key_dir": str(keys), "eoffice_secret": SecretStr(SECRET)}
    )
    reporting = create_reporting(configured, ReportingConfig(), clock=lambda: BEFORE_EVERYTHING)
    sim = Simulator(SECRET)
    async with AsyncExitStack() as running:
        await running.enter_async_context(reporting.router.lifespan_context(reporting))
        producer = AIOKafkaProducer(**settings.kafka_login(ADMIN).options(), acks="all")
        await producer.start()
        running.push_async_callback(producer.stop)
        db = await asyncpg.create_pool(owner_settings.database_url, min_size=1, max_size=4)
        assert db is not None
        running.push_async_callback(db.close)
        await sim.start()
        state = System(configured, TokenIssuer(private), producer, db, sim)
        await state.start_eoffice(config(sim))
        try:
            yield state
        finally:
            if state._replicas:
                await state.stop_eoffice()
            if sim._server is not None:
                await sim.stop()


def flows(count: int, seed: int) -> list[tuple[str, Flow]]:
    """Whole requests through the SOP (without the sample's own SlaBreached: reporting emits on
    its topic itself here)."""
    rng = random.Random(seed)
    out = []
    for n in range(count):
        rid = str(uuid.uuid4())
        start = EPOCH + dt.timedelta(days=n)
        flow = [(s, e) for s, e in sample_request(rid, rng, start, reports=1) if s != "reporting"]
        out.append((rid, flow))
    return out


async def all_delivered(system: System, rids: list[str], timeout: float = 120) -> None:
    async def done() -> bool:
        for rid in rids:
            expected = len(await system.changes(rid))
            if expected == 0 or len(system.sim.sequences(rid)) < expected:
                return False
        return True

    got = {rid: system.sim.sequences(rid) for rid in rids}
    assert await eventually(done, timeout=timeout, interval=0.25), got


async def test_every_change_arrives_in_order_through_failures_and_restarts(
    system: System,
) -> None:
    sim = system.sim
    sim.fail_half = True
    requests = flows(4, seed=31)
    rids = [rid for rid, _ in requests]
    halves = [(flow[: len(flow) // 2], flow[len(flow) // 2 :]) for _, flow in requests]
    await asyncio.gather(*(system.publish(first) for first, _ in halves))
    await all_delivered(system, rids)

    # The e-office goes down; the rest of each request happens meanwhile.
    await sim.stop()
    await asyncio.gather(*(system.publish(rest) for _, rest in halves))

    async def backing_off() -> bool:
        waiting = await system.db.fetchval(
            "SELECT count(*) FROM eoffice.deliveries WHERE request_id = ANY($1) "
            "AND state = 'PENDING' AND attempts >= 1 AND next_attempt_at > now()",
            rids,
        )
        return bool(waiting)

    assert await eventually(backing_off, timeout=60)
    # The eoffice service stops mid-backoff and starts again; the e-office comes back.
    await system.stop_eoffice()
    restarted_at = dt.datetime.now(dt.UTC)
    await sim.start()
    await system.start_eoffice(config(sim), replicas=2)  # sharing the schedule

    await all_delivered(system, rids)
    assert sim.problems == []  # every signature good, nothing out of order, no gaps
    assert sim.duplicates == 0  # two replicas, and no change was taken twice
    for rid in rids:
        changes = await system.changes(rid)
        expected = changes_for([e for _, e in dict(requests)[rid]], rid)
        assert [c | {"event_id": None} for c in changes] == [
            e.model_dump(mode="json") | {"event_id": None} for e in expected
        ]
        taken = sim.accepted[rid]
        assert [n.change.sequence for n in taken] == list(range(1, len(changes) + 1))
        assert [str(n.delivery_id) for n in taken] == [str(c["event_id"]) for c in changes]
        for notice, change in zip(taken, changes, strict=True):
            sent = notice.change.model_dump(mode="json")
            assert sent == {k: v for k, v in change.items() if k != "event_id"}
        case = await system.db.fetchrow(
            "SELECT status, current_step FROM reporting.cases WHERE request_id = $1", rid
        )
        last = taken[-1].change
        assert (last.status, last.step.code) == (case["status"], case["current_step"])
        delivered = [r for r in await system.audit(rid) if r["event_type"] == "StatusDelivered"]
        assert len(delivered) == len(changes)
        assert [json.loads(r["payload"])["sequence"] for r in delivered] == list(
            range(1, len(changes) + 1)
        )
        assert all(d["state"] == "DELIVERED" for d in await system.deliveries(rid))

    # Half of the first attempts failed, and those were delivered on a later attempt.
    assert len(sim.failed_first) == (sim.first_seen + 1) // 2
    ours = {str(n.delivery_id) for rid in rids for n in sim.accepted[rid]}
    assert ours & sim.failed_first
    # Some delivery failed before the restart and was delivered by the restarted service.
    across = await system.db.fetchval(
        "SELECT count(DISTINCT a.delivery_id) FROM eoffice.delivery_attempts a "
        "JOIN eoffice.deliveries d USING (delivery_id) WHERE d.request_id = ANY($1) "
        "AND a.finished_at < $2 AND a.http_status IS NULL AND EXISTS (SELECT 1 FROM "
        "eoffice.delivery_attempts b WHERE b.delivery_id = a.delivery_id "
        "AND b.started_at > $2 AND b.http_status BETWEEN 200 AND 299)",
        rids,
        restarted_at,
    )
    assert across >= 1


async def test_a_parked_delivery_is_shown_resent_and_the_later_changes_follow(
    system: System,
) -> None:
    sim = system.sim
    sim.fail_half = False
    await system.restart_eoffice(
        config(sim, retry_budget=2, initial_backoff_seconds=0.1, max_backoff_seconds=0.2)
    )
    [(rid, flow)] = flows(1, seed=47)
    await sim.stop()  # down past the budget
    await system.publish(flow[:2])  # submitted, received: two changes

    async def parked() -> list[dict[str, Any]]:
        answer = await system.admin(
            "GET", "/deliveries", params={"state": "PARKED", "request_id": rid}
        )
        assert answer.status_code == 200, answer.text
        return list(answer.json()["items"])

    async def is_parked() -> bool:
        return bool(await parked())

    assert await eventually(is_parked, timeout=60)
    [first] = await parked()
    assert (first["sequence"], first["attempts"], first["last_http_status"]) == (1, 2, None)
    assert "ConnectError" in first["last_error"]

    async def both_recorded() -> bool:  # the second change may reach eoffice after the parking
        return len(await system.deliveries(rid)) == 2

    assert await eventually(both_recorded, timeout=60)
    both = await system.deliveries(rid)
    assert [(d["sequence"], d["state"], d["waiting_for_sequence"]) for d in both] == [
        (1, "PARKED", None),
        (2, "PENDING", 1),
    ]
    second = both[1]
    assert second["attempts"] == 0  # never tried past the parked one

    # Refusals: ADMIN and AUDITOR read, only ADMIN re-sends; an unknown delivery; one that is
    # not parked; a malformed id.
    audited = await system.admin("GET", "/deliveries", role="AUDITOR")
    assert audited.status_code == 200, audited.text
    for role in ("KADIS", "AUDITOR", "PEMOHON"):
        if role != "AUDITOR":
            answer = await system.admin("GET", "/deliveries", role=role)
            assert answer.status_code == 403, (role, answer.text)
        resend = await system.admin("POST", f"/deliveries/{first['delivery_id']}/resend", role=role)
        assert resend.status_code == 403
    assert system.eoffice is not None
    assert (await system.eoffice.get("/deliveries")).status_code == 401
    unknown = await system.admin("POST", f"/deliveries/{uuid.uuid4()}/resend")
    assert (unknown.status_code, unknown.json()["field"]) == (404, "delivery_id")
    assert (await system.admin("GET", f"/deliveries/{uuid.uuid4()}")).status_code == 404
    pending = await system.admin("POST", f"/deliveries/{second['delivery_id']}/resend")
    assert (pending.status_code, pending.json()["state"]) == (409, "PENDING")
    malformed = await system.admin("POST", "/deliveries/not-a-uuid/resend")
    assert malformed.status_code == 422 and "delivery_id" in malformed.text
    bad_state = await system.admin("GET", "/deliveries", params={"state": "LOST"})
    assert bad_state.status_code == 422 and "state" in bad_state.text

    audit = await system.audit(rid)
    assert [r["event_type"] for r in audit] == ["StatusDeliveryParked"]
    assert json.loads(audit[0]["payload"])["delivery_id"] == first["delivery_id"]

    # The e-office is back, but nothing of the request goes past its parked change.
    await sim.start()
    await asyncio.sleep(1.0)
    assert sim.seen(rid) == 0

    key, resend_path = f"kirim-{uuid.uuid4()}", f"/deliveries/{first['delivery_id']}/resend"
    racing = await asyncio.gather(
        *(
            system.admin("POST", resend_path, key=key, json={"note": "E-office pulih."})
            for _ in "abc"
        )
    )
    assert {(r.status_code, r.content) for r in racing} == {(202, racing[0].content)}
    assert [r.headers.get("idempotent-replayed") for r in racing].count("true") == 2
    resent = racing[0]
    body = resent.json()
    assert (body["state"], body["attempts"], body["resends"], body["resent_by"]) == (
        "PENDING",
        0,
        1,
        "u-admin",
    )

    async def taken(count: int) -> bool:
        return len(sim.sequences(rid)) >= count

    assert await eventually(lambda: taken(2), timeout=30), sim.sequences(rid)
    await system.publish(flow[2:3])  # disposed: a third change, after the others
    assert await eventually(lambda: taken(3), timeout=30), sim.sequences(rid)
    assert sim.sequences(rid) == [1, 2, 3] and sim.problems == []

    again = await system.admin("POST", resend_path)
    assert (again.status_code, again.json()["state"]) == (409, "DELIVERED")
    retried = await system.admin("POST", resend_path, key=key, json={"note": "E-office pulih."})
    assert (retried.status_code, retried.content) == (202, resent.content)
    reused = await system.admin("POST", resend_path, key=key, json={"note": "Lain."})
    assert (reused.status_code, reused.json()["field"]) == (422, "header.idempotency-key")
    detail = (await system.admin("GET", f"/deliveries/{first['delivery_id']}")).json()
    assert [a["http_status"] for a in detail["attempt_log"]] == [None, None, 204]
    assert detail["change"]["sequence"] == 1 and detail["state"] == "DELIVERED"

    audit = await system.audit(rid)
    assert [r["event_type"] for r in audit] == [
        "StatusDeliveryParked",
        "StatusDeliveryResent",
        "StatusDelivered",
        "StatusDelivered",
        "StatusDelivered",
    ]
    resent_event = audit[1]
    assert json.loads(resent_event["actor"])["user_id"] == "u-admin"
    assert json.loads(resent_event["actor"])["role"] == "ADMIN"
    payload = json.loads(resent_event["payload"])
    assert (payload["resent_by"], payload["note"], payload["sequence"]) == (
        "u-admin",
        "E-office pulih.",
        1,
    )
    await system.restart_eoffice(config(sim))


async def test_without_a_callback_url_changes_are_kept_and_sent_once_one_is_set(
    system: System,
) -> None:
    sim = system.sim
    sim.fail_half = False
    await system.restart_eoffice(config(None))
    [(rid, flow)] = flows(1, seed=53)
    await system.publish(flow[:3])

    async def recorded() -> bool:
        return len(await system.deliveries(rid)) == 3

    assert await eventually(recorded, timeout=60)
    listed = await system.admin("GET", "/deliveries", params={"request_id": rid})
    assert listed.json()["callback_configured"] is False
    await asyncio.sleep(0.5)
    assert [(d["state"], d["attempts"]) for d in await system.deliveries(rid)] == [
        ("PENDING", 0)
    ] * 3
    assert sim.seen(rid) == 0

    await system.restart_eoffice(config(sim))
    await all_delivered(system, [rid], timeout=60)
    assert sim.sequences(rid) == [1, 2, 3] and sim.problems == []


def test_production_refuses_to_start_without_a_real_secret(settings: Settings) -> None:
    production = settings.model_copy(update={"environment": "production"})
    with pytest.raises(ProductionConfigError):
        create_eoffice(production, config(None))
    with_secret = production.model_copy(update={"eoffice_secret": SecretStr(SECRET)})
    with pytest.raises(ProductionConfigError, match="JWT_PUBLIC_KEY"):
        create_eoffice(with_secret, config(None))  # and without the other production settings


def test_production_refuses_to_start_with_a_callback_url_that_is_not_https(
    settings: Settings, tmp_path: Path
) -> None:
    _, public = development_keys(tmp_path / "production-keys")
    production = settings.model_copy(
        update={
            "environment": "production",
            "eoffice_secret": SecretStr(SECRET),
            "jwt_public_key": public,
            "app_db_password": "production-password-" + "p" * 20,
            "checkpoint_signing_key": SecretStr(generate_key_pair()[0]),
            "kafka_sasl_password": SecretStr("eoffice-s-own-kafka-password"),
        }
    )
    for url in ("http://eoffice.katingankab.go.id/jejak/status", "http://127.0.0.1:9/jejak"):
        with pytest.raises(InsecureCallback, match="EOFFICE_CALLBACK_URL harus https"):
            create_eoffice(production, config(None, callback_url=url))
    create_eoffice(production, config(None, callback_url="https://eoffice.example/jejak"))
    with pytest.raises(InsecureCallback, match="hanya boleh ke mesin ini"):  # development
        create_eoffice(settings, config(None, callback_url="http://eoffice.example/jejak"))


async def test_while_jejak_rotates_its_secret_the_e_office_may_check_either(
    system: System,
) -> None:
    """Jejak takes a new secret and keeps the old as a previous one: every change is signed
    with both, so the e-office's receiver goes on checking the old secret, and moves over to
    the new one whenever it likes, without a refused delivery."""
    sim, original = system.sim, system.settings
    sim.fail_half = False
    problems = len(sim.problems)
    await system.stop_eoffice()
    system.settings = original.model_copy(
        update={
            "eoffice_secret": SecretStr(NEW_SECRET),
            "eoffice_previous_secrets": SecretStr(SECRET),
        }
    )
    try:
        await system.start_eoffice(config(sim))
        ((rid, flow),) = flows(1, seed=53)
        await system.publish(flow[: len(flow) // 2])
        await all_delivered(system, [rid])  # checked with the old secret
        sim.secret = NEW_SECRET  # the e-office moves over
        await system.publish(flow[len(flow) // 2 :])
        await all_delivered(system, [rid])
        assert sim.sequences(rid) == list(range(1, len(await system.changes(rid)) + 1))
        assert sim.problems[problems:] == []
    finally:
        sim.secret = SECRET
        await system.stop_eoffice()
        system.settings = original
        await system.start_eoffice(config(sim))
