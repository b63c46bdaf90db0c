"""``python -m bench.latency``: command-to-read-model latency under sustained load.

Every service runs as its own process (``devstack.services``) on a throwaway Kafka and PostgreSQL
(``bench.stack.servers``). The demo users log in through identity and walk requests through the
SOP by HTTP, straight to each service (no gateway): submit, receive, dispose, return, revise,
verify, meeting, sign the minutes, assign, start, progress, a problem and its solution, four
tests, the manual, a rejected UAT, progress, a test, an accepted UAT: 22 commands a request.

**Load.** An open-loop scheduler fires one command every ``1/rate`` seconds at absolute deadlines
``t0 + i/rate`` on the event loop's clock, so a late tick never shifts the ones after it. Each
tick takes a request that is ready for its next command, or, if none is, submits a new one; the
load therefore does not slow down when the system does. A request is ready for its next
command once the previous one has been answered and, where the next command goes to another
service, that service shows it has learned of the previous step (polled by GET, 25 ms apart,
outside the timed path): approval before ``dispose`` and ``verify``, intake before ``revise``,
dev_tracking before ``start``.

**Measurement.** Before the run the benchmark adds to reporting's ``case_events`` table an
``AFTER INSERT`` trigger that calls ``pg_notify`` with the event id, and LISTENs on a connection
of its own. reporting stores the envelope in ``case_events`` in the same transaction in which it
updates the case list, the case detail, the SLA rows and the notices, and PostgreSQL delivers a
notification only when that transaction commits, so its arrival is the instant the read model
reflects the event. A command's latency runs from just before its HTTP request is sent to the
arrival of the notification of the last event it produced (``UATAccepted`` also completes the
request: two events). Nothing polls reporting; the trigger costs one ``pg_notify`` per event.
The trigger is dropped at the end.

**CPU.** Over the load, the CPU time each service process, PostgreSQL (postmaster and backends),
Kafka and the benchmark used (``bench.cpu``, from ``/proc``), in percent of one core, and how busy
the machine's cores were altogether (other sessions' processes included): on a shared machine,
what the latency figures must be read with.
"""

import asyncio
import datetime as dt
import itertools
import math
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import asyncpg
import httpx
import typer
from aiokafka import AIOKafkaConsumer
from rich.console import Console
from rich.table import Table

from bench.cpu import Watched, children_named, cpu_seconds, cpu_shares, parent_of
from bench.stack import servers
from devstack.services import ServiceProcess, service_processes, start_all, stop_all
from devstack.stack import Endpoints
from infra.kafka_acl import AUDITOR
from infra.kafka_login import KafkaLogin
from services.identity.demo import DEMO_PASSWORD

app = typer.Typer(add_completion=False, pretty_exceptions_show_locals=False)
console = Console()
if not console.is_terminal:  # a log file: wide enough for the tables
    console.width = 150

TOPICS = ("jejak.intake.events", "jejak.approval.events", "jejak.dev_tracking.events")
CHANNEL = "bench_latency"
TRIGGER = "bench_latency_notify"
TARGET_P99_MS = 250.0
TARGET_RATE = 50.0
POLL_SECONDS = 0.025
USERNAMES = (
    "pemohon.dinkes",
    "pemohon.disdik",
    "kadis",
    "kabid.ti",
    "dev.lead",
    "dev.anggota",
    "auditor",
)
REQUESTERS = ("pemohon.dinkes", "pemohon.disdik")

