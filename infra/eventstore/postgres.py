"""The PostgreSQL event store: one ``events`` table per service schema.

Appends take no table lock: the unique ``(stream_id, stream_version)`` decides between racing
writers. An append of its own is a single INSERT when the stream's head is remembered from this
process's last append to it; otherwise it reads the head first.

Followers read in ``(txid, position)`` order and only below the oldest running transaction
(``pg_snapshot_xmin``), so an event whose transaction commits after a later one is never
skipped. To keep that order also per stream, an append inside a caller's transaction whose id
is older than its stream's last append is refused as a retryable ``StreamOrderConflict``.
"""

from collections.abc import Sequence

import asyncpg

from events.envelope import GENESIS_HASH, Envelope, NewEvent
from infra.db import Connection
from infra.eventstore.contract import START, EventStore, Position, StoredEvent, seal_all
from infra.eventstore.errors import ConcurrencyConflict, DuplicateEvent, StreamOrderConflict

HEAD_CACHE_SIZE = 100_000

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
        # The last committed (version, hash) of recently written streams. Stored rows never
        # change, so a stale entry can only lead to a unique violation, i.e. a conflict.
        self._heads: dict[str, tuple[int, str]] = {}
        s = schema
        self._head_sql = (
            f"SELECT stream_version, hash, txid::text::bigint AS txid, "
            f"pg_current_xact_id()::text::bigint AS me FROM {s}.events "
            f"WHERE stream_id = $1 ORDER BY stream_version DESC LIMIT 1"
        )
        self._insert_sql = (
            f"INSERT INTO {s}.events ({COLUMNS}) SELECT * FROM unnest("
            "$1::uuid[], $2::text[], $3::int[], $4::text[], $5::int[], $6::timestamptz[], "
            "$7::json[], $8::text[], $9::uuid[], $10::uuid[], $11::json[], $12::text[], "
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

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
        *,
        conn: Connection | None = None,
    ) -> list[Envelope]:
        """Append inside ``conn``'s transaction if given, else as one statement of its own."""
        if conn is not None:
            return await self._append_in_transaction(conn, stream_id, expected_version, events)
        head = self._heads.get(stream_id)
        if head is None or head[0] != expected_version:
            row = await self.pool.fetchrow(self._head_sql, stream_id)
            head = (row["stream_version"], row["hash"]) if row else (0, GENESIS_HASH)
        if head[0] != expected_version:
            raise ConcurrencyConflict(stream_id, expected_version, head[0])
        if not events:
            return []
        # On its own, the insert's transaction starts after the head it chains to committed, so
        # its txid is newer: the per-stream order of followers holds without a check.
        return await self._insert(self.pool, stream_id, head, events)

    async def append_at_head(
        self, stream_id: str, events: Sequence[NewEvent], *, conn: Connection
    ) -> list[Envelope]:
        """Append after whatever ``stream_id`` holds now, inside ``conn``'s transaction: for a
        writer that serialises the stream itself (a lock held in that transaction) and derives
        its events from other facts, so it has no version of its own to expect."""
        return await self._append_in_transaction(conn, stream_id, None, events)

    async def _append_in_transaction(
        self,
        tx: Connection,
        stream_id: str,
        expected_version: int | None,
        events: Sequence[NewEvent],
    ) -> list[Envelope]:
        row = await tx.fetchrow(self._head_sql, stream_id)
        version = row["stream_version"] if row else 0
        expected = version if expected_version is None else expected_version  # None: the head
        if version != expected:
            raise ConcurrencyConflict(stream_id, expected, version)
        if not events:
            return []
        if row and row["me"] < row["txid"]:
            raise StreamOrderConflict(stream_id, expected, version)
        return await self._insert(
            tx, stream_id, (version, row["hash"] if row else GENESIS_HASH), events
        )

    async def _insert(
        self,
        executor: Connection | asyncpg.Pool,
        stream_id: str,
        head: tuple[int, str],
        events: Sequence[NewEvent],
    ) -> list[Envelope]:
        version, prev_hash = head
        sealed = seal_all(stream_id, version, prev_hash, events)
        try:
            await executor.execute(self._insert_sql, *_columns(sealed))
        except asyncpg.UniqueViolationError as error:
            self._heads.pop(stream_id, None)
            if error.constraint_name == "events_stream_version_unique":
                raise ConcurrencyConflict(stream_id, version, version + 1) from None
            raise DuplicateEvent(error.detail or str(error)) from None
        if isinstance(executor, asyncpg.Pool):  # committed: remember the head
            self._remember(stream_id, (sealed[-1].stream_version, sealed[-1].hash))
        return sealed

    def _remember(self, stream_id: str, head: tuple[int, str]) -> None:
        if len(self._heads) >= HEAD_CACHE_SIZE:
            self._heads.clear()
        self._heads[stream_id] = head

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
