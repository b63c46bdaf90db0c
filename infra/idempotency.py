"""Commands that are safe to retry: the first answer to a user's ``Idempotency-Key``, kept in the
same transaction as the command's effect, and given again (with ``Idempotent-Replayed: true``)
to every retry with that key.

A route takes the header through ``IdempotencyKey`` (so every OpenAPI declares it the same way);
its use case runs the command with ``IdempotencyKeys.once``, which opens the transaction, takes
a lock on the key (a concurrent retry waits, then finds the answer), answers a kept answer
again, or runs the command and keeps its answer before the transaction commits. A crash
between the effect and the answer is thus impossible: both commit, or neither.

Only accepted commands are kept: a refusal rolls back and appended nothing, so retrying it is
harmless. A key is its user's own (another user's same key is another key); reusing it for
another path (another command, or the same on another request) or another body is refused
(422 naming the header).
Answers older than the retention are forgotten: a retry after that acts again.
"""

import datetime as dt
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, NamedTuple, TypeVar

import asyncpg
import pydantic_core
from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse

from events.fields import VISIBLE_ASCII
from infra.db import Connection
from infra.errors import InvalidInput
from infra.principal import Principal

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
FIELD = "header.idempotency-key"
"""How a refusal names the header (as a malformed header's 422 names it)."""

MINIMUM_RETENTION = dt.timedelta(hours=24)
DEFAULT_RETENTION = dt.timedelta(days=7)
PRUNED_PER_ANSWER = 100
"""How many forgotten answers each newly kept answer deletes: the table stays the size of the
retention's traffic without a background task."""


class KeyReused(InvalidInput):
    """The key already answered a different command: 422 naming the header."""

    def __init__(self) -> None:
        super().__init__(
            "Idempotency-Key ini sudah dipakai untuk perintah dengan isi yang lain; gunakan "
            "kunci baru untuk perintah baru.",
            field=FIELD,
        )


class Answer(NamedTuple):
    """An accepted command's answer: what the route sends, and sends again to a retry."""

    status_code: int
    body: Any
    replayed: bool = False

    def response(self) -> JSONResponse:
        headers = {REPLAYED_HEADER: "true"} if self.replayed else None
        return JSONResponse(self.body, status_code=self.status_code, headers=headers)


@dataclass(frozen=True)
class Key:
    """An ``Idempotency-Key`` as one route received it (``value`` None: none was sent)."""

    value: str | None
    target: str = ""
    """``POST /requests/R-1/dispose``: the method and the path the command was sent to."""
    status_code: int = 200
    """The route's status on success: the answer's, unless the command chooses its own."""

    def fingerprint(self, body: object) -> str:
        """What the command is: its method, path and body (models, ids and dates as their
        JSON), hashed. A retry of the same command has the same one."""
        described = pydantic_core.to_json([self.target, body])
        return hashlib.sha256(described).hexdigest()

    def answer(self, result: object) -> Answer:
        """The command's result as its answer: an ``Answer`` as it is, anything else as the
        JSON the route sends with its status."""
        if isinstance(result, Answer):
            return result
        return Answer(self.status_code, pydantic_core.to_jsonable_python(result))


NO_KEY = Key(None)
"""For callers that are not a route (seeding, tests): no key, nothing kept."""


async def idempotency_key(
    request: Request,
    idempotency_key: Annotated[
        str | None,
        Header(
            min_length=1,
            max_length=255,
            pattern=VISIBLE_ASCII,
            description="Kunci pengulangan (disarankan UUID baru per perintah): perintah yang "
            "diulang dengan kunci dan isi yang sama tidak dijalankan lagi; jawaban pertama "
            f"diberikan lagi dengan header {REPLAYED_HEADER}: true. Kunci yang sama dengan isi "
            "lain ditolak (422). Kunci disimpan paling sedikit 24 jam.",
        ),
    ] = None,
) -> Key:
    route = request.scope.get("route")
    status_code = getattr(route, "status_code", None) or 200
    return Key(idempotency_key, f"{request.method} {request.url.path}", status_code)


