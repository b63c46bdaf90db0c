"""``python -m bench.projection``: reporting's projection cost per event by batch size.

Sample requests (``bench.replay.sample_request``, about 18 events each with ``--reports 3``) are
fed, as the live consumer would get them (a few requests in flight at a time, each in its order),
to ``BatchConsumer.process`` with reporting's ``Projector.handle_batch`` in batches of each size
asked, each size into a fresh schema of a real PostgreSQL (no Kafka: the dead letters are
refused, and none is expected). Printed per size: wall time and this process's CPU time per
event (the Python side: the inbox, the fold, the SLA, the notices, asyncpg; PostgreSQL's own work
is in the wall time only). The schemas are dropped at the end.
"""

import asyncio
import datetime as dt
import random
import time
import uuid
from typing import Annotated

import asyncpg
import typer
from rich.console import Console

from bench.replay import EPOCH, sample_request
from bench.stack import servers
from events.topics import topic_for
from infra.batch_consumer import BatchConsumer, Record
from infra.consumer import IdempotentConsumer
from infra.db import create_pool
from infra.logging import configure_logging
from infra.migrations import migrate
from infra.settings import Settings
from services.reporting import SQL_DIR
from services.reporting.projector import Projector
from services.reporting.replay import drop_schema

app = typer.Typer(add_completion=False, pretty_exceptions_show_locals=False)
console = Console()
IN_FLIGHT = 5
"""Requests whose events are interleaved at any time, as several walks are under way at once."""


def live_order(requests: int, reports: int) -> list[Record]:
    """The sample requests' events, ``IN_FLIGHT`` requests interleaved at a time."""
    rng = random.Random(3)
    flows = [
        sample_request(str(uuid.uuid4()), rng, EPOCH + dt.timedelta(days=n), reports)
        for n in range(requests)
    ]
    records: list[Record] = []
    while flows:
        for flow in flows[:IN_FLIGHT]:
            service, envelope = flow.pop(0)
            records.append((envelope.model_dump_json().encode(), topic_for(service)))
        flows = [f for f in flows if f]
    return records


async def refuse(body: bytes, headers: dict[str, str]) -> None:
    raise RuntimeError(f"a sample event was dead-lettered: {headers}")


async def one_size(settings: Settings, records: list[Record], size: int, now: dt.datetime) -> None:
    schema = f"bench_projection_{size}_{uuid.uuid4().hex[:6]}"
    role = settings.app_role(schema)
    await migrate(settings.database_url, schema, role, settings.app_db_password, SQL_DIR)
    pool = await create_pool(settings.app_url(schema), max_size=2)
    try:
        projector = Projector(schema, lambda: now, "Asia/Jakarta")
        single = IdempotentConsumer(pool, schema, projector.handle, refuse)
        consumer = BatchConsumer(single, projector.handle_batch)
        wall, cpu = time.perf_counter(), time.process_time()
        for start in range(0, len(records), size):
            await consumer.process(records[start : start + size])
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        stored = await pool.fetchval(f"SELECT count(*) FROM {schema}.case_events")
        if stored != len(records):
            raise RuntimeError(f"{stored} of {len(records)} events projected")
    finally:
        await pool.close()
        owner = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=1)
        assert owner is not None
        await drop_schema(owner, schema, role)
        await owner.close()
    console.print(
        f"batches of {size:>3}: {len(records)} events; per event {wall * 1e3 / len(records):.2f} "
        f"ms wall, {cpu * 1e3 / len(records):.2f} ms CPU of this process"
    )


@app.command()
def main(
    size: Annotated[
        list[int] | None, typer.Option(min=1, help="Events per batch; repeat (default: 1, 3, 10)")
    ] = None,
    requests: Annotated[int, typer.Option(min=1, help="Sample requests")] = 60,
    reports: Annotated[int, typer.Option(min=0, help="ProgressReported per request")] = 3,
) -> None:
    """Reporting's projection cost per event, by batch size. DATABASE_URL, if set, names the
    PostgreSQL to use instead of starting a throwaway stack."""
    configure_logging("bench", "console", "WARNING")
    records = live_order(requests, reports)
    now = EPOCH + dt.timedelta(days=requests + 1)  # open steps measured up to here
    with servers(None) as endpoints:
        settings = Settings(environment="development", database_url=endpoints.database_url)

        async def run() -> None:
            for each in size or [1, 3, 10]:
                await one_size(settings, records, each, now)

        asyncio.run(run())


if __name__ == "__main__":
    app()
