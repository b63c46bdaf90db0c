"""Every pool is bounded (issue 17, item 9): a statement longer than the pool's
``statement_timeout`` is cancelled by PostgreSQL, a caller that waits longer than the acquire
timeout for a connection gets ``TimeoutError``, and an HTTP API answers both with 503."""

import asyncio
import time
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from infra.db import DEFAULT_STATEMENT_TIMEOUT_MS, create_pool
from infra.http import install_error_handlers
from infra.runtime import ServiceRuntime
from infra.settings import Settings


@pytest.fixture
async def small_pool(owner_settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(
        owner_settings.database_url, max_size=1, statement_timeout_ms=300, acquire_timeout=0.3
    )
    yield pool
    await pool.close()


def api_over(pool: asyncpg.Pool) -> httpx.AsyncClient:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/slow")
    async def slow() -> int:
        return int(await pool.fetchval("SELECT 1 FROM pg_sleep(2)"))

    @app.get("/quick")
    async def quick() -> int:
        return int(await pool.fetchval("SELECT 1"))

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bounded")


async def test_a_statement_longer_than_the_timeout_is_cancelled(
    small_pool: asyncpg.Pool, owner_settings: Settings
) -> None:
    started = time.monotonic()
    with pytest.raises(asyncpg.QueryCanceledError, match="statement timeout"):
        await small_pool.fetchval("SELECT pg_sleep(2)")
    assert time.monotonic() - started < 1.5
    assert await small_pool.fetchval("SELECT 1") == 1  # the connection is still good
    default = await create_pool(owner_settings.database_url, max_size=1)
    try:
        shown = await default.fetchval("SHOW statement_timeout")
        assert shown == f"{DEFAULT_STATEMENT_TIMEOUT_MS // 60_000}min"
    finally:
        await default.close()


async def test_an_acquire_that_waits_too_long_raises(small_pool: asyncpg.Pool) -> None:
    async with small_pool.acquire():
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await small_pool.fetchval("SELECT 1")
        assert time.monotonic() - started < 1.5
    assert await small_pool.fetchval("SELECT 1") == 1


async def test_the_api_answers_503_for_both(small_pool: asyncpg.Pool) -> None:
    async with api_over(small_pool) as client:
        slow = await client.get("/slow")
        assert slow.status_code == 503, slow.text
        assert "melewati batas waktunya" in slow.json()["message"]
        assert slow.headers["Retry-After"]
        async with small_pool.acquire():
            busy = await client.get("/quick")
        assert busy.status_code == 503, busy.text
        assert "tidak ada sambungan basis data yang bebas" in busy.json()["message"]
        assert (await client.get("/quick")).json() == 1


async def test_a_service_pool_takes_its_bounds_from_the_settings(settings: Settings) -> None:
    """``infra.runtime`` builds every service's pool with ``DATABASE_STATEMENT_TIMEOUT_MS`` and
    ``DATABASE_ACQUIRE_TIMEOUT_SECONDS``."""
    bounded = settings.model_copy(
        update={
            "database_statement_timeout_ms": 250,
            "database_acquire_timeout_seconds": 0.2,
            "pool_max_size": 2,
        }
    )
    async with ServiceRuntime("dev_tracking", bounded).running() as runtime:
        pool = runtime.pool  # its relay borrows connections too: wait for them explicitly
        async with pool.acquire(timeout=30) as conn:
            assert await conn.fetchval("SHOW statement_timeout") == "250ms"
            with pytest.raises(asyncpg.QueryCanceledError):
                await conn.fetchval("SELECT pg_sleep(1)")
        held = [await pool.acquire(timeout=30) for _ in range(pool.get_max_size())]
        try:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(pool.fetchval("SELECT 1"), timeout=5)
        finally:
            for conn in held:
                await pool.release(conn)
