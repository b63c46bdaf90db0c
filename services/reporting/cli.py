"""The inspector's commands (``python -m services.reporting.cli audit ...``):

* ``audit replay``: rebuild every reporting read model from Kafka offset 0 into a fresh schema,
  compare it with the live one table by table, report every difference (``services.reporting.
  replay``). Exit 0: identical; 1: differences; 2: the replay could not run.
* ``audit verify``: walk every hash chain in every service's event store and on Kafka and name
  the first broken link of each (``services.reporting.verify``). Exit 0: intact; 1: broken; 2:
  could not run.

A composing application (``jejak.cli``, the ``jejak`` command) may put further checks in the
command's context (``Checks``): each runs after the command's own and adds its report and exit
status; the documents' re-rendering is one (reporting imports no other service).

Both read ``DATABASE_URL`` (the replay an owner's: it creates a schema and a role; verification
only reads every service's events, which the inspectors' read-only role ``jejak_auditor`` may:
``infra.auditor_role``) and ``KAFKA_BOOTSTRAP_SERVERS``; the replay also ``APP_DB_PASSWORD``
and ``REPORTING_TIME_ZONE``, as the services do.
"""

import asyncio
import dataclasses
import datetime as dt
import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import asyncpg
import typer
from aiokafka.errors import KafkaError
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from events.topics import SERVICES, topic_for, topics_consumed_by
from infra.checkpoint_keys import (
    KeysFileError,
    PublicKeys,
    development_public_keys,
    public_keys_from_file,
)
from infra.kafka_acl import AUDITOR
from infra.settings import Settings
from services.reporting.checkpoint_audit import CheckpointReport
from services.reporting.config import ReportingConfig
from services.reporting.replay import LIVE_SCHEMA, ReplayOptions, ReplayResult, replay
from services.reporting.replay_worker import ReplayFailed
from services.reporting.verify import (
    ChainReport,
    audit_checkpoints,
    shipped_checkpoints,
    verify_all,
)


def inspectors_app(audit_help: str) -> tuple[typer.Typer, typer.Typer]:
    """An inspectors' command and its ``audit`` group (empty: the caller adds the commands)."""
    root = typer.Typer(
        add_completion=False,
        no_args_is_help=True,
        pretty_exceptions_show_locals=False,
        help="Jejak for inspectors (Inspektorat).",
    )
    group = typer.Typer(no_args_is_help=True, help=audit_help)
    root.add_typer(group, name="audit")
    return root, group


app, audit = inspectors_app("Replay the read models from Kafka; verify every hash chain.")
console = Console()
FAILURES = (OSError, asyncpg.PostgresError, KafkaError)
"""What makes a command exit with 2 (a server unreachable, refusing, or missing a schema)."""

FurtherCheck = Callable[[Settings, str | None], tuple[int, dict[str, Any]]]
"""A check run after ``verify`` and ``replay`` (given the settings and the tenant, if one):
it prints its report and returns its exit status (0, 1 or 2) and its report for ``--json``."""


@dataclasses.dataclass(frozen=True)
class Checks:
    """What a composing application puts in the commands' context (``typer.Context.obj``)."""

    further: Sequence[tuple[str, FurtherCheck]] = ()
    """Each further check by name (the key of its report in ``--json``)."""


def _further(
    ctx: typer.Context, settings: Settings, tenant: str | None
) -> tuple[int, dict[str, Any]]:
    """The context's further checks, run one after another: the worst exit status, and each
    report by name."""
    checks = ctx.obj.further if isinstance(ctx.obj, Checks) else ()
    code, reports = 0, {}
    for name, check in checks:
        status, reports[name] = check(settings, tenant)
        code = max(code, status)
    return code, reports


# --- audit replay -------------------------------------------------------------------------------


