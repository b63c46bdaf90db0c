"""What the benchmark prints: the machine, the figures, the ratios, against the targets."""

import os
import platform
from importlib.metadata import version
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.results import Run
from devstack.kafka import kafka_version

WRITE_TARGET_RATIO = 2.0
RELAY_TARGET = 20_000.0

console = Console()


def _memory_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def machine(postgres: dict[str, str]) -> dict[str, str]:
    """The facts the figures depend on."""
    packages = ("asyncpg", "aiokafka", "pydantic", "eventsourcing", "psycopg")
    return {
        "cpus": str(os.cpu_count()),
        "memory": _memory_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "postgresql": postgres.pop("version"),
        "postgresql settings": ", ".join(f"{k}={v}" for k, v in postgres.items()),
        "kafka": f"{kafka_version()} (deploy/kafka/pom.xml), single node, KRaft",
        "packages": ", ".join(f"{p} {version(p)}" for p in packages),
    }


def print_machine(facts: dict[str, str]) -> None:
    for key, value in facts.items():
        console.print(f"[bold]{key}[/bold]: {value}")


def print_run(run: Run) -> None:
    console.print(f"  {run.label:<42} writers={run.writers:<2} events={run.events:<7} "
                  f"{run.seconds:7.2f} s  [bold]{run.rate:9,.0f} events/s[/bold]")


def print_summary(ours: dict[int, Run], library: dict[int, Run], relay: Run | None) -> bool:
    """The figures as one table; returns whether every target was met."""
    table = Table(title="Jejak benchmark")
    for column in ("what", "writers", "events", "seconds", "events/s", "ours / eventsourcing"):
        table.add_column(column, justify="left" if column == "what" else "right")
    met = True
    for writers in sorted(ours):
        for run in (ours[writers], library[writers]):
            ratio = ""
            if run is ours[writers]:
                value = run.rate / library[writers].rate
                ratio = f"{value:.2f}x"
                if writers > 1:
                    met &= value >= WRITE_TARGET_RATIO
                    ratio += f" (target ≥ {WRITE_TARGET_RATIO:.0f}x)"
            table.add_row(run.label, str(writers), f"{run.events:,}", f"{run.seconds:.2f}",
                          f"{run.rate:,.0f}", ratio)
    if relay is not None:
        met &= relay.rate >= RELAY_TARGET
        table.add_row(f"{relay.label} → Kafka (acked)", "1", f"{relay.events:,}",
                      f"{relay.seconds:.2f}", f"{relay.rate:,.0f}",
                      f"(target ≥ {RELAY_TARGET:,.0f}/s)")
    console.print(table)
    console.print("[green]every target met[/green]" if met else "[red]a target was missed[/red]")
    return met
