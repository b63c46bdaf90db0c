"""Wiring of the reporting service: the one place where its parts meet."""

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from fastapi import FastAPI

from events.envelope import utc_now
from events.topics import topics_consumed_by
from infra.auth import TokenVerifier, development_keys
from infra.http import (
    add_health,
    bearer_dependency,
    install_error_handlers,
    principal_dependency,
)
from infra.idempotency import IdempotencyKeys
from infra.limits import limit_input
from infra.runtime import ServiceRuntime
from infra.settings import Settings
from services.reporting.api import build_router
from services.reporting.breaches import BreachWatcher
from services.reporting.calendar_admin import CalendarAdmin
from services.reporting.config import ReportingConfig
from services.reporting.notifications_api import build_notifications_router
from services.reporting.projector import Projector
from services.reporting.queries import Queries
from services.reporting.status_feed import StatusFeed

SERVICE = "reporting"


def create_app(
    settings: Settings,
    config: ReportingConfig | None = None,
    clock: Callable[[], dt.datetime] = utc_now,
) -> FastAPI:
    """The reporting app. ``clock`` is the service's notion of now (SLA, breaches, overdue):
    tests pass their own to make working time deterministic."""
    conf = config or ReportingConfig()
    settings.check_production()
    public = settings.jwt_public_key or development_keys(Path(settings.jwt_key_dir))[1]
    verifier = TokenVerifier(public)
    projector = Projector(SERVICE, clock, conf.time_zone, StatusFeed(lambda: runtime.store))

    runtime = ServiceRuntime(
        SERVICE,
        settings,
        consumes=topics_consumed_by(SERVICE),
        handler=projector.handle,
        batch_handler=projector.handle_batch,
    )

    def pool() -> asyncpg.Pool:
        return runtime.pool

    queries = Queries(
        pool, SERVICE, settings.tenant, conf.time_zone, clock, conf.sla_report_max_days
    )
    keys = IdempotencyKeys(SERVICE, settings.idempotency_retention)
    calendar = CalendarAdmin(pool, projector, settings.tenant, keys)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with runtime.running():
            watcher = BreachWatcher(runtime.store, clock, conf.breach_interval_seconds)
            app.state.breach_watcher = watcher
            stop = asyncio.Event()
            task = asyncio.create_task(watcher.run(stop), name="reporting-sla-watcher")
            try:
                yield
            finally:
                stop.set()
                await task

    app = FastAPI(
        title="Jejak reporting",
        version="0.1.0",
        lifespan=lifespan,
        description=(
            "Pelaporan: daftar dan rincian permohonan dari semua layanan, riwayat audit (siapa, "
            "peran, atas nama, kapan, apa), keadaan pada saat lampau, ekspor untuk pemeriksa, "
            "SLA dalam waktu kerja (jam kantor WIB, tanpa libur nasional dan cuti bersama), "
            "kalender kerja, dan notifikasi langsung."
        ),
    )
    install_error_handlers(app)
    limit_input(app)
    authenticated = principal_dependency(lambda: verifier)
    app.include_router(build_router(lambda: queries, lambda: calendar, authenticated))
    app.include_router(
        build_notifications_router(
            pool,
            SERVICE,
            bearer_dependency(lambda: verifier),
            recheck_seconds=conf.stream_recheck_seconds,
            streams_per_user=conf.streams_per_user,
        )
    )
    add_health(app, SERVICE, runtime.healthy)
    return app
