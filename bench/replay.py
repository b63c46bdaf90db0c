"""``python -m bench.replay``: the audit replay's rate next to the raw consume rate of the same
topics (issue 4: at least 20,000 events/s, and at least a quarter of the raw rate).

1. **Seed**: ``--requests`` whole requests (about 25 events each: submission to completion, with
   returns, failed tests, rejected UATs, problems, SLA breaches, some still open, some rejected
   or withdrawn) are sealed per service stream with ``seal_all`` and produced straight onto fresh
   topics ``bench.replay-<id>.<service>.events`` (3 partitions each, keyed by request, as the
   relay does). They need not go through the services.
2. **Raw**: one plain aiokafka consumer reads every partition of those topics from offset 0 to
   the end with ``getmany`` and does nothing with the records.
3. **Replay**: ``services.reporting.replay.replay`` without the comparison (there is no live
   schema here): read, project every request into a fresh schema, write; timed from the first
   read to the last row written. Afterwards the schema must hold every event and request.

Raw and replay alternate for ``--repeat`` rounds; medians are reported. See
``docs/benchmarks.md``.
"""

import asyncio
import datetime as dt
import random
import statistics
import time
import uuid
from collections.abc import Iterator
from typing import Annotated, Any

import typer
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

from bench import database, report
from bench.relay import delete_topic
from bench.stack import servers, settings_of
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
    TestFailed,
    TestPassed,
    UATAccepted,
    UATRejected,
)
from events.envelope import GENESIS_HASH, Actor, Envelope, NewEvent, OnBehalfOf
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
from events.reporting import SlaBreached
from events.topics import SERVICES, Service
from infra.eventstore.contract import seal_all
from infra.kafka import ensure_topics
from infra.kafka_acl import ADMIN
from infra.kafka_history import plan, read_partitions
from infra.kafka_login import KafkaLogin
from infra.relay import message_of
from infra.settings import Settings
from services.reporting.replay import ReplayOptions, ReplayResult, replay

app = typer.Typer(add_completion=False, pretty_exceptions_show_locals=False)

REPLAY_TARGET = 20_000.0
RATIO_TARGET = 0.25
OPDS = ("DINKES", "DISDIK", "DISHUB", "BAPPEDA", "DPMPTSP", "DISDUKCAPIL", "BPKAD", "DINSOS")
DEPT = "DISKOMINFOSTANDI"
KADIS = Actor(user_id="u-kadis", role="KADIS", opd=DEPT)
PLT_KADIS = Actor(
    user_id="u-sekdis",
    role="KADIS",
    opd=DEPT,
    on_behalf_of=OnBehalfOf(user_id="u-kadis", role="KADIS", kind="PLT"),
)
KABID = Actor(user_id="u-kabid", role="KABID_TI", opd=DEPT)
DEV = Actor(user_id="u-dev1", role="TIM_PENGEMBANG", opd=DEPT)
SYSTEM = Actor(user_id="reporting", role="SYSTEM")
PDF = Attachment(sha256="ab" * 32, size_bytes=4096, media_type="application/pdf", filename="m.pdf")
EPOCH = dt.datetime(2024, 1, 8, 1, 0, tzinfo=dt.UTC)  # a Monday, 08:00 WIB

Step = tuple[Service, Actor, DomainEvent]


