"""identity's security over HTTP on the real PostgreSQL and Kafka: Plt/Plh delegations in tokens,
token expiry, login lockout per username and per address, and production-mode refusals.

Time is a clock the tests move (the app issues, verifies and throttles by it); every test uses
users and a client address of its own, so that the locks it provokes touch nothing else."""

import asyncio
import itertools
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from devstack.kafka_access import add_user
from events.envelope import OnBehalfOf
from infra.auth import InvalidToken, TokenIssuer, TokenVerifier, development_keys, generate_key_pair
from infra.kafka_acl import ADMIN, grants_of
from infra.principal import Principal
from infra.settings import ProductionConfigError, Settings
from services.identity.bootstrap import create_app
from services.identity.demo import DEMO_PASSWORD
from tests.kafka_helpers import read_topic

MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)
PASSWORD = "kata-sandi-yang-benar"
_addresses = itertools.count(1)


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


class Client(httpx.AsyncClient):
    def __init__(self, clock: Clock, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.clock = clock


@dataclass
class Identity:
    app: FastAPI
    clock: Clock
    keys: Path
    public: str

    def client(self, address: str | None = None, app: FastAPI | None = None) -> httpx.AsyncClient:
        """A client calling from ``address`` (a fresh one by default)."""
        address = address or fresh_address()
        transport = httpx.ASGITransport(app=app or self.app, client=(address, 40000))
        return Client(self.clock, transport=transport, base_url="http://identity")

    def verify(self, response: httpx.Response, at: datetime | None = None) -> Principal:
        assert response.status_code == 200, response.text
        token = response.json()["access_token"]
        return TokenVerifier(self.public).verify(token, at or self.clock())


def fresh_address() -> str:
    n = next(_addresses)
    return f"10.{uuid.uuid4().int % 200}.{n // 250}.{n % 250 + 1}"


@pytest.fixture(scope="module")
async def identity(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Identity]:
    keys = tmp_path_factory.mktemp("keys")
    clock = Clock()
    app = create_app(settings.model_copy(update={"jwt_key_dir": str(keys)}), clock=clock)
    async with app.router.lifespan_context(app):
        yield Identity(app, clock, keys, development_keys(keys)[1])


async def login(c: httpx.AsyncClient, username: str, password: str = PASSWORD) -> httpx.Response:
    return await c.post("/login", json={"username": username, "password": password})


def bearer(response: httpx.Response, token: str = "access_token") -> dict[str, str]:
    """The header that sends the answer's access token (or its ``refresh_token``)."""
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()[token]}"}


_admin: dict[str, tuple[datetime, dict[str, str]]] = {}


async def admin(c: httpx.AsyncClient) -> dict[str, str]:
    """The demo admin's bearer header (one login per ten minutes of the app's clock)."""
    now = c.clock() if isinstance(c, Client) else datetime.now(UTC)
    if "admin" not in _admin or now - _admin["admin"][0] >= 10 * MINUTE:
        _admin["admin"] = (now, bearer(await login(c, "admin", DEMO_PASSWORD)))
    return _admin["admin"][1]


async def new_user(c: httpx.AsyncClient, roles: tuple[str, ...]) -> tuple[str, str]:
    """(user id, username) of a fresh user with ``roles`` and the password PASSWORD."""
    username = f"u{uuid.uuid4().hex[:10]}"
    created = await c.post(
        "/users",
        headers=await admin(c),
        json={
            "username": username,
            "password": PASSWORD,
            "full_name": f"Pegawai {username}",
            "opd": "DISKOMINFOSTANDI",
            "roles": list(roles),
        },
    )
    assert created.status_code == 201, created.text
    return created.json()["user"]["user_id"], username


def window(start: datetime, end: datetime, **fields: str) -> dict[str, str]:
    return {
        "role": "KADIS",
        "kind": "PLT",
        "valid_from": start.isoformat(),
        "valid_until": end.isoformat(),
        "reason": "Kadis cuti besar; Surat Perintah Bupati 800/45/BKPSDM/2024",
        **fields,
    }


# --- Delegation (Plt/Plh) ---------------------------------------------------------------------


