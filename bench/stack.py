"""The servers the benchmark runs against: a throwaway stack, or the ones the environment names."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from bench import report
from devstack.services import migrate
from devstack.stack import Endpoints, Stack
from devstack.throwaway import throwaway_stack
from infra.settings import Settings


@contextmanager
def servers(data_dir: Path | None) -> Iterator[Endpoints]:
    """Kafka and PostgreSQL for the run, migrated by the owner (``devstack.services.migrate``:
    the services a benchmark starts get no owner, as under ``make run``).
    ``KAFKA_BOOTSTRAP_SERVERS`` and ``DATABASE_URL`` (if set) are used as they are; what is
    started here is stopped on exit, what was already running is left running. Without
    ``data_dir`` the data lives in a temporary folder."""
    if data_dir is None:
        with throwaway_stack("bench") as stack:  # reaped by the next one if this is killed
            yield _migrated(stack)
        return
    stack = Stack(data_dir)
    try:
        yield _migrated(stack)
    finally:  # also when only one of the two came up
        if stack.kafka is not None and "kafka" in stack.started_here:
            stack.kafka.stop()
        if stack.postgres is not None and "postgres" in stack.started_here:
            stack.postgres.stop()


def _migrated(stack: Stack) -> Endpoints:
    endpoints = stack.up()
    migrate(endpoints, stack.data_dir)
    return endpoints


def settings_of(endpoints: Endpoints) -> Settings:
    """The settings for ``endpoints``, once the report has said where they are."""
    database_at = urlsplit(endpoints.database_url)
    report.console.print(
        f"PostgreSQL at {database_at.hostname}:{database_at.port}, "
        f"Kafka at {endpoints.kafka_bootstrap_servers}"
    )
    return Settings(
        environment="development",
        database_url=endpoints.database_url,
        kafka_bootstrap_servers=endpoints.kafka_bootstrap_servers,
    )
