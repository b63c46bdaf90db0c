"""The documents' use cases behind the API: reads with the policy's scope rules, the public
verification, and the admin's retry."""

import hashlib
from collections.abc import Callable
from uuid import UUID

import asyncpg

from events import policy
from infra import access
from infra.db import Connection
from infra.errors import DomainError, NotFound
from infra.idempotency import NO_KEY, Answer, IdempotencyKeys, Key
from infra.principal import Principal
from services.documents.store import DocumentStore
from services.documents.views import (
    KIND_LABELS,
    CheckResult,
    DocumentList,
    DocumentSummary,
    Register,
    RegisterEntry,
    Retried,
    Verification,
)


class NotRetryable(DomainError):
    """Only a FAILED document is retried: 409, naming its state."""

    status = 409

    def __init__(self, state: str) -> None:
        super().__init__(f"Dokumen berstatus {state}; hanya dokumen FAILED yang dapat diulang.")
        self.state = state

    def detail(self) -> dict[str, object]:
        return {"message": self.message, "state": self.state}


def _rule(name: str) -> policy.Rule:
    return policy.rule("documents", name)


class Documents:
    def __init__(
        self,
        pool: Callable[[], asyncpg.Pool],
        store: DocumentStore,
        wake: Callable[[], None],
        keys: IdempotencyKeys,
    ) -> None:
        self.pool = pool
        self.store = store
        self.wake = wake
        self.keys = keys

    async def _reach_request(self, caller: Principal, rule: policy.Rule, request_id: str) -> None:
        access.authorize(caller, rule)
        opd = await self.store.opd_of(self.pool(), request_id)
        if opd is None:
            raise NotFound(f"Permohonan {request_id} belum dikenal layanan dokumen.")
        access.require_scope(caller, rule, access.Target(opd=opd))

    async def of_request(self, caller: Principal, request_id: str) -> DocumentList:
        await self._reach_request(caller, _rule("ListRequestDocuments"), request_id)
        rows = await self.store.of_request(self.pool(), request_id)
        return DocumentList(documents=[DocumentSummary.of(r) for r in rows])

    async def pdf(self, caller: Principal, document_id: UUID) -> tuple[bytes, str]:
        rule = _rule("DownloadDocument")
        access.authorize(caller, rule)
        row = await self.store.one(self.pool(), document_id)
        pdf = await self.store.pdf(self.pool(), document_id) if row is not None else None
        if row is None or pdf is None:
            raise NotFound(f"Dokumen {document_id} tidak ada atau belum terbit.")
        await self._reach_request(caller, rule, row["request_id"])
        name = f"{row['kind'].lower()}-{str(row['number']).replace('/', '-')}.pdf"
        return pdf, name

    async def register(
        self, caller: Principal, year: int | None, kind: str | None, limit: int, offset: int
    ) -> Register:
        access.authorize(caller, _rule("ListRegister"))
        rows = await self.store.register(self.pool(), year, kind, limit, offset)
        return Register(
            entries=[
                RegisterEntry(
                    number=r["number"],
                    document_date=r["document_date"],
                    kind=r["kind"],
                    label=KIND_LABELS.get(r["kind"], r["kind"]),
                    request_id=r["request_id"],
                    signers=DocumentSummary.of(r).signers,
                    number_source=r["number_source"],
                    document_id=r["document_id"],
                )
                for r in rows
            ]
        )

    async def failures(self, caller: Principal, limit: int, offset: int) -> DocumentList:
        access.authorize(caller, _rule("ListFailedDocuments"))
        rows = await self.store.by_state(self.pool(), "FAILED", limit, offset)
        return DocumentList(documents=[DocumentSummary.of(r) for r in rows])

    async def retry(
        self, caller: Principal, document_id: UUID, note: str | None, key: Key = NO_KEY
    ) -> Answer:
        access.authorize(caller, _rule("RetryDocument"))

        async def retry(conn: Connection) -> Retried:
            state = await self.store.retry(conn, document_id, caller.user_id, note)
            if state is None:
                raise NotFound(f"Dokumen {document_id} tidak dikenal.")
            if state != "FAILED":
                raise NotRetryable(state)
            return Retried(document_id=document_id, state="PENDING")

        answer = await self.keys.once(self.pool(), caller.user_id, key, note, retry)
        if not answer.replayed:
            self.wake()
        return answer

    async def _issued(self, document_id: UUID) -> Verification:
        row = await self.store.one(self.pool(), document_id)
        if row is None or row["state"] != "ISSUED":
            raise NotFound(f"Tidak ada dokumen terbit dengan id {document_id}.")
        return Verification(
            document_id=document_id,
            kind=row["kind"],
            label=KIND_LABELS.get(row["kind"], row["kind"]),
            number=row["number"],
            document_date=row["document_date"],
            signers=DocumentSummary.of(row).signers,
            signed=bool(row["final"]),
            sha256=row["sha256"],
        )

    async def verification(self, document_id: UUID) -> Verification:
        return await self._issued(document_id)

    async def check(self, document_id: UUID, pdf: bytes) -> CheckResult:
        issued = await self._issued(document_id)
        digest = hashlib.sha256(pdf).hexdigest()
        matches = digest == issued.sha256
        message = (
            f"Berkas ini sama persis dengan {issued.label} Nomor {issued.number}."
            if matches
            else f"Berkas ini BUKAN {issued.label} Nomor {issued.number} yang asli: isinya "
            "berbeda (diubah, dipindai ulang, atau dokumen lain)."
        )
        return CheckResult(
            document_id=document_id,
            matches=matches,
            sha256=digest,
            expected_sha256=issued.sha256,
            message=message,
        )
