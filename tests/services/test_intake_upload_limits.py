"""Uploads have limits (issue 17, item 8), on the real PostgreSQL and Kafka: an upload always
answers 201, per-user daily quotas, a cap on uploads in progress at once, and the periodic
removal of attachments no request references (and its race with a submit)."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import httpx
import pytest
import structlog
from structlog.testing import capture_logs

from events.intake import Attachment
from infra.db import create_pool
from infra.principal import Principal
from infra.settings import Settings
from services.intake import orphans
from services.intake.attachments import Attachments
from services.intake.config import IntakeConfig
from services.intake.orphans import OrphanSweep
from services.intake.quota import UploadLedger
from services.intake.upload_limits import DailyQuota
from tests.kafka_helpers import eventually
from tests.services.intake_client import Service, person, running_intake

LIMITS = IntakeConfig(
    upload_files_per_day=4,
    upload_bytes_per_day=10_000,
    uploads_at_once_per_user=2,
    uploads_at_once=3,
    orphan_days=30,
    orphan_sweep_seconds=0.2,
)
PDF = {"Content-Type": "application/pdf"}


def requester(opd: str = "DINKES") -> Principal:
    return person(f"u-{uuid.uuid4().hex[:10]}", "PEMOHON", opd=opd)


@pytest.fixture(scope="module")
async def svc(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Service]:
    async with running_intake(settings, tmp_path_factory.mktemp("keys"), LIMITS) as service:
        yield service


@pytest.fixture
async def app_pool(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    """intake's own least-privileged role, as the service connects."""
    pool = await create_pool(settings.app_url("intake"), max_size=4)
    yield pool
    await pool.close()


@pytest.fixture
def sweep_logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    with capture_logs() as captured:
        monkeypatch.setattr(orphans, "log", structlog.get_logger())
        yield captured


async def upload(svc: Service, who: Principal, content: bytes, **headers: str) -> httpx.Response:
    return await svc.post("/attachments", who, content=content, headers={**PDF, **headers})


async def test_an_upload_answers_the_same_whether_or_not_the_bytes_were_stored(
    svc: Service,
) -> None:
    content = b"%PDF-1.7 sudah ada " + uuid.uuid4().bytes
    first = await upload(svc, requester("DISDIK"), content)
    assert first.status_code == 201
    prober = requester()
    stored = await svc.post(
        "/attachments", prober, content=content, headers={"Content-Type": "text/plain"}
    )
    fresh_content = b"%PDF-1.7 belum ada " + uuid.uuid4().bytes
    fresh = await svc.post(
        "/attachments", prober, content=fresh_content, headers={"Content-Type": "text/plain"}
    )
    assert stored.status_code == fresh.status_code == 201
    assert stored.json() == {**first.json(), "media_type": "text/plain"}
    assert set(stored.json()) == set(fresh.json())
    assert fresh.json()["media_type"] == "text/plain"
    assert sorted(stored.headers.keys()) == sorted(fresh.headers.keys())


async def test_each_user_has_a_daily_quota_of_files_and_bytes(
    svc: Service, owner_conn: asyncpg.Connection
) -> None:
    busy, other = requester(), requester()
    keyed = await upload(
        svc, busy, b"berkas kunci " + uuid.uuid4().bytes, **{"Idempotency-Key": "q1"}
    )
    assert keyed.status_code == 201
    for i in range(3):
        assert (await upload(svc, busy, f"berkas {i} {uuid.uuid4()}".encode())).status_code == 201
    refused = await upload(svc, busy, b"kelima " + uuid.uuid4().bytes)
    assert refused.status_code == 429
    assert refused.json()["limit"] == "upload_files_per_day"
    assert "Kuota unggahan harian habis" in refused.json()["message"]
    assert 0 < int(refused.headers["retry-after"]) <= 24 * 3600
    # once over the quota, an upload is refused before its body is read
    unread = HeldUpload(svc, busy)
    early = await asyncio.wait_for(unread.task, timeout=10)
    assert early.status_code == 429 and not unread.started.is_set()
    # a retry answered from its key is no new upload; another user has a quota of its own
    retried = await upload(svc, busy, keyed.request.content, **{"Idempotency-Key": "q1"})
    assert retried.status_code == 201 and retried.headers["idempotent-replayed"] == "true"
    assert (await upload(svc, other, b"x" * 6_000 + uuid.uuid4().bytes)).status_code == 201
    too_much = await upload(svc, other, b"y" * 4_000)
    assert too_much.status_code == 429 and too_much.json()["limit"] == "upload_bytes_per_day"
    assert "MiB" in too_much.json()["message"]
    assert (await upload(svc, other, b"z" * 3_000)).status_code == 201

    # uploads older than 24 hours no longer count, and the sweep forgets them
    await owner_conn.execute(
        "UPDATE intake.upload_ledger SET uploaded_at = now() - interval '25 hours' "
        "WHERE user_id = $1",
        busy.user_id,
    )
    assert (await upload(svc, busy, b"besok " + uuid.uuid4().bytes)).status_code == 201

    async def forgotten() -> bool:
        return not await owner_conn.fetchval(
            "SELECT count(*) FROM intake.upload_ledger WHERE user_id = $1 "
            "AND uploaded_at < now() - interval '24 hours'",
            busy.user_id,
        )

    assert await eventually(forgotten, timeout=10)


