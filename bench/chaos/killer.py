"""Kills the stack's components with SIGKILL in turn, one at a time, and times how long each
takes to come back by the supervisor's hand (the killer never starts anything)."""

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from bench.chaos.stack import ChaosStack, wait_for
from devstack.process import kill_now


@dataclass(frozen=True)
class Kill:
    component: str
    recovered_seconds: float
    """From the SIGKILL to the component answering again (restarted by the supervisor)."""
    healed_seconds: float
    """From the component's return to every service answering ``/health`` 200 again."""


class NotRecovered(AssertionError):
    pass


@dataclass
class Killer:
    stack: ChaosStack
    kills: int
    interval_seconds: float
    recovery_timeout: float = 300.0
    done: list[Kill] = field(default_factory=list)
    stopped: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        """``kills`` kills round-robin over the components, ``interval_seconds`` after the
        previous one's component and every service are back."""
        order = self.stack.components
        for n in range(self.kills):
            if self.stopped.wait(self.interval_seconds):
                return
            self.kill(order[n % len(order)])

    def kill(self, name: str) -> None:
        pid = self.stack.supervisor.pid(name)
        killed_at = time.monotonic()
        kill_now(pid)

        def back() -> bool:
            now = self.stack.supervisor.pid(name)
            return now is not None and now != pid and self.stack.is_ready(name)

        if not wait_for(back, self.recovery_timeout):
            raise NotRecovered(f"{name} not back {self.recovery_timeout:.0f} s after SIGKILL")
        recovered_at = time.monotonic()
        if not wait_for(self.stack.all_services_healthy, self.recovery_timeout):
            raise NotRecovered(f"services not healthy {self.recovery_timeout:.0f} s after {name}")
        self.done.append(Kill(name, recovered_at - killed_at, time.monotonic() - recovered_at))

    def per_component(self) -> Counter[str]:
        return Counter(k.component for k in self.done)

    def outage_seconds(self) -> dict[str, float]:
        outage: dict[str, float] = {}
        for k in self.done:
            outage[k.component] = outage.get(k.component, 0.0) + k.recovered_seconds
        return outage
