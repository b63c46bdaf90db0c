"""The tenant's working calendar: office days, office hours, and working time between instants.

An office day opens at ``opens_at`` local time (07:30 for Katingan) and lasts ``day_minutes`` of
working time (``MINUTES_PER_WORKING_DAY`` = 480, so 07:30-15:30 WIB), Monday to Friday, except
days off. The days off are the Indonesian public holidays and cuti bersama (joint leave) from the
``holidays`` library, computed lazily per year and memoised, plus the days an admin ``added``,
minus the holidays an admin ``removed`` (the admin's edits). A removed holiday that falls on a
weekend stays a weekend: ``removed`` only cancels holidays.

Office hours are half-open, ``[open, close)``: the instant the office closes is not office time,
so a step started at 15:30 begins at the next opening. A due instant may be a closing instant
(07:30 + 480 minutes = 15:30 the same day, not 07:30 the next one).

Arithmetic is done in UTC, so a zone with daylight saving time (not WIB, which has none) still
counts real elapsed time; the office still opens at ``opens_at`` on the local wall clock. Returned
instants are in the tenant's zone. Naive datetimes are refused. No I/O: the ``holidays`` library
computes its dates from rules.
"""

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo

from events.steps import MINUTES_PER_WORKING_DAY
from infra.workdays import WORKING_WEEKDAYS, indonesian_holidays

WIB = "Asia/Jakarta"
"""Western Indonesian Time (UTC+7, no daylight saving), Katingan's zone."""

HolidaySource = Callable[[int], frozenset[dt.date]]
"""The default days off of one year (before the admin's edits)."""

_MINUTE = dt.timedelta(minutes=1)
_NO_TIME = dt.timedelta(0)
_DAY = dt.timedelta(days=1)
_MAX_DAYS_WITHOUT_WORK = 400
"""A calendar with no working day in this many consecutive days is misconfigured."""


def _utc(instant: dt.datetime, name: str) -> dt.datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got {instant!r}")
    return instant.astimezone(dt.UTC)


