"""Reporting's notifications over HTTP on the real PostgreSQL: the list, read marks, and the
Server-Sent Events stream served by uvicorn on a loopback port (httpx's ASGITransport would
buffer the stream), with a client that disconnects and resumes from its last event id; the
stream ends with its token, with a revoked role or an ended delegation, and is capped per
user."""

import asyncio
import contextlib
import datetime as dt
import json
import shutil
import socket
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from events.base import DomainEvent
from events.envelope import GENESIS_HASH, Actor, Envelope, NewEvent, OnBehalfOf, Role
from events.identity import DelegationEnded, DelegationGranted, RoleRevoked
from infra.auth import TokenIssuer, TokenVerifier, development_keys
from infra.db import create_pool
from infra.eventstore.contract import seal_all
from infra.http import bearer_dependency, install_error_handlers
from infra.metrics import SSE_CONNECTIONS
from infra.migrations import migrate
from infra.principal import Principal
from infra.settings import Settings
from services.reporting.grants_store import project_grants
from services.reporting.notifications import Addressee, Notice, store_notices
from services.reporting.notifications_api import NotificationsRouter, build_notifications_router
from tests.kafka_helpers import eventually

SQL_DIR = Path(__file__).parents[2] / "services" / "reporting" / "sql"
SQL = [SQL_DIR / "0120_notifications.sql", SQL_DIR / "0170_stream_grants.sql"]
RECHECK_SECONDS = 0.5
STREAMS_PER_USER = 3
OPD_A, OPD_B = "DINKES", "DISDIK"

KADIS = Principal(user_id="u-kadis", name="Kadis", roles=frozenset({"KADIS"}), opd="DISKOMINFO")
OTHER_KADIS = Principal(user_id="u-kadis-2", name="Kadis 2", roles=frozenset({"KADIS"}))
PLT_KADIS = Principal(
    user_id="u-sekdis",
    name="Sekdis",
    roles=frozenset({"KABID_TI"}),
    opd="DISKOMINFO",
    delegations=(OnBehalfOf(user_id="u-kadis", role="KADIS", kind="PLT"),),
)
KABID = Principal(user_id="u-kabid", name="Kabid", roles=frozenset({"KABID_TI"}))
REQUESTER_A = Principal(user_id="u-req-a", name="A", roles=frozenset({"PEMOHON"}), opd=OPD_A)
REQUESTER_B = Principal(user_id="u-req-b", name="B", roles=frozenset({"PEMOHON"}), opd=OPD_B)
DEV_1 = Principal(user_id="dev-1", name="Dev 1", roles=frozenset({"TIM_PENGEMBANG"}))
DEV_3 = Principal(user_id="dev-3", name="Dev 3", roles=frozenset({"TIM_PENGEMBANG"}))


def notice(role: Role, opd: str | None = None, user_id: str | None = None) -> Notice:
    request_id = str(uuid.uuid4())
    return Notice(
        notice_id=uuid.uuid4(),
        kind="ACTION",
        addressee=Addressee(role=role, opd=opd, user_id=user_id),
        request_id=request_id,
        step="DISPOSE",
        message=f"Permohonan {request_id} menunggu disposisi Anda (langkah 3).",
        created_at=dt.datetime.now(dt.UTC),
        event_id=uuid.uuid4(),
    )


