"""Audit replay: every reporting read model rebuilt from Kafka offset 0 into a fresh schema, then
compared with the live schema table by table (``python -m services.reporting.cli audit replay``).

**Rebuild.** A fresh schema (``reporting_replay_<UTC time>_<random>``, with its own app role) is
migrated with reporting's SQL. The admin's calendar edits (``calendar_days``) are copied from the
live schema: they are input, not derived from events. Then every topic reporting consumes is read
from its first offset up to the end offsets taken when the replay starts, and the envelopes are
projected with the projection's own code (``casefile_steps.update_for`` over the canonical order,
``sla.request_sla`` over the tenant's calendar, ``notifications.notices_for_step`` (the live
path's ``notices_for_change`` for one envelope), the row values of ``projector``), in bulk: one
fold per request instead of one per event, written with COPY. The bulk path equals the live
path (batches of what each fetch brought), and the comparison proves it:

* the same envelopes are refused as the live consumer dead-letters them (identity's events,
  reporting's own CaseStatusChanged and other tenants' are skipped; an unknown type, a payload of
  another request, a payload that does not load, the same event id with other content, a second
  event in one place of a service's stream are refused and the first delivery stands, in each
  partition's order);
* ``case_events`` keeps each envelope as the record's JSON text, as the live consumer keeps
  what it was delivered (``infra.consumer.Delivered``);
* ``cases``, ``request_sla`` and ``sla_rows`` are written from the fold of the whole set, as the
  live path writes them after the request's last event (the fold is the same for every arrival
  order);
* the notices are those of stepping through the request's events one at a time in canonical
  order (``casefile.canonical_order``: the order in which they happened), each step compared
  with the one before, as the live path does in arrival order (within one batch, in canonical
  order: ``changes.step_through``).

**Fast.** Kafka keys records by request, so one request's events are in the same partition
number of every topic with the same partition count. The replay runs one worker process per
partition number (forked: everything is imported already), each reading that partition of those
topics (and its own requests' records of a topic with another partition count) with batched
``getmany``, grouping the raw records by request, then parsing and projecting request by request
and COPYing the rows while it projects the next ones; a request seen by two workers is an error
(run with ``workers=1``). The fresh schema is filled UNLOGGED (a scratch copy) with its
secondary indexes built afterwards; Python's cyclic garbage collector is off in the workers (it
would walk the held records again and again for nothing); the calendar arithmetic is done by
``FastCalendar``, which gives ``WorkingCalendar``'s answers without walking long spans day by day.

**Compare.** Table by table, row by row, request by request (in chunks):

=============  ==============================  =================================================
table          key                             not compared (legitimately different)
=============  ==============================  =================================================
case_events    event_id                        ``received_at`` (when it was stored)
cases          request_id                      ``projected_at`` (when it was written)
request_sla    request_id                      for an OPEN request ``lead_minutes`` and
                                               ``waiting_minutes`` (counted up to the moment of
                                               projection)
sla_rows       request_id, step, attempt       for a row still open: ``used_minutes``,
                                               ``paused_minutes``, the minutes of a pause still
                                               on, and RUNNING vs RUNNING_LATE (all counted up to
                                               the moment of projection)
notices        notice_id                       ``seq`` (commit order), ``created_at`` (when it
                                               was made), ``stored_at``
=============  ==============================  =================================================

Not compared at all: ``calendar_days`` (copied), ``sla_breaches`` (the breach watcher's record of
what it emitted; the SlaBreached events themselves are replayed from reporting's topic) and
``notice_reads`` (users' read marks). A notice can legitimately differ in one case: when the live
service received one request's events from two topics in another order than they happened (e.g.
while catching up after downtime), it told someone at another step than the replay does.
"""

import asyncio
import datetime as dt
import gc
import multiprocessing
import secrets
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty
from typing import Any
from uuid import UUID

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.partitioner import murmur2
from pydantic import ValidationError

from events.base import DomainEvent
from events.catalog import service_of
from events.envelope import Envelope, utc_now
from events.reporting import SlaBreached
from events.topics import Service, topics_consumed_by
from infra.consumer import NOT_AN_ENVELOPE, Delivered
from infra.db import Connection, create_pool
from infra.migrations import migrate
from infra.settings import Settings
from services.reporting.calendar import WorkingCalendar
from services.reporting.calendar_fast import FastCalendar
from services.reporting.calendar_store import DayEdit, base_calendar, stored_edits, with_edits
from services.reporting.casefile import CaseFile, canonical_order, empty_case
from services.reporting.casefile_draft import CaseDraft
from services.reporting.casefile_steps import update_for
from services.reporting.notifications import (
    NOTICE_COLUMNS,
    Notice,
    notice_values,
    notices_for_step,
    waiting_point,
)
from services.reporting.projector import (
    CASE_COLUMNS,
    CASE_EVENT_COLUMNS,
    FOLLOWED,
    REGISTRY,
    REQUEST_SLA_COLUMNS,
    SLA_ROW_COLUMNS,
    case_event_values,
    case_values,
    request_sla_values,
    sla_of,
    sla_row_values,
)
from services.reporting.sla import RequestSla
from services.reporting.status_changes import NOT_PROJECTED

