"""The tenants' calendars in force, read once and kept in memory between the admin's edits.

Every change of ``calendar_days`` bumps the number in ``calendar_version`` in its own
transaction (a trigger), and an edit holds the calendar lock exclusively until it commits. A
projection takes that lock shared (``calendar_store.lock_calendar``) and then reads the number:
one query. While it is the number the calendars were read at, they are still in force; when it
has moved, they are read again. Every replica thus follows every edit from its next batch on,
and none writes rows with a calendar that is no longer in force.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from infra.db import Connection
from services.reporting.calendar import WorkingCalendar
from services.reporting.calendar_store import load_calendar


async def calendar_version(conn: Connection, schema: str) -> int:
    """The number of changes made to the admin's edits so far."""
    version: int = await conn.fetchval(f"SELECT version FROM {schema}.calendar_version")
    return version


@dataclass
class CalendarCache:
    schema: str
    time_zone: str
    version: int | None = None
    """The ``calendar_version`` the kept calendars were read at (None: nothing kept yet)."""
    reads: int = 0
    """How many times a tenant's stored edits were read (what the cache saves shows here)."""
    _kept: dict[str, WorkingCalendar] = field(default_factory=dict, repr=False)

    async def in_force(
        self, conn: Connection, tenants: Iterable[str]
    ) -> dict[str, WorkingCalendar]:
        """The calendar of each of ``tenants``. Call under ``lock_calendar`` (shared)."""
        version = await calendar_version(conn, self.schema)
        if version != self.version:
            self._kept, self.version = {}, version
        found = {}
        for tenant in tenants:
            if tenant not in self._kept:
                self._kept[tenant] = await load_calendar(conn, self.schema, tenant, self.time_zone)
                self.reads += 1
            found[tenant] = self._kept[tenant]
        return found
