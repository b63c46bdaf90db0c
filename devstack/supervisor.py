"""Keeps named processes running: one that exits is started again after a backoff that doubles
with each exit that follows soon after a start, and the console is told so in Indonesian
("intake berhenti (sinyal 9), dijalankan ulang dalam 0,5 detik"). ``stop`` stops them all, last
named first, and restarts none of them from then on.

Each process is watched by its own thread, so a slow start (Kafka's takes seconds) holds up no
other. A process already running when the supervisor starts is adopted, not started again."""

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from devstack.process import exit_status, is_alive


class Supervised(Protocol):
    """A process the supervisor can start (returning once it is ready, or raising) and stop."""

    @property
    def pid(self) -> int | None: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class Backoff:
    first: float = 0.5
    longest: float = 30.0
    stable_after: float = 60.0
    """A process that ran at least this long before it exited is restarted after ``first``."""

    def delay(self, quick_exits: int) -> float:
        return float(min(self.longest, self.first * 2 ** max(quick_exits - 1, 0)))


def why_it_ended(status: int | None, error: BaseException | None = None) -> str:
    """What ended a process, as the console says it: its signal, its exit code, or the kind of
    error its start raised (the details are in its log)."""
    if status is not None and status < 0:
        return f" (sinyal {-status})"
    if status is not None:
        return f" (kode {status})"
    if error is not None:
        return f" (gagal dimulai: {type(error).__name__})"
    return ""


def seconds(delay: float) -> str:
    return f"{delay:.1f}".replace(".", ",")


@dataclass
class _Child:
    process: Supervised
    restarts: int = 0
    quick_exits: int = 0
    started_at: float = 0.0
    last_pid: int | None = None
    first_start: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None


class Supervisor:
    """``processes`` by name, in start order; ``say`` writes one line to the console."""

    def __init__(
        self,
        processes: Mapping[str, Supervised],
        say: Callable[[str], None],
        backoff: Backoff = Backoff(),
        poll_seconds: float = 0.2,
    ) -> None:
        self._children = {name: _Child(process) for name, process in processes.items()}
        self._say = say
        self.backoff = backoff
        self._poll = poll_seconds
        self._stopping = threading.Event()
        self._lock = threading.Lock()

    def process(self, name: str) -> Supervised:
        return self._children[name].process

    def pid(self, name: str) -> int | None:
        return self._children[name].process.pid

    def restarts(self, name: str) -> int:
        """How many times ``name`` was started again after it ended."""
        return self._children[name].restarts

    def start(self, timeout: float | None = None) -> None:
        """Start every process (each in its own thread, at once) and keep it running; returns
        when each one's first start is over (ready, or failed and due for a restart)."""
        for name, child in self._children.items():
            child.thread = threading.Thread(
                target=self._keep_running, args=(name, child), name=f"supervise-{name}", daemon=True
            )
            child.thread.start()
        for child in self._children.values():
            child.first_start.wait(timeout)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop watching, then stop every process, the last named first."""
        with self._lock:
            self._stopping.set()
        children = list(reversed(self._children.values()))
        for child in children:
            child.process.stop()
        deadline = time.monotonic() + timeout
        for child in children:
            if child.thread is not None:
                child.thread.join(max(deadline - time.monotonic(), 0))
        for child in children:  # one a thread was starting as the stop began
            child.process.stop()

    def _keep_running(self, name: str, child: _Child) -> None:
        ended = self._start(child, adopt=True)
        child.first_start.set()
        while not self._stopping.is_set():
            if ended is None:
                if is_alive(child.process.pid):
                    self._stopping.wait(self._poll)
                    continue
                ended = why_it_ended(exit_status(child.last_pid))
            ran = time.monotonic() - child.started_at
            child.quick_exits = 1 if ran >= self.backoff.stable_after else child.quick_exits + 1
            delay = self.backoff.delay(child.quick_exits)
            with self._lock:
                if self._stopping.is_set():
                    return
                self._say(f"{name} berhenti{ended}, dijalankan ulang dalam {seconds(delay)} detik")
            if self._stopping.wait(delay):
                return
            child.restarts += 1
            ended = self._start(child)

    def _start(self, child: _Child, adopt: bool = False) -> str | None:
        """Start ``child``'s process; None if it runs, else why it does not."""
        child.started_at = time.monotonic()
        if adopt and is_alive(child.process.pid):
            child.last_pid = child.process.pid
            return None
        try:
            child.process.start()
        except Exception as error:
            child.last_pid = child.process.pid or child.last_pid
            if is_alive(child.process.pid):
                return None  # running, not ready yet: watched like any other
            return why_it_ended(exit_status(child.process.pid), error)
        child.last_pid = child.process.pid
        return None
