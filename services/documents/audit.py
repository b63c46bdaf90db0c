"""The documents audit: every issued document re-rendered from Kafka and compared with its
``DocumentIssued`` (``jejak audit documents``, and a part of ``jejak audit verify`` and
``replay``).

The topics of identity, intake, approval, dev_tracking and documents are read from their first
offset (``infra.kafka_history``). For each ``DocumentIssued``, request by request in the order
of its documents stream, the document's facts are rebuilt as the live issuer built them: the
request's events up to the source event, the numbers of the request's documents issued before
it, the tenant's people up to the source event (each as far as the event records the issuer
had them, ``audit_history``), and for the case file the documents it includes, as they were
re-rendered here. Then it is built with the same builder, rendered unsigned with the same
templates and fonts, and the SHA-256 compared with ``unsigned_sha256``. A document that
differs, or cannot be rebuilt, is named with the reason. Given the database, the service's
stored row and PDF of each are compared with its event too (``audit_stored``).

The inputs that are not events are the tenant's settings (``DOCUMENTS_*``, as the service reads
them), the templates (their digest is reported: a changed template is a legitimate difference)
and the font files.
"""

import asyncio
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

import asyncpg

from events.catalog import default_registry
from events.documents import DocumentIssued
from events.topics import topic_for, topics_consumed_by
from infra.kafka_history import plan, read_partitions
from infra.kafka_login import KafkaLogin
from services.documents import TEMPLATES_DIR, casefile
from services.documents.audit_history import History, Seen
from services.documents.audit_stored import compare_stored
from services.documents.builders import build
from services.documents.config import DocumentsConfig
from services.documents.context import Source, Tenant
from services.documents.facts import CaseFacts, IssuedDocument
from services.documents.people import People
from services.documents.render import Renderer

TOPICS = (*topics_consumed_by("documents"), topic_for("documents"))
LIVE_SCHEMA = "documents"


class NotReproduced(Exception):
    """Why a document could not be re-rendered as issued."""


@dataclass(frozen=True)
class Difference:
    request_id: str
    document_id: str
    kind: str
    number: str
    reason: str


@dataclass
class DocumentsAudit:
    templates: str
    """SHA-256 over the templates rendered with (their names and contents)."""
    documents: int = 0
    """``DocumentIssued`` events checked."""
    identical: dict[str, str] = field(default_factory=dict)
    """The documents re-rendered to their recorded bytes: kind by document id."""
    differences: list[Difference] = field(default_factory=list)
    unreadable: int = 0
    """Records that are no envelope, or of an event type this code does not know."""
    missing_topics: tuple[str, ...] = ()
    lost: tuple[str, ...] = ()
    """Partitions whose history no longer starts at offset 0: the check is partial."""

    @property
    def intact(self) -> bool:
        return not self.differences and not self.lost


def chosen(seen: Seen, tenant: str | None, request: str | None) -> bool:
    """Whether a ``DocumentIssued`` is of the tenant and the request asked for (if any)."""
    issued = seen.event
    assert isinstance(issued, DocumentIssued)
    return (tenant is None or seen.envelope.tenant == tenant) and (
        request is None or issued.request_id == request
    )


