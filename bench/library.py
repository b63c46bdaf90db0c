"""Appends through the ``eventsourcing`` library's ``PostgresApplicationRecorder``: the same
guarantees (a unique ``(originator_id, originator_version)`` refuses a stale version; an
``EXCLUSIVE`` table lock makes notification ids commit in order, so followers never skip one).

It is a synchronous library: writers are threads of a ``ThreadPoolExecutor``, each owning an
aggregate and inserting one ``StoredEvent`` per call, at the next version."""

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import unquote, urlsplit

from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

from bench.payload import EVENT_TYPE, library_state
from bench.results import Run, split

TOPIC = f"jejak.events.dev_tracking:{EVENT_TYPE}"
LABEL = "eventsourcing PostgresApplicationRecorder"


def recorder(database_url: str, schema: str, pool_size: int) -> PostgresApplicationRecorder:
    """The library's recorder on its own (existing) ``schema``, with its table created."""
    url = urlsplit(database_url)
    datastore = PostgresDatastore(
        dbname=url.path.lstrip("/"),
        host=url.hostname or "127.0.0.1",
        port=url.port or 5432,
        user=unquote(url.username or "postgres"),
        password=unquote(url.password or ""),
        pool_size=pool_size,
        schema=schema,
    )
    application_recorder = PostgresApplicationRecorder(datastore)
    application_recorder.create_table()
    return application_recorder


def _writer(recorder: PostgresApplicationRecorder, events: int) -> None:
    originator_id = uuid.uuid4()
    for version in range(1, events + 1):
        state = library_state(str(originator_id), version)
        recorder.insert_events([StoredEvent(originator_id, version, TOPIC, state)])


def append_run(recorder: PostgresApplicationRecorder, writers: int, events: int) -> Run:
    """Time ``events`` single-event inserts by ``writers`` threads."""
    with ThreadPoolExecutor(max_workers=writers, thread_name_prefix="es-writer") as executor:
        started = time.perf_counter()
        futures = [executor.submit(_writer, recorder, n) for n in split(events, writers)]
        for future in futures:
            future.result()
        seconds = time.perf_counter() - started
    return Run(LABEL, writers, events, seconds)


def refuses_a_stale_version(recorder: PostgresApplicationRecorder) -> bool:
    """The guarantee being paid for: a second insert at the same version fails."""
    originator_id = uuid.uuid4()
    for attempt in range(2):
        state = library_state(str(originator_id), attempt)
        try:
            recorder.insert_events([StoredEvent(originator_id, 1, TOPIC, state)])
        except IntegrityError:
            return attempt == 1
    return False


def close(recorder: PostgresApplicationRecorder) -> None:
    recorder.datastore.close()