SQL_DIR = Path(__file__).parent / "sql"
LIVE_SCHEMA = "reporting"
READER_OPTIONS: dict[str, Any] = {
    "fetch_max_bytes": 64 * 1024 * 1024,
    "max_partition_fetch_bytes": 16 * 1024 * 1024,
    "fetch_max_wait_ms": 100,
}
"""aiokafka settings of every reader of the replay (and of the benchmark's raw reader)."""
FLUSH_EVENTS = 8000
"""Projected events buffered before a COPY."""
COMPARE_CHUNK = 2000
"""Requests compared per round trip."""
MAX_DIFFERENCES = 10_000
"""Differences kept in a result (all are counted)."""
_SLA_BREACHED = SlaBreached.event_type()

Progress = Callable[[str, int], None]
"""``("total", n)`` once, then ``("read", n)`` and ``("projected", n)`` as records are done;
``("tables", n)`` once the comparison starts, then ``("compared", 1)`` per table."""


def _quiet(kind: str, count: int) -> None:
    return None


# --- the bulk projection of one request -------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """An envelope the replay did not project, as the live consumer would have dead-lettered it."""

    reason: str
    request_id: str | None = None
    event_id: str | None = None
    event_type: str | None = None
    where: str | None = None


@dataclass(frozen=True)
class Rebuilt:
    """One request's read models, as the live projection leaves them after its last event."""

    case: CaseFile
    sla: RequestSla
    notices: tuple[Notice, ...]
    stored: tuple[tuple[str, Delivered], ...]
    """``(service, envelope as delivered)`` kept in ``case_events``, in arrival order."""


def rebuild(
    request_id: str,
    arrivals: Iterable[Delivered],
    calendar_of: Callable[[str], WorkingCalendar],
    now: dt.datetime,
) -> tuple[Rebuilt | None, list[Refusal]]:
    """One request's read models from its envelopes in arrival order (each partition's order
    kept); None if none of them is projected. ``calendar_of(tenant)`` is the tenant's calendar.

    An envelope is skipped or refused where the live consumer skips or dead-letters it: an event
    id seen before (the consumer's inbox), identity's events, an unknown type or version, a
    payload that does not load or names another request, a second event in one place of a
    service's stream."""
    refusals: list[Refusal] = []
    inbox: dict[UUID, Envelope] = {}  # the first envelope of each id, as the consumer's
    kept: dict[UUID, tuple[Service, Delivered, DomainEvent]] = {}
    places: set[tuple[Service, int]] = set()
    last_tenant = ""
    for arrival in arrivals:
        envelope = arrival.envelope
        first = inbox.setdefault(envelope.event_id, envelope)
        if first is not envelope:  # the consumer's inbox knows the id: nothing happens
            if first != envelope:
                refusals.append(_refused(envelope, "event delivered again with other content"))
            continue
        try:
            service = service_of(envelope.event_type)
            if service not in FOLLOWED or envelope.event_type in NOT_PROJECTED:
                continue
            event = REGISTRY.load(envelope.event_type, envelope.schema_version, envelope.payload)
        except (LookupError, ValueError) as error:  # unknown type or version, invalid payload
            refusals.append(_refused(envelope, f"{type(error).__name__}: {error}"))
            continue
        if getattr(event, "request_id", None) != envelope.stream_id:
            refusals.append(_refused(envelope, "payload of another request than its stream"))
            continue
        if (service, envelope.stream_version) in places:
            refusals.append(_refused(envelope, "a second event in one place of its stream"))
            continue
        kept[envelope.event_id] = (service, arrival, event)
        places.add((service, envelope.stream_version))
        last_tenant = envelope.tenant
    if not kept:
        return None, refusals
    case, notices = _step_through(request_id, kept, now)
    history = case.history
    timed = [(e.occurred_at, kept[e.event_id][2]) for e in history]
    sla = sla_of(case, calendar_of(last_tenant), now, timed)
    stored = tuple((service, arrival) for service, arrival, _ in kept.values())
    return Rebuilt(case, sla, tuple(notices), stored), refusals


def _refused(envelope: Envelope, reason: str) -> Refusal:
    return Refusal(reason, envelope.stream_id, str(envelope.event_id), envelope.event_type)


