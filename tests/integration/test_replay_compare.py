"""The audit replay's comparison on the real PostgreSQL: what is counted up to the moment of
projection is not compared while a step is open, everything else is."""

import datetime as dt
from collections.abc import AsyncIterator

import asyncpg
import pytest

from infra.db import create_pool
from infra.settings import Settings
from services.reporting.casefile import empty_case
from services.reporting.projector import SLA_ROW_COLUMNS, sla_row_values
from services.reporting.replay_compare import compare
from services.reporting.sla import Pause, RequestSla, SlaRow
from tests.integration.conftest import MigrateReporting
from tests.sample_sla_rows import RID, ROWS

UTC = dt.UTC
SLA = RequestSla(
    request_id=RID,
    opd="DINKES",
    outcome="OPEN",
    current_step="UNIT_TEST",
    submitted_at=None,
    ended_at=None,
    lead_minutes=None,
    waiting_minutes=0,
    rows=(),
)


@pytest.fixture
async def owner(
    owner_settings: Settings, unique_name: str, migrate_reporting: MigrateReporting
) -> AsyncIterator[asyncpg.Pool]:
    for side in ("live", "replayed"):
        await migrate_reporting(f"{unique_name}_{side}")
    pool = await create_pool(owner_settings.database_url, min_size=1, max_size=1)
    yield pool
    for side in ("live", "replayed"):
        await pool.execute(f"DROP SCHEMA {unique_name}_{side} CASCADE")
    await pool.close()


async def write(pool: asyncpg.Pool, schema: str, rows: list[SlaRow]) -> None:
    marks = ", ".join(f"${n}" for n in range(1, 17))
    await pool.executemany(
        f"INSERT INTO {schema}.sla_rows ({SLA_ROW_COLUMNS}) VALUES ({marks}, $17::text::json)",
        sla_row_values(empty_case(RID), SLA.model_copy(update={"rows": tuple(rows)})),
    )


async def test_an_open_rows_running_minutes_are_not_compared_a_finished_rows_are(
    owner: asyncpg.Pool, unique_name: str
) -> None:
    verify, unit_test = ROWS  # VERIFY finished, UNIT_TEST open (RUNNING_LATE)
    on = Pause(started_at=dt.datetime(2024, 2, 2, 2, 0, tzinfo=UTC), ended_at=None, minutes=30)
    open_live = unit_test.model_copy(update={"pauses": (on,), "paused_minutes": 30})
    open_later = open_live.model_copy(
        update={
            "used_minutes": 1500,
            "paused_minutes": 90,
            "pauses": (on.model_copy(update={"minutes": 90}),),
            "status": "RUNNING",
        }
    )
    live, replayed = f"{unique_name}_live", f"{unique_name}_replayed"
    await write(owner, live, [verify, open_live])
    await write(owner, replayed, [verify.model_copy(update={"used_minutes": 601}), open_later])

    async with owner.acquire() as conn:
        found = await compare(conn, live, replayed, None)

    rows = {t.table: (t.live_rows, t.replayed_rows, t.differing_rows) for t in found.tables}
    assert rows["sla_rows"] == (2, 2, 1)
    assert [(d.key, d.column, d.live, d.replayed) for d in found.differences] == [
        (f"{RID}/VERIFY/1", "used_minutes", 600, 601)
    ]
