"""The documents service rendering and signing in a pool of processes (``DOCUMENTS_PROCESSES``,
``services/documents/press.py``): what it issues is signed, verifiable and re-renders from
Kafka to the recorded bytes, as the threads' documents do; a pool process that dies is
replaced, and the documents it would have made are issued after all, their numbers neither
doubled nor skipped."""

import asyncio
import io
import multiprocessing
import os
import signal
import uuid
from collections.abc import AsyncIterator

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from infra.settings import Settings
from tests import documents_samples as samples
from tests.services.documents_stack import TENANT, System, publish_history, running
from tests.services.test_documents_audit import rerendered
from tests.services.test_documents_service import agenda_sequences

PROCESSES = 2


@pytest.fixture(scope="module")
async def pooled(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[System]:
    async with running(settings, tmp_path_factory.mktemp("pooled"), PROCESSES) as started:
        yield started


async def test_documents_made_in_processes_are_signed_and_re_render_from_kafka(
    settings: Settings, pooled: System
) -> None:
    rid = f"req-{uuid.uuid4().hex[:10]}"
    await publish_history(pooled, samples.request_history(rid, tenant=TENANT))
    documents = await pooled.settled(rid, 8)
    assert {d["state"] for d in documents} == {"ISSUED"}, documents
    trust = pooled.trust
    for document in (d for d in documents if d["final"]):
        pdf = await pooled.api.get(
            f"/documents/{document['document_id']}.pdf", headers=pooled.headers("AUDITOR")
        )
        [signature] = PdfFileReader(io.BytesIO(pdf.content)).embedded_signatures
        status = await async_validate_pdf_signature(
            signature, ValidationContext(trust_roots=[trust])
        )
        assert status.bottom_line and status.intact and status.valid, document["kind"]
    result = await rerendered(settings, rid, 8)
    assert result.differences == [] and len(result.identical) == 8


async def test_a_pool_process_that_dies_is_replaced_and_no_number_is_lost(
    pooled: System,
) -> None:
    workers = multiprocessing.active_children()
    assert len(workers) == PROCESSES  # started with the service, before any document
    before = await agenda_sequences(pooled)
    os.kill(workers[0].pid or 0, signal.SIGKILL)
    await asyncio.sleep(0.5)  # the pool notices: its next job fails, and it is started anew
    rids = [f"req-{uuid.uuid4().hex[:10]}" for _ in range(4)]
    for rid in rids:
        await publish_history(pooled, samples.request_history(rid, tenant=TENANT)[:2])
    for rid in rids:
        [receipt] = await pooled.settled(rid, 1)
        assert receipt["state"] == "ISSUED", receipt
    after = await agenda_sequences(pooled)
    assert after == [*before, *range(len(before) + 1, len(before) + 5)]
    assert workers[0].pid not in {p.pid for p in multiprocessing.active_children()}
