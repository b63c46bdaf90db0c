"""``FastCalendar``: ``WorkingCalendar``'s answers from a table of office days, for bulk work.

The bulk replay measures open steps of old requests up to now, i.e. over years, and
``WorkingCalendar`` walks such a span day by day. ``FastCalendar`` lays the office days of whole
years out once, in integer microseconds since the Unix epoch: each local day's midnight, its
opening, its length of office time (0 on a day off) and the office time of all the days before
it. The office time from the table's start up to an instant is then that of the days before the
instant's day plus the part of its own day already worked, so ``working_time_between`` is one
subtraction, and ``add_working_time`` one binary search for the day on which the sum is reached.

The table covers the years of every instant asked about (and the next year, for due instants),
growing when one falls outside it. An instant's local day comes from the table's midnights when
the zone's UTC offset is the same all over the table (WIB has one offset), else from the zone.
A span backwards, an amount that is not positive, naive instants, a due instant more than
``LONGEST_SEARCH`` days ahead and zones where an office day could reach past midnight are left to
``WorkingCalendar`` itself. An edit (e.g. ``with_day_off``) returns a calendar with an empty
table.
"""

import datetime as dt
from bisect import bisect_left
from dataclasses import dataclass, field, fields
from itertools import pairwise
from zoneinfo import ZoneInfo

from services.reporting.calendar import WorkingCalendar

LONGEST_SEARCH = 400
"""Days ahead a due instant is searched for in the table; beyond them ``WorkingCalendar`` takes
over (and refuses a calendar without a working day in that long)."""

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICRO = dt.timedelta(microseconds=1)
_ONE_DAY = dt.timedelta(days=1)
_DAY_MICROS = _ONE_DAY // _MICRO


def micros(instant: dt.datetime) -> int:
    """An aware instant as whole microseconds since the Unix epoch."""
    return (instant - _EPOCH) // _MICRO


