"""A digest alone grants nothing (issue 17, item 4): knowing another OPD's attachment digest
gives no read access by any path that links a digest to an OPD (an e-office letter, approval's
events about its request, a submit, a revision), on the real PostgreSQL and Kafka; and the
migration forgets what letters granted before."""

import json
import shutil
import uuid
from pathlib import Path
from typing import Any

import asyncpg

from infra.migrate_all import sql_dir
from infra.migrations import migrate
from infra.principal import Principal
from infra.settings import Settings
from tests.services.intake_client import (
    BY_ROLE,
    COLLEAGUE,
    REQUESTER,
    STRANGER,
    Service,
    person,
)

SQL = sql_dir("intake")
STRANGERS_COLLEAGUE = person("u-pemohon-disdik-2", "PEMOHON", opd="DISDIK")


async def disdik_file(intake: Service, name: str) -> dict[str, Any]:
    """A file of DISDIK's, uploaded and referenced by one of its requests (so proven)."""
    uploaded = await intake.upload(f"{name} {uuid.uuid4()}".encode(), who=STRANGER)
    attachment = {**uploaded, "filename": f"{name}.pdf"}
    answer = await intake.submit(STRANGER, attachments=[attachment])
    assert answer.status_code == 201, answer.text
    return attachment


async def readable(intake: Service, attachment: dict[str, Any], *people: Principal) -> list[int]:
    path = f"/attachments/{attachment['sha256']}"
    return [(await intake.get(path, who)).status_code for who in people]


async def test_an_eoffice_letter_naming_another_opds_digest_grants_nothing_by_any_path(
    intake: Service, owner_conn: asyncpg.Connection
) -> None:
    secret = await disdik_file(intake, "rahasia-disdik")
    assert await readable(intake, secret, STRANGER, STRANGERS_COLLEAGUE) == [200, 200]

    letter = await intake.letter("DINKES", [secret])
    assert letter.status_code == 201, letter.text
    request_id = letter.json()["request_id"]
    listed = (await intake.state(request_id))["attachments"]
    assert [a["sha256"] for a in listed] == [secret["sha256"]]  # recorded as metadata...
    assert await readable(intake, secret, REQUESTER, COLLEAGUE) == [404, 404]  # ...granting nothing
    assert not await owner_conn.fetchval(
        "SELECT 1 FROM intake.request_attachments WHERE request_id = $1", request_id
    )

    # nor may DINKES reference it in a submit on the strength of the letter
    stolen = await intake.submit(REQUESTER, attachments=[secret])
    assert stolen.status_code == 422 and stolen.json()["field"] == "attachments.0.sha256"

    # approval's events about the letter's request, consumed from Kafka, grant nothing either
    await intake.returned(request_id)
    assert await readable(intake, secret, REQUESTER, COLLEAGUE) == [404, 404]

    # a revision cannot add another of DISDIK's files to it...
    other = await disdik_file(intake, "rahasia-lain")
    added = await intake.post(
        f"/requests/{request_id}/revise",
        REQUESTER,
        json={"attachments": [secret, other], "note": "Tambah lampiran."},
    )
    assert added.status_code == 422 and added.json()["field"] == "attachments.1.sha256"
    assert await readable(intake, other, REQUESTER, COLLEAGUE) == [404, 404]
    # ...but may keep the letter's attachment as it is, which still grants nothing
    kept = await intake.post(
        f"/requests/{request_id}/revise",
        REQUESTER,
        json={"attachments": [{**secret, "filename": "tetap.pdf"}], "note": "Lampiran tetap."},
    )
    assert kept.status_code == 200, kept.text
    assert await readable(intake, secret, REQUESTER, COLLEAGUE) == [404, 404]
    # the roles that see every request still read what intake holds
    assert await readable(intake, secret, BY_ROLE["KABID_TI"], BY_ROLE["AUDITOR"]) == [200, 200]


async def test_a_submit_or_revision_cannot_reference_another_opds_digest(
    intake: Service, owner_conn: asyncpg.Connection
) -> None:
    secret = await disdik_file(intake, "rahasia-submit")
    stolen = await intake.submit(REQUESTER, attachments=[secret])
    assert stolen.status_code == 422 and stolen.json()["field"] == "attachments.0.sha256"
    assert "belum diunggah" in stolen.json()["message"]

    request_id = await intake.returned()
    mine = {**await intake.upload(b"milik dinkes " + uuid.uuid4().bytes), "filename": "a.pdf"}
    revised = await intake.post(
        f"/requests/{request_id}/revise",
        REQUESTER,
        json={"attachments": [mine, secret], "note": "Lampiran."},
    )
    assert revised.status_code == 422 and revised.json()["field"] == "attachments.1.sha256"
    assert await readable(intake, secret, REQUESTER, COLLEAGUE) == [404, 404]
    references = await owner_conn.fetch(
        "SELECT sha256 FROM intake.request_attachments WHERE request_id = $1", request_id
    )
    assert references == []  # the refused revision recorded nothing, not even its own file


