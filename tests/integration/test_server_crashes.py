"""The local servers after a crash, as the supervisor of ``make run`` and the fault suite meet
them: PostgreSQL starts again at the first try although a backend of the killed server still
runs; a Kafka cluster of three keeps acknowledging and serving every record while one node is
down, and the node catches up when it is back.

Each test runs its own servers in a throwaway folder (never the session's)."""

import asyncio
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from devstack.kafka import KafkaBroker, admin_of, kafka_cluster
from devstack.postgres import PostgresServer
from devstack.process import free_port, is_alive, kill_now
from devstack.throwaway import throwaway_stack
from infra.kafka import ensure_topics, reliable_producer
from infra.kafka_login import KafkaLogin
from tests.kafka_helpers import eventually, read_topic


@pytest.fixture
def folder() -> Iterator[Path]:
    with throwaway_stack("crashes") as stack:
        yield stack.data_dir


def _backends(server: PostgresServer) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True)
    return [int(pid) for pid in out.stdout.split()]


async def test_postgres_starts_at_once_though_a_killed_servers_backend_still_runs(
    folder: Path,
) -> None:
    server = PostgresServer(folder / "postgres", free_port())
    await asyncio.to_thread(server.start)
    conn = await asyncpg.connect(server.url)
    await conn.execute("CREATE TABLE kept (n int); INSERT INTO kept VALUES (7)")
    await conn.close()
    frozen = _backends(server)
    assert frozen, "a running PostgreSQL has its background processes"
    for pid in frozen:  # they cannot notice that their postmaster is gone, and keep its memory
        os.kill(pid, signal.SIGSTOP)
    try:
        kill_now(server.pid)

        await asyncio.to_thread(server.start)  # no retry: the first start must succeed

        conn = await asyncpg.connect(server.url)
        assert await conn.fetchval("SELECT n FROM kept") == 7
        await conn.close()
        assert not any(is_alive(pid) for pid in frozen)
    finally:
        for pid in frozen:
            if is_alive(pid):
                os.kill(pid, signal.SIGKILL)
        server.stop()


async def _in_sync_everywhere(servers: KafkaLogin, topic: str, node_id: int) -> bool:
    """Whether ``node_id`` is an in-sync replica of every partition of ``topic``: it holds
    every record the others acknowledged."""
    admin = AIOKafkaAdminClient(**servers.options())
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return all(node_id in p["isr"] for p in described["partitions"])


async def _start_all(brokers: list[KafkaBroker]) -> None:
    """Together: a node is ready only once a majority of the controllers runs."""
    await asyncio.gather(*(asyncio.to_thread(b.start) for b in brokers))


@pytest.mark.timeout(300)
async def test_a_kafka_cluster_of_three_loses_no_acknowledged_record_while_a_node_is_down(
    folder: Path,
) -> None:
    brokers = kafka_cluster(folder / "kafka", 3)
    servers = admin_of(brokers)
    topic = "jejak.crash.events"
    try:
        await _start_all(brokers)
        await ensure_topics(servers, [topic], partitions=3, replication_factor=3)
        producer = reliable_producer(servers, "crash-test")
        await producer.start()
        try:
            for n in range(30):
                await producer.send_and_wait(topic, str(n).encode(), key=str(n % 5).encode())
            kill_now(brokers[0].pid)
            for n in range(30, 60):  # two in-sync replicas are left: each send is acknowledged
                await producer.send_and_wait(topic, str(n).encode(), key=str(n % 5).encode())
        finally:
            await producer.stop()
        survivors = admin_of(brokers[1:])
        records = await read_topic(survivors, topic, expected=60)
        assert sorted(int(r.value) for r in records) == list(range(60))

        await asyncio.to_thread(brokers[0].start)

        async def back_in_sync() -> bool:
            return await _in_sync_everywhere(servers, topic, brokers[0].node_id)

        assert await eventually(back_in_sync, timeout=60, interval=0.5)
    finally:
        for broker in brokers:
            broker.stop()