class EventStream:
    """An open SSE response, parsed by a background reader into a queue of events."""

    def __init__(self, response: httpx.Response) -> None:
        self.events: asyncio.Queue[dict[str, str]] = asyncio.Queue()
        self.pings = 0
        self.task = asyncio.create_task(self._read(response))

    async def _read(self, response: httpx.Response) -> None:
        fields: dict[str, str] = {}
        async for line in response.aiter_lines():
            if not line:
                if fields:
                    await self.events.put(fields)
                fields = {}
            elif line.startswith(":"):
                self.pings += 1
            else:
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                fields[name] = f"{fields[name]}\n{value}" if name in fields else value

    async def next(self, timeout: float = 5.0) -> dict[str, str]:
        async with asyncio.timeout(timeout):
            return await self.events.get()

    async def notices(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """The next ``count`` notices, each as its JSON with the event id beside it."""
        found = []
        for _ in range(count):
            event = await self.next(timeout)
            assert event["event"] == "notice", event
            data = json.loads(event["data"])
            assert event["id"] == str(data["seq"])
            found.append(data)
        return found

    async def quiet(self, seconds: float = 0.6) -> bool:
        """True if no event arrives within ``seconds``."""
        with contextlib.suppress(TimeoutError):
            await self.next(seconds)
            return False
        return True


@dataclass
class Harness:
    client: httpx.AsyncClient
    pool: asyncpg.Pool
    schema: str
    issuer: TokenIssuer
    router: NotificationsRouter
    private_key: str

    def headers(self, who: Principal, token: str | None = None, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.issuer.issue(who)}", **extra}

    async def store(self, *notices: Notice) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await store_notices(conn, self.schema, list(notices))

    async def seq_of(self, stored: Notice) -> int:
        return int(
            await self.pool.fetchval(
                f"SELECT seq FROM {self.schema}.notices WHERE notice_id = $1", stored.notice_id
            )
        )

    async def listing(self, who: Principal, **params: Any) -> dict[str, Any]:
        answer = await self.client.get("/notifications", params=params, headers=self.headers(who))
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result

    @contextlib.asynccontextmanager
    async def stream(
        self,
        who: Principal,
        last_event_id: str | None = None,
        token: str | None = None,
        **params: Any,
    ) -> AsyncIterator[EventStream]:
        extra = {} if last_event_id is None else {"Last-Event-ID": last_event_id}
        async with self.client.stream(
            "GET", "/notifications/stream", params=params, headers=self.headers(who, token, **extra)
        ) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            events = EventStream(response)
            try:
                yield events
            finally:
                events.task.cancel()
                with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                    await events.task

    async def stream_closed(self) -> bool:
        hub = self.router.hub

        async def closed() -> bool:
            return hub.subscribers == 0 and not hub.running

        return bool(await eventually(closed, timeout=5))


@pytest.fixture(scope="module")
async def harness(
    settings: Settings, owner_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Harness]:
    schema = "t" + uuid.uuid4().hex[:12]
    sql_dir = tmp_path_factory.mktemp("sql")
    for file in SQL:
        shutil.copy(file, sql_dir / file.name)
    await migrate(
        owner_settings.database_url,
        schema,
        settings.app_role(schema),
        settings.app_db_password,
        sql_dir,
    )
    private, public = development_keys(tmp_path_factory.mktemp("keys"))
    verifier = TokenVerifier(public)
    pool = await create_pool(settings.app_url(schema), max_size=10)
    router = build_notifications_router(
        pool,
        schema,
        bearer_dependency(lambda: verifier),
        ping_seconds=0.3,
        recheck_seconds=RECHECK_SECONDS,
        streams_per_user=STREAMS_PER_USER,
    )
    assert isinstance(router, NotificationsRouter)
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(router)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, lifespan="off", log_level="warning", ws="none", timeout_graceful_shutdown=5
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        assert await eventually(lambda: _started(server), timeout=10)
        timeout = httpx.Timeout(10.0)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=timeout) as c:
            yield Harness(c, pool, schema, TokenIssuer(private), router, private)
    finally:
        server.should_exit = True
        await serving
        sock.close()
        await pool.close()


async def _started(server: uvicorn.Server) -> bool:
    return bool(server.started)


