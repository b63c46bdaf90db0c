"""The stack under fault injection: a fresh Kafka, PostgreSQL and every service as its own
process, all kept running by one ``devstack.supervisor.Supervisor`` (so a killed one is started
again by it, as under ``make run``), and the gateway in this process."""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx

from devstack.kafka import KafkaBroker
from devstack.postgres import PostgresServer
from devstack.process import free_port, is_alive
from devstack.services import ServiceProcess, service_processes
from devstack.stack import Endpoints
from devstack.supervisor import Backoff, Supervised, Supervisor
from devstack.throwaway import throwaway_stack


@dataclass
class ChaosStack:
    supervisor: Supervisor
    endpoints: Endpoints
    kafka: KafkaBroker
    postgres: PostgresServer
    services: dict[str, ServiceProcess]
    data_dir: Path

    @property
    def components(self) -> list[str]:
        """What the killer kills, in turn: every service, then Kafka, then PostgreSQL."""
        return [*self.services, "kafka", "postgres"]

    def is_ready(self, name: str) -> bool:
        """Whether ``name`` runs and answers: a service's ``/health`` says 200, Kafka lists its
        topics, PostgreSQL accepts connections."""
        servers: dict[str, KafkaBroker | PostgresServer] = {
            "kafka": self.kafka,
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


@contextmanager
def chaos_stack(say: Callable[[str], None], stable_after: float = 10.0) -> Iterator[ChaosStack]:
    """A fresh stack in a throwaway folder (never servers the environment names: they are
    killed here), supervised; everything stopped at the end.

    The supervisor's backoff is ``make run``'s but for ``stable_after``: a process that ran that
    long before it was killed is restarted after 0.5 s again, since here every process is killed
    once per round of the killer, not because it fails to start."""
    with throwaway_stack("chaos") as stack:
        data_dir = stack.data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        stack.kafka = KafkaBroker(data_dir / "kafka", free_port(), free_port())
        stack.postgres = PostgresServer(data_dir / "postgres", free_port())
        endpoints = Endpoints(stack.kafka.bootstrap_servers, stack.postgres.url)
        services = service_processes(endpoints, data_dir)
        processes: dict[str, Supervised] = {"kafka": stack.kafka, "postgres": stack.postgres}
        processes.update({p.name: p for p in services})
        supervisor = Supervisor(processes, say, Backoff(stable_after=stable_after))
        try:
            supervisor.start()
            running = ChaosStack(
                supervisor,
                endpoints,
                stack.kafka,
                stack.postgres,
                {p.name: p for p in services},
                data_dir,
            )
            assert wait_for(running.all_services_healthy, 180), "the services did not start"
            yield running
        finally:
            supervisor.stop()