class HeldUpload:
    """An upload whose body stops after its first chunk until ``release``."""

    def __init__(self, svc: Service, who: Principal) -> None:
        self.started = asyncio.Event()
        self.release = asyncio.Event()

        async def body() -> AsyncIterator[bytes]:
            yield b"awal " + uuid.uuid4().bytes
            self.started.set()
            await self.release.wait()
            yield b" akhir"

        self.task = asyncio.create_task(svc.post("/attachments", who, content=body(), headers=PDF))

    async def begun(self) -> "HeldUpload":
        await asyncio.wait_for(self.started.wait(), timeout=10)
        return self

    async def finished(self) -> httpx.Response:
        self.release.set()
        return await self.task


async def test_uploads_in_progress_at_once_are_capped_per_user_and_in_all(svc: Service) -> None:
    first, second, third = requester(), requester(), requester()
    held = [await HeldUpload(svc, first).begun(), await HeldUpload(svc, first).begun()]
    own_cap = await upload(svc, first, b"ketiga " + uuid.uuid4().bytes)
    assert own_cap.status_code == 429
    assert own_cap.json()["limit"] == "uploads_at_once_per_user"
    assert "bersamaan" in own_cap.json()["message"] and own_cap.headers["retry-after"] == "5"
    held.append(await HeldUpload(svc, second).begun())
    server_cap = await upload(svc, third, b"keempat " + uuid.uuid4().bytes)
    assert server_cap.status_code == 429 and server_cap.json()["limit"] == "uploads_at_once"
    assert "Terlalu banyak unggahan" in server_cap.json()["message"]
    assert [(await h.finished()).status_code for h in held] == [201, 201, 201]
    assert (await upload(svc, first, b"lagi " + uuid.uuid4().bytes)).status_code == 201
    assert (await upload(svc, third, b"lagi " + uuid.uuid4().bytes)).status_code == 201


async def age(conn: asyncpg.Connection, sha256: str, days: int) -> None:
    await conn.execute(
        "UPDATE intake.attachments SET last_uploaded_at = now() - make_interval(days => $2) "
        "WHERE sha256 = $1",
        sha256,
        days,
    )


async def stored(conn: asyncpg.Connection, sha256: str) -> bool:
    return bool(await conn.fetchval("SELECT 1 FROM intake.attachments WHERE sha256 = $1", sha256))


async def test_the_service_removes_attachments_no_request_references_after_the_days(
    svc: Service, owner_conn: asyncpg.Connection, sweep_logs: list[dict[str, Any]]
) -> None:
    who, renewer = requester(), requester()
    orphan, referenced, recent = [
        await svc.upload(f"{name} {uuid.uuid4()}".encode(), who=who)
        for name in ("yatim", "dipakai", "baru")
    ]
    again = await svc.upload(f"diunggah-lagi {uuid.uuid4()}".encode(), who=renewer)
    answer = await svc.submit(who, attachments=[{**referenced, "filename": "dipakai.pdf"}])
    assert answer.status_code == 201, answer.text
    for old in (orphan, referenced, again):
        await age(owner_conn, old["sha256"], LIMITS.orphan_days + 1)
    content = (await svc.get(f"/attachments/{again['sha256']}", renewer)).content
    renewed = await svc.post("/attachments", renewer, content=content, headers=PDF)
    assert renewed.status_code == 201  # an upload of stored bytes restarts their days

    async def removed() -> bool:
        return not await stored(owner_conn, orphan["sha256"])

    assert await eventually(removed, timeout=10)
    for kept in (referenced, recent, again):
        assert await stored(owner_conn, kept["sha256"]), kept
    assert not await owner_conn.fetchval(
        "SELECT 1 FROM intake.attachment_uploads WHERE sha256 = $1", orphan["sha256"]
    )
    assert (await svc.get(f"/attachments/{orphan['sha256']}", who)).status_code == 404
    logged = [e for e in sweep_logs if e["event"] == "orphan attachments removed"]
    assert any(orphan["sha256"] in e["sha256"] for e in logged), logged
    assert all(e["older_than_days"] == LIMITS.orphan_days for e in logged)