async def test_a_delegate_holds_the_role_only_inside_the_window_and_no_token_outlives_it(
    identity: Identity,
) -> None:
    clock = identity.clock
    async with identity.client() as c:
        official_id, _ = await new_user(c, ("KADIS",))
        delegate_id, delegate = await new_user(c, ("KABID_TI",))
        start, end = clock() + HOUR, clock() + HOUR + 20 * MINUTE
        granted = await c.post(
            "/delegations",
            headers=await admin(c),
            json=window(start, end, delegate_user_id=delegate_id, official_user_id=official_id),
        )
        assert granted.status_code == 201, granted.text
        assert granted.json()["delegation"]["status"] == "scheduled"

        before = identity.verify(await login(c, delegate))
        assert before.delegations == () and not before.has_role("KADIS")

        clock.advance(HOUR + 10 * MINUTE)
        inside = await login(c, delegate)
        principal = identity.verify(inside)
        plt = OnBehalfOf(user_id=official_id, role="KADIS", kind="PLT")
        assert principal.delegations == (plt,) and principal.has_role("KADIS")
        actor = principal.acting_as("KADIS")
        assert (actor.user_id, actor.on_behalf_of) == (delegate_id, plt)
        token = inside.json()["access_token"]
        verifier = TokenVerifier(identity.public)
        assert verifier.claims(token, clock())["exp"] == int(end.timestamp())
        assert verifier.verify(token, now=end - timedelta(seconds=1)).delegations == (plt,)
        with pytest.raises(InvalidToken, match="Sesi Anda sudah berakhir"):
            verifier.verify(token, now=end)
        me = await c.get("/me", headers=bearer(inside))
        assert me.status_code == 200 and me.json()["delegations"] == [plt.model_dump()]

        clock.advance(11 * MINUTE)  # one minute past valid_until
        assert (await c.get("/me", headers=bearer(inside))).status_code == 401
        after = identity.verify(await login(c, delegate))
        assert after.delegations == () and not after.has_role("KADIS")
        listed = await c.get(
            "/delegations", headers=await admin(c), params={"user_id": delegate_id}
        )
        assert [d["status"] for d in listed.json()] == ["expired"]


async def test_an_ended_delegation_vanishes_from_new_tokens_and_its_events_name_both(
    identity: Identity, settings: Settings
) -> None:
    clock = identity.clock
    async with identity.client() as c:
        official_id, _ = await new_user(c, ("KADIS",))
        delegate_id, delegate = await new_user(c, ("TIM_PENGEMBANG",))
        granted = await c.post(
            "/delegations",
            headers=await admin(c),
            json=window(
                clock(),
                clock() + 3 * HOUR,
                kind="PLH",
                delegate_user_id=delegate_id,
                official_user_id=official_id,
            ),
        )
        assert granted.status_code == 201, granted.text
        delegation_id = granted.json()["delegation"]["delegation_id"]
        held = await login(c, delegate)
        assert identity.verify(held).delegations == (
            OnBehalfOf(user_id=official_id, role="KADIS", kind="PLH"),
        )
        claims = TokenVerifier(identity.public).claims(held.json()["access_token"], clock())
        assert claims["exp"] == int((clock() + 15 * MINUTE).timestamp())  # as every access token

        clock.advance(10 * MINUTE)
        ended = await c.post(
            f"/delegations/{delegation_id}/end",
            headers=await admin(c),
            json={"reason": "Kadis kembali bertugas lebih awal"},
        )
        assert ended.status_code == 200, ended.text
        assert ended.json()["delegation"]["status"] == "ended"
        assert identity.verify(await login(c, delegate)).delegations == ()
        refreshed = await c.post("/token/refresh", headers=bearer(held))
        assert identity.verify(refreshed).delegations == ()
        again = await c.post(
            f"/delegations/{delegation_id}/end", headers=await admin(c), json={"reason": "Dua kali"}
        )
        assert again.status_code == 409

    records = await read_topic(
        settings.kafka_login(ADMIN), "jejak.identity.events", expected=1, timeout=20
    )
    mine = [json.loads(r.value) for r in records if r.key == f"delegation-{delegation_id}".encode()]
    assert [e["event_type"] for e in mine] == ["DelegationGranted", "DelegationEnded"]
    assert mine[0]["payload"]["delegate_user_id"] == delegate_id
    assert mine[0]["payload"]["official_user_id"] == official_id
    assert mine[0]["payload"]["kind"] == "PLH"
    assert all(e["actor"]["role"] == "ADMIN" for e in mine)


