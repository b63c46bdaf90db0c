"""``python -m bench.chaos``: the long fault-injection run of ``make chaos``."""

import typer

from bench.chaos.run import run_chaos


def main(
    flows: int = typer.Option(30, help="Users walking requests at once"),
    kills: int = typer.Option(
        120, help="SIGKILLs, round-robin over the components (12 with three brokers)"
    ),
    brokers: int = typer.Option(3, help="Kafka nodes: 1, or a KRaft cluster of 3"),
    interval: float = typer.Option(1.0, help="Seconds between a recovery and the next kill"),
    think: float = typer.Option(3.0, help="Seconds a user pauses before each command"),
) -> None:
    outcome = run_chaos(flows, kills, interval, think, say=typer.echo, brokers=brokers)
    for line in outcome.lines():
        typer.echo(line)
    raise typer.Exit(0 if outcome.ok else 1)


if __name__ == "__main__":
    typer.run(main)