class _Bars:
    """The replay's progress: records read from Kafka, records projected, out of the total; then
    the tables compared. Redrawn from these calls, not by rich's refresh thread: the replay
    forks its workers, and a fork should not happen while another thread may hold a lock."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}
        self.drawn = 0.0

    def __call__(self, kind: str, count: int) -> None:
        if self.progress is None:
            return
        if kind == "total":
            for name, label in (("read", "reading Kafka"), ("projected", "projecting")):
                self.tasks[name] = self.progress.add_task(label, total=count)
        elif kind == "tables":
            self.tasks["compared"] = self.progress.add_task("comparing", total=count)
        elif kind in self.tasks:
            self.progress.advance(self.tasks[kind], count)
        if time.monotonic() - self.drawn >= 0.1:
            self.progress.refresh()
            self.drawn = time.monotonic()


class _Rate(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        unit = "tables" if task.description == "comparing" else "events"
        return Text(f"{speed:>9,.0f} {unit}/s" if speed else "")


@contextmanager
def _bars(enabled: bool) -> Iterator[_Bars]:
    if not enabled:
        yield _Bars(None)
        return
    columns = (
        TextColumn("{task.description:<14}"),
        BarColumn(),
        MofNCompleteColumn(),
        _Rate(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, auto_refresh=False) as progress:
        yield _Bars(progress)


def _short(value: Any, width: int = 70) -> str:
    if isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False, default=str)
    elif isinstance(value, dt.datetime):
        text = value.isoformat()
    else:
        text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _print_replay(result: ReplayResult, show: int) -> None:
    plan = result.plan
    console.print(
        f"replayed {result.events_read:,} records ({result.events_stored:,} projected, "
        f"{result.requests:,} requests) in {result.rebuild_seconds:.1f} s "
        f"({result.rate:,.0f} events/s, {result.workers} worker(s)) into [bold]{result.schema}"
        f"[/bold]" + (" (kept)" if result.kept else " (dropped)")
    )
    for topic in plan.missing_topics:
        console.print(f"[yellow]topic {topic} does not exist: nothing replayed from it[/yellow]")
    for lost in plan.lost:
        console.print(f"[red]history deleted: {lost} (the replay is partial)[/red]")
    if result.refusals:
        console.print(
            f"{len(result.refusals)} record(s) not projected, as the live consumer would "
            "dead-letter them:"
        )
        for refusal in result.refusals[:show]:
            where = refusal.where or f"{refusal.event_type} {refusal.event_id}"
            console.print(f"  {refusal.request_id or '-'} {where}: {refusal.reason}")
    if not result.tables:
        return
    console.print(f"compared in {result.compare_seconds:.1f} s")
    summary = Table(title="live schema vs replay")
    for column in ("table", "live rows", "replayed rows", "rows differing"):
        summary.add_column(column, justify="left" if column == "table" else "right")
    for t in result.tables:
        summary.add_row(
            t.table, f"{t.live_rows:,}", f"{t.replayed_rows:,}", f"{t.differing_rows:,}"
        )
    console.print(summary)
    if result.difference_count == 0:
        console.print("[bold green]identical[/bold green]" if result.identical else "")
        return
    table = Table(title=f"differences (first {min(show, result.difference_count)})")
    for column in ("table", "request", "key", "column", "live", "replayed"):
        table.add_column(column, overflow="fold")
    for d in result.differences[:show]:
        key = "" if d.key == d.request_id else d.key.removeprefix(f"{d.request_id}/")
        table.add_row(d.table, d.request_id, key, d.column, _short(d.live), _short(d.replayed))
    console.print(table)
    console.print(f"[bold red]{result.difference_count:,} difference(s)[/bold red]")


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, UUID | Path):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def _write_json(path: Path, body: Any) -> None:
    path.write_text(json.dumps(body, ensure_ascii=False, indent=2, default=_json_default))
    console.print(f"written to {path}")


@audit.command("replay")
def replay_command(
    ctx: typer.Context,
    keep: Annotated[bool, typer.Option(help="Keep the replay schema (default: drop it)")] = False,
    tenant: Annotated[
        str | None, typer.Option(help="Only this tenant's requests (default: every tenant)")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="Worker processes (default: one per partition number)"),
    ] = None,
    live_schema: Annotated[str, typer.Option(help="The live reporting schema")] = LIVE_SCHEMA,
    topic: Annotated[
        list[str] | None, typer.Option(help="A topic to replay (repeat; default: reporting's)")
    ] = None,
    show: Annotated[int, typer.Option(min=0, help="Differences to print")] = 50,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the whole result to this file")
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show progress bars")] = True,
) -> None:
    """Rebuild every read model from Kafka offset 0 into a fresh schema and compare it with the
    live one. Exit 0 if identical, 1 if not, 2 if the replay could not run."""
    settings = Settings.from_environment()
    options = ReplayOptions(
        live_schema=live_schema,
        topics=tuple(topic) if topic else topics_consumed_by("reporting"),
        tenant=tenant,
        workers=workers,
        keep=keep,
        time_zone=ReportingConfig().time_zone,
    )
    try:
        with _bars(progress) as bars:
            result = asyncio.run(replay(settings, options, bars))
    except (ReplayFailed, *FAILURES) as error:
        console.print(f"[bold red]replay failed:[/bold red] {error}")
        raise typer.Exit(2) from None
    _print_replay(result, show)
    code, further = (0, {}) if topic else _further(ctx, settings, tenant)
    if json_out is not None:
        body = dataclasses.asdict(result) | {"identical": result.identical}
        _write_json(json_out, body | further)
    raise typer.Exit(max(code, 0 if result.identical else 1))


# --- audit verify -------------------------------------------------------------------------------


def _print_verify(reports: list[ChainReport]) -> None:
    table = Table(title="hash chains")
    for column in ("source", "events", "streams", "broken", "first broken link"):
        table.add_column(column, justify="right" if column in ("events", "streams") else "left")
    for r in reports:
        if r.missing:
            table.add_row(r.source, "-", "-", "-", "[yellow]does not exist[/yellow]")
            continue
        first = "[green]intact[/green]"
        if r.first is not None:
            b = r.first
            first = (
                f"[red]stream {b.stream_id} version {b.stream_version}, event {b.event_id} "
                f"({b.where}): {b.reason}[/red]"
            )
        table.add_row(r.source, f"{r.events:,}", f"{r.streams:,}", str(r.broken_streams), first)
    console.print(table)


@audit.command("verify")
def verify_command(
    ctx: typer.Context,
    schema: Annotated[
        list[str] | None,
        typer.Option(help="An event store's schema (repeat; default: every service's)"),
    ] = None,
    topic: Annotated[
        list[str] | None, typer.Option(help="A topic (repeat; default: every service's)")
    ] = None,
    kafka: Annotated[bool, typer.Option(help="Also verify the envelopes on Kafka")] = True,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the reports to this file")
    ] = None,
    checkpoints: Annotated[
        bool,
        typer.Option(
            help="Also check each store and topic against the service's signed checkpoints "
            "(with Kafka; each --schema paired with the --topic in the same place)"
        ),
    ] = True,
    checkpoint_file: Annotated[
        list[Path] | None,
        typer.Option(help="A shipped checkpoint file to check too (repeat)"),
    ] = None,
) -> None:
    """Walk every stream's hash chain in every service's event store (and on Kafka) and name
    the first broken link of each; check the stores and topics against the services' signed
    checkpoints. Exit 0 if all are intact, 1 if not, 2 if it could not run."""
    settings = Settings.from_environment()
    pairs = _checkpoint_pairs(schema, topic) if checkpoints and kafka else []
    keys = _checkpoint_keys(settings, [service for service, _ in pairs]) if pairs else {}
    try:
        shipped, unreadable = shipped_checkpoints(checkpoint_file or [])
    except OSError as error:
        console.print(f"[bold red]berkas checkpoint tidak terbaca:[/bold red] {error}")
        raise typer.Exit(2) from None
    try:
        reports = asyncio.run(
            verify_all(
                settings.database_url,
                settings.kafka_login(AUDITOR) if kafka else None,
                tuple(schema) if schema else SERVICES,
                topic or None,
            )
        )
    except FAILURES as error:
        console.print(f"[bold red]verification failed:[/bold red] {error}")
        raise typer.Exit(2) from None
    _print_verify(reports)
    if all(r.missing for r in reports):
        console.print("[bold red]nothing to verify: no such schema or topic[/bold red]")
        raise typer.Exit(2)
    by_source = {r.source: r for r in reports}
    audits = [
        audit_checkpoints(
            service,
            by_source[f"store {service}"],
            by_source[f"kafka {topic_name}"],
            keys.get(service, {}),
            shipped,
        )
        for service, topic_name in pairs
    ]
    for report in audits[:1]:
        report.findings[:0] = unreadable
    _print_checkpoints(audits)
    code, further = (0, {}) if schema or topic or not kafka else _further(ctx, settings, None)
    if any(not a.intact for a in audits):
        code = max(code, 1)
    if json_out is not None:
        chains = [r.public() for r in reports]
        signed = [{"source": f"checkpoints {a.service}", **dataclasses.asdict(a)} for a in audits]
        _write_json(json_out, [*chains, *signed, *({"source": k, **v} for k, v in further.items())])
    broken = [r for r in reports if not r.intact]
    if broken:
        for r in broken:
            b = r.first
            assert b is not None
            console.print(
                f"{r.source}: first broken link: stream {b.stream_id} version "
                f"{b.stream_version}, event {b.event_id} ({b.where}): {b.reason}",
                soft_wrap=True,
            )
        console.print(f"[bold red]{len(broken)} source(s) with a broken chain[/bold red]")
        raise typer.Exit(max(code, 1))
    console.print("[bold green]every chain is intact[/bold green]")
    raise typer.Exit(code)


def _checkpoint_pairs(schemas: list[str] | None, topics: list[str] | None) -> list[tuple[str, str]]:
    """(service = schema, topic) of each service whose checkpoints are checked."""
    if not schemas and not topics:
        return [(service, topic_for(service)) for service in SERVICES]
    if schemas and topics and len(schemas) == len(topics):
        return list(zip(schemas, topics, strict=True))
    console.print(
        "[yellow]checkpoint tidak diperiksa: berikan --schema dan --topic berpasangan[/yellow]"
    )
    return []


def _checkpoint_keys(settings: Settings, services: list[str]) -> PublicKeys:
    """The services' public keys: CHECKPOINT_PUBLIC_KEYS_FILE, or in development the
    development keys. Exit 2 without them."""
    if settings.checkpoint_public_keys_file:
        try:
            return public_keys_from_file(Path(settings.checkpoint_public_keys_file))
        except KeysFileError as error:
            console.print(f"[bold red]{error}[/bold red]")
            raise typer.Exit(2) from None
    if settings.environment == "development":
        return development_public_keys(services)
    console.print(
        "[bold red]CHECKPOINT_PUBLIC_KEYS_FILE wajib diisi di produksi: tanpa kunci publik "
        "layanan, checkpoint tidak dapat diperiksa (atau jalankan dengan --no-checkpoints)"
        "[/bold red]"
    )
    raise typer.Exit(2)


def _print_checkpoints(audits: list[CheckpointReport]) -> None:
    if not audits:
        return
    table = Table(title="checkpoint bertanda tangan")
    for column in ("layanan", "terakhir", "ditandatangani", "stream", "peristiwa", "temuan"):
        table.add_column(column, justify="left" if column == "layanan" else "right")
    for a in audits:
        if a.last is None:
            last = "[yellow]belum ada[/yellow]"
            signed_at = streams = events = "-"
        else:
            last, streams, events = str(a.last), f"{a.streams:,}", f"{a.events:,}"
            signed_at = a.signed_at.isoformat(timespec="seconds") if a.signed_at else "-"
        found = "[green]cocok[/green]" if a.intact else f"[red]{len(a.findings)}[/red]"
        table.add_row(a.service, last, signed_at, streams, events, found)
    console.print(table)
    for a in audits:
        for finding in a.findings:
            console.print(f"{a.service}: {finding.message}", soft_wrap=True)
    if any(not a.intact for a in audits):
        console.print("[bold red]penyimpanan atau Kafka tidak cocok dengan checkpoint[/bold red]")


if __name__ == "__main__":
    app()
