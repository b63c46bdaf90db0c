"""reporting's data migrations: what was stored before one reads back the same after it."""

import shutil
from pathlib import Path

import asyncpg

from infra.db import create_pool
from infra.settings import Settings
from services.reporting import SQL_DIR
from services.reporting.projector import stored_sla_row
from tests.integration.conftest import MigrateReporting
from tests.sample_sla_rows import RID, ROWS


async def test_sla_rows_stored_as_one_json_value_read_back_the_same_from_their_columns(
    settings: Settings,
    unique_name: str,
    owner_conn: asyncpg.Connection,
    tmp_path: Path,
    migrate_reporting: MigrateReporting,
) -> None:
    before = tmp_path / "sql"
    before.mkdir()
    for path in SQL_DIR.glob("*.sql"):
        if path.name < "0160":
            shutil.copy(path, before / path.name)
    await migrate_reporting(unique_name, before)
    for r in ROWS:  # as the projection wrote them before 0160
        await owner_conn.execute(
            f"INSERT INTO {unique_name}.sla_rows (request_id, step, attempt, opd, step_number, "
            "responsible_role, supervisor_role, started_at, due_at, finished_at, status, row) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::text::json)",
            *(RID, r.step, r.attempt, r.opd, r.step_number, r.responsible_role),
            *(r.supervisor_role, r.started_at, r.due_at, r.finished_at, r.status),
            r.model_dump_json(),
        )

    applied = await migrate_reporting(unique_name)

    assert applied == sorted(p.name for p in SQL_DIR.glob("*.sql") if p.name >= "0160")
    assert applied[0] == "0160_sla_rows_columns.sql"
    pool = await create_pool(settings.app_url(unique_name))
    try:
        stored = await pool.fetch(f"SELECT * FROM {unique_name}.sla_rows ORDER BY step_number")
    finally:
        await pool.close()
    assert [stored_sla_row(r) for r in stored] == ROWS
