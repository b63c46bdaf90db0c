"""Audit replay: every reporting read model rebuilt from Kafka offset 0 into a fresh schema, then
compared with the live schema table by table (``python -m services.reporting.cli audit replay``).

A fresh schema (``reporting_replay_<UTC time>_<random>``, with its own app role) is migrated
with reporting's SQL. The admin's calendar edits (``calendar_days``) are copied from the live
schema: they are input, not derived from events. Then every topic reporting consumes is read
from its first offset up to the end offsets taken when the replay starts
(``infra.kafka_history``), by one worker process per partition number (``replay_worker``),
each projecting request by request with the projection's own code (``replay_rebuild``) and
COPYing the rows. The fresh schema is
filled UNLOGGED (a scratch copy) and without keys or indexes; its keys are built afterwards
(which checks that no row was written twice), its secondary indexes when they are needed. Then
it is compared with the live schema (``replay_compare``) and dropped, unless kept.
"""

import asyncio
import datetime as dt
import secrets
import time
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field

import asyncpg

from events.envelope import utc_now
from events.topics import topics_consumed_by
from infra.db import BATCH_STATEMENT_TIMEOUT_MS, create_pool
from infra.kafka_acl import AUDITOR
from infra.kafka_history import Plan, plan
from infra.migrations import migrate
from infra.settings import Settings
from services.reporting import SQL_DIR
from services.reporting.calendar_store import DayEdit, stored_edits
from services.reporting.replay_compare import TABLES, Difference, TableSummary, compare
from services.reporting.replay_progress import Progress, quiet
from services.reporting.replay_rebuild import Refusal
from services.reporting.replay_worker import Job, ReplayFailed, SliceResult, run_workers

LIVE_SCHEMA = "reporting"


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
        """Events per second, from the first read to the last key built."""
        return self.events_read / self.rebuild_seconds if self.rebuild_seconds else 0.0

    @property
    def identical(self) -> bool:
        return self.difference_count == 0 and not self.plan.lost


def replay_schema_name(now: dt.datetime) -> str:
    return f"reporting_replay_{now:%Y%m%d%H%M%S}_{secrets.token_hex(2)}"


async def replay(
    settings: Settings, options: ReplayOptions, progress: Progress = quiet
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
    owner = await create_pool(
        settings.database_url,
        min_size=1,
        max_size=len(LOAD_TABLES),
        statement_timeout_ms=BATCH_STATEMENT_TIMEOUT_MS,
    )
    try:
        deferred = await prepare_for_load(owner, schema)
        edits = await _copy_calendar(owner, options.live_schema, schema, options.tenant)
        layout = await plan(settings.kafka_login(AUDITOR), options.topics)
        workers = _worker_count(options.workers, layout)
        result = ReplayResult(schema, options.keep, layout, workers)
        progress("total", layout.total)
        jobs = [
            Job(
                part,
                settings.kafka_login(AUDITOR),
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
        slices = await run_workers(jobs, progress)
        _check_disjoint(slices)
        await build_keys(owner, deferred)
        result.rebuild_seconds = time.perf_counter() - started
        for name, definition in deferred.indexes:
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
                found = await compare(conn, options.live_schema, schema, options.tenant, progress)
            result.tables, result.differences = found.tables, found.differences
            result.difference_count = found.difference_count
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


@dataclass(frozen=True)
class Deferred:
    """What the fresh schema is filled without, to be built after the load."""

    keys: tuple[str, ...]
    """One ``ALTER TABLE ... ADD CONSTRAINT`` per table: its primary key and unique keys."""
    references: tuple[str, ...]
    """``ALTER TABLE ... ADD CONSTRAINT`` of each foreign key (after the keys it refers to)."""
    indexes: tuple[tuple[str, str], ...]
    """The name and definition of each secondary index."""


async def prepare_for_load(owner: asyncpg.Pool, schema: str) -> Deferred:
    """Make the fresh schema cheap to fill: its tables UNLOGGED (a scratch copy: no WAL, not
    crash-safe), the case file stored uncompressed, and its keys, foreign keys and secondary
    indexes dropped (building one after the load costs less than keeping it up to date during
    it, as PostgreSQL's "Populating a Database" advises). Returns what to build again."""
    for table in LOAD_TABLES:  # notice_reads first: it references notices
        await owner.execute(f"ALTER TABLE {schema}.{table} SET UNLOGGED")
    await owner.execute(f"ALTER TABLE {schema}.cases ALTER COLUMN casefile SET STORAGE EXTERNAL")
    tables = [f"{schema}.{table}" for table in LOAD_TABLES]
    indexes = await owner.fetch(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = $1 "
        "AND i.tablename = ANY($2::text[]) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
        "WHERE c.connamespace = $1::regnamespace AND c.conname = i.indexname)",
        schema,
        list(LOAD_TABLES),
    )
    for row in indexes:
        await owner.execute(f"DROP INDEX {schema}.{row['indexname']}")
    constraints = await owner.fetch(
        "SELECT conrelid::regclass::text AS tab, conname, contype = 'f' AS refers, "
        "pg_get_constraintdef(oid) AS definition FROM pg_constraint "
        "WHERE conrelid = ANY($1::regclass[]) AND contype IN ('p', 'u', 'f') "
        "ORDER BY contype = 'f' DESC, conname",
        tables,
    )
    for row in constraints:  # the foreign keys first: they need the keys they refer to
        await owner.execute(f"ALTER TABLE {row['tab']} DROP CONSTRAINT {row['conname']}")
    keys: dict[str, list[str]] = {}
    references = []
    for row in constraints:
        add = f"ADD CONSTRAINT {row['conname']} {row['definition']}"
        if row["refers"]:
            references.append(f"ALTER TABLE {row['tab']} {add}")
        else:
            keys.setdefault(row["tab"], []).append(add)
    return Deferred(
        keys=tuple(f"ALTER TABLE {table} {', '.join(adds)}" for table, adds in keys.items()),
        references=tuple(references),
        indexes=tuple((row["indexname"], row["indexdef"]) for row in indexes),
    )


async def build_keys(owner: asyncpg.Pool, deferred: Deferred) -> None:
    """Build the keys again, table by table on the pool's connections, then the foreign keys.
    A key holds only if the replay wrote every row once: two rows with one key fail the replay,
    naming the key."""

    async def build(statement: str) -> None:
        try:
            await owner.execute(statement)
        except asyncpg.UniqueViolationError as error:
            raise ReplayFailed(f"the replay wrote two rows with one key: {error.detail}") from None

    await asyncio.gather(*(build(statement) for statement in deferred.keys))
    for statement in deferred.references:
        await build(statement)


async def drop_schema(owner: asyncpg.Pool, schema: str, role: str) -> None:
    await owner.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    with suppress(asyncpg.UndefinedObjectError):
        await owner.execute(f'DROP ROLE IF EXISTS "{role}"')
