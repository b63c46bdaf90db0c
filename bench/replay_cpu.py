"""``python -m bench.replay_cpu [REQUESTS]``: the CPU of the audit replay's per-request work,
without Kafka or PostgreSQL, in microseconds per event.

The requests of ``bench.replay.sample_request`` are turned into records as the outbox relay
produces them (``infra.relay.message_of``), then each request goes through what a replay worker
does with it: ``parse`` (``replay_worker.envelopes_of``: the envelopes from the records'
JSON), ``rebuild`` (``replay_rebuild.rebuild``: payloads loaded, the fold in canonical order,
the notices at each step, the SLA) and ``rows`` (``replay_worker.RowWriter.add``: the values
COPYed into the five tables; the COPY itself is not run). One warm-up pass, then one timed
pass with the cyclic garbage collector off, as in the workers. Process CPU time, so other load
on the machine inflates it less than wall time (the cores are still shared).
"""

import datetime as dt
import gc
import random
import sys
import time
import uuid
from types import SimpleNamespace
from typing import Any

from bench.replay import EPOCH, sample_request
from infra.relay import message_of
from services.reporting import replay_rebuild, replay_worker
from services.reporting.calendar import WorkingCalendar
from services.reporting.calendar_fast import FastCalendar
from services.reporting.calendar_store import base_calendar

_NOW = dt.datetime(2026, 11, 29, tzinfo=dt.UTC)


class _Rows(replay_worker.RowWriter):
    """The replay's row buffer without a connection: rows are built, never written."""

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple[Any, ...]]] = {}
        self.events = 0
        self.now = _NOW


def records(requests: int) -> list[tuple[str, list[Any]]]:
    """``requests`` sample requests, each as ``(request id, its records)``."""
    rng = random.Random(7)
    made = []
    for n in range(requests):
        rid = str(uuid.UUID(int=rng.getrandbits(128)))
        start = EPOCH + dt.timedelta(days=7 * (n % 60), minutes=rng.randrange(0, 480))
        recs = []
        for _service, envelope in sample_request(rid, rng, start, 11):
            _, value, _headers = message_of(envelope)
            recs.append(
                SimpleNamespace(key=rid.encode(), value=value, topic="t", partition=0, offset=0)
            )
        made.append((rid, recs))
    return made


def measure(data: list[tuple[str, list[Any]]]) -> dict[str, float]:
    """CPU seconds of each part over every request of ``data``."""
    calendar = FastCalendar.of(base_calendar("Asia/Jakarta"))

    def calendar_of(_tenant: str) -> WorkingCalendar:
        return calendar

    result = replay_worker.SliceResult(0)
    rows = _Rows()
    spent = {"parse": 0.0, "rebuild": 0.0, "rows": 0.0}
    for rid, recs in data:
        a = time.process_time()
        delivered = replay_worker.envelopes_of(recs, rid, result)
        b = time.process_time()
        rebuilt, _ = replay_rebuild.rebuild(rid, delivered, calendar_of, _NOW)
        c = time.process_time()
        assert rebuilt is not None
        rows.add(rebuilt)
        d = time.process_time()
        spent["parse"] += b - a
        spent["rebuild"] += c - b
        spent["rows"] += d - c
    return spent


def main() -> None:
    requests = int(sys.argv[1]) if len(sys.argv) > 1 else 1500
    data = records(requests)
    events = sum(len(recs) for _, recs in data)
    gc.disable()
    measure(data)  # warm-up: imports, caches, the calendar's running totals
    spent = measure(data)
    parts = ", ".join(f"{k} {v / events * 1e6:.1f} µs" for k, v in spent.items())
    total = sum(spent.values()) / events * 1e6
    print(f"{events} events of {requests} requests; {parts}; total {total:.1f} µs/event")


if __name__ == "__main__":
    main()
