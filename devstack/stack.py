"""Kafka and PostgreSQL together, with their ports and pids remembered in one data folder.

``KAFKA_BOOTSTRAP_SERVERS`` and ``DATABASE_URL``, when set, point at existing servers instead.
"""

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from devstack.kafka import KafkaBroker
from devstack.postgres import PostgresServer
from devstack.process import free_port, is_alive, port_is_free
from devstack.supervisor import Supervised
from infra.kafka_login import KafkaLogin
from infra.settings import DEVELOPMENT_KAFKA_PASSWORD

DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / ".jejak"


@dataclass
class Endpoints:
    kafka_bootstrap_servers: str
    database_url: str

    def kafka_login(self, principal: str) -> KafkaLogin:
        """Kafka as ``principal``, with the local stack's development password."""
        return KafkaLogin(self.kafka_bootstrap_servers, principal, DEVELOPMENT_KAFKA_PASSWORD)

    def as_env(self) -> dict[str, str]:
        """The owner's connections: for the migrations and the operators' tools."""
        return {
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap_servers,
            "DATABASE_URL": self.database_url,
        }

    @property
    def database_location(self) -> str:
        """``database_url`` without its user and password: where PostgreSQL is."""
        parts = urlsplit(self.database_url)
        return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))

    def service_env(self) -> dict[str, str]:
        """What a service is given: no owner, no password (it connects as its own role,
        ``Settings.app_url``)."""
        return {**self.as_env(), "DATABASE_URL": self.database_location}


def _port(remembered: int | None) -> int:
    return remembered if remembered and port_is_free(remembered) else free_port()


@dataclass
class _Remembered:
    """Kafka or PostgreSQL as a supervisor sees it: each start is written to the stack's state,
    where ``python -m devstack env`` finds the new pid."""

    server: KafkaBroker | PostgresServer
    stack: "Stack"

    @property
    def pid(self) -> int | None:
        return self.server.pid

    def start(self) -> None:
        self.server.start()
        self.stack._save()

    def stop(self) -> None:
        self.server.stop()


@dataclass
class Stack:
    data_dir: Path = DEFAULT_DATA_DIR
    kafka: KafkaBroker | None = None
    postgres: PostgresServer | None = None
    started_here: list[str] = field(default_factory=list)

    @property
    def state_file(self) -> Path:
        return self.data_dir / "stack.json"

    def _state(self) -> dict[str, dict[str, int | None]]:
        if self.state_file.exists():
            return dict(json.loads(self.state_file.read_text()))
        return {}

    def _save(self) -> None:
        state: dict[str, dict[str, int | None]] = {}
        if self.kafka:
            state["kafka"] = {
                "port": self.kafka.port,
                "controller_port": self.kafka.controller_port,
                "pid": self.kafka.pid,
            }
        if self.postgres:
            state["postgres"] = {"port": self.postgres.port, "pid": self.postgres.pid}
        self.state_file.write_text(json.dumps(state, indent=2))

    def up(self) -> Endpoints:
        """Start what is not already running (or given by the environment); wait until ready."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        state = self._state()
        kafka_url = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
        database_url = os.environ.get("DATABASE_URL")
        if not kafka_url:
            self.kafka = self._kafka(state.get("kafka", {}))
            kafka_url = self.kafka.bootstrap_servers
        if not database_url:
            self.postgres = self._postgres(state.get("postgres", {}))
            database_url = self.postgres.url
        self._save()
        return Endpoints(kafka_url, database_url)

    def supervised(self) -> dict[str, Supervised]:
        """The servers of ``up`` that this stack runs (not those the environment names), by
        name, for a ``devstack.supervisor.Supervisor``."""
        servers = {"kafka": self.kafka, "postgres": self.postgres}
        return {name: _Remembered(s, self) for name, s in servers.items() if s is not None}

    def _kafka(self, remembered: dict[str, int | None]) -> KafkaBroker:
        pid = remembered.get("pid")
        if is_alive(pid):
            return KafkaBroker(
                self.data_dir / "kafka",
                int(remembered["port"] or 0),
                int(remembered["controller_port"] or 0),
                pid,
            )
        broker = KafkaBroker(
            self.data_dir / "kafka",
            _port(remembered.get("port")),
            _port(remembered.get("controller_port")),
        )
        broker.start()
        self.started_here.append("kafka")
        return broker

    def _postgres(self, remembered: dict[str, int | None]) -> PostgresServer:
        pid = remembered.get("pid")
        if is_alive(pid):
            return PostgresServer(self.data_dir / "postgres", int(remembered["port"] or 0), pid)
        server = PostgresServer(self.data_dir / "postgres", _port(remembered.get("port")))
        server.start()
        self.started_here.append("postgres")
        return server

    def down(self) -> None:
        """Stop both servers cleanly, whoever started them, keeping their data."""
        state = self._state()
        if self.kafka is None and "kafka" in state:
            k = state["kafka"]
            self.kafka = KafkaBroker(
                self.data_dir / "kafka",
                int(k["port"] or 0),
                int(k["controller_port"] or 0),
                k.get("pid"),
            )
        if self.postgres is None and "postgres" in state:
            p = state["postgres"]
            self.postgres = PostgresServer(
                self.data_dir / "postgres", int(p["port"] or 0), p.get("pid")
            )
        for server in (self.kafka, self.postgres):
            if server is not None:
                server.stop()
        if self.state_file.exists():
            self._save()