WIB = dt.timezone(dt.timedelta(hours=7))
TODAY = dt.datetime.now(WIB).date()
STARTED = TODAY - dt.timedelta(days=20)
TESTED = TODAY - dt.timedelta(days=1)
NEEDS = {
    "background": "Pencatatan masih di buku register.",
    "objectives": "Data tercatat sekali dan laporan bulanan otomatis.",
    "intended_users": ["Petugas", "Kepala bidang"],
    "features": ["Registrasi", "Laporan bulanan"],
    "platform": "Web, PostgreSQL, di pusat data Diskominfostandi",
}
PARTIAL_PROCESS = {
    "system_flow": "Petugas mencatat, kepala bidang menyetujui.",
    "input_data": ["Identitas (NIK)"],
    "output_data": ["Laporan bulanan"],
    "validation_mechanism": "NIK 16 digit.",
    "forms_and_reporting": "Formulir pendaftaran; laporan bulanan.",
}
FULL_PROCESS = {
    **PARTIAL_PROCESS,
    "user_roles": ["Petugas", "Kepala bidang"],
    "access_rights_management": "Hak akses per peran.",
    "user_management": "Admin OPD membuat dan menonaktifkan akun.",
    "database_management": "Backup harian, disimpan 5 tahun.",
}
MANUAL_DOCUMENT = {
    "sha256": "ab" * 32,
    "size_bytes": 4096,
    "media_type": "application/pdf",
    "filename": "manual.pdf",
}


# The demo users and the HTTP calls ------------------------------------------------------------


@dataclass(frozen=True)
class User:
    username: str
    user_id: str
    full_name: str
    headers: dict[str, str]


@dataclass
class Jejak:
    client: httpx.AsyncClient
    urls: dict[str, str]
    users: dict[str, User] = field(default_factory=dict)

    async def login_all(self) -> None:
        identity = self.urls["identity"]
        for username in USERNAMES:
            for attempt in range(10):
                login = await self.client.post(
                    f"{identity}/login", json={"username": username, "password": DEMO_PASSWORD}
                )
                if login.status_code == 200:
                    break
                if attempt == 9:
                    raise RuntimeError(f"login of {username}: {login.status_code} {login.text}")
                await asyncio.sleep(1)
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
            me = await self.client.get(f"{identity}/me", headers=headers)
            me.raise_for_status()
            found = me.json()
            self.users[username] = User(username, found["user_id"], found["full_name"], headers)

    async def post(
        self, who: str, service: str, path: str, body: Any, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        return await self.client.post(
            f"{self.urls[service]}{path}",
            json=body,
            headers={**self.users[who].headers, **(headers or {})},
        )

    async def get(self, who: str, service: str, path: str) -> httpx.Response:
        return await self.client.get(f"{self.urls[service]}{path}", headers=self.users[who].headers)


# One request's walk ---------------------------------------------------------------------------


Check = Callable[[dict[str, Any]], bool]


@dataclass(frozen=True)
class Step:
    name: str
    who: str  # a username, or "requester"
    service: str
    command: str  # the path after /requests/{id}/ ("" for the submit)
    body: Callable[["Walk"], Any]
    ready: tuple[str, Check] | None = None  # (service, predicate on its GET of the request)


def _test(
    kind: str, result: str, n: int, findings: tuple[str, ...] = ()
) -> Callable[["Walk"], Any]:
    return lambda w: {
        "kind": kind,
        "result": result,
        "minutes_number": f"BA-UJI/{w.n}/{n}",
        "findings": list(findings),
        "tested_on": str(TESTED),
    }


def _submit(w: "Walk") -> Any:
    return {
        "title": f"Aplikasi {w.n}",
        "summary": "Aplikasi layanan publik untuk uji beban.",
        "letter": {"number": f"440/{w.n}/BENCH/2025", "date": str(TODAY - dt.timedelta(days=3))},
        "needs_analysis": NEEDS,
        "business_process": PARTIAL_PROCESS,
    }


def _meeting(w: "Walk") -> Any:
    kabid, lead, requester = w.user("kabid.ti"), w.user("dev.lead"), w.user("requester")
    return {
        "held_at": (dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)).isoformat(),
        "participants": [
            {
                "name": kabid.full_name,
                "position": "Kepala Bidang TI",
                "organisation": "DISKOMINFOSTANDI",
                "user_id": kabid.user_id,
            },
            {
                "name": requester.full_name,
                "position": "Pemohon",
                "organisation": w.opd,
                "user_id": requester.user_id,
            },
            {
                "name": lead.full_name,
                "position": "Ketua Tim Pengembang",
                "organisation": "DISKOMINFOSTANDI",
                "user_id": lead.user_id,
            },
        ],
        "scope": "Registrasi dan laporan bulanan.",
        "timeline": {
            "planned_start": str(STARTED),
            "planned_end": str(STARTED + dt.timedelta(days=45)),
        },
        "minutes_number": f"BA/{w.n}/DISKOMINFOSTANDI/2025",
    }