@dataclass(frozen=True)
class WorkingCalendar:
    """When the tenant's office works. Frozen: the admin's edits return a new calendar."""

    time_zone: str = WIB
    opens_at: dt.time = dt.time(7, 30)
    day_minutes: int = MINUTES_PER_WORKING_DAY
    added: frozenset[dt.date] = frozenset()
    """Extra days off (an admin's addition, e.g. a regional holiday)."""
    removed: frozenset[dt.date] = frozenset()
    """Default holidays that are working days after all (an admin's removal)."""
    working_weekdays: frozenset[int] = WORKING_WEEKDAYS
    """``date.weekday()`` numbers of the office days: Monday (0) to Friday (4)."""
    holiday_source: HolidaySource = field(default=indonesian_holidays)

    def __post_init__(self) -> None:
        ZoneInfo(self.time_zone)  # an unknown zone raises here, not at first use
        if self.opens_at.tzinfo is not None:
            raise ValueError("opens_at is a local wall-clock time, without tzinfo")
        start = self.opens_at.hour * 60 + self.opens_at.minute + self.opens_at.second / 60
        if not 0 < self.day_minutes <= 24 * 60 - start:
            raise ValueError("the office day must be positive and end by midnight")
        if not self.working_weekdays or not self.working_weekdays <= set(range(7)):
            raise ValueError("working_weekdays must be a non-empty subset of 0..6")
        if both := self.added & self.removed:
            raise ValueError(f"days both added and removed: {sorted(both)}")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    # --- the admin's edits -------------------------------------------------------------------

    def with_day_off(self, *days: dt.date) -> "WorkingCalendar":
        """The calendar with ``days`` off: a removed holiday is restored, another day added."""
        added, removed = set(self.added), set(self.removed)
        for day in days:
            if day in removed:
                removed.discard(day)
            else:
                added.add(day)
        return replace(self, added=frozenset(added), removed=frozenset(removed))

    def with_working_day(self, *days: dt.date) -> "WorkingCalendar":
        """The calendar with ``days`` worked: an added day is dropped, a holiday removed."""
        added, removed = set(self.added), set(self.removed)
        for day in days:
            if day in added:
                added.discard(day)
            else:
                removed.add(day)
        return replace(self, added=frozenset(added), removed=frozenset(removed))

    # --- days --------------------------------------------------------------------------------

    def days_off(self, year: int) -> frozenset[dt.date]:
        """Every holiday of ``year`` after the admin's edits (weekends not included)."""
        added = {day for day in self.added if day.year == year}
        return (self.holiday_source(year) | added) - self.removed

    def is_holiday(self, day: dt.date) -> bool:
        if day in self.added:
            return True
        return day not in self.removed and day in self.holiday_source(day.year)

    def is_working_day(self, day: dt.date) -> bool:
        """An office weekday that is not a day off."""
        return day.weekday() in self.working_weekdays and not self.is_holiday(day)

    def working_days(self, first: dt.date, last: dt.date) -> Iterable[dt.date]:
        """The working days from ``first`` to ``last``, both included."""
        day = first
        while day <= last:
            if self.is_working_day(day):
                yield day
            day += _DAY

    def office_hours(self, day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
        """The opening and closing instants (UTC) of ``day``, or None if it is not worked."""
        if not self.is_working_day(day):
            return None
        opens = dt.datetime.combine(day, self.opens_at, tzinfo=self.zone).astimezone(dt.UTC)
        return opens, opens + dt.timedelta(minutes=self.day_minutes)

    def _local_date(self, instant_utc: dt.datetime) -> dt.date:
        return instant_utc.astimezone(self.zone).date()

    # --- working time ------------------------------------------------------------------------

    def working_time_between(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        """The office time in ``[start, end)``, exactly; negative if ``end`` is before ``start``."""
        s, e = _utc(start, "start"), _utc(end, "end")
        if e < s:
            return -self.working_time_between(end, start)
        total = dt.timedelta(0)
        for day in self.working_days(self._local_date(s), self._local_date(e)):
            hours = self.office_hours(day)
            assert hours is not None
            opens, closes = hours
            overlap = min(closes, e) - max(opens, s)
            if overlap > dt.timedelta(0):
                total += overlap
        return total

    def working_minutes_between(self, start: dt.datetime, end: dt.datetime) -> int:
        """Whole office minutes in ``[start, end)`` (truncated toward zero; negative if
        ``end`` is before ``start``)."""
        return minutes(self.working_time_between(start, end))

    def next_office_instant(self, instant: dt.datetime) -> dt.datetime:
        """``instant`` if the office is open then, else the next opening (tenant zone)."""
        return self.add_working_time(instant, dt.timedelta(0))

    def add_working_minutes(self, start: dt.datetime, minutes: int) -> dt.datetime:
        """The instant ``minutes`` of office time after ``start`` (the due instant).

        A start outside office hours begins at the next opening. Inverse of
        ``working_minutes_between``: ``working_minutes_between(s, add_working_minutes(s, m)) == m``.
        """
        return self.add_working_time(start, minutes * _MINUTE)

    def add_working_time(self, start: dt.datetime, amount: dt.timedelta) -> dt.datetime:
        """``add_working_minutes`` for an exact amount of working time."""
        if amount < dt.timedelta(0):
            raise ValueError(f"cannot add a negative working time: {amount}")
        s = _utc(start, "start")
        remaining = amount
        day = self._local_date(s)
        idle = 0
        while True:
            hours = self.office_hours(day)
            if hours is not None:
                idle = 0
                opens, closes = hours
                begin = max(s, opens)
                if begin < closes:
                    if remaining <= closes - begin:
                        return (begin + remaining).astimezone(self.zone)
                    remaining -= closes - begin
            else:
                idle += 1
                if idle > _MAX_DAYS_WITHOUT_WORK:
                    raise ValueError(f"no working day in {idle} days from {day}")
            day += _DAY


def minutes(amount: dt.timedelta) -> int:
    """Whole minutes in ``amount``, truncated toward zero."""
    if amount >= _NO_TIME:
        return amount // _MINUTE
    return -(-amount // _MINUTE)


DEFAULT_CALENDAR = WorkingCalendar()
"""Katingan's calendar: WIB, 07:30-15:30, Monday to Friday, Indonesian holidays and cuti bersama."""
