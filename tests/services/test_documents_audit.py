"""The inspector's re-rendering of every document from Kafka (``services.documents.audit``,
``jejak audit documents``, and the documents part of ``jejak audit verify``), on the real system
of ``documents_stack``: each kind re-renders to the bytes its ``DocumentIssued`` records;
a recorded hash that is not what the events render, or a changed template, is named as a
difference; a profile change that reaches the service after a document was issued does not
make one."""

import datetime as dt
import json
import shutil
import uuid
from dataclasses import replace
from pathlib import Path
from typing import get_args

import asyncpg
import pytest

from bench.chaos.checks import audit
from devstack.services import auditor_url
from devstack.stack import Endpoints
from events.catalog import default_registry
from events.documents import DocumentIssued, DocumentKind
from events.envelope import Actor, NewEvent
from events.identity import UserProfileChanged
from events.topics import topic_for
from infra.eventstore.contract import seal_all
from infra.kafka_acl import ADMIN
from infra.kafka_history import plan, read_partitions
from infra.relay import message_of
from infra.settings import Settings
from services.documents import TEMPLATES_DIR
from services.documents.audit import TOPICS, DocumentsAudit, audit_documents, templates_digest
from services.documents.audit_history import History
from services.documents.config import DocumentsConfig
from tests import documents_samples as samples
from tests.kafka_helpers import eventually
from tests.services.documents_stack import System, publish_history
from tests.services.test_documents_service import text_of

ROOT = Path(__file__).resolve().parents[2]
OWN = f"audit-{uuid.uuid4().hex[:8]}"
"""This module's tenant (``test_documents_service`` keeps to its own)."""


async def rerendered(
    settings: Settings,
    request_id: str,
    count: int,
    templates: Path = TEMPLATES_DIR,
    stored: bool = False,
) -> DocumentsAudit:
    """The request's documents re-rendered from Kafka, once its ``count`` DocumentIssued are
    there (the relay publishes them shortly after they are issued)."""

    async def done() -> DocumentsAudit | None:
        result = await audit_documents(
            settings.kafka_login(ADMIN),
            DocumentsConfig(),
            request=request_id,
            templates=templates,
            database_url=auditor_url(settings.database_url) if stored else None,
        )
        return result if result.documents >= count else None

    result = await eventually(done, timeout=30, interval=0.5)
    assert result is not None, f"{request_id}: fewer than {count} DocumentIssued on Kafka"
    return result


@pytest.fixture(scope="module")
async def completed(system: System) -> str:
    """A request from submission to completion, every number from the registers: every kind
    of document, the case file last."""
    await system.publish("identity", samples.identity_events(OWN))
    rid = f"req-{uuid.uuid4().hex[:10]}"
    history = samples.request_history(rid, tenant=OWN, typed=False)
    await publish_history(system, [*history, samples.completion(history)])
    documents = await system.settled(rid, 9)
    assert {d["state"] for d in documents} == {"ISSUED"}, documents
    return rid


async def test_every_kind_re_rendered_from_kafka_matches(
    settings: Settings, completed: str
) -> None:
    result = await rerendered(settings, completed, 9)
    assert result.differences == [] and result.intact
    assert len(result.identical) == 9
    assert set(result.identical.values()) == set(get_args(DocumentKind))
    assert result.templates == templates_digest(TEMPLATES_DIR)


async def test_a_changed_template_is_a_difference(
    settings: Settings, completed: str, tmp_path: Path
) -> None:
    changed = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, changed)
    with (changed / "surat_tugas.typ").open("a") as template:
        template.write("\nDiubah sesudah terbit.\n")
    result = await rerendered(settings, completed, 9, templates=changed)
    assert result.templates != templates_digest(TEMPLATES_DIR)
    differing = {d.kind: d.reason for d in result.differences}
    assert set(differing) == {"SURAT_TUGAS", "BERKAS_PERMOHONAN"}, differing
    assert "differs from the recorded" in differing["SURAT_TUGAS"]
    assert "did not re-render as issued" in differing["BERKAS_PERMOHONAN"]
    assert not result.intact and len(result.identical) == 7


async def test_a_stored_pdf_replaced_behind_the_service_is_a_difference(
    settings: Settings, system: System, owner_conn: asyncpg.Connection
) -> None:
    """The live row and file of every document are what its event says, until a database owner
    replaces a PDF: the audit names it, though it still re-renders as issued."""
    rid = f"req-{uuid.uuid4().hex[:10]}"
    await publish_history(system, samples.request_history(rid, tenant=OWN)[:3])
    documents = {d["kind"]: d for d in await system.settled(rid, 2)}
    intact = await rerendered(settings, rid, 2, stored=True)
    assert intact.differences == [] and len(intact.identical) == 2
    sheet = documents["LEMBAR_DISPOSISI"]
    await owner_conn.execute(
        "UPDATE documents.document_files SET pdf = pdf || '\\x0a'::bytea WHERE document_id = $1",
        uuid.UUID(sheet["document_id"]),
    )
    result = await rerendered(settings, rid, 2, stored=True)
    [difference] = result.differences
    assert (difference.document_id, difference.kind) == (sheet["document_id"], "LEMBAR_DISPOSISI")
    assert difference.reason.startswith("stored: the stored PDF's sha256 is ")
    assert difference.reason.endswith(f"the issued one's {sheet['sha256']}")
    assert len(result.identical) == 2  # both still re-render as issued


