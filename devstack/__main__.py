"""``python -m devstack up|down|env|run``: the local Kafka and PostgreSQL, and with ``run`` every
service behind one gateway."""

from dataclasses import replace
from pathlib import Path

import typer
import uvicorn

from devstack.gateway import create_gateway
from devstack.process import free_port, port_is_free
from devstack.services import auditor_url, migrate, service_processes, web_process
from devstack.stack import DEFAULT_DATA_DIR, Stack
from devstack.supervisor import Supervisor
from services.identity.demo import DEMO_PASSWORD
from services.identity.demo import USERS as DEMO_USERS

cli = typer.Typer(help="Local Apache Kafka and PostgreSQL for Jejak, on loopback.")
DataDir = typer.Option(DEFAULT_DATA_DIR, "--data-dir", help="Where both servers keep their data")


def _describe(stack: Stack) -> None:
    endpoints = stack.up()
    typer.echo(f"Kafka         {endpoints.kafka_bootstrap_servers}")
    typer.echo(f"PostgreSQL    {endpoints.database_url}")
    typer.echo(f"Data          {stack.data_dir}")


@cli.command()
def up(data_dir: Path = DataDir) -> None:
    """Start both servers in the background (or find them running), migrate the database (the
    owner, as before ``run``'s services: a service started by hand then finds its schema) and
    print where they are."""
    stack = Stack(data_dir)
    _describe(stack)
    migrate(stack.up(), data_dir)


@cli.command()
def down(data_dir: Path = DataDir) -> None:
    """Stop both servers cleanly; their data stays."""
    Stack(data_dir).down()
    typer.echo("stopped")


@cli.command()
def env(
    data_dir: Path = DataDir,
    auditor: bool = typer.Option(
        False,
        "--auditor",
        help="DATABASE_URL as the inspectors' read-only role (enough for jejak audit verify and "
        "documents); without it the owner's (jejak audit replay needs it)",
    ),
) -> None:
    """Print shell exports for the running stack (starting it if needed), in development."""
    endpoints = Stack(data_dir).up()
    if auditor:
        endpoints = replace(endpoints, database_url=auditor_url(endpoints.database_url))
    typer.echo("export ENVIRONMENT=development")
    for key, value in endpoints.as_env().items():
        typer.echo(f"export {key}={value}")


@cli.command()
def run(
    data_dir: Path = DataDir,
    port: int = typer.Option(8000, help="The gateway's port on 127.0.0.1 (0: any free one)"),
) -> None:
    """Start Kafka and PostgreSQL, migrate the database (the owner, once), then every service
    (each as its own database role) and the gateway in the foreground, restarting whichever
    process ends (``devstack.supervisor``); Ctrl-C stops them all."""
    stack = Stack(data_dir)
    _describe(stack)
    endpoints = stack.up()
    services = service_processes(endpoints, data_dir)
    web = web_process(services, data_dir)
    processes = {p.name: p for p in (*services, web)}
    supervisor = Supervisor({**stack.supervised(), **processes}, say=typer.echo)
    try:
        migrate(endpoints, data_dir)  # by the owner, once; no service gets the owner's URL
        supervisor.start()
        gateway_port = port if port and port_is_free(port) else free_port()
        for process in services:
            typer.echo(
                f"{process.name:<14}http://127.0.0.1:{gateway_port}/api/{process.name}/docs"
                f"   (log {process.log})"
            )
        typer.echo(f"{'web':<14}http://127.0.0.1:{gateway_port}/   (log {web.log})")
        typer.echo(f"\nJejak berjalan di http://127.0.0.1:{gateway_port}/  (Ctrl-C untuk berhenti)")
        typer.echo(
            f"Pengguna demo (kata sandi: {DEMO_PASSWORD}): "
            + ", ".join(user[0] for user in DEMO_USERS)
        )
        upstreams = {p.name: p.url for p in services}
        uvicorn.run(
            create_gateway(upstreams, web.url),
            host="127.0.0.1",
            port=gateway_port,
            log_level="warning",
        )
    finally:
        supervisor.stop()
        stack.down()
        typer.echo("Jejak dihentikan.")


if __name__ == "__main__":
    cli()
