"""The fuzzer's stack: every service as its own process on the session's real Kafka and
PostgreSQL (as ``make run`` starts them), real things to aim at, and a ``Target`` per service."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from devstack.gateway import create_gateway
from devstack.services import ServiceProcess, service_processes, start_all, stop_all
from devstack.stack import Endpoints
from tests.e2e.sop import Jejak
from tests.fuzz.harness import TALLIES, Aim, Callers, StateDigest, Tally, Target
from tests.fuzz.seed import log_in, requests_at_several_steps, throwaway_delegation


@dataclass
class FuzzStack:
    processes: dict[str, ServiceProcess]
    tokens: dict[str, str]
    known: dict[str, list[str]]
    database_url: str
    targets: dict[str, Target] = field(default_factory=dict)

    def target(self, service: str, document: dict[str, Any]) -> Target:
        """The service under the fuzzer, once what earlier calls set off has settled; its live
        ``/openapi.json`` must be ``document``, the one the cases are generated from."""
        if service not in self.targets:
            url = self.processes[service].url
            assert httpx.get(f"{url}/openapi.json").json() == document, service
            for earlier in self.targets.values():
                earlier.digest.close()
            digest = StateDigest(self.database_url, service)
            digest.settle()
            self.targets[service] = Target(
                service,
                url,
                digest,
                Callers(self.tokens),
                Aim(self.known),
                TALLIES.setdefault(service, Tally()),
            )
        return self.targets[service]


@pytest.fixture(scope="module")
async def fuzz_stack(
    endpoints: Endpoints, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[FuzzStack]:
    processes = service_processes(endpoints, tmp_path_factory.mktemp("fuzz"), with_prefix=False)
    tenant = f"fuzz-{uuid.uuid4().hex[:8]}"  # the fuzzer's cases stay out of other tests' reports
    for process in processes:
        process.env["TENANT"] = tenant
        process.env["REPORTING_BREACH_INTERVAL_SECONDS"] = "3600"
        # a document waiting for facts that never come (the fuzzer's users have no NIP) fails
        # at once instead of being tried again while its API is fuzzed
        process.env["DOCUMENTS_WAIT_FOR_FACTS_SECONDS"] = "0.5"
    try:
        await asyncio.to_thread(start_all, processes)
        gateway = create_gateway({p.name: p.url for p in processes})
        async with (
            gateway.router.lifespan_context(gateway),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=gateway), base_url="http://jejak", timeout=30
            ) as client,
        ):
            jejak = Jejak(client)
            tokens = await log_in(jejak)
            known = {**await requests_at_several_steps(jejak), **await throwaway_delegation(jejak)}
        stack = FuzzStack({p.name: p for p in processes}, tokens, known, endpoints.database_url)
        try:
            yield stack
        finally:
            for target in stack.targets.values():
                target.digest.close()
    finally:
        await asyncio.to_thread(stop_all, processes)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TALLIES:
        terminalreporter.section("API fuzzer (schemathesis)")
        for service, tally in TALLIES.items():
            terminalreporter.write_line(tally.line(service))