async def test_refresh_brings_a_delegation_that_began_after_login_within_the_same_session(
    identity: Identity,
) -> None:
    clock = identity.clock
    async with identity.client() as c:
        official_id, _ = await new_user(c, ("KABID_TI",))
        delegate_id, delegate = await new_user(c, ("TIM_PENGEMBANG",))
        granted = await c.post(
            "/delegations",
            headers=await admin(c),
            json=window(
                clock() + 30 * MINUTE,
                clock() + 30 * HOUR,
                role="KABID_TI",
                kind="PLH",
                delegate_user_id=delegate_id,
                official_user_id=official_id,
            ),
        )
        assert granted.status_code == 201, granted.text
        first = await login(c, delegate)
        assert identity.verify(first).delegations == ()
        auth_time = TokenVerifier(identity.public).claims(first.json()["access_token"], clock())[
            "auth_time"
        ]

        clock.advance(HOUR)
        assert (await c.post("/token/refresh", headers=bearer(first))).status_code == 401
        renew = bearer(first, "refresh_token")
        refreshed = await c.post("/token/refresh", headers=renew)
        assert identity.verify(refreshed).delegations == (
            OnBehalfOf(user_id=official_id, role="KABID_TI", kind="PLH"),
        )
        claims = TokenVerifier(identity.public).claims(refreshed.json()["access_token"], clock())
        assert claims["auth_time"] == auth_time

        for _ in range(11):  # refreshed hourly, the session still ends 12 h after the password
            clock.advance(HOUR - MINUTE)
            refreshed = await c.post("/token/refresh", headers=renew)
            assert identity.verify(refreshed).has_role("KABID_TI")
        last = TokenVerifier(identity.public).claims(refreshed.json()["access_token"], clock())
        assert last["exp"] == auth_time + 12 * 3600
        clock.advance(11 * MINUTE)
        assert (await c.post("/token/refresh", headers=renew)).status_code == 401
        assert (await c.post("/token/refresh")).status_code == 401


async def test_a_revoked_role_stops_working_within_an_access_tokens_life(
    identity: Identity,
) -> None:
    """Access tokens live 15 minutes (ACCESS_TOKEN_MINUTES); a refresh reads the roles again,
    and a refresh token is no access token."""
    clock = identity.clock
    async with identity.client() as c:
        user_id, username = await new_user(c, ("ADMIN",))
        signed_in = await login(c, username)
        old = bearer(signed_in)
        assert (await c.get("/users", headers=old)).status_code == 200
        renew = bearer(signed_in, "refresh_token")
        assert (await c.get("/users", headers=renew)).status_code == 401
        revoked = await c.post(
            f"/users/{user_id}/roles/revoke",
            headers={**await admin(c), "Idempotency-Key": str(uuid.uuid4())},
            json={"role": "ADMIN", "reason": "Pindah tugas"},
        )
        assert revoked.status_code == 200, revoked.text
        renewed = await c.post("/token/refresh", headers=renew)
        assert not identity.verify(renewed).has_role("ADMIN")
        assert (await c.get("/users", headers=bearer(renewed))).status_code == 403
        clock.advance(15 * MINUTE)
        assert (await c.get("/users", headers=old)).status_code == 401
        again = await c.post("/token/refresh", headers=renew)
        assert (await c.get("/users", headers=bearer(again))).status_code == 403


