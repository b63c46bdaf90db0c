"""Signed checkpoints (issue 17 item 5) on the real PostgreSQL and Kafka: a relay leader signs
checkpoints of its store's stream heads, on its topic and in its file; ``jejak audit verify``
then catches what the hash chain alone does not: a stream rewritten with recomputed hashes (in
the store, or in the store and on Kafka alike), a cut tail, a checkpoint signed with another
key. An intact system verifies."""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from bench.chaos.checks import audit
from bench.relay import delete_topic
from devstack.stack import Endpoints
from events.checkpoint import (
    CHECKPOINT_HEADER,
    CHECKPOINT_HEADER_VALUE,
    CHECKPOINT_KEY,
    Checkpoint,
    Head,
)
from events.envelope import GENESIS_HASH
from events.merkle import heads_root
from events.topics import topic_for
from infra.checkpoint_keys import (
    Signer,
    development_key,
    development_public_keys,
    signature_valid,
)
from infra.checkpoints import Checkpointer
from infra.eventstore import PostgresEventStore
from infra.eventstore.contract import seal_all
from infra.kafka import ensure_topics, reliable_producer
from infra.kafka_acl import ADMIN
from infra.relay import OutboxRelay
from infra.runtime import ServiceRuntime
from infra.settings import Settings
from services.reporting.checkpoint_audit import CheckpointReport
from services.reporting.verify import (
    audit_checkpoints,
    shipped_checkpoints,
    verify_all,
    verify_topic,
)
from tests.contract.eventstore_contract import new_event
from tests.kafka_helpers import eventually, from_the_start

STREAMS = {"stream-a": 3, "stream-b": 4, "stream-c": 2}


@dataclass
class Signed:
    """A store whose events a relay published and checkpointed (then stopped)."""

    settings: Settings
    schema: str
    topic: str
    file: Path
    owner: asyncpg.Connection
    pool: asyncpg.Pool

    async def check(self, topic: str | None = None, shipped: bool = False) -> CheckpointReport:
        [store] = await verify_all(self.settings.database_url, None, [self.schema])
        on_kafka = await verify_topic(self.settings.kafka_login(ADMIN), topic or self.topic)
        assert store.intact and on_kafka.intact  # every chain verifies on its own
        files = shipped_checkpoints([self.file])[0] if shipped else []
        keys = development_public_keys([self.schema])[self.schema]
        return audit_checkpoints(self.schema, store, on_kafka, keys, files)

    async def rewrite(self, stream_id: str) -> None:
        """Rewrite a whole stream as the database's owner would, hashes recomputed."""
        rows = await self.owner.fetch(
            f"SELECT event_id, stream_version FROM {self.schema}.events WHERE stream_id = $1 "
            "ORDER BY stream_version",
            stream_id,
        )
        forged = seal_all(stream_id, 0, GENESIS_HASH, [new_event(99) for _ in rows])
        for row, envelope in zip(rows, forged, strict=True):
            await self.owner.execute(
                f"UPDATE {self.schema}.events SET payload = $2::json, prev_hash = $3, hash = $4, "
                "event_id = $5, correlation_id = $6, occurred_at = $7 WHERE event_id = $1",
                row["event_id"],
                json.dumps(envelope.payload),
                envelope.prev_hash,
                envelope.hash,
                envelope.event_id,
                envelope.correlation_id,
                envelope.occurred_at,
            )


@pytest.fixture
async def signed(
    owner_settings: Settings,
    schema: str,
    app_pool: asyncpg.Pool,
    owner_conn: asyncpg.Connection,
    tmp_path: Path,
) -> AsyncIterator[Signed]:
    store = PostgresEventStore(app_pool, schema)
    topic = f"jejak.{schema}.events"  # the auditor reads jejak.* (infra.kafka_acl)
    await ensure_topics(owner_settings.kafka_login(ADMIN), [topic])
    producer = reliable_producer(owner_settings.kafka_login(ADMIN), "checkpoint-test")
    await producer.start()
    file = tmp_path / f"{schema}.jsonl"
    checkpointer = Checkpointer(
        store,
        schema,
        producer,
        topic,
        Signer(development_key(schema)),
        file,
        every_events=4,
        interval=timedelta(seconds=0.3),
        poll_seconds=0.05,
    )
    relay = OutboxRelay(store, producer, topic, idle_seconds=0.01, checkpointer=checkpointer)
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run(stop))
    try:
        for stream, count in STREAMS.items():
            for n in range(count):  # one append each: several checkpoints, each a few heads
                await store.append(stream, n, [new_event(n)])

        async def all_signed() -> bool:
            body = await app_pool.fetchval(
                f"SELECT body FROM {schema}.checkpoints WHERE published_at IS NOT NULL "
                "ORDER BY sequence DESC LIMIT 1"
            )
            return body is not None and Checkpoint.model_validate_json(body).events == 9

        assert await eventually(all_signed, timeout=60)
    finally:
        stop.set()
        await running
        await producer.stop()
    try:
        yield Signed(owner_settings, schema, topic, file, owner_conn, app_pool)
    finally:
        await delete_topic(owner_settings.kafka_login(ADMIN), topic)


