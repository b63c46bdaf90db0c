"""What must hold once the system has settled after the kills: every request at its flow's
last step; per request, each event type on the topics exactly as often as the flow caused it;
every stream on every topic versioned 1..n with one event per version; every hash chain intact
(``jejak audit verify``) and the read models equal to their replay (``jejak audit replay``)."""

import asyncio
import json
import os
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from devstack.stack import Endpoints
from events.checkpoint import is_checkpoint
from events.topics import SERVICES, topic_for
from infra.kafka_acl import AUDITOR
from infra.kafka_login import KafkaLogin
from tests.e2e.sop import EXPECTED_EVENTS
from tests.kafka_helpers import from_the_start

ROOT = Path(__file__).resolve().parents[2]

PER_REQUEST: dict[str, Counter[str]] = {
    **{service: Counter(types) for service, types in EXPECTED_EVENTS.items()},
    "documents": Counter({"DocumentIssued": 13}),
    "reporting": Counter({"CaseStatusChanged": 17}),
}
"""Each topic's events per walked request (``tests.e2e.sop.walk_through_all_14_steps``), by
type: the commands' own, a document for each of the 13 steps' events that an office files
(``docs/documents.md``), and reporting's 17 status changes of the case."""


async def read_all(kafka: KafkaLogin, topic: str) -> list[dict[str, Any]]:
    """Every envelope on ``topic``, from offset 0 to its end as of now."""
    consumer = from_the_start(kafka, topic)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        ends = await consumer.end_offsets(partitions)
        reached = {tp: 0 for tp in partitions}
        found: list[dict[str, Any]] = []
        while any(reached[tp] < ends[tp] for tp in partitions):
            batch = await consumer.getmany(timeout_ms=1000, max_records=5000)
            for tp, records in batch.items():
                found.extend(
                    json.loads(r.value)
                    for r in records
                    if r.value and not is_checkpoint(r.headers)  # no event
                )
                reached[tp] = records[-1].offset + 1 if records else reached[tp]
        return found
    finally:
        await consumer.stop()


async def lag(kafka: KafkaLogin) -> int:
    """How many records every consumer group has yet to commit, over all its partitions."""
    admin = AIOKafkaAdminClient(**kafka.options())
    consumer = AIOKafkaConsumer(**kafka.options(), group_id=None)
    await admin.start()
    await consumer.start()
    try:
        behind = 0
        for group, *_ in await admin.list_consumer_groups():
            committed = await admin.list_consumer_group_offsets(group)
            ends = await consumer.end_offsets(list(committed))
            behind += sum(ends[tp] - meta.offset for tp, meta in committed.items())
        return behind
    finally:
        await consumer.stop()
        await admin.close()


@dataclass
class Findings:
    """What the checks found wrong (empty: all held), and what they looked at."""

    problems: list[str] = field(default_factory=list)
    events_checked: int = 0
    streams_checked: int = 0

    def add(self, problem: str) -> None:
        self.problems.append(problem)


def check_streams(topic: str, envelopes: list[dict[str, Any]], findings: Findings) -> None:
    """Each stream: versions 1..n, one event per version (a republished event is the same
    event: at least once on the wire, once in effect)."""
    versions: dict[str, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    for e in envelopes:
        versions[e["stream_id"]][e["stream_version"]].add(e["event_id"])
    for stream, held in versions.items():
        findings.streams_checked += 1
        if sorted(held) != list(range(1, len(held) + 1)):
            findings.add(f"{topic} {stream}: versions {sorted(held)} have a gap")
        for version, ids in held.items():
            if len(ids) > 1:
                findings.add(f"{topic} {stream} v{version}: {len(ids)} events {sorted(ids)}")


def check_counts(
    topic: str,
    envelopes: list[dict[str, Any]],
    expected: Counter[str],
    requests: list[str],
    findings: Findings,
) -> None:
    """Per request, how often each event type is on the topic (each event id once)."""
    seen: dict[str, dict[str, str]] = defaultdict(dict)
    for e in envelopes:
        seen[e["stream_id"]][e["event_id"]] = e["event_type"]
    for request in requests:
        got = Counter(seen.get(request, {}).values())
        findings.events_checked += sum(got.values())
        if got != expected:
            missing, extra = expected - got, got - expected
            findings.add(f"{topic} {request}: missing {dict(missing)}, extra {dict(extra)}")


AUDIT_TIMEOUT_SECONDS = 1800
"""verify re-renders every document: on two cores shared with other work (load 25-35) a long
run's verify took more than 600 s."""


async def audit(
    endpoints: Endpoints, *args: str, timeout: float = AUDIT_TIMEOUT_SECONDS
) -> tuple[int, str]:
    """``jejak audit <args>`` against ``endpoints``: its exit code and output; one that does not
    finish within ``timeout`` is killed and answers -1 and what it printed until then."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "jejak.cli",
        "audit",
        *args,
        cwd=ROOT,
        env={**os.environ, **endpoints.as_env(), "ENVIRONMENT": "development", "COLUMNS": "200"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(process.communicate(), timeout=timeout)
    except TimeoutError:
        process.kill()
        out, _ = await process.communicate()
        return -1, f"{out.decode(errors='replace')}\n(not finished within {timeout:.0f} s)"
    assert process.returncode is not None
    return process.returncode, out.decode(errors="replace")


async def check_all(
    endpoints: Endpoints, requests: list[str], findings: Findings, report: Path
) -> None:
    """The topics (counts per request, streams), then ``jejak audit verify`` and ``replay``."""
    auditor = endpoints.kafka_login(AUDITOR)
    for service in SERVICES:
        topic = topic_for(service)
        envelopes = await read_all(auditor, topic)
        check_streams(topic, envelopes, findings)
        if service in PER_REQUEST:
            check_counts(topic, envelopes, PER_REQUEST[service], requests, findings)
    code, out = await audit(endpoints, "verify")
    if code != 0:
        findings.add(f"jejak audit verify exited {code}:\n{out[-3000:]}")
    code, out = await audit(endpoints, "replay", "--no-progress", "--json", str(report))
    if code != 0:
        findings.add(f"jejak audit replay exited {code}:\n{out[-3000:]}")
    elif not json.loads(await asyncio.to_thread(report.read_text))["identical"]:
        findings.add(f"jejak audit replay not identical:\n{out[-3000:]}")
