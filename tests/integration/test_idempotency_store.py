"""``infra.idempotency.IdempotencyKeys`` on the real PostgreSQL, in a fresh service schema: the
answer is kept in the command's transaction (both commit, or neither), retries racing each
other act once, and answers older than the retention are forgotten and pruned."""

import asyncio
import datetime as dt
from typing import Any

import asyncpg
import pytest

from infra.db import Connection
from infra.errors import NotFound
from infra.idempotency import PRUNED_PER_ANSWER, Answer, IdempotencyKeys, Key, KeyReused
from infra.settings import Settings

KEY = Key("k-1", "POST /things/T-1/close", 201)


class Effects:
    """A command that inserts a row per run, so a second run shows."""

    def __init__(self, schema: str) -> None:
        self.schema = schema
        self.runs = 0

    async def command(self, conn: Connection) -> dict[str, Any]:
        self.runs += 1
        await asyncio.sleep(0.05)  # long enough for racing retries to meet
        await conn.execute(f"INSERT INTO {self.schema}.effects VALUES ($1)", self.runs)
        return {"run": self.runs, "note": "sekali", "z": 1, "a": [1.5, None]}


@pytest.fixture
async def effects(schema: str, owner_conn: asyncpg.Connection, settings: Settings) -> Effects:
    await owner_conn.execute(f"CREATE TABLE {schema}.effects (run integer)")
    await owner_conn.execute(
        f'GRANT SELECT, INSERT ON {schema}.effects TO "{settings.app_role(schema)}"'
    )
    return Effects(schema)


async def rows(pool: asyncpg.Pool, schema: str, table: str) -> int:
    return int(await pool.fetchval(f"SELECT count(*) FROM {schema}.{table}"))


async def test_a_retry_gets_the_first_answer_to_the_letter(
    app_pool: asyncpg.Pool, schema: str, effects: Effects
) -> None:
    keys = IdempotencyKeys(schema)
    first = await keys.once(app_pool, "u-1", KEY, {"note": "x"}, effects.command)
    again = await keys.once(app_pool, "u-1", KEY, {"note": "x"}, effects.command)
    assert first == Answer(201, {"run": 1, "note": "sekali", "z": 1, "a": [1.5, None]})
    assert again == first._replace(replayed=True)
    assert list(again.body) == ["run", "note", "z", "a"]  # json, not jsonb: the order kept
    assert again.response().body == first.response().body
    assert (effects.runs, await rows(app_pool, schema, "effects")) == (1, 1)

    with pytest.raises(KeyReused):
        await keys.once(app_pool, "u-1", KEY, {"note": "y"}, effects.command)
    other_user = await keys.once(app_pool, "u-2", KEY, {"note": "x"}, effects.command)
    assert (other_user.replayed, effects.runs) == (False, 2)
    unkeyed = Key(None, KEY.target, 201)
    await keys.once(app_pool, "u-1", unkeyed, {"note": "x"}, effects.command)
    assert effects.runs == 3 and await rows(app_pool, schema, "idempotency_keys") == 2


async def test_a_refused_command_keeps_nothing_and_may_be_retried(
    app_pool: asyncpg.Pool, schema: str, effects: Effects
) -> None:
    keys = IdempotencyKeys(schema)

    async def refused(conn: Connection) -> None:
        await effects.command(conn)
        raise NotFound("Tidak ada.")

    with pytest.raises(NotFound):
        await keys.once(app_pool, "u-1", KEY, None, refused)
    assert await rows(app_pool, schema, "effects") == 0  # rolled back with the answer
    assert await rows(app_pool, schema, "idempotency_keys") == 0
    accepted = await keys.once(app_pool, "u-1", KEY, None, effects.command)
    assert accepted.replayed is False and await rows(app_pool, schema, "effects") == 1


async def test_racing_retries_act_once(
    app_pool: asyncpg.Pool, schema: str, effects: Effects
) -> None:
    keys = IdempotencyKeys(schema)
    answers = await asyncio.gather(
        *(keys.once(app_pool, "u-1", KEY, {"n": 1}, effects.command) for _ in range(6))
    )
    assert effects.runs == 1 and await rows(app_pool, schema, "effects") == 1
    assert {a.body["run"] for a in answers} == {1}
    assert sorted(a.replayed for a in answers) == [False] + [True] * 5


async def test_answers_past_the_retention_are_forgotten_and_pruned(
    app_pool: asyncpg.Pool, schema: str, effects: Effects, owner_conn: asyncpg.Connection
) -> None:
    keys = IdempotencyKeys(schema, dt.timedelta(hours=24))
    await keys.once(app_pool, "u-1", KEY, None, effects.command)
    stale = PRUNED_PER_ANSWER + 5
    await owner_conn.execute(
        f"INSERT INTO {schema}.idempotency_keys (user_id, key, fingerprint, status_code, "
        "response, created_at) SELECT 'u-old', 'k-' || n, 'f', 200, '{}', "
        "now() - interval '30 hours' FROM generate_series(1, $1) AS n",
        stale,
    )
    await owner_conn.execute(
        f"UPDATE {schema}.idempotency_keys SET created_at = now() - interval '25 hours' "
        "WHERE user_id = 'u-1'"
    )
    forgotten = await keys.once(app_pool, "u-1", KEY, {"other": "body"}, effects.command)
    assert forgotten.replayed is False and effects.runs == 2  # acts again, no 422
    left = await owner_conn.fetchval(
        f"SELECT count(*) FROM {schema}.idempotency_keys "
        "WHERE created_at < now() - interval '24 hours'"
    )
    assert left == stale - PRUNED_PER_ANSWER  # the oldest batch pruned, u-1's renewed
    kept = await keys.once(app_pool, "u-1", KEY, {"other": "body"}, effects.command)
    assert kept.replayed is True and effects.runs == 2
