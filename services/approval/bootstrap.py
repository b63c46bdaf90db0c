"""Wiring of the approval service: the one place where its parts meet."""

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
from infra.webhook import SeenSignatures, public_path, secrets_from, signed_delivery
from services.approval.api import DISPOSITIONS_ROUTE, build_eoffice_router, build_router
from services.approval.eoffice import EofficeDispositions
from services.approval.officials_store import RECORDED as OFFICIAL_EVENTS
from services.approval.officials_store import Officials
from services.approval.usecases import Approval


def create_app(settings: Settings) -> FastAPI:
    settings.check_production()
    public = settings.jwt_public_key or development_keys(Path(settings.jwt_key_dir))[1]
    verifier = TokenVerifier(public)
    eoffice_secrets = secrets_from(settings)  # production refuses to start without one
    holder: list[Approval] = []

    def approval() -> Approval:
        # Built on first use: the store exists once the runtime has started, which happens
        # before its consumer can call ``handle`` and before the app serves a request.
        if not holder:
            store = runtime.store
            holder.append(
                Approval(
                    Timeline(store, default_registry(), settings.tenant),
                    IdempotencyKeys(store.schema, settings.idempotency_retention),
                )
            )
        return holder[0]

    def dispositions() -> EofficeDispositions:
        schema = runtime.store.schema
        return EofficeDispositions(
            approval(), settings.tenant, SeenSignatures(schema), Officials(schema)
        )

    delivery = signed_delivery(
        eoffice_secrets,
        public_path(settings.root_path, DISPOSITIONS_ROUTE),
        lambda: runtime.pool,
        lambda: SeenSignatures(runtime.store.schema),
        settings.eoffice_max_skew_seconds,
    )

    async def handle(delivered: Delivered, conn: Connection) -> None:
        envelope = delivered.envelope
        if envelope.event_type in OFFICIAL_EVENTS:  # identity's: who may dispose as KADIS
            await Officials(runtime.store.schema).record(conn, envelope)
        else:
            await approval().handle(envelope, conn)

    runtime = ServiceRuntime(
        "approval",
        settings,
        consumes=topics_consumed_by("approval"),
        handler=handle,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with runtime.running():
            yield
        holder.clear()

    app = FastAPI(
        title="Jejak approval",
        version="0.1.0",
        lifespan=lifespan,
        description="Persetujuan permohonan (langkah 3-7 SOP): disposisi, pemeriksaan "
        "kelengkapan, rapat, berita acara, surat tugas, penolakan.",
    )
    install_error_handlers(app)
    limit_input(app)
    app.include_router(build_router(approval, principal_dependency(lambda: verifier)))
    app.include_router(build_eoffice_router(dispositions, delivery))
    add_health(app, "approval", runtime.healthy)
    return app