def _signatories(w: "Walk") -> Any:
    kabid, requester = w.user("kabid.ti"), w.user("requester")
    return {
        "signatories": [
            {"user_id": kabid.user_id, "name": kabid.full_name, "role": "KABID_TI"},
            {"user_id": requester.user_id, "name": requester.full_name, "role": "PEMOHON"},
        ]
    }


def _assign(w: "Walk") -> Any:
    lead, member = w.user("dev.lead"), w.user("dev.anggota")
    return {
        "letter_number": f"800/{w.n}/DISKOMINFOSTANDI/2025",
        "team_members": [lead.user_id, member.user_id],
        "team_lead": lead.user_id,
        "period_start": str(STARTED),
        "period_end": str(STARTED + dt.timedelta(days=45)),
    }


STEPS: tuple[Step, ...] = (
    Step("submit", "requester", "intake", "", _submit),
    Step("receive", "kadis", "intake", "receive", lambda w: {"agenda_number": f"AG/{w.n}"}),
    Step(
        "dispose",
        "kadis",
        "approval",
        "dispose",
        lambda w: {"note": "Mohon diperiksa.", "disposition_number": f"005/{w.n}/2025"},
        ("approval", lambda s: s.get("status") == "AWAITING_DISPOSITION"),
    ),
    Step(
        "return",
        "kabid.ti",
        "approval",
        "return",
        lambda w: {"reasons": ["Manajemen hak akses, user dan database belum diisi."]},
    ),
    Step(
        "revise",
        "requester",
        "intake",
        "revise",
        lambda w: {"business_process": FULL_PROCESS, "note": "Sudah dilengkapi."},
        ("intake", lambda s: s.get("status") == "RETURNED"),
    ),
    Step(
        "verify",
        "kabid.ti",
        "approval",
        "verify",
        lambda w: {"acknowledged_missing": [], "note": "Lengkap."},
        ("approval", lambda s: s.get("revisions") == 1),
    ),
    Step("meeting", "kabid.ti", "approval", "meeting", _meeting),
    Step("sign-minutes", "kabid.ti", "approval", "sign-minutes", _signatories),
    Step("assign", "kadis", "approval", "assign", _assign),
    Step(
        "start",
        "dev.lead",
        "dev_tracking",
        "start",
        lambda w: {"started_on": str(STARTED)},
        ("dev_tracking", lambda s: s.get("current_step") == "DEVELOP"),
    ),
    Step(
        "progress",
        "dev.anggota",
        "dev_tracking",
        "progress",
        lambda w: {"percent": 60, "note": "Registrasi selesai."},
    ),
    Step(
        "problem",
        "dev.lead",
        "dev_tracking",
        "problems",
        lambda w: {"description": "Server uji belum tersedia.", "severity": "HIGH"},
    ),
    Step(
        "solve",
        "dev.anggota",
        "dev_tracking",
        "problems/P-1/solve",
        lambda w: {"solution": "Memakai VM dari pusat data."},
    ),
    Step(
        "test",
        "dev.lead",
        "dev_tracking",
        "tests",
        _test("SYSTEM", "FAILED", 1, ("Login gagal untuk NIK berawalan 0",)),
    ),
    Step("test", "dev.lead", "dev_tracking", "tests", _test("SYSTEM", "PASSED", 2)),
    Step("test", "dev.anggota", "dev_tracking", "tests", _test("UNIT", "PASSED", 3)),
    Step("test", "dev.lead", "dev_tracking", "tests", _test("INTEGRATION", "PASSED", 4)),
    Step(
        "manual",
        "dev.lead",
        "dev_tracking",
        "manual",
        lambda w: {"title": "Buku Manual", "document": MANUAL_DOCUMENT, "version": "1.0"},
    ),
    Step(
        "uat",
        "requester",
        "dev_tracking",
        "uat",
        lambda w: {
            "result": "REJECTED",
            "minutes_number": f"BA-UAT/{w.n}/1",
            "findings": ["Laporan belum bisa diunduh sebagai Excel."],
        },
    ),
    Step(
        "progress",
        "dev.anggota",
        "dev_tracking",
        "progress",
        lambda w: {"percent": 100, "note": "Unduh Excel ditambahkan."},
    ),
    Step("test", "dev.lead", "dev_tracking", "tests", _test("INTEGRATION", "PASSED", 5)),
    Step(
        "uat",
        "requester",
        "dev_tracking",
        "uat",
        lambda w: {"result": "ACCEPTED", "minutes_number": f"BA-UAT/{w.n}/2", "notes": "Diterima."},
    ),
)