async def test_a_client_gets_its_notices_live_and_resumes_without_gaps_or_repeats(
    harness: Harness,
) -> None:
    async with harness.stream(KADIS) as stream:
        ready = await stream.next()
        assert ready["event"] == "ready"
        assert ready["retry"] == "2000"
        start = int(ready["id"])

        async def listening() -> bool:
            return harness.router.hub.listening

        assert await eventually(listening, timeout=5), "no LISTEN: the stream would only poll"

        mine = [notice("KADIS"), notice("KADIS"), notice("KADIS", user_id="u-kadis")]
        elsewhere = [notice("KABID_TI"), notice("KADIS", user_id="u-kadis-2")]
        for n in (mine[0], elsewhere[0], mine[1], elsewhere[1], mine[2]):
            stored_at = time.monotonic()
            await harness.store(n)
            if n in mine:
                [got] = await stream.notices(1, timeout=2.0)
                latency = time.monotonic() - stored_at
                assert latency < 1.0, "not pushed within a second"
                assert got["notice_id"] == str(n.notice_id)
                assert got["read"] is False
        assert await stream.quiet()
        last_id = await harness.seq_of(mine[-1])
        assert start < await harness.seq_of(mine[0]) < last_id
    assert await harness.stream_closed(), "the stream did not end on disconnect"

    missed = [notice("KADIS") for _ in range(3)]
    await harness.store(missed[0])
    await harness.store(notice("KABID_TI"), missed[1])
    await harness.store(missed[2])

    async with harness.stream(KADIS, last_event_id=str(last_id)) as stream:
        ready = await stream.next()
        assert (ready["event"], ready["id"]) == ("ready", str(last_id))
        again = await stream.notices(3)
        assert [g["notice_id"] for g in again] == [str(n.notice_id) for n in missed]
        seqs = [g["seq"] for g in again]
        assert seqs == sorted(seqs) and seqs[0] > last_id
        live = notice("KADIS")
        await harness.store(live)
        [got] = await stream.notices(1)
        assert got["notice_id"] == str(live.notice_id)
        assert await stream.quiet(), "a notice was sent twice"

    # ?after= resumes the same way (the header wins when both are given)
    async with harness.stream(KADIS, after=last_id) as stream:
        await stream.next()
        resumed = await stream.notices(4)
        assert [g["notice_id"] for g in resumed] == [str(n.notice_id) for n in [*missed, live]]
        assert await stream.quiet()
    async with harness.stream(KADIS, last_event_id=str(seqs[-1]), after=0) as stream:
        await stream.next()
        [only] = await stream.notices(1)
        assert only["notice_id"] == str(live.notice_id)
    assert await harness.stream_closed()


async def test_open_streams_are_counted_in_the_metrics(harness: Harness) -> None:
    streams = SSE_CONNECTIONS.labels("reporting")
    before = streams._value.get()

    async def counted(n: float) -> bool:
        return bool(streams._value.get() == n)

    async with harness.stream(KADIS) as stream:
        assert (await stream.next())["event"] == "ready"
        assert await eventually(lambda: counted(before + 1), timeout=5)
    assert await harness.stream_closed()
    assert await eventually(lambda: counted(before), timeout=5)


async def test_a_requester_sees_only_its_own_opds_notices(harness: Harness) -> None:
    for_a, for_b = notice("PEMOHON", opd=OPD_A), notice("PEMOHON", opd=OPD_B)
    await harness.store(for_a, for_b)
    after = await harness.seq_of(for_a) - 1

    async with harness.stream(REQUESTER_B, after=after) as stream:
        await stream.next()
        [first] = await stream.notices(1)
        assert first["notice_id"] == str(for_b.notice_id)  # for_a has the lower seq
        assert first["addressee"] == {"role": "PEMOHON", "opd": OPD_B, "user_id": None}
    async with harness.stream(REQUESTER_A, after=after) as stream:
        await stream.next()
        [first] = await stream.notices(1)
        assert first["notice_id"] == str(for_a.notice_id)
        assert await stream.quiet()

    seen_by_b = {i["notice_id"] for i in (await harness.listing(REQUESTER_B))["items"]}
    seen_by_a = {i["notice_id"] for i in (await harness.listing(REQUESTER_A))["items"]}
    assert str(for_b.notice_id) in seen_by_b and str(for_a.notice_id) not in seen_by_b
    assert str(for_a.notice_id) in seen_by_a and str(for_b.notice_id) not in seen_by_a
    kadis = {i["notice_id"] for i in (await harness.listing(KADIS))["items"]}
    assert str(for_a.notice_id) not in kadis


