"""Every Jejak service as its own process, on loopback, sharing one stack and one key pair;
and the web app, a process that calls them. The database is migrated first, once, by the owner
(``migrate``); the services are given no owner's connection, as on a cluster."""

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx

from devstack.process import free_port, is_alive, kill_now, spawn, terminate, wait_until
from devstack.stack import Endpoints
from infra.auditor_role import AUDITOR_ROLE
from infra.auth import development_keys
from infra.settings import DEFAULT_APP_DB_PASSWORD, role_url

SERVICES = (
    "identity",
    "intake",
    "approval",
    "dev_tracking",
    "reporting",
    "eoffice",
    "documents",
)


@dataclass
class ServiceProcess:
    name: str
    port: int
    log: Path
    env: dict[str, str]
    pid: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def launch(self) -> None:
        self.pid = spawn([sys.executable, "-m", f"services.{self.name}"], self.log, self.env)

    def wait_ready(self, timeout: float = 120.0) -> None:
        wait_until(self.is_ready, f"service {self.name}", timeout, self.log)

    def start(self) -> None:
        self.launch()
        self.wait_ready()

    def is_ready(self) -> bool:
        if not is_alive(self.pid):
            raise RuntimeError(f"{self.name} exited:\n{self.log.read_text()[-3000:]}")
        try:
            return httpx.get(f"{self.url}/health", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        kill_now(self.pid)
        self.pid = None

    def stop(self) -> None:
        terminate(self.pid, timeout=20)
        self.pid = None


DEVELOPMENT_AUDITOR_PASSWORD = DEFAULT_APP_DB_PASSWORD
"""The inspectors' read-only role (``infra.auditor_role``) logs in with it under ``make run``
and in the tests: ``auditor_url``."""


def auditor_url(database_url: str) -> str:
    """The inspectors' read-only connection to the stack at ``database_url`` (``jejak audit
    verify``, ``jejak audit documents``)."""
    return role_url(database_url, AUDITOR_ROLE, DEVELOPMENT_AUDITOR_PASSWORD)


def migrate(endpoints: Endpoints, data_dir: Path) -> None:
    """Every service's schema, role and migrations, by the owner, as the cluster's migrations
    Job does (``python -m infra.migrate_all``); before any service starts, since none migrates.
    Its output goes to ``logs/migrations.log``; a failure raises, naming the log's end."""
    logs = data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / "migrations.log"
    env = {
        **endpoints.as_env(),
        "ENVIRONMENT": "development",
        "LOG_FORMAT": "json",
        "AUDITOR_DB_PASSWORD": DEVELOPMENT_AUDITOR_PASSWORD,
    }
    with log.open("ab") as out:
        ended = subprocess.run(
            [sys.executable, "-m", "infra.migrate_all"],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **env},
            timeout=300,
            check=False,
        )
    if ended.returncode != 0:
        raise RuntimeError(f"migrations failed:\n{log.read_text()[-3000:]}")


def service_processes(
    endpoints: Endpoints, data_dir: Path, with_prefix: bool = True
) -> list[ServiceProcess]:
    """One process per service (not started), with its environment and log file: where
    PostgreSQL is, no owner (``migrate`` first)."""
    keys = data_dir / "keys"
    development_keys(keys)  # once, before any service looks for it
    logs = data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    processes = []
    for name in SERVICES:
        port = free_port()
        env = {
            **endpoints.service_env(),
            "ENVIRONMENT": "development",
            "SERVICE_NAME": name,
            "HTTP_PORT": str(port),
            "JWT_KEY_DIR": str(keys),
            "LOG_FORMAT": "json",
            "ROOT_PATH": f"/api/{name}" if with_prefix else "",
            "DOCUMENTS_SIGNING_DIR": str(data_dir / "signing"),
            "CHECKPOINT_FILE": str(data_dir / "checkpoints" / f"{name}.jsonl"),
        }
        processes.append(ServiceProcess(name, port, logs / f"{name}.log", env))
    return processes


def web_process(services: list[ServiceProcess], data_dir: Path) -> ServiceProcess:
    """The web app's process (not started), calling ``services`` directly."""
    upstreams = {p.name: p.url for p in services}
    some = services[0].env
    env = {
        "ENVIRONMENT": "development",
        "SERVICE_NAME": "web",
        "HTTP_PORT": str(free_port()),
        "JWT_KEY_DIR": some["JWT_KEY_DIR"],
        "LOG_FORMAT": "json",
        "UPSTREAMS": json.dumps(upstreams),
        # it needs no database; this replaces an owner's URL the shell may have exported
        "DATABASE_URL": some["DATABASE_URL"],
    }
    return ServiceProcess("web", int(env["HTTP_PORT"]), data_dir / "logs" / "web.log", env)


def start_all(processes: list[ServiceProcess]) -> None:
    """Launch every process at once, then wait until each answers ``/health``."""
    for process in processes:
        process.launch()
    for process in processes:
        process.wait_ready()


def stop_all(processes: list[ServiceProcess]) -> None:
    for process in reversed(processes):
        process.stop()