@dataclass
class Walk:
    jejak: Jejak
    n: int
    requester: str
    opd: str
    request_id: str = ""
    index: int = 0

    def user(self, who: str) -> User:
        return self.jejak.users[self.requester if who == "requester" else who]

    @property
    def done(self) -> bool:
        return self.index >= len(STEPS)


# Reporting's commits, as they happen ----------------------------------------------------------


class Commits:
    """The arrival time of each event id's notification: the commit of its projection."""

    def __init__(self) -> None:
        self.seen: dict[str, float] = {}
        self.waiting: dict[str, asyncio.Future[float]] = {}

    def notified(self, _conn: Any, _pid: int, _channel: str, payload: object) -> None:
        now = time.perf_counter()
        event_id = str(payload)
        self.seen[event_id] = now
        future = self.waiting.pop(event_id, None)
        if future is not None and not future.done():
            future.set_result(now)

    async def arrival(self, event_id: str) -> float:
        if event_id in self.seen:  # the projection may commit before the command's answer
            return self.seen[event_id]
        future = self.waiting.setdefault(event_id, asyncio.get_running_loop().create_future())
        return await future


class OnTopic:
    """When each event id reached the bench from the services' topics (a consumer outside any
    group, from the end of every partition): splits the latency into relay and projection."""

    def __init__(self, kafka: KafkaLogin) -> None:
        self.kafka = kafka
        self.seen: dict[str, float] = {}
        self.ready = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        consumer = AIOKafkaConsumer(
            **self.kafka.options(),
            enable_auto_commit=False,
            auto_offset_reset="latest",
            fetch_max_wait_ms=100,
        )
        await consumer.start()
        try:
            consumer.subscribe(list(TOPICS))  # outside any group: every partition, from the end
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=50)
                now = time.perf_counter()
                for records in batches.values():
                    for record in records:
                        ids = [v for k, v in record.headers if k == "event_id"]
                        if ids:
                            self.seen.setdefault(ids[0].decode(), now)
                if (
                    not self.ready.is_set()
                    and len(consumer.assignment()) >= len(TOPICS)
                    and all([await consumer.position(tp) >= 0 for tp in consumer.assignment()])
                ):
                    self.ready.set()
        finally:
            await consumer.stop()


async def install_trigger(conn: asyncpg.Connection) -> None:
    await conn.execute(f"""
        CREATE OR REPLACE FUNCTION reporting.{TRIGGER}() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', NEW.event_id::text);
            RETURN NULL;
        END $$;
        DROP TRIGGER IF EXISTS {TRIGGER} ON reporting.case_events;
        CREATE TRIGGER {TRIGGER} AFTER INSERT ON reporting.case_events
            FOR EACH ROW EXECUTE FUNCTION reporting.{TRIGGER}();
    """)


async def drop_trigger(conn: asyncpg.Connection) -> None:
    await conn.execute(
        f"DROP TRIGGER IF EXISTS {TRIGGER} ON reporting.case_events; "
        f"DROP FUNCTION IF EXISTS reporting.{TRIGGER}();"
    )


async def wait_for_reporting(conn: asyncpg.Connection, timeout: float = 120) -> None:
    """Until reporting has created its tables (its migrations run in its lifespan)."""
    deadline = time.monotonic() + timeout
    while await conn.fetchval("SELECT to_regclass('reporting.case_events')") is None:
        if time.monotonic() > deadline:
            raise RuntimeError("reporting.case_events never appeared")
        await asyncio.sleep(0.2)


