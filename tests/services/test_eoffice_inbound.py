"""The e-office's inbound webhooks on the real stack: intake and approval in-process over HTTP,
on the real PostgreSQL and Kafka (intake's events reach approval through ``jejak.intake.events``).

A signed letter becomes one request however often it is posted; a bad signature, an old timestamp,
a replayed delivery and a bad payload are refused with nothing created; a disposition made in the
e-office becomes ``Disposed`` by the named official, once."""

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from infra import kafka_acl, webhook
from infra.auth import TokenIssuer, development_keys
from infra.principal import Principal
from infra.settings import ProductionConfigError, Settings
from services.approval.bootstrap import create_app as create_approval
from services.identity.bootstrap import create_app as create_identity
from services.intake.bootstrap import create_app as create_intake
from tests.kafka_helpers import eventually, read_topic

SECRET = "test-tenant-secret-" + "x" * 24
PREVIOUS = "test-tenant-old-secret-" + "y" * 24
ROOTS = {"intake": "/api/intake", "approval": "/api/approval"}
"""Each service's ``ROOT_PATH``, as behind the gateway: the signed path is the public one."""
INTAKE_TOPIC = "jejak.intake.events"
APPROVAL_TOPIC = "jejak.approval.events"
AUDITOR = Principal(user_id="u-auditor", name="Auditor", roles=frozenset({"AUDITOR"}))
ADMIN = Principal(user_id="u-admin-eoffice", name="Admin", roles=frozenset({"ADMIN"}))
OFFICIALS: dict[str, str] = {}
"""The user ids identity gave this module's people (``people``): ``kadis`` holds KADIS, ``plt``
acts for ``kadis`` as Plt, ``kabid`` holds KABID_TI only."""
DOC = Path(__file__).parents[2] / "docs" / "eoffice-webhook.md"


def letter(**overrides: Any) -> dict[str, Any]:
    return {
        "letter_id": f"SRK-{uuid.uuid4().hex[:12]}",
        "letter_number": "440/012/DINKES/VI/2024",
        "letter_date": "2024-06-10",
        "sender_opd": "DINKES",
        "subject": "Permohonan Pembangunan Aplikasi SIMPUS",
        "summary": "Aplikasi pendaftaran pasien puskesmas.",
        "attachments": [
            {
                "sha256": hashlib.sha256(b"scan " + uuid.uuid4().bytes).hexdigest(),
                "size_bytes": 482113,
                "media_type": "application/pdf",
                "filename": "surat-permohonan.pdf",
                "url": "https://eoffice.katingankab.go.id/files/123",
            }
        ],
        "received_by": "sekretariat",
        "agenda_number": "AG-2024-0456",
    } | overrides


