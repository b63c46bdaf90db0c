"""One audit replay worker: read a slice of the topics, project every request in it, COPY the
rows (``run_slice``), and the worker processes (``run_workers``).

Kafka keys records by request, so one request's events are in the same partition
number of every topic with the same partition count. The replay runs one worker process per
partition number (forked: everything is imported already), each reading that partition of those
topics (and its own requests' records of a topic with another partition count) with batched
``getmany``, grouping the raw records by request, then parsing and projecting request by request
and COPYing the rows while it projects the next ones; a request seen by two workers is an error
(run with ``workers=1``). Python's cyclic garbage collector is off in the workers (it would walk
the held records again and again for nothing); the calendar arithmetic is done by
``FastCalendar``, which gives ``WorkingCalendar``'s answers without walking long spans day by day.
"""

import asyncio
import datetime as dt
import gc
import multiprocessing
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from queue import Empty
from typing import Any

import asyncpg
from pydantic import ValidationError

from events.checkpoint import is_checkpoint
from events.envelope import Envelope
from infra.consumer import NOT_AN_ENVELOPE, Delivered
from infra.db import Connection
from infra.kafka_history import Slice, read_partitions
from infra.kafka_login import KafkaLogin
from services.reporting.calendar import WorkingCalendar
from services.reporting.calendar_fast import FastCalendar
from services.reporting.calendar_store import DayEdit, base_calendar, with_edits
from services.reporting.notifications import (
    NOTICE_COLUMNS,
    notice_values,
)
from services.reporting.projector import (
    CASE_COLUMNS,
    CASE_EVENT_COLUMNS,
    REQUEST_SLA_COLUMNS,
    SLA_ROW_COLUMNS,
    case_event_values,
    case_values,
    request_sla_values,
    sla_row_values,
)
from services.reporting.replay_progress import Progress, quiet
from services.reporting.replay_rebuild import Rebuilt, Refusal, rebuild, refused

FLUSH_EVENTS = 8000
"""Projected events buffered before a COPY."""

_PG_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)


async def copying_connection(url: str) -> asyncpg.Connection:
    """A connection for a worker's COPYs: without a JSON codec (the rows carry JSON text), and
    with ``timestamptz`` in asyncpg's "tuple" format, microseconds since PostgreSQL's epoch
    worked out here. The COPYs encode about three instants per event; asyncpg's own encoder
    compares each with infinity and converts it to UTC first, twice the CPU."""
    conn = await asyncpg.connect(url)
    await conn.set_type_codec(
        "timestamptz",
        schema="pg_catalog",
        encoder=_pg_timestamp,
        decoder=_from_pg_timestamp,
        format="tuple",
    )
    return conn


def _pg_timestamp(instant: dt.datetime) -> tuple[int]:
    return ((instant - _PG_EPOCH) // _MICROSECOND,)


def _from_pg_timestamp(value: tuple[int]) -> dt.datetime:
    return _PG_EPOCH + value[0] * _MICROSECOND


@dataclass(frozen=True)
class Job:
    slice: Slice
    kafka: KafkaLogin
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


class RowWriter:
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


async def run_slice(job: Job, progress: Progress = quiet) -> SliceResult:
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


def envelopes_of(records: list[Any], request_id: str, result: SliceResult) -> list[Delivered]:
    """The records' envelopes (a record that is not one is refused)."""
    found = []
    for record in records:
        try:
            delivered = Delivered.of(record.value)
        except NOT_AN_ENVELOPE as error:
            reason = f"not a valid envelope: {_what_is_wrong(error)}"
            result.refusals.append(Refusal(reason, where=_where(record)))
            continue
        if delivered.envelope.stream_id != request_id:  # a payload that fooled key_of
            result.refusals.append(refused(delivered.envelope, f"keyed as stream {request_id}"))
            continue
        found.append(delivered)
    return found


def _what_is_wrong(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return f"{error.error_count()} error(s)"
    return "not UTF-8"


def key_of(record: Any) -> bytes | None:
    """The stream id of the record's envelope: its Kafka key when the envelope names it as its
    stream (the relay keys by stream id and writes compact JSON), else read from the envelope;
    None if it is not one. ``envelopes_of`` checks the envelope's own stream id afterwards."""
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
            if is_checkpoint(record.headers):
                continue  # a signed checkpoint, no event: the live consumers skip it too
            key = key_of(record)
            if key is None:
                unreadable.append(record)
            else:
                arrivals.setdefault(key, []).append(record)
        result.read += len(records)
        progress("read", len(records))

    def take_mine(records: list[Any]) -> None:
        mine = []
        for record in records:
            key = key_of(record)
            if (key is None and job.slice.index == 0) or (key and job.slice.mine(key)):
                mine.append(record)
        take(mine)

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(
        read_partitions(job.kafka, job.slice.own, take),
        read_partitions(job.kafka, job.slice.shared, take_mine),
    )
    result.seconds["read"] = time.perf_counter() - started
    envelopes_of(unreadable, "", result)
    progress("projected", len(unreadable))
    calendars: dict[str, WorkingCalendar] = {}

    def calendar_of(tenant: str) -> WorkingCalendar:
        if tenant not in calendars:
            edited = with_edits(base_calendar(job.time_zone), job.edits.get(tenant, []))
            calendars[tenant] = FastCalendar.of(edited)
        return calendars[tenant]

    conn = await copying_connection(job.app_url)
    try:
        writer = RowWriter(conn, job.schema, job.now)
        done = 0
        for n, (key, records) in enumerate(arrivals.items()):
            request_id = key.decode()
            delivered = envelopes_of(records, request_id, result)
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


def work_in_process(job: Job, queue: "multiprocessing.Queue[Any]") -> None:
    """A worker process's body: ``run_slice``, reporting through ``queue``."""

    def progress(kind: str, count: int) -> None:
        queue.put((kind, job.slice.index, count))

    try:
        result = asyncio.run(run_slice(job, progress))
    except BaseException:  # reported to the parent, which fails the replay
        queue.put(("failed", job.slice.index, traceback.format_exc()))
    else:
        queue.put(("done", job.slice.index, result))


async def run_workers(jobs: Sequence[Job], progress: Progress) -> list[SliceResult]:
    """One process per job (forked: everything is imported already), or this one for one job."""
    if len(jobs) == 1:
        return [await run_slice(jobs[0], progress)]
    context = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[Any] = context.Queue()
    processes = [
        context.Process(target=work_in_process, args=(job, queue), name=f"replay-{job.slice.index}")
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