def _step_through(
    request_id: str, kept: dict[UUID, tuple[Service, Delivered, DomainEvent]], now: dt.datetime
) -> tuple[CaseFile, list[Notice]]:
    """The case of every envelope (``casefile.fold``'s result) and the notices of taking them one
    at a time in canonical order.

    A prefix of the canonical order is the canonical order of its own set, so each step is the
    fold of the envelopes so far: one ``CaseDraft`` changed by each envelope in turn (without
    timeline lines: ``cases.casefile`` holds none, and nothing else here reads them).
    ``notices_for_step`` (``notices_for_change`` for one new envelope) reads only the case before
    and after (drafts will do) and that envelope, which is all it needs: it owes nothing unless
    the waiting point moves or the envelope is an SlaBreached, so only there is it called.
    """
    history = canonical_order(arrival.envelope for _, arrival, _ in kept.values())
    draft = CaseDraft.of(empty_case(request_id))
    notices: list[Notice] = []
    made: set[UUID] = set()
    point = waiting_point(draft)
    for envelope in history:
        service, _, event = kept[envelope.event_id]
        before = draft.change(update_for(draft, service, envelope, event, timeline=False))
        was, point = point, waiting_point(draft)
        if point == was and envelope.event_type != _SLA_BREACHED:
            continue
        for notice in notices_for_step(CaseDraft(before), draft, envelope, now):
            if notice.notice_id not in made:  # stored ON CONFLICT DO NOTHING
                made.add(notice.notice_id)
                notices.append(notice)
    updated = max(e.occurred_at for e in history)
    return draft.freeze(history=history, updated_at=updated), notices


# --- reading the topics -----------------------------------------------------------------------


@dataclass(frozen=True)
class Partition:
    topic: str
    partition: int
    end: int
    """The end offset when the replay started: the records before it are replayed."""


@dataclass(frozen=True)
class Slice:
    """What one worker reads: ``own`` partitions whole, and the records of ``shared`` partitions
    whose request falls to it."""

    index: int
    workers: int
    modulus: int
    own: tuple[Partition, ...]
    shared: tuple[Partition, ...]

    def mine(self, stream_id: bytes) -> bool:
        """Whether the request is this worker's: the partition number its key has in the topics
        of ``modulus`` partitions (Kafka's default partitioner, as every producer here uses)."""
        number: int = (murmur2(stream_id) & 0x7FFFFFFF) % self.modulus
        return number % self.workers == self.index


@dataclass(frozen=True)
class Plan:
    partitions: tuple[Partition, ...]
    partition_count: int
    """The partition count of most topics (``infra.kafka.ensure_topics`` makes them alike)."""
    lost: tuple[str, ...]
    """Partitions whose first offset is no longer 0: history deleted, the replay is partial."""
    missing_topics: tuple[str, ...]

    @property
    def total(self) -> int:
        return sum(p.end for p in self.partitions)

    @property
    def co_partitioned(self) -> bool:
        counts: dict[str, int] = {}
        for p in self.partitions:
            counts[p.topic] = counts.get(p.topic, 0) + 1
        return all(n == self.partition_count for n in counts.values())

    def slices(self, workers: int) -> list[Slice]:
        """One slice per worker. Kafka keys records by request, so one request's records are in
        the same partition number of every topic with ``partition_count`` partitions: worker k
        reads the partition numbers p with p % workers == k of those. A topic with another
        count is read by every worker, each keeping its own requests' records."""
        counts: dict[str, int] = {}
        for p in self.partitions:
            counts[p.topic] = counts.get(p.topic, 0) + 1
        alike = [p for p in self.partitions if counts[p.topic] == self.partition_count]
        odd = tuple(p for p in self.partitions if counts[p.topic] != self.partition_count)
        if workers == 1:
            return [Slice(0, 1, self.partition_count, self.partitions, ())]
        return [
            Slice(
                k,
                workers,
                self.partition_count,
                tuple(p for p in alike if p.partition % workers == k),
                odd,
            )
            for k in range(workers)
        ]


def reader(bootstrap_servers: str) -> AIOKafkaConsumer:
    """A consumer outside any group, committing nothing (it only reads)."""
    return AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **READER_OPTIONS,
    )