IdempotencyKey = Annotated[Key, Depends(idempotency_key)]
"""The parameter every state-changing route declares."""

C = TypeVar("C")

Command = Callable[[Connection], Awaitable[object]]
"""A command's effect in the given connection's transaction; it returns the answer's body (or
an ``Answer`` with its own status)."""


@dataclass(frozen=True)
class IdempotencyKeys:
    """The answers kept in one service's schema (``idempotency_keys``, ``infra/sql``)."""

    schema: str
    retention: dt.timedelta = DEFAULT_RETENTION

    def __post_init__(self) -> None:
        if self.retention < MINIMUM_RETENTION:
            raise ValueError(
                "Jawaban Idempotency-Key harus disimpan paling sedikit "
                f"{MINIMUM_RETENTION // dt.timedelta(hours=1)} jam."
            )

    @property
    def _table(self) -> str:
        return f"{self.schema}.idempotency_keys"

    async def once(
        self, pool: asyncpg.Pool, user_id: str, key: Key, body: object, command: Command
    ) -> Answer:
        """Run ``command`` in a new transaction, unless ``key`` answered it already."""
        async with pool.acquire() as conn, conn.transaction():
            return await self.within(conn, user_id, key, body, command)

    async def execute(
        self,
        pool: asyncpg.Pool,
        principal: Principal,
        key: Key,
        command: C,
        decide: Callable[[Connection, Principal, C], Awaitable[object]],
    ) -> Answer:
        """``once`` for a use case's ``decide(conn, principal, command)``, keyed by the command."""
        return await self.once(
            pool, principal.user_id, key, command, lambda conn: decide(conn, principal, command)
        )

    async def within(
        self, conn: Connection, user_id: str, key: Key, body: object, command: Command
    ) -> Answer:
        """As ``once``, in ``conn``'s transaction (which the caller opened)."""
        if key.value is None:
            return key.answer(await command(conn))
        fingerprint = key.fingerprint(body)
        kept = await self.recall(conn, user_id, key.value, fingerprint)
        if kept is not None:
            return kept
        answer = key.answer(await command(conn))
        await self.remember(conn, user_id, key.value, fingerprint, answer)
        return answer

    async def recall(
        self, conn: Connection, user_id: str, key: str, fingerprint: str
    ) -> Answer | None:
        """The answer kept for ``(user_id, key)``, if any. Holds the key until the transaction
        ends, so a concurrent retry waits for this one and then finds its answer."""
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext($1))", f"{self.schema}:idem:{user_id}:{key}"
        )
        row = await conn.fetchrow(
            f"SELECT fingerprint, status_code, response FROM {self._table} "
            "WHERE user_id = $1 AND key = $2 AND created_at >= now() - $3::interval",
            user_id,
            key,
            self.retention,
        )
        if row is None:
            return None
        if row["fingerprint"] != fingerprint:
            raise KeyReused()
        return Answer(row["status_code"], row["response"], replayed=True)

    async def remember(
        self, conn: Connection, user_id: str, key: str, fingerprint: str, answer: Answer
    ) -> None:
        """Keep ``answer`` (call after ``recall`` found none, in its transaction), and forget a
        few answers older than the retention, the oldest first."""
        await conn.execute(
            f"DELETE FROM {self._table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM {self._table} "
            "WHERE created_at < now() - $1::interval ORDER BY created_at LIMIT $2 "
            "FOR UPDATE SKIP LOCKED))",
            self.retention,
            PRUNED_PER_ANSWER,
        )
        await conn.execute(
            f"INSERT INTO {self._table} (user_id, key, fingerprint, status_code, response) "
            "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, key) DO UPDATE SET "
            "fingerprint = EXCLUDED.fingerprint, status_code = EXCLUDED.status_code, "
            "response = EXCLUDED.response, created_at = EXCLUDED.created_at",
            user_id,
            key,
            fingerprint,
            answer.status_code,
            answer.body,
        )