def sweep_after(pool: asyncpg.Pool, days: int) -> OrphanSweep:
    """A sweep with a shorter age than the service's own, so that only the test sweeps what it
    ages by that much."""
    return OrphanSweep(pool, "intake", UploadLedger("intake", DailyQuota(1, 1)), days, 1.0)


async def test_a_submit_that_locked_an_attachment_first_keeps_it(
    svc: Service, owner_conn: asyncpg.Connection, app_pool: asyncpg.Pool
) -> None:
    who = requester()
    uploaded = {**await svc.upload(b"berlomba " + uuid.uuid4().bytes, who=who), "filename": "a.pdf"}
    await age(owner_conn, uploaded["sha256"], 4)
    sweep = sweep_after(app_pool, 3)
    attachments = Attachments("intake")
    wanted = [Attachment.model_validate(uploaded)]
    async with app_pool.acquire() as conn, conn.transaction():
        proven = await attachments.require_referable(conn, wanted, who.user_id, who.opd)
        assert proven == wanted
        swept = await sweep.sweep()  # the submit's lock: skipped, not waited for
        assert uploaded["sha256"] not in [r.sha256 for r in swept]
        await attachments.reference(conn, f"r-{uuid.uuid4()}", proven)
    swept = await sweep.sweep()  # now referenced
    assert uploaded["sha256"] not in [r.sha256 for r in swept]
    assert await stored(owner_conn, uploaded["sha256"])


async def test_a_submit_that_waited_for_the_sweep_is_refused_and_appends_nothing(
    svc: Service, owner_conn: asyncpg.Connection, app_pool: asyncpg.Pool
) -> None:
    who = requester()
    uploaded = {
        **await svc.upload(b"terlambat " + uuid.uuid4().bytes, who=who),
        "filename": "b.pdf",
    }
    await age(owner_conn, uploaded["sha256"], 4)
    events = await owner_conn.fetchval("SELECT count(*) FROM intake.events")
    async with app_pool.acquire() as conn, conn.transaction():
        removed = await sweep_after(app_pool, 3).remove_batch(conn)
        assert uploaded["sha256"] in [r.sha256 for r in removed]
        submit = asyncio.create_task(svc.submit(who, attachments=[uploaded]))
        await asyncio.sleep(1.0)
        assert not submit.done()  # it waits for the sweep's lock
    answer = await submit
    assert answer.status_code == 422 and answer.json()["field"] == "attachments.0.sha256"
    assert await owner_conn.fetchval("SELECT count(*) FROM intake.events") == events
    assert not await stored(owner_conn, uploaded["sha256"])


async def test_a_sweep_that_dies_mid_batch_removes_nothing_and_the_next_one_does(
    svc: Service, settings: Settings, owner_conn: asyncpg.Connection, app_pool: asyncpg.Pool
) -> None:
    who = requester()
    uploaded = await svc.upload(b"terputus " + uuid.uuid4().bytes, who=who)
    await age(owner_conn, uploaded["sha256"], 4)
    sweep = sweep_after(app_pool, 3)
    dying = await asyncpg.connect(settings.app_url("intake"))
    try:
        await dying.execute("BEGIN")
        removed = await sweep.remove_batch(dying)
        assert uploaded["sha256"] in [r.sha256 for r in removed]
        await owner_conn.execute("SELECT pg_terminate_backend($1)", dying.get_server_pid())
    finally:
        dying.terminate()
    assert await stored(owner_conn, uploaded["sha256"])  # the batch rolled back whole
    assert await owner_conn.fetchval(
        "SELECT 1 FROM intake.attachment_uploads WHERE sha256 = $1", uploaded["sha256"]
    )

    async def swept_again() -> bool:
        return uploaded["sha256"] in [r.sha256 for r in await sweep.sweep()]

    assert await eventually(swept_again, timeout=10)
    assert not await stored(owner_conn, uploaded["sha256"])
