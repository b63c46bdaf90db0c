"""Wiring of the identity service: the one place where its parts meet."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

import structlog
from fastapi import FastAPI

from events.envelope import utc_now
from infra.auth import InvalidToken, TokenIssuer, TokenVerifier, development_keys
from infra.http import add_health, install_error_handlers, principal_dependency
from infra.idempotency import IdempotencyKeys
from infra.limits import limit_input
from infra.principal import Principal
from infra.runtime import ServiceRuntime
from infra.settings import ProductionConfigError, Settings
from services.identity import demo, domain
from services.identity.api import build_router
from services.identity.usecases import Identity


def _is_key_pair(private: str, public: str) -> bool:
    probe = Principal(user_id="key-check", name="", roles=frozenset())
    try:
        TokenVerifier(public).verify(TokenIssuer(private).issue(probe))
    except (InvalidToken, ValueError, TypeError):
        return False
    return True


def production_problems(settings: Settings, seed_demo: bool) -> list[str]:
    """What keeps identity from running in production (empty in development)."""
    problems = settings.production_problems(signs_tokens=True)
    if settings.environment != "production":
        return problems
    if seed_demo:
        problems.append("demo users seeding is enabled (seed_demo=True)")
    private, public = settings.jwt_private_key, settings.jwt_public_key
    if private and public and not _is_key_pair(private, public):
        problems.append("JWT_PRIVATE_KEY and JWT_PUBLIC_KEY are not one Ed25519 key pair")
    return problems


def create_app(
    settings: Settings,
    seed_demo: bool | None = None,
    *,
    login_policy: domain.LoginPolicy | None = None,
    token_policy: domain.TokenPolicy | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> FastAPI:
    """identity's app. ``seed_demo`` (default: in development only) creates the demo users;
    in production it is refused, as are development keys and default secrets
    (``ProductionConfigError``, raised here before anything starts)."""
    production = settings.environment == "production"
    seed = not production if seed_demo is None else seed_demo
    if problems := production_problems(settings, seed):
        raise ProductionConfigError(
            "identity: refusing to start in production: " + "; ".join(problems)
        )
    if settings.jwt_private_key and settings.jwt_public_key:
        private, public = settings.jwt_private_key, settings.jwt_public_key
    else:
        private, public = development_keys(Path(settings.jwt_key_dir))
    runtime = ServiceRuntime("identity", settings)
    verifier = TokenVerifier(public, clock=clock)
    holder: dict[str, Identity] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with runtime.running():
            identity = Identity(
                runtime.store,
                TokenIssuer(private, timedelta(minutes=settings.access_token_minutes)),
                settings.tenant,
                IdempotencyKeys(runtime.store.schema, settings.idempotency_retention),
                login_policy=login_policy
                or domain.LoginPolicy.of(
                    settings.login_lockout_minutes, settings.login_lockout_max_minutes
                ),
                token_policy=token_policy or domain.TokenPolicy(),
                clock=clock,
            )
            holder["identity"] = identity
            if production and (
                demo_accounts := await identity.accounts_with_password(
                    [u[0] for u in demo.USERS], demo.DEMO_PASSWORD
                )
            ):
                raise ProductionConfigError(
                    "identity: refusing to start in production: demo accounts still have the "
                    f"demo password: {', '.join(demo_accounts)}"
                )
            if seed and (created := await demo.seed(identity)):
                structlog.get_logger().info(
                    "demo users created", usernames=created, password=demo.DEMO_PASSWORD
                )
            yield

    app = FastAPI(
        title="Jejak identity",
        version="0.1.0",
        lifespan=lifespan,
        description="Pengguna, OPD, peran, penugasan Plt/Plh dan token masuk.",
    )
    install_error_handlers(app)
    limit_input(app)
    add_health(app, "identity", runtime.healthy)
    # Routes are declared now (so OpenAPI lists them); the use cases exist once the lifespan ran.
    app.include_router(
        build_router(
            cast(Identity, _Started(holder)),
            principal_dependency(lambda: verifier),
            public,
            verifier,
        )
    )
    return app


class _Started:
    """Stands for the ``Identity`` the lifespan creates."""

    def __init__(self, holder: dict[str, Identity]) -> None:
        self._holder = holder

    def __getattr__(self, name: str) -> Any:
        return getattr(self._holder["identity"], name)
