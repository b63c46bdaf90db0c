"""The orphan sweep: an attachment no request references is removed ``days`` after its last
upload, and the quota ledger forgets what its window no longer counts (issue 17, item 8).

A background task of intake (``OrphanSweep.run``) looks every ``interval`` seconds. Each batch is
one transaction: lock (``FOR UPDATE SKIP LOCKED``) up to ``BATCH`` attachments last uploaded
before the cutoff that no request references; then, in a new statement that sees every
reference committed meanwhile, delete those that still qualify, with their uploaders' rows.

Racing a submit or revision that references the same bytes: the command locks them first
(``FOR KEY SHARE``, ``Attachments.require_referable``) until it commits, so either the sweep
meets the lock and skips them (and the next look finds them referenced), or the command waits
for the sweep, finds them gone and is refused (422 naming ``attachments.<i>.sha256``, nothing
appended). An upload of the same bytes waits too, then stores them anew. The foreign key from
``request_attachments`` keeps any referenced attachment from being deleted whatever happens. A
crash mid-batch rolls the batch back; the next look does it again.
"""

import asyncio
import datetime as dt
from contextlib import suppress
from dataclasses import dataclass

import asyncpg
import structlog

from infra.db import DATABASE_FAILURES, Connection
from services.intake.quota import UploadLedger

log = structlog.get_logger()

BATCH = 100


@dataclass(frozen=True)
class Removed:
    sha256: str
    size_bytes: int


@dataclass
class OrphanSweep:
    pool: asyncpg.Pool
    schema: str
    ledger: UploadLedger
    days: int
    interval: float

    @property
    def _age(self) -> dt.timedelta:
        return dt.timedelta(days=self.days)

    async def remove_batch(self, conn: Connection) -> list[Removed]:
        """One batch, in ``conn``'s transaction (which the caller opened)."""
        s = self.schema
        orphan = (
            f"a.last_uploaded_at < now() - $1::interval AND NOT EXISTS "
            f"(SELECT 1 FROM {s}.request_attachments ra WHERE ra.sha256 = a.sha256)"
        )
        locked = await conn.fetch(
            f"SELECT a.sha256 FROM {s}.attachments a WHERE {orphan} "
            "ORDER BY a.last_uploaded_at LIMIT $2 FOR UPDATE SKIP LOCKED",
            self._age,
            BATCH,
        )
        if not locked:
            return []
        still = [
            r["sha256"]
            for r in await conn.fetch(
                f"SELECT a.sha256 FROM {s}.attachments a WHERE a.sha256 = ANY($2::text[]) "
                f"AND {orphan}",
                self._age,
                [r["sha256"] for r in locked],
            )
        ]
        await conn.execute(
            f"DELETE FROM {s}.attachment_uploads WHERE sha256 = ANY($1::text[])", still
        )
        rows = await conn.fetch(
            f"DELETE FROM {s}.attachments WHERE sha256 = ANY($1::text[]) "
            "RETURNING sha256, size_bytes",
            still,
        )
        return [Removed(r["sha256"], r["size_bytes"]) for r in rows]

    async def sweep(self) -> list[Removed]:
        """Remove every orphan due now, batch by batch (each logged), and forget old ledger
        rows; what was removed."""
        removed: list[Removed] = []
        while True:
            async with self.pool.acquire() as conn, conn.transaction():
                batch = await self.remove_batch(conn)
            if batch:
                log.info(
                    "orphan attachments removed",
                    count=len(batch),
                    size_bytes=sum(r.size_bytes for r in batch),
                    sha256=[r.sha256 for r in batch],
                    older_than_days=self.days,
                )
            removed += batch
            if len(batch) < BATCH:
                break
        async with self.pool.acquire() as conn:
            forgotten = await self.ledger.forget_old(conn)
        if forgotten:
            log.info("upload ledger pruned", rows=forgotten)
        return removed

    async def run(self, stop: asyncio.Event) -> None:
        """Sweep until ``stop`` is set; a failed sweep is logged and tried again later."""
        while not stop.is_set():
            try:
                await self.sweep()
            except DATABASE_FAILURES as error:
                log.warning("orphan sweep failed; trying again later", error=str(error))
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.interval)
