"""The issuer: takes the due PENDING documents one at a time per worker and issues each in one
transaction: build (pure), take the number from the register, render, sign, append
``DocumentIssued`` and keep the PDF. Any failure rolls all of it back, so no number is taken
for a document that was not issued; the failure is then recorded in a transaction of its own:
a document still waiting for an event from a topic that is behind is tried again shortly (up
to ``wait_for_facts_seconds``), anything else is FAILED with its reason (and ``DocumentFailed``)
until an admin retries it."""

import asyncio
import datetime as dt
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import structlog

from events.base import DomainEvent
from events.catalog import service_of
from events.documents import DocumentFailed, DocumentIssued, NumberSource
from events.envelope import Actor, Envelope, NewEvent, utc_now
from infra.db import DATABASE_FAILURES, Connection
from infra.eventstore import PostgresEventStore
from infra.eventstore.errors import ConcurrencyConflict
from infra.metrics import DOCUMENTS
from services.documents import casefile
from services.documents.builders import build
from services.documents.config import DocumentsConfig
from services.documents.context import Built, Source, Tenant
from services.documents.directory import Directory
from services.documents.facts import CaseFacts, IssuedDocument, MissingFact
from services.documents.numbering import NumberFormat, take_next
from services.documents.press import Job, Press, PressRestarted
from services.documents.store import DocumentStore, Pending

log = structlog.get_logger()

SYSTEM = Actor(user_id="documents", role="SYSTEM")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""What a failure's reason may not carry into an event (``events.fields.Text``)."""
FAIL_ATTEMPTS = 5
"""How often recording a failure is tried when another document of the same request was
appended to its stream meanwhile (two of its documents failing at once)."""


UNNUMBERED = "DRAF"
"""What a draft without a number records as its number (``Built.numberless``; printed none)."""


@dataclass(frozen=True)
class Number:
    text: str
    source: NumberSource
    code: str | None = None
    year: int | None = None
    sequence: int | None = None


def versions_of(history: list[tuple[Envelope, DomainEvent]]) -> dict[str, int]:
    """The last stream version of each service's events in ``history`` (one request's): what
    ``DocumentIssued.history_versions`` records."""
    versions: dict[str, int] = {}
    for envelope, _ in history:
        service = service_of(envelope.event_type)
        versions[service] = max(versions.get(service, 0), envelope.stream_version)
    return versions


