"""What every service's HTTP API shares: error answers that name the field or the step (and a 503
while the database cannot be reached, has no free connection within the pool's acquire timeout,
or cancels a statement at its ``statement_timeout``), the bearer-token dependency, and
``/health``."""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from infra.auth import NO_TOKEN, Bearer, InvalidToken, TokenVerifier
from infra.db import DATABASE_UNAVAILABLE
from infra.errors import DomainError
from infra.eventstore.errors import ConcurrencyConflict
from infra.principal import Principal
from infra.wording import field_path, validation_message

RETRY_AFTER_SECONDS = 2
"""What a 503 for an unreachable database tells the caller to wait before trying again."""


UNAVAILABLE_MESSAGES: dict[type[Exception], str] = {
    TimeoutError: "Layanan sedang sibuk: tidak ada sambungan basis data yang bebas; coba lagi "
    "sebentar lagi.",
    asyncpg.QueryCanceledError: "Permintaan ke basis data melewati batas waktunya dan "
    "dibatalkan; coba lagi sebentar lagi, atau persempit permintaan.",
}
"""The 503s that are no outage: the pool's acquire timeout (``TimeoutError``) and a statement
cancelled at ``statement_timeout`` (``infra.db``). Nothing was done; the same call may succeed
later."""

SHOWN_FIELDS = 5
"""How many fields a 422's message names; ``errors`` lists every one."""


def invalid_input(problems: list[dict[str, Any]]) -> JSONResponse:
    """The 422 for input that breaks the API's rules: each problem names its ``field`` and says
    in Indonesian what to do; the message is the one problem's, or names the fields."""
    if len(problems) == 1:
        message = str(problems[0]["message"])
    else:
        fields = ", ".join(str(p["field"]) for p in problems[:SHOWN_FIELDS])
        more = (
            f" dan {len(problems) - SHOWN_FIELDS} lainnya" if len(problems) > SHOWN_FIELDS else ""
        )
        message = f"Perbaiki {len(problems)} isian berikut: {fields}{more}."
    return JSONResponse(status_code=422, content={"message": message, "errors": problems})


def problems_of(error: RequestValidationError) -> list[dict[str, Any]]:
    """pydantic's errors as the 422 lists them: field, Indonesian message, error type."""
    return [
        {"field": field_path(e["loc"]), "message": validation_message(e), "type": e["type"]}
        for e in error.errors()
    ]


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        return invalid_input(problems_of(error))

    @app.exception_handler(DomainError)
    async def refused(_: Request, error: DomainError) -> JSONResponse:
        return JSONResponse(
            status_code=error.status, content=error.detail(), headers=error.headers() or None
        )

    @app.exception_handler(ConcurrencyConflict)
    async def conflict(_: Request, error: ConcurrencyConflict) -> JSONResponse:
        return JSONResponse(
            status_code=409,
            content={
                "message": "Permohonan diubah bersamaan oleh pengguna lain; muat ulang.",
                "detail": str(error),
            },
        )

    async def unavailable(_: Request, error: Exception) -> JSONResponse:
        message = next(
            (m for kind, m in UNAVAILABLE_MESSAGES.items() if isinstance(error, kind)),
            "Basis data sedang tidak dapat dihubungi; coba lagi sebentar lagi.",
        )
        return JSONResponse(
            status_code=503,
            content={"message": message, "detail": type(error).__name__},
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    for kind in (*DATABASE_UNAVAILABLE, *UNAVAILABLE_MESSAGES):  # nothing was done
        app.add_exception_handler(kind, unavailable)

    @app.exception_handler(InvalidToken)
    async def unauthenticated(_: Request, error: InvalidToken) -> JSONResponse:
        return JSONResponse(
            status_code=401,
            content={"message": str(error)},
            headers={"WWW-Authenticate": "Bearer"},
        )


_bearer = HTTPBearer(auto_error=False)


def bearer_dependency(verifier: Callable[[], TokenVerifier]) -> Callable[..., Awaitable[Bearer]]:
    """A FastAPI dependency that verifies the bearer token (or 401), for routes that outlive a
    request (a stream ends when its token does)."""

    async def current_bearer(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Bearer:
        if credentials is None:
            raise InvalidToken(NO_TOKEN)
        return verifier().bearer(credentials.credentials)

    return current_bearer


def principal_dependency(
    verifier: Callable[[], TokenVerifier],
) -> Callable[..., Awaitable[Principal]]:
    """A FastAPI dependency that turns the bearer token into a ``Principal`` (or 401)."""
    bearer = bearer_dependency(verifier)

    async def current_principal(token: Annotated[Bearer, Depends(bearer)]) -> Principal:
        return token.principal

    return current_principal


def add_health(app: FastAPI, service: str, check: Callable[[], Awaitable[bool]]) -> None:
    @app.get("/health", tags=["ops"], summary="Is the service up and its database reachable?")
    async def health() -> JSONResponse:
        ok = await check()
        return JSONResponse(status_code=200 if ok else 503, content={"service": service, "ok": ok})