def body_of(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


@dataclass
class Stack:
    intake: httpx.AsyncClient
    approval: httpx.AsyncClient
    identity: httpx.AsyncClient
    issuer: TokenIssuer
    db: asyncpg.Connection
    settings: Settings

    async def deliver(
        self,
        client: httpx.AsyncClient,
        path: str,
        body: bytes,
        *,
        secret: str = SECRET,
        at: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """POST ``body`` signed afresh (now, or at ``at``) unless ``headers`` are given."""
        signed = (
            headers
            if headers is not None
            else webhook.sign(
                secret, self.public(client, path), body, at, delivery_id=f"dlv-{uuid.uuid4()}"
            )
        )
        return await client.post(
            path, content=body, headers={**signed, "Content-Type": "application/json"}
        )

    def public(self, client: httpx.AsyncClient, path: str) -> str:
        """The path the e-office posts to behind the gateway (what it signs)."""
        return ROOTS[client.base_url.host] + path

    def signed(self, client: httpx.AsyncClient, path: str, body: bytes) -> dict[str, str]:
        return webhook.sign(SECRET, self.public(client, path), body)

    async def letter(self, payload: dict[str, Any], **kwargs: Any) -> httpx.Response:
        return await self.deliver(self.intake, "/eoffice/letters", body_of(payload), **kwargs)

    async def disposition(self, payload: dict[str, Any], **kwargs: Any) -> httpx.Response:
        return await self.deliver(
            self.approval, "/eoffice/dispositions", body_of(payload), **kwargs
        )

    async def as_admin(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = await self.identity.post(
            path,
            json=body,
            headers={
                "Authorization": f"Bearer {self.issuer.issue(ADMIN)}",
                "Idempotency-Key": str(uuid.uuid4()),
            },
        )
        assert answer.status_code in (200, 201), answer.text
        return dict(answer.json())

    async def person(self, name: str, roles: tuple[str, ...]) -> str:
        """A new user of identity with ``roles``: its user id."""
        answer = await self.as_admin(
            "/users",
            {
                "username": f"{name}-{uuid.uuid4().hex[:8]}",
                "password": "rahasia-uji-panjang",
                "full_name": f"Pejabat {name}",
                "roles": list(roles),
            },
        )
        return str(answer["user"]["user_id"])

    async def intake_events(self) -> int:
        return int(await self.db.fetchval("SELECT count(*) FROM intake.events"))

    async def approval_events(self) -> int:
        return int(await self.db.fetchval("SELECT count(*) FROM approval.events"))

    async def letters_kept(self, letter_id: str) -> int:
        return int(
            await self.db.fetchval(
                "SELECT count(*) FROM intake.eoffice_letters WHERE letter_id = $1", letter_id
            )
        )

    async def intake_state(self, request_id: str) -> dict[str, Any]:
        token = self.issuer.issue(AUDITOR)
        answer = await self.intake.get(
            f"/requests/{request_id}", headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    async def on_topic(self, topic: str, request_id: str, count: int) -> list[dict[str, Any]]:
        """The request's events on ``topic`` once ``count`` have arrived (and no more came)."""
        found: list[dict[str, Any]] = []

        async def arrived() -> bool:
            records = await read_topic(self.settings.kafka_login(kafka_acl.ADMIN), topic, 1, 10)
            found[:] = [json.loads(r.value) for r in records if r.key == request_id.encode()]
            return len(found) >= count

        assert await eventually(arrived, timeout=60), found
        return found

    async def created(self, payload: dict[str, Any]) -> str:
        answer = await self.letter(payload)
        assert answer.status_code == 201, answer.text
        return str(answer.json()["request_id"])


@pytest.fixture(scope="module")
async def stack(
    settings: Settings, owner_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    keys = tmp_path_factory.mktemp("keys")
    private, _ = development_keys(keys)
    configured = settings.model_copy(
        update={
            "jwt_key_dir": str(keys),
            "eoffice_secret": SecretStr(SECRET),
            "eoffice_previous_secrets": SecretStr(PREVIOUS),
        }
    )
    apps: list[FastAPI] = [
        create(configured.model_copy(update={"root_path": ROOTS[name]}))
        for name, create in (("intake", create_intake), ("approval", create_approval))
    ]
    apps.append(create_identity(configured))
    async with AsyncExitStack() as running:
        clients = []
        for app, host in zip(apps, ("intake", "approval", "identity"), strict=True):
            await running.enter_async_context(app.router.lifespan_context(app))
            clients.append(
                await running.enter_async_context(
                    httpx.AsyncClient(
                        transport=httpx.ASGITransport(app=app), base_url=f"http://{host}"
                    )
                )
            )
        db = await asyncpg.connect(owner_settings.database_url)
        running.push_async_callback(db.close)
        built = Stack(clients[0], clients[1], clients[2], TokenIssuer(private), db, configured)
        await people(built)
        yield built


async def people(stack: Stack) -> None:
    """The officials the dispositions name, registered in identity now (``OFFICIALS``)."""
    OFFICIALS["kadis"] = await stack.person("kadis", ("KADIS",))
    OFFICIALS["plt"] = await stack.person("plt", ())
    OFFICIALS["kabid"] = await stack.person("kabid", ("KABID_TI",))
    now = dt.datetime.now(dt.UTC)
    await stack.as_admin(
        "/delegations",
        {
            "delegate_user_id": OFFICIALS["plt"],
            "official_user_id": OFFICIALS["kadis"],
            "role": "KADIS",
            "kind": "PLT",
            "valid_from": (now - dt.timedelta(hours=1)).isoformat(),
            "valid_until": (now + dt.timedelta(hours=2)).isoformat(),
            "reason": "Kadis cuti; Surat Perintah 800/15/2026",
        },
    )


# The signature, as the contract page states it ------------------------------------------------


def test_the_worked_example_of_the_contract_page_holds() -> None:
    """The page's example: its secret, timestamp, path and body give its hex, with this code."""
    page = DOC.read_text()
    secret, path = "contoh-rahasia-katingan-0123456789abcdef", "/api/intake/eoffice/letters"
    body = (
        b'{"letter_id":"SRK-2024-000123","letter_number":"440/012/DINKES/VI/2024",'
        b'"letter_date":"2024-06-10","sender_opd":"DINKES",'
        b'"subject":"Permohonan Pembangunan Aplikasi SIMPUS"}'
    )
    expected = webhook.signature(secret, 1718000000, path, body)
    assert expected == "89d881fc8d86de36a5aa49090b47b1aecf901053218b2c5219ec96d7611bb2a7"
    for text in (secret, body.decode(), "1718000000", path, f"v2={expected}"):
        assert text in page, text
    headers = webhook.sign(secret, path, body, 1718000000)
    verified = webhook.verify((secret,), path, headers, body, 1718000000 + 299, 300)
    assert verified.signature == expected
    # several entries (a secret being rotated): one matching v2 entry is enough
    rotated = {**headers, webhook.SIGNATURE_HEADER: f"v0=abc, v2={'0' * 64}, v2={expected}"}
    assert webhook.verify((secret,), path, rotated, body, 1718000000, 300).signature == expected
    # the retired v1 (no path) is refused as such, even when it is right for v1
    v1 = hmac.new(secret.encode(), b"1718000000." + body, hashlib.sha256).hexdigest()
    with pytest.raises(webhook.WebhookRefused) as refused:
        webhook.verify(
            (secret,), path, {**headers, "X-Jejak-Signature": f"v1={v1}"}, body, 1718000000, 300
        )
    assert refused.value.code == "signature_scheme_retired"


def test_production_refuses_to_start_without_real_secrets(settings: Settings) -> None:
    production = settings.model_copy(
        update={"environment": "production", "eoffice_secret": SecretStr(SECRET)}
    )
    for secret in (None, webhook.DEVELOPMENT_SECRET, "too-short"):
        configured = production.model_copy(
            update={"eoffice_secret": SecretStr(secret) if secret else None}
        )
        with pytest.raises(webhook.MissingSecret, match="EOFFICE_SECRET"):
            webhook.secrets_from(configured)
        for create_app in (create_intake, create_approval):
            with pytest.raises(ProductionConfigError):
                create_app(configured)
    for previous in (
        webhook.DEVELOPMENT_SECRET,
        "too-short",
        ",".join(f"{n:040}" for n in range(4)),
    ):
        configured = production.model_copy(
            update={"eoffice_previous_secrets": SecretStr(f"{PREVIOUS},{previous}")}
        )
        with pytest.raises(webhook.MissingSecret, match="EOFFICE_PREVIOUS_SECRETS"):
            webhook.secrets_from(configured)
    rotating = production.model_copy(
        update={"eoffice_previous_secrets": SecretStr(f" {PREVIOUS} ,{SECRET},")}
    )
    assert webhook.secrets_from(production) == (SECRET,)
    assert webhook.secrets_from(rotating) == (SECRET, PREVIOUS)  # the current one first, once
    assert webhook.secrets_from(settings) == (webhook.DEVELOPMENT_SECRET,)  # development default


# Letters ----------------------------------------------------------------------------------------


async def test_a_signed_letter_posted_three_times_creates_one_request(stack: Stack) -> None:
    payload = letter()
    now = int(time.time())
    answers = [await stack.letter(payload, at=now - 2 + i) for i in range(3)]
    assert [a.status_code for a in answers] == [201, 200, 200], [a.text for a in answers]
    first = answers[0].json()
    request_id = first["request_id"]
    assert uuid.UUID(request_id).version == 7
    assert {a.json()["request_id"] for a in answers} == {request_id}
    assert (first["created"], first["letter_id"], len(first["event_ids"])) == (
        True,
        payload["letter_id"],
        2,
    )
    assert [a.json()["created"] for a in answers[1:]] == [False, False]
    assert all(a.json()["event_ids"] == [] for a in answers[1:])
    stored = int(
        await stack.db.fetchval(
            "SELECT count(*) FROM intake.events WHERE stream_id = $1", request_id
        )
    )
    assert stored == 2
    assert await stack.letters_kept(payload["letter_id"]) == 1

    state = await stack.intake_state(request_id)
    assert (state["status"], state["current_step"], state["who_must_act"]) == (
        "OPEN",
        "DISPOSE",
        "KADIS",
    )
    assert (state["submitted_via"], state["eoffice_letter_id"], state["opd"]) == (
        "EOFFICE",
        payload["letter_id"],
        "DINKES",
    )
    assert (state["title"], state["received_by"], state["agenda_number"]) == (
        payload["subject"],
        "sekretariat",
        "AG-2024-0456",
    )
    assert state["letter"] == {"number": payload["letter_number"], "date": "2024-06-10"}
    assert [a["sha256"] for a in state["attachments"]] == [payload["attachments"][0]["sha256"]]
    kept = await stack.db.fetchval(
        "SELECT letter FROM intake.eoffice_letters WHERE letter_id = $1", payload["letter_id"]
    )
    assert json.loads(kept)["attachments"][0]["url"] == payload["attachments"][0]["url"]

    events = await stack.on_topic(INTAKE_TOPIC, request_id, 2)
    assert [e["event_type"] for e in events] == ["RequestSubmitted", "RequestReceived"]
    submitted, received = events
    assert submitted["actor"] == {
        "user_id": "eoffice",
        "role": "PEMOHON",
        "opd": "DINKES",
        "on_behalf_of": None,
    }
    assert received["actor"] == {
        "user_id": "eoffice",
        "role": "KADIS",
        "opd": None,
        "on_behalf_of": None,
    }
    assert submitted["payload"]["submitted_via"] == "EOFFICE"
    assert submitted["payload"]["eoffice_letter_id"] == payload["letter_id"]
    assert received["payload"]["received_by"] == "sekretariat"
    assert submitted["correlation_id"] == received["correlation_id"]
    assert received["causation_id"] == submitted["event_id"]
    assert first["event_ids"] == [submitted["event_id"], received["event_id"]]


async def test_the_same_letter_posted_concurrently_still_creates_one_request(
    stack: Stack,
) -> None:
    payload = letter(received_by=None, agenda_number=None, attachments=[])
    now = int(time.time())
    answers = await asyncio.gather(*(stack.letter(payload, at=now - i) for i in range(5)))
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 200, 201]
    assert len({a.json()["request_id"] for a in answers}) == 1
    assert await stack.letters_kept(payload["letter_id"]) == 1
    state = await stack.intake_state(answers[0].json()["request_id"])
    assert state["received_by"] == "eoffice" and state["summary"] == payload["summary"]


async def test_bad_signature_old_timestamp_and_replay_are_refused_with_nothing_created(
    stack: Stack,
) -> None:
    now = int(time.time())
    skew = stack.settings.eoffice_max_skew_seconds
    before = await stack.intake_events()

    def refused(answer: httpx.Response, status: int, code: str, header: str) -> None:
        assert answer.status_code == status, answer.text
        assert (answer.json()["code"], answer.json()["header"]) == (code, header)
        assert header in answer.json()["message"]

    bad = letter()
    refused(
        await stack.letter(bad, secret="another-tenant-secret-0123456789abcdef"),
        401,
        "signature_invalid",
        "X-Jejak-Signature",
    )
    tampered = stack.signed(stack.intake, "/eoffice/letters", body_of(letter()))  # another body
    refused(
        await stack.letter(bad, headers=tampered), 401, "signature_invalid", "X-Jejak-Signature"
    )
    refused(
        await stack.letter(bad, at=now - skew - 60),
        401,
        "timestamp_out_of_window",
        "X-Jejak-Timestamp",
    )
    refused(
        await stack.letter(bad, at=now + skew + 60),
        401,
        "timestamp_out_of_window",
        "X-Jejak-Timestamp",
    )
    refused(await stack.letter(bad, headers={}), 401, "timestamp_missing", "X-Jejak-Timestamp")
    refused(
        await stack.letter(bad, headers={"X-Jejak-Timestamp": str(now)}),
        401,
        "signature_missing",
        "X-Jejak-Signature",
    )
    refused(
        await stack.letter(
            bad, headers={"X-Jejak-Timestamp": "yesterday", "X-Jejak-Signature": "v2=" + "0" * 64}
        ),
        401,
        "timestamp_malformed",
        "X-Jejak-Timestamp",
    )
    refused(
        await stack.letter(
            bad, headers={"X-Jejak-Timestamp": str(now), "X-Jejak-Signature": "sha256=abc"}
        ),
        401,
        "signature_malformed",
        "X-Jejak-Signature",
    )
    # a bearer token is no way in either
    token = stack.issuer.issue(
        Principal(user_id="u-p", name="P", roles=frozenset({"PEMOHON"}), opd="DINKES")
    )
    answer = await stack.intake.post(
        "/eoffice/letters", content=body_of(bad), headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 401
    assert await stack.letters_kept(bad["letter_id"]) == 0
    assert await stack.intake_events() == before

    # a delivery accepted once, sent again byte for byte (same timestamp and signature)
    original = letter()
    body = body_of(original)
    signed = webhook.sign(SECRET, stack.public(stack.intake, "/eoffice/letters"), body, now)
    first = await stack.letter(original, headers=signed)
    assert first.status_code == 201, first.text
    after_first = await stack.intake_events()
    replayed = await stack.deliver(stack.intake, "/eoffice/letters", body, headers=signed)
    refused(replayed, 409, "signature_replayed", "X-Jejak-Signature")
    assert await stack.intake_events() == after_first
    assert await stack.letters_kept(original["letter_id"]) == 1
    # the same replayed to approval: signed for the letters' path, it is good for no other
    to_approval = await stack.deliver(stack.approval, "/eoffice/dispositions", body, headers=signed)
    refused(to_approval, 401, "signature_invalid", "X-Jejak-Signature")
    message = f"{now}\n/api/intake/eoffice/letters\n".encode() + body
    seen = await stack.db.fetchval(
        "SELECT count(*) FROM intake.webhook_signatures WHERE signature_sha256 = $1",
        hashlib.sha256(message).hexdigest(),
    )
    assert seen == 1


async def test_while_the_secret_is_rotated_the_previous_one_is_still_accepted(
    stack: Stack,
) -> None:
    assert (await stack.letter(letter(), secret=PREVIOUS)).status_code == 201
    both = letter()
    path, body = stack.public(stack.intake, "/eoffice/letters"), body_of(both)
    signed = webhook.sign(("not-yet-known-new-secret-" + "z" * 24, PREVIOUS), path, body)
    assert (await stack.letter(both, headers=signed)).status_code == 201
    answer = await stack.letter(letter(), secret="long-retired-secret-" + "r" * 24)
    assert answer.status_code == 401 and answer.json()["code"] == "signature_invalid"
    # signed with both, accepted, then sent again with one entry only: still the same delivery
    again = letter()
    body = body_of(again)
    signed = webhook.sign((SECRET, PREVIOUS), path, body)
    assert (await stack.letter(again, headers=signed)).status_code == 201
    for entry in signed["X-Jejak-Signature"].split(","):
        replayed = await stack.letter(again, headers={**signed, "X-Jejak-Signature": entry})
        assert replayed.status_code == 409, replayed.text
        assert replayed.json()["code"] == "signature_replayed"


async def test_signatures_are_forgotten_once_their_window_has_passed(stack: Stack) -> None:
    old = hashlib.sha256(uuid.uuid4().bytes).hexdigest()
    await stack.db.execute(
        "INSERT INTO intake.webhook_signatures (signature_sha256, signed_at, expires_at) "
        "VALUES ($1, now() - interval '20 minutes', now() - interval '15 minutes')",
        old,
    )
    assert (await stack.letter(letter())).status_code == 201
    gone = await stack.db.fetchval(
        "SELECT count(*) FROM intake.webhook_signatures WHERE signature_sha256 = $1", old
    )
    assert gone == 0


async def test_a_bad_letter_is_422_naming_the_field_and_creates_nothing(stack: Stack) -> None:
    before = await stack.intake_events()
    future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    too_big = letter()["attachments"][0] | {"size_bytes": 26 * 1024 * 1024}
    cases: list[tuple[bytes, str]] = [
        (body_of({k: v for k, v in letter().items() if k != "sender_opd"}), "body.sender_opd"),
        (body_of(letter(sender_opd="dinkes kota")), "body.sender_opd"),
        (body_of(letter(letter_date=future)), "body.letter_date"),
        (body_of(letter(subject="x" * 201)), "body.subject"),
        (body_of(letter(attachments=[too_big])), "body.attachments.0.size_bytes"),
        (body_of(letter(attachments=[too_big | {"sha256": "ABC"}])), "body.attachments.0.sha256"),
        (body_of(letter(attachments=[too_big | {"url": "ftp://x"}])), "body.attachments.0.url"),
        (body_of(letter(letter_id="has space")), "body.letter_id"),
        (body_of(letter(unknown_field=1)), "body.unknown_field"),
        (b'{"letter_id": ', "body"),
    ]
    for body, field in cases:
        answer = await stack.deliver(stack.intake, "/eoffice/letters", body)
        assert answer.status_code == 422, (field, answer.text)
        problem = answer.json()
        fields = [e["field"] for e in problem.get("errors", [])] or [problem.get("field")]
        assert any(f == field or f.startswith(field + ".") for f in fields), (field, problem)
    assert await stack.intake_events() == before


async def test_an_oversized_body_is_413(stack: Stack) -> None:
    huge = b'{"letter_id": "' + b"x" * webhook.MAX_BODY_BYTES + b'"}'
    answer = await stack.deliver(stack.intake, "/eoffice/letters", huge)
    assert answer.status_code == 413, answer.text


# Dispositions -----------------------------------------------------------------------------------


def wib(at: dt.datetime) -> str:
    """``at`` as the e-office writes it: whole seconds, Western Indonesia Time."""
    return at.astimezone(dt.timezone(dt.timedelta(hours=7))).replace(microsecond=0).isoformat()


def disposition(**overrides: Any) -> dict[str, Any]:
    """A disposition by this module's KADIS, made now (the next whole second, so after the
    grants ``people`` made)."""
    return {
        "disposition_id": f"DSP-{uuid.uuid4().hex[:12]}",
        "disposed_by": OFFICIALS["kadis"],
        "disposed_by_name": "Drs. Yohanes Ngabut, M.Si.",
        "note": "Mohon Kabid TI menindaklanjuti dan menjadwalkan rapat.",
        "disposition_number": "005/77/DISKOMINFOSTANDI/VI/2024",
        "disposed_at": wib(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)),
    } | overrides


async def known_to_approval(stack: Stack, payload: dict[str, Any]) -> httpx.Response:
    """Post the disposition (signed afresh each time) until approval knows the request and the
    official's KADIS (or Plt/Plh of one)."""
    last: list[httpx.Response] = []

    async def accepted() -> bool:
        answer = await stack.disposition(payload)
        last[:] = [answer]
        if answer.status_code == 425:
            assert answer.headers["Retry-After"] == "30"
            assert answer.json()["code"] in ("request_not_yet_known", "official_not_yet_known")
            return False
        return True

    assert await eventually(accepted, timeout=60, interval=0.3), last[0].text
    return last[0]


async def test_a_disposition_becomes_disposed_by_the_named_official_once(stack: Stack) -> None:
    source = letter()
    request_id = await stack.created(source)
    payload = disposition(letter_id=source["letter_id"])
    answer = await known_to_approval(stack, payload)
    assert answer.status_code == 201, answer.text
    result = answer.json()
    assert (result["request_id"], result["created"], len(result["event_ids"])) == (
        request_id,
        True,
        1,
    )
    assert result["state"]["status"] == "AWAITING_VERIFICATION"
    assert result["state"]["current_step"] == "VERIFY"

    again = await stack.disposition(payload, at=int(time.time()) - 7)  # a retry, signed anew
    assert again.status_code == 200, again.text
    assert (again.json()["request_id"], again.json()["created"], again.json()["event_ids"]) == (
        request_id,
        False,
        [],
    )
    by_id = await stack.disposition(payload | {"letter_id": None, "request_id": request_id})
    assert by_id.status_code == 200 and by_id.json()["request_id"] == request_id
    disposed = int(
        await stack.db.fetchval(
            "SELECT count(*) FROM approval.events WHERE stream_id = $1", request_id
        )
    )
    assert disposed == 1

    events = await stack.on_topic(APPROVAL_TOPIC, request_id, 1)
    assert [e["event_type"] for e in events] == ["Disposed"]
    event = events[0]
    assert event["event_id"] == result["event_ids"][0]
    assert event["actor"] == {
        "user_id": OFFICIALS["kadis"],
        "role": "KADIS",
        "opd": None,
        "on_behalf_of": None,
    }
    note = event["payload"]["note"]
    assert note == (
        f"[via e-office | {payload['disposition_id']} | {payload['disposed_at']} | "
        f"Drs. Yohanes Ngabut, M.Si.] {payload['note']}"
    )
    assert event["payload"]["disposition_number"] == payload["disposition_number"]
    assert event["payload"]["to_role"] == "KABID_TI"

    # intake follows approval's event from Kafka: the request moves on to step 4 there too
    async def moved() -> bool:
        return (await stack.intake_state(request_id))["current_step"] == "VERIFY"

    assert await eventually(moved, timeout=60)

    # another disposition of the same letter (another e-office id): the step is done, 409
    second = await stack.disposition(disposition(letter_id=source["letter_id"]))
    assert second.status_code == 409, second.text
    assert second.json()["current_step"] == "VERIFY"
    assert (
        int(
            await stack.db.fetchval(
                "SELECT count(*) FROM approval.events WHERE stream_id = $1", request_id
            )
        )
        == 1
    )


async def test_a_disposition_approval_cannot_place_yet_is_425_and_records_nothing(
    stack: Stack,
) -> None:
    before = await stack.approval_events()
    for named in ({"letter_id": "SRK-not-yet-here"}, {"request_id": str(uuid.uuid4())}):
        body = body_of(disposition(**named))
        signed = stack.signed(stack.approval, "/eoffice/dispositions", body)
        for _ in range(2):  # a refused delivery spends nothing: the same bytes may come again
            answer = await stack.deliver(
                stack.approval, "/eoffice/dispositions", body, headers=signed
            )
            assert answer.status_code == 425, answer.text
            assert answer.headers["Retry-After"] == "30"
            assert answer.json()["retry_after_seconds"] == 30
    assert await stack.approval_events() == before


async def test_bad_dispositions_are_refused_with_nothing_recorded(stack: Stack) -> None:
    source = letter()
    request_id = await stack.created(source)
    other = await stack.created(letter())
    before = await stack.approval_events()
    cases: list[tuple[dict[str, Any], str]] = [
        (disposition(), "body"),  # neither letter_id nor request_id
        (
            disposition(letter_id=source["letter_id"], disposed_by="Drs. Yohanes"),
            "body.disposed_by",
        ),
        (
            disposition(letter_id=source["letter_id"], disposed_at="2026-06-11T09:30:00"),
            "body.disposed_at",
        ),
        (
            disposition(
                letter_id=source["letter_id"],
                disposed_at=(dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat(),
            ),
            "body.disposed_at",
        ),
        (disposition(letter_id=source["letter_id"], note="   "), "body.note"),
        (disposition(letter_id=source["letter_id"], note="x" * 9001), "body.note"),
    ]
    for payload, field in cases:
        answer = await stack.disposition(payload)
        assert answer.status_code == 422, (field, answer.text)
        problem = answer.json()
        fields = [e["field"] for e in problem.get("errors", [])] or [problem.get("field")]
        assert field in fields, (field, problem)
    # letter and request that do not belong together (once approval knows the letter)
    mismatch = await known_to_approval(
        stack, disposition(letter_id=source["letter_id"], request_id=other)
    )
    assert mismatch.status_code == 422, mismatch.text
    assert mismatch.json()["field"] == "body.request_id"
    assert await stack.approval_events() == before
    # and a bad signature on a disposition is refused before anything is read
    answer = await stack.disposition(disposition(request_id=request_id), secret="w" * 40)
    assert answer.status_code == 401 and answer.json()["code"] == "signature_invalid"
    assert await stack.approval_events() == before


async def test_the_webhooks_are_in_the_openapi_with_their_headers(stack: Stack) -> None:
    for client, path in (
        (stack.intake, "/eoffice/letters"),
        (stack.approval, "/eoffice/dispositions"),
    ):
        spec = (await client.get("/openapi.json")).json()
        operation = spec["paths"][path]["post"]
        names = {p["name"] for p in operation["parameters"]}
        assert {"X-Jejak-Timestamp", "X-Jejak-Signature", "X-Jejak-Delivery"} <= names
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        assert "$ref" not in json.dumps(schema)  # inlined: resolvable by any client
        assert "required" in schema


async def test_a_disposition_by_a_plt_of_kadis_records_on_whose_behalf(stack: Stack) -> None:
    source = letter()
    request_id = await stack.created(source)
    payload = disposition(
        letter_id=source["letter_id"], disposed_by=OFFICIALS["plt"], disposed_by_name=None
    )
    answer = await known_to_approval(stack, payload)
    assert answer.status_code == 201, answer.text
    (event,) = await stack.on_topic(APPROVAL_TOPIC, request_id, 1)
    assert event["actor"] == {
        "user_id": OFFICIALS["plt"],
        "role": "KADIS",
        "opd": None,
        "on_behalf_of": {"user_id": OFFICIALS["kadis"], "role": "KADIS", "kind": "PLT"},
    }


async def test_a_disposition_by_no_kadis_at_that_time_is_refused_naming_disposed_by(
    stack: Stack,
) -> None:
    source = letter()
    request_id = await stack.created(source)
    ten_minutes_ago = wib(dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10))
    refused = [
        # held KADIS only from when identity granted it, not ten minutes ago
        disposition(letter_id=source["letter_id"], disposed_at=ten_minutes_ago),
        # Plt within the delegation's window, but the official held no KADIS yet then
        disposition(letter_id=source["letter_id"], disposed_by=OFFICIALS["plt"]),
        # holds KABID_TI, never KADIS
        disposition(letter_id=source["letter_id"], disposed_by=OFFICIALS["kabid"]),
        # nobody identity knows
        disposition(letter_id=source["letter_id"], disposed_by="u-nobody"),
    ]
    before = await stack.approval_events()
    for n, payload in enumerate(refused):
        payload["disposed_at"] = ten_minutes_ago
        answer = await known_to_approval(stack, payload)
        assert answer.status_code == 422, (n, answer.text)
        assert answer.json()["field"] == "body.disposed_by"
        assert "tidak memegang peran KADIS" in answer.json()["message"]
    # made just now: identity's facts of this instant may still be on their way, so 425 (retry)
    recent = body_of(disposition(letter_id=source["letter_id"], disposed_by=OFFICIALS["kabid"]))
    signed = stack.signed(stack.approval, "/eoffice/dispositions", recent)
    for _ in range(2):  # refused: nothing spent, the same bytes may come again
        answer = await stack.deliver(
            stack.approval, "/eoffice/dispositions", recent, headers=signed
        )
        assert answer.status_code == 425, answer.text
        assert answer.json()["code"] == "official_not_yet_known"
        assert answer.headers["Retry-After"] == "30"
    assert await stack.approval_events() == before
    assert (await stack.intake_state(request_id))["current_step"] == "DISPOSE"