class Issuer:
    def __init__(
        self,
        pool: Callable[[], asyncpg.Pool],
        events: Callable[[], PostgresEventStore],
        store: DocumentStore,
        config: DocumentsConfig,
        press: Press,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self.pool = pool
        self.events = events
        self.store = store
        self.config = config
        self.tenant = Tenant.of(config)
        self.press = press
        """Renders and signs; replaced when the service starts (``bootstrap``)."""
        self.directory = Directory(store)
        self.clock = clock
        self._formats = {
            "number": NumberFormat(config.number_format),
            "agenda": NumberFormat(config.agenda_format),
        }
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """``config.workers`` loops, each issuing one document at a time, until ``stop``."""
        await asyncio.gather(*(self._loop(stop) for _ in range(self.config.workers)))

    async def _loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                busy = await self.issue_next()
            except DATABASE_FAILURES as error:
                log.warning("documents: database unavailable", error=type(error).__name__)
                busy = False
            except ConcurrencyConflict:  # recording a failure raced an append: try again
                busy = True
            if busy:
                continue
            self._wake.clear()
            waits = [asyncio.create_task(self._wake.wait()), asyncio.create_task(stop.wait())]
            timeout = self.config.poll_seconds
            await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            for task in waits:
                task.cancel()

    async def issue_next(self) -> bool:
        """Issue (or record the failure of) the next due document; False if none is due."""
        claimed: list[Pending] = []
        try:
            async with self.pool().acquire() as conn, conn.transaction():
                pending = await self.store.claim_due(conn)
                if pending is None:
                    return False
                claimed.append(pending)
                await self._issue(conn, pending)
            DOCUMENTS.labels(pending.kind, "issued").inc()
            return True
        except DATABASE_FAILURES:
            raise
        except ConcurrencyConflict:
            return True  # the stream moved under us: the document is still PENDING
        except (MissingFact, PressRestarted) as waiting:
            await self._wait_or_fail(claimed[0], str(waiting))
        except Exception as error:  # a template, a signer's data, the signing
            await self._fail(claimed[0], f"{type(error).__name__}: {error}")
        return True

    async def _issue(self, conn: Connection, pending: Pending) -> None:
        source = pending.source
        until = source.occurred_at
        history = [
            h
            for h in await self.store.history(conn, pending.request_id, until)
            if h[0].event_id != source.event_id
        ]
        facts = CaseFacts.of(
            pending.request_id, history, await self.store.issued_numbers(conn, pending.request_id)
        )
        files = None
        if pending.kind == "BERKAS_PERMOHONAN":
            files = await self._case_file(conn, pending, facts)
        people, people_events = await self.directory.people(conn, pending.tenant, until)
        built = build(self.tenant, Source(source, pending.event, facts, people))
        number = await self._number(conn, built)
        data = built.numbered(number.text)
        url = self.config.verification_url(pending.document_id) if built.final else None
        signature = None
        if built.final:
            signature = (self.tenant.place, f"{data['title']} Nomor {number.text}")
        unsigned, pdf = await self.press.make(
            Job(built.kind, data, built.day, url, files, signature)
        )
        issued = DocumentIssued(
            request_id=pending.request_id,
            document_id=pending.document_id,
            kind=built.kind,
            number=number.text,
            number_source=number.source,
            document_date=built.day,
            final=built.final,
            sha256=hashlib.sha256(pdf).hexdigest(),
            unsigned_sha256=hashlib.sha256(unsigned).hexdigest(),
            signers=built.signers,
            source_event_id=source.event_id,
            history_versions=versions_of(history),
            people_events=people_events,
        )
        await self._append(conn, pending, issued)
        await self.store.issued(conn, pending.document_id, self._record(built, number, issued, pdf))
        log.info("document issued", kind=built.kind, number=number.text)

    async def _case_file(
        self, conn: Connection, pending: Pending, facts: CaseFacts
    ) -> dict[str, bytes]:
        """The case file's documents into ``facts``, and each as rendered (by file name)."""
        files: dict[str, bytes] = {}
        for row in await self.store.case_documents(
            conn, pending.request_id, pending.source.occurred_at
        ):
            if row["state"] != "ISSUED":
                facts.unissued += 1
                continue
            rendered = casefile.as_rendered(row["pdf"], row["unsigned_sha256"])
            document_id = str(row["document_id"])
            files[casefile.file_name(document_id)] = rendered
            facts.documents.append(
                IssuedDocument(
                    document_id,
                    row["kind"],
                    row["number"],
                    row["document_date"],
                    row["sha256"],
                    casefile.page_count(rendered),
                )
            )
        return files

    async def _number(self, conn: Connection, built: Built) -> Number:
        if built.typed_number is not None:
            return Number(built.typed_number, "TYPED")
        if built.numberless:
            return Number(UNNUMBERED, "NONE")
        code = self.config.codes[built.kind]
        year = built.day.year
        seq = await take_next(conn, self.store.s, code, year)
        pattern = self._formats["agenda" if code == "AGENDA" else "number"]
        text = pattern.format(code, seq, self.config.unit_code, year, built.day.month)
        return Number(text, "REGISTER", code, year, seq)

    def _record(
        self, built: Built, number: Number, issued: DocumentIssued, pdf: bytes
    ) -> dict[str, Any]:
        return {
            "number": number.text,
            "number_source": issued.number_source,
            "register_code": number.code,
            "register_year": number.year,
            "sequence": number.sequence,
            "document_date": built.day,
            "final": built.final,
            "signers": list(built.signers),
            "sha256": issued.sha256,
            "unsigned_sha256": issued.unsigned_sha256,
            "pdf": pdf,
        }

    async def _append(
        self, conn: Connection, pending: Pending, event: DocumentIssued | DocumentFailed
    ) -> None:
        new = NewEvent.of(
            event,
            occurred_at=self.clock(),
            actor=SYSTEM,
            tenant=pending.tenant,
            correlation_id=pending.source.correlation_id,
            causation_id=pending.source.event_id,
        )
        await self.events().append_at_head(pending.request_id, [new], conn=conn)

    async def _wait_or_fail(self, pending: Pending, reason: str) -> None:
        waited = (self.clock() - pending.recorded_at).total_seconds()
        if waited >= self.config.wait_for_facts_seconds:
            await self._fail(pending, f"menunggu terlalu lama: {reason}")
            return
        async with self.pool().acquire() as conn:
            await self.store.postpone(conn, pending.document_id, reason)

    async def _fail(self, pending: Pending, said: str) -> None:
        reason = CONTROL.sub(" ", said).strip()[:10_000] or "tanpa keterangan"
        log.warning("document failed", document_id=str(pending.document_id), reason=reason)
        failed = DocumentFailed(
            request_id=pending.request_id,
            document_id=pending.document_id,
            kind=pending.kind,  # type: ignore[arg-type]
            reason=reason,
            source_event_id=pending.source.event_id,
        )
        for attempt in range(FAIL_ATTEMPTS):
            try:
                async with self.pool().acquire() as conn, conn.transaction():
                    if not await self.store.failed(conn, pending.document_id, reason):
                        return  # another worker settled it first
                    await self._append(conn, pending, failed)
                DOCUMENTS.labels(pending.kind, "failed").inc()
                return
            except ConcurrencyConflict:  # another worker appended to the request's stream
                if attempt == FAIL_ATTEMPTS - 1:
                    return  # still PENDING: it is claimed and fails again later
