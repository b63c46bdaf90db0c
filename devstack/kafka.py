"""A single-node Apache Kafka 4.x broker in KRaft mode, from the official Maven Central jars."""

import asyncio
import base64
import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from devstack.process import accepts_connections, is_alive, kill_now, spawn, terminate, wait_until

DEPLOY = Path(__file__).resolve().parent.parent / "deploy" / "kafka"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "jejak"
HEAP = os.environ.get("JEJAK_KAFKA_HEAP", "-Xms256m -Xmx768m")


def kafka_version() -> str:
    pom = (DEPLOY / "pom.xml").read_text()
    return pom.split("<kafka.version>")[1].split("</kafka.version>")[0]


def fetch_jars() -> Path:
    """The broker's jars, copied from Maven Central once into the cache."""
    libs = CACHE / f"kafka-{kafka_version()}-libs"
    done = libs / ".complete"
    if done.exists():
        return libs
    shutil.rmtree(libs, ignore_errors=True)
    subprocess.run(
        [
            "mvn",
            "-q",
            "-B",
            "-f",
            str(DEPLOY / "pom.xml"),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={libs}",
        ],
        check=True,
    )
    done.touch()
    return libs


def random_cluster_id() -> str:
    """A Kafka cluster id (URL-safe base64 of 16 bytes) that, like Kafka's own, never starts
    with '-', which StorageTool would read as an option."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


@dataclass
class KafkaBroker:
    """One broker+controller node whose data lives in ``home``."""

    home: Path
    port: int
    controller_port: int
    pid: int | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.home / "server.out"

    def _java(self, main: str, *args: str) -> list[str]:
        return [
            "java",
            *HEAP.split(),
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={DEPLOY / 'log4j2.properties'}",
            f"-Dkafka.logs.dir={self.home}",
            "-cp",
            f"{fetch_jars()}/*",
            main,
            *args,
        ]

    def _write_config(self) -> Path:
        config = self.home / "server.properties"
        config.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.voters=1@127.0.0.1:{self.controller_port}",
                    f"listeners=PLAINTEXT://127.0.0.1:{self.port},"
                    f"CONTROLLER://127.0.0.1:{self.controller_port}",
                    f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
                    "controller.listener.names=CONTROLLER",
                    "inter.broker.listener.name=PLAINTEXT",
                    "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
                    f"log.dirs={self.home / 'data'}",
                    "num.partitions=3",
                    "offsets.topic.replication.factor=1",
                    "share.coordinator.state.topic.replication.factor=1",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "group.initial.rebalance.delay.ms=0",
                    "log.retention.ms=-1",
                    "auto.create.topics.enable=true",
                    "",
                ]
            )
        )
        return config

    def start(self, timeout: float = 120.0) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        config = self._write_config()
        if not (self.home / "data" / "meta.properties").exists():
            subprocess.run(
                self._java(
                    "kafka.tools.StorageTool",
                    "format",
                    "-t",
                    random_cluster_id(),
                    "-c",
                    str(config),
                ),
                check=True,
                stdout=subprocess.DEVNULL,
            )
        self.pid = spawn(self._java("kafka.Kafka", str(config)), self.log)
        wait_until(self.is_ready, f"Kafka on port {self.port}", timeout, self.log)

    def is_ready(self) -> bool:
        if self.pid is not None and not is_alive(self.pid):
            raise RuntimeError(f"Kafka exited:\n{self.log.read_text(errors='replace')[-3000:]}")
        return accepts_connections(self.port) and broker_answers(self.bootstrap_servers)

    def stop(self) -> None:
        terminate(self.pid, timeout=60)
        self.pid = None

    def crash(self) -> None:
        """SIGKILL, as a crash would (the next start recovers its logs)."""
        kill_now(self.pid)
        self.pid = None


def broker_answers(bootstrap_servers: str) -> bool:
    async def probe() -> bool:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=3000)
        try:
            await admin.start()
            await admin.list_topics()
            return True
        except Exception:
            return False
        finally:
            await admin.close()

    return asyncio.run(probe())
