"""Reading the topics' history for the audits (reporting's replay and verification, documents'
re-rendering): which partitions there are and up to which offset (``plan``), how they are
shared among the replay's workers (``Plan.slices``), and every record of them from offset 0
(``read_partitions``).

Kafka keys records by request, so one request's events are in the same partition number of
every topic with the same partition count: worker k reads the partition numbers p with
p % workers == k of those topics, and its own requests' records of a topic with another count.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.partitioner import murmur2

from infra.kafka_login import KafkaLogin

READER_OPTIONS: dict[str, Any] = {
    "fetch_max_bytes": 64 * 1024 * 1024,
    "max_partition_fetch_bytes": 16 * 1024 * 1024,
    "fetch_max_wait_ms": 100,
}
"""aiokafka settings of every reader of the replay (and of the benchmark's raw reader)."""


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


def reader(login: KafkaLogin) -> AIOKafkaConsumer:
    """A consumer outside any group, committing nothing (it only reads)."""
    return AIOKafkaConsumer(
        **login.options(),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **READER_OPTIONS,
    )


async def plan(login: KafkaLogin, topics: Sequence[str]) -> Plan:
    """The partitions of ``topics`` and their end offsets, now (those ``login`` may read)."""
    admin = AIOKafkaAdminClient(**login.options())
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
        consumer = reader(login)
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
    login: KafkaLogin, partitions: Sequence[Partition], on_batch: Callable[[list[Any]], None]
) -> int:
    """Every record of ``partitions`` from the first offset to its ``end``, in batches handed to
    ``on_batch`` (each partition's records in order). Returns how many were read."""
    pending = {TopicPartition(p.topic, p.partition): p.end for p in partitions if p.end > 0}
    if not pending:
        return 0
    consumer = reader(login)
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
