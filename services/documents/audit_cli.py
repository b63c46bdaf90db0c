"""``jejak audit documents``: every issued document re-rendered from Kafka and compared with its
``DocumentIssued``, and the service's stored row and PDF of each too (``services.documents.
audit``); also run by ``jejak audit verify`` and ``replay`` (``check``). Exit 0: every document
re-renders to its recorded bytes and is stored as issued; 1: some differ; 2: the check could not
run. Reads ``KAFKA_BOOTSTRAP_SERVERS``, ``DATABASE_URL`` (the inspectors' read-only
``jejak_auditor``'s is enough) and the ``DOCUMENTS_*`` settings, as the service does."""

import asyncio
import dataclasses
import json
from pathlib import Path
from typing import Annotated, Any

import asyncpg
import typer
from aiokafka.errors import KafkaError
from rich.console import Console
from rich.table import Table

from infra.kafka_acl import AUDITOR
from infra.settings import Settings
from services.documents.audit import DocumentsAudit, audit_documents
from services.documents.config import DocumentsConfig

console = Console()
SHOW = 50
FAILURES = (OSError, KafkaError, asyncpg.PostgresError)


def print_audit(result: DocumentsAudit, show: int = SHOW) -> None:
    for topic in result.missing_topics:
        console.print(f"[yellow]topic {topic} does not exist: nothing read from it[/yellow]")
    for lost in result.lost:
        console.print(f"[red]history deleted: {lost} (the check is partial)[/red]")
    if result.unreadable:
        console.print(f"{result.unreadable} record(s) not read: no event this code knows")
    console.print(
        f"documents re-rendered from Kafka: {result.documents:,}, identical: "
        f"{len(result.identical):,}, differing: {len(result.differences):,} "
        f"(templates sha256 {result.templates[:16]}…)"
    )
    if result.differences:
        table = Table(title=f"documents differing (first {min(show, len(result.differences))})")
        for column in ("request", "document", "kind", "number", "why"):
            table.add_column(column, overflow="fold")
        for d in result.differences[:show]:
            table.add_row(d.request_id, d.document_id, d.kind, d.number, d.reason)
        console.print(table)
        differing = len({d.document_id for d in result.differences})
        console.print(f"[bold red]{differing:,} document(s) differ[/bold red]")
    elif result.intact:
        console.print("[bold green]every document re-renders as issued[/bold green]")


def check(
    settings: Settings,
    tenant: str | None,
    show: int = SHOW,
    request: str | None = None,
    stored: bool = True,
) -> tuple[int, dict[str, Any]]:
    """The re-rendering (and with ``stored`` the service's rows and files compared), printed;
    its exit status and report. Also a further check of ``verify`` and ``replay``
    (``services.reporting.cli.FurtherCheck``)."""
    try:
        result = asyncio.run(
            audit_documents(
                settings.kafka_login(AUDITOR),
                DocumentsConfig(),
                tenant=tenant,
                request=request,
                database_url=settings.database_url if stored else None,
            )
        )
    except FAILURES as error:
        console.print(f"[bold red]documents could not be checked:[/bold red] {error}")
        return 2, {"error": str(error)}
    print_audit(result, show)
    return (0 if result.intact else 1), dataclasses.asdict(result) | {"intact": result.intact}


def documents_command(
    tenant: Annotated[
        str | None, typer.Option(help="Only this tenant's documents (default: every tenant)")
    ] = None,
    request: Annotated[
        str | None, typer.Option(help="Only this request's documents (default: every request)")
    ] = None,
    stored: Annotated[
        bool, typer.Option(help="Also compare the service's stored rows and PDFs (DATABASE_URL)")
    ] = True,
    show: Annotated[int, typer.Option(min=0, help="Differences to print")] = SHOW,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the whole result to this file")
    ] = None,
) -> None:
    """Re-render every issued document from Kafka and compare it with its DocumentIssued. Exit
    0 if every one is identical, 1 if not, 2 if the check could not run."""
    code, body = check(Settings.from_environment(), tenant, show, request, stored)
    if json_out is not None and code != 2:
        json_out.write_text(json.dumps(body, ensure_ascii=False, indent=2))
        console.print(f"written to {json_out}")
    raise typer.Exit(code)