async def test_delegations_are_granted_only_by_admin_for_a_role_the_official_holds(
    identity: Identity,
) -> None:
    clock = identity.clock
    async with identity.client() as c:
        official_id, official = await new_user(c, ("KADIS",))
        delegate_id, delegate = await new_user(c, ("KABID_TI",))
        _, other = await new_user(c, ("TIM_PENGEMBANG",))
        pair = {"delegate_user_id": delegate_id, "official_user_id": official_id}
        body = window(clock(), clock() + 8 * HOUR, **pair)
        admin_headers = await admin(c)

        for username in (official, delegate, "auditor", "kabid.ti"):
            password = PASSWORD if username in (official, delegate) else DEMO_PASSWORD
            headers = bearer(await login(c, username, password))
            assert (await c.post("/delegations", headers=headers, json=body)).status_code == 403
        listed = await c.get("/delegations", headers=admin_headers, params={"user_id": official_id})
        assert listed.json() == []

        not_held = await c.post(
            "/delegations", headers=admin_headers, json={**body, "role": "KABID_TI"}
        )
        assert not_held.status_code == 422 and not_held.json()["field"] == "role"
        too_long = await c.post(
            "/delegations",
            headers=admin_headers,
            json=window(clock(), clock() + timedelta(days=120), **pair),
        )
        assert too_long.status_code == 422 and too_long.json()["field"] == "valid_until"
        past = await c.post(
            "/delegations",
            headers=admin_headers,
            json=window(clock() - 3 * HOUR, clock() - HOUR, **pair),
        )
        assert past.status_code == 422
        naive = await c.post(
            "/delegations",
            headers=admin_headers,
            json={**body, "valid_from": "2024-03-04T08:00:00", "kind": "WAKIL"},
        )
        assert naive.status_code == 422
        assert {e["field"] for e in naive.json()["errors"]} == {"body.valid_from", "body.kind"}

        assert (await c.post("/delegations", headers=admin_headers, json=body)).status_code == 201
        overlap = await c.post(
            "/delegations",
            headers=admin_headers,
            json=window(
                clock() + HOUR,
                clock() + 20 * HOUR,
                delegate_user_id=(await new_user(c, ()))[0],
                official_user_id=official_id,
            ),
        )
        assert overlap.status_code == 409, overlap.text

        auditor = bearer(await login(c, "auditor", DEMO_PASSWORD))
        seen = await c.get("/delegations", headers=auditor, params={"user_id": official_id})
        assert [d["delegate_user_id"] for d in seen.json()] == [delegate_id]
        one = seen.json()[0]["delegation_id"]
        mine = bearer(await login(c, delegate))
        assert (await c.get(f"/delegations/{one}", headers=mine)).status_code == 200
        assert (await c.get("/delegations", headers=mine)).status_code == 403
        stranger = bearer(await login(c, other))
        assert (await c.get(f"/delegations/{one}", headers=stranger)).status_code == 403


# --- Token expiry -----------------------------------------------------------------------------


async def test_an_expired_token_is_refused_with_401(identity: Identity) -> None:
    private, _ = development_keys(identity.keys)
    principal = Principal(user_id="u-x", name="X", roles=frozenset({"ADMIN"}))
    old = TokenIssuer(private).issue(principal, identity.clock() - 9 * HOUR)
    async with identity.client() as c:
        answer = await c.get("/me", headers={"Authorization": f"Bearer {old}"})
        assert answer.status_code == 401
        assert answer.json()["message"] == "Sesi Anda sudah berakhir: masuk lagi."
        assert answer.headers["www-authenticate"] == "Bearer"
        fresh = bearer(await login(c, "auditor", DEMO_PASSWORD))
        assert (await c.get("/me", headers=fresh)).status_code == 200
        identity.clock.advance(8 * HOUR)
        assert (await c.get("/me", headers=fresh)).status_code == 401
        forged = TokenIssuer(generate_key_pair()[0]).issue(principal, identity.clock())
        forged_headers = {"Authorization": f"Bearer {forged}"}
        assert (await c.get("/me", headers=forged_headers)).status_code == 401
        ghost = TokenIssuer(private).issue(principal, identity.clock())  # no such user
        ghost_headers = {"Authorization": f"Bearer {ghost}"}
        assert (await c.post("/token/refresh", headers=ghost_headers)).status_code == 401


# --- Login throttling -------------------------------------------------------------------------


async def test_five_failures_lock_the_account_even_against_the_right_password(
    identity: Identity,
) -> None:
    async with identity.client() as c:
        _, username = await new_user(c, ("PEMOHON",))
        for _ in range(5):
            assert (await login(c, username, "salah-tebak")).status_code == 401
        locked = await login(c, username)
        assert locked.status_code == 429
        assert locked.headers["retry-after"] == "900"
        assert "dikunci sementara" in locked.json()["message"]
        assert locked.json()["retry_after"] == 900
        identity.clock.advance(10 * MINUTE)
        still = await login(c, username)
        assert still.status_code == 429 and still.headers["retry-after"] == "300"
        identity.clock.advance(5 * MINUTE)
        identity.verify(await login(c, username))


async def test_a_success_resets_the_username_count(identity: Identity) -> None:
    async with identity.client() as c:
        _, username = await new_user(c, ("PEMOHON",))
        for _ in range(2):
            for _ in range(4):
                assert (await login(c, username, "salah-tebak")).status_code == 401
            identity.verify(await login(c, username))


async def test_the_account_lock_holds_from_every_address_and_for_unknown_names_too(
    identity: Identity,
) -> None:
    async with identity.client() as c:
        _, username = await new_user(c, ("PEMOHON",))
    for name in (username, f"tidak-ada-{uuid.uuid4().hex[:8]}"):
        for _ in range(5):
            async with identity.client() as elsewhere:  # a new address each time
                assert (await login(elsewhere, name, "salah-tebak")).status_code == 401
        async with identity.client() as elsewhere:
            locked = await login(elsewhere, name)
            assert locked.status_code == 429 and "akun ini" in locked.json()["message"]


