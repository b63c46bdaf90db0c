"""What the benchmark prints: the machine, each run, then the medians against the targets."""

import os
import platform
import statistics
from importlib.metadata import version
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.results import Figure, Run
from devstack.kafka import kafka_version

WRITE_TARGET_RATIO = 2.0
RELAY_TARGET = 20_000.0

console = Console(width=max(Console().width, 124))


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine(postgres: dict[str, str]) -> dict[str, str]:
    """The facts the figures depend on."""
    settings = {k: v for k, v in postgres.items() if k != "version"}
    packages = ("asyncpg", "aiokafka", "pydantic", "eventsourcing", "psycopg")
    return {
        "cpus": f"{os.cpu_count()} × {_cpu_model()}",
        "memory": _memory(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "postgresql": postgres.get("version", "unknown"),
        "postgresql settings": ", ".join(f"{k}={v}" for k, v in settings.items()),
        "kafka": f"{kafka_version()} (deploy/kafka/pom.xml), single node, KRaft",
        "packages": ", ".join(f"{p} {version(p)}" for p in packages),
    }


def print_machine(facts: dict[str, str]) -> None:
    for key, value in facts.items():
        console.print(f"[bold]{key}[/bold]: {value}")


def print_run(run: Run) -> None:
    console.print(
        f"  {run.label:<42} writers={run.writers:<2} events={run.events:<7,} "
        f"{run.seconds:6.2f} s  {run.rate:8,.0f} events/s"
    )


def ratios(mine: Figure, theirs: Figure) -> list[float]:
    """Ours over theirs, round by round (each round ran both back to back)."""
    return [a.rate / b.rate for a, b in zip(mine.runs, theirs.runs, strict=True)]


def print_summary(ours: list[Figure], library: list[Figure], relay: Figure | None) -> bool:
    """The medians as one table; returns whether every target was met. The ratio is the
    median of the round-by-round ratios, which the machine's ups and downs disturb least."""
    table = Table(title="Jejak benchmark (medians of the rounds)")
    table.add_column("what")
    for column in ("writers", "events/s", "range", "ours/theirs", "target"):
        table.add_column(column, justify="right")
    met = True
    for mine, theirs in zip(ours, library, strict=True):
        ratio = statistics.median(ratios(mine, theirs))
        target = ""
        if mine.writers > 1:
            ok = ratio >= WRITE_TARGET_RATIO
            met &= ok
            target = f"≥ {WRITE_TARGET_RATIO:.0f}x " + ("met" if ok else "MISSED")
        table.add_row(*_cells(mine), f"{ratio:.2f}x", target)
        table.add_row(*_cells(theirs), "", "")
    if relay is not None:
        ok = relay.rate >= RELAY_TARGET
        met &= ok
        table.add_row(*_cells(relay), "", f"≥ {RELAY_TARGET:,.0f}/s " + ("met" if ok else "MISSED"))
    console.print(table)
    for mine, theirs in zip(ours, library, strict=True):
        rounds = ", ".join(f"{r:.2f}x" for r in ratios(mine, theirs))
        console.print(f"ours/theirs at {mine.writers} writer(s), round by round: {rounds}")
    console.print("[green]every target met[/green]" if met else "[red]a target was missed[/red]")
    return met


def _cells(figure: Figure) -> tuple[str, str, str, str]:
    return (
        figure.label,
        str(figure.writers),
        f"{figure.rate:,.0f}",
        f"{figure.low:,.0f}–{figure.high:,.0f}",
    )
