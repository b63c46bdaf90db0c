"""Idempotent submits: the first successful answer to a user's ``Idempotency-Key``, kept in the
same transaction as the submit it answers, and given again to every retry with that key.

Only accepted submits are kept: a refused one appended nothing, so retrying it is harmless. A key
is the user's own (another user's same key is another key), and reusing it for a different body
is refused (422 naming the header). Retries racing each other are serialised by a lock on the key.
"""

import hashlib
from dataclasses import dataclass
from typing import Any, NamedTuple

from infra.db import Connection
from infra.errors import InvalidInput

FIELD = "header.idempotency-key"


class Answer(NamedTuple):
    status_code: int
    body: dict[str, Any]
    replayed: bool = False


def fingerprint(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True)
class IdempotencyKeys:
    schema: str

    async def recall(
        self, conn: Connection, user_id: str, key: str, body_fingerprint: str
    ) -> Answer | None:
        """The answer kept for ``(user_id, key)``, if any. Holds the key until the transaction
        ends, so a concurrent retry waits for this one and then finds its answer."""
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext($1))", f"{self.schema}:idem:{user_id}:{key}"
        )
        row = await conn.fetchrow(
            f"SELECT fingerprint, status_code, response FROM {self.schema}.idempotency_keys "
            "WHERE user_id = $1 AND key = $2",
            user_id,
            key,
        )
        if row is None:
            return None
        if row["fingerprint"] != body_fingerprint:
            raise InvalidInput(
                "Idempotency-Key ini sudah dipakai untuk permohonan dengan isi yang lain.",
                field=FIELD,
            )
        return Answer(row["status_code"], row["response"], replayed=True)

    async def remember(
        self, conn: Connection, user_id: str, key: str, body_fingerprint: str, answer: Answer
    ) -> None:
        await conn.execute(
            f"INSERT INTO {self.schema}.idempotency_keys "
            "(user_id, key, fingerprint, status_code, response) VALUES ($1, $2, $3, $4, $5)",
            user_id,
            key,
            body_fingerprint,
            answer.status_code,
            answer.body,
        )
