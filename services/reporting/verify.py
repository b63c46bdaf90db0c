"""Audit verification: every stream's hash chain walked from its first event, in every service's
event store and on Kafka, naming the first broken link (``python -m services.reporting.cli audit
verify``).

* **Event stores**: each service schema's ``events`` table is read with a cursor in ``(stream_id,
  stream_version)`` order, in one read-only snapshot, and each stream is checked with
  ``infra.eventstore.verify_chain``: versions 1, 2, 3, ... without a gap, each ``prev_hash`` the
  previous event's ``hash``, each ``hash`` SHA-256 over ``prev_hash`` and the canonical JSON of
  the event. A row that no longer reads as an envelope is a break too. Of a service's broken
  streams, the one whose break was written first (lowest ``position``) is named.
* **Kafka**: each topic is read from its first offset to its end; the records of one stream are
  its service's stream as published. A record published twice (the relay may re-publish after a
  crash) counts once if it is the same event, and is a break if the same event id comes with
  other content; the rest is checked as above. Of a topic's broken streams, the one whose broken
  record was appended first (record timestamp) is named.

Reading needs the owner connection (``DATABASE_URL``): the app roles see only their own schema.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from pydantic import ValidationError

from events.envelope import Envelope
from events.topics import SERVICES, topic_for
from infra.db import BATCH_STATEMENT_TIMEOUT_MS, Connection, create_pool
from infra.eventstore import verify_chain
from infra.eventstore.postgres import COLUMNS, row_to_envelope
from infra.kafka_history import plan, read_partitions
from infra.kafka_login import KafkaLogin

PREFETCH = 2000


@dataclass(frozen=True)
class Break:
    """The first broken link of one stream."""

    stream_id: str
    stream_version: int
    event_id: str
    reason: str
    where: str
    """``position N`` in an event store; ``topic[partition]@offset`` on Kafka."""


@dataclass
class ChainReport:
    """One event store or topic, walked whole."""

    source: str
    """``store <schema>`` or ``kafka <topic>``."""
    streams: int = 0
    events: int = 0
    broken_streams: int = 0
    first: Break | None = None
    missing: bool = False
    """The schema or topic does not exist (nothing to verify)."""
    _first_at: Any = field(default=None, repr=False)

    @property
    def intact(self) -> bool:
        return self.broken_streams == 0

    def add(self, broken: Break | None, order: Any) -> None:
        self.streams += 1
        if broken is None:
            return
        self.broken_streams += 1
        if self._first_at is None or order < self._first_at:
            self.first, self._first_at = broken, order


# --- event stores -------------------------------------------------------------------------------


def _check_rows(rows: list[asyncpg.Record]) -> tuple[Break | None, int]:
    """One stream's rows in version order: its first break (None if intact) and the break's
    position."""
    envelopes: list[Envelope] = []
    unreadable: tuple[asyncpg.Record, int] | None = None
    for row in rows:
        try:
            envelopes.append(row_to_envelope(row))
        except ValidationError as invalid:
            unreadable = (row, invalid.error_count())
            break
    link = verify_chain(envelopes)
    if link is not None:  # before any unreadable row
        row = next(r for r in rows if str(r["event_id"]) == link.event_id)
        broken = Break(
            link.stream_id,
            link.stream_version,
            link.event_id,
            link.reason,
            f"position {row['position']}",
        )
        return broken, row["position"]
    if unreadable is not None:
        row, errors = unreadable
        broken = Break(
            row["stream_id"],
            row["stream_version"],
            str(row["event_id"]),
            f"the row no longer reads as an event: {errors} error(s)",
            f"position {row['position']}",
        )
        return broken, row["position"]
    return None, 0


async def verify_store(conn: Connection, schema: str) -> ChainReport:
    """Every stream of ``schema.events`` (``conn`` must decode JSON, as ``infra.db`` pools do)."""
    report = ChainReport(f"store {schema}")
    if await conn.fetchval("SELECT to_regclass($1)", f"{schema}.events") is None:
        report.missing = True
        return report
    sql = f"SELECT position, {COLUMNS} FROM {schema}.events ORDER BY stream_id, stream_version"
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        stream: list[asyncpg.Record] = []
        async for row in conn.cursor(sql, prefetch=PREFETCH):
            if stream and row["stream_id"] != stream[0]["stream_id"]:
                report.add(*_check_rows(stream))
                stream = []
            stream.append(row)
            report.events += 1
        if stream:
            report.add(*_check_rows(stream))
    return report


# --- Kafka --------------------------------------------------------------------------------------


async def verify_topic(kafka: KafkaLogin, topic: str) -> ChainReport:
    """Every stream of ``topic``, as published (from the first offset to the end now)."""
    report = ChainReport(f"kafka {topic}")
    layout = await plan(kafka, [topic])
    if layout.missing_topics:
        report.missing = True
        return report
    streams: dict[str, dict[str, tuple[Envelope, Any]]] = {}
    unreadable: list[Any] = []

    def take(records: list[Any]) -> None:
        for record in records:
            try:
                envelope = Envelope.model_validate_json(record.value)
            except ValidationError:
                unreadable.append(record)
                continue
            report.events += 1
            seen = streams.setdefault(envelope.stream_id, {})
            kept = seen.get(str(envelope.event_id))
            if kept is None:
                seen[str(envelope.event_id)] = (envelope, record)
            elif kept[0] != envelope:  # the same event id with other content: keep both
                seen[f"{envelope.event_id}@{record.offset}"] = (envelope, record)

    await read_partitions(kafka, layout.partitions, take)
    for record in unreadable:
        key = record.key.decode(errors="replace") if record.key else "?"
        broken = Break(key, 0, "?", "not a valid envelope", _where(record))
        report.add(broken, (record.timestamp, record.partition, record.offset))
    for events in streams.values():
        ordered = sorted(events.values(), key=lambda pair: pair[0].stream_version)
        link = verify_chain(envelope for envelope, _ in ordered)
        if link is None:
            report.add(None, None)
            continue
        records = [r for e, r in ordered if str(e.event_id) == link.event_id]
        record = records[-1]
        if len(records) > 1:
            link = link._replace(reason="the same event id published with other content")
        report.add(
            Break(link.stream_id, link.stream_version, link.event_id, link.reason, _where(record)),
            (record.timestamp, record.partition, record.offset),
        )
    return report


def _where(record: Any) -> str:
    return f"{record.topic}[{record.partition}]@{record.offset}"


# --- all of it ----------------------------------------------------------------------------------


async def verify_all(
    database_url: str,
    kafka: KafkaLogin | None,
    schemas: Sequence[str] = SERVICES,
    topics: Sequence[str] | None = None,
) -> list[ChainReport]:
    """Every schema's event store, then (unless ``kafka`` is None, as that login) every topic."""
    reports = []
    pool = await create_pool(
        database_url, min_size=1, max_size=1, statement_timeout_ms=BATCH_STATEMENT_TIMEOUT_MS
    )
    try:
        async with pool.acquire() as conn:
            for schema in schemas:
                reports.append(await verify_store(conn, schema))
    finally:
        await pool.close()
    if kafka is not None:
        for topic in topics if topics is not None else [topic_for(s) for s in SERVICES]:
            reports.append(await verify_topic(kafka, topic))
    return reports
