"""Wiring of the documents service: the one place where its parts meet."""

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from fastapi import FastAPI

from events.catalog import default_registry
from events.envelope import utc_now
from events.topics import topics_consumed_by
from infra.auth import TokenVerifier, development_keys
from infra.http import add_health, install_error_handlers, principal_dependency
from infra.idempotency import IdempotencyKeys
from infra.limits import limit_input
from infra.runtime import ServiceRuntime
from infra.settings import Settings
from services.documents.api import build_router
from services.documents.config import DocumentsConfig
from services.documents.issuer import Issuer
from services.documents.press import Press, ProcessPress, ThreadPress
from services.documents.queries import Documents
from services.documents.recorder import Recorder
from services.documents.render import Renderer
from services.documents.signing import PadesSigner, Signer
from services.documents.signing_setup import check_signing, material_from, unsigned
from services.documents.store import DocumentStore

SERVICE = "documents"


async def press_for(config: DocumentsConfig, settings: Settings, renderer: Renderer) -> Press:
    """Where the documents are rendered and signed with the department's certificate: a pool
    of ``config.processes`` processes (started now), or threads of this process."""
    material = material_from(config, settings)
    if config.processes == 0:
        return ThreadPress(renderer, PadesSigner(material))
    press = ProcessPress(config.processes, renderer, material)
    await press.warm()
    return press


def create_app(
    settings: Settings,
    config: DocumentsConfig | None = None,
    clock: Callable[[], dt.datetime] = utc_now,
    signer: Signer | None = None,
) -> FastAPI:
    """The documents app. ``config`` defaults to the ``DOCUMENTS_*`` environment; ``signer``
    to the department's certificate (generated in development)."""
    conf = config or DocumentsConfig()
    settings.check_production()
    check_signing(conf, settings)
    public = settings.jwt_public_key or development_keys(Path(settings.jwt_key_dir))[1]
    verifier = TokenVerifier(public)
    store = DocumentStore(SERVICE, default_registry())

    def pool() -> asyncpg.Pool:
        return runtime.pool

    renderer = Renderer(Path(conf.font_dir))
    issuer = Issuer(
        pool, lambda: runtime.store, store, conf, ThreadPress(renderer, signer or unsigned()), clock
    )
    recorder = Recorder(SERVICE, issuer.wake)
    runtime = ServiceRuntime(
        SERVICE,
        settings,
        consumes=topics_consumed_by(SERVICE),
        handler=recorder.handle,
    )
    keys = IdempotencyKeys(SERVICE, settings.idempotency_retention)
    documents = Documents(pool, store, issuer.wake, keys)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with runtime.running():
            if signer is None:  # generated on first start in development: not at import
                issuer.press = await press_for(conf, settings, renderer)
            app.state.issuer = issuer
            stop = asyncio.Event()
            task = asyncio.create_task(issuer.run(stop), name="documents-issuer")
            try:
                yield
            finally:
                stop.set()
                await task
                await asyncio.to_thread(issuer.press.close)

    app = FastAPI(
        title="Jejak documents",
        version="0.1.0",
        lifespan=lifespan,
        description=(
            "Dokumen resmi SOP sebagai PDF: Tanda Terima, Lembar Disposisi, Berita Acara "
            "(rapat, pengujian, UAT) dan Surat Tugas, dibuat dari event, bernomor dari Buku "
            "Agenda, ditandatangani secara elektronik (PAdES), dan dapat diverifikasi publik "
            "melalui kode QR-nya."
        ),
    )
    install_error_handlers(app)
    limit_input(app)
    app.include_router(build_router(lambda: documents, principal_dependency(lambda: verifier)))
    add_health(app, SERVICE, runtime.healthy)
    return app
