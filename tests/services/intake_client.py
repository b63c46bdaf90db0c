"""The intake service in-process over HTTP, on the real PostgreSQL and Kafka, for the tests:
tokens for anyone, uploads, submits, and approval's side of Kafka."""

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from events.approval import Disposed, RequestReturned
from events.base import DomainEvent
from events.envelope import Actor, Envelope, Role
from infra import webhook
from infra.auth import TokenIssuer, development_keys
from infra.principal import Principal
from infra.settings import Settings
from services.intake.bootstrap import create_app
from services.intake.config import IntakeConfig
from tests.kafka_helpers import eventually, publish_as_relay, relay_producer

APPROVAL_TOPIC = "jejak.approval.events"
INTAKE_TOPIC = "jejak.intake.events"


def person(user_id: str, *roles: Role, opd: str | None = "DISKOMINFOSTANDI") -> Principal:
    return Principal(user_id=user_id, name=user_id, roles=frozenset(roles), opd=opd)


REQUESTER = person("u-pemohon-dinkes", "PEMOHON", opd="DINKES")
COLLEAGUE = person("u-pemohon-dinkes-2", "PEMOHON", opd="DINKES")
STRANGER = person("u-pemohon-disdik", "PEMOHON", opd="DISDIK")
BY_ROLE = {
    "PEMOHON": REQUESTER,
    "KADIS": person("u-kadis", "KADIS"),
    "KABID_TI": person("u-kabid", "KABID_TI"),
    "TIM_PENGEMBANG": person("u-dev", "TIM_PENGEMBANG"),
    "ADMIN": person("u-admin", "ADMIN"),
    "AUDITOR": person("u-auditor", "AUDITOR", opd=None),
}
LETTER = {"number": "440/012/DINKES/II/2024", "date": "2024-02-01"}


class Service:
    """The app under test, a token for anyone, and approval's side of Kafka."""

    def __init__(
        self, client: httpx.AsyncClient, issuer: TokenIssuer, producer: AIOKafkaProducer
    ) -> None:
        self.client = client
        self.issuer = issuer
        self.producer = producer
        self._heads: dict[str, tuple[int, str]] = {}

    def auth(self, who: Principal) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.issuer.issue(who)}"}

    async def post(
        self, path: str, who: Principal, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        return await self.client.post(path, headers={**self.auth(who), **(headers or {})}, **kwargs)

    async def get(self, path: str, who: Principal) -> httpx.Response:
        return await self.client.get(path, headers=self.auth(who))

    async def upload(
        self, content: bytes, media_type: str = "application/pdf", who: Principal = REQUESTER
    ) -> dict[str, Any]:
        answer = await self.post(
            "/attachments", who, content=content, headers={"Content-Type": media_type}
        )
        assert answer.status_code in (200, 201), answer.text
        return dict(answer.json())

    async def submit(self, who: Principal = REQUESTER, **overrides: Any) -> httpx.Response:
        body = {
            "title": "Sistem Informasi Puskesmas",
            "summary": "Aplikasi pendaftaran pasien puskesmas.",
            "letter": LETTER,
            "needs_analysis": {"background": "Pendataan pasien masih manual."},
        } | overrides
        return await self.post("/requests", who, json=body)

    async def submitted(self, who: Principal = REQUESTER) -> str:
        answer = await self.submit(who)
        assert answer.status_code == 201, answer.text
        return str(answer.json()["request_id"])

    async def received(self) -> str:
        request_id = await self.submitted()
        answer = await self.post(f"/requests/{request_id}/receive", BY_ROLE["KADIS"], json={})
        assert answer.status_code == 200, answer.text
        return request_id

    async def letter(self, sender_opd: str, attachments: list[dict[str, Any]]) -> httpx.Response:
        """A letter from the e-office (signed with the development secret) that becomes a
        request of ``sender_opd``."""
        body = json.dumps(
            {
                "letter_id": f"SRK-{uuid.uuid4().hex[:12]}",
                "letter_number": "440/099/VI/2024",
                "letter_date": "2024-06-10",
                "sender_opd": sender_opd,
                "subject": "Permohonan Pembangunan Aplikasi",
                "attachments": attachments,
            }
        ).encode()
        path = "/eoffice/letters"  # the app runs without a gateway's prefix here
        signed = webhook.sign(webhook.DEVELOPMENT_SECRET, path, body, delivery_id=uuid.uuid4().hex)
        headers = {**signed, "Content-Type": "application/json"}
        return await self.client.post(path, content=body, headers=headers)

    async def state(self, request_id: str) -> dict[str, Any]:
        answer = await self.get(f"/requests/{request_id}", BY_ROLE["AUDITOR"])
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    async def approval_says(self, request_id: str, *events: DomainEvent) -> list[Envelope]:
        """Publish approval's events for the request, as its relay would."""
        actor = Actor(user_id="u-kabid", role="KABID_TI", opd="DISKOMINFOSTANDI")
        return await publish_as_relay(
            self.producer, APPROVAL_TOPIC, request_id, self._heads, actor, events
        )

    async def until(self, request_id: str, **expected: Any) -> dict[str, Any]:
        """The request's state once intake has consumed enough to match ``expected``."""

        async def matches() -> dict[str, Any] | None:
            state = await self.state(request_id)
            return state if all(state[k] == v for k, v in expected.items()) else None

        state = await eventually(matches, timeout=60)
        assert state, f"{request_id} never reached {expected}: {await self.state(request_id)}"
        return dict(state)

    async def returned(self, request_id: str | None = None) -> str:
        """A request returned to its requester: ``request_id`` (received already) or a new one."""
        request_id = request_id or await self.received()
        await self.approval_says(
            request_id,
            Disposed(request_id=request_id, to_role="KABID_TI", note="Mohon diperiksa."),
            RequestReturned(
                request_id=request_id,
                reasons=("Proses bisnis belum ada.",),
                missing_sections=("business_process.system_flow",),
            ),
        )
        await self.until(request_id, status="RETURNED")
        return request_id


@asynccontextmanager
async def running_intake(
    settings: Settings, keys: Path, config: IntakeConfig | None = None
) -> AsyncIterator[Service]:
    """intake's app with ``config``, started (migrations, consumer, sweep), and its client."""
    private, _ = development_keys(keys)
    app = create_app(settings.model_copy(update={"jwt_key_dir": str(keys)}), config)
    producer = relay_producer(settings, "approval")
    async with app.router.lifespan_context(app):
        await producer.start()
        try:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://intake") as c:
                yield Service(c, TokenIssuer(private), producer)
        finally:
            await producer.stop()
