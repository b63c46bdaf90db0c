"""``python -m bench.documents``: documents rendered and signed per second, and the delay from a
source event to its document being downloadable.

**Render and sign** (no Kafka, no PostgreSQL): the eight documents of a sample request (every
kind: receipt, disposition, draft and final meeting minutes, Surat Tugas, two test minutes, UAT
minutes; seven signed) built once, then rendered with typst and signed with pyHanko
(``Renderer``, ``PadesSigner`` with a development certificate), one after another, in 1 and in
``--processes`` forked processes that start together after a warm-up. Printed: documents/s, the
share of the time spent signing, and the CPU time per document (which the load of other
processes on a shared machine changes much less than the rate).

**Through the service**: the documents service as its own process (``python -m
services.documents``; default settings, or ``--workers`` and ``--pool`` for
``DOCUMENTS_WORKERS`` and ``DOCUMENTS_PROCESSES``) on a throwaway Kafka and PostgreSQL
(``bench.stack.servers``), then with ``--replicas`` replicas of it (same schema and consumer
group; replicas share the pending documents through ``FOR UPDATE SKIP LOCKED``). The users and
the requests' histories are produced straight to the services' topics as their relays would
(``infra.relay.message_of``).

- *Throughput*: ``--backlog`` requests' histories (8 documents each) produced at once; the time
  from the first record sent until every document is ISSUED (polled every 250 ms), and the CPU
  time per document of the service's processes (with their pools) and of everything the
  benchmark started (the service, PostgreSQL, Kafka, its producer), from ``/proc``.
- *Latency*: requests' histories produced one event at a time at ``--rate`` documents/s (an
  open loop). An ``AFTER INSERT`` trigger on ``documents.document_files`` calls ``pg_notify``;
  the issuer inserts the PDF in the transaction that issues it, so the notification arrives
  when the document can be downloaded. Delay: from just before the source event is sent to
  Kafka to that notification. Afterwards every document is downloaded through the API and its
  sha256 checked against the register.
"""

import asyncio
import datetime as dt
import hashlib
import multiprocessing
import os
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import asyncpg
import httpx
import typer
from aiokafka import AIOKafkaProducer
from rich.table import Table

from bench import report
from bench.cpu import Watched, cpu_seconds, cpu_shares
from bench.stack import servers
from bench.web import percentile
from devstack.process import free_port
from devstack.services import ServiceProcess, service_processes, start_all, stop_all
from devstack.stack import Endpoints
from events.catalog import default_registry
from events.envelope import Envelope
from events.topics import topic_for
from infra.auth import TokenIssuer, development_keys
from infra.kafka import ensure_topics
from infra.kafka_acl import ADMIN
from infra.principal import Principal
from infra.relay import message_of
from services.documents.builders import KIND_OF_EVENT, build
from services.documents.config import DocumentsConfig
from services.documents.context import Built, Source, Tenant
from services.documents.dev_ca import development_material
from services.documents.facts import CaseFacts
from services.documents.people import People
from services.documents.recorder import document_id_of
from services.documents.render import Renderer
from services.documents.signing import PadesSigner
from tests import documents_samples as samples

app = typer.Typer(add_completion=False, pretty_exceptions_show_locals=False)
TARGET_RATE = 50.0
DOCUMENTS_PER_REQUEST = 8
CHANNEL = "bench_documents"
TOPICS = ("identity", "intake", "approval", "dev_tracking")


# Render and sign, without the service ----------------------------------------------------------


def sample_documents() -> list[Built]:
    """The eight documents of one sample request, built as the issuer builds them."""
    conf = DocumentsConfig()
    tenant = Tenant.of(conf)
    registry = default_registry()
    people = People.of(
        registry.load(e.event_type, e.schema_version, e.payload) for e in samples.identity_events()
    )
    numbers = {"TANDA_TERIMA": "0001/Agenda/Diskominfostandi/2026"}
    seen: list[tuple[Envelope, object]] = []
    built = []
    for step in samples.request_history("req-bench"):
        envelope = step.envelope
        event = registry.load(envelope.event_type, envelope.schema_version, envelope.payload)
        if envelope.event_type in KIND_OF_EVENT:
            facts = CaseFacts.of("req-bench", seen, numbers)  # type: ignore[arg-type]
            built.append(build(tenant, Source(envelope, event, facts, people)))
        seen.append((envelope, event))
    return built


