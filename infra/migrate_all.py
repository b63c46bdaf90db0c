"""``python -m infra.migrate_all``: every service's schema, app role and migrations, and the
inspectors' read-only role (``infra.auditor_role``), applied with the owner's connection
(``DATABASE_URL``) before the services start. Nothing else migrates: a service connects only as
its own role and never holds the owner's password (the Helm chart's migrations Job, compose's
``migrations``, ``make run``, the tests and the benchmarks all run this first).

Each app role's password is ``APP_DB_PASSWORD_<SERVICE>`` (``APP_DB_PASSWORD_DEV_TRACKING``, ...),
else ``APP_DB_PASSWORD``; in production a development default is refused. The auditor's is
``AUDITOR_DB_PASSWORD`` (unset: a group role that logs nobody in)."""

import asyncio
import importlib.util
import os
from pathlib import Path

import structlog

from events.topics import SERVICES
from infra.auditor_role import grant_auditor
from infra.logging import configure_logging
from infra.migrations import migrate
from infra.settings import DEFAULT_APP_DB_PASSWORD, Settings


def sql_dir(service: str) -> Path:
    """``services/<service>/sql``, found without importing the service."""
    spec = importlib.util.find_spec(f"services.{service}")
    if spec is None or spec.origin is None:
        raise LookupError(f"no package services.{service}")
    return Path(spec.origin).parent / "sql"


def app_password(settings: Settings, service: str) -> str:
    password = os.environ.get(f"APP_DB_PASSWORD_{service.upper()}") or settings.app_db_password
    if settings.environment == "production" and password == DEFAULT_APP_DB_PASSWORD:
        raise SystemExit(
            f"{service}: kata sandi peran aplikasinya masih bawaan pengembangan; "
            f"isi APP_DB_PASSWORD_{service.upper()} atau APP_DB_PASSWORD."
        )
    return password


def auditor_password(settings: Settings) -> str | None:
    password = os.environ.get("AUDITOR_DB_PASSWORD") or None
    if settings.environment == "production" and password == DEFAULT_APP_DB_PASSWORD:
        raise SystemExit(
            "jejak_auditor: kata sandinya masih bawaan pengembangan; ganti AUDITOR_DB_PASSWORD "
            "atau kosongkan (peran kelompok tanpa login)."
        )
    return password


async def migrate_all(settings: Settings) -> dict[str, list[str]]:
    """Migrate each service in turn, then grant the auditor what it reads; returns the
    migrations applied now, per service."""
    applied: dict[str, list[str]] = {}
    for service in SERVICES:
        applied[service] = await migrate(
            settings.database_url,
            service,
            settings.app_role(service),
            app_password(settings, service),
            sql_dir(service),
        )
    await grant_auditor(settings.database_url, auditor_password(settings))
    return applied


def main() -> None:
    settings = Settings.from_environment(service_name="migrations")
    configure_logging(settings.service_name, settings.log_format, settings.log_level)
    for service, names in asyncio.run(migrate_all(settings)).items():
        structlog.get_logger().info("migrated", schema=service, applied=names)


if __name__ == "__main__":
    main()
