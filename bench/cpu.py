"""CPU use of processes and of the machine, from ``/proc`` (Linux): what a benchmark's figures
must be read with on a shared machine."""

import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Watched:
    """A process to account for, with its descendants (a server's workers) or alone."""

    pid: int
    descendants: bool = True


def _processes() -> dict[int, tuple[int, float, str]]:
    """Every live process: its parent's pid, the CPU seconds it used so far, its name."""
    tick = os.sysconf("SC_CLK_TCK")
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        rest = text[text.rindex(")") + 1 :].split()  # from the state on: ppid, ..., utime, stime
        found[int(entry.name)] = (int(rest[1]), (int(rest[11]) + int(rest[12])) / tick, name)
    return found


def children_named(pid: int, name: str) -> list[int]:
    """The direct children of ``pid`` with that process name (e.g. ``java``)."""
    return [p for p, (ppid, _, n) in _processes().items() if ppid == pid and n == name]


def parent_of(pid: int) -> int:
    return _processes()[pid][0]


def cpu_seconds(watched: dict[str, Watched]) -> dict[str, float]:
    """CPU seconds (user + system) used so far by each watched process (with its live
    descendants if asked), and by the whole machine (``"machine"``: every core's busy time,
    other sessions' processes included)."""
    processes = _processes()
    children: dict[int, list[int]] = defaultdict(list)
    for pid, (ppid, _, _) in processes.items():
        children[ppid].append(pid)
    used = {}
    for name, w in watched.items():
        total, todo = 0.0, [w.pid]
        while todo:
            pid = todo.pop()
            if pid in processes:
                total += processes[pid][1]
                if w.descendants:
                    todo += children[pid]
        used[name] = total
    tick = os.sysconf("SC_CLK_TCK")
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(
        int, Path("/proc/stat").read_text().split()[1:9]
    )
    used["machine"] = (user + nice + system + irq + softirq + steal) / tick
    return used


def cpu_shares(
    before: dict[str, float], after: dict[str, float], seconds: float
) -> dict[str, float]:
    """Percent of one core each used between the two readings; ``"machine"`` in percent of all
    the machine's cores."""
    shares = {k: (after[k] - before[k]) / seconds * 100 for k in before}
    shares["machine"] /= os.cpu_count() or 1
    return shares