def _flow(rid: str, opd: str, rng: random.Random, reports: int) -> Iterator[Step]:
    """One request through the SOP, with the detours real requests take now and then."""
    requester = Actor(user_id=f"u-pemohon-{opd.lower()}", role="PEMOHON", opd=opd)
    yield (
        "intake",
        requester,
        RequestSubmitted(
            request_id=rid,
            opd=opd,
            title=f"Sistem Informasi {opd.title()} {rid[:4]}",
            summary="Layanan daring untuk masyarakat dan pegawai.",
            letter=RequestLetter(number=f"400/{rid[:4]}/{opd}/2024", date=dt.date(2024, 1, 5)),
            needs_analysis=NeedsAnalysis(),
            business_process=BusinessProcess(),
            submitted_via="WEB",
        ),
    )
    yield "intake", KADIS, RequestReceived(request_id=rid, received_by="u-kadis", agenda_number="A")
    if rng.random() < 0.02:
        yield "intake", requester, RequestWithdrawn(request_id=rid, reason="Tidak jadi.")
        return
    note = "Mohon diproses."
    who = PLT_KADIS if rng.random() < 0.2 else KADIS
    yield "approval", who, Disposed(request_id=rid, to_role="KABID_TI", note=note)
    if rng.random() < 0.3:
        reasons = ("Alur sistem belum diisi",)
        yield "approval", KABID, RequestReturned(request_id=rid, reasons=reasons)
        yield "intake", requester, RequestRevised(request_id=rid, note="Sudah dilengkapi.")
    if rng.random() < 0.02:
        yield "approval", KABID, RequestRejected(request_id=rid, reason="Di luar kewenangan.")
        return
    yield "approval", KABID, DocumentsVerified(request_id=rid)
    yield (
        "approval",
        KABID,
        MeetingHeld(
            request_id=rid,
            held_at=EPOCH,
            participants=(Participant(name="Budi", position="Kabid TI", organisation=DEPT),),
            scope="Lingkup sesuai dokumen proses bisnis.",
            timeline=Timeline(planned_start=dt.date(2024, 2, 1), planned_end=dt.date(2024, 5, 31)),
            minutes_number=f"BA-DRAFT/{rid[:4]}",
        ),
    )
    signatories = (
        Signatory(user_id="u-kabid", name="Budi", role="KABID_TI"),
        Signatory(user_id=requester.user_id, name="Sari", role="PEMOHON"),
    )
    minutes = f"BA/{rid[:4]}"
    yield (
        "approval",
        KABID,
        BAsigned(request_id=rid, minutes_number=minutes, signatories=signatories),
    )
    yield (
        "approval",
        KADIS,
        TaskAssigned(
            request_id=rid,
            letter_number=f"ST/{rid[:4]}",
            team_members=("u-dev1", "u-dev2"),
            team_lead="u-dev1",
            opd=opd,
            period_start=dt.date(2024, 2, 1),
            period_end=dt.date(2024, 5, 31),
        ),
    )
    yield "dev_tracking", DEV, DevelopmentStarted(request_id=rid, started_on=dt.date(2024, 2, 1))
    for n in range(reports):
        percent = min(95, 10 * (n + 1))
        yield "dev_tracking", DEV, ProgressReported(request_id=rid, percent=percent, note="Lanjut.")
        if n == 1 and rng.random() < 0.1:
            breach = SlaBreached(
                request_id=rid,
                step="DEVELOP",
                due_at=EPOCH,
                breached_at=EPOCH,
                responsible_role="TIM_PENGEMBANG",
                supervisor_role="KABID_TI",
            )
            yield "reporting", SYSTEM, breach
    if rng.random() < 0.5:
        problem = ProblemRecorded(
            request_id=rid, problem_id="P-1", description="Server lambat.", severity="HIGH"
        )
        yield "dev_tracking", DEV, problem
        yield "dev_tracking", DEV, ProblemSolved(request_id=rid, problem_id="P-1", solution="RAM.")
    for kind in ("SYSTEM", "UNIT", "INTEGRATION"):
        tested_on = dt.date(2024, 3, 1)
        if rng.random() < 0.15:
            failed = TestFailed(
                request_id=rid,
                kind=kind,
                minutes_number=f"BA-{kind}/{rid[:4]}/0",
                findings=("Validasi gagal",),
                tested_on=tested_on,
            )
            yield "dev_tracking", DEV, failed
        passed = TestPassed(
            request_id=rid,
            kind=kind,
            minutes_number=f"BA-{kind}/{rid[:4]}",
            tested_on=tested_on,
        )
        yield "dev_tracking", DEV, passed
    manual = ManualPublished(request_id=rid, title="Manual", document=PDF, version="1.0")
    yield "dev_tracking", DEV, manual
    if rng.random() < 0.15:
        rejected = UATRejected(
            request_id=rid, minutes_number=f"BA-UAT/{rid[:4]}/0", findings=("X",)
        )
        yield "dev_tracking", requester, rejected
        again = TestPassed(
            request_id=rid,
            kind="INTEGRATION",
            minutes_number=f"BA-IT/{rid[:4]}/2",
            tested_on=dt.date(2024, 4, 1),
        )
        yield "dev_tracking", DEV, again
    accepted = UATAccepted(request_id=rid, minutes_number=f"BA-UAT/{rid[:4]}", accepted_by="u")
    yield "dev_tracking", requester, accepted
    yield (
        "dev_tracking",
        requester,
        RequestCompleted(request_id=rid, completed_on=dt.date(2024, 5, 1)),
    )