async def plan(bootstrap_servers: str, topics: Sequence[str]) -> Plan:
    """The partitions of ``topics`` and their end offsets, now."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        present = [t for t in topics if t in existing]
        described = await admin.describe_topics(present) if present else []
    finally:
        await admin.close()
    numbers = {d["topic"]: sorted(p["partition"] for p in d["partitions"]) for d in described}
    tps = [TopicPartition(t, n) for t in present for n in numbers.get(t, [])]
    counts = [len(numbers.get(t, [])) for t in present]
    ends: dict[TopicPartition, int] = {}
    starts: dict[TopicPartition, int] = {}
    if tps:
        consumer = reader(bootstrap_servers)
        await consumer.start()
        try:
            ends = await consumer.end_offsets(tps)
            starts = await consumer.beginning_offsets(tps)
        finally:
            await consumer.stop()
    return Plan(
        partitions=tuple(Partition(tp.topic, tp.partition, int(ends[tp])) for tp in tps),
        partition_count=max(counts, key=counts.count, default=1),
        lost=tuple(f"{tp.topic}[{tp.partition}] from {starts[tp]}" for tp in tps if starts[tp]),
        missing_topics=tuple(t for t in topics if t not in existing),
    )


async def read_partitions(
    bootstrap_servers: str, partitions: Sequence[Partition], on_batch: Callable[[list[Any]], None]
) -> int:
    """Every record of ``partitions`` from the first offset to its ``end``, in batches handed to
    ``on_batch`` (each partition's records in order). Returns how many were read."""
    pending = {TopicPartition(p.topic, p.partition): p.end for p in partitions if p.end > 0}
    if not pending:
        return 0
    consumer = reader(bootstrap_servers)
    await consumer.start()
    read = 0
    try:
        consumer.assign(list(pending))
        await consumer.seek_to_beginning(*pending)
        while True:
            for tp, end in list(pending.items()):
                # the position, not the last offset seen: offsets may have gaps (compaction,
                # transaction markers) and a deleted history may start at the end
                if await consumer.position(tp) >= end:
                    del pending[tp]
                    consumer.pause(tp)
            if not pending:
                break
            batches = await consumer.getmany(*pending, timeout_ms=1000)
            for tp, records in batches.items():
                limit = pending.get(tp, -1)
                wanted = [r for r in records if r.offset < limit]
                if wanted:
                    on_batch(wanted)
                    read += len(wanted)
    finally:
        await consumer.stop()
    return read


# --- one worker: read a slice, project it, write it --------------------------------------------


@dataclass(frozen=True)
class Job:
    slice: Slice
    bootstrap_servers: str
    app_url: str
    schema: str
    tenant: str | None
    edits: dict[str, list[DayEdit]]
    time_zone: str
    now: dt.datetime


@dataclass
class SliceResult:
    index: int
    read: int = 0
    stored: int = 0
    requests: set[str] = field(default_factory=set)
    refusals: list[Refusal] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    """Wall time of ``read``, ``project`` and the last ``write``; ``cpu``: this process's."""


class _Writer:
    """Buffers rows and COPYs them into the replay schema, one COPY running while the next
    requests are projected."""

    def __init__(self, conn: Connection, schema: str, now: dt.datetime) -> None:
        self.conn, self.schema, self.now = conn, schema, now
        self.rows: dict[str, list[tuple[Any, ...]]] = {}
        self.events = 0
        self.task: asyncio.Task[None] | None = None

    def add(self, rebuilt: Rebuilt) -> None:
        case, sla = rebuilt.case, rebuilt.sla
        put = self.rows.setdefault
        put("case_events", []).extend(case_event_values(s, d) for s, d in rebuilt.stored)
        put("cases", []).append((*case_values(case, sla), self.now))
        put("request_sla", []).append(request_sla_values(case, sla))
        put("sla_rows", []).extend(sla_row_values(case, sla))
        put("notices", []).extend(notice_values(n) for n in rebuilt.notices)
        self.events += len(rebuilt.stored)

    async def flush(self, wait: bool = False) -> None:
        if self.task is not None:
            await self.task
            self.task = None
        if self.rows:
            rows, self.rows, self.events = self.rows, {}, 0
            self.task = asyncio.create_task(self._copy(rows))
        if wait and self.task is not None:
            await self.task
            self.task = None

    async def _copy(self, rows: dict[str, list[tuple[Any, ...]]]) -> None:
        columns = {
            "case_events": CASE_EVENT_COLUMNS,
            "cases": f"{CASE_COLUMNS}, projected_at",
            "request_sla": REQUEST_SLA_COLUMNS,
            "sla_rows": SLA_ROW_COLUMNS,
            "notices": NOTICE_COLUMNS,
        }
        async with self.conn.transaction():
            for table, records in rows.items():
                if records:
                    await self.conn.copy_records_to_table(
                        table,
                        records=records,
                        columns=columns[table].split(", "),
                        schema_name=self.schema,
                    )


async def run_slice(job: Job, progress: Progress = _quiet) -> SliceResult:
    """Read ``job``'s partitions, project every request found there, write the rows.

    Python's cyclic garbage collector is off meanwhile: it would walk the hundreds of thousands
    of envelopes held for the folds again and again (it doubled the time), and a projection
    leaves no cycles worth collecting before the slice ends."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        return await _run_slice(job, progress)
    finally:
        if collecting:
            gc.enable()


def _where(record: Any) -> str:
    return f"{record.topic}[{record.partition}]@{record.offset}"


def _delivered(records: list[Any], request_id: str, result: SliceResult) -> list[Delivered]:
    """The records' envelopes (a record that is not one is refused)."""
    found = []
    for record in records:
        try:
            delivered = Delivered.of(record.value)
        except NOT_AN_ENVELOPE as error:
            reason = f"not a valid envelope: {_what_is_wrong(error)}"
            result.refusals.append(Refusal(reason, where=_where(record)))
            continue
        if delivered.envelope.stream_id != request_id:  # a payload that fooled _key_of
            result.refusals.append(_refused(delivered.envelope, f"keyed as stream {request_id}"))
            continue
        found.append(delivered)
    return found


def _what_is_wrong(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return f"{error.error_count()} error(s)"
    return "not UTF-8"


def _key_of(record: Any) -> bytes | None:
    """The stream id of the record's envelope: its Kafka key when the envelope names it as its
    stream (the relay keys by stream id and writes compact JSON), else read from the envelope;
    None if it is not one. ``_delivered`` checks the envelope's own stream id afterwards."""
    key, value = record.key, record.value
    if key and value.rfind(b'"stream_id":"' + key + b'"') >= 0:
        return bytes(key)
    try:
        return Envelope.model_validate_json(record.value).stream_id.encode()
    except ValidationError:
        return None


async def _run_slice(job: Job, progress: Progress) -> SliceResult:
    """Read every record first, grouped by request (raw: parsed only when its request is
    projected, which keeps the working set small), then project request by request."""
    result = SliceResult(job.slice.index)
    arrivals: dict[bytes, list[Any]] = {}
    unreadable: list[Any] = []

    def take(records: list[Any]) -> None:
        for record in records:
            key = _key_of(record)
            if key is None:
                unreadable.append(record)
            else:
                arrivals.setdefault(key, []).append(record)
        result.read += len(records)
        progress("read", len(records))

    def take_mine(records: list[Any]) -> None:
        mine = []
        for record in records:
            key = _key_of(record)
            if (key is None and job.slice.index == 0) or (key and job.slice.mine(key)):
                mine.append(record)
        take(mine)

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(
        read_partitions(job.bootstrap_servers, job.slice.own, take),
        read_partitions(job.bootstrap_servers, job.slice.shared, take_mine),
    )
    result.seconds["read"] = time.perf_counter() - started
    _delivered(unreadable, "", result)
    progress("projected", len(unreadable))
    calendars: dict[str, WorkingCalendar] = {}

    def calendar_of(tenant: str) -> WorkingCalendar:
        if tenant not in calendars:
            edited = with_edits(base_calendar(job.time_zone), job.edits.get(tenant, []))
            calendars[tenant] = FastCalendar.of(edited)
        return calendars[tenant]

    conn = await asyncpg.connect(job.app_url)  # no JSON codec: the rows carry JSON text
    try:
        writer = _Writer(conn, job.schema, job.now)
        done = 0
        for n, (key, records) in enumerate(arrivals.items()):
            request_id = key.decode()
            delivered = _delivered(records, request_id, result)
            if job.tenant is not None:
                delivered = [d for d in delivered if d.envelope.tenant == job.tenant]
            rebuilt, refusals = rebuild(request_id, delivered, calendar_of, job.now)
            result.refusals.extend(refusals)
            if rebuilt is not None:
                writer.add(rebuilt)
                result.stored += len(rebuilt.stored)
                result.requests.add(request_id)
            done += len(records)
            if writer.events >= FLUSH_EVENTS:
                progress("projected", done)
                done = 0
                await writer.flush()
            elif n % 16 == 0:
                await asyncio.sleep(0)  # let a running COPY move on
        result.seconds["project"] = time.perf_counter() - started - result.seconds["read"]
        await writer.flush(wait=True)
        progress("projected", done)
        result.seconds["write"] = time.perf_counter() - started - sum(result.seconds.values())
        result.seconds["cpu"] = time.process_time() - cpu
    finally:
        await conn.close()
    return result


def _work_in_process(job: Job, queue: "multiprocessing.Queue[Any]") -> None:
    """A worker process's body: ``run_slice``, reporting through ``queue``."""

    def progress(kind: str, count: int) -> None:
        queue.put((kind, job.slice.index, count))

    try:
        result = asyncio.run(run_slice(job, progress))
    except BaseException:  # reported to the parent, which fails the replay
        queue.put(("failed", job.slice.index, traceback.format_exc()))
    else:
        queue.put(("done", job.slice.index, result))


async def _run_workers(jobs: Sequence[Job], progress: Progress) -> list[SliceResult]:
    """One process per job (forked: everything is imported already), or this one for one job."""
    if len(jobs) == 1:
        return [await run_slice(jobs[0], progress)]
    context = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[Any] = context.Queue()
    processes = [
        context.Process(
            target=_work_in_process, args=(job, queue), name=f"replay-{job.slice.index}"
        )
        for job in jobs
    ]
    for process in processes:
        process.start()
    results: dict[int, SliceResult] = {}
    try:
        while len(results) < len(jobs):
            try:
                kind, index, body = queue.get_nowait()
            except Empty:
                if any(p.exitcode not in (None, 0) for p in processes):
                    raise ReplayFailed("a replay worker died") from None
                await asyncio.sleep(0.05)
                continue
            if kind == "failed":
                raise ReplayFailed(f"replay worker {index} failed:\n{body}")
            if kind == "done":
                results[index] = body
            else:
                progress(kind, body)
    finally:
        for process in processes:
            if process.is_alive() and process.pid is not None and len(results) < len(jobs):
                process.terminate()
            process.join(timeout=10)
    return [results[k] for k in sorted(results)]


class ReplayFailed(RuntimeError):
    pass


# --- the whole replay ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplayOptions:
    live_schema: str = LIVE_SCHEMA
    topics: tuple[str, ...] = topics_consumed_by("reporting")
    tenant: str | None = None
    """Replay and compare only this tenant's requests (default: every tenant)."""
    workers: int | None = None
    """Worker processes; default one per partition number (of most topics)."""
    keep: bool = False
    """Keep the replay schema (and its role) instead of dropping it at the end."""
    compare: bool = True
    schema: str | None = None
    """The fresh schema's name (default ``reporting_replay_<UTC time>_<random>``)."""
    time_zone: str = "Asia/Jakarta"


@dataclass(frozen=True)
class Difference:
    table: str
    key: str
    request_id: str
    column: str
    """The column, a path inside a JSON column (``casefile.documents[2].number``), or ``(row)``
    for a row that is only on one side."""
    live: Any
    replayed: Any


@dataclass(frozen=True)
class TableSummary:
    table: str
    live_rows: int
    replayed_rows: int
    differing_rows: int


@dataclass
class ReplayResult:
    schema: str
    kept: bool
    plan: Plan
    workers: int
    events_read: int = 0
    events_stored: int = 0
    requests: int = 0
    rebuild_seconds: float = 0.0
    compare_seconds: float = 0.0
    refusals: list[Refusal] = field(default_factory=list)
    slices: list[SliceResult] = field(default_factory=list, repr=False)
    """What each worker did (and how long it took)."""
    tables: list[TableSummary] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    difference_count: int = 0

    @property
    def rate(self) -> float:
        """Events per second, reading to last row written."""
        return self.events_read / self.rebuild_seconds if self.rebuild_seconds else 0.0

    @property
    def identical(self) -> bool:
        return self.difference_count == 0 and not self.plan.lost


def replay_schema_name(now: dt.datetime) -> str:
    return f"reporting_replay_{now:%Y%m%d%H%M%S}_{secrets.token_hex(2)}"


async def replay(
    settings: Settings, options: ReplayOptions, progress: Progress = _quiet
) -> ReplayResult:
    """Rebuild into a fresh schema, compare with the live one (unless told not to), and drop the
    fresh schema unless ``options.keep``."""
    now = utc_now()
    schema = options.schema or replay_schema_name(now)
    role = settings.app_role(schema)
    if options.compare:
        probe = await asyncpg.connect(settings.database_url)
        try:
            live = await probe.fetchval("SELECT to_regclass($1)", f"{options.live_schema}.cases")
        finally:
            await probe.close()
        if live is None:
            raise ReplayFailed(f"no live reporting schema {options.live_schema!r} to compare with")
    await migrate(settings.database_url, schema, role, settings.app_db_password, SQL_DIR)
    owner = await create_pool(settings.database_url, min_size=1, max_size=2)
    try:
        deferred = await prepare_for_load(owner, schema)
        edits = await _copy_calendar(owner, options.live_schema, schema, options.tenant)
        layout = await plan(settings.kafka_bootstrap_servers, options.topics)
        workers = _worker_count(options.workers, layout)
        result = ReplayResult(schema, options.keep, layout, workers)
        progress("total", layout.total)
        jobs = [
            Job(
                part,
                settings.kafka_bootstrap_servers,
                settings.app_url(schema),
                schema,
                options.tenant,
                edits,
                options.time_zone,
                now,
            )
            for part in layout.slices(workers)
        ]
        started = time.perf_counter()
        slices = await _run_workers(jobs, progress)
        result.rebuild_seconds = time.perf_counter() - started
        _check_disjoint(slices)
        for name, definition in deferred:
            if options.keep or (options.compare and name in COMPARE_INDEXES):
                await owner.execute(definition)
        result.events_read = sum(s.read for s in slices)
        result.events_stored = sum(s.stored for s in slices)
        result.requests = sum(len(s.requests) for s in slices)
        result.refusals = [r for s in slices for r in s.refusals]
        result.slices = list(slices)
        if options.compare:
            started = time.perf_counter()
            progress("tables", len(TABLES))
            async with owner.acquire() as conn:
                await compare(conn, options.live_schema, schema, options.tenant, result, progress)
            result.compare_seconds = time.perf_counter() - started
        return result
    finally:
        try:
            if not options.keep:
                await drop_schema(owner, schema, role)
        finally:
            await owner.close()


def _worker_count(wanted: int | None, layout: Plan) -> int:
    return max(1, min(wanted or layout.partition_count, layout.partition_count))


def _check_disjoint(slices: Sequence[SliceResult]) -> None:
    seen: set[str] = set()
    for s in slices:
        if both := seen & s.requests:
            raise ReplayFailed(
                f"request {min(both)} is in two partitions (keys not by request?): "
                "replay with one worker"
            )
        seen |= s.requests


async def _copy_calendar(
    owner: asyncpg.Pool, live: str, schema: str, tenant: str | None
) -> dict[str, list[DayEdit]]:
    """The live admin edits of the calendar, copied into the replay schema; by tenant."""
    if await owner.fetchval("SELECT to_regclass($1)", f"{live}.calendar_days") is not None:
        await owner.execute(
            f"INSERT INTO {schema}.calendar_days SELECT * FROM {live}.calendar_days "
            "WHERE $1::text IS NULL OR tenant = $1",
            tenant,
        )
    tenants = await owner.fetch(f"SELECT DISTINCT tenant FROM {schema}.calendar_days")
    return {
        r["tenant"]: [
            DayEdit(day=e.day, off=e.off, note=e.note)
            for e in await stored_edits(owner, schema, r["tenant"])
        ]
        for r in tenants
    }


LOAD_TABLES = ("case_events", "cases", "request_sla", "sla_rows", "notice_reads", "notices")
COMPARE_INDEXES = frozenset({"case_events_request", "notices_request"})
"""Secondary indexes the comparison reads by: built after the load (the others only if kept)."""


async def prepare_for_load(owner: asyncpg.Pool, schema: str) -> list[tuple[str, str]]:
    """Make the fresh schema cheap to fill: its tables UNLOGGED (a scratch copy: no WAL, not
    crash-safe), the case file stored uncompressed, and its secondary indexes dropped (building
    one after the load costs less than keeping it up to date during it). Returns the names and
    definitions of the dropped indexes."""
    for table in LOAD_TABLES:  # notice_reads first: it references notices
        await owner.execute(f"ALTER TABLE {schema}.{table} SET UNLOGGED")
    await owner.execute(f"ALTER TABLE {schema}.cases ALTER COLUMN casefile SET STORAGE EXTERNAL")
    rows = await owner.fetch(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = $1 "
        "AND i.tablename = ANY($2::text[]) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
        "WHERE c.connamespace = $1::regnamespace AND c.conname = i.indexname)",
        schema,
        list(LOAD_TABLES),
    )
    for row in rows:
        await owner.execute(f"DROP INDEX {schema}.{row['indexname']}")
    return [(row["indexname"], row["indexdef"]) for row in rows]


async def drop_schema(owner: asyncpg.Pool, schema: str, role: str) -> None:
    await owner.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    with suppress(asyncpg.UndefinedObjectError):
        await owner.execute(f'DROP ROLE IF EXISTS "{role}"')


# --- the comparison ----------------------------------------------------------------------------


def _open_request_sla(row: dict[str, Any]) -> dict[str, Any]:
    if row["outcome"] == "OPEN":
        row["lead_minutes"] = row["waiting_minutes"] = "(as of projection)"
    return row


def _open_sla_row(row: dict[str, Any]) -> dict[str, Any]:
    if row["finished_at"] is None:
        if row["status"] == "RUNNING_LATE":
            row["status"] = "RUNNING"
        body = dict(row["row"])
        body["status"] = row["status"]
        body["used_minutes"] = body["paused_minutes"] = "(as of projection)"
        body["pauses"] = [
            {**p, "minutes": "(as of projection)"} if p.get("ended_at") is None else p
            for p in body.get("pauses", [])
        ]
        row["row"] = body
    return row


@dataclass(frozen=True)
class _Table:
    name: str
    key: tuple[str, ...]
    columns: tuple[str, ...]
    normalise: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    """Python's normalisation of a fetched row (for the column-by-column report)."""
    sql: tuple[tuple[str, str], ...] = ()
    """The same normalisation in SQL: ``(column, expression)`` for the columns that need one
    (a JSON column is compared as ``jsonb``)."""

    def expressions(self) -> list[str]:
        given = dict(self.sql)
        return [f"{given.get(c, c)} AS {c}" for c in dict.fromkeys((*self.key, *self.columns))]


_AS_OF = "'(as of projection)'"
_STATUS = "CASE WHEN finished_at IS NULL AND status = 'RUNNING_LATE' THEN 'RUNNING' ELSE status END"
_OPEN_ROW = (
    "CASE WHEN finished_at IS NOT NULL THEN row::jsonb ELSE "
    f"row::jsonb || jsonb_build_object('status', {_STATUS}, 'used_minutes', {_AS_OF}, "
    f"'paused_minutes', {_AS_OF}, 'pauses', (SELECT coalesce(jsonb_agg(CASE WHEN "
    f"p->'ended_at' = 'null' THEN p || jsonb_build_object('minutes', {_AS_OF}) ELSE p END "
    "ORDER BY n), '[]'::jsonb) FROM jsonb_array_elements(row::jsonb->'pauses') "
    "WITH ORDINALITY AS x(p, n))) END"
)

TABLES = (
    _Table(
        "case_events",
        ("event_id",),
        ("request_id", "service", "event_type", "stream_version", "occurred_at", "envelope"),
        sql=(("envelope", "envelope::jsonb"),),
    ),
    _Table(
        "cases",
        ("request_id",),
        tuple(CASE_COLUMNS.split(", ")[1:]),
        sql=(("casefile", "casefile::jsonb"),),
    ),
    _Table(
        "request_sla",
        ("request_id",),
        tuple(REQUEST_SLA_COLUMNS.split(", ")[1:]),
        _open_request_sla,
        sql=tuple(
            (c, f"CASE WHEN outcome = 'OPEN' THEN {_AS_OF} ELSE {c}::text END")
            for c in ("lead_minutes", "waiting_minutes")
        ),
    ),
    _Table(
        "sla_rows",
        ("request_id", "step", "attempt"),
        tuple(SLA_ROW_COLUMNS.split(", ")[3:]),
        _open_sla_row,
        sql=(("status", _STATUS), ("row", _OPEN_ROW)),
    ),
    _Table(
        "notices",
        ("notice_id",),
        ("kind", "role", "opd", "user_id", "request_id", "step", "message", "event_id"),
    ),
)
"""What is compared; see the module's documentation for what is not, and why."""


async def _scope(conn: Connection, live: str, replayed: str, tenant: str | None) -> str:
    """A temporary table ``replay_scope`` of the request ids compared (with ``tenant``: its
    requests, live or replayed); returns the live side's filter."""
    if tenant is None:
        return ""
    await conn.execute(
        "CREATE TEMPORARY TABLE replay_scope ON COMMIT DROP AS "
        f"SELECT request_id FROM {live}.cases WHERE tenant = $1 UNION "
        f"SELECT request_id FROM {live}.case_events WHERE envelope->>'tenant' = $1 UNION "
        f"SELECT request_id FROM {replayed}.cases",
        tenant,
    )
    await conn.execute("ANALYZE replay_scope")
    return "WHERE request_id IN (SELECT request_id FROM replay_scope)"


async def compare(
    conn: Connection,
    live: str,
    replayed: str,
    tenant: str | None,
    result: ReplayResult,
    progress: Progress = _quiet,
) -> None:
    """Compare ``replayed`` with ``live`` (only ``tenant``'s requests if given) into ``result``.

    PostgreSQL finds the rows that differ (a full join of the two tables on their key, with the
    normalisations above); only the requests that have one are fetched and compared column by
    column (into JSON) to say what differs."""
    for table in TABLES:
        await conn.execute(f"ANALYZE {replayed}.{table.name}")
    async with conn.transaction(isolation="repeatable_read"):
        only = await _scope(conn, live, replayed, tenant)
        for table in TABLES:
            exprs = ", ".join(table.expressions())
            sides = f"WITH l AS (SELECT {exprs} FROM {live}.{table.name} {only}), "
            sides += f"r AS (SELECT {exprs} FROM {replayed}.{table.name}) "
            counted = await conn.fetchrow(
                sides + "SELECT (SELECT count(*) FROM l) AS l, (SELECT count(*) FROM r) AS r"
            )
            assert counted is not None
            on = " AND ".join(f"l.{k} = r.{k}" for k in table.key)
            left = ", ".join(f"l.{c}" for c in table.columns)
            right = ", ".join(f"r.{c}" for c in table.columns)
            differing = await conn.fetch(
                sides + "SELECT DISTINCT coalesce(l.request_id, r.request_id) AS request_id "
                f"FROM l FULL JOIN r ON {on} WHERE l.{table.key[0]} IS NULL OR "
                f"r.{table.key[0]} IS NULL OR ({left}) IS DISTINCT FROM ({right})"
            )
            rows = 0
            ids = sorted(r["request_id"] for r in differing)
            for start in range(0, len(ids), COMPARE_CHUNK):
                chunk = ids[start : start + COMPARE_CHUNK]
                pair = [await _rows(conn, schema, table, chunk) for schema in (live, replayed)]
                for first, difference in _diff_rows(table, *pair):
                    rows += first
                    result.difference_count += 1
                    if len(result.differences) < MAX_DIFFERENCES:
                        result.differences.append(difference)
            result.tables.append(TableSummary(table.name, counted["l"], counted["r"], rows))
            progress("compared", 1)


async def _rows(
    conn: Connection, schema: str, table: _Table, ids: list[str]
) -> dict[tuple[Any, ...], dict[str, Any]]:
    names = dict.fromkeys((*table.key, *table.columns))
    records = await conn.fetch(
        f"SELECT {', '.join(names)} FROM {schema}.{table.name} WHERE request_id = ANY($1::text[])",
        ids,
    )
    rows = {}
    for record in records:
        row = dict(record)
        if table.normalise is not None:
            row = table.normalise(row)
        rows[tuple(row[k] for k in table.key)] = row
    return rows


def _diff_rows(
    table: _Table,
    live: dict[tuple[Any, ...], dict[str, Any]],
    replayed: dict[tuple[Any, ...], dict[str, Any]],
) -> Iterator[tuple[int, Difference]]:
    """Each difference, with 1 for the first one of a row (to count differing rows)."""
    for key in sorted(live.keys() | replayed.keys(), key=lambda k: tuple(map(str, k))):
        left, right = live.get(key), replayed.get(key)
        label = "/".join(map(str, key))
        if left is None or right is None:
            row = left or right
            assert row is not None
            only = "only in the replay" if left is None else "only in the live schema"
            yield (
                1,
                Difference(
                    table.name,
                    label,
                    row["request_id"],
                    f"(row {only})",
                    "(absent)" if left is None else "(row)",
                    "(absent)" if right is None else "(row)",
                ),
            )
            continue
        first = 1
        for column in table.columns:
            for path, a, b in _diff_values(column, left[column], right[column]):
                yield first, Difference(table.name, label, left["request_id"], path, a, b)
                first = 0


def _diff_values(path: str, a: Any, b: Any) -> Iterator[tuple[str, Any, Any]]:
    """The places where ``a`` and ``b`` differ: into JSON objects and equal-length arrays."""
    if a == b:
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(a.keys() | b.keys()):
            yield from _diff_values(f"{path}.{k}", a.get(k, "(absent)"), b.get(k, "(absent)"))
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            yield from _diff_values(f"{path}[{i}]", x, y)
    elif a != b:
        yield path, a, b
