"""Wiring of the dev_tracking service: the one place where its parts meet."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from events.catalog import default_registry
from events.topics import topics_consumed_by
from infra.auth import TokenVerifier, development_keys
from infra.consumer import Delivered
from infra.db import Connection
from infra.http import add_health, install_error_handlers, principal_dependency
from infra.idempotency import IdempotencyKeys
from infra.limits import limit_input
from infra.runtime import ServiceRuntime
from infra.settings import Settings
from infra.timeline import Timeline
from services.dev_tracking.api import build_router
from services.dev_tracking.period import Grace
from services.dev_tracking.usecases import DevTracking

SERVICE = "dev_tracking"
REGISTRY = default_registry()


def create_app(settings: Settings) -> FastAPI:
    settings.check_production()
    public = settings.jwt_public_key or development_keys(Path(settings.jwt_key_dir))[1]
    verifier = TokenVerifier(public)
    grace = Grace(settings.assignment_grace_working_days)

    def tracking() -> DevTracking:
        # Built on the running store each time (cheap), so the consumer, which starts inside
        # runtime.start(), never meets a use case that is not there yet.
        store = runtime.store
        return DevTracking(
            Timeline(store, REGISTRY, settings.tenant),
            IdempotencyKeys(store.schema, settings.idempotency_retention),
            grace=grace,
        )

    async def handle(delivered: Delivered, conn: Connection) -> None:
        await tracking().handle(delivered.envelope, conn)

    runtime = ServiceRuntime(
        SERVICE, settings, consumes=topics_consumed_by(SERVICE), handler=handle
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with runtime.running():
            yield

    app = FastAPI(
        title="Jejak dev_tracking",
        version="0.1.0",
        lifespan=lifespan,
        description=(
            "Langkah 8-13 SOP: pembangunan aplikasi, kemajuan, masalah dan solusi, uji sistem, "
            "unit dan integrasi, buku manual, dan UAT oleh OPD peminta."
        ),
    )
    install_error_handlers(app)
    limit_input(app)
    app.include_router(build_router(tracking, principal_dependency(lambda: verifier)))
    add_health(app, SERVICE, runtime.healthy)
    return app
