"""The admin's calendar edits, and what follows from them: due dates move.

An edit (or its removal) is one transaction under the calendar lock held exclusively: it stores
the edit, then writes again the SLA rows of every request the day can change (an open step, or a
visit or lead time that spans the day or is due after it), with the new calendar.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

from events import policy
from infra import access
from infra.db import Connection
from infra.errors import NotFound
from infra.idempotency import NO_KEY, Answer, IdempotencyKeys, Key
from infra.principal import Principal
from infra.workdays import indonesian_holiday_names
from services.reporting.calendar_store import (
    DayEdit,
    check_edit,
    day_bounds,
    load_calendar,
    lock_calendar,
    stored_edits,
    without_day,
)
from services.reporting.projector import Projector

EDIT = policy.rule("reporting", "EditCalendarDay")
REMOVE = policy.rule("reporting", "RemoveCalendarDay")


class NoEdit(NotFound):
    def __init__(self, day: dt.date) -> None:
        super().__init__(f"Tidak ada perubahan kalender pada {day}.")

    def detail(self) -> dict[str, object]:
        return {"message": self.message, "field": "day"}


@dataclass
class CalendarAdmin:
    pool: Callable[[], asyncpg.Pool]
    projector: Projector
    tenant: str
    keys: IdempotencyKeys

    @property
    def schema(self) -> str:
        return self.projector.schema

    async def show(self, year: int) -> dict[str, Any]:
        """The year's days off: the defaults (holidays, cuti bersama) and the admin's edits."""
        pool = self.pool()
        calendar = await load_calendar(pool, self.schema, self.tenant, self.projector.time_zone)
        edits = await stored_edits(pool, self.schema, self.tenant, year)
        defaults = indonesian_holiday_names(year)
        return {
            "tenant": self.tenant,
            "year": year,
            "time_zone": calendar.time_zone,
            "opens_at": calendar.opens_at.isoformat(),
            "day_minutes": calendar.day_minutes,
            "defaults": [
                {"day": day.isoformat(), "name": name, "worked": day in calendar.removed}
                for day, name in defaults.items()
            ],
            "days_off": sorted(d.isoformat() for d in calendar.days_off(year)),
            "edits": [e.model_dump(mode="json") for e in edits],
        }

    async def _affected(self, conn: Connection, start: dt.datetime, end: dt.datetime) -> list[str]:
        """The tenant's requests whose SLA a day in ``[start, end)`` can change: those open, or
        with a visit or the lead time spanning it, or a step due after it started."""
        s = self.schema
        rows = await conn.fetch(
            f"SELECT q.request_id FROM {s}.request_sla q JOIN {s}.cases c USING (request_id) "
            "WHERE c.tenant = $3 AND q.submitted_at < $2 AND (q.ended_at IS NULL "
            "OR q.ended_at >= $1) "
            f"UNION SELECT r.request_id FROM {s}.sla_rows r JOIN {s}.cases c USING (request_id) "
            "WHERE c.tenant = $3 AND r.started_at < $2 "
            "AND (r.finished_at IS NULL OR r.finished_at >= $1 OR r.due_at >= $1)",
            start,
            end,
            self.tenant,
        )
        return [r["request_id"] for r in rows]

    async def _apply(
        self, conn: Connection, principal: Principal, day: dt.date, edit: DayEdit | None
    ) -> int:
        """In ``conn``'s transaction: store (or remove) the edit, recompute what it moves."""
        await lock_calendar(conn, exclusive=True)
        current = await load_calendar(conn, self.schema, self.tenant, self.projector.time_zone)
        if edit is None:
            deleted = await conn.fetchval(
                f"DELETE FROM {self.schema}.calendar_days WHERE tenant = $1 AND day = $2 "
                "RETURNING 1",
                self.tenant,
                day,
            )
            if not deleted:
                raise NoEdit(day)
        else:
            check_edit(without_day(current, day), edit)
            await conn.execute(
                f"INSERT INTO {self.schema}.calendar_days (tenant, day, off, note, by_user) "
                "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant, day) DO UPDATE SET "
                "off = EXCLUDED.off, note = EXCLUDED.note, by_user = EXCLUDED.by_user, "
                "changed_at = now()",
                self.tenant,
                day,
                edit.off,
                edit.note,
                principal.user_id,
            )
        calendar = await load_calendar(conn, self.schema, self.tenant, self.projector.time_zone)
        affected = await self._affected(conn, *day_bounds(calendar, day))
        return await self.projector.recompute(conn, affected, calendar, self.projector.clock())

    async def edit(self, principal: Principal, edit: DayEdit, key: Key = NO_KEY) -> Answer:
        access.authorize(principal, EDIT)

        async def apply(conn: Connection) -> dict[str, Any]:
            recomputed = await self._apply(conn, principal, edit.day, edit)
            return {
                **edit.model_dump(mode="json"),
                "by_user": principal.user_id,
                "recomputed_requests": recomputed,
            }

        return await self.keys.once(self.pool(), principal.user_id, key, edit, apply)

    async def remove(self, principal: Principal, day: dt.date, key: Key = NO_KEY) -> Answer:
        access.authorize(principal, REMOVE)

        async def apply(conn: Connection) -> dict[str, Any]:
            recomputed = await self._apply(conn, principal, day, None)
            return {"day": day.isoformat(), "removed": True, "recomputed_requests": recomputed}

        return await self.keys.once(self.pool(), principal.user_id, key, day, apply)