def sample_request(
    rid: str, rng: random.Random, start: dt.datetime, reports: int = 8, tenant: str = "katingan"
) -> list[tuple[Service, Envelope]]:
    """One request's envelopes, each service's sealed in its own stream, in the order they
    happened (minutes to hours apart; about one in ten requests stops part-way, still open)."""
    steps = list(_flow(rid, rng.choice(OPDS), rng, reports))
    if rng.random() < 0.1:
        steps = steps[: rng.randrange(2, len(steps))]
    at = start
    lanes: dict[Service, list[NewEvent]] = {}
    order: list[Service] = []
    for service, actor, event in steps:
        at += dt.timedelta(minutes=rng.randrange(5, 240))
        new = NewEvent.of(
            event, occurred_at=at, actor=actor, tenant=tenant, correlation_id=uuid.uuid4()
        )
        lanes.setdefault(service, []).append(new)
        order.append(service)
    sealed = {s: iter(seal_all(rid, 0, GENESIS_HASH, news)) for s, news in lanes.items()}
    return [(service, next(sealed[service])) for service in order]


def bench_topics(run: str) -> dict[Service, str]:
    return {s: f"bench.replay-{run}.{s}.events" for s in SERVICES}


async def seed(kafka: KafkaLogin, topics: dict[Service, str], requests: int, reports: int) -> int:
    """Produce ``requests`` sample requests in whole batches per partition (each request's key
    picks the partition as a keyed send would); returns how many events."""
    await ensure_topics(kafka, topics.values())
    producer = AIOKafkaProducer(**kafka.options(), acks=1, max_batch_size=1024 * 1024)
    await producer.start()
    rng = random.Random(4)
    sent = 0
    try:
        partitions = {s: sorted(await producer.partitions_for(t)) for s, t in topics.items()}
        batches: dict[tuple[Service, int], Any] = {}
        pending = []

        async def ship(service: Service, partition: int) -> None:
            batch = batches.pop((service, partition))
            batch.close()
            pending.append(await producer.send_batch(batch, topics[service], partition=partition))

        for n in range(requests):
            rid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            key = rid.encode()
            start = EPOCH + dt.timedelta(days=7 * (n % 60), minutes=rng.randrange(0, 480))
            for service, envelope in sample_request(rid, rng, start, reports):
                partition = DefaultPartitioner()(key, partitions[service], partitions[service])
                _, value, headers = message_of(envelope)  # the relay's record
                while True:
                    batch = batches.get((service, partition))
                    if batch is None:
                        batch = batches[(service, partition)] = producer.create_batch()
                    appended = batch.append(key=key, value=value, timestamp=None, headers=headers)
                    if appended is not None:
                        break
                    await ship(service, partition)
                sent += 1
        for service, partition in list(batches):
            await ship(service, partition)
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return sent


async def raw_run(kafka: KafkaLogin, topics: list[str]) -> tuple[int, float]:
    """Read every record of ``topics`` once, doing nothing with them: (records, seconds)."""
    layout = await plan(kafka, topics)
    started = time.perf_counter()
    read = await read_partitions(kafka, layout.partitions, lambda records: None)
    return read, time.perf_counter() - started