async def forge_a_hash(settings: Settings, system: System, request_id: str) -> DocumentIssued:
    """A DocumentIssued published after the request's last one, as the receipt's, with another
    ``unsigned_sha256`` (a forger with write access to the topic)."""
    layout = await plan(settings.kafka_login(ADMIN), TOPICS)
    history = History(default_registry())
    await read_partitions(settings.kafka_login(ADMIN), layout.partitions, history.take)
    issued = sorted(history.issued[request_id], key=lambda s: s.envelope.stream_version)
    receipt = next(s for s in issued if s.envelope.payload["kind"] == "TANDA_TERIMA")
    forged = receipt.envelope.model_copy(
        update={
            "event_id": uuid.uuid4(),
            "stream_version": issued[-1].envelope.stream_version + 1,
            "payload": {**receipt.envelope.payload, "unsigned_sha256": "0" * 64},
        }
    )
    key, value, headers = message_of(forged)
    await system.producer.send_and_wait(topic_for("documents"), value, key=key, headers=headers)
    event = receipt.event
    assert isinstance(event, DocumentIssued)
    return event


async def test_a_tampered_hash_is_a_difference(
    settings: Settings, endpoints: Endpoints, system: System, tmp_path: Path
) -> None:
    rid = f"req-{uuid.uuid4().hex[:10]}"
    await publish_history(system, samples.request_history(rid, tenant=OWN)[:3])
    await system.settled(rid, 2)
    await rerendered(settings, rid, 2)
    receipt = await forge_a_hash(settings, system, rid)
    result = await rerendered(settings, rid, 3)
    [difference] = result.differences
    assert (difference.document_id, difference.kind) == (str(receipt.document_id), "TANDA_TERIMA")
    assert f"differs from the recorded {'0' * 64}" in difference.reason
    assert len(result.identical) == 2  # the receipt as issued, and the disposition

    # the inspector's commands: `audit documents` for the request, and `audit verify`
    out = tmp_path / "documents.json"
    code, said = await audit(endpoints, "documents", "--request", rid, "--json", str(out))
    assert code == 1, said
    assert "1 document(s) differ" in said and str(receipt.document_id) in said
    body = json.loads(out.read_text())
    assert {d["document_id"] for d in body["differences"]} == {str(receipt.document_id)}
    verified = tmp_path / "verify.json"
    as_auditor = replace(endpoints, database_url=auditor_url(endpoints.database_url))
    code, said = await audit(as_auditor, "verify", "--json", str(verified))
    assert code == 1, said
    [documents] = [r for r in json.loads(verified.read_text()) if r["source"] == "documents"]
    assert str(receipt.document_id) in {d["document_id"] for d in documents["differences"]}


async def test_a_profile_changed_after_issue_makes_no_difference(
    settings: Settings, system: System
) -> None:
    """The KADIS's name is corrected after the receipt and the disposition were issued, by an
    event dated before them that reached the service late (identity's topic was behind): the
    audit re-renders them with the name they were issued with. A receipt issued after the
    correction prints the new name, and re-renders too."""
    tenant = f"audit-{uuid.uuid4().hex[:8]}"
    people = samples.identity_events(tenant)
    await system.publish("identity", people)
    before = f"req-{uuid.uuid4().hex[:10]}"
    await publish_history(system, samples.request_history(before, tenant=tenant)[:3])
    await system.settled(before, 2)
    await rerendered(settings, before, 2)
    renamed = "Prof. Dr. Ir. Bambang Sutrisno, M.T., IPU"
    change = NewEvent.of(
        UserProfileChanged(
            user_id="u-kadis",
            full_name=renamed,
            nip=samples.NIP_KADIS,
            rank="Pembina Utama Madya (IV/d)",
        ),
        occurred_at=samples.MONDAY - dt.timedelta(days=1),
        actor=Actor(user_id="u-admin", role="ADMIN"),
        tenant=tenant,
        correlation_id=uuid.uuid4(),
    )
    *_, last = (e for e in people if e.stream_id == "u-kadis")
    [sealed] = seal_all("u-kadis", last.stream_version, last.hash, [change])
    await system.publish("identity", [sealed])

    after = f"req-{uuid.uuid4().hex[:10]}"
    await publish_history(system, samples.request_history(after, tenant=tenant)[:2])
    [receipt] = await system.settled(after, 1)
    pdf = await system.api.get(
        f"/documents/{receipt['document_id']}.pdf", headers=system.headers("AUDITOR")
    )
    assert renamed in " ".join(text_of(pdf.content).split())
    for request_id, count in ((before, 2), (after, 1)):
        result = await rerendered(settings, request_id, count)
        assert result.differences == [] and len(result.identical) == count, request_id