def templates_digest(templates: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(templates.glob("*.typ")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


class Rerenderer:
    """Re-renders a history's documents one by one, keeping what each rendered (the case file
    includes the documents before it as they were rendered)."""

    def __init__(self, config: DocumentsConfig, renderer: Renderer) -> None:
        self.config = config
        self.tenant = Tenant.of(config)
        self.renderer = renderer
        self.rendered: dict[UUID, bytes] = {}
        """The current request's documents re-rendered identically, by id."""

    def check(
        self, history: History, tenant: str | None = None, request: str | None = None
    ) -> DocumentsAudit:
        """Every document of ``history`` (of ``tenant`` and ``request`` if given)."""
        result = DocumentsAudit(templates_digest(self.renderer.templates))
        result.unreadable = history.unreadable
        earlier: dict[str, list[Seen]] = {}
        for seen in history.documents():
            issued = seen.event
            assert isinstance(issued, DocumentIssued)
            if issued.request_id not in earlier:  # a new request: the last one's are done
                self.rendered.clear()
            before = earlier.setdefault(issued.request_id, [])
            if chosen(seen, tenant, request):
                result.documents += 1
                try:
                    self.rendered[issued.document_id] = self.one(history, seen, before)
                    result.identical[str(issued.document_id)] = issued.kind
                except NotReproduced as why:
                    result.differences.append(
                        Difference(
                            issued.request_id,
                            str(issued.document_id),
                            issued.kind,
                            issued.number,
                            str(why),
                        )
                    )
            before.append(seen)
        return result

    def one(self, history: History, seen: Seen, before: list[Seen]) -> bytes:
        """The document re-rendered unsigned, if it has the recorded bytes; else raises
        ``NotReproduced``."""
        issued = seen.event
        assert isinstance(issued, DocumentIssued)
        source = history.source_of(issued)
        if source is None:
            raise NotReproduced(f"its source event {issued.source_event_id} is not on Kafka")
        numbers: dict[str, str] = {
            d.event.kind: d.event.number for d in before if isinstance(d.event, DocumentIssued)
        }
        facts = CaseFacts.of(
            issued.request_id, history.case_events(source, issued.history_versions), numbers
        )
        people = People.of(
            history.people_events(source, seen.envelope.tenant, issued.people_events)
        )
        files = None
        if issued.kind == "BERKAS_PERMOHONAN":
            files = self._included(history, source, before, facts)
        try:
            built = build(self.tenant, Source(source.envelope, source.event, facts, people))
            if built.kind != issued.kind:
                raise NotReproduced(f"its source event now gives a {built.kind}")
            url = self.config.verification_url(issued.document_id) if built.final else None
            pdf = self.renderer.render(
                built.kind, built.numbered(issued.number), built.day, url, files
            )
        except NotReproduced:
            raise
        except Exception as error:  # a builder's missing fact or signer, a template
            raise NotReproduced(f"cannot be rebuilt: {type(error).__name__}: {error}") from None
        digest = hashlib.sha256(pdf).hexdigest()
        if digest != issued.unsigned_sha256:
            raise NotReproduced(
                f"re-rendered sha256 {digest} differs from the recorded {issued.unsigned_sha256}"
            )
        return pdf

    def _included(
        self, history: History, source: Seen, before: list[Seen], facts: CaseFacts
    ) -> dict[str, bytes]:
        """The case file's documents (those of source events up to its own, in their order),
        each as re-rendered, into ``facts``; by file name."""
        until = source.envelope.occurred_at
        included = []
        for seen in before:
            issued = seen.event
            assert isinstance(issued, DocumentIssued)
            own = history.source_of(issued)
            if issued.kind != "BERKAS_PERMOHONAN" and own and own.envelope.occurred_at <= until:
                included.append((own.envelope.occurred_at, issued.kind, issued))
        files: dict[str, bytes] = {}
        for _, _, issued in sorted(included, key=lambda entry: entry[:2]):
            rendered = self.rendered.get(issued.document_id)
            if rendered is None:
                raise NotReproduced(
                    f"it includes document {issued.document_id} ({issued.kind}), which did "
                    "not re-render as issued"
                )
            document_id = str(issued.document_id)
            files[casefile.file_name(document_id)] = rendered
            facts.documents.append(
                IssuedDocument(
                    document_id,
                    issued.kind,
                    issued.number,
                    issued.document_date,
                    issued.sha256,
                    casefile.page_count(rendered),
                )
            )
        return files


async def audit_documents(
    kafka: KafkaLogin,
    config: DocumentsConfig,
    tenant: str | None = None,
    request: str | None = None,
    templates: Path = TEMPLATES_DIR,
    database_url: str | None = None,
    schema: str = LIVE_SCHEMA,
) -> DocumentsAudit:
    """Every document issued (of ``tenant`` and ``request`` if given) re-rendered from
    Kafka; with ``database_url`` (the auditor's, ``infra.auditor_role``, or an owner's), also
    the service's stored row and PDF of each compared with its event (``audit_stored``)."""
    layout = await plan(kafka, TOPICS)
    history = History(default_registry())
    await read_partitions(kafka, layout.partitions, history.take)
    rerenderer = Rerenderer(config, Renderer(Path(config.font_dir), templates))
    result = await asyncio.to_thread(rerenderer.check, history, tenant, request)
    result.missing_topics, result.lost = layout.missing_topics, layout.lost
    if database_url is not None:
        issued = [
            s.event
            for s in history.documents()
            if isinstance(s.event, DocumentIssued) and chosen(s, tenant, request)
        ]
        conn = await asyncpg.connect(database_url)
        try:
            stored = await compare_stored(conn, schema, issued)
        finally:
            await conn.close()
        for event in issued:
            for why in stored.pop(str(event.document_id), []):
                result.differences.append(
                    Difference(
                        event.request_id,
                        str(event.document_id),
                        event.kind,
                        event.number,
                        f"stored: {why}",
                    )
                )
    return result
