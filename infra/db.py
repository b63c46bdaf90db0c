"""asyncpg pools with JSON codecs, and bounds: no statement runs longer than the pool's
``statement_timeout`` (PostgreSQL cancels it: ``asyncpg.QueryCanceledError``) and no caller waits
longer than the pool's acquire timeout for a connection (``TimeoutError``); the HTTP APIs answer
both with 503 (``infra.http``)."""

import json
from typing import Any

import asyncpg
from asyncpg.pool import PoolAcquireContext, PoolConnectionProxy

Connection = asyncpg.Connection | PoolConnectionProxy
"""A connection of its own or one borrowed from a pool."""

DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    OSError,  # refused, reset, unreachable, a name that does not resolve, timed out
    asyncpg.PostgresConnectionError,  # e.g. the connection lost under a query
    asyncpg.CannotConnectNowError,  # starting up
    asyncpg.InvalidCatalogNameError,  # a server just set up, its database not created yet
    asyncpg.exceptions.OperatorInterventionError,  # shutting down, e.g. for a restart
    asyncpg.TooManyConnectionsError,
    asyncpg.InterfaceError,  # e.g. a pooled connection found closed
    asyncpg.InternalClientError,  # a pooled connection reset after the server ended it
)
"""What PostgreSQL being down, restarting or full raises: the same call may succeed later (the
pool connects anew). ``InternalClientError`` is asyncpg's answer when it resets a connection the
server terminated mid-transaction (MagicStack/asyncpg#784)."""

DATABASE_FAILURES: tuple[type[Exception], ...] = (asyncpg.PostgresError, *DATABASE_UNAVAILABLE)
"""Any failure of a database call: what a background loop logs before it tries again later."""


async def _init_connection(conn: asyncpg.Connection) -> None:
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(
            type_name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


DEFAULT_STATEMENT_TIMEOUT_MS = 60_000
"""The longest a statement may run (``DATABASE_STATEMENT_TIMEOUT_MS``), waits on locks included."""
BATCH_STATEMENT_TIMEOUT_MS = 3_600_000
"""The operator's batch tools' bound (``jejak audit replay`` and ``verify``): one statement may
rebuild an index over every event, or read a whole stream, but still not run for ever."""
DEFAULT_ACQUIRE_TIMEOUT_SECONDS = 10.0
"""The longest a caller waits for a free connection (``DATABASE_ACQUIRE_TIMEOUT_SECONDS``)."""


class BoundedPool(asyncpg.Pool):
    """A pool whose ``acquire`` waits at most ``acquire_timeout`` seconds unless the caller names
    another bound; asyncpg's own default waits for ever. ``fetch``, ``execute`` and the other
    shortcuts acquire through it too."""

    def __init__(self, *args: Any, acquire_timeout: float, **kwargs: Any) -> None:
        if acquire_timeout <= 0:
            raise ValueError("acquire_timeout harus lebih dari 0 detik.")
        super().__init__(*args, **kwargs)
        self.acquire_timeout = acquire_timeout

    def acquire(self, *, timeout: float | None = None) -> PoolAcquireContext:
        return super().acquire(timeout=self.acquire_timeout if timeout is None else timeout)


async def create_pool(
    url: str,
    min_size: int = 1,
    max_size: int = 10,
    *,
    statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS,
    acquire_timeout: float = DEFAULT_ACQUIRE_TIMEOUT_SECONDS,
    **kwargs: Any,
) -> asyncpg.Pool:
    """A ``BoundedPool`` of ``url``: every connection with ``statement_timeout`` set (in ms, at
    least 1) and the JSON codecs; ``kwargs`` as ``asyncpg.create_pool`` takes them."""
    if statement_timeout_ms < 1:
        raise ValueError(
            "statement_timeout_ms paling sedikit 1 (0 berarti kueri tanpa batas waktu)."
        )
    server_settings = {
        **kwargs.pop("server_settings", {}),
        "statement_timeout": str(statement_timeout_ms),
    }
    pool = BoundedPool(
        url,
        acquire_timeout=acquire_timeout,
        min_size=min_size,
        max_size=max_size,
        max_queries=kwargs.pop("max_queries", 50_000),
        max_inactive_connection_lifetime=kwargs.pop("max_inactive_connection_lifetime", 300.0),
        init=_init_connection,
        loop=None,
        connection_class=asyncpg.Connection,
        record_class=asyncpg.Record,
        server_settings=server_settings,
        **kwargs,
    )
    await pool
    return pool
