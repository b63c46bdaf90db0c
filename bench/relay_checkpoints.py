"""``python -m bench.relay_checkpoints``: the outbox relay's throughput with and without the
signed checkpoints its leader writes beside it (``infra.checkpoints``, default settings: one
every 1000 events), rounds interleaved so that a slow patch of the machine hits both, each on a
fresh schema and topic. ``docs/benchmarks.md`` records a run."""

import asyncio
import tempfile
import uuid
from pathlib import Path
from typing import Annotated

import typer

from bench import database, relay, report
from bench.results import Figure, Run, figure
from bench.stack import servers, settings_of
from infra.db import create_pool
from infra.eventstore import PostgresEventStore
from infra.kafka_acl import ADMIN
from infra.settings import Settings

app = typer.Typer(add_completion=False, pretty_exceptions_show_locals=False)


async def _one(settings: Settings, events: int, batch_size: int, signed: bool) -> Run:
    suffix = uuid.uuid4().hex[:8]
    schema, topic = f"bench_relay_{suffix}", f"bench.{suffix}.events"
    await database.create_store_schema(settings, schema)
    pool = await create_pool(settings.app_url(schema), min_size=2, max_size=relay.SEED_WRITERS)
    try:
        store = PostgresEventStore(pool, schema)
        await relay.seed(store, events)
        await database.checkpoint(settings)
        with tempfile.TemporaryDirectory() as folder:
            file = Path(folder) / "checkpoints.jsonl" if signed else None
            run, on_topic = await relay.relay_run(
                store, settings.kafka_login(ADMIN), topic, batch_size, file
            )
            lines = len(file.read_text().splitlines()) if file and file.exists() else 0
        signed_count = await pool.fetchval(f"SELECT count(*) FROM {schema}.checkpoints")
        if run.events != events or on_topic != events + signed_count or lines != signed_count:
            raise RuntimeError(
                f"relayed {run.events} of {events}, {on_topic} records on the topic, "
                f"{signed_count} checkpoints signed, {lines} in the file"
            )
        report.print_run(run)
        if signed:
            report.console.print(f"  {signed_count} checkpoints signed meanwhile")
        return run
    finally:
        await pool.close()
        await database.drop(settings, schema, schema)
        await relay.delete_topic(settings.kafka_login(ADMIN), topic)


async def _bench(settings: Settings, events: int, batch_size: int, repeat: int) -> None:
    plain: list[Run] = []
    signing: list[Run] = []
    for _ in range(repeat):
        plain.append(await _one(settings, events, batch_size, signed=False))
        signing.append(await _one(settings, events, batch_size, signed=True))
    figures: list[Figure] = [figure(plain), figure(signing)]
    report.console.print()
    for f in figures:
        report.console.print(
            f"{f.label}: median {f.rate:,.0f} events/s (range {f.low:,.0f}-{f.high:,.0f})"
        )
    ratio = figures[1].rate / figures[0].rate
    report.console.print(f"with checkpoints / without: {ratio:.2f}")


@app.command()
def main(
    events: Annotated[int, typer.Option(min=1, help="Events in the table for each run")] = 50_000,
    batch_size: Annotated[int, typer.Option(min=1, help="OutboxRelay.batch_size")] = 2000,
    repeat: Annotated[int, typer.Option(min=1, help="Rounds of each; medians reported")] = 3,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Data folder of the stack to start (default: a throwaway one)"),
    ] = None,
) -> None:
    """The relay's throughput to Kafka, with and without signing checkpoints meanwhile."""
    with servers(data_dir) as endpoints:
        asyncio.run(_bench(settings_of(endpoints), events, batch_size, repeat))


if __name__ == "__main__":
    app()
