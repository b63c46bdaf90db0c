"""asyncpg pools with JSON codecs."""

import json
from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy

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


async def create_pool(
    url: str, min_size: int = 1, max_size: int = 10, **kwargs: Any
) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        url, min_size=min_size, max_size=max_size, init=_init_connection, **kwargs
    )
    assert pool is not None
    return pool