async def test_guesses_sent_at_once_are_counted_one_by_one(identity: Identity) -> None:
    async with identity.client() as c:
        _, username = await new_user(c, ("PEMOHON",))
        answers = await asyncio.gather(*(login(c, username, "salah-tebak") for _ in range(12)))
    codes = sorted(a.status_code for a in answers)
    assert codes == [401] * 5 + [429] * 7


async def test_an_address_with_twenty_failures_is_throttled_for_every_username(
    identity: Identity,
) -> None:
    address = fresh_address()
    async with identity.client() as c:
        _, username = await new_user(c, ("PEMOHON",))
    async with identity.client(address) as c:
        for i in range(20):
            assert (await login(c, f"tebakan{i}-{uuid.uuid4().hex[:6]}")).status_code == 401
        throttled = await login(c, username)
        assert throttled.status_code == 429 and "alamat" in throttled.json()["message"]
        assert int(throttled.headers["retry-after"]) == 900
    async with identity.client() as elsewhere:
        identity.verify(await login(elsewhere, username))
    identity.clock.advance(15 * MINUTE)
    async with identity.client(address) as c:
        identity.verify(await login(c, username))


async def test_the_lock_is_kept_in_postgresql_and_holds_on_another_replica(
    identity: Identity, settings: Settings
) -> None:
    async with identity.client() as c:
        _, username = await new_user(c, ("PEMOHON",))
        for _ in range(5):
            assert (await login(c, username, "salah-tebak")).status_code == 401
    replica = create_app(
        settings.model_copy(update={"jwt_key_dir": str(identity.keys)}), clock=identity.clock
    )
    async with replica.router.lifespan_context(replica), identity.client(app=replica) as c:
        assert (await login(c, username)).status_code == 429
        identity.clock.advance(15 * MINUTE)
        identity.verify(await login(c, username))


# --- Production mode --------------------------------------------------------------------------


def production(tmp_path: Path, **changes: object) -> Settings:
    private, public = generate_key_pair()
    fields: dict[str, object] = {
        "environment": "production",
        "jwt_private_key": private,
        "jwt_public_key": public,
        "app_db_password": "a-long-production-secret",
        "kafka_sasl_password": "identity-s-own-kafka-secret",
        "jwt_key_dir": str(tmp_path),
        "checkpoint_signing_key": generate_key_pair()[0],
    }
    return Settings.model_validate({**fields, **changes})


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"jwt_private_key": None}, "JWT_PRIVATE_KEY is not set"),
        ({"jwt_public_key": None}, "JWT_PUBLIC_KEY is not set"),
        ({"app_db_password": "jejak-dev"}, "APP_DB_PASSWORD is the development default"),
        ({"jwt_public_key": generate_key_pair()[1]}, "not one Ed25519 key pair"),
    ],
)
def test_production_identity_refuses_to_start_with_missing_or_default_secrets(
    tmp_path: Path, changes: dict[str, object], problem: str
) -> None:
    with pytest.raises(ProductionConfigError, match=problem):
        create_app(production(tmp_path, **changes))
    assert not (tmp_path / "jwt-private.pem").exists()  # no development key was made


def test_production_identity_refuses_the_development_keys_and_demo_seeding(
    tmp_path: Path,
) -> None:
    private, public = development_keys(tmp_path)
    with pytest.raises(ProductionConfigError, match="JWT_PRIVATE_KEY is the development key"):
        create_app(production(tmp_path, jwt_private_key=private, jwt_public_key=public))
    with pytest.raises(ProductionConfigError, match="demo users seeding"):
        create_app(production(tmp_path / "elsewhere"), seed_demo=True)
    create_app(production(tmp_path / "elsewhere"))  # right: builds, seeds nothing
    create_app(Settings(jwt_key_dir=str(tmp_path)))  # development needs none of it


def test_other_services_refuse_production_without_the_public_key(tmp_path: Path) -> None:
    settings = production(tmp_path, jwt_private_key=None, jwt_public_key=None)
    with pytest.raises(ProductionConfigError, match="JWT_PUBLIC_KEY is not set"):
        settings.check_production()
    production(tmp_path, jwt_private_key=None).check_production()


