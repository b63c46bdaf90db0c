"""Wiring of the intake service: the one place where its parts meet."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from events.catalog import default_registry
from events.topics import topics_consumed_by
from infra.auth import TokenVerifier, development_keys
from infra.background import in_background
from infra.consumer import Delivered
from infra.db import Connection
from infra.http import add_health, install_error_handlers, principal_dependency
from infra.idempotency import IdempotencyKeys
from infra.limits import limit_input
from infra.runtime import ServiceRuntime
from infra.settings import Settings
from infra.timeline import Timeline
from infra.webhook import SeenSignatures, public_path, secrets_from, signed_delivery
from services.intake.api import LETTERS_ROUTE, build_eoffice_router, build_router
from services.intake.attachments import Attachments
from services.intake.config import IntakeConfig
from services.intake.eoffice import EofficeLetters
from services.intake.orphans import OrphanSweep
from services.intake.quota import UploadLedger
from services.intake.upload_limits import DailyQuota, UploadSlots
from services.intake.usecases import Intake


def create_app(settings: Settings, config: IntakeConfig | None = None) -> FastAPI:
    """The intake app. ``config`` defaults to the ``INTAKE_*`` environment."""
    conf = config or IntakeConfig()
    settings.check_production()
    public = settings.jwt_public_key or development_keys(Path(settings.jwt_key_dir))[1]
    verifier = TokenVerifier(public)
    eoffice_secrets = secrets_from(settings)  # production refuses to start without one
    built: list[Intake] = []
    slots = UploadSlots(conf.uploads_at_once_per_user, conf.uploads_at_once)
    quota = DailyQuota(conf.upload_files_per_day, conf.upload_bytes_per_day)

    def intake() -> Intake:
        """The use cases, built on first use: after the runtime's store exists, which is
        before its consumer starts and before any request is served."""
        if not built:
            store = runtime.store
            built.append(
                Intake(
                    Timeline(store, default_registry(), settings.tenant),
                    Attachments(store.schema),
                    IdempotencyKeys(store.schema, settings.idempotency_retention),
                    UploadLedger(store.schema, quota),
                    slots,
                )
            )
        return built[0]

    def letters() -> EofficeLetters:
        return EofficeLetters(intake(), settings.tenant, SeenSignatures(runtime.store.schema))

    delivery = signed_delivery(
        eoffice_secrets,
        public_path(settings.root_path, LETTERS_ROUTE),
        lambda: runtime.pool,
        lambda: SeenSignatures(runtime.store.schema),
        settings.eoffice_max_skew_seconds,
    )

    async def handle(delivered: Delivered, conn: Connection) -> None:
        await intake().handle(delivered.envelope, conn)

    runtime = ServiceRuntime(
        "intake", settings, consumes=topics_consumed_by("intake"), handler=handle
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with runtime.running():
            use = intake()
            sweep = OrphanSweep(
                use.pool, use.schema, use.ledger, conf.orphan_days, conf.orphan_sweep_seconds
            )
            async with in_background(sweep.run, "intake-orphan-sweep"):
                yield

    app = FastAPI(
        title="Jejak intake",
        version="0.1.0",
        lifespan=lifespan,
        description=(
            "Permohonan pembangunan aplikasi dan dokumennya: pengajuan (langkah 1), penerimaan "
            "(langkah 2), perbaikan setelah dikembalikan, penarikan; lampiran beralamat isi "
            "(sha256)."
        ),
    )
    install_error_handlers(app)
    limit_input(app)
    add_health(app, "intake", runtime.healthy)
    app.include_router(build_router(intake, principal_dependency(lambda: verifier)))
    app.include_router(build_eoffice_router(letters, delivery))
    return app
