"""The servers the benchmark runs against: a throwaway stack, or the ones the environment names."""

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from devstack.stack import Endpoints, Stack


@contextmanager
def servers(data_dir: Path | None) -> Iterator[Endpoints]:
    """Kafka and PostgreSQL for the run. ``KAFKA_BOOTSTRAP_SERVERS`` and ``DATABASE_URL`` (if
    set) are used as they are; what is started here is stopped on exit, what was already
    running is left running. Without ``data_dir`` the data lives in a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="jejak-bench-") as tmp:
        stack = Stack(data_dir or Path(tmp))
        try:
            yield stack.up()
        finally:  # also when only one of the two came up
            if stack.kafka is not None and "kafka" in stack.started_here:
                stack.kafka.stop()
            if stack.postgres is not None and "postgres" in stack.started_here:
                stack.postgres.stop()
