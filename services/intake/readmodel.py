"""The list of requests intake knows: one row per request, written in the same transaction as
the event that changed it (the timeline stays the truth; this only answers lists quickly)."""

from typing import Any

import asyncpg

from infra.db import Connection
from services.intake.domain import RequestState, who_must_act

COLUMNS = "request_id, opd, title, status, step, who_must_act, submitted_at, updated_at"


async def save(conn: Connection, schema: str, state: RequestState) -> None:
    await conn.execute(
        f"INSERT INTO {schema}.requests (request_id, opd, title, status, step, who_must_act) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (request_id) DO UPDATE SET "
        "title = EXCLUDED.title, status = EXCLUDED.status, step = EXCLUDED.step, "
        "who_must_act = EXCLUDED.who_must_act, updated_at = now()",
        state.request_id,
        state.opd,
        state.title,
        state.status,
        state.step,
        who_must_act(state),
    )


async def find(
    pool: asyncpg.Pool, schema: str, opd: str | None, status: str | None, limit: int, offset: int
) -> list[dict[str, Any]]:
    """Newest first; only ``opd``'s requests unless it is ``None``."""
    rows = await pool.fetch(
        f"SELECT {COLUMNS} FROM {schema}.requests "
        "WHERE ($1::text IS NULL OR opd = $1) AND ($2::text IS NULL OR status = $2) "
        "ORDER BY submitted_at DESC, request_id DESC LIMIT $3 OFFSET $4",
        opd,
        status,
        limit,
        offset,
    )
    return [
        {
            **dict(r),
            "submitted_at": r["submitted_at"].isoformat(),
            "updated_at": r["updated_at"].isoformat(),
        }
        for r in rows
    ]
