"""Apache Kafka 4.x in KRaft mode from the official Maven Central jars: one broker+controller node
(``make run``, the tests), or a cluster of them (``kafka_cluster``, the fault suite's long form)."""

import asyncio
import base64
import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from devstack.kafka_access import provision
from devstack.process import (
    accepts_connections,
    free_port,
    is_alive,
    kill_now,
    spawn,
    terminate,
    wait_until,
)
from events.topics import SERVICES
from infra.kafka_acl import ADMIN, principals
from infra.kafka_login import KafkaLogin
from infra.settings import DEVELOPMENT_KAFKA_PASSWORD

SASL_MARK = ".sasl"
"""Left in a node's folder formatted with the SCRAM users."""
UNAUTHENTICATED_DATA = (
    "Data Kafka di {home} dibuat sebelum Kafka memakai SASL/SCRAM dan tidak berisi pengguna "
    "layanan. Hentikan stack (make stack-down), hapus folder data stack itu (Kafka dan "
    "PostgreSQL bersama, agar event store dan topik tetap sama), lalu jalankan lagi."
)
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
    """One broker+controller node whose data lives in ``home``: alone by default, or node
    ``node_id`` of a cluster of ``replicas`` nodes whose controllers are ``voters``."""

    home: Path
    port: int
    controller_port: int
    pid: int | None = None
    node_id: int = 1
    voters: str = ""
    """``controller.quorum.voters``; empty: this node alone."""
    replicas: int = 1
    """Copies of every topic's partitions (the cluster's size): ``min.insync.replicas`` is one
    fewer, so one node may be down while every write is still acknowledged by two."""
    cluster_id: str = field(default_factory=random_cluster_id)

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def admin_login(self) -> KafkaLogin:
        return KafkaLogin(self.bootstrap_servers, ADMIN, DEVELOPMENT_KAFKA_PASSWORD)

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
        in_sync = max(self.replicas - 1, 1)
        config.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    f"node.id={self.node_id}",
                    "controller.quorum.voters="
                    + (self.voters or f"{self.node_id}@127.0.0.1:{self.controller_port}"),
                    f"listeners=BROKER://127.0.0.1:{self.port},"
                    f"CONTROLLER://127.0.0.1:{self.controller_port}",
                    f"advertised.listeners=BROKER://127.0.0.1:{self.port}",
                    "controller.listener.names=CONTROLLER",
                    "inter.broker.listener.name=BROKER",
                    *sasl_config(),
                    f"log.dirs={self.home / 'data'}",
                    "num.partitions=3",
                    f"default.replication.factor={self.replicas}",
                    f"min.insync.replicas={in_sync}",
                    f"offsets.topic.replication.factor={self.replicas}",
                    f"share.coordinator.state.topic.replication.factor={self.replicas}",
                    f"transaction.state.log.replication.factor={self.replicas}",
                    f"transaction.state.log.min.isr={in_sync}",
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
                    self.cluster_id,
                    "-c",
                    str(config),
                    *scram_users(),
                ),
                check=True,
                stdout=subprocess.DEVNULL,
            )
            (self.home / SASL_MARK).touch()
        elif not (self.home / SASL_MARK).exists():
            raise RuntimeError(UNAUTHENTICATED_DATA.format(home=self.home))
        self.pid = spawn(self._java("kafka.Kafka", str(config)), self.log)
        wait_until(self.is_ready, f"Kafka on port {self.port}", timeout, self.log)
        provision(self.admin_login, self.replicas)

    def is_ready(self) -> bool:
        if self.pid is not None and not is_alive(self.pid):
            raise RuntimeError(f"Kafka exited:\n{self.log.read_text(errors='replace')[-3000:]}")
        return accepts_connections(self.port) and broker_answers(self.admin_login)

    def stop(self) -> None:
        terminate(self.pid, timeout=60)
        self.pid = None

    def crash(self) -> None:
        """SIGKILL, as a crash would (the next start recovers its logs)."""
        kill_now(self.pid)
        self.pid = None


def kafka_cluster(home: Path, size: int = 3) -> list[KafkaBroker]:
    """``size`` broker+controller nodes on loopback (not started), one cluster: each node's
    data under ``home/node-<id>``. Start them together (a node is ready only once a majority
    of the controllers runs)."""
    ports = [(free_port(), free_port()) for _ in range(size)]
    voters = ",".join(f"{n}@127.0.0.1:{c}" for n, (_, c) in enumerate(ports, start=1))
    cluster_id = random_cluster_id()
    return [
        KafkaBroker(home / f"node-{n}", port, controller, None, n, voters, size, cluster_id)
        for n, (port, controller) in enumerate(ports, start=1)
    ]


def bootstrap_servers(brokers: list[KafkaBroker]) -> str:
    return ",".join(b.bootstrap_servers for b in brokers)


def admin_of(brokers: list[KafkaBroker]) -> KafkaLogin:
    """The admin's login to ``brokers`` (nodes of one cluster)."""
    return KafkaLogin(bootstrap_servers(brokers), ADMIN, DEVELOPMENT_KAFKA_PASSWORD)


def sasl_config() -> list[str]:
    """Authentication and authorization: clients and brokers speak SASL/SCRAM-SHA-512 as their
    principals, whose rights KRaft's StandardAuthorizer checks (``infra.kafka_acl``); the
    controllers (whose quorum holds the SCRAM credentials, so cannot check them) take SASL/PLAIN
    from the admin alone. Nothing is reachable without a password."""
    plain_login = (
        "org.apache.kafka.common.security.plain.PlainLoginModule required "
        f'username="{ADMIN}" password="{DEVELOPMENT_KAFKA_PASSWORD}" '
        f'user_{ADMIN}="{DEVELOPMENT_KAFKA_PASSWORD}";'
    )
    scram_login = (
        "org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="{ADMIN}" password="{DEVELOPMENT_KAFKA_PASSWORD}";'
    )
    return [
        "listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,BROKER:SASL_PLAINTEXT",
        "sasl.enabled.mechanisms=SCRAM-SHA-512",
        "sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512",
        "sasl.mechanism.controller.protocol=PLAIN",
        "listener.name.controller.sasl.enabled.mechanisms=PLAIN",
        f"listener.name.controller.plain.sasl.jaas.config={plain_login}",
        f"listener.name.broker.scram-sha-512.sasl.jaas.config={scram_login}",
        "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        f"super.users=User:{ADMIN}",
        "allow.everyone.if.no.acl.found=false",
    ]


def scram_users() -> list[str]:
    """``kafka-storage format``'s options that create every principal's SCRAM credential
    (``--add-scram``), with the development password."""
    return [
        option
        for user in principals(SERVICES)
        for option in (
            "--add-scram",
            f"SCRAM-SHA-512=[name={user},password={DEVELOPMENT_KAFKA_PASSWORD}]",
        )
    ]


def broker_answers(login: KafkaLogin) -> bool:
    async def probe() -> bool:
        admin = AIOKafkaAdminClient(**login.options(), request_timeout_ms=3000)
        try:
            await admin.start()
            await admin.list_topics()
            return True
        except Exception:
            return False
        finally:
            await admin.close()

    return asyncio.run(probe())
