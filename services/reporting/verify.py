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
* **Signed checkpoints**: both walks also keep every version's hash of every stream (and the
  store which of them the relay had published; the topic its checkpoint records, which are no
  events), so that ``audit_checkpoints`` can check a service's store and topic against its
  signed checkpoints and against each other (``services.reporting.checkpoint_audit``).

Reading needs ``DATABASE_URL`` of a role that reads every service's events: the inspectors'
read-only ``jejak_auditor`` (``infra.auditor_role``), or the owner; an app role sees only its own
schema.
"""

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import ValidationError

from events.checkpoint import Checkpoint, is_checkpoint
from events.envelope import Envelope
from events.topics import SERVICES, topic_for
from infra.db import BATCH_STATEMENT_TIMEOUT_MS, Connection, create_pool
from infra.eventstore import verify_chain
from infra.eventstore.postgres import COLUMNS, row_to_envelope
from infra.kafka_history import plan, read_partitions
from infra.kafka_login import KafkaLogin
from services.reporting.checkpoint_audit import (
    CheckpointReport,
    Finding,
    Found,
    Heads,
    audit,
)

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
    _heads: Heads = field(default_factory=lambda: Heads(""), repr=False)
    """Every version's hash of every stream, for the checkpoints' audit."""
    _published: dict[str, int] = field(default_factory=dict, repr=False)
    """A store's: each stream's last version the relay had published."""
    _checkpoints: list[Found] = field(default_factory=list, repr=False)
    """A topic's signed checkpoints."""
    _unreadable: list[Finding] = field(default_factory=list, repr=False)
    """A topic's checkpoint records that do not read as checkpoints."""

    def public(self) -> dict[str, Any]:
        """The report without its collections (for ``--json``)."""
        body = {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if not f.name.startswith("_")
        }
        body["first"] = dataclasses.asdict(self.first) if self.first else None
        return body

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
    report = ChainReport(f"store {schema}", _heads=Heads(f"penyimpanan peristiwa {schema}"))
    if await conn.fetchval("SELECT to_regclass($1)", f"{schema}.events") is None:
        report.missing = True
        return report
    sql = (
        f"SELECT position, txid::text::bigint AS txid_n, {COLUMNS} FROM {schema}.events "
        "ORDER BY stream_id, stream_version"
    )
    heads, published = report._heads, report._published
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        relayed = await conn.fetchrow(
            f"SELECT txid::text::bigint AS txid, position FROM {schema}.relay_position"
        )
        relay = (relayed["txid"], relayed["position"]) if relayed else (0, 0)
        stream: list[asyncpg.Record] = []
        async for row in conn.cursor(sql, prefetch=PREFETCH):
            if stream and row["stream_id"] != stream[0]["stream_id"]:
                report.add(*_check_rows(stream))
                stream = []
            stream.append(row)
            report.events += 1
            heads.add(row["stream_id"], row["stream_version"], row["hash"])
            if (row["txid_n"], row["position"]) <= relay:
                published[row["stream_id"]] = row["stream_version"]
        if stream:
            report.add(*_check_rows(stream))
    return report


# --- Kafka --------------------------------------------------------------------------------------


async def verify_topic(kafka: KafkaLogin, topic: str) -> ChainReport:
    """Every stream of ``topic``, as published (from the first offset to the end now)."""
    report = ChainReport(f"kafka {topic}", _heads=Heads(f"Kafka {topic}"))
    layout = await plan(kafka, [topic])
    if layout.missing_topics:
        report.missing = True
        return report
    streams: dict[str, dict[str, tuple[Envelope, Any]]] = {}
    unreadable: list[Any] = []

    def take(records: list[Any]) -> None:
        for record in records:
            if is_checkpoint(record.headers):
                _take_checkpoint(report, record)
                continue
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
        for envelope, _ in ordered:
            report._heads.add(envelope.stream_id, envelope.stream_version, envelope.hash)
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


def _take_checkpoint(report: ChainReport, record: Any) -> None:
    where = f"Kafka {_where(record)}"
    try:
        report._checkpoints.append(Found(Checkpoint.model_validate_json(record.value), where))
    except ValidationError:
        report._unreadable.append(
            Finding("unreadable", f"catatan checkpoint di {where} tidak terbaca sebagai checkpoint")
        )


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


# --- signed checkpoints -------------------------------------------------------------------------


def audit_checkpoints(
    service: str,
    store: ChainReport,
    topic: ChainReport,
    keys: Mapping[str, Ed25519PublicKey],
    shipped: Sequence[Found] = (),
) -> CheckpointReport:
    """``service``'s checkpoints (on ``topic`` and ``shipped``) against its store and topic, as
    ``verify_store`` and ``verify_topic`` read them (``services.reporting.checkpoint_audit``)."""
    mine = [f for f in shipped if f.checkpoint.service == service]
    report = audit(
        service, topic._checkpoints, keys, [store._heads, topic._heads], store._published, mine
    )
    report.findings[:0] = topic._unreadable
    return report


def shipped_checkpoints(paths: Sequence[Path]) -> tuple[list[Found], list[Finding]]:
    """The checkpoints of checkpoint files (one JSON a line), and the lines that are none."""
    found, unreadable = [], []
    for path in paths:
        for n, line in enumerate(path.read_text().splitlines(), start=1):
            if not line.strip():
                continue
            try:
                found.append(Found(Checkpoint.model_validate_json(line), f"berkas {path}:{n}"))
            except ValidationError:
                unreadable.append(
                    Finding("unreadable", f"baris {n} berkas {path} bukan checkpoint")
                )
    return found, unreadable