@dataclass(frozen=True, slots=True)
class OfficeDays:
    """The local days from ``first`` to ``first + len(opens) - 1``, in microseconds since the
    epoch: ``midnights[i]`` begins day ``i`` (one more entry ends the last day), ``opens[i]`` is
    its opening, ``lengths[i]`` its office time (0: not worked), ``before[i]`` the office time of
    the days before it (one more entry: the total)."""

    first: dt.date
    zone: ZoneInfo
    midnights: list[int]
    opens: list[int]
    lengths: list[int]
    before: list[int]
    uniform: bool
    """The zone's UTC offset is the same at every midnight: days are exactly 24 hours."""

    def day_of(self, instant: dt.datetime, at: int) -> int:
        """The index of the local day of ``instant`` (``at`` microseconds since the epoch); -1 or
        ``len(opens)`` if it is outside the table."""
        if self.uniform:
            if at < self.midnights[0]:
                return -1
            return min((at - self.midnights[0]) // _DAY_MICROS, len(self.opens))
        return (instant.astimezone(self.zone).date() - self.first).days

    def worked_until(self, day: int, at: int) -> int:
        """Office microseconds from the table's start to ``at``, which falls on ``day``."""
        return self.before[day] + min(max(at - self.opens[day], 0), self.lengths[day])

    def reached(self, target: int, day: int) -> int | None:
        """The earliest instant by which ``target`` office microseconds (counted from the
        table's start) have been worked, searching from ``day`` on; None past the table or more
        than ``LONGEST_SEARCH`` days ahead."""
        end = min(day + LONGEST_SEARCH, len(self.opens))
        found = bisect_left(self.before, target, lo=day + 1, hi=end + 1)
        if found > end:
            return None
        return self.opens[found - 1] + target - self.before[found - 1]


def office_days(calendar: WorkingCalendar, first_year: int, last_year: int) -> OfficeDays | None:
    """The table of ``calendar``'s days from January 1 of ``first_year`` to December 31 of
    ``last_year``; None if an office day in them does not end by its midnight."""
    zone = calendar.zone
    first = dt.date(first_year, 1, 1)
    day, last = first, dt.date(last_year, 12, 31)
    midnights: list[int] = []
    opens: list[int] = []
    lengths: list[int] = []
    before = [0]
    while day <= last:
        midnight = micros(dt.datetime.combine(day, dt.time(0), tzinfo=zone))
        following = micros(dt.datetime.combine(day + _ONE_DAY, dt.time(0), tzinfo=zone))
        hours = calendar.office_hours(day)
        if hours is None:
            opens.append(midnight)
            lengths.append(0)
        else:
            opens.append(micros(hours[0]))
            lengths.append(micros(hours[1]) - opens[-1])
            if opens[-1] + lengths[-1] > following:
                return None
        midnights.append(midnight)
        before.append(before[-1] + lengths[-1])
        day += _ONE_DAY
    midnights.append(micros(dt.datetime.combine(day, dt.time(0), tzinfo=zone)))
    uniform = all(b - a == _DAY_MICROS for a, b in pairwise(midnights))
    return OfficeDays(first, zone, midnights, opens, lengths, before, uniform)


@dataclass(slots=True)
class _Memory:
    """What a ``FastCalendar`` has worked out so far."""

    table: OfficeDays | None = None
    fits: bool = True
    """False once an office day was found to reach past its midnight: no table then."""


@dataclass(frozen=True)
class FastCalendar(WorkingCalendar):
    """The same calendar, with the same answers, faster over long spans (see the module)."""

    _memory: _Memory = field(default_factory=_Memory, init=False, compare=False, repr=False)

    @classmethod
    def of(cls, calendar: WorkingCalendar) -> "FastCalendar":
        return cls(**{f.name: getattr(calendar, f.name) for f in fields(WorkingCalendar)})

    def _located(self, instant: dt.datetime, at: int) -> tuple[OfficeDays, int] | None:
        """The table covering ``instant`` (``at`` microseconds since the epoch) and the next
        ``LONGEST_SEARCH`` days, with the index of its day; None if there can be no table."""
        memory = self._memory
        table = memory.table
        if table is not None:
            day = table.day_of(instant, at)
            if day >= 0 and day + LONGEST_SEARCH < len(table.opens):
                return table, day
        if not memory.fits:
            return None
        year = instant.astimezone(self.zone).year
        low, high = year, year + 2  # the next year and more: ``LONGEST_SEARCH`` days ahead
        if table is not None:
            low = min(low, table.first.year)
            high = max(high, (table.first + dt.timedelta(days=len(table.opens) - 1)).year)
        table = memory.table = office_days(self, low, high)
        if table is None:
            memory.fits = False
            return None
        return table, table.day_of(instant, at)

    def working_time_between(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        if start.utcoffset() is None or end.utcoffset() is None or end < start:
            return WorkingCalendar.working_time_between(self, start, end)
        s, e = micros(start), micros(end)
        begins, ends = self._located(start, s), self._located(end, e)
        if begins is None or ends is None:
            return WorkingCalendar.working_time_between(self, start, end)
        if begins[0] is not ends[0]:  # the table grew for ``end``: locate ``start`` again
            begins = self._located(start, s)
            assert begins is not None
        table = ends[0]
        worked = table.worked_until(ends[1], e) - table.worked_until(begins[1], s)
        return dt.timedelta(microseconds=worked)

    def add_working_time(self, start: dt.datetime, amount: dt.timedelta) -> dt.datetime:
        if start.utcoffset() is None or amount <= dt.timedelta(0):
            return WorkingCalendar.add_working_time(self, start, amount)
        s = micros(start)
        located = self._located(start, s)
        if located is None:
            return WorkingCalendar.add_working_time(self, start, amount)
        table, day = located
        due = table.reached(table.worked_until(day, s) + amount // _MICRO, day)
        if due is None:
            return WorkingCalendar.add_working_time(self, start, amount)
        return (_EPOCH + dt.timedelta(microseconds=due)).astimezone(table.zone)
