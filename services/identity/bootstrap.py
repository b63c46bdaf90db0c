"""Wiring of the identity service: the one place where its parts meet."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import structlog
from fastapi import FastAPI

from infra.auth import TokenIssuer, TokenVerifier, development_keys
from infra.http import add_health, install_error_handlers, principal_dependency
from infra.runtime import ServiceRuntime
from infra.settings import Settings
from services.identity import demo
from services.identity.api import build_router
from services.identity.usecases import Identity

SQL = Path(__file__).parent / "sql"


def create_app(settings: Settings, seed_demo: bool = True) -> FastAPI:
    if settings.jwt_private_key and settings.jwt_public_key:
        private, public = settings.jwt_private_key, settings.jwt_public_key
    else:
        private, public = development_keys(Path(settings.jwt_key_dir))
    runtime = ServiceRuntime("identity", settings, sql_dir=SQL)
    verifier = TokenVerifier(public)
    holder: dict[str, Identity] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with runtime.running():
            identity = Identity(runtime.store, TokenIssuer(private), settings.tenant)
            holder["identity"] = identity
            app.include_router(
                build_router(identity, principal_dependency(lambda: verifier), public)
            )
            if seed_demo and (created := await demo.seed(identity)):
                structlog.get_logger().info(
                    "demo users created", usernames=created, password=demo.DEMO_PASSWORD
                )
            yield

    app = FastAPI(
        title="Jejak identity",
        version="0.1.0",
        lifespan=lifespan,
        description="Pengguna, OPD, peran dan token masuk.",
    )
    install_error_handlers(app)
    add_health(app, "identity", runtime.healthy)
    return app
