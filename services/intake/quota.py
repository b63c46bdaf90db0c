"""The per-user daily upload quotas, counted in ``upload_ledger``: one row per accepted upload,
written in the upload's transaction (a refused or rolled-back upload counts nothing; a retry
answered from its Idempotency-Key counts nothing more)."""

import datetime as dt
from dataclasses import dataclass

from infra.db import Connection
from services.intake.upload_limits import QUOTA_WINDOW, DailyQuota, Usage


@dataclass(frozen=True)
class UploadLedger:
    schema: str
    quota: DailyQuota

    async def charge(self, conn: Connection, user_id: str, size_bytes: int) -> None:
        """Count an upload of ``size_bytes`` by ``user_id``, or refuse it (``TooManyUploads``).
        The user's uploads are counted one after another (a lock per user until commit), so
        concurrent uploads cannot all pass on the same count."""
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext($1))", f"{self.schema}:upload-quota:{user_id}"
        )
        used, now = await self._usage(conn, user_id)
        self.quota.check(used, size_bytes, now)
        await conn.execute(
            f"INSERT INTO {self.schema}.upload_ledger (user_id, size_bytes) VALUES ($1, $2)",
            user_id,
            size_bytes,
        )

    async def refuse_early(self, conn: Connection, user_id: str, declared_bytes: int) -> None:
        """Refuse an upload before its body is read if the quota cannot take it (its declared
        length, or one byte if it declares none); ``charge`` counts it exactly later."""
        used, now = await self._usage(conn, user_id)
        self.quota.check(used, max(1, declared_bytes), now)

    async def _usage(self, conn: Connection, user_id: str) -> tuple[Usage, dt.datetime]:
        row = await conn.fetchrow(
            "SELECT count(*) AS files, coalesce(sum(size_bytes), 0) AS size_bytes, "
            f"min(uploaded_at) AS oldest, now() AS now FROM {self.schema}.upload_ledger "
            "WHERE user_id = $1 AND uploaded_at > now() - $2::interval",
            user_id,
            QUOTA_WINDOW,
        )
        assert row is not None
        return Usage(int(row["files"]), int(row["size_bytes"]), row["oldest"]), row["now"]

    async def forget_old(self, conn: Connection) -> int:
        """Delete the rows no quota counts any more; how many."""
        deleted = await conn.fetch(
            f"DELETE FROM {self.schema}.upload_ledger WHERE uploaded_at <= now() - $1::interval "
            "RETURNING 1",
            QUOTA_WINDOW,
        )
        return len(deleted)
