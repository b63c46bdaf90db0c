"""``devstack.supervisor`` with real processes: a process killed with SIGKILL is started again
and the console told so in Indonesian, one that keeps exiting waits longer each time, and a stop
stops everything and restarts nothing."""

import itertools
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from devstack.process import is_alive, spawn, terminate
from devstack.supervisor import Backoff, Supervisor, why_it_ended

SLEEP = [sys.executable, "-c", "import time; time.sleep(600)"]
EXIT_3 = [sys.executable, "-c", "raise SystemExit(3)"]


@dataclass
class Command:
    args: list[str]
    log: Path
    pid: int | None = None
    starts: list[float] = field(default_factory=list)

    def start(self) -> None:
        self.starts.append(time.monotonic())
        self.pid = spawn(self.args, self.log)

    def stop(self) -> None:
        terminate(self.pid, timeout=5)
        self.pid = None


def wait_for(check: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.fixture
def said() -> list[str]:
    return []


@pytest.fixture
def supervise(said: list[str], tmp_path: Path) -> Iterator[Callable[..., Supervisor]]:
    """``supervise(first_backoff, name=args, ...)``: a started supervisor, stopped at the end."""
    started: list[Supervisor] = []

    def make(first_backoff: float, **commands: list[str]) -> Supervisor:
        processes = {
            name: Command(args, tmp_path / f"{name}.log") for name, args in commands.items()
        }
        supervisor = Supervisor(
            processes, said.append, Backoff(first=first_backoff), poll_seconds=0.02
        )
        started.append(supervisor)
        supervisor.start(timeout=10)
        return supervisor

    yield make
    for supervisor in started:
        supervisor.stop()


def test_a_process_killed_with_sigkill_is_started_again_and_reported(
    supervise: Callable[..., Supervisor], said: list[str]
) -> None:
    supervisor = supervise(0.1, intake=SLEEP, approval=SLEEP)
    killed, other = supervisor.pid("intake"), supervisor.pid("approval")
    assert killed is not None and is_alive(killed) and is_alive(other)

    os.kill(killed, signal.SIGKILL)

    assert wait_for(lambda: supervisor.restarts("intake") == 1)
    assert wait_for(lambda: is_alive(supervisor.pid("intake")))
    assert supervisor.pid("intake") != killed
    assert said == ["intake berhenti (sinyal 9), dijalankan ulang dalam 0,1 detik"]
    assert supervisor.pid("approval") == other and supervisor.restarts("approval") == 0


def test_a_process_that_keeps_exiting_waits_twice_as_long_each_time(
    supervise: Callable[..., Supervisor], said: list[str]
) -> None:
    supervisor = supervise(0.1, intake=EXIT_3)

    assert wait_for(lambda: supervisor.restarts("intake") >= 3)

    assert said[:3] == [
        f"intake berhenti (kode 3), dijalankan ulang dalam {delay} detik"
        for delay in ("0,1", "0,2", "0,4")
    ]
    starts = supervisor_starts(supervisor, "intake")
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert all(gap >= delay for gap, delay in zip(gaps, (0.1, 0.2, 0.4), strict=False)), gaps


def supervisor_starts(supervisor: Supervisor, name: str) -> list[float]:
    process = supervisor.process(name)
    assert isinstance(process, Command)
    return process.starts


def test_stop_stops_every_process_and_restarts_none(
    supervise: Callable[..., Supervisor], said: list[str]
) -> None:
    supervisor = supervise(1.0, intake=SLEEP, reporting=SLEEP, crashing=EXIT_3)
    pids = [supervisor.pid("intake"), supervisor.pid("reporting")]
    assert wait_for(lambda: len(said) == 1)  # crashing waits a second for its restart

    began = time.monotonic()
    supervisor.stop()

    assert time.monotonic() - began < 1.0  # the pending restart was not waited for
    assert not any(is_alive(pid) for pid in pids)
    time.sleep(1.5)
    assert said == ["crashing berhenti (kode 3), dijalankan ulang dalam 1,0 detik"]
    assert len(supervisor_starts(supervisor, "crashing")) == 1
    assert [supervisor.restarts(n) for n in ("intake", "reporting", "crashing")] == [0, 0, 0]


def test_the_console_names_what_ended_a_process() -> None:
    assert why_it_ended(-9) == " (sinyal 9)"
    assert why_it_ended(1) == " (kode 1)"
    assert why_it_ended(None, TimeoutError("Kafka did not come up")) == (
        " (gagal dimulai: TimeoutError)"
    )
    assert why_it_ended(None) == ""