async def test_an_intact_system_verifies_against_its_signed_checkpoints(signed: Signed) -> None:
    report = await signed.check(shipped=True)
    assert report.findings == []
    assert (report.streams, report.events) == (3, 9)
    assert report.last is not None and report.last >= 3  # 9 events, at most 4 a checkpoint
    lines = [Checkpoint.model_validate_json(line) for line in signed.file.read_text().split()]
    assert [c.sequence for c in lines] == list(range(1, report.last + 1))
    assert lines[-1].root == report_root(lines)
    # the checkpoint records are no events: the topic's chains count 9 events, none unreadable
    on_kafka = await verify_topic(signed.settings.kafka_login(ADMIN), signed.topic)
    assert (on_kafka.events, on_kafka.streams, on_kafka.broken_streams) == (9, 3, 0)

    code, out = await _cli(signed, "verify", "--schema", signed.schema, "--topic", signed.topic)
    assert code == 0, out


def report_root(checkpoints: list[Checkpoint]) -> str:
    heads: dict[str, tuple[int, str]] = {}
    for checkpoint in checkpoints:
        heads |= {h.stream_id: (h.version, h.hash) for h in checkpoint.heads}
    return heads_root(heads)


async def test_a_stream_rewritten_with_recomputed_hashes_is_caught(signed: Signed) -> None:
    await signed.rewrite("stream-b")
    report = await signed.check()
    kinds = {(f.kind, f.stream_id) for f in report.findings}
    assert kinds == {("rewritten", "stream-b")}
    sources = " ".join(f.message for f in report.findings)
    assert f"penyimpanan peristiwa {signed.schema}: stream stream-b versi 4" in sources
    assert "ditulis ulang" in sources
    assert f"di Kafka {signed.topic} berbeda" in sources  # the store no longer equals Kafka

    code, out = await _cli(signed, "verify", "--schema", signed.schema, "--topic", signed.topic)
    assert code == 1, out
    assert "stream stream-b versi 4 berbeda dari yang ditandatangani" in out


async def test_a_rewrite_in_the_store_and_on_kafka_alike_is_caught(signed: Signed) -> None:
    """Whoever holds the database and Kafka rewrites a stream in both, consistently: the chains
    verify and the store equals Kafka, but not the signed checkpoints."""
    await signed.rewrite("stream-c")
    copy = f"{signed.topic}.copy"
    await ensure_topics(signed.settings.kafka_login(ADMIN), [copy])
    rows = await signed.owner.fetch(
        f"SELECT stream_id, stream_version FROM {signed.schema}.events ORDER BY position"
    )
    store = PostgresEventStore(signed.pool, signed.schema)
    producer = AIOKafkaProducer(**signed.settings.kafka_login(ADMIN).options())
    await producer.start()
    try:
        for stream in {r["stream_id"] for r in rows}:
            for envelope in await store.read_stream(stream):
                await producer.send_and_wait(
                    copy, envelope.model_dump_json().encode(), key=stream.encode()
                )
        for record in await _checkpoint_records(signed):
            await producer.send_and_wait(
                copy, record.value, key=record.key, headers=list(record.headers)
            )
        report = await signed.check(topic=copy)
    finally:
        await producer.stop()
        await delete_topic(signed.settings.kafka_login(ADMIN), copy)
    found = sorted((f.kind, f.stream_id, f.message.split(":")[0]) for f in report.findings)
    assert found == [
        ("rewritten", "stream-c", f"Kafka {copy}"),
        ("rewritten", "stream-c", f"penyimpanan peristiwa {signed.schema}"),
    ]


async def test_a_truncated_tail_is_caught(signed: Signed) -> None:
    await signed.owner.execute(
        f"DELETE FROM {signed.schema}.events WHERE stream_id = 'stream-a' AND stream_version = 3"
    )
    report = await signed.check()
    [finding] = [f for f in report.findings if f.message.startswith("penyimpanan")]
    assert (finding.kind, finding.stream_id) == ("truncated", "stream-a")
    assert "ditandatangani sampai versi 3" in finding.message
    assert "hanya ada sampai versi 2" in finding.message
    assert "ekornya dipotong" in finding.message


