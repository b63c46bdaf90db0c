"""The stack under fault injection: a fresh Kafka (one broker, or a cluster of three), PostgreSQL,
every service and the web app as its own process, all kept running by one
``devstack.supervisor.Supervisor`` (so a killed one is started again by it, as under ``make
run``), and the gateway in this process."""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx

from devstack.kafka import KafkaBroker, bootstrap_servers, kafka_cluster
from devstack.postgres import PostgresServer
from devstack.process import free_port, is_alive
from devstack.services import ServiceProcess, migrate, service_processes, web_process
from devstack.stack import Endpoints
from devstack.supervisor import Backoff, Supervised, Supervisor
from devstack.throwaway import throwaway_stack


@dataclass
class ChaosStack:
    supervisor: Supervisor
    endpoints: Endpoints
    brokers: dict[str, KafkaBroker]
    """``kafka``, or ``kafka-1`` … ``kafka-3`` for a cluster."""
    postgres: PostgresServer
    services: dict[str, ServiceProcess]
    """Every service and the web app."""
    data_dir: Path

    @property
    def components(self) -> list[str]:
        """What the killer kills, in turn: every service, the web app, each Kafka broker, then
        PostgreSQL."""
        return [*self.services, *self.brokers, "postgres"]

    def is_ready(self, name: str) -> bool:
        """Whether ``name`` runs and answers: a service's ``/health`` says 200, a Kafka broker
        lists its topics, PostgreSQL accepts connections."""
        servers: dict[str, KafkaBroker | PostgresServer] = {
            **self.brokers,
            "postgres": self.postgres,
        }
        process = servers.get(name) or self.services[name]
        if not is_alive(process.pid):
            return False
        if isinstance(process, ServiceProcess):
            return service_healthy(process)
        with suppress(Exception):  # a broker that died meanwhile raises
            return process.is_ready()
        return False

    @property
    def upstreams(self) -> dict[str, str]:
        """The services' addresses (the web app's apart), as the gateway routes to them."""
        return {name: p.url for name, p in self.services.items() if name != "web"}

    def all_services_healthy(self) -> bool:
        return all(service_healthy(p) for p in self.services.values())


def service_healthy(process: ServiceProcess) -> bool:
    try:
        return httpx.get(f"{process.url}/health", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def wait_for(check: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


FOR_ONE_REQUESTER = {
    "INTAKE_UPLOADS_AT_ONCE_PER_USER": "1000",
    "INTAKE_UPLOADS_AT_ONCE": "1000",
    "INTAKE_UPLOAD_FILES_PER_DAY": "1000000",
}
"""intake's upload limits for a run whose users (30 at once in ``make chaos``) all upload as
``pemohon.dinkes``."""


def _brokers(home: Path, size: int) -> dict[str, KafkaBroker]:
    if size == 1:
        return {"kafka": KafkaBroker(home, free_port(), free_port())}
    return {f"kafka-{b.node_id}": b for b in kafka_cluster(home, size)}


@contextmanager
def chaos_stack(
    say: Callable[[str], None], stable_after: float = 10.0, brokers: int = 1
) -> Iterator[ChaosStack]:
    """A fresh stack in a throwaway folder (never servers the environment names: they are
    killed here), supervised; everything stopped at the end. With ``brokers`` 3, Kafka is a
    KRaft cluster of three, every topic with three replicas and ``min.insync.replicas`` 2.

    The supervisor's backoff is ``make run``'s but for ``stable_after``: a process that ran that
    long before it was killed is restarted after 0.5 s again, since here every process is killed
    once per round of the killer, not because it fails to start."""
    with throwaway_stack("chaos") as stack:
        data_dir = stack.data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        kafka = _brokers(data_dir / "kafka", brokers)
        stack.postgres = PostgresServer(data_dir / "postgres", free_port())
        endpoints = Endpoints(bootstrap_servers(list(kafka.values())), stack.postgres.url)
        services = service_processes(endpoints, data_dir)
        for service in services:
            service.env["KAFKA_REPLICATION_FACTOR"] = str(brokers)
            if service.name == "intake":  # every user walks as the one demo requester
                service.env |= FOR_ONE_REQUESTER
        services.append(web_process(services, data_dir))
        processes: dict[str, Supervised] = {**kafka, "postgres": stack.postgres}
        processes.update({p.name: p for p in services})
        supervisor = Supervisor(processes, say, Backoff(stable_after=stable_after))
        try:
            stack.postgres.start()  # then adopted by the supervisor
            migrate(endpoints, data_dir)  # by the owner, before any service, as make run
            supervisor.start()
            running = ChaosStack(
                supervisor,
                endpoints,
                kafka,
                stack.postgres,
                {p.name: p for p in services},
                data_dir,
            )
            assert wait_for(running.all_services_healthy, 180), "the services did not start"
            yield running
        finally:
            supervisor.stop()