async def test_proof_of_possession_is_what_grants(intake: Service) -> None:
    """Uploading the same bytes proves possession: the uploader reads them, and its OPD does
    once one of its requests references them; a wrong media type is refused naming only the
    caller's own."""
    secret = await disdik_file(intake, "sama-isinya")
    content = (await intake.get(f"/attachments/{secret['sha256']}", STRANGER)).content
    own = await intake.upload(content, "text/plain", REQUESTER)
    assert own == {"sha256": secret["sha256"], "size_bytes": secret["size_bytes"]} | {
        "media_type": "text/plain"
    }
    assert await readable(intake, secret, REQUESTER, COLLEAGUE) == [200, 404]
    wrong_type = await intake.submit(REQUESTER, attachments=[secret])
    assert wrong_type.status_code == 422
    assert wrong_type.json()["field"] == "attachments.0.media_type"
    assert "application/pdf" not in wrong_type.json()["message"]
    answer = await intake.submit(REQUESTER, attachments=[{**own, "filename": "milik.txt"}])
    assert answer.status_code == 201, answer.text
    assert await readable(intake, secret, REQUESTER, COLLEAGUE) == [200, 200]


async def test_the_migration_forgets_what_letters_granted(
    settings: Settings, owner_settings: Settings, unique_name: str, tmp_path: Path
) -> None:
    """Before it, a letter recorded its digests as its OPD's; the migration deletes those
    references (and any to bytes never stored), keeping the proven ones."""
    before = tmp_path / "sql"
    before.mkdir()
    for path in sorted(SQL.glob("*.sql")):
        if path.name < "0112":
            shutil.copy(path, before)
    role, password = settings.app_role(unique_name), settings.app_db_password
    owner = owner_settings.database_url
    await migrate(owner, unique_name, role, password, before)
    conn = await asyncpg.connect(owner)
    try:
        s = unique_name
        for digest in ("a" * 64, "b" * 64):
            await conn.execute(
                f"INSERT INTO {s}.attachments (sha256, size_bytes, media_type, content) "
                "VALUES ($1, 3, 'application/pdf', 'abc')",
                digest,
            )
            await conn.execute(
                f"INSERT INTO {s}.attachment_uploads (sha256, user_id) VALUES ($1, 'u-1')", digest
            )
        letter = {"attachments": [{"sha256": "a" * 64}, {"sha256": "c" * 64}]}
        await conn.execute(
            f"INSERT INTO {s}.eoffice_letters (tenant, letter_id, request_id, letter) "
            "VALUES ('katingan', 'SRK-1', 'r-letter', $1::jsonb)",
            json.dumps(letter),
        )
        await conn.executemany(
            f"INSERT INTO {s}.request_attachments (sha256, request_id) VALUES ($1, $2)",
            [("a" * 64, "r-letter"), ("c" * 64, "r-letter"), ("b" * 64, "r-web")],
        )
        assert await migrate(owner, s, role, password, SQL) == ["0112_upload_limits.sql"]
        kept = await conn.fetch(f"SELECT sha256, request_id FROM {s}.request_attachments")
        assert [tuple(r) for r in kept] == [("b" * 64, "r-web")]
        types = await conn.fetch(f"SELECT media_type FROM {s}.attachment_uploads")
        assert {r["media_type"] for r in types} == {"application/pdf"}
    finally:
        await conn.close()


async def test_the_roles_that_see_every_request_read_only_what_a_request_references(
    intake: Service,
) -> None:
    """An upload nobody referenced yet is its uploader's alone: its digest grants not even
    KADIS, KABID_TI, TIM_PENGEMBANG or AUDITOR anything until a request references it."""
    draft = {**await intake.upload(b"draf " + uuid.uuid4().bytes), "filename": "draf.pdf"}
    staff = [BY_ROLE[r] for r in ("KADIS", "KABID_TI", "TIM_PENGEMBANG", "AUDITOR")]
    assert await readable(intake, draft, REQUESTER, COLLEAGUE, *staff) == [200] + [404] * 5
    answer = await intake.submit(REQUESTER, attachments=[draft])
    assert answer.status_code == 201, answer.text
    assert await readable(intake, draft, COLLEAGUE, *staff) == [200] * 5
