"""Wiring of the eoffice service: the one place where its parts meet."""

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI

from events.envelope import utc_now
from events.topics import topics_consumed_by
from infra.auth import TokenVerifier, development_keys
from infra.consumer import Delivered
from infra.db import Connection
from infra.http import add_health, install_error_handlers, principal_dependency
from infra.idempotency import IdempotencyKeys
from infra.limits import limit_input
from infra.runtime import ServiceRuntime
from infra.settings import Settings
from infra.webhook import secrets_from
from services.eoffice.api import build_router, document_webhook
from services.eoffice.config import EofficeConfig
from services.eoffice.outbound import Poster
from services.eoffice.schedule import DeliverySchedule
from services.eoffice.usecases import Deliveries
from services.eoffice.worker import DeliveryWorker

SERVICE = "eoffice"


def create_app(
    settings: Settings,
    config: EofficeConfig | None = None,
    clock: Callable[[], dt.datetime] = utc_now,
) -> FastAPI:
    """The eoffice app. ``config`` defaults to the ``EOFFICE_*`` environment."""
    conf = config or EofficeConfig()
    settings.check_production()
    secrets = secrets_from(settings)  # production refuses to start without a real one
    conf.check_callback(settings.environment)
    public = settings.jwt_public_key or development_keys(Path(settings.jwt_key_dir))[1]
    verifier = TokenVerifier(public)
    schedule = DeliverySchedule(lambda: runtime.store, settings.tenant)
    workers: list[DeliveryWorker] = []

    async def handle(delivered: Delivered, conn: Connection) -> None:
        await schedule.record(conn, delivered.envelope, clock())

    runtime = ServiceRuntime(
        SERVICE, settings, consumes=topics_consumed_by(SERVICE), handler=handle
    )

    def wake() -> None:
        for worker in workers:
            worker.wake()

    keys = IdempotencyKeys(SERVICE, settings.idempotency_retention)
    deliveries = Deliveries(schedule, conf.callback_url is not None, clock, wake, keys)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with runtime.running(), httpx.AsyncClient(follow_redirects=False) as client:
            poster = None
            if conf.callback_url is not None:
                url, timeout = str(conf.callback_url), conf.attempt_timeout_seconds
                poster = Poster(client, url, secrets, timeout)
            worker = DeliveryWorker(
                schedule,
                poster,
                conf.policy,
                clock,
                conf.poll_seconds,
                conf.concurrency,
                conf.lease_seconds,
            )
            workers.append(worker)
            task = asyncio.create_task(worker.run(), name="eoffice-delivery-worker")
            try:
                yield
            finally:
                worker.stop()
                await task
                workers.clear()

    app = FastAPI(
        title="Jejak eoffice",
        version="0.1.0",
        lifespan=lifespan,
        description=(
            "Pengiriman status ke e-office: setiap perubahan status permohonan dikirim, "
            "ditandatangani HMAC-SHA256, ke URL callback e-office tenant, berurutan per "
            "permohonan, dengan percobaan ulang; yang gagal sampai batas diparkir dan dapat "
            "dikirim ulang oleh ADMIN."
        ),
    )
    install_error_handlers(app)
    limit_input(app)
    app.include_router(build_router(lambda: deliveries, principal_dependency(lambda: verifier)))
    document_webhook(app)
    add_health(app, SERVICE, runtime.healthy)
    return app