# The run --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    step: str
    service: str
    sent: float  # perf_counter
    answered_s: float  # the HTTP answer, from sent
    latency_s: float  # reporting's commit of the last event, from sent
    measured: bool  # False during the warm-up
    ids: tuple[str, ...]


@dataclass
class Run:
    jejak: Jejak
    commits: Commits
    timeout: float
    warm_until: float = math.inf  # perf_counter: commands sent before it are not counted
    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lags: list[float] = field(default_factory=list)
    ready: asyncio.Queue[Walk] = field(default_factory=asyncio.Queue)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    walks: "itertools.count[int]" = field(default_factory=lambda: itertools.count(1))
    started: int = 0

    def new_walk(self) -> Walk:
        n = next(self.walks)
        requester = REQUESTERS[n % len(REQUESTERS)]
        return Walk(
            self.jejak, n, requester, "DINKES" if requester == "pemohon.dinkes" else "DISDIK"
        )

    def spawn(self, work: Coroutine[Any, Any, Any]) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def step(self, walk: Walk) -> asyncio.Task[None] | None:
        """Send the walk's next command, time it, and make the walk ready for the one after.
        Returns the task that awaits the command's events in reporting (None on an error)."""
        step = STEPS[walk.index]
        walk.index += 1
        path = f"/requests/{walk.request_id}/{step.command}" if step.command else "/requests"
        headers = {"Idempotency-Key": f"bench-{uuid.uuid4()}"}  # what every client sends
        who = walk.requester if step.who == "requester" else step.who
        body = step.body(walk)
        sent = time.perf_counter()
        try:
            answer = await self.jejak.post(who, step.service, path, body, headers)
        except httpx.HTTPError as error:
            self.errors.append(f"{step.name} #{walk.n}: {error!r}")
            return None
        answered = time.perf_counter()
        if answer.status_code not in (200, 201):
            self.errors.append(f"{step.name} #{walk.n}: {answer.status_code} {answer.text[:300]}")
            return None
        data = answer.json()
        walk.request_id = data["request_id"]
        measuring = self.spawn(
            self.measure(step, sent, answered, [str(e) for e in data["event_ids"]])
        )
        if not walk.done:
            await self.make_ready(walk)
        return measuring

    async def measure(self, step: Step, sent: float, answered: float, ids: list[str]) -> None:
        try:
            async with asyncio.timeout(self.timeout):
                committed = max([await self.commits.arrival(i) for i in ids])
        except TimeoutError:
            self.errors.append(f"{step.name}: not in reporting after {self.timeout} s: {ids}")
            return
        self.samples.append(
            Sample(
                step.name,
                step.service,
                sent,
                answered - sent,
                committed - sent,
                sent >= self.warm_until,
                tuple(ids),
            )
        )

    async def make_ready(self, walk: Walk) -> None:
        following = STEPS[walk.index]
        if following.ready is not None:
            service, check = following.ready
            path = f"/requests/{walk.request_id}"
            who = "dev.lead" if service == "dev_tracking" else "auditor"
            deadline = time.monotonic() + self.timeout
            while True:
                answer = await self.jejak.get(who, service, path)
                if answer.status_code == 200 and check(answer.json()):
                    break
                if time.monotonic() > deadline:
                    self.errors.append(
                        f"{service} never got ready for {following.name} of "
                        f"#{walk.n}: {answer.status_code} {answer.text[:300]}"
                    )
                    return
                await asyncio.sleep(POLL_SECONDS)
        self.ready.put_nowait(walk)

    async def walk_once(self) -> None:
        """One whole request, each command after the last one's commit (the warm-up)."""
        walk = self.new_walk()
        while not walk.done:
            measuring = await self.step(walk)
            if measuring is not None:
                await measuring
            if self.errors:
                raise RuntimeError(f"the warm-up walk failed: {self.errors}")
            if not walk.done:
                await self.ready.get()

    async def load(self, rate: float, seconds: float) -> float:
        """Fire ``rate`` commands a second for ``seconds``; returns the firing's span."""
        loop = asyncio.get_running_loop()
        total = max(1, round(rate * seconds))
        t0 = loop.time() + 0.05
        first = last = 0.0
        for i in range(total):
            deadline = t0 + i / rate
            delay = deadline - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            now = loop.time()
            self.lags.append(now - deadline)
            first = first or now
            last = now
            try:
                walk = self.ready.get_nowait()
            except asyncio.QueueEmpty:
                walk = self.new_walk()
                self.started += 1
            self.spawn(self.step(walk))
        return last - first