@dataclass(frozen=True)
class Rendered:
    documents: int
    seconds: float
    signing_seconds: float
    cpu_seconds: float
    """CPU time of the process over the run (``time.process_time``): what the load of other
    processes on the machine changes little."""


def render_and_sign(count: int, start_at: float, signing_dir: str) -> Rendered:
    """``count`` documents rendered and (if final) signed, one after another, from ``start_at``
    (a ``time.time()``; the compilers are warmed up before)."""
    conf = DocumentsConfig()
    renderer = Renderer(Path(conf.font_dir))
    signer = PadesSigner(development_material(Path(signing_dir), conf.agency))
    documents = sample_documents()
    for doc in documents:  # warm-up: each kind's compiler, the signer
        signer.sign(
            renderer.render(doc.kind, doc.numbered("1"), doc.day, "x"), location="", reason=""
        )
    time.sleep(max(0.0, start_at - time.time()))
    started, signing, cpu = time.perf_counter(), 0.0, time.process_time()
    for i in range(count):
        doc = documents[i % len(documents)]
        url = f"{conf.public_base_url}/verifikasi/{uuid.uuid4()}" if doc.final else None
        pdf = renderer.render(doc.kind, doc.numbered(f"000/{i:04}/Bench/2026"), doc.day, url)
        if doc.final:
            before = time.perf_counter()
            signer.sign(pdf, location="Kasongan", reason=f"Dokumen {i}")
            signing += time.perf_counter() - before
    return Rendered(count, time.perf_counter() - started, signing, time.process_time() - cpu)


def _run_one(args: tuple[int, float, str]) -> Rendered:
    return render_and_sign(*args)