async def replay_run(settings: Settings, topics: list[str], requests: int) -> ReplayResult:
    """The replay into a fresh schema (dropped afterwards), checked: every event projected,
    every request rebuilt, nothing refused."""
    as_admin = settings.model_copy(update={"kafka_sasl_username": ADMIN})  # bench.* topics
    result = await replay(as_admin, ReplayOptions(topics=tuple(topics), compare=False))
    done = (result.events_stored, result.requests, result.refusals)
    if done != (result.events_read, requests, []):
        raise RuntimeError(
            f"replay projected {result.events_stored} events of {result.events_read} and "
            f"{result.requests} requests of {requests}, refused {len(result.refusals)}"
        )
    return result


async def _bench(settings: Settings, requests: int, reports: int, repeat: int) -> bool:
    report.print_machine(report.machine(await database.server_facts(settings)))
    topics = bench_topics(uuid.uuid4().hex[:8])
    kafka = settings.kafka_login(ADMIN)
    try:
        started = time.perf_counter()
        events = await seed(kafka, topics, requests, reports)
        seconds = time.perf_counter() - started
        report.console.print(
            f"\nseeded {events:,} events of {requests:,} requests in {seconds:.1f} s "
            f"onto {len(topics)} topics\n"
        )
        names = list(topics.values())
        raw_rates, replay_rates = [], []
        for _ in range(repeat):
            await database.checkpoint(settings)
            read, seconds = await raw_run(kafka, names)
            raw_rates.append(read / seconds)
            report.console.print(
                f"  raw aiokafka read   {read:,} events {seconds:6.2f} s "
                f"{raw_rates[-1]:9,.0f} events/s"
            )
            await database.checkpoint(settings)
            started = time.perf_counter()
            result = await replay_run(settings, names, requests)
            whole = time.perf_counter() - started
            replay_rates.append(result.rate)
            cpu = sum(s.seconds.get("cpu", 0.0) for s in result.slices)
            report.console.print(
                f"  replay (rebuild)    {result.events_read:,} events "
                f"{result.rebuild_seconds:6.2f} s {result.rate:9,.0f} events/s "
                f"({result.workers} workers, {cpu / result.events_read * 1e6:.0f} µs CPU per "
                f"event in them; {whole:.2f} s with the schema's creation and removal)"
            )
    finally:
        for topic in topics.values():
            await delete_topic(kafka, topic)
    raw, rebuilt = statistics.median(raw_rates), statistics.median(replay_rates)
    ratio = statistics.median(b / a for a, b in zip(raw_rates, replay_rates, strict=True))
    met = rebuilt >= REPLAY_TARGET and ratio >= RATIO_TARGET
    report.console.print(
        f"\n[bold]medians[/bold]: raw {raw:,.0f} events/s, replay {rebuilt:,.0f} events/s, "
        f"replay/raw {ratio:.2f} (targets: ≥ {REPLAY_TARGET:,.0f} events/s and ≥ "
        f"{RATIO_TARGET:.2f}) {'[green]met[/green]' if met else '[red]missed[/red]'}"
    )
    return met


@app.command()
def main(
    requests: Annotated[int, typer.Option(min=1, help="Whole requests to seed")] = 8_000,
    reports: Annotated[
        int, typer.Option(min=0, help="ProgressReported per request (about 14 events + this)")
    ] = 11,
    repeat: Annotated[int, typer.Option(min=1, help="Rounds of raw read and replay")] = 3,
    strict: Annotated[bool, typer.Option(help="Exit with 1 if a target is missed")] = False,
) -> None:
    """Replay rate vs raw consume rate. KAFKA_BOOTSTRAP_SERVERS and DATABASE_URL, if set, name
    servers to use instead of starting a throwaway stack (everything made here is removed)."""
    with servers(None) as endpoints:
        settings = settings_of(endpoints)
        met = asyncio.run(_bench(settings, requests, reports, repeat))
    if strict and not met:
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
