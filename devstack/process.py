"""Detached server processes: start, check, stop; and loopback ports."""

import os
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def accepts_connections(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


_children: dict[int, subprocess.Popen[bytes]] = {}


def spawn(args: Sequence[str], log: Path, env: dict[str, str] | None = None) -> int:
    """Start ``args`` in its own session, output to ``log``; returns the pid."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            list(args),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, **(env or {})},
        )
    _children[process.pid] = process
    return process.pid


def is_alive(pid: int | None) -> bool:
    """Whether ``pid`` runs (a zombie, ended but not yet waited for by its parent, does not)."""
    if not pid:
        return False
    if pid in _children:
        return _children[pid].poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def exit_status(pid: int | None) -> int | None:
    """How a process this one started ended: its exit code, or minus the signal that ended it;
    None if it runs, or was not started here (``spawn``)."""
    process = _children.get(pid or 0)
    return None if process is None else process.poll()


def terminate(pid: int | None, timeout: float = 30.0) -> None:
    """SIGTERM, wait up to ``timeout`` seconds, then SIGKILL."""
    if not is_alive(pid):
        return
    assert pid is not None
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_alive(pid):
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)


def kill_now(pid: int | None, timeout: float = 10.0) -> None:
    """SIGKILL, as a crash would, and wait until the process is gone."""
    if not is_alive(pid):
        return
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while is_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def kill_working_in(directory: Path, timeout: float = 10.0) -> list[int]:
    """SIGKILL every process whose working directory is ``directory`` and wait until they are
    gone; returns their pids. (What a killed PostgreSQL leaves: its backends, which keep its
    shared memory until they end, so that a new postmaster refuses to start.) Without Linux's
    ``/proc``, nothing is found."""
    target = directory.resolve()
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if Path(os.readlink(entry / "cwd")) == target:
                found.append(int(entry.name))
        except OSError:
            continue
    for pid in found:
        kill_now(pid, timeout)
    return found


def wait_until(check: object, what: str, timeout: float, log: Path | None = None) -> None:
    assert callable(check)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise TimeoutError(f"{what} did not come up within {timeout:.0f}s\n{tail}")
