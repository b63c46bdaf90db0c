"""Appends through our ``PostgresEventStore``: each writer owns a stream and appends one event
per call, at the next expected version, each append its own transaction."""

import asyncio
import time
import uuid

from bench.payload import new_event
from bench.results import Run, split
from infra.eventstore import ConcurrencyConflict, PostgresEventStore

LABEL = "jejak PostgresEventStore"


async def _writer(store: PostgresEventStore, events: int) -> None:
    stream = str(uuid.uuid4())
    for version in range(events):
        await store.append(stream, version, [new_event(stream, version)])


async def append_run(store: PostgresEventStore, writers: int, events: int) -> Run:
    """Time ``events`` single-event appends by ``writers`` concurrent writers."""
    started = time.perf_counter()
    await asyncio.gather(*(_writer(store, n) for n in split(events, writers)))
    return Run(LABEL, writers, events, time.perf_counter() - started)


async def refuses_a_stale_version(store: PostgresEventStore) -> bool:
    """The guarantee being paid for: a second append at the same expected version fails."""
    stream = str(uuid.uuid4())
    await store.append(stream, 0, [new_event(stream, 0)])
    try:
        await store.append(stream, 0, [new_event(stream, 1)])
    except ConcurrencyConflict:
        return True
    return False
