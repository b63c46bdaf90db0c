"""Throwaway stacks (a test session's, a benchmark's) that never outlive their owner for long.

A throwaway stack lives in a temporary folder and is stopped when its owner ends. An owner that
is killed (SIGKILL, a CI timeout, a closed terminal) cannot stop it, so the owner marks its
environment (``OWNER_VARIABLE``: its pid and start time, which no later process shares) before it
starts anything, and every process it starts inherits the mark: Kafka, PostgreSQL and its
backends, the services of the end-to-end tests. Before the next throwaway stack starts,
``reap_orphans`` stops every marked process whose owner is gone and removes the folders such
owners left. Processes without the mark (``make run``'s stack, anything else) are never touched.
"""

import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from devstack.stack import Stack

OWNER_VARIABLE = "JEJAK_THROWAWAY_OWNER"
OWNER_FILE = "owner"
"""The owner's mark, in its folder."""
FOLDER_PREFIX = "jejak-"

_PROC = Path("/proc")


def _stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` from the third (the state) on; None if no such
    process."""
    try:
        return (_PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _parent_of(pid: int) -> int:
    fields = _stat(pid)
    return int(fields[1]) if fields else 0


def mark_of(pid: int) -> str | None:
    """``pid:start time`` of a running process; None if there is none with that pid (or only
    its zombie, which its parent has yet to wait for)."""
    fields = _stat(pid)
    return None if fields is None or fields[0] == "Z" else f"{pid}:{fields[19]}"


def is_alive(mark: str) -> bool:
    """Whether the process that made ``mark`` still runs (not another one with its pid)."""
    pid, _, _ = mark.partition(":")
    return pid.isdigit() and mark_of(int(pid)) == mark


def _marked() -> dict[int, tuple[str, int]]:
    """Every process with an owner's mark: pid -> (the mark, its parent's pid)."""
    found: dict[int, tuple[str, int]] = {}
    prefix = f"{OWNER_VARIABLE}=".encode()
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        with suppress(OSError):
            variables = (entry / "environ").read_bytes().split(b"\0")
            mark = next((v[len(prefix) :] for v in variables if v.startswith(prefix)), None)
            if mark is not None:
                pid = int(entry.name)
                found[pid] = (mark.decode(errors="replace"), _parent_of(pid))
    return found


def _ancestry(pid: int) -> set[int]:
    """``pid`` and its parent, grandparent... up to the first process."""
    line: set[int] = set()
    while pid > 0 and pid not in line:
        line.add(pid)
        pid = _parent_of(pid)
    return line


def reap_orphans(wait_seconds: float = 20.0) -> list[int]:
    """Stop every marked process whose owner is gone, and remove its owner's folder. Returns
    the pids stopped.

    Only the top processes of an orphaned tree are asked to stop (SIGTERM: a PostgreSQL
    postmaster stops its own backends, Kafka shuts down cleanly); whatever is still there after
    ``wait_seconds`` is killed. Without Linux's ``/proc`` there is nothing to go by: nothing is
    reaped."""
    if not _PROC.is_dir():
        return []
    spared = _ancestry(os.getpid())  # never this process or what runs it, whatever its mark
    orphans = {
        pid: found
        for pid, found in _marked().items()
        if pid not in spared and not is_alive(found[0])
    }
    for pid, (_, parent) in orphans.items():
        if parent not in orphans:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + wait_seconds
    while any(mark_of(pid) for pid in orphans) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in orphans:
        if mark_of(pid):
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    for folder in Path(tempfile.gettempdir()).glob(f"{FOLDER_PREFIX}*"):
        with suppress(OSError):
            owner = (folder / OWNER_FILE).read_text()
            if not is_alive(owner):
                shutil.rmtree(folder, ignore_errors=True)
    return sorted(orphans)


@contextmanager
def throwaway_stack(purpose: str) -> Iterator[Stack]:
    """A stack in a fresh temporary folder (``jejak-<purpose>-…``), stopped at the end; this
    process's environment is marked first, so what it starts can be reaped if it is killed."""
    reap_orphans()
    mark = mark_of(os.getpid())
    if mark is not None:  # None without /proc
        os.environ[OWNER_VARIABLE] = mark
    with tempfile.TemporaryDirectory(prefix=f"{FOLDER_PREFIX}{purpose}-") as folder:
        if mark is not None:
            (Path(folder) / OWNER_FILE).write_text(mark)
        stack = Stack(Path(folder))
        try:
            yield stack
        finally:
            stack.down()
