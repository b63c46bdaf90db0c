"""The documents service running on the real stack for the service tests: its events come
from Kafka (produced as the relays of identity, intake, approval and dev_tracking would), its
numbers from PostgreSQL, its signer one that a test can break."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from events.envelope import Envelope, Role
from events.topics import Service, topic_for
from infra.auth import TokenIssuer, development_keys
from infra.kafka import ensure_topics
from infra.kafka_acl import ADMIN
from infra.principal import Principal
from infra.relay import message_of
from infra.settings import Settings
from services.documents.bootstrap import create_app
from services.documents.config import DocumentsConfig
from services.documents.dev_ca import CA_FILE, development_material
from services.documents.signing import PadesSigner
from tests import documents_samples as samples
from tests.kafka_helpers import eventually

TENANT = f"docs-{uuid.uuid4().hex[:8]}"
"""The tenant of this module's events: other tests' services (reporting, eoffice) keep to
theirs, and leave these alone."""


class FlakySigner:
    """The department's signer, failing while ``broken`` is set (as a signing server that is
    down would)."""

    def __init__(self, real: PadesSigner) -> None:
        self.real = real
        self.broken = False

    def sign(self, pdf: bytes, *, location: str, reason: str) -> bytes:
        if self.broken:
            raise RuntimeError("server tanda tangan tidak menjawab")
        return self.real.sign(pdf, location=location, reason=reason)


@dataclass
class System:
    api: httpx.AsyncClient
    producer: AIOKafkaProducer
    issuer: TokenIssuer
    signer: FlakySigner
    ca: bytes
    database_url: str
    """The service's own role's: to see what it has consumed."""
    published: set[uuid.UUID] = field(default_factory=set)

    @property
    def trust(self) -> asn1_x509.Certificate:
        """The development CA, as pyHanko's validator takes a trust root."""
        certificate = x509.load_pem_x509_certificate(self.ca)
        return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))

    def headers(self, role: Role, opd: str | None = None) -> dict[str, str]:
        who = Principal(user_id=f"t-{role.lower()}", name=role, roles=frozenset({role}), opd=opd)
        return {"Authorization": f"Bearer {self.issuer.issue(who)}"}

    async def publish(self, service: Service, envelopes: list[Envelope]) -> None:
        sends = []
        for envelope in envelopes:
            if envelope.event_id in self.published:
                continue
            self.published.add(envelope.event_id)
            key, value, headers = message_of(envelope)
            sends.append(
                await self.producer.send(topic_for(service), value, key=key, headers=headers)
            )
        await asyncio.gather(*sends)
        if service == "identity":
            await self._consumed([e.event_id for e in envelopes])

    async def _consumed(self, event_ids: list[uuid.UUID]) -> None:
        """Until the service holds every one of identity's ``event_ids``. A document issued
        while only some of them had arrived records how many it folded, and the audit takes
        that many by the records' times, which across partitions need not be the order in
        which they arrived (``services/documents/audit_history.py``, ``as_seen``)."""
        conn = await asyncpg.connect(self.database_url)
        try:

            async def held() -> bool:
                count: int = await conn.fetchval(
                    "SELECT count(*) FROM documents.source_events WHERE event_id = ANY($1)",
                    event_ids,
                )
                return count == len(set(event_ids))

            assert await eventually(held, timeout=60, interval=0.1), "identity not consumed"
        finally:
            await conn.close()

    async def documents(self, request_id: str) -> list[dict[str, Any]]:
        answer = await self.api.get(
            f"/requests/{request_id}/documents", headers=self.headers("AUDITOR")
        )
        if answer.status_code == 404:
            return []
        assert answer.status_code == 200, answer.text
        found: list[dict[str, Any]] = answer.json()["documents"]
        return found

    async def settled(
        self, request_id: str, count: int, timeout: float = 60
    ) -> list[dict[str, Any]]:
        async def done() -> list[dict[str, Any]] | None:
            found = await self.documents(request_id)
            states = [d["state"] for d in found]
            return found if len(found) == count and "PENDING" not in states else None

        found = await eventually(done, timeout=timeout, interval=0.2)
        assert found, await self.documents(request_id)
        return found


@asynccontextmanager
async def running(settings: Settings, folder: Path, processes: int = 0) -> AsyncIterator[System]:
    """The documents service with its signing material in ``folder``, consuming Kafka, and
    this module's people published. With ``processes``, it renders and signs in a pool of
    that many processes with its own signer (``System.signer`` is then not the one used)."""
    private, _ = development_keys(folder / "keys")
    configured = settings.model_copy(update={"jwt_key_dir": str(folder / "keys")})
    conf = DocumentsConfig(
        signing_dir=str(folder / "signing"),
        poll_seconds=0.05,
        workers=8,
        wait_for_facts_seconds=60,
        processes=processes,
    )
    signer = FlakySigner(PadesSigner(development_material(folder / "signing", conf.agency)))
    app = create_app(configured, conf, signer=None if processes else signer)
    await ensure_topics(
        settings.kafka_login(ADMIN),
        [topic_for(s) for s in ("identity", "intake", "approval", "dev_tracking")],
    )
    producer = AIOKafkaProducer(**settings.kafka_login(ADMIN).options(), acks="all")
    await producer.start()
    async with AsyncExitStack() as started:
        started.push_async_callback(producer.stop)
        await started.enter_async_context(app.router.lifespan_context(app))
        api = await started.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://documents")
        )
        state = System(
            api,
            producer,
            TokenIssuer(private),
            signer,
            (folder / "signing" / CA_FILE).read_bytes(),
            configured.app_url("documents"),
        )
        await state.publish("identity", samples.identity_events(TENANT))
        yield state


async def publish_history(system: System, steps: list[samples.Step]) -> None:
    for step in steps:
        await system.publish(step.service, [step.envelope])