async def test_a_checkpoint_signed_with_another_key_is_refused(signed: Signed) -> None:
    """An attacker rewrites a stream and signs a new checkpoint over it with a key of its own
    (here another service's): the checkpoint is refused, and the rewrite still caught."""
    await signed.rewrite("stream-a")
    last = await _last(signed)
    a = await signed.owner.fetchval(
        f"SELECT hash FROM {signed.schema}.events WHERE stream_id = 'stream-a' "
        "AND stream_version = 3"
    )
    forged = Signer(development_key("intake")).sign(
        last.model_copy(
            update={
                "sequence": last.sequence + 1,
                "previous": last.digest(),
                "heads": (Head(stream_id="stream-a", version=3, hash=a),),
            }
        )
    )
    producer = AIOKafkaProducer(**signed.settings.kafka_login(ADMIN).options())
    await producer.start()
    try:
        await producer.send_and_wait(
            signed.topic,
            forged.model_dump_json().encode(),
            key=CHECKPOINT_KEY,
            headers=[(CHECKPOINT_HEADER, CHECKPOINT_HEADER_VALUE)],
        )
    finally:
        await producer.stop()
    report = await signed.check()
    kinds = sorted((f.kind, f.stream_id) for f in report.findings)
    assert ("forged", None) in kinds and ("rewritten", "stream-a") in kinds
    [refused] = [f for f in report.findings if f.kind == "forged"]
    assert f"checkpoint nomor {forged.sequence}" in refused.message
    assert f"kunci {forged.key_id}" in refused.message
    assert report.last == last.sequence  # the forged one counts for nothing


async def _last(signed: Signed) -> Checkpoint:
    body = await signed.owner.fetchval(
        f"SELECT body FROM {signed.schema}.checkpoints ORDER BY sequence DESC LIMIT 1"
    )
    return Checkpoint.model_validate_json(body)


async def _checkpoint_records(signed: Signed) -> list:  # type: ignore[type-arg]
    records = await _records_of(signed.settings, signed.topic)
    assert records
    return records


async def _records_of(settings: Settings, topic: str) -> list:  # type: ignore[type-arg]
    """The checkpoint records of ``topic``."""
    consumer = from_the_start(settings.kafka_login(ADMIN), topic)
    await consumer.start()
    records = []
    try:
        while batch := await consumer.getmany(timeout_ms=2000, max_records=1000):
            for partition in batch.values():
                records.extend(r for r in partition if r.key == CHECKPOINT_KEY)
    finally:
        await consumer.stop()
    return records


async def _cli(signed: Signed, *args: str) -> tuple[int, str]:
    endpoints = Endpoints(signed.settings.kafka_bootstrap_servers, signed.settings.database_url)
    return await audit(endpoints, *args, timeout=240)


async def test_a_service_signs_checkpoints_of_its_store_as_it_runs(
    settings: Settings, tmp_path: Path
) -> None:
    """The wiring: a service's runtime (its relay's leader) signs with the service's key into
    its checkpoint file and onto its topic."""
    configured = settings.model_copy(
        update={
            "checkpoint_interval_seconds": 0.2,
            "checkpoint_file": str(tmp_path / "{service}.jsonl"),
        }
    )
    runtime = ServiceRuntime("eoffice", configured)
    stream = f"checkpoint-test-{uuid.uuid4()}"
    file = tmp_path / "eoffice.jsonl"

    async def covered() -> Checkpoint | None:
        lines = file.read_text().splitlines() if file.exists() else []
        for line in reversed(lines):
            checkpoint = Checkpoint.model_validate_json(line)
            if any(h.stream_id == stream for h in checkpoint.heads):
                return checkpoint
        return None

    async with runtime.running():
        [sealed] = await runtime.store.append(stream, 0, [new_event(1)])
        assert await eventually(covered, timeout=60)
    checkpoint = await covered()
    assert checkpoint is not None and checkpoint.service == "eoffice"
    assert signature_valid(checkpoint, development_public_keys(["eoffice"])["eoffice"])
    assert Head(stream_id=stream, version=1, hash=sealed.hash) in checkpoint.heads
    records = await _records_of(settings, topic_for("eoffice"))
    assert checkpoint.model_dump_json().encode() in {r.value for r in records}
