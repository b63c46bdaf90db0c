"""The documents service's tables, as the issuer and the API read and write them."""

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from events.base import DomainEvent
from events.envelope import Envelope
from events.registry import EventRegistry
from infra.consumer import Delivered
from infra.db import Connection

CASE_SERVICES = ("intake", "approval", "dev_tracking")

DOCUMENT_COLUMNS = (
    "document_id, request_id, kind, source_event_id, state, attempts, last_error, failed_at, "
    "number, number_source, document_date, final, signers, sha256, issued_at, recorded_at"
)


@dataclass(frozen=True)
class Pending:
    document_id: UUID
    tenant: str
    request_id: str
    kind: str
    source: Envelope
    event: DomainEvent
    recorded_at: dt.datetime


class DocumentStore:
    def __init__(self, schema: str, registry: EventRegistry) -> None:
        self.s = schema
        self.registry = registry

    def load(self, text: str) -> tuple[Envelope, DomainEvent]:
        envelope = Delivered.of(text.encode()).envelope
        return envelope, self.registry.load(
            envelope.event_type, envelope.schema_version, envelope.payload
        )

    async def claim_due(self, conn: Connection) -> Pending | None:
        """The next due PENDING document, locked for this transaction (others skip it)."""
        row = await conn.fetchrow(
            f"SELECT d.document_id, d.tenant, d.request_id, d.kind, d.recorded_at, e.envelope "
            f"FROM {self.s}.documents d JOIN {self.s}.source_events e "
            "ON e.event_id = d.source_event_id "
            "WHERE d.state = 'PENDING' AND d.next_attempt_at <= now() "
            "ORDER BY d.next_attempt_at, d.source_at LIMIT 1 FOR UPDATE OF d SKIP LOCKED"
        )
        if row is None:
            return None
        envelope, event = self.load(row["envelope"])
        return Pending(
            row["document_id"],
            row["tenant"],
            row["request_id"],
            row["kind"],
            envelope,
            event,
            row["recorded_at"],
        )

    async def history(
        self, conn: Connection, request_id: str, until: dt.datetime
    ) -> list[tuple[Envelope, DomainEvent]]:
        """The request's events up to ``until`` (its source's instant), in time order."""
        rows = await conn.fetch(
            f"SELECT envelope FROM {self.s}.source_events WHERE stream_id = $1 "
            "AND service = ANY($2::text[]) AND occurred_at <= $3 ORDER BY occurred_at, event_id",
            request_id,
            list(CASE_SERVICES),
            until,
        )
        return [self.load(r["envelope"]) for r in rows]

    async def identity_count(self, conn: Connection, until: dt.datetime) -> int:
        """How many identity events (of every tenant) are recorded up to ``until``."""
        count: int = await conn.fetchval(
            f"SELECT count(*) FROM {self.s}.source_events WHERE service = 'identity' "
            "AND occurred_at <= $1",
            until,
        )
        return count

    async def identity_events(
        self, conn: Connection, until: dt.datetime, known: list[UUID]
    ) -> list[tuple[Envelope, DomainEvent]]:
        """The identity events (of every tenant: the envelope names its tenant) recorded up to
        ``until``, except those in ``known``."""
        rows = await conn.fetch(
            f"SELECT envelope FROM {self.s}.source_events WHERE service = 'identity' "
            "AND occurred_at <= $1 AND NOT (event_id = ANY($2::uuid[]))",
            until,
            known,
        )
        return [self.load(r["envelope"]) for r in rows]

    async def issued_numbers(self, conn: Connection, request_id: str) -> dict[str, str]:
        rows = await conn.fetch(
            f"SELECT kind, number FROM {self.s}.documents WHERE request_id = $1 "
            "AND state = 'ISSUED' ORDER BY issued_at",
            request_id,
        )
        return {r["kind"]: r["number"] for r in rows}

    async def case_documents(
        self, conn: Connection, request_id: str, until: dt.datetime
    ) -> list[asyncpg.Record]:
        """The request's documents from source events up to ``until`` (the case file's), with
        the PDF of each one issued, in the order of their source events."""
        return list(
            await conn.fetch(
                f"SELECT d.document_id, d.kind, d.state, d.number, d.document_date, d.sha256, "
                f"d.unsigned_sha256, f.pdf FROM {self.s}.documents d "
                f"LEFT JOIN {self.s}.document_files f USING (document_id) "
                "WHERE d.request_id = $1 AND d.source_at <= $2 AND d.kind <> 'BERKAS_PERMOHONAN' "
                "ORDER BY d.source_at, d.kind",
                request_id,
                until,
            )
        )

    async def issued(self, conn: Connection, document_id: UUID, record: dict[str, Any]) -> None:
        await conn.execute(
            f"UPDATE {self.s}.documents SET state = 'ISSUED', attempts = attempts + 1, "
            "last_error = NULL, number = $2, number_source = $3, register_code = $4, "
            "register_year = $5, sequence = $6, document_date = $7, final = $8, signers = $9, "
            "sha256 = $10, unsigned_sha256 = $11, issued_at = now() WHERE document_id = $1",
            document_id,
            record["number"],
            record["number_source"],
            record["register_code"],
            record["register_year"],
            record["sequence"],
            record["document_date"],
            record["final"],
            json.dumps(record["signers"]),
            record["sha256"],
            record["unsigned_sha256"],
        )
        await conn.execute(
            f"INSERT INTO {self.s}.document_files (document_id, pdf) VALUES ($1, $2)",
            document_id,
            record["pdf"],
        )

    async def postpone(self, conn: Connection, document_id: UUID, reason: str) -> None:
        await conn.execute(
            f"UPDATE {self.s}.documents SET attempts = attempts + 1, last_error = $2, "
            "next_attempt_at = now() + least(5.0, 0.2 * power(2, least(attempts, 10))) "
            "* interval '1 second' WHERE document_id = $1",
            document_id,
            reason,
        )

    async def failed(self, conn: Connection, document_id: UUID, reason: str) -> bool:
        """Mark a PENDING document FAILED; False if it is no longer pending (another worker
        settled it first: its row lock orders the two)."""
        marked = await conn.fetchval(
            f"UPDATE {self.s}.documents SET state = 'FAILED', attempts = attempts + 1, "
            "last_error = $2, failed_at = now() WHERE document_id = $1 AND state = 'PENDING' "
            "RETURNING true",
            document_id,
            reason,
        )
        return bool(marked)

    async def retry(
        self, conn: Connection, document_id: UUID, by: str, note: str | None
    ) -> str | None:
        """Back to PENDING if FAILED; returns the state it was in (None: unknown)."""
        state: str | None = await conn.fetchval(
            f"SELECT state FROM {self.s}.documents WHERE document_id = $1 FOR UPDATE",
            document_id,
        )
        if state == "FAILED":
            await conn.execute(
                f"UPDATE {self.s}.documents SET state = 'PENDING', next_attempt_at = now(), "
                "recorded_at = now(), retried_by = $2, retried_at = now(), retry_note = $3 "
                "WHERE document_id = $1",
                document_id,
                by,
                note,
            )
        return state

    # --- reads for the API ---

    async def of_request(self, pool: asyncpg.Pool, request_id: str) -> list[asyncpg.Record]:
        return list(
            await pool.fetch(
                f"SELECT {DOCUMENT_COLUMNS} FROM {self.s}.documents WHERE request_id = $1 "
                "ORDER BY source_at, kind",
                request_id,
            )
        )

    async def one(self, pool: asyncpg.Pool, document_id: UUID) -> asyncpg.Record | None:
        row: asyncpg.Record | None = await pool.fetchrow(
            f"SELECT {DOCUMENT_COLUMNS} FROM {self.s}.documents WHERE document_id = $1",
            document_id,
        )
        return row

    async def pdf(self, pool: asyncpg.Pool, document_id: UUID) -> bytes | None:
        pdf: bytes | None = await pool.fetchval(
            f"SELECT pdf FROM {self.s}.document_files WHERE document_id = $1", document_id
        )
        return pdf

    async def opd_of(self, pool: asyncpg.Pool, request_id: str) -> str | None:
        opd: str | None = await pool.fetchval(
            f"SELECT opd FROM {self.s}.requests WHERE request_id = $1", request_id
        )
        return opd

    async def register(
        self, pool: asyncpg.Pool, year: int | None, kind: str | None, limit: int, offset: int
    ) -> list[asyncpg.Record]:
        return list(
            await pool.fetch(
                f"SELECT {DOCUMENT_COLUMNS} FROM {self.s}.documents WHERE state = 'ISSUED' "
                "AND final AND ($1::int IS NULL OR extract(year FROM document_date) = $1) "
                "AND ($2::text IS NULL OR kind = $2) "
                "ORDER BY issued_at, document_id LIMIT $3 OFFSET $4",
                year,
                kind,
                limit,
                offset,
            )
        )

    async def by_state(
        self, pool: asyncpg.Pool, state: str, limit: int, offset: int
    ) -> list[asyncpg.Record]:
        return list(
            await pool.fetch(
                f"SELECT {DOCUMENT_COLUMNS} FROM {self.s}.documents WHERE state = $1 "
                "ORDER BY recorded_at DESC, document_id LIMIT $2 OFFSET $3",
                state,
                limit,
                offset,
            )
        )
