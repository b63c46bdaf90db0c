"""``python -m bench``: see ``bench/__init__.py`` and ``docs/benchmarks.md``."""

import asyncio
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from bench import database, library, ours, relay, report
from bench.payload import PAYLOAD_BYTES
from bench.results import Figure, Run, figure
from bench.stack import servers, settings_of
from infra.db import create_pool
from infra.eventstore import PostgresEventStore
from infra.kafka_acl import ADMIN
from infra.settings import Settings

app = typer.Typer(add_completion=False, pretty_exceptions_show_locals=False)


@dataclass(frozen=True)
class Options:
    events: int
    writers: int
    repeat: int
    warmup: int
    relay_events: int
    relay_batch_size: int


def _new_suffix() -> str:
    return uuid.uuid4().hex[:8]


async def _write_runs(settings: Settings, options: Options) -> tuple[list[Figure], list[Figure]]:
    """Ours and the library's, interleaved (so that a slow patch of the machine hits both),
    each on its own fresh schema."""
    suffix = _new_suffix()
    store_schema, library_schema = f"bench_{suffix}", f"es_bench_{suffix}"
    await database.create_store_schema(settings, store_schema)
    await database.create_library_schema(settings, library_schema)
    pool = await create_pool(
        settings.app_url(store_schema), min_size=options.writers, max_size=options.writers
    )
    recorder = await asyncio.to_thread(
        library.recorder, settings.database_url, library_schema, options.writers
    )
    counts = sorted({1, options.writers})
    ours_runs: dict[int, list[Run]] = {n: [] for n in counts}
    library_runs: dict[int, list[Run]] = {n: [] for n in counts}
    try:
        store = PostgresEventStore(pool, store_schema)
        stale_refused = (
            await ours.refuses_a_stale_version(store),
            await asyncio.to_thread(library.refuses_a_stale_version, recorder),
        )
        if not all(stale_refused):
            raise RuntimeError(f"a stale version was accepted (ours, theirs): {stale_refused}")
        if options.warmup:
            await ours.append_run(store, options.writers, options.warmup)
            await asyncio.to_thread(library.append_run, recorder, options.writers, options.warmup)
        for _ in range(options.repeat):
            for writers in counts:
                await database.checkpoint(settings)
                ours_runs[writers].append(await ours.append_run(store, writers, options.events))
                report.print_run(ours_runs[writers][-1])
                await database.checkpoint(settings)
                library_runs[writers].append(
                    await asyncio.to_thread(library.append_run, recorder, writers, options.events)
                )
                report.print_run(library_runs[writers][-1])
    finally:
        await pool.close()
        await asyncio.to_thread(library.close, recorder)
        await database.drop(settings, store_schema, library_schema)
    return ([figure(ours_runs[n]) for n in counts], [figure(library_runs[n]) for n in counts])


async def _relay_run(settings: Settings, options: Options) -> Run:
    """Fill a fresh schema with ``relay_events`` events, then relay them to a fresh topic."""
    suffix = _new_suffix()
    schema, topic = f"bench_relay_{suffix}", f"bench.{suffix}.events"
    await database.create_store_schema(settings, schema)
    pool = await create_pool(settings.app_url(schema), min_size=2, max_size=relay.SEED_WRITERS)
    try:
        store = PostgresEventStore(pool, schema)
        report.print_run(await relay.seed(store, options.relay_events))
        await database.checkpoint(settings)
        run, on_topic = await relay.relay_run(
            store, settings.kafka_login(ADMIN), topic, options.relay_batch_size
        )
        report.print_run(run)
        if run.events != options.relay_events or on_topic != run.events:
            raise RuntimeError(
                f"relayed {run.events} and found {on_topic} records on the "
                f"topic, expected {options.relay_events}"
            )
        return run
    finally:
        await pool.close()
        await database.drop(settings, schema, schema)
        await relay.delete_topic(settings.kafka_login(ADMIN), topic)


async def _bench(settings: Settings, options: Options) -> bool:
    report.print_machine(report.machine(await database.server_facts(settings)))
    report.console.print(
        f"\n{options.events:,} single-event appends per run (~{PAYLOAD_BYTES}-byte payload), "
        f"1 and {options.writers} writers each on its own stream, {options.repeat} rounds\n"
    )
    ours_figures, library_figures = await _write_runs(settings, options)
    relay_figure = None
    if options.relay_events:
        report.console.print(
            f"\nrelay: {options.relay_events:,} events already in the table, "
            f"batch_size={options.relay_batch_size}\n"
        )
        runs = [await _relay_run(settings, options) for _ in range(options.repeat)]
        relay_figure = figure(runs)
    report.console.print()
    return report.print_summary(ours_figures, library_figures, relay_figure)


@app.command()
def main(
    events: Annotated[int, typer.Option(min=1, help="Appends per write run")] = 4000,
    writers: Annotated[int, typer.Option(min=2, help="Concurrent writers of the second run")] = 8,
    repeat: Annotated[int, typer.Option(min=1, help="Rounds of every run; medians reported")] = 3,
    warmup: Annotated[int, typer.Option(min=0, help="Untimed appends before the runs")] = 400,
    relay_events: Annotated[
        int, typer.Option(min=0, help="Events in the table for each relay run (0: skip it)")
    ] = 100_000,
    relay_batch_size: Annotated[int, typer.Option(min=1, help="OutboxRelay.batch_size")] = 2000,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Data folder of the stack to start (default: a throwaway one)"),
    ] = None,
    strict: Annotated[bool, typer.Option(help="Exit with 1 if a target is missed")] = False,
) -> None:
    """Append throughput (our event store vs the eventsourcing library's PostgreSQL recorder,
    1 and 8 writers) and the outbox relay's throughput to Kafka. KAFKA_BOOTSTRAP_SERVERS and
    DATABASE_URL, if set, name servers to use instead of starting a throwaway stack."""
    options = Options(events, writers, repeat, warmup, relay_events, relay_batch_size)
    with servers(data_dir) as endpoints:
        settings = settings_of(endpoints)
        met = asyncio.run(_bench(settings, options))
    if strict and not met:
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
