"""The PostgreSQL event store: one ``events`` table per service schema.

Appends take no table lock: the unique ``(stream_id, stream_version)`` decides between racing
writers. Followers read in ``(txid, position)`` order and only below the oldest running
transaction (``pg_snapshot_xmin``), so an event whose transaction commits after a later one is
never skipped. To keep that order also per stream, an append whose transaction id is older
than its stream's last append is refused as a retryable ``StreamOrderConflict``.
"""

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import asyncpg

from events.envelope import GENESIS_HASH, Envelope, NewEvent
from infra.db import Connection
from infra.eventstore.contract import START, EventStore, Position, StoredEvent, seal_all
from infra.eventstore.errors import ConcurrencyConflict, DuplicateEvent, StreamOrderConflict

COLUMNS = (
    "event_id, stream_id, stream_version, event_type, schema_version, occurred_at, actor, "
    "tenant, correlation_id, causation_id, payload, prev_hash, hash"
)


def row_to_envelope(row: asyncpg.Record) -> Envelope:
    return Envelope.model_validate({key: row[key] for key in COLUMNS.split(", ")})


class PostgresEventStore(EventStore):
    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self.pool = pool
        self.schema = schema
        s = schema
        self._head_sql = (
            f"SELECT stream_version, hash, txid::text::bigint AS txid, "
            f"pg_current_xact_id()::text::bigint AS me FROM {s}.events "
            f"WHERE stream_id = $1 ORDER BY stream_version DESC LIMIT 1"
        )
        self._insert_sql = (
            f"INSERT INTO {s}.events ({COLUMNS}) SELECT * FROM unnest("
            "$1::uuid[], $2::text[], $3::int[], $4::text[], $5::int[], $6::timestamptz[], "
            "$7::jsonb[], $8::text[], $9::uuid[], $10::uuid[], $11::jsonb[], $12::text[], "
            "$13::text[])"
        )
        self._stream_sql = (
            f"SELECT {COLUMNS} FROM {s}.events WHERE stream_id = $1 ORDER BY stream_version"
        )
        self._all_sql = (
            f"SELECT txid::text::bigint AS txid_n, position, {COLUMNS} FROM {s}.events "
            f"WHERE (txid, position) > ($1::text::xid8, $2) "
            f"AND txid < pg_snapshot_xmin(pg_current_snapshot()) "
            f"ORDER BY txid, position LIMIT $3"
        )

    @asynccontextmanager
    async def _transaction(self, conn: Connection | None) -> AsyncIterator[Connection]:
        if conn is not None:
            yield conn
            return
        async with self.pool.acquire() as own, own.transaction():
            yield own

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
        *,
        conn: Connection | None = None,
    ) -> list[Envelope]:
        """Append inside ``conn``'s transaction if given, else in a transaction of its own."""
        async with self._transaction(conn) as tx:
            head = await tx.fetchrow(self._head_sql, stream_id)
            version = head["stream_version"] if head else 0
            if version != expected_version:
                raise ConcurrencyConflict(stream_id, expected_version, version)
            if not events:
                return []
            if head and head["me"] < head["txid"]:
                raise StreamOrderConflict(stream_id, expected_version, version)
            sealed = seal_all(stream_id, version, head["hash"] if head else GENESIS_HASH, events)
            try:
                await tx.execute(self._insert_sql, *_columns(sealed))
            except asyncpg.UniqueViolationError as error:
                if error.constraint_name == "events_stream_version_unique":
                    raise ConcurrencyConflict(stream_id, expected_version, version + 1) from None
                raise DuplicateEvent(error.detail or str(error)) from None
            return sealed

    async def read_stream(
        self, stream_id: str, *, conn: Connection | None = None
    ) -> list[Envelope]:
        if conn is not None:
            rows = await conn.fetch(self._stream_sql, stream_id)
        else:
            rows = await self.pool.fetch(self._stream_sql, stream_id)
        return [row_to_envelope(row) for row in rows]

    async def read_all(self, after: Position = START, limit: int = 1000) -> list[StoredEvent]:
        rows = await self.pool.fetch(self._all_sql, str(after.txid), after.position, limit)
        return [
            StoredEvent(Position(row["txid_n"], row["position"]), row_to_envelope(row))
            for row in rows
        ]


def _columns(sealed: Sequence[Envelope]) -> list[list[object]]:
    rows = [e.model_dump(mode="json") for e in sealed]
    return [
        [e.event_id for e in sealed],
        [e.stream_id for e in sealed],
        [e.stream_version for e in sealed],
        [e.event_type for e in sealed],
        [e.schema_version for e in sealed],
        [e.occurred_at for e in sealed],
        [r["actor"] for r in rows],
        [e.tenant for e in sealed],
        [e.correlation_id for e in sealed],
        [e.causation_id for e in sealed],
        [r["payload"] for r in rows],
        [e.prev_hash for e in sealed],
        [e.hash for e in sealed],
    ]