async def test_plt_and_team_members_get_theirs_and_nobody_elses(harness: Harness) -> None:
    to_kadis = notice("KADIS")
    to_dev_1 = notice("TIM_PENGEMBANG", user_id="dev-1")
    to_team = notice("TIM_PENGEMBANG")  # a team not named yet: the whole role
    await harness.store(to_kadis, to_dev_1, to_team)

    def ids(listing: dict[str, Any]) -> set[str]:
        return {i["notice_id"] for i in listing["items"]}

    plt = ids(await harness.listing(PLT_KADIS))
    assert str(to_kadis.notice_id) in plt  # as Plt KADIS
    assert str(to_dev_1.notice_id) not in plt
    assert str(to_kadis.notice_id) not in ids(await harness.listing(KABID))
    assert {str(to_dev_1.notice_id), str(to_team.notice_id)} <= ids(await harness.listing(DEV_1))
    dev_3 = ids(await harness.listing(DEV_3))
    assert str(to_team.notice_id) in dev_3 and str(to_dev_1.notice_id) not in dev_3


async def test_marking_read_removes_a_notice_from_the_unread_list(harness: Harness) -> None:
    target, other = notice("KADIS"), notice("KADIS")
    await harness.store(target, other)
    unread = await harness.listing(KADIS, unread="true")
    assert str(target.notice_id) in {i["notice_id"] for i in unread["items"]}
    assert unread["last_seq"] >= await harness.seq_of(other)
    newest_first = [i["seq"] for i in unread["items"]]
    assert newest_first == sorted(newest_first, reverse=True)

    url = f"/notifications/{target.notice_id}/read"
    marked = await harness.client.post(url, headers=harness.headers(KADIS))
    assert marked.status_code == 200, marked.text
    assert (marked.json()["read"], marked.json()["notice_id"]) == (True, str(target.notice_id))
    again = await harness.client.post(url, headers=harness.headers(KADIS))
    assert again.status_code == 200 and again.json()["read_at"] == marked.json()["read_at"]

    after = await harness.listing(KADIS, unread="true")
    assert str(target.notice_id) not in {i["notice_id"] for i in after["items"]}
    assert str(other.notice_id) in {i["notice_id"] for i in after["items"]}
    assert after["unread"] == unread["unread"] - 1
    everything = await harness.listing(KADIS)
    [seen] = [i for i in everything["items"] if i["notice_id"] == str(target.notice_id)]
    assert seen["read"] is True
    # read marks are per user: another KADIS still has it unread
    theirs = await harness.listing(OTHER_KADIS, unread="true")
    assert str(target.notice_id) in {i["notice_id"] for i in theirs["items"]}

    someone_elses = await harness.client.post(url, headers=harness.headers(REQUESTER_A))
    assert someone_elses.status_code == 404
    unknown = f"/notifications/{uuid.uuid4()}/read"
    assert (await harness.client.post(unknown, headers=harness.headers(KADIS))).status_code == 404
    assert (await harness.client.post(url)).status_code == 401


async def test_the_list_pages_backwards_by_seq(harness: Harness) -> None:
    batch = [notice("KABID_TI", user_id="u-pager") for _ in range(5)]
    await harness.store(*batch)
    pager = Principal(user_id="u-pager", name="P", roles=frozenset({"ADMIN"}))
    first = await harness.listing(pager, limit=2)
    assert [i["notice_id"] for i in first["items"]] == [str(n.notice_id) for n in batch[:2:-1]]
    second = await harness.listing(pager, limit=2, before=first["items"][-1]["seq"])
    assert [i["notice_id"] for i in second["items"]] == [str(n.notice_id) for n in batch[2:0:-1]]


async def test_storing_is_idempotent_and_seq_follows_commit_order(harness: Harness) -> None:
    first, second = notice("KABID_TI"), notice("KABID_TI")
    await harness.store(first)
    await harness.store(first)  # a redelivery or a replay: kept once
    count = await harness.pool.fetchval(
        f"SELECT count(*) FROM {harness.schema}.notices WHERE notice_id = $1", first.notice_id
    )
    assert count == 1

    start = await harness.seq_of(first)
    async with harness.stream(KABID, after=start) as stream:
        await stream.next()
        async with harness.pool.acquire() as slow:
            transaction = slow.transaction()
            await transaction.start()
            late = notice("KABID_TI")
            await store_notices(slow, harness.schema, [late])
            overtaking = asyncio.create_task(harness.store(second))
            await asyncio.sleep(0.5)
            assert not overtaking.done(), "a later transaction took a seq and committed first"
            assert await stream.quiet(0.2)
            await transaction.commit()
            await overtaking
        got = await stream.notices(2)
        assert [g["notice_id"] for g in got] == [str(late.notice_id), str(second.notice_id)]
        assert got[0]["seq"] < got[1]["seq"]


