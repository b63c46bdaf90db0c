"""The identity service in-process over HTTP, on the real PostgreSQL and Kafka."""

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from infra.auth import TokenVerifier
from infra.kafka_acl import ADMIN
from infra.settings import Settings
from services.identity.bootstrap import create_app
from services.identity.demo import DEMO_PASSWORD
from tests.idempotency_checks import Send, check_racing_retries_act_once, check_retry_safe
from tests.kafka_helpers import read_topic


@pytest.fixture(scope="module")
async def client(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    keys = tmp_path_factory.mktemp("keys")
    app = create_app(settings.model_copy(update={"jwt_key_dir": str(keys)}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://identity") as c:
            c.headers["x-keys"] = str(keys)
            yield c


async def token(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    answer = await client.post("/login", json={"username": username, "password": DEMO_PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def test_demo_users_log_in_and_their_token_verifies_with_the_public_key(
    client: httpx.AsyncClient,
) -> None:
    headers = await token(client, "kabid.ti")
    public = (await client.get("/public-key")).json()["public_key"]
    assert public == (Path(client.headers["x-keys"]) / "jwt-public.pem").read_text()
    principal = TokenVerifier(public).verify(headers["Authorization"].split()[1])
    assert principal.roles == {"KABID_TI"}
    me = (await client.get("/me", headers=headers)).json()
    assert me["username"] == "kabid.ti"


async def test_wrong_password_and_missing_token_are_refused(client: httpx.AsyncClient) -> None:
    wrong = await client.post("/login", json={"username": "admin", "password": "salah-sekali"})
    assert wrong.status_code == 401
    assert wrong.json() == {"message": "Nama pengguna atau kata sandi salah."}
    assert (await client.get("/users")).status_code == 401
    forged = {"Authorization": "Bearer eyJhbGciOiJub25lIn0.e30."}
    assert (await client.get("/users", headers=forged)).status_code == 401


async def test_admin_manages_users_and_roles_each_an_event(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    admin = await token(client, "admin")
    created = await client.post(
        "/users",
        headers=admin,
        json={
            "username": "rina.dev",
            "password": "kata-sandi-rina",
            "full_name": "Rina, S.Kom.",
            "opd": "DISKOMINFOSTANDI",
            "roles": ["TIM_PENGEMBANG"],
        },
    )
    assert created.status_code == 201, created.text
    user_id = created.json()["user"]["user_id"]
    assert len(created.json()["event_ids"]) == 2
    granted = await client.post(f"/users/{user_id}/roles", headers=admin, json={"role": "AUDITOR"})
    assert granted.json()["user"]["roles"] == ["AUDITOR", "TIM_PENGEMBANG"]
    revoked = await client.post(
        f"/users/{user_id}/roles/revoke",
        headers=admin,
        json={"role": "AUDITOR", "reason": "Salah pilih peran"},
    )
    assert revoked.json()["user"]["roles"] == ["TIM_PENGEMBANG"]

    records = await read_topic(
        settings.kafka_login(ADMIN), "jejak.identity.events", expected=1, timeout=20
    )
    mine = [json.loads(r.value) for r in records if r.key == f"user-{user_id}".encode()]
    assert [e["event_type"] for e in mine] == [
        "UserRegistered",
        "RoleGranted",
        "RoleGranted",
        "RoleRevoked",
    ]
    assert all("password" not in json.dumps(e) for e in mine)
    assert mine[0]["actor"]["role"] == "ADMIN"


async def test_an_admin_keeps_what_documents_print_of_a_user(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    admin = await token(client, "admin")
    created = await client.post(
        "/users",
        headers=admin,
        json={
            "username": "yanti.kabid",
            "password": "kata-sandi-yanti",
            "full_name": "Yanti, S.Kom.",
            "nip": "198001012005012001",
            "rank": "Penata Tk. I (III/d)",
            "opd": "DISKOMINFOSTANDI",
        },
    )
    assert created.status_code == 201, created.text
    user = created.json()["user"]
    assert (user["rank"], user["position"]) == ("Penata Tk. I (III/d)", None)
    path = f"/users/{user['user_id']}/profile"
    promoted = {
        "full_name": "Yanti, S.Kom., M.T.",
        "nip": "198001012005012001",
        "rank": "Pembina (IV/a)",
        "position": "Kepala Seksi Aplikasi Informatika",
    }
    changed = await client.post(path, headers=admin, json=promoted)
    assert changed.status_code == 200, changed.text
    assert len(changed.json()["event_ids"]) == 1
    assert {k: changed.json()["user"][k] for k in promoted} == promoted
    again = await client.post(path, headers=admin, json=promoted)  # as it stands: no event
    assert (again.status_code, again.json()["event_ids"]) == (200, [])

    kabid = await token(client, "kabid.ti")
    assert (await client.post(path, headers=kabid, json=promoted)).status_code == 403
    unknown = await client.post("/users/u-nobody/profile", headers=admin, json=promoted)
    assert unknown.status_code == 404
    bad = await client.post(path, headers=admin, json={**promoted, "nip": "12", "extra": 1})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"body.nip", "body.extra"}

    records = await read_topic(
        settings.kafka_login(ADMIN), "jejak.identity.events", expected=1, timeout=20
    )
    mine = [json.loads(r.value) for r in records if r.key == f"user-{user['user_id']}".encode()]
    assert [e["event_type"] for e in mine] == ["UserRegistered", "UserProfileChanged"]
    assert mine[1]["payload"] == {"user_id": user["user_id"], **promoted}


async def test_bad_input_gets_a_4xx_naming_the_field(client: httpx.AsyncClient) -> None:
    admin = await token(client, "admin")
    answer = await client.post(
        "/users",
        headers=admin,
        json={"username": "Bad Name", "password": "short", "full_name": "X", "opd": "NOPE"},
    )
    assert answer.status_code == 422
    fields = {e["field"] for e in answer.json()["errors"]}
    assert fields == {"body.username", "body.password"}
    unknown_opd = await client.post(
        "/users",
        headers=admin,
        json={"username": "valid.name", "password": "long-enough", "full_name": "X", "opd": "NOPE"},
    )
    assert unknown_opd.status_code == 422
    assert unknown_opd.json()["field"] == "opd"
    malformed = await client.post(
        "/users", headers={**admin, "content-type": "application/json"}, content=b"{not json"
    )
    assert malformed.status_code == 422


async def test_every_command_with_its_key_is_safe_to_retry(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection
) -> None:
    admin = await token(client, "admin")

    def sender(path: str) -> Send:
        async def send(key: str, body: Any) -> httpx.Response:
            return await client.post(path, headers={**admin, "Idempotency-Key": key}, json=body)

        return send

    async def events() -> int:
        return int(await owner_conn.fetchval("SELECT count(*) FROM identity.events"))

    user = {
        "username": f"budi.{uuid.uuid4().hex[:6]}",
        "password": "kata-sandi-budi",
        "full_name": "Budi, S.Kom.",
        "roles": ["TIM_PENGEMBANG"],
    }
    racing = await check_racing_retries_act_once(sender("/users"), events, user)
    user_id = racing[0].json()["user"]["user_id"]
    kept = await owner_conn.fetch(
        "SELECT fingerprint, response::text FROM identity.idempotency_keys"
    )
    assert kept and not any("kata-sandi-budi" in r["response"] for r in kept)

    first = await check_retry_safe(
        sender(f"/users/{user_id}/roles"), events, {"role": "AUDITOR"}, {"role": "KADIS"}
    )
    assert first.json()["user"]["roles"] == ["AUDITOR", "TIM_PENGEMBANG"]
