"""``devstack.throwaway``: what a killed owner left running is stopped by the next owner."""

import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.throwaway import OWNER_FILE, OWNER_VARIABLE, is_alive, mark_of, reap_orphans

GONE = "4194305:1"
"""The mark of an owner that cannot exist (above Linux's largest pid)."""


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen[bytes]]]:
    processes: list[subprocess.Popen[bytes]] = []
    yield processes
    for process in processes:
        process.kill()
        process.wait()


def sleeper(started: list[subprocess.Popen[bytes]], mark: str | None) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != OWNER_VARIABLE}
    if mark is not None:
        env[OWNER_VARIABLE] = mark
    process = subprocess.Popen(["sleep", "60"], env=env)
    started.append(process)
    return process


def test_a_mark_names_one_process_for_its_lifetime() -> None:
    mine = mark_of(os.getpid())
    assert mine is not None and is_alive(mine)
    assert not is_alive(GONE)
    assert not is_alive(f"{os.getpid()}:0")  # the same pid, but not started then: reused


def test_only_processes_of_a_gone_owner_are_stopped(
    started: list[subprocess.Popen[bytes]],
) -> None:
    orphan = sleeper(started, GONE)
    owned = sleeper(started, mark_of(os.getpid()))
    unmarked = sleeper(started, None)

    stopped = reap_orphans(wait_seconds=5)

    assert orphan.pid in stopped
    assert orphan.wait(timeout=5) != 0  # ended by a signal
    assert owned.poll() is None and unmarked.poll() is None
    assert owned.pid not in stopped and unmarked.pid not in stopped


def test_the_folder_of_a_gone_owner_is_removed() -> None:
    with tempfile.TemporaryDirectory(prefix="jejak-live-") as live:
        (Path(live) / OWNER_FILE).write_text(str(mark_of(os.getpid())))
        gone = Path(tempfile.mkdtemp(prefix="jejak-gone-"))
        (gone / OWNER_FILE).write_text(GONE)
        (gone / "kafka").mkdir()

        reap_orphans(wait_seconds=1)

        assert not gone.exists()
        assert Path(live).exists()
