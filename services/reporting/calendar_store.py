"""The tenant's working calendar as stored: the Indonesian defaults (``calendar``) plus the
admin's edits in ``calendar_days``.

Every transaction that reads the calendar to compute SLA rows takes the calendar lock shared
(``lock_calendar``); an edit takes it exclusively and recomputes the affected rows before it
commits, so no projection ever writes rows computed with a calendar that is no longer in force.
Take it before any per-request lock (the order every caller keeps, so none waits on another in
a cycle).
"""

import datetime as dt
from dataclasses import replace
from typing import Annotated

import asyncpg
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from events.fields import ONE_LINE
from infra.db import Connection
from infra.errors import InvalidInput
from services.reporting.calendar import WIB, WorkingCalendar

CALENDAR_LOCK = "jejak.reporting.calendar"
FIRST_YEAR, LAST_YEAR = 2000, 2100
"""The years an edit may fall in (the holiday rules are known for these)."""

Note = Annotated[str, StringConstraints(min_length=1, max_length=300, pattern=ONE_LINE)]


class DayEdit(BaseModel):
    """An admin's edit of one day: a day off (e.g. a regional holiday) or a holiday worked."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    day: dt.date = Field(description="Tanggal (YYYY-MM-DD), waktu setempat")
    off: bool = Field(description="true: hari libur; false: hari kerja (membatalkan hari libur)")
    note: Note = Field(description="Alasan, mis. 'Hari Jadi Kabupaten Katingan'")


class StoredEdit(DayEdit):
    by_user: str = Field(description="Admin yang mengubah")
    changed_at: dt.datetime = Field(description="Kapan diubah")


async def lock_calendar(conn: Connection, exclusive: bool = False) -> None:
    fn = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    await conn.execute(f"SELECT {fn}(hashtext($1))", CALENDAR_LOCK)


def base_calendar(time_zone: str = WIB) -> WorkingCalendar:
    return WorkingCalendar(time_zone=time_zone)


def with_edits(base: WorkingCalendar, edits: list[DayEdit]) -> WorkingCalendar:
    """``base`` with each edit applied (one edit per day)."""
    calendar = base
    for edit in edits:
        calendar = (
            calendar.with_day_off(edit.day) if edit.off else calendar.with_working_day(edit.day)
        )
    return calendar


async def stored_edits(
    conn: Connection | asyncpg.Pool, schema: str, tenant: str, year: int | None = None
) -> list[StoredEdit]:
    rows = await conn.fetch(
        f"SELECT day, off, note, by_user, changed_at FROM {schema}.calendar_days "
        "WHERE tenant = $1 AND ($2::int IS NULL OR extract(year FROM day) = $2) ORDER BY day",
        tenant,
        year,
    )
    return [StoredEdit.model_validate(dict(r)) for r in rows]


async def load_calendar(
    conn: Connection | asyncpg.Pool, schema: str, tenant: str, time_zone: str = WIB
) -> WorkingCalendar:
    """The tenant's calendar in force (call under ``lock_calendar`` when writing SLA rows)."""
    return with_edits(base_calendar(time_zone), list(await stored_edits(conn, schema, tenant)))


def check_edit(without_it: WorkingCalendar, edit: DayEdit) -> None:
    """Refuse an edit that would change nothing or cannot hold (422 naming ``day``).

    ``without_it`` is the calendar with every other edit but none for ``edit.day``.
    """
    day = edit.day
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise InvalidInput(f"Tahun harus antara {FIRST_YEAR} dan {LAST_YEAR}.", "day")
    if edit.off and not without_it.is_working_day(day):
        raise InvalidInput(f"{day} sudah hari libur (akhir pekan atau libur nasional).", "day")
    if not edit.off:
        if day.weekday() not in without_it.working_weekdays:
            raise InvalidInput(f"{day} akhir pekan: tak dapat dijadikan hari kerja.", "day")
        if without_it.is_working_day(day):
            raise InvalidInput(f"{day} sudah hari kerja.", "day")


def day_bounds(calendar: WorkingCalendar, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The day's first and last instant in the tenant's zone, as a half-open range."""
    start = dt.datetime.combine(day, dt.time(0), tzinfo=calendar.zone)
    return start, start + dt.timedelta(days=1)


def without_day(calendar: WorkingCalendar, day: dt.date) -> WorkingCalendar:
    """``calendar`` with any edit of ``day`` undone."""
    return replace(calendar, added=calendar.added - {day}, removed=calendar.removed - {day})