async def test_production_identity_refuses_to_run_while_demo_accounts_keep_the_demo_password(
    identity: Identity, settings: Settings, tmp_path: Path
) -> None:
    user, password = f"jejak-identity-{tmp_path.name[-8:]}", "a-production-kafka-secret"
    add_user(settings.kafka_login(ADMIN), user, password, grants_of("identity"))
    live = production(
        tmp_path,
        database_url=settings.database_url,
        kafka_bootstrap_servers=settings.kafka_bootstrap_servers,
        kafka_sasl_username=user,
        kafka_sasl_password=password,
        log_format="console",
    )
    app = create_app(live)
    with pytest.raises(ProductionConfigError, match=r"demo password: .*admin"):
        async with app.router.lifespan_context(app):
            pass


async def test_each_further_lock_of_an_account_lasts_longer_until_a_success(
    identity: Identity,
) -> None:
    async with identity.client() as c:
        _, username = await new_user(c, ("PEMOHON",))
        for lock in (900, 1800, 3600):
            for _ in range(5):
                assert (await login(c, username, "salah-tebak")).status_code == 401
            locked = await login(c, username)
            assert locked.status_code == 429 and locked.headers["retry-after"] == str(lock)
            identity.clock.advance(timedelta(seconds=lock))
        identity.verify(await login(c, username))  # a success starts the escalation over
        for _ in range(5):
            assert (await login(c, username, "salah-tebak")).status_code == 401
        assert (await login(c, username)).headers["retry-after"] == "900"
        identity.clock.advance(15 * MINUTE)


async def test_an_admin_unlocks_an_account_and_nobody_else_may(
    identity: Identity, settings: Settings
) -> None:
    async with identity.client() as c:
        user_id, username = await new_user(c, ("PEMOHON",))
        _, kadis = await new_user(c, ("KADIS",))
        for served in (15, 30):  # two locks served: the next lasts 60 minutes
            for _ in range(5):
                assert (await login(c, username, "salah-tebak")).status_code == 401
            identity.clock.advance(served * MINUTE)
        for _ in range(5):
            assert (await login(c, username, "salah-tebak")).status_code == 401
        assert (await login(c, username)).headers["retry-after"] == "3600"

        shown = await c.get(f"/users/{user_id}", headers=await admin(c))
        assert shown.json()["login_locked_until"] == (identity.clock() + HOUR).isoformat()
        url = f"/users/{user_id}/unlock"
        refused = await c.post(url, headers=bearer(await login(c, kadis)))
        assert refused.status_code == 403
        assert (await login(c, username)).status_code == 429  # still locked
        unlocked = await c.post(url, headers=await admin(c))
        assert unlocked.status_code == 200, unlocked.text
        [event_id] = unlocked.json()["event_ids"]
        identity.verify(await login(c, username))
        shown = await c.get(f"/users/{user_id}", headers=await admin(c))
        assert shown.json()["login_locked_until"] is None
        nothing = await c.post(url, headers=await admin(c))  # nothing counted: nothing to do
        assert (nothing.status_code, nothing.json()["event_ids"]) == (200, [])
        for _ in range(5):  # the escalation was forgotten too
            assert (await login(c, username, "salah-tebak")).status_code == 401
        assert (await login(c, username)).headers["retry-after"] == "900"
        identity.clock.advance(15 * MINUTE)
        missing = await c.post("/users/u-tidak-ada/unlock", headers=await admin(c))
        assert missing.status_code == 404

    records = await read_topic(
        settings.kafka_login(ADMIN), "jejak.identity.events", expected=1, timeout=20
    )
    [event] = [e for r in records if (e := json.loads(r.value))["event_id"] == event_id]
    assert event["event_type"] == "LoginUnlocked" and event["actor"]["role"] == "ADMIN"
    assert (event["payload"]["user_id"], event["payload"]["failures"]) == (user_id, 5)
    assert event["payload"]["locked_until"] is not None


async def test_guesses_from_one_address_at_once_are_checked_and_counted_one_by_one(
    identity: Identity,
) -> None:
    """The address's row is locked before it is checked: 30 guesses at once at 30 usernames
    from one address let exactly 20 reach a password check."""
    async with identity.client() as c:
        answers = await asyncio.gather(
            *(login(c, f"tebakan{i}-{uuid.uuid4().hex[:6]}") for i in range(30))
        )
    codes = sorted(a.status_code for a in answers)
    assert codes == [401] * 20 + [429] * 10
    identity.clock.advance(15 * MINUTE)