async def test_a_stream_outlives_the_loss_of_the_listening_connection(
    harness: Harness, owner_conn: asyncpg.Connection
) -> None:
    hub = harness.router.hub

    async def listening() -> bool:
        return hub.listening

    async with harness.stream(KABID) as stream:
        await stream.next()
        assert await eventually(listening, timeout=5)
        killed = await owner_conn.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE query LIKE 'LISTEN %' AND query LIKE $1",
            f"%{hub.channel}%",
        )
        assert killed == 1
        lost = notice("KABID_TI")
        await harness.store(lost)
        [got] = await stream.notices(1, timeout=5)
        assert got["notice_id"] == str(lost.notice_id)
        assert await eventually(listening, timeout=5), "the hub did not listen again"
        fresh = notice("KABID_TI")
        stored_at = time.monotonic()
        await harness.store(fresh)
        [got] = await stream.notices(1, timeout=2)
        assert got["notice_id"] == str(fresh.notice_id)
        assert time.monotonic() - stored_at < 1.0
    assert await harness.stream_closed()


async def test_the_stream_sends_keep_alive_pings(harness: Harness) -> None:
    async with harness.stream(KABID) as stream:
        await stream.next()

        async def pinged() -> bool:
            return stream.pings >= 2

        assert await eventually(pinged, timeout=3)


async def test_a_bad_last_event_id_or_no_token_is_refused(harness: Harness) -> None:
    bad = await harness.client.get(
        "/notifications/stream", headers=harness.headers(KADIS, **{"Last-Event-ID": "abc"})
    )
    assert bad.status_code == 422
    assert bad.json()["field"] == "Last-Event-ID"
    negative = await harness.client.get(
        "/notifications/stream", params={"after": -1}, headers=harness.headers(KADIS)
    )
    assert negative.status_code == 422
    assert (await harness.client.get("/notifications/stream")).status_code == 401
    assert (await harness.client.get("/notifications")).status_code == 401


# --- The stream ends with its token (issue 17, item 1) -------------------------------------


def identity_envelope(stream_id: str, version: int, event: DomainEvent) -> Envelope:
    """``event`` as identity's relay publishes it, sealed in its stream, occurring now."""
    admin = Actor(user_id="u-admin", role="ADMIN")
    new = NewEvent.of(
        event, occurred_at=dt.datetime.now(dt.UTC), actor=admin, correlation_id=uuid.uuid4()
    )
    [envelope] = seal_all(stream_id, version - 1, GENESIS_HASH, [new])
    return envelope


async def project(harness: Harness, *envelopes: Envelope) -> None:
    """What reporting's consumer does with identity's envelopes (``Projector.handle_batch``)."""
    async with harness.pool.acquire() as conn, conn.transaction():
        await project_grants(conn, harness.schema, envelopes)


def someone(roles: frozenset[Role], **fields: Any) -> Principal:
    return Principal(user_id=f"u-{uuid.uuid4().hex[:8]}", name="Pegawai", roles=roles, **fields)


async def test_a_stream_closes_when_its_token_expires_and_resumes_with_a_fresh_one(
    harness: Harness, settings: Settings
) -> None:
    kabid = someone(frozenset({"KABID_TI"}))
    short = TokenIssuer(harness.private_key, ttl=dt.timedelta(seconds=2))
    token = short.issue(kabid)
    async with harness.stream(kabid, token=token) as stream:
        start = (await stream.next())["id"]
        first = notice("KABID_TI", user_id=kabid.user_id)
        await harness.store(first)
        [got] = await stream.notices(1)
        assert got["notice_id"] == str(first.notice_id)
        opened = time.monotonic()
        await asyncio.wait_for(asyncio.shield(stream.task), timeout=5)  # the server ended it
        assert 0.5 < time.monotonic() - opened < 3.5
        assert int(start) < got["seq"]
    assert await harness.stream_closed()
    missed = notice("KABID_TI", user_id=kabid.user_id)
    await harness.store(missed)
    expired = await harness.client.get(
        "/notifications/stream", headers=harness.headers(kabid, token)
    )
    assert expired.status_code == 401
    async with harness.stream(kabid, last_event_id=str(got["seq"])) as stream:
        assert (await stream.next())["id"] == str(got["seq"])
        [again] = await stream.notices(1)
        assert again["notice_id"] == str(missed.notice_id)
        assert await stream.quiet()