def percentile(values: list[float], p: float) -> float:
    """Nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass(frozen=True)
class Result:
    asked_rate: float
    load_before: float  # 1-min load average of the machine
    load_after: float
    commands: int
    requests: int
    errors: int
    rate: float  # commands fired per second
    lag_p99_ms: float  # how late the scheduler fired, p99
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    answer_p50_ms: float  # the command's HTTP answer
    answer_p99_ms: float
    topic_p50_ms: float  # command sent -> its last event seen on the service's topic
    topic_p99_ms: float
    project_p50_ms: float  # seen on the topic -> committed in reporting's read model
    project_p99_ms: float
    cpu: dict[str, float]  # percent of one core per service process and the benchmark, during
    # the load; "machine": percent of all cores, other sessions included

    @property
    def met(self) -> bool:
        return self.errors == 0 and self.p99_ms < TARGET_P99_MS


def _row(values_ms: list[float]) -> list[str]:
    return [f"{percentile(values_ms, p):.0f}" for p in (50, 90, 99, 100)]


def summarise(
    run: Run,
    on_topic: OnTopic,
    span: float,
    fired: int,
    asked: float,
    load_before: float,
    cpu: dict[str, float],
) -> Result:
    measured = [s for s in run.samples if s.measured]
    if not measured:
        raise RuntimeError(f"nothing measured; errors: {run.errors[:5]}")
    ms = [s.latency_s * 1000 for s in measured]
    answers = [s.answered_s * 1000 for s in measured]
    seen = [s for s in measured if all(i in on_topic.seen for i in s.ids)]
    topic_ms = [(max(on_topic.seen[i] for i in s.ids) - s.sent) * 1000 for s in seen]
    project_ms = [s.latency_s * 1000 - t for s, t in zip(seen, topic_ms, strict=True)]

    table = Table(title="latency (ms): p50, p90, p99, max")
    for column in ("", "commands", "p50", "p90", "p99", "max"):
        table.add_column(column, justify="left" if not column else "right")
    for service in ("intake", "approval", "dev_tracking"):
        of = [s.latency_s * 1000 for s in measured if s.service == service]
        if of:
            table.add_row(f"read model, {service} commands", str(len(of)), *_row(of))
    table.add_row("read model, all", str(len(ms)), *_row(ms))
    table.add_row("  HTTP answer", str(len(answers)), *_row(answers))
    if topic_ms:
        table.add_row("  on the topic", str(len(topic_ms)), *_row(topic_ms))
        table.add_row("  topic -> read model", str(len(project_ms)), *_row(project_ms))
    console.print(table)
    start = min(s.sent for s in measured)
    windows: dict[int, list[float]] = {}
    for s in measured:
        windows.setdefault(int((s.sent - start) // 10), []).append(s.latency_s * 1000)
    console.print(
        "read-model latency p50/p99 (ms) by 10-s window: "
        + ", ".join(
            f"{percentile(v, 50):.0f}/{percentile(v, 99):.0f}" for _, v in sorted(windows.items())
        )
    )
    nan = float("nan")
    return Result(
        asked_rate=asked,
        load_before=load_before,
        load_after=os.getloadavg()[0],
        commands=len(measured),
        requests=run.started,
        errors=len(run.errors),
        rate=(fired - 1) / span if span > 0 else nan,
        lag_p99_ms=percentile(run.lags, 99) * 1000 if run.lags else 0.0,
        p50_ms=percentile(ms, 50),
        p90_ms=percentile(ms, 90),
        p99_ms=percentile(ms, 99),
        max_ms=max(ms),
        answer_p50_ms=percentile(answers, 50),
        answer_p99_ms=percentile(answers, 99),
        topic_p50_ms=percentile(topic_ms, 50) if topic_ms else nan,
        topic_p99_ms=percentile(topic_ms, 99) if topic_ms else nan,
        project_p50_ms=percentile(project_ms, 50) if project_ms else nan,
        project_p99_ms=percentile(project_ms, 99) if project_ms else nan,
        cpu=cpu,
    )


async def _one_rate(
    jejak: Jejak,
    commits: Commits,
    on_topic: OnTopic,
    watched: dict[str, Watched],
    rate: float,
    duration: float,
    warmup: float,
    timeout: float,
) -> Result:
    run = Run(jejak, commits, timeout)
    load_before = os.getloadavg()[0]
    console.print(
        f"\n[bold]{rate:g} commands/s[/bold]: warm-up walk of one request, then "
        f"{warmup:g} s of load not counted + {duration:g} s measured "
        f"(1-min load average {load_before:.2f})"
    )
    await run.walk_once()
    run.warm_until = time.perf_counter() + warmup
    cpu_before, started = cpu_seconds(watched), time.perf_counter()
    span = await run.load(rate, warmup + duration)
    cpu = cpu_shares(cpu_before, cpu_seconds(watched), time.perf_counter() - started)
    fired = round(rate * (warmup + duration))
    console.print(f"fired {fired} commands in {span:.1f} s; waiting for the last ones")
    deadline = time.monotonic() + timeout + 5
    while run.tasks and (left := deadline - time.monotonic()) > 0:
        await asyncio.wait(set(run.tasks), timeout=left)
    for task in list(run.tasks):  # a walk still waiting for a service to get ready
        task.cancel()
    await asyncio.gather(*run.tasks, return_exceptions=True)
    for error in run.errors[:10]:
        console.print(f"[red]error[/red] {error}", markup=False)
    result = summarise(run, on_topic, span, fired, rate, load_before, cpu)
    print_result(result)
    return result


async def watch(admin: asyncpg.Connection, processes: list[ServiceProcess]) -> dict[str, Watched]:
    """The processes whose CPU is reported: each service, PostgreSQL (the postmaster and its
    backends, found as the parent of a backend), Kafka (if this process started it), and the
    benchmark itself."""
    watched = {p.name: Watched(p.pid) for p in processes if p.pid is not None}
    if "DATABASE_URL" not in os.environ:  # else it may run elsewhere
        backend = await admin.fetchval("SELECT pg_backend_pid()")
        watched["postgres"] = Watched(parent_of(backend))
    for pid in children_named(os.getpid(), "java"):
        watched["kafka"] = Watched(pid)
    watched["benchmark"] = Watched(os.getpid(), descendants=False)
    return watched


async def _bench(
    endpoints: Endpoints,
    processes: list[ServiceProcess],
    rates: list[float],
    duration: float,
    warmup: float,
    timeout: float,
) -> list[Result]:
    admin = await asyncpg.connect(endpoints.database_url)
    listener = await asyncpg.connect(endpoints.database_url)
    commits = Commits()
    on_topic = OnTopic(endpoints.kafka_login(AUDITOR))
    stop = asyncio.Event()
    watching = asyncio.create_task(on_topic.run(stop))
    try:
        await wait_for_reporting(admin)
        await install_trigger(admin)
        await listener.add_listener(CHANNEL, commits.notified)
        async with asyncio.timeout(60):
            await asyncio.wait(
                [watching, asyncio.create_task(on_topic.ready.wait())],
                return_when=asyncio.FIRST_COMPLETED,
            )
        if watching.done():
            watching.result()  # raises what stopped it
        urls = {p.name: p.url for p in processes}
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
        async with httpx.AsyncClient(timeout=30, limits=limits) as client:
            jejak = Jejak(client, urls)
            await jejak.login_all()
            watched = await watch(admin, processes)
            return [
                await _one_rate(jejak, commits, on_topic, watched, rate, duration, warmup, timeout)
                for rate in rates
            ]
    finally:
        stop.set()
        await watching
        await listener.close()
        await drop_trigger(admin)
        await admin.close()


def print_result(result: Result) -> None:
    verdict = "[green]met[/green]" if result.met else "[red]missed[/red]"
    console.print(
        f"{result.commands} commands measured, {result.requests} requests started, "
        f"{result.errors} errors; fired {result.rate:.2f} commands/s (asked "
        f"{result.asked_rate:g}), scheduler lag p99 {result.lag_p99_ms:.1f} ms; 1-min load "
        f"average {result.load_before:.2f} before, {result.load_after:.2f} after\n"
        f"command-to-read-model latency: p50 {result.p50_ms:.0f} ms, p90 {result.p90_ms:.0f} "
        f"ms, p99 {result.p99_ms:.0f} ms, max {result.max_ms:.0f} ms "
        f"(target p99 < {TARGET_P99_MS:.0f} ms: {verdict})\n"
        "CPU during the load, % of one core: "
        + ", ".join(f"{k} {v:.0f}" for k, v in result.cpu.items() if k != "machine")
        + f" (together {sum(v for k, v in result.cpu.items() if k != 'machine'):.0f}); the "
        f"machine's {os.cpu_count()} cores {result.cpu['machine']:.0f}% busy (other sessions "
        "included)"
    )


def print_summary(results: list[Result]) -> None:
    table = Table(title="command-to-read-model latency (ms)")
    for column in (
        "commands/s",
        "commands",
        "errors",
        "p50",
        "p90",
        "p99",
        "max",
        "on topic p50",
        "topic->read model p50/p99",
        "reporting CPU",
        "cores busy",
        "load avg",
    ):
        table.add_column(column, justify="right")
    for r in results:
        table.add_row(
            f"{r.rate:.1f}",
            str(r.commands),
            str(r.errors),
            f"{r.p50_ms:.0f}",
            f"{r.p90_ms:.0f}",
            f"{r.p99_ms:.0f}",
            f"{r.max_ms:.0f}",
            f"{r.topic_p50_ms:.0f}",
            f"{r.project_p50_ms:.0f} / {r.project_p99_ms:.0f}",
            f"{r.cpu.get('reporting', float('nan')):.0f}%",
            f"{r.cpu['machine']:.0f}%",
            f"{r.load_before:.1f}-{r.load_after:.1f}",
        )
    console.print()
    console.print(table)


@app.command()
def main(
    rate: Annotated[
        list[float] | None,
        typer.Option(
            min=1, help="Commands per second; repeat for a sweep on the same stack (default: 50)"
        ),
    ] = None,
    duration: Annotated[float, typer.Option(min=1, help="Seconds of measured load")] = 60.0,
    warmup: Annotated[
        float, typer.Option(min=0, help="Seconds of load before the measured ones")
    ] = 5.0,
    timeout: Annotated[
        float, typer.Option(min=1, help="Seconds a command may take to reach reporting")
    ] = 30.0,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Data folder of the stack to start (default: a throwaway one)"),
    ] = None,
    strict: Annotated[
        bool,
        typer.Option(help=f"Exit with 1 if a run at {TARGET_RATE:g}/s or more misses the target"),
    ] = False,
) -> None:
    """Command-to-read-model latency (p50, p90, p99, max) with RATE commands/s of sustained
    load, every service as its own process. KAFKA_BOOTSTRAP_SERVERS and DATABASE_URL, if set,
    name servers to use instead of starting a throwaway stack (the services then use their
    usual schemas and topics there: point them at scratch servers)."""
    rates = rate or [TARGET_RATE]
    with (
        tempfile.TemporaryDirectory(prefix="jejak-latency-") as tmp,
        servers(data_dir) as endpoints,
    ):
        processes = service_processes(endpoints, Path(tmp), with_prefix=False)
        try:
            console.print("starting identity, intake, approval, dev_tracking, reporting")
            start_all(processes)
            results = asyncio.run(_bench(endpoints, processes, rates, duration, warmup, timeout))
        except BaseException:
            for process in processes:  # the logs go with the temporary folder
                tail = process.log.read_text(errors="replace").splitlines()[-15:]
                console.print(
                    f"--- {process.name} log, last lines:",
                    *tail,
                    sep="\n",
                    markup=False,
                    highlight=False,
                )
            raise
        finally:
            stop_all(processes)
    print_summary(results)
    if strict and not all(r.met for r in results if r.asked_rate >= TARGET_RATE):
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