def render_runs(
    count: int, processes: int, signing_dir: str
) -> list[tuple[int, float, float, float]]:
    """(processes, documents/s, signing share, CPU ms per document) for 1 and ``processes``
    processes."""
    rows = []
    for n in sorted({1, processes}):
        start_at = time.time() + 4.0  # after every process has warmed up
        with multiprocessing.get_context("fork").Pool(n) as pool:
            runs = pool.map(_run_one, [(count // n, start_at, signing_dir)] * n)
        documents = sum(r.documents for r in runs)
        seconds = max(r.seconds for r in runs)
        share = sum(r.signing_seconds for r in runs) / sum(r.seconds for r in runs)
        cpu_ms = sum(r.cpu_seconds for r in runs) / documents * 1000
        rows.append((n, documents / seconds, share, cpu_ms))
        report.console.print(
            f"  render+sign, {n} process(es): {documents} documents in {seconds:.2f} s = "
            f"{documents / seconds:.1f}/s (signing {share:.0%} of the time; "
            f"{cpu_ms:.1f} ms CPU per document)"
        )
    return rows


# Through the service ------------------------------------------------------------------------


def histories(count: int, tenant: str) -> Iterator[list[samples.Step]]:
    for _ in range(count):
        yield samples.request_history(f"req-{uuid.uuid4().hex[:12]}", tenant=tenant)


@dataclass
class Stack:
    endpoints: Endpoints
    folder: Path
    producer: AIOKafkaProducer
    settings: dict[str, str] = field(default_factory=dict)
    """The service's ``DOCUMENTS_*`` settings of the run (workers, processes)."""
    processes: list[ServiceProcess] = field(default_factory=list)

    async def send(self, step: samples.Step) -> None:
        key, value, headers = message_of(step.envelope)
        await self.producer.send_and_wait(topic_for(step.service), value, key=key, headers=headers)

    async def send_all(self, steps: list[samples.Step]) -> None:
        futures = []
        for step in steps:
            key, value, headers = message_of(step.envelope)
            futures.append(
                await self.producer.send(topic_for(step.service), value, key=key, headers=headers)
            )
        await asyncio.gather(*futures)

    def replica(self) -> ServiceProcess:
        [documents] = [
            p for p in service_processes(self.endpoints, self.folder) if p.name == "documents"
        ]
        port = free_port()
        env = {**documents.env, **self.settings, "HTTP_PORT": str(port), "ROOT_PATH": ""}
        log = self.folder / "logs" / f"documents-{len(self.processes) + 1}.log"
        return ServiceProcess("documents", port, log, env)


@asynccontextmanager
async def documents_stack(
    endpoints: Endpoints, folder: Path, settings: dict[str, str]
) -> AsyncIterator[Stack]:
    kafka = endpoints.kafka_login(ADMIN)  # the events of four services, through one producer
    await ensure_topics(kafka, [topic_for(t) for t in TOPICS])
    producer = AIOKafkaProducer(**kafka.options(), acks="all")
    await producer.start()
    stack = Stack(endpoints, folder, producer, settings)
    try:
        yield stack
    finally:
        await producer.stop()
        await asyncio.to_thread(stop_all, stack.processes)


async def issued_count(conn: asyncpg.Connection, tenant: str) -> tuple[int, int]:
    row = await conn.fetchrow(
        "SELECT count(*) FILTER (WHERE state = 'ISSUED') AS issued, "
        "count(*) FILTER (WHERE state = 'FAILED') AS failed FROM documents.documents "
        "WHERE tenant = $1",
        tenant,
    )
    assert row is not None
    return int(row["issued"]), int(row["failed"])


POLL_SECONDS = 0.25
"""How often the throughput run counts the documents issued (a query PostgreSQL answers)."""
IDLE_SECONDS = 5.0
"""How long the idle CPU of the stack is measured before a throughput run."""


@dataclass(frozen=True)
class Throughput:
    per_second: float
    service_cpu_ms: float
    """CPU per document of the documents service's processes (their pools included), their
    idle CPU (polling loops, the Kafka consumer's fetches) left out."""
    stack_cpu_ms: float
    """The same of everything this benchmark started: the service, PostgreSQL, Kafka and the
    benchmark's own producer and polling."""
    idle_ms_per_s: float
    """The CPU that everything started uses per second while no document is issued (left
    out of the two figures above: at a low rate it would weigh on each document)."""
    machine_busy: float
    """The share of the machine's cores busy meanwhile (other sessions' processes included)."""


def watched(stack: Stack) -> dict[str, Watched]:
    service = {f"documents-{i}": Watched(p.pid or 0) for i, p in enumerate(stack.processes)}
    return {**service, "stack": Watched(os.getpid())}


def spent(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """CPU seconds used between the two readings: each service process's, the sum of them
    (``service``) and the whole stack's (``stack``)."""
    used = {k: after[k] - before[k] for k in before if k != "machine"}
    used["service"] = sum(v for k, v in used.items() if k.startswith("documents-"))
    return used


async def throughput(stack: Stack, conn: asyncpg.Connection, requests: int) -> Throughput:
    """Documents/s through the service: a backlog of ``requests`` histories."""
    tenant = f"bench-{uuid.uuid4().hex[:8]}"
    await stack.send_all([samples.Step("identity", e) for e in samples.identity_events(tenant)])
    await asyncio.sleep(2)  # the users are known before the first document
    steps = [s for h in histories(requests, tenant) for s in h]
    expected = requests * DOCUMENTS_PER_REQUEST
    idle_before = cpu_seconds(watched(stack))
    await asyncio.sleep(IDLE_SECONDS)
    cpu_before, started = cpu_seconds(watched(stack)), time.perf_counter()
    idle = {k: v / IDLE_SECONDS for k, v in spent(idle_before, cpu_before).items()}
    await stack.send_all(steps)
    while True:
        issued, failed = await issued_count(conn, tenant)
        if failed:
            raise RuntimeError(f"{failed} documents failed (see the documents log)")
        if issued >= expected:
            break
        if time.perf_counter() - started > 600:
            raise RuntimeError(f"only {issued} of {expected} documents issued in 600 s")
        await asyncio.sleep(POLL_SECONDS)
    seconds = time.perf_counter() - started
    used = cpu_seconds(watched(stack))
    run = spent(cpu_before, used)

    def per_document(key: str) -> float:
        return (run[key] - idle[key] * seconds) / expected * 1000

    return Throughput(
        expected / seconds,
        per_document("service"),
        per_document("stack"),
        idle["stack"] * 1000,
        cpu_shares(cpu_before, used, seconds)["machine"],
    )


@dataclass
class Latency:
    delays_ms: list[float]
    downloaded: int
    offered_rate: float


async def latency(stack: Stack, owner: asyncpg.Connection, rate: float, seconds: float) -> Latency:
    """Histories produced one event at a time at ``rate`` documents/s; each document's delay
    from its source event's send to the commit of its PDF."""
    tenant = f"bench-{uuid.uuid4().hex[:8]}"
    await stack.send_all([samples.Step("identity", e) for e in samples.identity_events(tenant)])
    await asyncio.sleep(2)
    sent: dict[uuid.UUID, float] = {}
    ready: dict[uuid.UUID, float] = {}

    all_ready = asyncio.Event()

    def notified(_c: object, _pid: int, _channel: str, payload: object) -> None:
        ready[uuid.UUID(str(payload))] = time.perf_counter()
        if sending_done and set(sent) <= set(ready):
            all_ready.set()

    await owner.add_listener(CHANNEL, notified)
    requests = max(1, round(rate * seconds / DOCUMENTS_PER_REQUEST))
    interval = 1 / (rate * 9 / DOCUMENTS_PER_REQUEST)  # 9 events make 8 documents
    loop = asyncio.get_running_loop()
    t0, i, sending_done = loop.time(), 0, False
    for history in histories(requests, tenant):
        for step in history:
            await asyncio.sleep(max(0.0, t0 + i * interval - loop.time()))
            i += 1
            kind = KIND_OF_EVENT.get(step.envelope.event_type)
            if kind is not None:
                sent[document_id_of(step.envelope.event_id, kind)] = time.perf_counter()
            await stack.send(step)
    offered = len(sent) / (loop.time() - t0)
    sending_done = True
    if set(sent) <= set(ready):
        all_ready.set()
    with suppress(TimeoutError):
        await asyncio.wait_for(all_ready.wait(), timeout=60)
    await owner.remove_listener(CHANNEL, notified)
    missing = len(sent) - len(set(sent) & set(ready))
    if missing:
        raise RuntimeError(f"{missing} documents not issued within 60 s of the last event")
    delays = [(ready[d] - sent[d]) * 1000 for d in sent]
    return Latency(delays, await download_all(stack, owner, list(sent)), offered)


async def download_all(stack: Stack, owner: asyncpg.Connection, ids: list[uuid.UUID]) -> int:
    """Every document through the API (an auditor's token), its bytes checked against sha256."""
    private, _ = development_keys(stack.folder / "keys")
    auditor = Principal(user_id="bench", name="Bench", roles=frozenset({"AUDITOR"}), opd=None)
    headers = {"Authorization": f"Bearer {TokenIssuer(private).issue(auditor)}"}
    expected = {
        r["document_id"]: r["sha256"]
        for r in await owner.fetch(
            "SELECT document_id, sha256 FROM documents.documents WHERE document_id = ANY($1)", ids
        )
    }
    async with httpx.AsyncClient(base_url=stack.processes[0].url, timeout=30) as http:
        for document_id in ids:
            answer = await http.get(f"/documents/{document_id}.pdf", headers=headers)
            answer.raise_for_status()
            if hashlib.sha256(answer.content).hexdigest() != expected[document_id]:
                raise RuntimeError(f"document {document_id}: the download differs from sha256")
    return len(ids)


TRIGGER_SQL = f"""
CREATE OR REPLACE FUNCTION documents.bench_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_notify('{CHANNEL}', NEW.document_id::text); RETURN NEW; END $$;
CREATE TRIGGER bench_notify AFTER INSERT ON documents.document_files
    FOR EACH ROW EXECUTE FUNCTION documents.bench_notify();
"""


async def service_runs(
    endpoints: Endpoints,
    folder: str,
    backlog: int,
    rate: float,
    seconds: float,
    replicas: int,
    settings: dict[str, str],
) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    shape = ", ".join(f"{k.removeprefix('DOCUMENTS_').lower()} {v}" for k, v in settings.items())
    shape = f"({shape})" if shape else "(default settings)"
    owner = await asyncpg.connect(endpoints.database_url)
    try:
        async with documents_stack(endpoints, Path(folder), settings) as stack:
            first = stack.replica()
            stack.processes.append(first)
            await asyncio.to_thread(start_all, [first])
            await owner.execute(TRIGGER_SQL)
            for n in sorted({1, replicas}):
                while len(stack.processes) < n:
                    more = stack.replica()
                    stack.processes.append(more)
                    await asyncio.to_thread(start_all, [more])
                found = await throughput(stack, owner, backlog)
                label = f"through the service, {n} process(es) {shape}, backlog of {backlog * 8}"
                figure = (
                    f"{found.per_second:.1f} documents/s; CPU per document: service "
                    f"{found.service_cpu_ms:.1f} ms, with PostgreSQL and Kafka "
                    f"{found.stack_cpu_ms:.1f} ms (idle: {found.idle_ms_per_s:.0f} ms/s); "
                    f"machine {found.machine_busy:.0f}% busy"
                )
                report.console.print(f"  {label}: {figure}")
                rows.append((label, figure))
                measured = await latency(stack, owner, rate, seconds)
                p50 = percentile(measured.delays_ms, 50)
                p99 = percentile(measured.delays_ms, 99)
                label = (
                    f"event → downloadable, {n} process(es) {shape}, "
                    f"{measured.offered_rate:.1f} documents/s offered"
                )
                figures = (
                    f"p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {max(measured.delays_ms):.0f} "
                    f"ms ({len(measured.delays_ms)} documents, {measured.downloaded} "
                    "downloaded and checked)"
                )
                report.console.print(f"  {label}: {figures}")
                rows.append((label, figures))
    finally:
        with suppress(Exception):
            await owner.execute("DROP TRIGGER IF EXISTS bench_notify ON documents.document_files")
        await owner.close()
    return rows


@app.command()
def main(
    documents: Annotated[int, typer.Option(help="Documents per render+sign run")] = 240,
    processes: Annotated[int, typer.Option(help="Processes of the parallel runs")] = 2,
    backlog: Annotated[int, typer.Option(help="Requests (8 documents each) at once")] = 30,
    rate: Annotated[float, typer.Option(help="Documents/s offered in the latency run")] = 10.0,
    seconds: Annotated[float, typer.Option(help="Length of the latency run")] = 30.0,
    replicas: Annotated[int, typer.Option(help="Service processes of the second runs")] = 2,
    workers: Annotated[
        int | None, typer.Option(help="DOCUMENTS_WORKERS of each service process")
    ] = None,
    pool: Annotated[
        int | None, typer.Option(help="DOCUMENTS_PROCESSES of each service process")
    ] = None,
) -> None:
    """Documents rendered and signed per second (target 50/s) and event-to-download delay."""
    report.console.print(
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at "
        f"{dt.datetime.now():%Y-%m-%d %H:%M}"
    )
    with tempfile.TemporaryDirectory(prefix="jejak-bench-signing-") as signing:
        development_material(Path(signing), DocumentsConfig().agency)
        rendered = render_runs(documents, processes, signing)
    with (
        servers(None) as endpoints,  # started outside the event loop (it runs one itself)
        tempfile.TemporaryDirectory(prefix="jejak-bench-documents-") as folder,
    ):
        given = {"DOCUMENTS_WORKERS": workers, "DOCUMENTS_PROCESSES": pool}
        settings = {k: str(v) for k, v in given.items() if v is not None}
        rows = asyncio.run(
            service_runs(endpoints, folder, backlog, rate, seconds, replicas, settings)
        )
    table = Table(title="Documents (target: at least 50 rendered and signed per second)")
    table.add_column("what")
    table.add_column("figure", justify="right")
    for n, per_second, share, cpu_ms in rendered:
        met = "met" if per_second >= TARGET_RATE else "MISSED"
        table.add_row(
            f"render + sign in {n} process(es)",
            f"{per_second:.1f}/s ({share:.0%} signing, {cpu_ms:.1f} ms CPU each) {met}",
        )
    for label, figure in rows:
        table.add_row(label, figure)
    report.console.print(table)
    report.console.print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    app()