async def test_one_user_above_the_cap_of_open_streams_gets_429(harness: Harness) -> None:
    kadis = someone(frozenset({"KADIS"}))
    other = someone(frozenset({"KADIS"}))
    async with contextlib.AsyncExitStack() as open_streams:
        for _ in range(STREAMS_PER_USER):
            stream = await open_streams.enter_async_context(harness.stream(kadis))
            assert (await stream.next())["event"] == "ready"
        refused = await harness.client.get("/notifications/stream", headers=harness.headers(kadis))
        assert refused.status_code == 429
        assert "Terlalu banyak aliran notifikasi" in refused.json()["message"]
        async with harness.stream(other) as theirs:  # another user is not held back
            assert (await theirs.next())["event"] == "ready"
    assert await harness.stream_closed()

    async def given_back() -> bool:
        return harness.router.slots.held(kadis.user_id) == 0

    assert await eventually(given_back, timeout=5)
    async with harness.stream(kadis) as stream:
        assert (await stream.next())["event"] == "ready"


async def test_a_revoked_role_closes_the_stream_within_the_recheck_interval(
    harness: Harness,
) -> None:
    both = someone(frozenset({"KADIS", "KABID_TI"}))
    token = harness.issuer.issue(both)
    async with harness.stream(both, token=token) as stream:
        await stream.next()
        await project(
            harness,
            identity_envelope(
                f"user-{both.user_id}",
                3,
                RoleRevoked(user_id=both.user_id, role="KADIS", reason="Pindah tugas"),
            ),
        )
        revoked = time.monotonic()
        await asyncio.wait_for(asyncio.shield(stream.task), timeout=5)
        assert time.monotonic() - revoked < RECHECK_SECONDS + 1.5
    # the same token opens a stream again, which serves what the user still holds only
    for_kadis, for_kabid = notice("KADIS"), notice("KABID_TI")
    async with harness.stream(both, token=token) as stream:
        await stream.next()
        await harness.store(for_kadis, for_kabid)
        [got] = await stream.notices(1)
        assert got["notice_id"] == str(for_kabid.notice_id)
        assert await stream.quiet(RECHECK_SECONDS * 3), "KADIS's notice, or the stream closed"
        assert not stream.task.done()


async def test_an_ended_delegation_closes_the_stream_of_the_acting_official(
    harness: Harness,
) -> None:
    official = f"u-{uuid.uuid4().hex[:8]}"
    delegation_id = f"d-{uuid.uuid4().hex[:8]}"
    now = dt.datetime.now(dt.UTC)
    plh = someone(
        frozenset({"KABID_TI"}),
        delegations=(OnBehalfOf(user_id=official, role="KADIS", kind="PLH"),),
    )
    granted = DelegationGranted(
        delegation_id=delegation_id,
        delegate_user_id=plh.user_id,
        official_user_id=official,
        role="KADIS",
        kind="PLH",
        valid_from=now - dt.timedelta(hours=1),
        valid_until=now + dt.timedelta(days=2),
        reason="Kadis dinas luar; Surat Perintah 800/12/2026",
    )
    await project(harness, identity_envelope(f"delegation-{delegation_id}", 1, granted))
    token = harness.issuer.issue(plh)
    async with harness.stream(plh, token=token) as stream:
        await stream.next()
        as_kadis = notice("KADIS")
        await harness.store(as_kadis)
        [got] = await stream.notices(1)  # the delegation in force serves KADIS's notices
        assert got["notice_id"] == str(as_kadis.notice_id)
        assert await stream.quiet(RECHECK_SECONDS * 2) and not stream.task.done()
        ended = DelegationEnded(delegation_id=delegation_id, reason="Kadis kembali")
        await project(harness, identity_envelope(f"delegation-{delegation_id}", 2, ended))
        await asyncio.wait_for(asyncio.shield(stream.task), timeout=RECHECK_SECONDS + 1.5)
