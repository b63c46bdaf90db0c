"""``python -m devstack up|down|status|env``: the local Kafka and PostgreSQL."""

import signal
import time
from pathlib import Path

import typer

from devstack.stack import DEFAULT_DATA_DIR, Stack

cli = typer.Typer(help="Local Apache Kafka and PostgreSQL for Jejak, on loopback.")
DataDir = typer.Option(DEFAULT_DATA_DIR, "--data-dir", help="Where both servers keep their data")


def _describe(stack: Stack) -> None:
    endpoints = stack.up()
    typer.echo(f"Kafka       {endpoints.kafka_bootstrap_servers}")
    typer.echo(f"PostgreSQL  {endpoints.database_url}")
    typer.echo(f"Data        {stack.data_dir}")


@cli.command()
def up(data_dir: Path = DataDir) -> None:
    """Start both servers in the background (or find them running) and print where they are."""
    _describe(Stack(data_dir))


@cli.command()
def down(data_dir: Path = DataDir) -> None:
    """Stop both servers cleanly; their data stays."""
    Stack(data_dir).down()
    typer.echo("stopped")


@cli.command()
def env(data_dir: Path = DataDir) -> None:
    """Print shell exports for the running stack (starting it if needed)."""
    for key, value in Stack(data_dir).up().as_env().items():
        typer.echo(f"export {key}={value}")


@cli.command()
def run(data_dir: Path = DataDir) -> None:
    """Start both servers in the foreground; Ctrl-C stops them."""
    stack = Stack(data_dir)
    _describe(stack)
    typer.echo("Running. Press Ctrl-C to stop.")
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    try:
        while not stopping:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    stack.down()
    typer.echo("stopped")


if __name__ == "__main__":
    cli()
