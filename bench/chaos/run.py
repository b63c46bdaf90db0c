"""One fault-injection run: the stack, the users, the killer, then the checks and the figures."""

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from bench.chaos.checks import Findings, check_all, lag
from bench.chaos.client import RetryingTransport
from bench.chaos.killer import Kill, Killer
from bench.chaos.stack import ChaosStack, chaos_stack
from devstack.gateway import create_gateway
from infra.kafka_acl import ADMIN
from tests.e2e.sop import Jejak, Walk, walk_through_all_14_steps

RECOVERY_TARGET_SECONDS = 30.0
"""Issue 21's target: every service healthy again within this long of a dependency's return."""


@dataclass
class Outcome:
    """What a run did and found."""

    components: list[str]
    kills: list[Kill]
    retries: Counter[str]
    requests: list[str]
    seconds: float
    settle_seconds: float = 0.0
    failures: list[str] = field(default_factory=list)
    findings: Findings = field(default_factory=Findings)

    @property
    def ok(self) -> bool:
        return not self.failures and not self.findings.problems and not self.slow_recoveries

    @property
    def slow_recoveries(self) -> list[Kill]:
        """Kills after which the services took longer than the target to be healthy again."""
        return [k for k in self.kills if k.healed_seconds > RECOVERY_TARGET_SECONDS]

    def killed(self) -> Counter[str]:
        return Counter(k.component for k in self.kills)

    def lines(self) -> list[str]:
        """The figures, as ``make chaos`` prints them."""
        killed = self.killed()
        out = [
            f"{len(self.kills)} kills (SIGKILL) in {self.seconds:.0f} s, "
            f"{len(self.requests)} requests walked through all 14 steps",
            f"{'component':<14}{'kills':>6}{'outage s':>10}{'longest s':>11}{'healed s':>10}",
        ]
        for name in self.components:
            mine = [k for k in self.kills if k.component == name]
            outage = sum(k.recovered_seconds for k in mine)
            longest = max((k.recovered_seconds for k in mine), default=0.0)
            healed = max((k.healed_seconds for k in mine), default=0.0)
            out.append(f"{name:<14}{killed[name]:>6}{outage:>10.1f}{longest:>11.1f}{healed:>10.1f}")
        if self.kills:
            worst = max(self.kills, key=lambda k: k.recovered_seconds + k.healed_seconds)
            out.append(
                f"longest time to recover: {worst.recovered_seconds + worst.healed_seconds:.1f} s"
                f" ({worst.component}: back after {worst.recovered_seconds:.1f} s, every "
                f"service healthy {worst.healed_seconds:.1f} s later)"
            )
        causes = ", ".join(f"{cause} {n}" for cause, n in self.retries.most_common())
        out.append(f"client retries: {sum(self.retries.values())} ({causes or 'none'})")
        out.append(
            f"settled in {self.settle_seconds:.0f} s; checked {self.findings.events_checked} "
            f"events of the requests and {self.findings.streams_checked} streams"
        )
        out += [f"FAILED: {f}" for f in self.failures]
        out += [
            f"SLOW: every service healthy {k.healed_seconds:.1f} s after {k.component} was "
            f"back (target {RECOVERY_TARGET_SECONDS:.0f} s)"
            for k in self.slow_recoveries
        ]
        out += [f"WRONG: {p}" for p in self.findings.problems]
        out.append("0 events lost, 0 effects doubled" if self.ok else "the run found problems")
        return out


async def user(jejak: Jejak, stop: asyncio.Event, walked: list[str]) -> None:
    """One user after another's request: walk one through every step, again until ``stop``."""
    while True:
        walk = Walk(jejak)
        await walk_through_all_14_steps(walk, retry_once=False)
        walked.append(walk.request_id)
        if stop.is_set():
            return


async def settle(stack: ChaosStack, timeout: float) -> bool:
    """Until every consumer group has committed every record, twice in a row a few seconds
    apart (a document rendered meanwhile adds records)."""
    deadline = time.monotonic() + timeout
    quiet = 0
    while time.monotonic() < deadline:
        try:
            behind = await lag(stack.endpoints.kafka_login(ADMIN))
        except Exception:  # a broker still restarting
            behind = -1
        healthy = await asyncio.to_thread(stack.all_services_healthy)
        quiet = quiet + 1 if behind == 0 and healthy else 0
        if quiet >= 3:
            return True
        await asyncio.sleep(2)
    return False


async def drive(
    stack: ChaosStack,
    flows: int,
    kills: int,
    interval: float,
    think: float,
    settle_timeout: float,
) -> Outcome:
    gateway = create_gateway(stack.upstreams, stack.services["web"].url)
    transport = RetryingTransport(httpx.ASGITransport(app=gateway), think_seconds=think)
    killer = Killer(stack, kills, interval)
    started = time.monotonic()
    walked: list[str] = []
    failures: list[str] = []
    async with (
        gateway.router.lifespan_context(gateway),
        httpx.AsyncClient(transport=transport, base_url="http://jejak") as client,
    ):
        jejak = Jejak(client, patience=300)
        await jejak.login_all()
        stop = asyncio.Event()
        users = [asyncio.create_task(user(jejak, stop, walked)) for _ in range(flows)]
        try:
            await asyncio.to_thread(killer.run)
        except AssertionError as error:
            failures.append(str(error))
        finally:  # also on Ctrl-C: the killer's thread kills no more
            killer.stopped.set()
            stop.set()
        for ended in await asyncio.gather(*users, return_exceptions=True):
            if isinstance(ended, BaseException):
                failures.append(f"a user's walk: {type(ended).__name__}: {ended}")
        outcome = Outcome(
            stack.components, killer.done, transport.retries, walked, 0.0, failures=failures
        )
        settling = time.monotonic()
        if not await settle(stack, settle_timeout):
            failures.append(f"not settled within {settle_timeout:.0f} s")
        outcome.settle_seconds = time.monotonic() - settling
        for rid in walked:
            case = await jejak.get("auditor", f"/api/reporting/cases/{rid}")
            tracked = await jejak.get("auditor", f"/api/dev_tracking/requests/{rid}")
            if (case["step"], case["status"], tracked["current_step"]) != (
                "DONE",
                "COMPLETED",
                "DONE",
            ):
                outcome.findings.add(f"{rid} not DONE: {case['step']}, {tracked['current_step']}")
    outcome.seconds = time.monotonic() - started
    await check_all(stack.endpoints, walked, outcome.findings, stack.data_dir / "replay.json")
    return outcome


def run_chaos(
    flows: int,
    kills: int,
    interval: float,
    think: float = 0.0,
    say: Callable[[str], None] = print,
    settle_timeout: float = 600.0,
    brokers: int = 1,
) -> Outcome:
    """A fresh supervised stack (Kafka with ``brokers`` nodes), ``flows`` users walking
    requests while ``kills`` SIGKILLs go round-robin over the components ``interval`` seconds
    apart, each user pausing ``think`` seconds before each command; the checks."""
    with chaos_stack(say, brokers=brokers) as stack:
        return asyncio.run(drive(stack, flows, kills, interval, think, settle_timeout))
